package ogcapi

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"munigis/layers"
)

// The HTML pages (conformance class html): plain, Bulgarian first with the
// English beside, every value escaped by html/template, each with a link to
// its JSON.

// pageData is what every page template gets.
type pageData struct {
	Title, TitleEN string
	Base           string // the service's base URL
	JSON           string // this resource as JSON
	Doc            map[string]any
	Collections    []collectionJSON
	Collection     *collectionJSON
	Features       []featureView
	Matched        int64
	Links          []link
}

// featureView is a feature as the HTML pages show it.
type featureView struct {
	ID       int64
	Href     string
	Geometry string // type and first position, e.g. "MultiPolygon (24.7, 42.9 …)"
	Props    []propView
}

type propView struct {
	Name, TitleBG, TitleEN string
	Value                  string
}

func viewFeature(ft layers.Feature, ir itemsRequest, base string, l layers.Layer) (featureView, error) {
	fv := featureView{ID: ft.ID,
		Href: base + "/collections/" + url.PathEscape(l.Name) + "/items/" + strconv.FormatInt(ft.ID, 10) + "?f=html"}
	if g := ft.Geometry; g != nil {
		if ir.swapXY {
			swapFlat(g)
		}
		fv.Geometry = fmt.Sprintf("%T", g)[len("*geom."):]
		if flat := g.FlatCoords(); len(flat) >= 2 {
			fv.Geometry += fmt.Sprintf(" (%.8g, %.8g …)", flat[0], flat[1])
		}
	}
	for _, a := range l.Type.Attributes {
		v, ok := ft.Properties[a.Name]
		if !ok {
			continue
		}
		s := ""
		if v != nil {
			s = fmt.Sprint(v)
		}
		fv.Props = append(fv.Props, propView{Name: a.Name, TitleBG: a.TitleBG, TitleEN: a.TitleEN, Value: s})
	}
	fv.Props = append(fv.Props,
		propView{Name: "version", TitleBG: "Версия", TitleEN: "Version", Value: strconv.Itoa(ft.Version)},
		propView{Name: "updated_at", TitleBG: "Променен на", TitleEN: "Updated at", Value: ft.UpdatedAt.UTC().Format("2006-01-02 15:04:05Z")})
	return fv, nil
}

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="bg"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – munigis OGC API</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:70rem;padding:0 1rem;color:#222}
.en{color:#666;font-size:.9em} table{border-collapse:collapse;margin:.5rem 0} td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3} nav a{margin-right:1rem} code{font-size:.9em}
</style></head><body>
<nav><a href="{{.Base}}?f=html">Начало <span class="en">(Home)</span></a><a href="{{.Base}}/collections?f=html">Колекции <span class="en">(Collections)</span></a><a href="{{.JSON}}">JSON</a></nav>
<h1>{{.Title}} <span class="en">({{.TitleEN}})</span></h1>
{{end}}
{{define "foot"}}<p class="en">munigis · OGC API – Features</p></body></html>{{end}}

{{define "landing"}}{{template "head" .}}
<ul>
<li><a href="{{.Base}}/collections?f=html">Колекции (слоеве)</a> <span class="en">Collections (map layers)</span></li>
<li><a href="{{.Base}}/conformance?f=html">Съответствие със стандарти</a> <span class="en">Conformance</span></li>
<li><a href="{{.Base}}/api">Описание на API (OpenAPI 3.0)</a> <span class="en">API definition</span></li>
</ul>
{{template "foot" .}}{{end}}

{{define "conformance"}}{{template "head" .}}
<ul>{{range .Doc.conformsTo}}<li><code>{{.}}</code></li>{{end}}</ul>
{{template "foot" .}}{{end}}

{{define "collections"}}{{template "head" .}}
<table><tr><th>Колекция <span class="en">Collection</span></th><th>Наименование <span class="en">Title</span></th><th>Обекти <span class="en">Features</span></th></tr>
{{range .Collections}}<tr><td><a href="{{$.Base}}/collections/{{.ID}}?f=html"><code>{{.ID}}</code></a></td><td>{{.Title}}<br><span class="en">{{.TitleEN}}</span></td>
<td><a href="{{$.Base}}/collections/{{.ID}}/items?f=html">HTML</a> · <a href="{{$.Base}}/collections/{{.ID}}/items?f=json">GeoJSON</a></td></tr>{{end}}
</table>
{{template "foot" .}}{{end}}

{{define "collection"}}{{template "head" .}}{{with .Collection}}
<p>{{.Description}}</p>
<p><a href="{{$.Base}}/collections/{{.ID}}/items?f=html">Обекти <span class="en">(Features)</span></a> · <a href="{{$.Base}}/collections/{{.ID}}/items?f=json">GeoJSON</a></p>
{{with .Extent}}<p>Обхват <span class="en">(Extent, CRS84)</span>: {{range .Spatial.BBox}}{{index . 0}}, {{index . 1}} – {{index . 2}}, {{index . 3}}{{end}}</p>{{end}}
<h2>Атрибути <span class="en">(Attributes)</span></h2>
<table><tr><th>Име <span class="en">Name</span></th><th>Тип <span class="en">Type</span></th><th>Наименование <span class="en">Title</span></th></tr>
{{range .Attributes}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{.TitleBG}} <span class="en">{{.TitleEN}}</span></td></tr>{{end}}
</table>
<h2>Координатни системи <span class="en">(CRS)</span></h2>
<ul>{{range .CRS}}<li><code>{{.}}</code></li>{{end}}</ul>
<p>Съхранение <span class="en">(storage CRS)</span>: <code>{{.StorageCRS}}</code></p>
{{if .CanEdit}}<p>Можете да редактирате този слой (POST/PUT/PATCH/DELETE). <span class="en">You may edit this layer.</span></p>{{end}}
{{end}}{{template "foot" .}}{{end}}

{{define "items"}}{{template "head" .}}
<p>Намерени <span class="en">(matched)</span>: {{.Matched}} · показани <span class="en">(shown)</span>: {{len .Features}}
{{range .Links}}{{if eq .Rel "prev"}} · <a href="{{.Href}}">← предишни <span class="en">(previous)</span></a>{{end}}{{if eq .Rel "next"}} · <a href="{{.Href}}">следващи → <span class="en">(next)</span></a>{{end}}{{end}}</p>
{{template "featuretable" .}}
{{template "foot" .}}{{end}}

{{define "item"}}{{template "head" .}}
{{template "featuretable" .}}
{{template "foot" .}}{{end}}

{{define "featuretable"}}{{range .Features}}
<h3><a href="{{.Href}}">№ {{.ID}}</a> <span class="en">{{.Geometry}}</span></h3>
<table>{{range .Props}}<tr><th>{{.TitleBG}} <span class="en">{{.TitleEN}}</span></th><td>{{.Value}}</td></tr>{{end}}</table>
{{end}}{{end}}
`))

// Attributes is the collection's attributes the caller may see, for the
// HTML page.
func (c collectionJSON) Attributes() []layers.Attribute { return c.attributes }

// CanEdit reports whether the caller may edit the collection, for the HTML
// page.
func (c collectionJSON) CanEdit() bool { return c.canEdit }

// writeHTML renders page into a buffer first, so a template error is a
// clean 500 rather than half a page.
func writeHTML(w http.ResponseWriter, page string, d pageData) error {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, page, d); err != nil {
		return fmt.Errorf("ogcapi: render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Vary", "Accept")
	_, err := w.Write(b.Bytes())
	return err
}

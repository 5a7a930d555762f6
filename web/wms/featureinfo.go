package wms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"net/http"
	"strconv"
	"strings"

	"github.com/paulmach/orb/geojson"
	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/access"
	"munigis/layers"
	"munigis/registers"
	"munigis/render"
	"munigis/spatial"
)

// RelatedEntries finds the register entries on a cadastral object (and
// the objects inside it) as a viewer may see them; *registers.Store is
// one. The access rules are the engine's (registers.RelatedFor), the same
// that /api/cadastre/{identifier}/related answers with.
type RelatedEntries interface {
	RelatedFor(ctx context.Context, identifier string, v access.Viewer) ([]registers.ShownGroup, error)
}

// The GetFeatureInfo formats, as capabilities list them.
var infoFormats = []string{"text/html", "application/json", "application/vnd.ogc.gml", "text/plain"}

// layerHits are the features found in one queried layer. Related[i] are
// the register entries on Features[i] when it is a cadastral object.
type layerHits struct {
	Layer    layers.Layer
	Attrs    []layers.Attribute
	Features []layers.Feature
	Related  [][]infoGroup
}

// infoGroup is one register's entries on a feature, ready to print.
type infoGroup struct {
	Register string      `json:"register"`
	TitleBG  string      `json:"title_bg"`
	TitleEN  string      `json:"title_en"`
	Entries  []infoEntry `json:"entries"`
}

// infoEntry is an entry as the viewer may see it; Fields are the type's
// fields the viewer may see that have a value, in the type's order
// (parties by role, masked for the public; identifiers; data).
type infoEntry struct {
	ID     int64       `json:"id"`
	Href   string      `json:"href"`
	Number string      `json:"number"`
	Date   string      `json:"date,omitempty"`
	Status string      `json:"status,omitempty"`
	Fields []infoField `json:"fields"`
}

type infoField struct {
	Name    string `json:"name"`
	TitleBG string `json:"title_bg"`
	TitleEN string `json:"title_en"`
	Value   any    `json:"value"`
}

// Text is the field's value for people.
func (f infoField) Text() string { return valueText(f.Value) }

// Title puts the Bulgarian title first.
func (f infoField) Title() string { return titleBGEN(f.TitleBG, f.TitleEN) }

// related returns the register entries on feature f of layer l when l
// holds cadastral objects and the viewer sees their identifier.
func (s *Service) related(ctx context.Context, v access.Viewer, l layers.Layer, attrs []layers.Attribute, f layers.Feature,
	seen map[string][]infoGroup) ([]infoGroup, error) {
	if s.d.Related == nil || l.Type.CadastralLevel == 0 {
		return nil, nil
	}
	visible := false
	for _, a := range attrs {
		visible = visible || a.Name == "identifier"
	}
	id, _ := f.Properties["identifier"].(string)
	if !visible || id == "" {
		return nil, nil // an attribute the viewer may not see is not looked up either
	}
	if out, ok := seen[id]; ok {
		return out, nil
	}
	groups, err := s.d.Related.RelatedFor(ctx, id, v)
	if munigis.ErrorCode(err) == munigis.Invalid {
		return nil, nil // a malformed identifier in the data has no entries
	}
	if err != nil {
		return nil, err
	}
	out := make([]infoGroup, 0, len(groups))
	for _, g := range groups {
		ig := infoGroup{Register: g.Register, TitleBG: g.TitleBG, TitleEN: g.TitleEN, Entries: []infoEntry{}}
		for _, e := range g.Entries {
			href := "/api/registers/" + e.Register + "/entries/" + strconv.FormatInt(e.ID, 10)
			if e.Register == "case_files" {
				// Case files are not a register: they have their own API.
				href = "/api/case-files/" + strconv.FormatInt(e.ID, 10)
			}
			ie := infoEntry{ID: e.ID, Href: href,
				Number: e.Number, Date: e.Date, Status: e.Status, Fields: []infoField{}}
			// g.Type holds only the fields this viewer may see.
			for _, fd := range g.Type.Fields {
				var val any
				switch {
				case fd.Name == registers.StatusField:
					continue // Status above
				case fd.Type == registers.CadastralIDs:
					if len(e.Identifiers) > 0 {
						val = strings.Join(e.Identifiers, ", ")
					}
				case fd.Type == registers.Person || fd.Type == registers.Persons:
					var names []string
					for _, p := range e.Parties {
						if p.Role == fd.Name {
							n := p.Name
							if p.EIK != "" {
								n += " (ЕИК " + p.EIK + ")"
							}
							names = append(names, n)
						}
					}
					if len(names) > 0 {
						val = strings.Join(names, "; ")
					}
				default:
					val = e.Data[fd.Name]
				}
				if val == nil {
					continue
				}
				ie.Fields = append(ie.Fields, infoField{Name: fd.Name, TitleBG: fd.TitleBG, TitleEN: fd.TitleEN, Value: val})
			}
			ig.Entries = append(ig.Entries, ie)
		}
		out = append(out, ig)
	}
	seen[id] = out
	return out, nil
}

func (s *Service) getFeatureInfo(w http.ResponseWriter, r *http.Request, q *request) error {
	v, err := s.parseView(r.Context(), q)
	if err != nil {
		return err
	}
	infoFormat := strings.ToLower(strings.TrimSpace(q.get("INFO_FORMAT")))
	switch infoFormat {
	case "":
		infoFormat = "text/html"
	case "application/geojson", "application/geo+json", "json":
		infoFormat = "application/json"
	case "application/vnd.ogc.gml/3.1.1", "text/xml", "gml":
		infoFormat = "application/vnd.ogc.gml"
	}
	known := false
	for _, f := range infoFormats {
		known = known || f == infoFormat
	}
	if !known {
		return fail(codeInvalidFormat, "INFO_FORMAT", "INFO_FORMAT "+quote(q.get("INFO_FORMAT"))+" is not supported: use "+strings.Join(infoFormats, ", "))
	}
	names := splitList(q.get("QUERY_LAYERS"))
	if len(names) == 0 {
		return fail(codeMissing, "QUERY_LAYERS", "QUERY_LAYERS is missing")
	}
	iName, jName := "I", "J"
	if q.version == v111 {
		iName, jName = "X", "Y"
	}
	pi, err := pixel(q, iName, v.width)
	if err != nil {
		return err
	}
	pj, err := pixel(q, jName, v.height)
	if err != nil {
		return err
	}
	count := defaultFeatureCount
	if fc := q.get("FEATURE_COUNT"); fc != "" {
		n, err := strconv.Atoi(fc)
		if err != nil || n < 1 {
			return fail(codeInvalid, "FEATURE_COUNT", "FEATURE_COUNT "+quote(fc)+" must be a whole number from 1")
		}
		count = min(n, maxFeatureCount)
	}
	pw := (v.bbox.MaxX - v.bbox.MinX) / float64(v.width)
	ph := (v.bbox.MaxY - v.bbox.MinY) / float64(v.height)
	x := v.bbox.MinX + (float64(pi)+0.5)*pw
	y := v.bbox.MaxY - (float64(pj)+0.5)*ph
	var hits []layerHits
	seen := map[string][]infoGroup{} // by identifier: a parcel queried in two layers is looked up once
	for _, name := range names {
		var ml *render.MapLayer
		for i := range v.layers {
			if v.layers[i].Layer.Name == name {
				ml = &v.layers[i]
			}
		}
		if ml == nil {
			// Not in LAYERS: either not readable (answered as missing) or
			// simply not on the map.
			ls, err := s.readable(r.Context(), q.viewer)
			if err != nil {
				return err
			}
			if _, err := layerNamed(ls, name, "QUERY_LAYERS"); err != nil {
				return err
			}
			return fail(codeLayerNotDefined, "QUERY_LAYERS", "layer "+quote(name)+" is in QUERY_LAYERS but not in LAYERS")
		}
		if !ml.Layer.Local() {
			return fail(codeLayerNotQueryable, "QUERY_LAYERS", "layer "+quote(name)+" comes from another server and cannot be queried here")
		}
		fs, err := s.d.Renderer.FeatureInfo(r.Context(), render.InfoRequest{Layer: ml.Layer, Attributes: ml.Attributes,
			CRS: v.crs, X: x, Y: y, Tolerance: featureInfoTolerancePx * max(pw, ph), Limit: count})
		if err != nil {
			return err
		}
		h := layerHits{Layer: ml.Layer, Attrs: ml.Attributes, Features: fs, Related: make([][]infoGroup, len(fs))}
		for i, f := range fs {
			if h.Related[i], err = s.related(r.Context(), q.viewer, ml.Layer, ml.Attributes, f, seen); err != nil {
				return err
			}
		}
		hits = append(hits, h)
	}
	var buf bytes.Buffer
	ct := infoFormat + "; charset=UTF-8"
	switch infoFormat {
	case "text/html":
		if err := infoHTML.Execute(&buf, hits); err != nil {
			return err
		}
	case "application/json":
		if err := writeInfoJSON(&buf, hits, v.crs); err != nil {
			return err
		}
		ct = "application/json; charset=UTF-8"
	case "application/vnd.ogc.gml":
		writeInfoGML(&buf, hits, v.crs)
	default:
		writeInfoText(&buf, hits)
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, no-cache")
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	return nil
}

// pixel reads I/J (X/Y in 1.1.1): a pixel column or row of the map.
func pixel(q *request, name string, size int) (int, error) {
	v := q.get(name)
	if v == "" {
		return 0, fail(codeMissing, name, name+" is missing: the pixel to query")
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n >= size {
		return 0, fail(codeInvalidPoint, name, name+" "+quote(v)+" must be a pixel of the map, from 0 to "+strconv.Itoa(size-1))
	}
	return n, nil
}

// fieldTitle puts the Bulgarian title first, as the municipality reads it.
func fieldTitle(a layers.Attribute) string { return titleBGEN(a.TitleBG, a.TitleEN) }

func titleBGEN(bg, en string) string {
	if en == "" || en == bg {
		return bg
	}
	return bg + " (" + en + ")"
}

// valueText formats a property value for people.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "да"
		}
		return "не"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// html/template escapes every value: feature data is user input.
var infoHTML = template.Must(template.New("info").Funcs(template.FuncMap{
	"title": fieldTitle,
	"value": func(f layers.Feature, a layers.Attribute) string { return valueText(f.Properties[a.Name]) },
	"both":  titleBGEN,
}).Parse(`<!DOCTYPE html>
<html lang="bg"><head><meta charset="utf-8"><title>GetFeatureInfo</title>
<style>body{font-family:sans-serif;font-size:13px}table{border-collapse:collapse;margin-bottom:8px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}caption{font-weight:bold;text-align:left}section.related{margin:0 0 8px 12px}h4{margin:4px 0}dl{margin:0}dt{font-weight:bold;display:inline}dd{display:inline;margin:0 0 0 4px}dd::after{content:"";display:block}</style>
</head><body>
{{- range .}}
<table><caption>{{.Layer.TitleBG}} / {{.Layer.TitleEN}}</caption>
{{- if .Features}}
<tr><th>№</th>{{range .Attrs}}<th>{{title .}}</th>{{end}}</tr>
{{- $attrs := .Attrs}}{{range $f := .Features}}
<tr><td>{{$f.ID}}</td>{{range $attrs}}<td>{{value $f .}}</td>{{end}}</tr>
{{- end}}
{{- else}}
<tr><td>Няма обекти в тази точка (no features here)</td></tr>
{{- end}}
</table>
{{- $h := .}}{{range $i, $f := .Features}}{{with index $h.Related $i}}
<section class="related"><h4>Вписвания в регистрите за {{$f.Properties.identifier}} (register entries)</h4>
{{- range .}}
<table class="register"><caption>{{both .TitleBG .TitleEN}}</caption>
<tr><th>№</th><th>Дата (Date)</th><th>Състояние (Status)</th><th>Данни (Details)</th></tr>
{{- range .Entries}}
<tr><td><a href="{{.Href}}">{{.Number}}</a></td><td>{{.Date}}</td><td>{{.Status}}</td><td><dl>{{range .Fields}}<dt>{{.Title}}:</dt><dd>{{.Text}}</dd>{{end}}</dl></td></tr>
{{- end}}
</table>
{{- end}}
</section>
{{- end}}{{end}}
{{- end}}
</body></html>
`))

func writeInfoText(b *bytes.Buffer, hits []layerHits) {
	for _, h := range hits {
		fmt.Fprintf(b, "Layer '%s'\n", h.Layer.Name)
		if len(h.Features) == 0 {
			b.WriteString("  no features\n")
		}
		for i, f := range h.Features {
			fmt.Fprintf(b, "  Feature %d:\n", f.ID)
			for _, a := range h.Attrs {
				fmt.Fprintf(b, "    %s (%s) = '%s'\n", a.Name, fieldTitle(a), valueText(f.Properties[a.Name]))
			}
			for _, g := range h.Related[i] {
				fmt.Fprintf(b, "    Register '%s' (%s):\n", g.Register, titleBGEN(g.TitleBG, g.TitleEN))
				for _, e := range g.Entries {
					fmt.Fprintf(b, "      Entry '%s' date '%s' status '%s' (%s)\n", oneLine(e.Number), e.Date, oneLine(e.Status), e.Href)
					for _, fd := range e.Fields {
						fmt.Fprintf(b, "        %s (%s) = '%s'\n", fd.Name, fd.Title(), oneLine(fd.Text()))
					}
				}
			}
		}
	}
}

// oneLine keeps a value on its line: text/plain is read line by line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeInfoJSON writes a GeoJSON FeatureCollection. Coordinates are in the
// map's CRS (x = easting), named by a "crs" member unless they are WGS 84
// longitude, latitude; ids are "layer.id" as in WFS.
func writeInfoJSON(b *bytes.Buffer, hits []layerHits, crs spatial.CRS) error {
	fc := geojson.NewFeatureCollection()
	for _, h := range hits {
		for i, f := range h.Features {
			g, err := spatial.ToOrb(f.Geometry)
			if err != nil {
				return fmt.Errorf("wms: feature %d: %w", f.ID, err)
			}
			gf := geojson.NewFeature(g)
			gf.ID = h.Layer.Name + "." + strconv.FormatInt(f.ID, 10)
			gf.Properties["layer"] = h.Layer.Name
			for _, a := range h.Attrs {
				gf.Properties[a.Name] = f.Properties[a.Name]
			}
			// A foreign member beside "properties", so that no attribute
			// name can collide with it.
			if h.Layer.Type.CadastralLevel > 0 && h.Related[i] != nil {
				gf.ExtraMembers = geojson.Properties{"related": h.Related[i]}
			}
			fc.Append(gf)
		}
	}
	out := map[string]any{"type": "FeatureCollection", "features": fc.Features}
	if crs.SRID != spatial.SRIDWGS84 {
		out["crs"] = map[string]any{"type": "name", "properties": map[string]string{"name": "urn:ogc:def:crs:EPSG::" + strconv.Itoa(crs.SRID)}}
	}
	return json.NewEncoder(b).Encode(out)
}

// writeInfoGML writes GML 2 as MapServer's GetFeatureInfo does: a
// msGMLOutput-like collection of <layer>_layer/<layer>_feature elements,
// each with its visible fields and its geometry (x = easting).
func writeInfoGML(b *bytes.Buffer, hits []layerHits, crs spatial.CRS) {
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<msGMLOutput xmlns:gml="http://www.opengis.net/gml" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:munigis="https://munigis.bg/ns">` + "\n")
	srs := "EPSG:" + strconv.Itoa(crs.SRID)
	for _, h := range hits {
		n := esc(h.Layer.Name)
		b.WriteString("<" + n + "_layer>\n  <gml:name>" + esc(h.Layer.TitleBG) + "</gml:name>\n")
		for i, f := range h.Features {
			b.WriteString("  <" + n + `_feature fid="` + n + "." + strconv.FormatInt(f.ID, 10) + `">` + "\n")
			b.WriteString("    <gml:boundedBy>")
			if f.Geometry != nil {
				bb := f.Geometry.Bounds()
				if !bb.IsEmpty() {
					fmt.Fprintf(b, `<gml:Box srsName="%s"><gml:coordinates>%s,%s %s,%s</gml:coordinates></gml:Box>`, srs,
						num(bb.Min(0)), num(bb.Min(1)), num(bb.Max(0)), num(bb.Max(1)))
				}
			}
			b.WriteString("</gml:boundedBy>\n")
			b.WriteString("    <id>" + strconv.FormatInt(f.ID, 10) + "</id>\n")
			for _, a := range h.Attrs {
				b.WriteString("    <" + a.Name + ">" + esc(valueText(f.Properties[a.Name])) + "</" + a.Name + ">\n")
			}
			if f.Geometry != nil {
				b.WriteString("    <geometry>")
				gml2(b, f.Geometry, srs)
				b.WriteString("</geometry>\n")
			}
			writeRelatedGML(b, h.Related[i])
			b.WriteString("  </" + n + "_feature>\n")
		}
		b.WriteString("</" + n + "_layer>\n")
	}
	b.WriteString("</msGMLOutput>\n")
}

// writeRelatedGML writes a feature's register entries in munigis' own
// namespace (the WFS one), so that GML readers skip what they do not know:
// one munigis:related per register, its entries with number, date, status,
// a link and the visible fields by name.
func writeRelatedGML(b *bytes.Buffer, groups []infoGroup) {
	for _, g := range groups {
		fmt.Fprintf(b, `    <munigis:related register="%s" title_bg="%s" title_en="%s">`+"\n", esc(g.Register), esc(g.TitleBG), esc(g.TitleEN))
		for _, e := range g.Entries {
			fmt.Fprintf(b, `      <munigis:entry id="%d" xlink:href="%s">`, e.ID, esc(e.Href))
			b.WriteString("<munigis:number>" + esc(e.Number) + "</munigis:number>")
			if e.Date != "" {
				b.WriteString("<munigis:date>" + esc(e.Date) + "</munigis:date>")
			}
			if e.Status != "" {
				b.WriteString("<munigis:status>" + esc(e.Status) + "</munigis:status>")
			}
			for _, fd := range e.Fields {
				fmt.Fprintf(b, `<munigis:field name="%s" title_bg="%s">%s</munigis:field>`, esc(fd.Name), esc(fd.TitleBG), esc(fd.Text()))
			}
			b.WriteString("</munigis:entry>\n")
		}
		b.WriteString("    </munigis:related>\n")
	}
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func coords(b *bytes.Buffer, flat []float64, stride int) {
	b.WriteString("<gml:coordinates>")
	for i := 0; i+1 < len(flat); i += stride {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(flat[i]) + "," + num(flat[i+1]))
	}
	b.WriteString("</gml:coordinates>")
}

// gml2 writes g as a GML 2 geometry.
func gml2(b *bytes.Buffer, g geom.T, srs string) {
	attr := ` srsName="` + srs + `"`
	switch t := g.(type) {
	case *geom.Point:
		b.WriteString("<gml:Point" + attr + ">")
		coords(b, t.FlatCoords(), t.Stride())
		b.WriteString("</gml:Point>")
	case *geom.LineString:
		b.WriteString("<gml:LineString" + attr + ">")
		coords(b, t.FlatCoords(), t.Stride())
		b.WriteString("</gml:LineString>")
	case *geom.Polygon:
		b.WriteString("<gml:Polygon" + attr + ">")
		for i := 0; i < t.NumLinearRings(); i++ {
			tag := "gml:innerBoundaryIs"
			if i == 0 {
				tag = "gml:outerBoundaryIs"
			}
			b.WriteString("<" + tag + "><gml:LinearRing>")
			coords(b, t.LinearRing(i).FlatCoords(), t.Stride())
			b.WriteString("</gml:LinearRing></" + tag + ">")
		}
		b.WriteString("</gml:Polygon>")
	case *geom.MultiPoint:
		b.WriteString("<gml:MultiPoint" + attr + ">")
		for i := 0; i < t.NumPoints(); i++ {
			b.WriteString("<gml:pointMember>")
			gml2(b, t.Point(i), srs)
			b.WriteString("</gml:pointMember>")
		}
		b.WriteString("</gml:MultiPoint>")
	case *geom.MultiLineString:
		b.WriteString("<gml:MultiLineString" + attr + ">")
		for i := 0; i < t.NumLineStrings(); i++ {
			b.WriteString("<gml:lineStringMember>")
			gml2(b, t.LineString(i), srs)
			b.WriteString("</gml:lineStringMember>")
		}
		b.WriteString("</gml:MultiLineString>")
	case *geom.MultiPolygon:
		b.WriteString("<gml:MultiPolygon" + attr + ">")
		for i := 0; i < t.NumPolygons(); i++ {
			b.WriteString("<gml:polygonMember>")
			gml2(b, t.Polygon(i), srs)
			b.WriteString("</gml:polygonMember>")
		}
		b.WriteString("</gml:MultiPolygon>")
	}
}

// getLegendGraphic draws the legend of one layer's style: one swatch and
// title per rule.
func (s *Service) getLegendGraphic(w http.ResponseWriter, r *http.Request, q *request) error {
	name := q.get("LAYER")
	if name == "" {
		return fail(codeMissing, "LAYER", "LAYER is missing")
	}
	format := render.PNG
	if f := q.get("FORMAT"); f != "" {
		var ok bool
		if format, ok = parseFormat(f); !ok {
			return fail(codeInvalidFormat, "FORMAT", "FORMAT "+quote(f)+" is not supported: use image/png or image/jpeg")
		}
	}
	ls, err := s.readable(r.Context(), q.viewer)
	if err != nil {
		return err
	}
	l, err := layerNamed(ls, name, "LAYER")
	if err != nil {
		return err
	}
	var sld []render.NamedLayer
	if body := q.get("SLD_BODY"); body != "" {
		if sld, err = render.ParseSLD(strings.NewReader(body)); err != nil {
			return fail(codeInvalid, "SLD_BODY", errText(err))
		}
	}
	st, err := pickStyle(l, q.get("STYLE"), sld)
	if err != nil {
		return fail(codeStyleNotDefined, "STYLE", errText(err))
	}
	if st == nil {
		st = &render.Style{Name: l.Name, Rules: []render.Rule{{Title: l.TitleBG + " / " + l.TitleEN}}}
	}
	sw, sh := 20, 20
	for _, p := range []struct {
		name string
		v    *int
	}{{"WIDTH", &sw}, {"HEIGHT", &sh}} {
		if v := q.get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 4 || n > 512 {
				return fail(codeInvalid, p.name, p.name+" "+quote(v)+" must be a whole number from 4 to 512")
			}
			*p.v = n
		}
	}
	img := render.Legend(l, st, sw, sh)
	var buf bytes.Buffer
	if err := render.Encode(&buf, img, format, color.RGBA{R: 255, G: 255, B: 255, A: 255}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType(format))
	w.Header().Set("Cache-Control", "private, max-age=300")
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	return nil
}

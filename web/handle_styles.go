package web

import (
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"munigis"
	"munigis/access"
	"munigis/layers"
	"munigis/web/ui"
)

// The map style of munigis (GET /styles/{name}.json): a MapLibre style,
// version 8, built here from the catalog for whoever asks, so that it names
// only the layers the viewer may read and a layer the municipality defines
// itself gets a sensible default look.
//
//   - /styles/munigis.json: every layer the viewer may read, in one vector
//     source served by /tiles/{layer1,layer2,...}/{z}/{x}/{y}.mvt;
//   - /styles/{layer}.json: one layer alone.
//
// Each style layer carries metadata "munigis:layer" (the munigis layer it
// draws) and "munigis:title_bg"/"munigis:title_en", which the map page uses
// for its layer list. Glyphs for the labels come from /ui/glyphs (package
// ui), so labels work offline too.

// defaultStyle is the name of the style with every readable layer.
const defaultStyle = "munigis"

// styleSource is the name of the vector source in every style.
const styleSource = "munigis"

// shownByDefault lists the layers the map shows before the user picks any;
// the others are listed, switched off.
var shownByDefault = map[string]bool{
	"cadastre_parcels": true, "cadastre_buildings": true, "street_segments": true,
	"forestry_plan": true, "utility_lines": true, "utility_manholes": true,
}

// drawOrder puts the built-in styles bottom to top: areas under lines
// under points. Styles not listed (user-defined) sort by geometry.
var drawOrder = map[string]int{
	"general_plan_zones": 10, "development_plan": 12, "forestry_plan": 14, "grassland": 16,
	"subsidy_areas": 18, "regulation_quarters": 20, "regulation_plots": 22,
	"cadastre_parcels": 30, "cadastre_buildings": 32, "cadastre_units": 34,
	"regulation_lines": 50, "street_segments": 52, "utility_lines": 54,
	"utility_manholes": 70,
}

func orderOf(l layers.Layer) int {
	if o, ok := drawOrder[styleName(l)]; ok {
		return o
	}
	switch geometryKind(l.Type.GeometryType) {
	case "fill":
		return 40
	case "line":
		return 60
	}
	return 80
}

func styleName(l layers.Layer) string {
	if l.Style != "" {
		return l.Style
	}
	return l.Type.DefaultStyle
}

func geometryKind(g string) string {
	switch strings.TrimPrefix(g, "Multi") {
	case "Polygon":
		return "fill"
	case "LineString":
		return "line"
	}
	return "circle"
}

// utilityColours colours underground networks by the usual convention.
var utilityColours = []any{"match", []any{"get", "network"},
	"water", "#1f6fd1", "sewer", "#8b5a2b", "power", "#d7191c", "gas", "#e6c200",
	"telecom", "#1a9641", "heating", "#f28e2b", "#666666"}

func styleLayer(id, typ, source string, l layers.Layer, paint, layout map[string]any) map[string]any {
	sl := map[string]any{
		"id": id, "type": typ, "source": source, "source-layer": l.Name,
		"metadata": map[string]any{"munigis:layer": l.Name, "munigis:title_bg": l.TitleBG, "munigis:title_en": l.TitleEN},
	}
	if l.MinZoom > 0 {
		sl["minzoom"] = l.MinZoom
	}
	if l.MaxZoom > 0 && l.MaxZoom < 24 {
		sl["maxzoom"] = l.MaxZoom + 1
	}
	if paint != nil {
		sl["paint"] = paint
	}
	if layout == nil {
		layout = map[string]any{}
	}
	if !shownByDefault[l.Name] {
		layout["visibility"] = "none"
	}
	sl["layout"] = layout
	return sl
}

func label(field string, size float64, colour string) map[string]any {
	return map[string]any{
		"text-field": []any{"get", field}, "text-font": []string{ui.Fontstack},
		"text-size": size, "text-max-width": 12,
		"_paint": map[string]any{"text-color": colour, "text-halo-color": "#ffffff", "text-halo-width": 1.5},
	}
}

// layerStyles returns the style layers that draw l.
func layerStyles(l layers.Layer, src string) []map[string]any {
	id := func(suffix string) string { return l.Name + suffix }
	fill := func(colour any, opacity float64, outline string) []map[string]any {
		return []map[string]any{
			styleLayer(id("-fill"), "fill", src, l, map[string]any{"fill-color": colour, "fill-opacity": opacity}, nil),
			styleLayer(id("-line"), "line", src, l, map[string]any{"line-color": outline, "line-width": 1}, nil),
		}
	}
	symbol := func(suffix, field string, size float64, colour string, minzoom int, placement string) map[string]any {
		lay := label(field, size, colour)
		paint := lay["_paint"].(map[string]any)
		delete(lay, "_paint")
		if placement != "" {
			lay["symbol-placement"] = placement
		}
		sl := styleLayer(id(suffix), "symbol", src, l, paint, lay)
		if minzoom > l.MinZoom {
			sl["minzoom"] = minzoom
		}
		return sl
	}
	switch styleName(l) {
	case "cadastre_parcels":
		return []map[string]any{
			styleLayer(id("-fill"), "fill", src, l, map[string]any{"fill-opacity": 0.35, "fill-color": []any{"match", []any{"get", "land_use"},
				"жилищна", "#f6e7c8", "обществено обслужване", "#f3d0d6", "производствена", "#ddd3e8",
				"озеленяване", "#d4ecc4", "нива", "#f4f0b0", "ливада", "#e2f2c0", "пасище", "#e8f0c8",
				"гора", "#c3e0b0", "улица", "#eeeeee", "#f7f4ee"}}, nil),
			styleLayer(id("-line"), "line", src, l, map[string]any{"line-color": "#b5651d",
				"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 0.3, 17, 1.5}}, nil),
			symbol("-label", "identifier", 11, "#7a3e00", 16, ""),
		}
	case "cadastre_buildings":
		return fill("#9e9e9e", 0.8, "#616161")
	case "cadastre_units":
		return fill("#bdbdbd", 0.3, "#424242")
	case "regulation_plots":
		return append(fill("#fff3bf", 0.25, "#e03131"), symbol("-label", "plot_number", 11, "#c92a2a", 17, ""))
	case "regulation_quarters":
		return append(fill("#ffe8cc", 0.2, "#d9480f"), symbol("-label", "quarter_number", 13, "#d9480f", 15, ""))
	case "regulation_lines":
		return []map[string]any{styleLayer(id("-line"), "line", src, l, map[string]any{"line-width": 1.5, "line-color": []any{"match", []any{"get", "line_kind"},
			"регулационна", "#e03131", "задължителна строителна", "#1c7ed6", "ограничителна строителна", "#74c0fc",
			"улична регулация", "#862e9c", "#e03131"}}, nil)}
	case "general_plan_zones":
		colour := []any{"match", []any{"slice", []any{"coalesce", []any{"get", "zone_code"}, ""}, 0, 1},
			"Ж", "#f4a261", "П", "#9d4edd", "О", "#52b788", "С", "#4ea8de", "Т", "#adb5bd", "#e9c46a"}
		return append(fill(colour, 0.35, "#6c584c"), symbol("-label", "zone_code", 14, "#432818", 12, ""))
	case "development_plan":
		colour := []any{"match", []any{"slice", []any{"coalesce", []any{"get", "zone_code"}, ""}, 0, 1},
			"Ж", "#ffb4a2", "П", "#cdb4db", "О", "#95d5b2", "#ffe5b4"}
		return append(fill(colour, 0.3, "#9c6644"), symbol("-label", "zone_code", 11, "#6f4518", 16, ""))
	case "case_files":
		// By status (issue 7): open case files stand out.
		colour := []any{"match", []any{"get", "status"}, "open", "#f08c00", "closed", "#868e96", "#adb5bd"}
		return append(fill(colour, 0.35, "#d9480f"), symbol("-label", "number", 11, "#7f2704", 16, ""))
	case "forestry_plan":
		return fill("#2d6a4f", 0.35, "#1b4332")
	case "grassland":
		return fill("#95d5b2", 0.35, "#52b788")
	case "subsidy_areas":
		return []map[string]any{
			styleLayer(id("-fill"), "fill", src, l, map[string]any{"fill-color": "#ffd166", "fill-opacity": 0.2}, nil),
			styleLayer(id("-line"), "line", src, l, map[string]any{"line-color": "#e09f3e", "line-width": 1.2, "line-dasharray": []float64{3, 2}}, nil),
		}
	case "street_segments":
		return []map[string]any{
			styleLayer(id("-casing"), "line", src, l, map[string]any{"line-color": "#9a9a9a",
				"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 1.5, 18, 14}},
				map[string]any{"line-cap": "round", "line-join": "round"}),
			styleLayer(id("-line"), "line", src, l, map[string]any{"line-color": []any{"match", []any{"get", "street_class"},
				"първостепенна", "#fcd6a4", "пешеходна", "#f1f3f5", "#ffffff"},
				"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 0.8, 18, 11}},
				map[string]any{"line-cap": "round", "line-join": "round"}),
			symbol("-label", "street_name", 12, "#333333", 15, "line"),
		}
	case "utility_lines":
		return []map[string]any{styleLayer(id("-line"), "line", src, l, map[string]any{"line-color": utilityColours,
			"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 1, 18, 3}}, nil)}
	case "utility_manholes":
		return []map[string]any{styleLayer(id("-circle"), "circle", src, l, map[string]any{"circle-color": utilityColours,
			"circle-radius":       []any{"interpolate", []any{"linear"}, []any{"zoom"}, 16, 2.5, 20, 6},
			"circle-stroke-color": "#ffffff", "circle-stroke-width": 1}, nil)}
	}
	// A layer of the municipality's own type: a colour of its own, from its
	// name, and the look of its geometry.
	h := fnv.New32a()
	h.Write([]byte(l.Name))
	colour := fmt.Sprintf("hsl(%d, 60%%, 45%%)", h.Sum32()%360)
	switch geometryKind(l.Type.GeometryType) {
	case "fill":
		return fill(colour, 0.3, colour)
	case "line":
		return []map[string]any{styleLayer(id("-line"), "line", src, l, map[string]any{"line-color": colour, "line-width": 2}, nil)}
	}
	return []map[string]any{styleLayer(id("-circle"), "circle", src, l, map[string]any{"circle-color": colour, "circle-radius": 4,
		"circle-stroke-color": "#ffffff", "circle-stroke-width": 1}, nil)}
}

// baseURL is the absolute scheme://host of the request, for the style's
// URLs (MapLibre needs absolute tile URLs).
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// buildStyle returns the MapLibre style drawing ls (already filtered by
// access) with tiles from base.
func buildStyle(base, name string, ls []layers.Layer) map[string]any {
	sort.SliceStable(ls, func(i, j int) bool { return orderOf(ls[i]) < orderOf(ls[j]) })
	names := make([]string, 0, len(ls))
	maxZoom := 16
	styleLayers := []map[string]any{{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#f8f6f2"}}}
	sources := map[string]any{}
	var local []layers.Layer
	for _, l := range ls {
		if l.Source == "wms" || l.Source == "wfs" {
			// A layer of another server (the cadastre agency's WMS, say,
			// or a WFS) comes as images through munigis's own WMS, which
			// proxies, caches and shows an error tile when the remote is
			// down; it lies under the vector layers.
			src := "wms-" + l.Name
			sources[src] = map[string]any{
				"type": "raster", "tileSize": 256,
				"tiles": []string{base + "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=" + url.QueryEscape(l.Name) +
					"&STYLES=&CRS=EPSG:3857&BBOX={bbox-epsg-3857}&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE"},
			}
			sl := styleLayer(src, "raster", src, l, nil, nil)
			delete(sl, "source-layer")
			styleLayers = append(styleLayers, sl)
			continue
		}
		local = append(local, l)
	}
	ls = local
	for _, l := range ls {
		names = append(names, l.Name)
		if l.MinZoom > maxZoom {
			maxZoom = l.MinZoom
		}
	}
	var labels []map[string]any
	for _, l := range ls {
		for _, sl := range layerStyles(l, styleSource) {
			if sl["type"] == "symbol" {
				labels = append(labels, sl) // labels above every geometry
			} else {
				styleLayers = append(styleLayers, sl)
			}
		}
	}
	styleLayers = append(styleLayers, labels...)
	if len(names) > 0 {
		sources[styleSource] = map[string]any{
			"type":        "vector",
			"tiles":       []string{base + "/tiles/" + strings.Join(names, ",") + "/{z}/{x}/{y}.mvt"},
			"minzoom":     0,
			"maxzoom":     maxZoom,
			"attribution": "munigis",
		}
	}
	return map[string]any{
		"version": 8,
		"name":    name,
		"metadata": map[string]any{
			"munigis:layers": names,
		},
		"sources": sources,
		"glyphs":  base + "/ui/glyphs/{fontstack}/{range}.pbf",
		"layers":  styleLayers,
	}
}

// handleStyle: GET /styles/{name}.json.
func (s *Server) handleStyle(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	v := access.FromContext(r.Context())
	all, err := s.layers.Layers(r.Context())
	if err != nil {
		return err
	}
	var ls []layers.Layer
	for _, l := range all {
		if !(l.Local() || l.Source == "wms" || l.Source == "wfs") || !v.CanRead(l) {
			continue
		}
		if name == defaultStyle || name == l.Name {
			ls = append(ls, l)
		}
	}
	if name != defaultStyle && len(ls) == 0 {
		return munigis.Errorf(munigis.NotFound, "style %q does not exist: try /styles/%s.json or /styles/{layer}.json", name, defaultStyle)
	}
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("Vary", "Cookie, Authorization")
	writeJSON(w, http.StatusOK, buildStyle(baseURL(r), name, ls))
	return nil
}

// handleUI: GET /ui/{file}, the embedded browser assets (package ui).
// A glyph range that the embedded font does not cover answers an empty
// glyph set, which MapLibre accepts, rather than an error per label.
func (s *Server) handleUI() http.Handler {
	files := http.StripPrefix("/ui/", http.FileServerFS(ui.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/ui/")
		if strings.HasSuffix(r.URL.Path, "/") || p == "/ui" || p == "glyphs" {
			http.NotFound(w, r) // no directory listings
			return
		}
		if strings.HasPrefix(p, "glyphs/") && strings.HasSuffix(p, ".pbf") {
			if _, err := fs.Stat(ui.FS, p); err != nil {
				w.Header().Set("Content-Type", "application/x-protobuf")
				w.Header().Set("Cache-Control", "public, max-age=86400")
				return
			}
			w.Header().Set("Content-Type", "application/x-protobuf")
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

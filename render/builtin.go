package render

import (
	"embed"
	"fmt"
	"hash/fnv"
	"image/color"
	"math"
	"strings"
	"sync"

	"munigis/layers"
)

// The built-in styles follow the MapLibre styles of web/handle_styles.go
// (the same colours per layer type), so that the WMS map and the browser
// map look alike. Scale limits stand in for the MapLibre zooms there: zoom
// z of a 512-pixel tile is the scale denominator 559,082,264 / 2^(z+1).

// Scale denominators of the label zooms of the MapLibre styles.
const (
	scaleParcelLabels = 2500  // parcels' identifiers, as the issue asks
	scaleZoom12       = 70000 // about zoom 12
	scaleZoom15       = 10000 // about zoom 15
	scaleZoom16       = 5000  // about zoom 16
	scaleZoom17       = 2500  // about zoom 17
	defaultLabelSize  = 11.0  // pixels
	defaultOutline    = 1.0   // pixels
	genericFillAlpha  = 77    // alpha of user-defined polygon layers' fill (0.3)
	parcelFillOpacity = 0.35  // as the MapLibre style
	parcelOutline     = "#b5651d"
	parcelLabel       = "#7a3e00"
	haloColour        = "#ffffff"
)

// halo is the white halo of every built-in label.
var halo = &Fill{Color: mustColor(haloColour, 1)}

// polygonRules returns one fill+stroke rule.
func polygonRules(fill string, opacity float64, outline string, width float64) []Rule {
	return []Rule{{Fill: &Fill{Color: mustColor(fill, opacity)}, Stroke: &Stroke{Color: mustColor(outline, 1), Width: width}}}
}

// thematic returns one fill rule per value of property (pairs of value and
// colour), an else rule in elseColour, and no stroke.
func thematic(property string, prefix bool, opacity float64, elseColour string, pairs ...string) []Rule {
	var out []Rule
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Rule{Group: i / 2, Name: pairs[i], Title: pairs[i],
			Filter: &Filter{Property: property, Value: pairs[i], Prefix: prefix},
			Fill:   &Fill{Color: mustColor(pairs[i+1], opacity)}})
	}
	return append(out, Rule{Group: len(pairs) / 2, Name: "other", Title: "друго / other", Else: true,
		Fill: &Fill{Color: mustColor(elseColour, opacity)}})
}

// outline returns a stroke-only rule.
func outline(c string, width float64, group int) Rule {
	return Rule{Group: group, Name: "outline", Title: "граница / outline", Stroke: &Stroke{Color: mustColor(c, 1), Width: width}}
}

// label returns a label rule shown below maxScale.
func label(property string, size float64, c string, maxScale float64, group int) Rule {
	return Rule{Group: group, Name: "label", Title: property, MaxScale: maxScale,
		Label: &Label{Property: property, Size: size, Color: mustColor(c, 1), Halo: halo}}
}

// utilityColours colours underground networks by the usual convention.
var utilityColours = []string{"water", "#1f6fd1", "sewer", "#8b5a2b", "power", "#d7191c", "gas", "#e6c200",
	"telecom", "#1a9641", "heating", "#f28e2b"}

// builtinDefaults builds the default style of each built-in layer type.
func builtinDefaults() map[string]*Style {
	s := map[string]*Style{}
	add := func(name, title string, rules []Rule) {
		s[name] = &Style{Name: name, Title: title, Rules: numberGroups(rules)}
	}
	parcels := thematic("land_use", false, parcelFillOpacity, "#f7f4ee",
		"жилищна", "#f6e7c8", "обществено обслужване", "#f3d0d6", "производствена", "#ddd3e8",
		"озеленяване", "#d4ecc4", "нива", "#f4f0b0", "ливада", "#e2f2c0", "пасище", "#e8f0c8",
		"гора", "#c3e0b0", "улица", "#eeeeee")
	parcels = append(parcels, outline(parcelOutline, defaultOutline, 0),
		label("identifier", 10, parcelLabel, scaleParcelLabels, 0))
	add("cadastre_parcels", "Поземлени имоти по начин на трайно ползване / Land parcels by land use", parcels)
	add("cadastre_buildings", "Сгради / Buildings", polygonRules("#9e9e9e", 0.8, "#616161", 1))
	add("cadastre_units", "Самостоятелни обекти / Independent units", polygonRules("#bdbdbd", 0.3, "#424242", 1))
	add("regulation_plots", "УПИ / Regulated plots", append(polygonRules("#fff3bf", 0.25, "#e03131", 1),
		label("plot_number", defaultLabelSize, "#c92a2a", scaleZoom17, 0)))
	add("regulation_quarters", "Квартали / Quarters", append(polygonRules("#ffe8cc", 0.2, "#d9480f", 1),
		label("quarter_number", 13, "#d9480f", scaleZoom15, 0)))
	var lines []Rule
	kinds := []string{"регулационна", "#e03131", "задължителна строителна", "#1c7ed6",
		"ограничителна строителна", "#74c0fc", "улична регулация", "#862e9c"}
	for i := 0; i < len(kinds); i += 2 {
		lines = append(lines, Rule{Name: kinds[i], Title: kinds[i], Filter: &Filter{Property: "line_kind", Value: kinds[i]},
			Stroke: &Stroke{Color: mustColor(kinds[i+1], 1), Width: 1.5}})
	}
	lines = append(lines, Rule{Name: "other", Title: "друга / other", Else: true, Stroke: &Stroke{Color: mustColor("#e03131", 1), Width: 1.5}})
	add("regulation_lines", "Регулационни линии / Regulation lines", lines)
	add("general_plan_zones", "Зони на ОУП / General plan zones", append(thematic("zone_code", true, 0.35, "#e9c46a",
		"Ж", "#f4a261", "П", "#9d4edd", "О", "#52b788", "С", "#4ea8de", "Т", "#adb5bd"),
		outline("#6c584c", defaultOutline, 0), label("zone_code", 14, "#432818", scaleZoom12, 0)))
	add("development_plan", "Устройствени зони / Development zones", append(thematic("zone_code", true, 0.3, "#ffe5b4",
		"Ж", "#ffb4a2", "П", "#cdb4db", "О", "#95d5b2"),
		outline("#9c6644", defaultOutline, 0), label("zone_code", defaultLabelSize, "#6f4518", scaleZoom16, 0)))
	add("forestry_plan", "Горски отдели / Forest compartments", polygonRules("#2d6a4f", 0.35, "#1b4332", 1))
	add("grassland", "Затревени площи / Grassland", polygonRules("#95d5b2", 0.35, "#52b788", 1))
	// Case files by status (issue 7), as the MapLibre style: open ones
	// stand out, closed and withdrawn ones recede.
	add("case_files", "Преписки / Case files", append(thematic("status", false, 0.35, "#adb5bd",
		"open", "#f08c00", "closed", "#868e96"), outline("#d9480f", 1.2, 3), label("number", defaultLabelSize, "#7f2704", scaleZoom16, 4)))
	add("subsidy_areas", "Допустими площи / Eligible areas", []Rule{{Fill: &Fill{Color: mustColor("#ffd166", 0.2)},
		Stroke: &Stroke{Color: mustColor("#e09f3e", 1), Width: 1.2, Dash: []float64{6, 4}}}})
	streets := []Rule{{Name: "casing", Title: "улица / street", Stroke: &Stroke{Color: mustColor("#9a9a9a", 1), Width: 5}}}
	classes := []string{"първостепенна", "#fcd6a4", "пешеходна", "#f1f3f5"}
	for i := 0; i < len(classes); i += 2 {
		streets = append(streets, Rule{Name: classes[i], Title: classes[i], Filter: &Filter{Property: "street_class", Value: classes[i]},
			Stroke: &Stroke{Color: mustColor(classes[i+1], 1), Width: 3}})
	}
	streets = append(streets, Rule{Name: "other", Title: "друга / other", Else: true, Stroke: &Stroke{Color: mustColor("#ffffff", 1), Width: 3}},
		label("street_name", 12, "#333333", scaleZoom15, 0))
	add("street_segments", "Улици / Streets", streets)
	var nets, holes []Rule
	for i := 0; i < len(utilityColours); i += 2 {
		f := &Filter{Property: "network", Value: utilityColours[i]}
		c := mustColor(utilityColours[i+1], 1)
		nets = append(nets, Rule{Name: utilityColours[i], Title: utilityColours[i], Filter: f, Stroke: &Stroke{Color: c, Width: 1.5}})
		holes = append(holes, Rule{Name: utilityColours[i], Title: utilityColours[i], Filter: f,
			Mark: &Mark{Shape: "circle", Size: 7, Fill: &Fill{Color: c}, Stroke: &Stroke{Color: mustColor("#ffffff", 1), Width: 1}}})
	}
	nets = append(nets, Rule{Name: "other", Title: "друга / other", Else: true, Stroke: &Stroke{Color: mustColor("#666666", 1), Width: 1.5}})
	holes = append(holes, Rule{Name: "other", Title: "друга / other", Else: true,
		Mark: &Mark{Shape: "circle", Size: 7, Fill: &Fill{Color: mustColor("#666666", 1)}, Stroke: &Stroke{Color: mustColor("#ffffff", 1), Width: 1}}})
	add("utility_lines", "Проводи по мрежа / Lines by network", nets)
	add("utility_manholes", "Шахти по мрежа / Manholes by network", holes)
	return s
}

// numberGroups gives each rule of a built-in style its own legend swatch.
func numberGroups(rules []Rule) []Rule {
	for i := range rules {
		rules[i].Group = i
	}
	return rules
}

//go:embed styles/*.sld
var styleFiles embed.FS

// builtinAlternatives are the extra named styles written as SLD files in
// styles/, keyed by the layer type they are for (their NamedLayer name).
func builtinAlternatives() (map[string][]*Style, error) {
	out := map[string][]*Style{}
	entries, err := styleFiles.ReadDir("styles")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		f, err := styleFiles.Open("styles/" + e.Name())
		if err != nil {
			return nil, err
		}
		sld, err := ParseSLD(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("render: built-in style %s: %w", e.Name(), err)
		}
		for _, nl := range sld {
			out[nl.Layer] = append(out[nl.Layer], nl.Styles...)
		}
	}
	return out, nil
}

var (
	builtinOnce sync.Once
	defaults    map[string]*Style
	alternative map[string][]*Style
)

func loadBuiltins() {
	builtinOnce.Do(func() {
		defaults = builtinDefaults()
		var err error
		if alternative, err = builtinAlternatives(); err != nil {
			panic(err) // the embedded files are part of the binary; tests parse them
		}
	})
}

// styleKey is the built-in style a layer uses by default: its own, or its
// type's.
func styleKey(l layers.Layer) string {
	if l.Style != "" {
		return l.Style
	}
	return l.Type.DefaultStyle
}

// Styles returns the named styles offered for l, its default first.
func Styles(l layers.Layer) []*Style {
	loadBuiltins()
	var out []*Style
	key := styleKey(l)
	if s, ok := defaults[key]; ok {
		out = append(out, s)
	}
	// A layer may name one of its type's alternative styles as its own.
	for _, s := range alternative[l.TypeName] {
		if s.Name == key && len(out) == 0 {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = append(out, genericStyle(l))
	}
	if s, ok := defaults[l.Type.DefaultStyle]; ok && s != out[0] {
		out = append(out, s)
	}
	for _, s := range alternative[l.TypeName] {
		if s != out[0] {
			out = append(out, s)
		}
	}
	return out
}

// StyleFor returns l's style called name ("" or "default" for its
// default), and false when l has no such style.
func StyleFor(l layers.Layer, name string) (*Style, bool) {
	all := Styles(l)
	if name == "" || strings.EqualFold(name, "default") {
		return all[0], true
	}
	for _, s := range all {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return nil, false
}

// genericStyle draws a layer of a type the municipality defined: a colour
// of its own, from its name (the same hue as the MapLibre style), and the
// look of its geometry.
func genericStyle(l layers.Layer) *Style {
	h := fnv.New32a()
	h.Write([]byte(l.Name))
	c := hsl(float64(h.Sum32()%360), 0.6, 0.45)
	name := l.Name
	if name == "" {
		name = "generic"
	}
	st := &Style{Name: name, Title: l.TitleBG + " / " + l.TitleEN}
	switch geometryKind(l.Type.GeometryType) {
	case kindPolygon:
		f := c
		f.A = genericFillAlpha
		st.Rules = []Rule{{Fill: &Fill{Color: f}, Stroke: &Stroke{Color: c, Width: 1}}}
	case kindLine:
		st.Rules = []Rule{{Stroke: &Stroke{Color: c, Width: 2}}}
	default:
		st.Rules = []Rule{{Mark: &Mark{Shape: "circle", Size: 8, Fill: &Fill{Color: c}, Stroke: &Stroke{Color: mustColor("#ffffff", 1), Width: 1}}}}
	}
	return st
}

type geomKind int

const (
	kindPoint geomKind = iota
	kindLine
	kindPolygon
)

func geometryKind(g string) geomKind {
	switch strings.TrimPrefix(g, "Multi") {
	case "Polygon":
		return kindPolygon
	case "LineString":
		return kindLine
	}
	return kindPoint
}

// hsl converts a colour given as hue (degrees), saturation and lightness
// (0..1), as the MapLibre style writes it, to RGB.
func hsl(h, s, l float64) color.NRGBA {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	to := func(v float64) uint8 { return uint8(math.Round((v + m) * 255)) }
	return color.NRGBA{R: to(r), G: to(g), B: to(b), A: 255}
}

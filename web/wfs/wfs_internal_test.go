package wfs

import (
	"encoding/json"
	"reflect"
	"testing"

	orbjson "github.com/paulmach/orb/geojson"
	"github.com/twpayne/go-geom"

	"munigis/spatial"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"abc": "abc", "": "", "ул. Левски 1": "ул. Левски 1",
		`a<b>&"'`:     "a&lt;b&gt;&amp;&quot;&apos;",
		"line\nbreak": "line&#xA;break",
		"x\x01y":      "xy", // not allowed in XML 1.0
	} {
		if got := esc(in); got != want {
			t.Errorf("esc(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]format{
		"application/gml+xml; version=3.2": fmtGML32,
		"application/gml xml; version=3.2": fmtGML32, // '+' decoded as a space
		"text/xml; subtype=gml/3.1.1":      fmtGML311,
		"GML3":                             fmtGML311,
		"application/json":                 fmtJSON,
		"json":                             fmtJSON,
		"geojson":                          fmtJSON,
		"application/geo+json":             fmtJSON,
	} {
		if got, ok := parseFormat(in, v200); !ok || got != want {
			t.Errorf("parseFormat(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	if f, _ := parseFormat("", v110); f != fmtGML311 {
		t.Error("the 1.1.0 default is not GML 3.1.1")
	}
	if _, ok := parseFormat("image/png", v200); ok {
		t.Error("image/png accepted")
	}
}

// TestGeoJSONMatchesOrb compares the hand-written GeoJSON with orb's, which
// the JSON API uses.
func TestGeoJSONMatchesOrb(t *testing.T) {
	ring := []float64{0, 0, 10, 0, 10, 10, 0, 10, 0, 0}
	hole := []float64{2, 2, 3, 2, 3, 3, 2, 2}
	mp := geom.NewMultiPolygon(geom.XY)
	_ = mp.Push(geom.NewPolygonFlat(geom.XY, append(append([]float64{}, ring...), hole...), []int{10, 18}))
	_ = mp.Push(geom.NewPolygonFlat(geom.XY, []float64{20, 20, 21.5, 20, 21, 21, 20, 20}, []int{8}))
	ml := geom.NewMultiLineString(geom.XY)
	_ = ml.Push(geom.NewLineStringFlat(geom.XY, []float64{1, 2, 3, 4}))
	_ = ml.Push(geom.NewLineStringFlat(geom.XY, []float64{5, 6, 7, 8.25}))
	for _, g := range []geom.T{
		geom.NewPointFlat(geom.XY, []float64{24.7, 42.9}),
		geom.NewLineStringFlat(geom.XY, []float64{1, 2, 3, 4, 5, 6}),
		geom.NewPolygonFlat(geom.XY, ring, []int{10}),
		geom.NewMultiPointFlat(geom.XY, []float64{1, 2, 3, 4}),
		ml, mp,
	} {
		got, err := appendGeoJSON(nil, g)
		if err != nil {
			t.Fatal(err)
		}
		og, err := spatial.ToOrb(g)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := orbjson.NewGeometry(og).MarshalJSON()
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%T: invalid JSON %s", g, got)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%T:\n got %s\nwant %s", g, got, want)
		}
	}
	for _, s := range []string{"plain", `quo"te \ back`, "ред\nнов\tтаб\x01"} {
		var back string
		if err := json.Unmarshal(appendJSONString(nil, s), &back); err != nil || back != s {
			t.Errorf("appendJSONString(%q) = %s", s, appendJSONString(nil, s))
		}
	}
}

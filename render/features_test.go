package render

import (
	"image"
	"image/color"
	"testing"

	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/layers"
	"munigis/spatial"
)

func crs7801(t *testing.T) spatial.CRS {
	t.Helper()
	c, err := spatial.ParseCRS("EPSG:7801")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rgba reads a pixel un-premultiplied, as a viewer would see it composed
// over nothing.
func rgba(img *image.RGBA, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

func near(a, b color.NRGBA, tol int) bool {
	d := func(p, q uint8) bool { return int(p)-int(q) <= tol && int(q)-int(p) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

// A user-defined polygon layer over a 100 m box in 100×100 pixels (1 m a
// pixel): the square from 20 to 80 m is filled, the hole from 40 to 60 m
// and everything outside stay transparent. Shell and hole are both given
// clockwise (GML and GeoJSON from other servers promise no orientation);
// the non-zero fill would fill such a hole unless the rings are oriented.
func TestDrawFeaturesFillsPolygonsAndCutsHoles(t *testing.T) {
	l := layers.Layer{Name: "ponds", TitleBG: "Езера", TitleEN: "Ponds",
		Type: layers.Type{Name: "ponds", GeometryType: "Polygon"}}
	const x0, y0 = 500000.0, 4700000.0
	shell := []geom.Coord{{x0 + 20, y0 + 20}, {x0 + 20, y0 + 80}, {x0 + 80, y0 + 80}, {x0 + 80, y0 + 20}, {x0 + 20, y0 + 20}}
	hole := []geom.Coord{{x0 + 40, y0 + 40}, {x0 + 40, y0 + 60}, {x0 + 60, y0 + 60}, {x0 + 60, y0 + 40}, {x0 + 40, y0 + 40}}
	p := geom.NewPolygon(geom.XY).MustSetCoords([][]geom.Coord{shell, hole})
	img, err := DrawFeatures(l, crs7801(t), x0, y0, x0+100, y0+100, 100, 100, []layers.Feature{{ID: 1, Geometry: p}})
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 100 || b.Dy() != 100 {
		t.Fatalf("image %v, want 100×100", b)
	}
	st := genericStyle(l)
	fill := st.Rules[0].Fill.Color
	stroke := st.Rules[0].Stroke.Color
	// Pixel rows grow southwards: y = 30 m is row 70.
	if c := rgba(img, 30, 70); !near(c, fill, 3) {
		t.Errorf("inside the polygon %v, want the fill %v", c, fill)
	}
	if c := rgba(img, 50, 50); c.A != 0 {
		t.Errorf("inside the hole %v, want transparent", c)
	}
	if c := rgba(img, 10, 10); c.A != 0 {
		t.Errorf("outside %v, want transparent", c)
	}
	// A 1-px outline on a pixel boundary half covers the pixels beside it.
	if c := rgba(img, 20, 50); c.A < 120 || !near(color.NRGBA{c.R, c.G, c.B, 255}, stroke, 40) {
		t.Errorf("on the west edge %v, want the outline %v", c, stroke)
	}
}

// A parcel from a remote munigis, drawn with the built-in parcel style:
// coloured by its land use and, at a large scale, labelled with its
// identifier; a parcel without a land use takes the style's "other"
// colour, as a NULL does for a local layer.
func TestDrawFeaturesUsesTheTypesThematicStyle(t *testing.T) {
	l := layers.Layer{Name: "neighbour_parcels", Source: "wfs",
		Type: layers.Type{Name: "cadastre_parcels", GeometryType: "MultiPolygon", DefaultStyle: "cadastre_parcels"}}
	const x0, y0 = 500000.0, 4700000.0
	sq := func(x, y, s float64) *geom.MultiPolygon {
		return geom.NewMultiPolygon(geom.XY).MustSetCoords([][][]geom.Coord{{{
			{x0 + x, y0 + y}, {x0 + x + s, y0 + y}, {x0 + x + s, y0 + y + s}, {x0 + x, y0 + y + s}, {x0 + x, y0 + y}}}})
	}
	feats := []layers.Feature{
		{ID: 1, Geometry: sq(0, 0, 50), Properties: map[string]any{"land_use": "гора", "identifier": "73198.501.12"}},
		{ID: 2, Geometry: sq(50, 0, 50), Properties: map[string]any{"land_use": nil}},
	}
	// 100 m in 400 pixels: scale 1:893, below the 1:2500 of the labels.
	img, err := DrawFeatures(l, crs7801(t), x0, y0, x0+100, y0+100, 400, 400, feats)
	if err != nil {
		t.Fatal(err)
	}
	forest := mustColor("#c3e0b0", parcelFillOpacity)
	other := mustColor("#f7f4ee", parcelFillOpacity)
	if c := rgba(img, 20, 380); !near(c, forest, 3) {
		t.Errorf("forest parcel %v, want %v", c, forest)
	}
	if c := rgba(img, 380, 380); !near(c, other, 3) {
		t.Errorf("parcel without land use %v, want the other colour %v", c, other)
	}
	if c := rgba(img, 20, 20); c.A != 0 {
		t.Errorf("north of the parcels %v, want transparent", c)
	}
	// The label: dark brown text pixels around the first parcel's centre
	// (100, 300), none around the second's (it has no identifier).
	text := func(cx, cy int) int {
		n := 0
		for y := cy - 10; y < cy+10; y++ {
			for x := cx - 60; x < cx+60; x++ {
				if c := rgba(img, x, y); c.A > 200 && c.R < 160 && c.G < 100 {
					n++
				}
			}
		}
		return n
	}
	if n := text(100, 300); n < 30 {
		t.Errorf("%d label pixels around the forest parcel's centre, want its identifier drawn", n)
	}
	if n := text(300, 300); n != 0 {
		t.Errorf("%d label pixels on the parcel without an identifier", n)
	}
}

func TestDrawFeaturesLinesAndPoints(t *testing.T) {
	const x0, y0 = 500000.0, 4700000.0
	line := layers.Layer{Name: "paths", Type: layers.Type{Name: "paths", GeometryType: "LineString"}}
	g := geom.NewLineString(geom.XY).MustSetCoords([]geom.Coord{{x0, y0 + 50}, {x0 + 100, y0 + 50}})
	img, err := DrawFeatures(line, crs7801(t), x0, y0, x0+100, y0+100, 100, 100, []layers.Feature{{Geometry: g}})
	if err != nil {
		t.Fatal(err)
	}
	if c := rgba(img, 50, 50); c.A < 200 {
		t.Errorf("on the line %v, want its stroke", c)
	}
	if c := rgba(img, 50, 40); c.A != 0 {
		t.Errorf("10 px beside a 2-px line %v, want transparent", c)
	}
	pts := layers.Layer{Name: "wells", Type: layers.Type{Name: "wells", GeometryType: "Point"}}
	pt := geom.NewPointFlat(geom.XY, []float64{x0 + 25, y0 + 75})
	img, err = DrawFeatures(pts, crs7801(t), x0, y0, x0+100, y0+100, 100, 100, []layers.Feature{{Geometry: pt}, {Geometry: nil}})
	if err != nil {
		t.Fatal(err)
	}
	if c := rgba(img, 25, 25); c.A < 200 {
		t.Errorf("at the point %v, want its marker", c)
	}
	if c := rgba(img, 75, 75); c.A != 0 {
		t.Errorf("away from the point %v, want transparent", c)
	}
}

func TestDrawFeaturesRefusesAnEmptyBox(t *testing.T) {
	_, err := DrawFeatures(layers.Layer{Name: "x"}, crs7801(t), 1, 1, 1, 2, 10, 10, nil)
	if munigis.ErrorCode(err) != munigis.Invalid {
		t.Fatalf("error %v, want invalid", err)
	}
}

package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"

	"munigis"
	"munigis/layers"
	"munigis/spatial"
)

const redSLD = `<?xml version="1.0" encoding="UTF-8"?>
<sld:StyledLayerDescriptor version="1.0.0" xmlns:sld="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc">
 <sld:NamedLayer><sld:Name>cadastre_parcels</sld:Name>
  <sld:UserStyle><sld:Name>red</sld:Name><sld:Title>Red</sld:Title>
   <sld:FeatureTypeStyle>
    <sld:Rule><sld:Name>house</sld:Name>
     <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>land_use</ogc:PropertyName><ogc:Literal>жилищна</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
     <sld:MaxScaleDenominator>5000</sld:MaxScaleDenominator>
     <sld:PolygonSymbolizer>
      <sld:Fill><sld:CssParameter name="fill">#ff0000</sld:CssParameter><sld:CssParameter name="fill-opacity">0.5</sld:CssParameter></sld:Fill>
      <sld:Stroke><sld:CssParameter name="stroke">#0000ff</sld:CssParameter><sld:CssParameter name="stroke-width">2</sld:CssParameter><sld:CssParameter name="stroke-dasharray">4 2</sld:CssParameter></sld:Stroke>
     </sld:PolygonSymbolizer>
     <sld:TextSymbolizer><sld:Label><ogc:PropertyName>identifier</ogc:PropertyName></sld:Label>
      <sld:Font><sld:CssParameter name="font-size">12</sld:CssParameter></sld:Font></sld:TextSymbolizer>
    </sld:Rule>
    <sld:Rule><sld:Name>zones</sld:Name>
     <ogc:Filter><ogc:PropertyIsLike wildCard="*" singleChar="." escape="!"><ogc:PropertyName>zone</ogc:PropertyName><ogc:Literal>Ж*</ogc:Literal></ogc:PropertyIsLike></ogc:Filter>
     <sld:PointSymbolizer><sld:Graphic><sld:Mark><sld:WellKnownName>square</sld:WellKnownName></sld:Mark><sld:Size>9</sld:Size></sld:Graphic></sld:PointSymbolizer>
    </sld:Rule>
    <sld:Rule><sld:ElseFilter/><sld:LineSymbolizer><sld:Stroke/></sld:LineSymbolizer></sld:Rule>
   </sld:FeatureTypeStyle>
  </sld:UserStyle>
 </sld:NamedLayer>
</sld:StyledLayerDescriptor>`

func TestParseSLD(t *testing.T) {
	nls, err := ParseSLD(strings.NewReader(redSLD))
	if err != nil {
		t.Fatal(err)
	}
	if len(nls) != 1 || nls[0].Layer != "cadastre_parcels" || len(nls[0].Styles) != 1 {
		t.Fatalf("%+v", nls)
	}
	st := nls[0].Styles[0]
	if st.Name != "red" || len(st.Rules) != 4 {
		t.Fatalf("style %q with %d rules", st.Name, len(st.Rules))
	}
	poly, text, mark, els := st.Rules[0], st.Rules[1], st.Rules[2], st.Rules[3]
	if poly.Group != text.Group || poly.Group == mark.Group {
		t.Errorf("groups %d %d %d", poly.Group, text.Group, mark.Group)
	}
	if poly.Fill.Color != (color.NRGBA{255, 0, 0, 128}) || poly.Stroke.Width != 2 || len(poly.Stroke.Dash) != 2 || poly.MaxScale != 5000 {
		t.Errorf("polygon rule %+v %+v %+v", poly, poly.Fill, poly.Stroke)
	}
	if poly.Filter.Property != "land_use" || !poly.Filter.match("жилищна") || poly.Filter.match("нива") {
		t.Errorf("filter %+v", poly.Filter)
	}
	if text.Label.Property != "identifier" || text.Label.Size != 12 {
		t.Errorf("label %+v", text.Label)
	}
	if !mark.Filter.Prefix || !mark.Filter.match("Жм") || mark.Filter.match("Пп") || mark.Mark.Shape != "square" || mark.Mark.Size != 9 {
		t.Errorf("mark rule %+v %+v", mark.Filter, mark.Mark)
	}
	if !els.Else || els.Stroke == nil {
		t.Errorf("else rule %+v", els)
	}
	if !poly.active(4999) || poly.active(5000) {
		t.Error("MaxScaleDenominator is exclusive")
	}
	if got := st.Properties(); strings.Join(got, ",") != "land_use,identifier,zone" {
		t.Errorf("properties %v", got)
	}
}

func TestParseSLDRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"doctype":      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><StyledLayerDescriptor/>`,
		"not xml":      `<StyledLayerDescriptor><NamedLayer>`,
		"too deep":     "<StyledLayerDescriptor>" + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + "</StyledLayerDescriptor>",
		"too big":      "<StyledLayerDescriptor>" + strings.Repeat(" ", MaxSLDBytes) + "</StyledLayerDescriptor>",
		"no layer":     `<StyledLayerDescriptor/>`,
		"user layer":   `<StyledLayerDescriptor><UserLayer/></StyledLayerDescriptor>`,
		"bad colour":   strings.Replace(redSLD, "#ff0000", "red", 1),
		"bad opacity":  strings.Replace(redSLD, ">0.5<", ">5<", 1),
		"bad mark":     strings.Replace(redSLD, ">square<", ">star<", 1),
		"other filter": strings.Replace(strings.Replace(redSLD, "PropertyIsEqualTo>", "PropertyIsGreaterThan>", 2), "", "", 1),
		"no symbolizer": `<StyledLayerDescriptor><NamedLayer><Name>x</Name><UserStyle><FeatureTypeStyle><Rule><Name>r</Name></Rule>
			</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>`,
	} {
		_, err := ParseSLD(strings.NewReader(doc))
		if munigis.ErrorCode(err) != munigis.Invalid {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	_, err := ParseSLD(strings.NewReader(`<!DOCTYPE x><StyledLayerDescriptor/>`))
	if err == nil || !strings.Contains(err.Error(), "DOCTYPE") {
		t.Errorf("DOCTYPE error %v does not say so", err)
	}
}

func parcels() layers.Layer {
	return layers.Layer{Name: "cadastre_parcels", TypeName: "cadastre_parcels", TitleBG: "Имоти", TitleEN: "Parcels", Source: "local",
		Type: layers.Type{Name: "cadastre_parcels", GeometryType: "MultiPolygon", DefaultStyle: "cadastre_parcels",
			Attributes: []layers.Attribute{{Name: "identifier"}, {Name: "land_use"}, {Name: "ownership"}, {Name: "secret", Internal: true}}}}
}

func TestBuiltinStyles(t *testing.T) {
	l := parcels()
	all := Styles(l)
	if len(all) < 2 || all[0].Name != "cadastre_parcels" || all[1].Name != "cadastre_parcels_ownership" {
		t.Fatalf("styles %v", all)
	}
	if st, ok := StyleFor(l, "CADASTRE_PARCELS_OWNERSHIP"); !ok || st != all[1] {
		t.Error("style names are matched ignoring case")
	}
	l2 := l
	l2.Style = "cadastre_parcels_ownership"
	if got := Styles(l2); got[0].Name != "cadastre_parcels_ownership" || len(got) != 2 || got[1].Name != "cadastre_parcels" {
		t.Errorf("a layer styled by ownership: %v", got)
	}
	if _, ok := StyleFor(l, "nope"); ok {
		t.Error("an unknown style was found")
	}
	// Every built-in style reads only properties of its layer type.
	types := map[string][]string{
		"cadastre_parcels": {"identifier", "land_use", "ownership"}, "regulation_plots": {"plot_number"},
		"regulation_quarters": {"quarter_number"}, "regulation_lines": {"line_kind"}, "general_plan_zones": {"zone_code"},
		"development_plan": {"zone_code"}, "street_segments": {"street_class", "street_name"}, "utility_lines": {"network"},
		"utility_manholes": {"network"}, "case_files": {"status", "number"},
	}
	loadBuiltins()
	for name, st := range defaults {
		for _, p := range st.Properties() {
			found := false
			for _, q := range types[name] {
				found = found || p == q
			}
			if !found {
				t.Errorf("style %s reads %s", name, p)
			}
		}
	}
	// A user-defined type gets a generic style of its geometry.
	own := layers.Layer{Name: "trees", Source: "local", Type: layers.Type{Name: "trees", GeometryType: "Point"}}
	if st := Styles(own)[0]; st.Rules[0].Mark == nil {
		t.Errorf("point layer style %+v", st.Rules[0])
	}
	// Check refuses a hidden property.
	sld, _ := ParseSLD(strings.NewReader(strings.Replace(redSLD, "<ogc:PropertyName>identifier", "<ogc:PropertyName>secret", 1)))
	vis := []layers.Attribute{{Name: "identifier"}, {Name: "land_use"}, {Name: "zone"}}
	if err := sld[0].Styles[0].Check(l, vis); munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(err.Error(), "secret") {
		t.Errorf("Check: %v", err)
	}
	if err := all[0].Check(l, vis); err != nil {
		t.Error(err)
	}
}

func TestFillHoleAndStroke(t *testing.T) {
	cv := newCanvas(40, 40)
	var p path
	p.reset()
	// An outer ring one way and a hole the other: the hole stays empty.
	cv.addRing(&p, []float32{5, 5, 35, 5, 35, 35, 5, 35})
	cv.addRing(&p, []float32{15, 15, 15, 25, 25, 25, 25, 15})
	cv.fillPath(&p, color.NRGBA{255, 0, 0, 255})
	if c := cv.img.RGBAAt(10, 10); c != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("inside %v", c)
	}
	if c := cv.img.RGBAAt(20, 20); c.A != 0 {
		t.Errorf("hole %v", c)
	}
	if c := cv.img.RGBAAt(2, 2); c.A != 0 {
		t.Errorf("outside %v", c)
	}
	// A polygon reaching far outside the image is clipped, not walked.
	p.reset()
	cv.addRing(&p, []float32{-1e7, -1e7, 1e7, -1e7, 1e7, 1e7, -1e7, 1e7})
	cv.fillPath(&p, color.NRGBA{0, 0, 255, 128})
	if c := cv.img.RGBAAt(20, 20); c.B < 120 || c.B > 130 || c.A < 126 || c.A > 130 {
		t.Errorf("half-transparent blue over nothing: %v", c)
	}
	// A 3-pixel stroke along y = 10.5 covers rows 9..11 and not 13.
	cv = newCanvas(40, 40)
	p.reset()
	cv.addStroke(&p, []float32{2, 10.5, 38, 10.5}, false, &Stroke{Width: 3})
	cv.fillPath(&p, color.NRGBA{0, 0, 0, 255})
	if cv.img.RGBAAt(20, 10).A != 255 || cv.img.RGBAAt(20, 9).A != 255 || cv.img.RGBAAt(20, 13).A != 0 {
		t.Errorf("stroke coverage %v %v %v", cv.img.RGBAAt(20, 10), cv.img.RGBAAt(20, 9), cv.img.RGBAAt(20, 13))
	}
	// Dashes of 4 on, 4 off.
	cv = newCanvas(40, 40)
	p.reset()
	cv.addStroke(&p, []float32{0, 20.5, 40, 20.5}, false, &Stroke{Width: 1, Dash: []float64{4, 4}})
	cv.fillPath(&p, color.NRGBA{0, 0, 0, 255})
	if cv.img.RGBAAt(2, 20).A == 0 || cv.img.RGBAAt(6, 20).A != 0 || cv.img.RGBAAt(10, 20).A == 0 {
		t.Errorf("dashes %v %v %v", cv.img.RGBAAt(2, 20), cv.img.RGBAAt(6, 20), cv.img.RGBAAt(10, 20))
	}
}

func TestEncode(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 50, 30))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+3] = uint8(i%200), 255
	}
	img.SetRGBA(1, 1, color.RGBA{50, 0, 0, 100}) // premultiplied, translucent
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Encode(&b, img, f, color.RGBA{255, 255, 255, 255}); err != nil {
			t.Fatal(err)
		}
		got, _, err := image.Decode(&b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got.Bounds() != img.Bounds() {
			t.Errorf("%s: bounds %v", f, got.Bounds())
		}
		if f == PNG {
			// Exact: straight alpha in the file, premultiplied once decoded.
			for _, pt := range []image.Point{{0, 0}, {7, 3}, {1, 1}, {49, 29}} {
				want := color.RGBA64Model.Convert(img.At(pt.X, pt.Y))
				if c := color.RGBA64Model.Convert(got.At(pt.X, pt.Y)); math.Abs(float64(c.(color.RGBA64).R)-float64(want.(color.RGBA64).R)) > 300 || c.(color.RGBA64).A != want.(color.RGBA64).A {
					t.Errorf("PNG pixel %v: %v, want %v", pt, c, want)
				}
			}
		}
		if f == PNG8 {
			if _, ok := got.(*image.Paletted); !ok {
				t.Errorf("PNG8 decodes as %T", got)
			}
		}
	}
	// An opaque image is written as RGB, without an alpha channel.
	var b bytes.Buffer
	opaque := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range opaque.Pix {
		opaque.Pix[i] = 255
	}
	encodePNG(&b, opaque)
	cfg, _ := png.DecodeConfig(bytes.NewReader(b.Bytes()))
	if cfg.ColorModel != color.RGBAModel {
		t.Errorf("opaque PNG colour model %T", cfg.ColorModel)
	}
}

func TestLegendAndScale(t *testing.T) {
	l := parcels()
	st, _ := StyleFor(l, "cadastre_parcels_ownership")
	img := Legend(l, st, 20, 20)
	if img.Bounds().Dy() < 10*20 || img.Bounds().Dx() < 80 {
		t.Errorf("legend %v", img.Bounds())
	}
	msg := MessageImage(200, 60, "LayerNotDefined: слой x няма", color.NRGBA{255, 255, 255, 255})
	dark := 0
	for i := 0; i < len(msg.Pix); i += 4 {
		if msg.Pix[i] < 128 {
			dark++
		}
	}
	if dark < 50 {
		t.Errorf("message image has %d dark pixels", dark)
	}
	crs, _ := spatial.ParseCRS("EPSG:3857")
	// 256 pixels over one web-mercator zoom-16 tile (about 611 m) is
	// about 1:8,530.
	if s := ScaleDenominator(crs, 0, 0, 611.5, 611.5, 256); math.Abs(s-8530) > 10 {
		t.Errorf("scale %v", s)
	}
	l.MinZoom = 12
	if !Visible(l, 50000) || Visible(l, 200000) {
		t.Error("min_zoom 12 should show 1:50,000 and hide 1:200,000")
	}
}

package wms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"munigis"
	"munigis/access"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/registers"
	"munigis/registers/persons"
	"munigis/render"
	"munigis/spatial"
	"munigis/web/wms"
)

// fixture is a WMS over a small demo town, with a parcel to look at.
type fixture struct {
	svc   *wms.Service
	db    *pgtest.DB
	store *layers.Store
	rd    *render.Renderer
	// A parcel: its identifier and a box of 60 m around a point inside it,
	// in EPSG:4326 (x = longitude).
	ident          string
	lon, lat       float64
	minLon, minLat float64
	maxLon, maxLat float64
	remoteCalled   int
	remoteDown     bool
}

var admin = access.Viewer{SystemID: "u1", Username: "admin", Role: access.Admin}

// blueRemote stands in for web/remote: a solid blue image; with *down set
// it answers as web/remote does for a dead server: its error tile (here the
// same blue) and an error.
type blueRemote struct {
	calls *int
	down  *bool
}

func (b blueRemote) Map(ctx context.Context, l layers.Layer, crs spatial.CRS, minx, miny, maxx, maxy float64, w, h int) (image.Image, error) {
	*b.calls++
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i+2], img.Pix[i+3] = 255, 255
	}
	if b.down != nil && *b.down {
		return img, errors.New("remote down")
	}
	return img, nil
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 300}, io.Discard); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: layers.NewStore(db.Pool), db: db}
	// External layers (of another WMS and of another WFS), entered
	// directly, as they were before CreateLayer took them.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO layers (name, layer_type, title_bg, title_en, visibility, source, source_url, source_layer)
		VALUES ('ortho', 'grassland', 'Ортофото', 'Orthophoto', 'public', 'wms', 'http://example.invalid/wms', 'ortho'),
		       ('agency_wfs', 'cadastre_parcels', 'Кадастър (WFS)', 'Cadastre (WFS)', 'public', 'wfs', 'http://example.invalid/wfs', 'cp:CadastralParcel')`); err != nil {
		t.Fatal(err)
	}
	f.rd = render.New(db.Pool, f.store, render.Config{})
	f.svc = wms.New(wms.Deps{Layers: f.store, Renderer: f.rd, Remote: blueRemote{&f.remoteCalled, &f.remoteDown},
		Related: registers.NewStore(db.Pool)})
	// A big parcel, so that a 60 m box around its inner point is mostly it.
	err := db.Pool.QueryRow(ctx, `SELECT identifier, ST_X(p), ST_Y(p) FROM (
			SELECT identifier, ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM features.cadastre_parcels
			ORDER BY ST_Area(geom) DESC LIMIT 1) x`).Scan(&f.ident, &f.lon, &f.lat)
	if err != nil {
		t.Fatal(err)
	}
	dLat := 30.0 / 111320
	dLon := dLat * 1.37 // ~1/cos(43°)
	f.minLon, f.minLat, f.maxLon, f.maxLat = f.lon-dLon, f.lat-dLat, f.lon+dLon, f.lat+dLat
	return f
}

// get runs a WMS request with the given parameters as viewer v.
func (f *fixture) get(t *testing.T, v access.Viewer, params string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/wms?"+params, nil)
	r = r.WithContext(access.WithViewer(r.Context(), v))
	w := httptest.NewRecorder()
	f.svc.ServeHTTP(w, r)
	return w
}

func (f *fixture) bbox130() string {
	return fmt.Sprintf("%f,%f,%f,%f", f.minLat, f.minLon, f.maxLat, f.maxLon)
}

func (f *fixture) bbox111() string {
	return fmt.Sprintf("%f,%f,%f,%f", f.minLon, f.minLat, f.maxLon, f.maxLat)
}

func decodeImage(t *testing.T, w *httptest.ResponseRecorder) image.Image {
	t.Helper()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "image/") {
		t.Fatalf("want an image, got %d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	img, _, err := image.Decode(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img
}

// painted counts the pixels that differ from the white background.
func painted(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				n++
			}
		}
	}
	return n
}

// exception asserts an XML ServiceExceptionReport with code.
func exception(t *testing.T, w *httptest.ResponseRecorder, code string) string {
	t.Helper()
	var rep struct {
		Version    string `xml:"version,attr"`
		Exceptions []struct {
			Code    string `xml:"code,attr"`
			Locator string `xml:"locator,attr"`
			Text    string `xml:",chardata"`
		} `xml:"ServiceException"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &rep); err != nil || len(rep.Exceptions) != 1 {
		t.Fatalf("want a ServiceExceptionReport (%v), got %d %s", err, w.Code, w.Body.String())
	}
	if got := rep.Exceptions[0].Code; got != code {
		t.Fatalf("code %q, want %q: %s", got, code, rep.Exceptions[0].Text)
	}
	if w.Code < 400 {
		t.Errorf("status %d for exception %s", w.Code, code)
	}
	return strings.TrimSpace(rep.Exceptions[0].Text)
}

func TestWMS(t *testing.T) {
	f := newFixture(t)

	t.Run("capabilities 1.3.0 list readable layers with northing-first boxes", func(t *testing.T) {
		w := f.get(t, admin, "SERVICE=WMS&REQUEST=GetCapabilities")
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
			t.Fatalf("content type %q: %s", ct, w.Body.String())
		}
		caps := parseCaps(t, w.Body.Bytes())
		if caps.Version != "1.3.0" || caps.UpdateSequence == "" {
			t.Errorf("version %q updateSequence %q", caps.Version, caps.UpdateSequence)
		}
		names := caps.names()
		for _, want := range []string{"cadastre_parcels", "utility_lines", "cadastre_units", "ortho"} {
			if !names[want] {
				t.Errorf("admin capabilities lack %s", want)
			}
		}
		if len(caps.Root.CRS) != 7 {
			t.Errorf("root CRS list %v", caps.Root.CRS)
		}
		p := caps.layer("cadastre_parcels")
		if p.Queryable != "1" || len(p.Styles) < 2 || p.Styles[0].Legend.Resource.Href == "" {
			t.Errorf("parcels: queryable %q styles %+v", p.Queryable, p.Styles)
		}
		bb := p.box("EPSG:4326")
		// Troyan is at about 42.9° N, 24.7° E: in 1.3.0 EPSG:4326 boxes
		// give latitude first.
		if bb[0] < 40 || bb[0] > 45 || bb[1] < 22 || bb[1] > 27 {
			t.Errorf("EPSG:4326 box %v is not lat,lon", bb)
		}
		if crs84 := p.box("CRS:84"); crs84[0] < 22 || crs84[0] > 27 {
			t.Errorf("CRS:84 box %v is not lon,lat", crs84)
		}
		if p.Geo.West < 22 || p.Geo.West > 27 || p.Geo.South < 40 {
			t.Errorf("EX_GeographicBoundingBox %+v", p.Geo)
		}
		if o := caps.layer("ortho"); o.Queryable != "0" {
			t.Errorf("external layer queryable %q", o.Queryable)
		}
	})

	t.Run("capabilities 1.1.1 lon,lat and the public sees public layers only", func(t *testing.T) {
		w := f.get(t, access.Anonymous, "service=wms&request=GetCapabilities&version=1.1.1")
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.ogc.wms_xml") {
			t.Fatalf("content type %q", ct)
		}
		caps := parseCaps(t, w.Body.Bytes())
		if caps.Version != "1.1.1" {
			t.Fatalf("version %q", caps.Version)
		}
		names := caps.names()
		for _, hidden := range []string{"utility_lines", "utility_manholes", "cadastre_units"} {
			if names[hidden] {
				t.Errorf("the public sees %s", hidden)
			}
		}
		if !names["cadastre_parcels"] {
			t.Error("the public misses cadastre_parcels")
		}
		bb := caps.layer("cadastre_parcels").box("EPSG:4326")
		if bb[0] < 22 || bb[0] > 27 {
			t.Errorf("1.1.1 EPSG:4326 box %v is not lon,lat", bb)
		}
		// Version negotiation: 1.2.0 gets 1.1.1, 2.0.0 gets 1.3.0.
		if c := parseCaps(t, f.get(t, admin, "REQUEST=GetCapabilities&VERSION=1.2.0").Body.Bytes()); c.Version != "1.1.1" {
			t.Errorf("1.2.0 negotiated to %s", c.Version)
		}
		if c := parseCaps(t, f.get(t, admin, "REQUEST=GetCapabilities&VERSION=2.0.0").Body.Bytes()); c.Version != "1.3.0" {
			t.Errorf("2.0.0 negotiated to %s", c.Version)
		}
	})

	t.Run("axis order: 1.3.0 lat,lon and 1.1.1 lon,lat draw the parcel, swapped orders draw nothing", func(t *testing.T) {
		base := "SERVICE=WMS&REQUEST=GetMap&LAYERS=cadastre_parcels&STYLES=&FORMAT=image/png&WIDTH=128&HEIGHT=128"
		cases := []struct {
			name, params string
			drawn        bool
		}{
			{"1.3.0 EPSG:4326 lat,lon", "&VERSION=1.3.0&CRS=EPSG:4326&BBOX=" + f.bbox130(), true},
			{"1.3.0 EPSG:4326 lon,lat", "&VERSION=1.3.0&CRS=EPSG:4326&BBOX=" + f.bbox111(), false},
			{"1.3.0 CRS:84 lon,lat", "&VERSION=1.3.0&CRS=CRS:84&BBOX=" + f.bbox111(), true},
			{"1.1.1 EPSG:4326 lon,lat", "&VERSION=1.1.1&SRS=EPSG:4326&BBOX=" + f.bbox111(), true},
			{"1.1.1 EPSG:4326 lat,lon", "&VERSION=1.1.1&SRS=EPSG:4326&BBOX=" + f.bbox130(), false},
		}
		for _, c := range cases {
			img := decodeImage(t, f.get(t, access.Anonymous, base+c.params))
			n := painted(img)
			if c.drawn && n < 128*128/2 {
				t.Errorf("%s: only %d painted pixels, want most of the image", c.name, n)
			}
			if !c.drawn && n != 0 {
				t.Errorf("%s: %d painted pixels, want a blank map", c.name, n)
			}
		}
	})

	t.Run("projected CRSs draw the same parcel", func(t *testing.T) {
		for _, c := range []struct{ crs, version string }{{"EPSG:7801", "1.3.0"}, {"EPSG:7801", "1.1.1"}, {"EPSG:3857", "1.3.0"}, {"EPSG:32635", "1.3.0"}, {"EPSG:7800", "1.3.0"}} {
			var x0, y0, x1, y1 float64
			srid := strings.TrimPrefix(c.crs, "EPSG:")
			if err := f.store.Pool().QueryRow(context.Background(), `SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
				FROM (SELECT ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 4326), `+srid+`)::box2d AS b) x`,
				f.minLon, f.minLat, f.maxLon, f.maxLat).Scan(&x0, &y0, &x1, &y1); err != nil {
				t.Fatal(err)
			}
			bbox := fmt.Sprintf("%f,%f,%f,%f", x0, y0, x1, y1)
			crsParam := "CRS"
			if c.version == "1.1.1" {
				crsParam = "SRS"
			} else if c.crs != "EPSG:3857" && c.crs != "EPSG:32635" {
				bbox = fmt.Sprintf("%f,%f,%f,%f", y0, x0, y1, x1) // northing first
			}
			img := decodeImage(t, f.get(t, admin, "REQUEST=GetMap&VERSION="+c.version+"&LAYERS=cadastre_parcels&STYLES=&FORMAT=image/png&WIDTH=64&HEIGHT=64&"+crsParam+"="+c.crs+"&BBOX="+bbox))
			if n := painted(img); n < 64*64/2 {
				t.Errorf("%s %s: %d painted pixels", c.version, c.crs, n)
			}
		}
	})

	t.Run("formats, size, transparency and background", func(t *testing.T) {
		base := "VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre_parcels,cadastre_buildings,street_segments&STYLES=&CRS=EPSG:4326&BBOX=" + f.bbox130() + "&WIDTH=200&HEIGHT=150"
		// Raw semicolons and spaces, as people type PNG8's name, work too.
		for _, fm := range []string{"image/png", "image/png; mode=8bit", "image/png;mode=8bit", "image/jpeg"} {
			w := f.get(t, access.Anonymous, base+"&FORMAT="+strings.ReplaceAll(fm, " ", "%20"))
			img := decodeImage(t, w)
			if img.Bounds().Dx() != 200 || img.Bounds().Dy() != 150 {
				t.Errorf("%s: size %v", fm, img.Bounds())
			}
			switch fm {
			case "image/png":
				if _, ok := img.(*image.RGBA); !ok {
					if _, ok := img.(*image.NRGBA); !ok {
						t.Errorf("png is %T, want 32-bit RGBA", img)
					}
				}
			case "image/png; mode=8bit", "image/png;mode=8bit":
				if _, ok := img.(*image.Paletted); !ok {
					t.Errorf("png8 is %T, want paletted", img)
				}
			case "image/jpeg":
				if w.Header().Get("Content-Type") != "image/jpeg" {
					t.Errorf("jpeg content type %q", w.Header().Get("Content-Type"))
				}
				if _, err := jpeg.Decode(bytes.NewReader(w.Body.Bytes())); err != nil {
					t.Error(err)
				}
			}
			if painted(img) == 0 {
				t.Errorf("%s: blank", fm)
			}
		}
		// Far from the town: nothing to draw.
		empty := "VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre_parcels&STYLES=&CRS=EPSG:4326&BBOX=41.0,23.0,41.001,23.001&WIDTH=32&HEIGHT=32&FORMAT=image/png"
		img := decodeImage(t, f.get(t, access.Anonymous, empty+"&TRANSPARENT=TRUE"))
		for y := 0; y < 32; y++ {
			for x := 0; x < 32; x++ {
				if _, _, _, a := img.At(x, y).RGBA(); a != 0 {
					t.Fatalf("transparent map has alpha %d at %d,%d", a, x, y)
				}
			}
		}
		img = decodeImage(t, f.get(t, access.Anonymous, empty+"&BGCOLOR=0x336699"))
		if r, g, b, a := img.At(5, 5).RGBA(); r>>8 != 0x33 || g>>8 != 0x66 || b>>8 != 0x99 || a>>8 != 255 {
			t.Errorf("BGCOLOR gives %x %x %x %x", r>>8, g>>8, b>>8, a>>8)
		}
	})

	t.Run("SLD_BODY restyles and DOCTYPE is refused", func(t *testing.T) {
		sld := `<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc">
			<NamedLayer><Name>cadastre_parcels</Name><UserStyle><Name>red</Name><FeatureTypeStyle><Rule>
			<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>identifier</ogc:PropertyName><ogc:Literal>` + f.ident + `</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
			<PolygonSymbolizer><Fill><CssParameter name="fill">#ff0000</CssParameter></Fill></PolygonSymbolizer></Rule>
			<Rule><ElseFilter/><PolygonSymbolizer><Fill><CssParameter name="fill">#00ff00</CssParameter></Fill></PolygonSymbolizer></Rule>
			</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>`
		q := "VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre_parcels&STYLES=&CRS=EPSG:4326&BBOX=" + f.bbox130() + "&WIDTH=64&HEIGHT=64&FORMAT=image/png&SLD_BODY=" + url.QueryEscape(sld)
		img := decodeImage(t, f.get(t, access.Anonymous, q))
		if c := color.RGBAModel.Convert(img.At(32, 32)).(color.RGBA); c.R != 255 || c.G != 0 || c.B != 0 {
			t.Errorf("centre pixel %v, want the SLD's red", c)
		}
		// The same SLD posted as a form.
		form := url.Values{"VERSION": {"1.3.0"}, "REQUEST": {"GetMap"}, "LAYERS": {"cadastre_parcels"}, "STYLES": {""}, "CRS": {"EPSG:4326"},
			"BBOX": {f.bbox130()}, "WIDTH": {"64"}, "HEIGHT": {"64"}, "FORMAT": {"image/png"}, "SLD_BODY": {sld}}
		r := httptest.NewRequest(http.MethodPost, "/wms", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		f.svc.ServeHTTP(w, r)
		if c := color.RGBAModel.Convert(decodeImage(t, w).At(32, 32)).(color.RGBA); c.R != 255 || c.G != 0 {
			t.Errorf("POST: centre pixel %v", c)
		}
		bad := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>` + sld
		msg := exception(t, f.get(t, access.Anonymous, strings.Replace(q, "SLD_BODY=", "SLD_BODY="+url.QueryEscape(bad)+"&x=", 1)), "InvalidParameterValue")
		if !strings.Contains(msg, "DOCTYPE") {
			t.Errorf("message %q does not name the DOCTYPE", msg)
		}
		// The built-in alternative style by name draws otherwise than the
		// default.
		named := "VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre_parcels&CRS=EPSG:4326&BBOX=" + f.bbox130() + "&WIDTH=64&HEIGHT=64&FORMAT=image/png&STYLES="
		def := decodeImage(t, f.get(t, access.Anonymous, named))
		own := decodeImage(t, f.get(t, access.Anonymous, named+"cadastre_parcels_ownership"))
		if painted(own) == 0 || def.At(32, 32) == own.At(32, 32) {
			t.Errorf("ownership style: centre %v, default %v", own.At(32, 32), def.At(32, 32))
		}
	})

	t.Run("labels at large scales", func(t *testing.T) {
		// 60 m over 256 px is about 1:840: parcels' identifiers are drawn
		// in their brown; with the style's labels cut by an SLD they are not.
		q := "VERSION=1.1.1&REQUEST=GetMap&LAYERS=cadastre_parcels&SRS=EPSG:4326&BBOX=" + f.bbox111() + "&WIDTH=256&HEIGHT=256&FORMAT=image/png&STYLES="
		brown := func(img image.Image) int {
			n := 0
			for y := 0; y < 256; y++ {
				for x := 0; x < 256; x++ {
					c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
					if c.R < 0xa0 && c.R > 0x50 && c.G < 0x60 && c.B < 0x30 {
						n++
					}
				}
			}
			return n
		}
		if n := brown(decodeImage(t, f.get(t, access.Anonymous, q))); n < 20 {
			t.Errorf("%d label pixels at 1:840", n)
		}
	})

	t.Run("GetFeatureInfo returns the parcel's identifier in every format", func(t *testing.T) {
		for _, v := range []struct{ version, crs, bbox, ij string }{
			{"1.3.0", "CRS=EPSG:4326", f.bbox130(), "I=50&J=50"},
			{"1.1.1", "SRS=EPSG:4326", f.bbox111(), "X=50&Y=50"},
		} {
			base := "REQUEST=GetFeatureInfo&VERSION=" + v.version + "&LAYERS=cadastre_parcels&QUERY_LAYERS=cadastre_parcels&STYLES=&" + v.crs +
				"&BBOX=" + v.bbox + "&WIDTH=101&HEIGHT=101&" + v.ij
			for _, fm := range []string{"text/html", "application/json", "application/vnd.ogc.gml", "text/plain"} {
				w := f.get(t, access.Anonymous, base+"&INFO_FORMAT="+url.QueryEscape(fm))
				if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), fm) {
					t.Fatalf("%s %s: %d %s %s", v.version, fm, w.Code, w.Header().Get("Content-Type"), w.Body.String())
				}
				body := w.Body.String()
				if !strings.Contains(body, f.ident) {
					t.Errorf("%s %s lacks %s: %s", v.version, fm, f.ident, body)
				}
				switch fm {
				case "application/json":
					var fc struct {
						Features []struct {
							Properties map[string]any `json:"properties"`
							Geometry   map[string]any `json:"geometry"`
						} `json:"features"`
					}
					if err := json.Unmarshal(w.Body.Bytes(), &fc); err != nil || len(fc.Features) != 1 || fc.Features[0].Properties["identifier"] != f.ident || fc.Features[0].Geometry == nil {
						t.Errorf("GeoJSON %v: %s", err, body)
					}
				case "application/vnd.ogc.gml":
					if err := xml.Unmarshal(w.Body.Bytes(), new(struct{})); err != nil {
						t.Errorf("GML is not XML: %v", err)
					}
				case "text/html":
					if !strings.Contains(body, "Идентификатор (Identifier)") {
						t.Errorf("HTML lacks the Bulgarian field title first: %s", body)
					}
				}
			}
		}
	})

	t.Run("legend", func(t *testing.T) {
		w := f.get(t, access.Anonymous, "SERVICE=WMS&REQUEST=GetLegendGraphic&VERSION=1.3.0&FORMAT=image/png&LAYER=cadastre_parcels&STYLE=cadastre_parcels_ownership")
		img := decodeImage(t, w)
		// 8 fills, the outline and the label: 10 rows of at least 20 px.
		if img.Bounds().Dy() < 10*20 || img.Bounds().Dx() < 60 || painted(img) < 500 {
			t.Errorf("legend %v with %d painted pixels", img.Bounds(), painted(img))
		}
		if _, err := png.Decode(bytes.NewReader(w.Body.Bytes())); err != nil {
			t.Error(err)
		}
	})

	t.Run("external layers are drawn from Remote and are not queryable", func(t *testing.T) {
		img := decodeImage(t, f.get(t, access.Anonymous, "VERSION=1.3.0&REQUEST=GetMap&LAYERS=ortho&STYLES=&CRS=EPSG:4326&BBOX="+f.bbox130()+"&WIDTH=16&HEIGHT=16&FORMAT=image/png"))
		if c := color.RGBAModel.Convert(img.At(8, 8)).(color.RGBA); c.B != 255 || c.R != 0 || f.remoteCalled == 0 {
			t.Errorf("remote pixel %v after %d calls", c, f.remoteCalled)
		}
		exception(t, f.get(t, access.Anonymous, "VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=ortho&QUERY_LAYERS=ortho&STYLES=&CRS=EPSG:4326&BBOX="+f.bbox130()+"&WIDTH=16&HEIGHT=16&I=1&J=1&INFO_FORMAT=text/plain"), "LayerNotQueryable")
		// A layer of another WFS is drawn by the same remote client.
		calls := f.remoteCalled
		img = decodeImage(t, f.get(t, access.Anonymous, "VERSION=1.3.0&REQUEST=GetMap&LAYERS=agency_wfs&STYLES=&CRS=EPSG:4326&BBOX="+f.bbox130()+"&WIDTH=16&HEIGHT=16&FORMAT=image/png"))
		if c := color.RGBAModel.Convert(img.At(8, 8)).(color.RGBA); c.B != 255 || f.remoteCalled != calls+1 {
			t.Errorf("WFS-source layer: pixel %v, remote calls %d → %d", c, calls, f.remoteCalled)
		}
		// A dead remote: its error tile is drawn in the layer's place.
		f.remoteDown = true
		defer func() { f.remoteDown = false }()
		img = decodeImage(t, f.get(t, access.Anonymous, "VERSION=1.3.0&REQUEST=GetMap&LAYERS=ortho&STYLES=&CRS=EPSG:4326&BBOX="+f.bbox130()+"&WIDTH=16&HEIGHT=16&FORMAT=image/png"))
		if c := color.RGBAModel.Convert(img.At(8, 8)).(color.RGBA); c.B != 255 {
			t.Errorf("a dead remote's error tile is not drawn: pixel %v", c)
		}
	})

	t.Run("the public cannot reach internal layers anywhere", func(t *testing.T) {
		gm := "VERSION=1.3.0&REQUEST=GetMap&LAYERS=utility_lines&STYLES=&CRS=EPSG:4326&BBOX=" + f.bbox130() + "&WIDTH=16&HEIGHT=16&FORMAT=image/png"
		exception(t, f.get(t, access.Anonymous, gm), "LayerNotDefined")
		exception(t, f.get(t, access.Anonymous, strings.Replace(gm, "utility_lines", "no_such_layer", 1)), "LayerNotDefined")
		decodeImage(t, f.get(t, admin, gm))
		exception(t, f.get(t, access.Anonymous, "VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=cadastre_parcels&QUERY_LAYERS=utility_lines&STYLES=&CRS=EPSG:4326&BBOX="+f.bbox130()+"&WIDTH=16&HEIGHT=16&I=1&J=1"), "LayerNotDefined")
		exception(t, f.get(t, access.Anonymous, "REQUEST=GetLegendGraphic&LAYER=utility_manholes&FORMAT=image/png"), "LayerNotDefined")
	})

	t.Run("internal fields stay hidden from the public in styles and feature info", func(t *testing.T) {
		ctx := context.Background()
		if err := f.store.CreateType(ctx, layers.Type{Name: "trees", TitleBG: "Дървета", TitleEN: "Trees", GeometryType: "Point",
			Attributes: []layers.Attribute{{Name: "species", Type: layers.Text, TitleBG: "Вид", TitleEN: "Species"},
				{Name: "owner", Type: layers.Text, TitleBG: "Собственик", TitleEN: "Owner", Internal: true}}}); err != nil {
			t.Fatal(err)
		}
		if err := f.store.CreateLayer(ctx, layers.Layer{Name: "trees", TypeName: "trees", TitleBG: "Дървета", TitleEN: "Trees", Visibility: layers.Public}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Pool().Exec(ctx, `INSERT INTO features.trees (geom, species, owner, created_by, updated_by)
			VALUES (ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 7801), 'бук', 'Иван Петров', 'test', 'test')`, f.lon, f.lat); err != nil {
			t.Fatal(err)
		}
		gm := "VERSION=1.1.1&REQUEST=GetMap&LAYERS=trees&STYLES=&SRS=EPSG:4326&BBOX=" + f.bbox111() + "&WIDTH=64&HEIGHT=64&FORMAT=image/png"
		// The generic point style: a marker in the middle.
		if img := decodeImage(t, f.get(t, access.Anonymous, gm)); painted(img) == 0 {
			t.Error("the tree is not drawn")
		}
		sld := `<StyledLayerDescriptor><NamedLayer><Name>trees</Name><UserStyle><FeatureTypeStyle><Rule>
			<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><ogc:PropertyIsEqualTo><ogc:PropertyName>owner</ogc:PropertyName><ogc:Literal>Иван Петров</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
			<PointSymbolizer/></Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>`
		msg := exception(t, f.get(t, access.Anonymous, gm+"&SLD_BODY="+url.QueryEscape(sld)), "InvalidParameterValue")
		if !strings.Contains(msg, "owner") {
			t.Errorf("message %q", msg)
		}
		decodeImage(t, f.get(t, admin, gm+"&SLD_BODY="+url.QueryEscape(sld)))
		fi := "VERSION=1.1.1&REQUEST=GetFeatureInfo&LAYERS=trees&QUERY_LAYERS=trees&STYLES=&SRS=EPSG:4326&BBOX=" + f.bbox111() + "&WIDTH=64&HEIGHT=64&X=32&Y=32"
		for _, fm := range []string{"text/html", "application/json", "application/vnd.ogc.gml", "text/plain"} {
			pub := f.get(t, access.Anonymous, fi+"&INFO_FORMAT="+url.QueryEscape(fm)).Body.String()
			if !strings.Contains(pub, "бук") || strings.Contains(pub, "Петров") || strings.Contains(pub, "owner") {
				t.Errorf("%s for the public: %s", fm, pub)
			}
			if staff := f.get(t, admin, fi+"&INFO_FORMAT="+url.QueryEscape(fm)).Body.String(); !strings.Contains(staff, "Петров") {
				t.Errorf("%s for staff lacks the owner: %s", fm, staff)
			}
		}
	})

	t.Run("exception codes", func(t *testing.T) {
		gm := "VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre_parcels&STYLES=&CRS=EPSG:4326&BBOX=" + f.bbox130() + "&WIDTH=16&HEIGHT=16&FORMAT=image/png"
		cases := []struct{ name, params, code string }{
			{"unknown style", strings.Replace(gm, "STYLES=", "STYLES=nope", 1), "StyleNotDefined"},
			{"CRS", strings.Replace(gm, "EPSG:4326", "EPSG:2154", 1), "InvalidCRS"},
			{"SRS in 1.1.1", "VERSION=1.1.1&REQUEST=GetMap&LAYERS=cadastre_parcels&STYLES=&SRS=EPSG:9999&BBOX=" + f.bbox111() + "&WIDTH=16&HEIGHT=16&FORMAT=image/png", "InvalidSRS"},
			{"format", strings.Replace(gm, "image/png", "image/gif", 1), "InvalidFormat"},
			{"point", "VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=cadastre_parcels&QUERY_LAYERS=cadastre_parcels&STYLES=&CRS=EPSG:4326&BBOX=" + f.bbox130() + "&WIDTH=16&HEIGHT=16&I=16&J=3", "InvalidPoint"},
			{"operation", "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetStyles", "OperationNotSupported"},
			{"missing bbox", strings.Replace(gm, "&BBOX=", "&XBOX=", 1), "MissingParameterValue"},
			{"missing layers", strings.Replace(gm, "LAYERS=", "X=", 1), "MissingParameterValue"},
			{"bad width", strings.Replace(gm, "WIDTH=16", "WIDTH=99999", 1), "InvalidParameterValue"},
			{"inverted bbox", strings.Replace(gm, f.bbox130(), "43,25,42,24", 1), "InvalidParameterValue"},
			{"bad version", strings.Replace(gm, "1.3.0", "9.9.9", 1), "InvalidParameterValue"},
			{"update sequence", "REQUEST=GetCapabilities&UPDATESEQUENCE=99999999999", "InvalidUpdateSequence"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := f.get(t, access.Anonymous, c.params)
				msg := exception(t, w, c.code)
				if msg == "" {
					t.Error("no message")
				}
				ct := w.Header().Get("Content-Type")
				if strings.Contains(c.params, "1.1.1") && !strings.HasPrefix(ct, "application/vnd.ogc.se_xml") {
					t.Errorf("1.1.1 exception as %q", ct)
				}
			})
		}
		// The current update sequence.
		caps := parseCaps(t, f.get(t, access.Anonymous, "REQUEST=GetCapabilities").Body.Bytes())
		exception(t, f.get(t, access.Anonymous, "REQUEST=GetCapabilities&UPDATESEQUENCE="+caps.UpdateSequence), "CurrentUpdateSequence")
		// INIMAGE and BLANK.
		bad := strings.Replace(gm, "STYLES=", "STYLES=nope", 1)
		img := decodeImage(t, f.get(t, access.Anonymous, bad+"&EXCEPTIONS=INIMAGE"))
		if img.Bounds().Dx() != 16 || painted(img) == 0 {
			t.Errorf("INIMAGE %v with %d painted pixels", img.Bounds(), painted(img))
		}
		img = decodeImage(t, f.get(t, access.Anonymous, strings.Replace(bad, "WIDTH=16", "WIDTH=300", 1)+"&EXCEPTIONS=application/vnd.ogc.se_inimage"))
		if painted(img) < 50 {
			t.Errorf("INIMAGE message has %d pixels", painted(img))
		}
		img = decodeImage(t, f.get(t, access.Anonymous, bad+"&EXCEPTIONS=BLANK"))
		if painted(img) != 0 {
			t.Error("BLANK is not blank")
		}
	})
}

// caps is what the tests read of a capabilities document (1.3.0 or
// 1.1.1: encoding/xml matches local names).
type caps struct {
	XMLName        xml.Name
	Version        string `xml:"version,attr"`
	UpdateSequence string `xml:"updateSequence,attr"`
	Root           struct {
		CRS    []string   `xml:"CRS"`
		Layers []capLayer `xml:"Layer"`
	} `xml:"Capability>Layer"`
}

type capLayer struct {
	Name      string `xml:"Name"`
	Queryable string `xml:"queryable,attr"`
	Geo       struct {
		West  float64 `xml:"westBoundLongitude"`
		South float64 `xml:"southBoundLatitude"`
	} `xml:"EX_GeographicBoundingBox"`
	Boxes []struct {
		CRS  string  `xml:"CRS,attr"`
		SRS  string  `xml:"SRS,attr"`
		MinX float64 `xml:"minx,attr"`
		MinY float64 `xml:"miny,attr"`
		MaxX float64 `xml:"maxx,attr"`
		MaxY float64 `xml:"maxy,attr"`
	} `xml:"BoundingBox"`
	Styles []struct {
		Name   string `xml:"Name"`
		Legend struct {
			Resource struct {
				Href string `xml:"http://www.w3.org/1999/xlink href,attr"`
			} `xml:"OnlineResource"`
		} `xml:"LegendURL"`
	} `xml:"Style"`
}

func parseCaps(t *testing.T, b []byte) caps {
	t.Helper()
	var c caps
	if err := xml.Unmarshal(b, &c); err != nil {
		t.Fatalf("capabilities are not well-formed: %v\n%s", err, b)
	}
	return c
}

func (c caps) names() map[string]bool {
	out := map[string]bool{}
	for _, l := range c.Root.Layers {
		out[l.Name] = true
	}
	return out
}

func (c caps) layer(name string) capLayer {
	for _, l := range c.Root.Layers {
		if l.Name == name {
			return l
		}
	}
	return capLayer{}
}

func (l capLayer) box(crs string) [4]float64 {
	for _, b := range l.Boxes {
		if b.CRS == crs || b.SRS == crs {
			return [4]float64{b.MinX, b.MinY, b.MaxX, b.MaxY}
		}
	}
	return [4]float64{}
}

// TestFeatureInfoRegisters: GetFeatureInfo on a parcel lists the register
// entries on it, in every format, as the viewer may see them: the public a
// published register's public fields with natural persons masked, staff
// with a grant also the unpublished register they may read.
func TestFeatureInfoRegisters(t *testing.T) {
	f := newFixture(t)
	ctx := munigis.WithActor(context.Background(), "U-000042")
	egn, _ := persons.CompleteEGN("750102001")
	ivan, err := persons.NewStore(f.db.Pool).Create(ctx, persons.Person{Kind: persons.Natural, Name: "Иван Петров Иванов", EGN: egn})
	if err != nil {
		t.Fatal(err)
	}
	regs := registers.NewStore(f.db.Pool)
	prop, err := regs.Create(ctx, registers.Entry{Register: "municipal_property", Number: "АОС-7731", Date: "2015-03-12",
		Identifiers: []string{f.ident}, Parties: []registers.Party{{PersonID: ivan.ID, Role: "holder"}}, Status: "актуален",
		Data: map[string]any{"kind": "частна", "address": "гр. Троян, ул. <Васил Левски> 12", "book_value": 18733.5,
			"dossier": "бележка-само-за-служители"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := regs.Create(ctx, registers.Entry{Register: "rentals", Number: "НД-5512", Date: "2024-01-10",
		Identifiers: []string{f.ident}, Parties: []registers.Party{{PersonID: ivan.ID, Role: "tenant"}}, Status: "действащ",
		Data: map[string]any{"property": prop.ID, "start_date": "2024-02-01", "end_date": "2029-01-31", "rent_bgn": 240.0}}); err != nil {
		t.Fatal(err)
	}
	rentalsClerk := access.Viewer{SystemID: "u7", Username: "clerk", Role: access.Clerk,
		Grants: []access.Grant{{ObjectKind: access.KindRegister, Object: "rentals", Permission: access.Read}}}
	base := "REQUEST=GetFeatureInfo&VERSION=1.3.0&LAYERS=cadastre_parcels&QUERY_LAYERS=cadastre_parcels&STYLES=&CRS=EPSG:4326" +
		"&BBOX=" + f.bbox130() + "&WIDTH=101&HEIGHT=101&I=50&J=50&INFO_FORMAT="
	for _, c := range []struct {
		who               string
		v                 access.Viewer
		rentals, internal bool // sees the rentals entry; sees full names and internal fields
	}{
		{"public", access.Anonymous, false, false},
		{"clerk with a read grant on rentals only", rentalsClerk, true, false},
		{"admin", admin, true, true},
	} {
		for _, fm := range []string{"text/html", "application/json", "application/vnd.ogc.gml", "text/plain"} {
			w := f.get(t, c.v, base+url.QueryEscape(fm))
			body := w.Body.String()
			if w.Code != 200 {
				t.Fatalf("%s %s: %d %s", c.who, fm, w.Code, body)
			}
			has := func(s string) bool {
				if fm == "text/html" || fm == "application/vnd.ogc.gml" {
					// Escaped: "<" of the address is "&lt;" in both.
					s = strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
				}
				if fm == "application/json" {
					s = strings.NewReplacer("<", `\u003c`, ">", `\u003e`).Replace(s)
				}
				return strings.Contains(body, s)
			}
			want := map[string]bool{
				"АОС-7731": true, // the municipal property act, published
				"Актове за общинска собственост":   true,
				"гр. Троян, ул. <Васил Левски> 12": true,
				"И. П. И.":                  !c.internal,             // the holder masked for whoever may not read the register
				"Иван Петров Иванов":        c.internal || c.rentals, // the tenant of the rental, to staff who may read rentals
				"бележка-само-за-служители": c.internal,              // a non-public field
				"НД-5512": c.rentals, // the unpublished register
				"Договори за наем на общински имоти": c.rentals,
			}
			for s, ok := range want {
				if has(s) != ok {
					t.Errorf("%s %s: contains %q = %v, want %v:\n%s", c.who, fm, s, !ok, ok, body)
				}
			}
			if strings.Contains(body, egn) {
				t.Errorf("%s %s shows the ЕГН", c.who, fm)
			}
			switch fm {
			case "application/json":
				var fc struct {
					Features []struct {
						Properties map[string]any `json:"properties"`
						Related    []struct {
							Register string `json:"register"`
							TitleBG  string `json:"title_bg"`
							Entries  []struct {
								ID     int64  `json:"id"`
								Number string `json:"number"`
								Date   string `json:"date"`
								Href   string `json:"href"`
								Fields []struct {
									Name  string `json:"name"`
									Value any    `json:"value"`
								} `json:"fields"`
							} `json:"entries"`
						} `json:"related"`
					} `json:"features"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &fc); err != nil || len(fc.Features) != 1 {
					t.Fatalf("%s JSON %v: %s", c.who, err, body)
				}
				found := false
				for _, g := range fc.Features[0].Related {
					if g.Register == "rentals" && !c.rentals {
						t.Errorf("%s sees rentals", c.who)
					}
					for _, e := range g.Entries {
						if e.Number != "АОС-7731" {
							continue
						}
						found = g.Register == "municipal_property" && e.Date == "2015-03-12" && e.ID == prop.ID &&
							e.Href == fmt.Sprintf("/api/registers/municipal_property/entries/%d", prop.ID)
						for _, fd := range e.Fields {
							if fd.Name == "book_value" && (!c.internal || fd.Value != 18733.5) {
								t.Errorf("%s: book value %v", c.who, fd.Value)
							}
							if fd.Name == "holder" && fd.Value != map[bool]string{false: "И. П. И.", true: "Иван Петров Иванов"}[c.internal] {
								t.Errorf("%s: holder %v", c.who, fd.Value)
							}
						}
					}
				}
				if !found {
					t.Errorf("%s: the act is not in the JSON related member: %s", c.who, body)
				}
			case "application/vnd.ogc.gml":
				var doc struct {
					Layer struct {
						Feature struct {
							Related []struct {
								Register string `xml:"register,attr"`
								Entries  []struct {
									Number string `xml:"number"`
								} `xml:"entry"`
							} `xml:"related"`
						} `xml:"cadastre_parcels_feature"`
					} `xml:"cadastre_parcels_layer"`
				}
				if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
					t.Fatalf("%s GML is not XML: %v", c.who, err)
				}
				n := 0
				for _, g := range doc.Layer.Feature.Related {
					for _, e := range g.Entries {
						if e.Number == "АОС-7731" && g.Register == "municipal_property" {
							n++
						}
					}
				}
				if n != 1 {
					t.Errorf("%s: the act appears %d times in munigis:related: %s", c.who, n, body)
				}
			case "text/html":
				if !strings.Contains(body, fmt.Sprintf(`<a href="/api/registers/municipal_property/entries/%d">АОС-7731</a>`, prop.ID)) {
					t.Errorf("%s: HTML lacks the link to the act: %s", c.who, body)
				}
			}
		}
	}
	// A layer that is no cadastral object type gets no related member.
	w := f.get(t, admin, strings.ReplaceAll(base, "cadastre_parcels", "utility_lines")+"application%2Fjson")
	if w.Code != 200 || strings.Contains(w.Body.String(), `"related"`) {
		t.Errorf("utility_lines: %d %s", w.Code, w.Body.String())
	}
}

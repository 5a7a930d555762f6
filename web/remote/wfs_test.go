package remote

import (
	"context"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"munigis"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/render"
	"munigis/web/wfs"
)

// stubWFS is a remote WFS for the tests: it answers GetFeature with
// body (GeoJSON unless ctype says otherwise), counts the requests and
// records the last query.
type stubWFS struct {
	srv   *httptest.Server
	count atomic.Int64
	mu    sync.Mutex
	last  url.Values
	ctype string
	code  int
	body  string
}

func newStubWFS(t *testing.T, ctype string, code int, body string) *stubWFS {
	s := &stubWFS{ctype: ctype, code: code, body: body}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count.Add(1)
		s.mu.Lock()
		s.last = r.URL.Query()
		s.mu.Unlock()
		w.Header().Set("Content-Type", s.ctype)
		w.WriteHeader(s.code)
		io.WriteString(w, s.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stubWFS) query() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func wfsLayer(u string) layers.Layer {
	return layers.Layer{Name: "neighbour_ponds", TitleBG: "Езера на съседите", TitleEN: "Neighbours' ponds",
		Source: "wfs", SourceURL: u, SourceLayer: "hydro:ponds",
		Type: layers.Type{Name: "ponds", GeometryType: "Polygon"}}
}

// painted counts the pixels with any colour.
func painted(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0 {
				n++
			}
		}
	}
	return n
}

func TestGetFeatureURL(t *testing.T) {
	cases := []struct {
		name, base, crs             string
		wantVersion, wantType, bbox string
		wantCount, srs              string
	}{
		// The box names its CRS as a URN, which is authority axis order.
		{"EPSG:4326 is lat,lon", "http://h/wfs", "EPSG:4326", "2.0.0", "TYPENAMES", "42.88,24.7,42.9,24.73,urn:ogc:def:crs:EPSG::4326", "COUNT", "urn:ogc:def:crs:EPSG::4326"},
		{"CRS:84 is lon,lat", "http://h/wfs", "CRS:84", "2.0.0", "TYPENAMES", "24.7,42.88,24.73,42.9,urn:ogc:def:crs:OGC:1.3:CRS84", "COUNT", "urn:ogc:def:crs:OGC:1.3:CRS84"},
		{"EPSG:7801 is northing first", "http://h/wfs", "EPSG:7801", "2.0.0", "TYPENAMES", "42.88,24.7,42.9,24.73,urn:ogc:def:crs:EPSG::7801", "COUNT", "urn:ogc:def:crs:EPSG::7801"},
		{"EPSG:3857 is x,y", "http://h/wfs", "EPSG:3857", "2.0.0", "TYPENAMES", "24.7,42.88,24.73,42.9,urn:ogc:def:crs:EPSG::3857", "COUNT", "urn:ogc:def:crs:EPSG::3857"},
		{"1.1.0 from the source URL", "http://h/qgis?MAP=/srv/p.qgs&version=1.1.0&typename=x&BBOX=1,2,3,4", "EPSG:3857", "1.1.0", "TYPENAME", "24.7,42.88,24.73,42.9,urn:ogc:def:crs:EPSG::3857", "MAXFEATURES", "urn:ogc:def:crs:EPSG::3857"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := GetFeatureURL(tc.base, "kais:parcels", crs(t, tc.crs), 24.7, 42.88, 24.73, 42.9, 700)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := url.Parse(u)
			q := p.Query()
			want := map[string]string{"SERVICE": "WFS", "REQUEST": "GetFeature", "VERSION": tc.wantVersion,
				tc.wantType: "kais:parcels", "BBOX": tc.bbox, "SRSNAME": tc.srs, tc.wantCount: "700",
				"OUTPUTFORMAT": "application/json"}
			for k, v := range want {
				if got, ok := q[k]; !ok || len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want %q (query %v)", k, got, v, q)
				}
			}
			if len(q) != len(want)+strings.Count(tc.base, "MAP=") {
				t.Errorf("unexpected parameters in %v", q)
			}
			if strings.Contains(tc.base, "MAP=") && q.Get("MAP") != "/srv/p.qgs" {
				t.Errorf("the source URL's own MAP parameter was lost: %v", q)
			}
		})
	}
	if _, err := GetFeatureURL("ftp://h/wfs", "x", crs(t, "EPSG:3857"), 0, 0, 1, 1, 10); munigis.ErrorCode(err) != munigis.Invalid {
		t.Errorf("ftp URL: %v, want invalid", err)
	}
	if _, err := GetFeatureURL("http://h/wfs", "", crs(t, "EPSG:3857"), 0, 0, 1, 1, 10); err == nil || !strings.Contains(err.Error(), "no source_layer") {
		t.Errorf("no type name: %v, want an error naming source_layer", err)
	}
}

// pond is a GeoJSON collection with one square pond from 20 to 80 in a
// 0..100 box of EPSG:3857, written x first, or y first with swap.
func pond(swap bool) string {
	xy := func(x, y float64) string {
		if swap {
			x, y = y, x
		}
		return fmt.Sprintf("[%g,%g]", x, y)
	}
	x0, y0 := 2750000.0, 5290000.0
	ring := []string{xy(x0+20, y0+20), xy(x0+80, y0+20), xy(x0+80, y0+80), xy(x0+20, y0+80), xy(x0+20, y0+20)}
	return `{"type":"FeatureCollection","features":[{"type":"Feature","id":"ponds.7","geometry":{"type":"Polygon","coordinates":[[` +
		strings.Join(ring, ",") + `]]},"properties":{"name":"Язовир"}},{"type":"Feature","id":"ponds.8","geometry":null,"properties":{}}]}`
}

func TestFeatureMapDrawsTheRemotesFeatures(t *testing.T) {
	x0, y0 := 2750000.0, 5290000.0
	for _, tc := range []struct {
		name, crs string
		swap      bool
	}{
		{"x first", "EPSG:3857", false},
		// A northing-first CRS whose remote writes GeoJSON northing first
		// (as some servers do for a urn: srsName): still drawn in place.
		// The numbers are not real EPSG:7801 ones; only the order counts.
		{"northing first from the remote", "EPSG:7801", true},
		{"x first in a northing-first CRS", "EPSG:7801", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStubWFS(t, "application/json; charset=utf-8", http.StatusOK, pond(tc.swap))
			c := New(Config{})
			img, err := c.Map(context.Background(), wfsLayer(s.srv.URL+"/wfs"), crs(t, tc.crs), x0, y0, x0+100, y0+100, 100, 100)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 100 || b.Dy() != 100 {
				t.Fatalf("image %v, want 100×100", b)
			}
			// Rows grow southwards: the pond spans columns and rows 20..80.
			if _, _, _, a := img.At(50, 50).RGBA(); a == 0 {
				t.Error("the middle of the pond is not painted")
			}
			for _, p := range []image.Point{{10, 10}, {90, 10}, {10, 90}, {90, 90}} {
				if _, _, _, a := img.At(p.X, p.Y).RGBA(); a != 0 {
					t.Errorf("pixel %v outside the pond is painted", p)
				}
			}
			if n := painted(img); n < 55*55 || n > 65*65 {
				t.Errorf("%d pixels painted, want about 60×60", n)
			}
			// The box asked for is widened by 16 pixels (16 m here) for
			// strokes reaching in from outside.
			q := s.query()
			want := fmt.Sprintf("%.0f,%.0f,%.0f,%.0f", x0-16, y0-16, x0+116, y0+116)
			if crs(t, tc.crs).NorthingFirst {
				want = fmt.Sprintf("%.0f,%.0f,%.0f,%.0f", y0-16, x0-16, y0+116, x0+116)
			}
			if got := q.Get("BBOX"); !strings.HasPrefix(got, want+",urn:") {
				t.Errorf("BBOX %q, want %q with its CRS", got, want)
			}
		})
	}
}

func TestFeatureMapCachesAndHonoursZoom(t *testing.T) {
	s := newStubWFS(t, "application/geo+json", http.StatusOK, pond(false))
	c := New(Config{})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	l, cr := wfsLayer(s.srv.URL), crs(t, "EPSG:3857")
	x0, y0 := 2750000.0, 5290000.0
	for range 3 {
		if _, err := c.Map(context.Background(), l, cr, x0, y0, x0+100, y0+100, 100, 100); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count.Load(); n != 1 {
		t.Fatalf("the same map three times asked the remote %d times, want 1", n)
	}
	// Another size is another image, though the features are the same.
	if _, err := c.Map(context.Background(), l, cr, x0, y0, x0+100, y0+100, 200, 200); err != nil {
		t.Fatal(err)
	}
	if n := s.count.Load(); n != 2 {
		t.Fatalf("remote asked %d times, want 2", n)
	}
	// Below the layer's min_zoom nothing is drawn and the remote is not
	// asked: 100 km in 256 pixels is about zoom 8.
	l.MinZoom = 15
	img, err := c.Map(context.Background(), l, cr, x0, y0, x0+100000, y0+100000, 256, 256)
	if err != nil || painted(img) != 0 || img.Bounds().Dx() != 256 {
		t.Fatalf("out of zoom: %v, %d painted; want an empty 256×256 image", err, painted(img))
	}
	if n := s.count.Load(); n != 2 {
		t.Fatalf("a map out of the layer's zooms asked the remote (%d requests)", n)
	}
}

func TestFeatureMapRefusesWhatIsNotGeoJSON(t *testing.T) {
	cases := []struct {
		name, ctype string
		code        int
		body, want  string
	}{
		{"exception", "application/xml", http.StatusBadRequest,
			`<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" version="2.0.0"><ows:Exception exceptionCode="InvalidParameterValue" locator="typeNames">` +
				`<ows:ExceptionText>no feature type hydro:ponds</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`,
			"HTTP status 400 with a service exception: InvalidParameterValue: no feature type hydro:ponds"},
		{"exception with 200", "text/xml", http.StatusOK,
			`<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1"><ows:Exception exceptionCode="NoApplicableCode"><ows:ExceptionText>db down</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`,
			"service exception: NoApplicableCode"},
		{"GML instead", "application/gml+xml; version=3.2", http.StatusOK, `<wfs:FeatureCollection/>`, "service exception"},
		{"HTML", "text/html", http.StatusOK, "<p>maintenance</p>", `"text/html", not GeoJSON`},
		{"500", "text/plain", http.StatusInternalServerError, "boom", "HTTP status 500"},
		{"broken JSON", "application/json", http.StatusOK, `{"type":"FeatureCollection","features":[`, "not a GeoJSON feature collection"},
		{"not a collection", "application/json", http.StatusOK, `{"type":"Feature","geometry":null,"properties":{}}`, "not a GeoJSON feature collection"},
		{"too big", "application/json", http.StatusOK, `{"type":"FeatureCollection","features":[],"pad":"` + strings.Repeat("x", 40<<10) + `"}`, "larger than 32768 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStubWFS(t, tc.ctype, tc.code, tc.body)
			c := New(Config{MaxBytes: 32 << 10})
			img, err := c.Map(context.Background(), wfsLayer(s.srv.URL), crs(t, "EPSG:3857"), 0, 0, 1000, 1000, 256, 200)
			if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want unavailable containing %q", err, tc.want)
			}
			checkErrorTile(t, img, 256, 200)
			if msg := munigis.ErrorMessage(err); strings.Contains(msg, "db down") || strings.Contains(msg, "boom") {
				t.Errorf("client-facing message %q carries the remote's body", msg)
			}
		})
	}
}

func TestFeatureMapRemoteDownGivesErrorTileAndError(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	base := s.URL + "/wfs"
	s.Close()
	c := New(Config{})
	img, err := c.Map(context.Background(), wfsLayer(base), crs(t, "EPSG:3857"), 0, 0, 1000, 1000, 256, 256)
	if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(munigis.ErrorMessage(err), "neighbour_ponds") ||
		!strings.Contains(err.Error(), "not reachable") {
		t.Fatalf("error %v, want unavailable naming the layer: not reachable", err)
	}
	checkErrorTile(t, img, 256, 256)
}

func TestFeatureMapTimeoutAndRememberedFailure(t *testing.T) {
	var hits atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	c := New(Config{Timeout: 150 * time.Millisecond, FailTTL: time.Minute})
	l := wfsLayer(slow.URL)
	start := time.Now()
	for range 3 {
		img, err := c.Map(context.Background(), l, crs(t, "EPSG:3857"), 0, 0, 1000, 1000, 64, 64)
		if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(err.Error(), "no answer within 150ms") {
			t.Fatalf("error %v, want unavailable: no answer within 150ms", err)
		}
		checkErrorTile(t, img, 64, 64)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("three maps took %v with a 150 ms timeout", took)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("a failing remote was asked %d times within FailTTL, want 1", n)
	}
}

// TestFeatureMapFromASecondMunigis uses munigis's own WFS (package wfs
// over a demo database, served by httptest as the public sees it) as the
// remote: the parcels drawn from its GeoJSON must lie where the local
// renderer draws the same parcels from PostGIS, in x-first and
// northing-first CRSs, over WFS 2.0.0 and 1.1.0. Swapped axes or a wrong
// box would leave the map empty or put the parcels elsewhere.
func TestFeatureMapFromASecondMunigis(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 300}, io.Discard); err != nil {
		t.Fatal(err)
	}
	store := layers.NewStore(db.Pool)
	srv := httptest.NewServer(wfs.New(wfs.Deps{Layers: store}))
	defer srv.Close()
	local, err := store.Layer(ctx, "cadastre_parcels")
	if err != nil {
		t.Fatal(err)
	}
	rd := render.New(db.Pool, store, render.Config{})

	// A 300 m box in the middle of the parcels, in each CRS, x first.
	boxes := map[int][4]float64{}
	for _, srid := range []int{4326, 3857, 7801} {
		var b [4]float64
		err := db.Pool.QueryRow(ctx, `
			WITH c AS (SELECT ST_SetSRID(ST_Centroid(ST_Extent(geom)), 7801) AS p FROM features.cadastre_parcels)
			SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
			FROM c, ST_Transform(ST_Expand(p, 150), $1::int) AS e`, srid).Scan(&b[0], &b[1], &b[2], &b[3])
		if err != nil {
			t.Fatal(err)
		}
		boxes[srid] = b
	}
	c := New(Config{})
	for _, tc := range []struct {
		name, url, crs string
		srid           int
	}{
		{"2.0.0 EPSG:3857", srv.URL + "/wfs", "EPSG:3857", 3857},
		{"2.0.0 EPSG:7801", srv.URL + "/wfs", "EPSG:7801", 7801},
		{"2.0.0 EPSG:4326", srv.URL + "/wfs", "EPSG:4326", 4326},
		{"2.0.0 CRS:84", srv.URL + "/wfs", "CRS:84", 4326},
		{"1.1.0 EPSG:7801", srv.URL + "/wfs?VERSION=1.1.0", "EPSG:7801", 7801},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := crs(t, tc.crs)
			l := local
			l.Name, l.Source, l.SourceURL, l.SourceLayer = "neighbour_parcels", "wfs", tc.url, "cadastre_parcels"
			b := boxes[tc.srid]
			img, err := c.Map(ctx, l, cr, b[0], b[1], b[2], b[3], 256, 256)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			want, err := rd.Map(ctx, render.MapRequest{Layers: []render.MapLayer{{Layer: local, Attributes: local.Type.Attributes}},
				CRS: cr, MinX: b[0], MinY: b[1], MaxX: b[2], MaxY: b[3], Width: 256, Height: 256})
			if err != nil {
				t.Fatal(err)
			}
			n := painted(img)
			if n < 256*256/2 {
				t.Fatalf("only %d of %d pixels painted: the box missed the parcels (axis order?)", n, 256*256)
			}
			// Same style, same parcels: the colours agree but for
			// anti-aliased edges, simplification and labels.
			differ := 0
			for y := 0; y < 256; y++ {
				for x := 0; x < 256; x++ {
					r1, g1, b1, a1 := img.At(x, y).RGBA()
					r2, g2, b2, a2 := want.At(x, y).RGBA()
					if d(r1, r2) > 0x200 || d(g1, g2) > 0x200 || d(b1, b2) > 0x200 || d(a1, a2) > 0x200 {
						differ++
					}
				}
			}
			if differ > 256*256/20 {
				t.Fatalf("%d of %d pixels differ from the local rendering of the same parcels", differ, 256*256)
			}
		})
	}

	t.Run("a type the remote does not have gives the error tile", func(t *testing.T) {
		l := local
		l.Name, l.Source, l.SourceURL, l.SourceLayer = "nothing", "wfs", srv.URL+"/wfs", "no_such_type"
		b := boxes[3857]
		img, err := c.Map(ctx, l, crs(t, "EPSG:3857"), b[0], b[1], b[2], b[3], 256, 256)
		if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(err.Error(), "service exception") {
			t.Fatalf("error %v, want the remote's exception as unavailable", err)
		}
		checkErrorTile(t, img, 256, 256)
	})

	t.Run("an internal layer is not served to us", func(t *testing.T) {
		// The remote's public does not see utility_lines: the remote says
		// so, and the map shows the error tile rather than nothing.
		l := local
		l.Name, l.Source, l.SourceURL, l.SourceLayer = "their_utilities", "wfs", srv.URL+"/wfs", "utility_lines"
		b := boxes[3857]
		img, err := c.Map(ctx, l, crs(t, "EPSG:3857"), b[0], b[1], b[2], b[3], 256, 256)
		if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(err.Error(), `"utility_lines" is not served`) {
			t.Fatalf("internal layer through the remote: %v, want the remote's refusal", err)
		}
		checkErrorTile(t, img, 256, 256)
	})
}

func d(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"munigis"
	"munigis/layers"
	"munigis/spatial"
)

// stubWMS is a remote WMS for the tests: it answers GetMap with a PNG of
// the requested size in one known colour, counts the requests, records
// the last query, and can be switched to misbehave.
type stubWMS struct {
	srv   *httptest.Server
	count atomic.Int64
	mu    sync.Mutex
	last  url.Values
	mode  string // "", "500", "exception", "html", "slow", "wrongsize", "garbage", "big", "caps", "capsdoctype"
	delay time.Duration
}

var stubColour = color.NRGBA{R: 10, G: 120, B: 200, A: 255}

func newStub(t *testing.T) *stubWMS {
	s := &stubWMS{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stubWMS) set(mode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = mode
}

func (s *stubWMS) query() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *stubWMS) serve(w http.ResponseWriter, r *http.Request) {
	s.count.Add(1)
	s.mu.Lock()
	s.last = r.URL.Query()
	mode, delay := s.mode, s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	q := r.URL.Query()
	wd, _ := strconv.Atoi(q.Get("WIDTH"))
	ht, _ := strconv.Atoi(q.Get("HEIGHT"))
	switch mode {
	case "500":
		http.Error(w, "database down", http.StatusInternalServerError)
		return
	case "exception":
		w.Header().Set("Content-Type", "application/vnd.ogc.se_xml")
		fmt.Fprint(w, `<?xml version="1.0"?><ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc">`+
			`<ServiceException code="LayerNotDefined">no layer kais:parcels</ServiceException></ServiceExceptionReport>`)
		return
	case "exception400":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1"><ows:Exception exceptionCode="InvalidParameterValue">`+
			`<ows:ExceptionText>bad BBOX</ows:ExceptionText></ows:Exception></ows:ExceptionReport>`)
		return
	case "plainexception":
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, `<ServiceExceptionReport><ServiceException code="InvalidCRS">bad CRS</ServiceException></ServiceExceptionReport>`)
		return
	case "html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>maintenance</p>")
		return
	case "wrongsize":
		wd, ht = wd*2, ht*2
	case "garbage":
		w.Header().Set("Content-Type", "image/png")
		fmt.Fprint(w, "this is not a PNG at all")
		return
	case "big":
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(make([]byte, 64<<10))
		return
	}
	img := image.NewNRGBA(image.Rect(0, 0, wd, ht))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []uint8{stubColour.R, stubColour.G, stubColour.B, stubColour.A})
	}
	w.Header().Set("Content-Type", "image/png")
	_ = png.Encode(w, img)
}

func wmsLayer(u string) layers.Layer {
	return layers.Layer{Name: "kais_parcels", TitleBG: "Имоти КАИС", TitleEN: "KAIS parcels",
		Source: "wms", SourceURL: u, SourceLayer: "kais:parcels"}
}

func crs(t *testing.T, s string) spatial.CRS {
	t.Helper()
	c, err := spatial.ParseCRS(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func isStub(img image.Image) bool {
	r, g, b, a := img.At(img.Bounds().Dx()/2, img.Bounds().Dy()/2).RGBA()
	return r>>8 == uint32(stubColour.R) && g>>8 == uint32(stubColour.G) && b>>8 == uint32(stubColour.B) && a>>8 == 255
}

func TestMapAsksWithTheRightParameters(t *testing.T) {
	s := newStub(t)
	ctx := context.Background()
	cases := []struct {
		name, base, crs string
		wantVersion     string
		wantCRSKey      string
		wantCRS         string
		wantBBox        string
	}{
		// WMS 1.3.0 follows the EPSG axis order: latitude first for 4326.
		{"1.3.0 EPSG:4326 is lat,lon", s.srv.URL + "/wms", "EPSG:4326", "1.3.0", "CRS", "EPSG:4326", "42.88,24.7,42.9,24.73"},
		{"1.3.0 CRS:84 is lon,lat", s.srv.URL + "/wms", "CRS:84", "1.3.0", "CRS", "CRS:84", "24.7,42.88,24.73,42.9"},
		{"1.3.0 EPSG:7801 is northing first", s.srv.URL + "/wms", "EPSG:7801", "1.3.0", "CRS", "EPSG:7801", "42.88,24.7,42.9,24.73"},
		{"1.3.0 EPSG:3857 is x,y", s.srv.URL + "/wms", "EPSG:3857", "1.3.0", "CRS", "EPSG:3857", "24.7,42.88,24.73,42.9"},
		{"1.3.0 URN 4326 is lat,lon", s.srv.URL + "/wms", "urn:ogc:def:crs:EPSG::4326", "1.3.0", "CRS", "EPSG:4326", "42.88,24.7,42.9,24.73"},
		// 1.1.1 when the source URL says so: always x,y, and SRS.
		{"1.1.1 EPSG:4326 is lon,lat", s.srv.URL + "/wms?VERSION=1.1.1", "EPSG:4326", "1.1.1", "SRS", "EPSG:4326", "24.7,42.88,24.73,42.9"},
		{"1.1.1 CRS:84 becomes EPSG:4326", s.srv.URL + "/wms?version=1.1.1", "CRS:84", "1.1.1", "SRS", "EPSG:4326", "24.7,42.88,24.73,42.9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{}) // a fresh cache: some cases ask the same URL
			img, err := c.Map(ctx, wmsLayer(tc.base), crs(t, tc.crs), 24.7, 42.88, 24.73, 42.9, 256, 200)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 200 || !isStub(img) {
				t.Fatalf("got a %v image, centre %v; want the remote's 256×200 image", b, img.At(128, 100))
			}
			q := s.query()
			want := map[string]string{
				"SERVICE": "WMS", "REQUEST": "GetMap", "VERSION": tc.wantVersion, "LAYERS": "kais:parcels",
				"STYLES": "", tc.wantCRSKey: tc.wantCRS, "BBOX": tc.wantBBox, "WIDTH": "256", "HEIGHT": "200",
				"FORMAT": "image/png", "TRANSPARENT": "TRUE",
			}
			for k, v := range want {
				if got, ok := q[k]; !ok || got[0] != v || len(got) != 1 {
					t.Errorf("%s = %q, want %q (query %v)", k, got, v, q)
				}
			}
			other := map[string]string{"CRS": "SRS", "SRS": "CRS"}[tc.wantCRSKey]
			if q.Has(other) {
				t.Errorf("%s sent with %s: %v", other, tc.wantVersion, q)
			}
			if q.Has("version") && tc.wantVersion == "1.1.1" && strings.Contains(tc.base, "version=") {
				t.Errorf("the source URL's lower-case version= was sent as well: %v", q)
			}
		})
	}
}

func TestMapKeepsTheSourceURLsOwnParameters(t *testing.T) {
	s := newStub(t)
	c := New(Config{})
	base := s.srv.URL + "/cgi-bin/mapserv?map=/srv/kais.map&LAYERS=ignored&bbox=1,2,3,4"
	if _, err := c.Map(context.Background(), wmsLayer(base), crs(t, "EPSG:3857"), 1, 2, 3, 4, 64, 64); err != nil {
		t.Fatal(err)
	}
	q := s.query()
	if q.Get("map") != "/srv/kais.map" {
		t.Errorf("map = %q, want the source URL's /srv/kais.map kept", q.Get("map"))
	}
	if q.Get("LAYERS") != "kais:parcels" || q.Has("bbox") || q.Get("BBOX") != "1,2,3,4" {
		t.Errorf("WMS parameters of the source URL not replaced: %v", q)
	}
}

func TestMapCachesImagesForTheTTL(t *testing.T) {
	s := newStub(t)
	c := New(Config{TTL: time.Minute})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	l, cr := wmsLayer(s.srv.URL), crs(t, "EPSG:3857")
	get := func(minx float64) {
		t.Helper()
		img, err := c.Map(ctx, l, cr, minx, 0, 1000, 1000, 256, 256)
		if err != nil || !isStub(img) {
			t.Fatalf("Map: %v", err)
		}
	}
	get(0)
	get(0)
	if n := s.count.Load(); n != 1 {
		t.Fatalf("the same request twice reached the remote %d times, want 1 (cache hit)", n)
	}
	get(10) // another box is another image
	if n := s.count.Load(); n != 2 {
		t.Fatalf("remote requests = %d, want 2", n)
	}
	now = now.Add(61 * time.Second)
	get(0)
	if n := s.count.Load(); n != 3 {
		t.Fatalf("after the TTL the remote was asked %d times in all, want 3 (expired entry refetched)", n)
	}
}

func TestMapConcurrentRequestsShareOneFetch(t *testing.T) {
	s := newStub(t)
	s.delay = 200 * time.Millisecond
	c := New(Config{})
	l, cr := wmsLayer(s.srv.URL), crs(t, "EPSG:3857")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			img, err := c.Map(context.Background(), l, cr, 0, 0, 1000, 1000, 256, 256)
			if err == nil && !isStub(img) {
				err = errors.New("not the remote's image")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count.Load(); n != 1 {
		t.Fatalf("8 concurrent identical requests reached the remote %d times, want 1", n)
	}
}

// checkErrorTile asserts what a user sees: an image of the requested size
// that is neither empty nor opaque, with the red frame and some text.
func checkErrorTile(t *testing.T, img image.Image, w, h int) {
	t.Helper()
	if img == nil {
		t.Fatal("no error tile")
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("error tile is %v, want %d×%d", b, w, h)
	}
	if isStub(img) {
		t.Fatal("got the remote's image, want an error tile")
	}
	_, _, _, a := img.At(w/2, 3).RGBA() // veil, away from the text lines
	if a == 0 || a == 0xffff {
		t.Errorf("veil alpha %d, want semi-transparent", a)
	}
	fr, _, _, fa := img.At(0, h/2).RGBA()
	if fa == 0 || fr>>8 < 150 {
		t.Errorf("no red frame at the left edge: %v", img.At(0, h/2))
	}
	text := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, _, a := img.At(x, y).RGBA()
			if a>>8 > 200 && r>>8 > 100 && g>>8 < 60 && x > 3 && x < w-3 && y > 3 && y < h-3 {
				text++
			}
		}
	}
	if text < 50 {
		t.Errorf("%d text pixels in the error tile, want the message drawn", text)
	}
}

func TestMapRemoteDownGivesErrorTileAndError(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	base := s.URL + "/wms"
	s.Close() // nothing listens there any more
	c := New(Config{})
	img, err := c.Map(context.Background(), wmsLayer(base), crs(t, "EPSG:3857"), 0, 0, 1000, 1000, 256, 256)
	if munigis.ErrorCode(err) != munigis.Unavailable {
		t.Fatalf("error %v (code %q), want code unavailable", err, munigis.ErrorCode(err))
	}
	if msg := munigis.ErrorMessage(err); !strings.Contains(msg, "kais_parcels") || !strings.Contains(msg, "not reachable") {
		t.Errorf("message %q should name the layer and say it is not reachable", msg)
	}
	checkErrorTile(t, img, 256, 256)
}

func TestMapTimeoutIsHonoured(t *testing.T) {
	s := newStub(t)
	s.delay = 3 * time.Second
	c := New(Config{Timeout: 150 * time.Millisecond})
	start := time.Now()
	img, err := c.Map(context.Background(), wmsLayer(s.srv.URL), crs(t, "EPSG:3857"), 0, 0, 1000, 1000, 300, 200)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Map took %v with a 150 ms timeout", took)
	}
	if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(err.Error(), "no answer within 150ms") {
		t.Fatalf("error %v, want unavailable: no answer within 150ms", err)
	}
	checkErrorTile(t, img, 300, 200)
}

func TestMapCallerCancelEndsTheWait(t *testing.T) {
	s := newStub(t)
	s.delay = time.Second
	c := New(Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	img, err := c.Map(ctx, wmsLayer(s.srv.URL), crs(t, "EPSG:3857"), 0, 0, 1000, 1000, 64, 64)
	if time.Since(start) > time.Second || munigis.ErrorCode(err) != munigis.Unavailable {
		t.Fatalf("after %v: %v, want an early unavailable error", time.Since(start), err)
	}
	if img == nil || img.Bounds().Dx() != 64 {
		t.Fatalf("want a 64×64 error tile, got %v", img)
	}
}

func TestMapRefusesWhatIsNotTheImage(t *testing.T) {
	cases := []struct {
		mode string
		want string // in err.Error(), which includes the cause for the log
	}{
		{"500", "HTTP status 500"},
		{"exception", "service exception: LayerNotDefined: no layer kais:parcels"},
		{"plainexception", "service exception: InvalidCRS: bad CRS"},
		{"exception400", "HTTP status 400 with a service exception: InvalidParameterValue: bad BBOX"},
		{"html", `"text/html", not an image`},
		{"garbage", "not a readable image"},
		{"wrongsize", "512×400 png image for a 256×200 request"},
		{"big", "larger than 32768 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			s := newStub(t)
			s.set(tc.mode)
			c := New(Config{MaxBytes: 32 << 10})
			img, err := c.Map(context.Background(), wmsLayer(s.srv.URL), crs(t, "EPSG:3857"), 0, 0, 1000, 1000, 256, 200)
			if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want unavailable containing %q", err, tc.want)
			}
			checkErrorTile(t, img, 256, 200)
			// The remote's own words go to the log, not to the client.
			if msg := munigis.ErrorMessage(err); strings.Contains(msg, "database down") {
				t.Errorf("client-facing message %q carries the remote's body", msg)
			}
		})
	}
}

func TestMapRemembersAFailureBriefly(t *testing.T) {
	s := newStub(t)
	s.set("500")
	c := New(Config{FailTTL: 5 * time.Second})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	l, cr := wmsLayer(s.srv.URL), crs(t, "EPSG:3857")
	for range 3 {
		if _, err := c.Map(context.Background(), l, cr, 0, 0, 1000, 1000, 256, 256); err == nil {
			t.Fatal("want an error while the remote fails")
		}
	}
	if n := s.count.Load(); n != 1 {
		t.Fatalf("a failing remote was asked %d times within FailTTL, want 1", n)
	}
	s.set("")
	now = now.Add(6 * time.Second)
	img, err := c.Map(context.Background(), l, cr, 0, 0, 1000, 1000, 256, 256)
	if err != nil || !isStub(img) {
		t.Fatalf("after FailTTL, with the remote back: %v", err)
	}
}

func TestMapRefusesBadArguments(t *testing.T) {
	c := New(Config{})
	ok := wmsLayer("http://127.0.0.1:1/wms")
	local := ok
	local.Source = "local"
	noName := ok
	noName.SourceLayer = ""
	ftp := ok
	ftp.SourceURL = "ftp://example.org/wms"
	cases := []struct {
		name string
		l    layers.Layer
		w, h int
		box  [4]float64
		want string
	}{
		{"local layer", local, 256, 256, [4]float64{0, 0, 1, 1}, "not a remote WMS layer"},
		{"zero width", ok, 0, 256, [4]float64{0, 0, 1, 1}, "image size 0×256 out of range"},
		{"huge", ok, 5000, 5000, [4]float64{0, 0, 1, 1}, "out of range"},
		{"inverted box", ok, 256, 256, [4]float64{1, 0, 0, 1}, "empty or inverted box"},
		{"no source layer", noName, 256, 256, [4]float64{0, 0, 1, 1}, "no source_layer"},
		{"not http", ftp, 256, 256, [4]float64{0, 0, 1, 1}, "not an http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := c.Map(context.Background(), tc.l, crs(t, "EPSG:3857"), tc.box[0], tc.box[1], tc.box[2], tc.box[3], tc.w, tc.h)
			if img != nil || munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got (%v, %v), want no image and invalid %q", img != nil, err, tc.want)
			}
		})
	}
}

func TestCacheStaysWithinItsSize(t *testing.T) {
	c := newCache(1000)
	exp := time.Now().Add(time.Hour)
	now := time.Now()
	for i := range 10 {
		c.put(strconv.Itoa(i), image.NewNRGBA(image.Rect(0, 0, 1, 1)), nil, 300, exp)
	}
	if c.len() != 3 || c.size != 900 {
		t.Fatalf("%d entries, %d bytes; want the 3 newest (900 bytes)", c.len(), c.size)
	}
	if _, _, ok := c.get("9", now); !ok {
		t.Error("the newest entry was evicted")
	}
	_, _, _ = c.get("7", now) // 7 is now the most recently used: 8 goes first
	c.put("x", nil, errors.New("down"), 300, exp)
	if _, _, ok := c.get("8", now); ok {
		t.Error("the least recently used entry survived")
	}
	if _, _, ok := c.get("7", now); !ok {
		t.Error("a recently used entry was evicted")
	}
	c.put("huge", nil, nil, 2000, exp)
	if _, _, ok := c.get("huge", now); ok || c.size > 1000 {
		t.Errorf("an entry bigger than the cache was stored (size %d)", c.size)
	}
}

func TestErrorTileNamesTheLayer(t *testing.T) {
	// Drawn at both sizes the benchmark and QGIS ask for; the text wraps
	// to a 256-px tile.
	for _, sz := range [][2]int{{256, 256}, {1024, 768}} {
		checkErrorTile(t, ErrorTile(wmsLayer(""), sz[0], sz[1]), sz[0], sz[1])
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, ErrorTile(wmsLayer(""), 256, 256)); err != nil {
		t.Fatal(err)
	}
}

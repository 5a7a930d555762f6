package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"munigis/web"
)

// /ows hands each request to the service it names, in the query string (any
// case) or in the root element of an XML POST, with the body intact.
func TestOWSDispatch(t *testing.T) {
	got := map[string]string{}
	fake := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got[name] = r.Method + " " + r.URL.RawQuery + " " + string(b)
			w.WriteHeader(http.StatusOK)
		})
	}
	srv := web.New(web.Config{Version: "test"}, web.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WMS: fake("wms"), WFS: fake("wfs")})
	h := srv.Handler()
	do := func(method, target, body string) *httptest.ResponseRecorder {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, rd))
		return rec
	}

	if rec := do("GET", "/ows?service=WMS&request=GetCapabilities", ""); rec.Code != 200 || !strings.HasPrefix(got["wms"], "GET service=WMS") {
		t.Errorf("GET /ows?service=WMS: %d, wms got %q", rec.Code, got["wms"])
	}
	if rec := do("GET", "/ows?SeRvIcE=wfs&REQUEST=GetCapabilities", ""); rec.Code != 200 || got["wfs"] == "" {
		t.Errorf("GET /ows?SeRvIcE=wfs: %d, wfs got %q", rec.Code, got["wfs"])
	}
	// A long XML body, so the part read to find the service is put back.
	body := `<?xml version="1.0"?><wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0">` +
		strings.Repeat("<!-- padding -->", 500) + `<wfs:Query typeNames="x"/></wfs:GetFeature>`
	if rec := do("POST", "/ows", body); rec.Code != 200 || got["wfs"] != "POST  "+body {
		t.Errorf("POST /ows: %d; wfs got %d bytes, want the whole body (%d)", rec.Code, len(got["wfs"]), len(body)+6)
	}
	for _, c := range []struct{ target, want string }{
		{"/ows?request=GetCapabilities", "SERVICE=WMS or SERVICE=WFS"},
		{"/ows?service=WCS", `WCS\" is not served`},
	} {
		rec := do("GET", c.target, "")
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("GET %s: %d %s, want 400 saying %q", c.target, rec.Code, rec.Body, c.want)
		}
	}
	// A service that is not configured is a missing route.
	if rec := do("GET", "/ogc/collections", ""); rec.Code != http.StatusNotFound {
		t.Errorf("GET /ogc/collections without OGC API: %d, want 404", rec.Code)
	}
}

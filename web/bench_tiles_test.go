package web_test

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkWarmTile measures the server's own cost of a tile served from the
// cache: routing, middleware, access, the cache, the response. make bench
// compares the same path against tegola over HTTP (scripts/bench-tiles.sh).
func BenchmarkWarmTile(b *testing.B) {
	f := newFixture(b)
	path := tilePath("cadastre_parcels", maptile16(b, f))
	warm := httptest.NewRecorder()
	f.h.ServeHTTP(warm, httptest.NewRequest("GET", path, nil))
	if warm.Code != 200 {
		b.Fatalf("tile: %d %s", warm.Code, warm.Body)
	}
	req := httptest.NewRequest("GET", path, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

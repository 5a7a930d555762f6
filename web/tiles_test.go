package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"munigis/web"
)

// tileOf returns the tile of zoom z holding the EPSG:7801 point x, y.
func (f fixture) tileOf(t *testing.T, x, y float64, z maptile.Zoom) maptile.Tile {
	t.Helper()
	var lon, lat float64
	if err := f.pool.Pool.QueryRow(context.Background(),
		`SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 7801), 4326) p`, x, y).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	return maptile.At(orb.Point{lon, lat}, z)
}

// maptile16 is the fixture's parcels' tile at zoom 16.
func maptile16(t testing.TB, f fixture) maptile.Tile {
	t.Helper()
	var lon, lat float64
	if err := f.pool.Pool.QueryRow(context.Background(),
		`SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(490200, 4735970), 7801), 4326) p`).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	return maptile.At(orb.Point{lon, lat}, 16)
}

func tilePath(layers string, tl maptile.Tile) string {
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layers, tl.Z, tl.X, tl.Y)
}

// decode reads an MVT answer (gzipped or not) into layer name -> features.
func decode(t *testing.T, body []byte, gz bool) map[string]*mvt.Layer {
	t.Helper()
	var ls mvt.Layers
	var err error
	if gz {
		ls, err = mvt.UnmarshalGzipped(body)
	} else {
		ls, err = mvt.Unmarshal(body)
	}
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	out := map[string]*mvt.Layer{}
	for _, l := range ls {
		out[l.Name] = l
	}
	return out
}

// props returns identifier -> properties of a decoded layer.
func props(l *mvt.Layer) map[string]map[string]any {
	out := map[string]map[string]any{}
	if l == nil {
		return out
	}
	for _, f := range l.Features {
		out[fmt.Sprint(f.Properties["identifier"])] = f.Properties
	}
	return out
}

func TestTileFeaturesAndAttributes(t *testing.T) {
	f := newFixture(t)
	tl := f.tileOf(t, 490200, 4735970, 16)
	if tl != maptile.New(37388, 24140, 16) {
		t.Errorf("the fixture's tile is %v; update the z/x/y fill of TestEveryRouteHidesInternalData", tl)
	}
	rec := f.call(t, "GET", tilePath("cadastre_parcels,cadastre_buildings,benches", tl), "", map[string]string{"Accept-Encoding": "gzip"})
	if rec.Code != 200 {
		t.Fatalf("tile: %d %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	if h.Get("Content-Type") != "application/vnd.mapbox-vector-tile" || h.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(h.Get("Vary"), "Accept-Encoding") || h.Get("Cache-Control") != "public, max-age=60" || h.Get("ETag") == "" {
		t.Errorf("headers %v", h)
	}
	ls := decode(t, rec.Body.Bytes(), true)
	parcels := props(ls["cadastre_parcels"])
	if len(parcels) != 2 || parcels["68134.100.5"]["land_use"] != "жилищна" || parcels["68134.100.5"]["area_m2"] != float64(1600) {
		t.Errorf("parcels %v", parcels)
	}
	for _, ft := range ls["cadastre_parcels"].Features {
		if ft.ID == nil || ft.Geometry.GeoJSONType() != "Polygon" && ft.Geometry.GeoJSONType() != "MultiPolygon" {
			t.Errorf("feature id %v geometry %T", ft.ID, ft.Geometry)
		}
	}
	if b := props(ls["cadastre_buildings"]); len(b) != 1 || b["68134.100.5.1"]["floors"] != int64(2) && b["68134.100.5.1"]["floors"] != float64(2) {
		t.Errorf("buildings %v", b)
	}
	bench := ls["benches"]
	if bench == nil || len(bench.Features) != 1 || bench.Features[0].Properties["colour"] != "зелен" {
		t.Fatalf("benches %v", bench)
	}
	if _, ok := bench.Features[0].Properties["secret_note"]; ok {
		t.Error("the public sees an internal field in a tile")
	}
	// Plain, for clients without gzip.
	rec = f.call(t, "GET", tilePath("benches", tl), "", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "" {
		t.Fatalf("plain tile: %d %v", rec.Code, rec.Header())
	}
	decode(t, rec.Body.Bytes(), false)

	// Staff see the internal field, privately.
	rec = f.call(t, "GET", tilePath("benches", tl), "", map[string]string{"Authorization": "Bearer " + f.token})
	if ls := decode(t, rec.Body.Bytes(), false); ls["benches"] == nil || ls["benches"].Features[0].Properties["secret_note"] != "SECRET-NOTE-VALUE" {
		t.Errorf("staff tile %v", ls["benches"])
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "private, max-age=0, must-revalidate" {
		t.Errorf("staff Cache-Control %q", cc)
	}
}

func TestInternalLayerTilesHidden(t *testing.T) {
	f := newFixture(t)
	tl := f.tileOf(t, 490200, 4735950, 16)
	missing := f.call(t, "GET", tilePath("no_such_layer", tl), "", nil)
	for _, p := range []string{tilePath("utility_lines", tl), tilePath("cadastre_parcels,utility_lines", tl), "/tiles/utility_lines.json"} {
		rec := f.call(t, "GET", p, "", nil)
		if rec.Code != 404 || strings.Contains(rec.Body.String(), "SECRET") {
			t.Errorf("public GET %s: %d %s", p, rec.Code, rec.Body)
		}
		want := strings.ReplaceAll(missing.Body.String(), "no_such_layer", "utility_lines")
		if rec.Body.String() != want {
			t.Errorf("GET %s answers %s, a missing layer %s", p, rec.Body, missing.Body)
		}
	}
	rec := f.call(t, "GET", tilePath("utility_lines", tl), "", map[string]string{"Authorization": "Bearer " + f.token})
	if rec.Code != 200 {
		t.Fatalf("staff: %d %s", rec.Code, rec.Body)
	}
	if ls := decode(t, rec.Body.Bytes(), false); ls["utility_lines"] == nil || ls["utility_lines"].Features[0].Properties["operator"] != "SECRET-OPERATOR-LINE" {
		t.Errorf("staff utility tile %v", ls)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "private, max-age=0, must-revalidate" {
		t.Errorf("internal Cache-Control %q", cc)
	}
	// The public's cached parcels tile is not the staff's and vice versa.
	rec = f.call(t, "GET", "/tiles/utility_lines.json", "", map[string]string{"Authorization": "Bearer " + f.token})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"operator":"String"`) {
		t.Errorf("staff TileJSON %d %s", rec.Code, rec.Body)
	}
}

func TestTileJSON(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest("GET", "/tiles/benches.json", nil)
	r.Host = "maps.troyan.bg"
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var tj struct {
		TileJSON     string    `json:"tilejson"`
		Tiles        []string  `json:"tiles"`
		MinZoom      int       `json:"minzoom"`
		MaxZoom      int       `json:"maxzoom"`
		Bounds       []float64 `json:"bounds"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tj); err != nil {
		t.Fatal(err)
	}
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != "http://maps.troyan.bg/tiles/benches/{z}/{x}/{y}.mvt" ||
		tj.MinZoom != 0 || tj.MaxZoom != 22 || len(tj.Bounds) != 4 || tj.Bounds[0] < 25.3 || tj.Bounds[2] > 25.5 ||
		len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != "benches" {
		t.Errorf("TileJSON %s", rec.Body)
	}
	if fl := tj.VectorLayers[0].Fields; fl["colour"] != "String" || len(fl) != 1 {
		t.Errorf("public fields %v", fl)
	}
	rec = f.call(t, "GET", "/tiles/cadastre_parcels.json", "", nil)
	if !strings.Contains(rec.Body.String(), `"area_m2":"Number"`) || !strings.Contains(rec.Body.String(), `"minzoom":12`) {
		t.Errorf("parcels TileJSON %s", rec.Body)
	}
}

func TestTileCacheETagAnd304(t *testing.T) {
	f := newFixture(t)
	tl := f.tileOf(t, 490200, 4735970, 16)
	p := tilePath("cadastre_parcels", tl)
	a := f.call(t, "GET", p, "", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	b := f.call(t, "GET", p, "", map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if a.Code != 200 || !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) || a.Header().Get("ETag") != b.Header().Get("ETag") {
		t.Fatalf("a cache hit differs: %d, ETags %s %s", a.Code, a.Header().Get("ETag"), b.Header().Get("ETag"))
	}
	if n, _ := f.tiler.Cache().Stats(); n != 1 {
		t.Errorf("cache holds %d tiles, want 1", n)
	}
	// Without a notification (no listener here) the cache keeps serving
	// what it holds: the key test's listener is what refreshes it.
	if _, err := f.pool.Pool.Exec(context.Background(), `UPDATE features.cadastre_parcels SET land_use = 'нива'`); err != nil {
		t.Fatal(err)
	}
	if c := f.call(t, "GET", p, "", map[string]string{"Accept-Encoding": "gzip"}); !bytes.Equal(c.Body.Bytes(), a.Body.Bytes()) {
		t.Error("not served from the cache")
	}
	plain := f.call(t, "GET", p, "", nil)
	if plain.Header().Get("ETag") == a.Header().Get("ETag") {
		t.Error("gzip and plain answers share an ETag")
	}
	zr, _ := gzip.NewReader(bytes.NewReader(a.Body.Bytes()))
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plain.Body.Bytes()) {
		t.Error("gzip and plain bodies differ")
	}
	nm := f.call(t, "GET", p, "", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": a.Header().Get("ETag")})
	if nm.Code != 304 || nm.Body.Len() != 0 || nm.Header().Get("ETag") != a.Header().Get("ETag") {
		t.Errorf("If-None-Match: %d %q", nm.Code, nm.Body)
	}
	if c := f.call(t, "GET", p, "", map[string]string{"If-None-Match": `"other"`}); c.Code != 200 {
		t.Errorf("a different ETag: %d", c.Code)
	}
	// Below the layer's min_zoom (12), and an empty tile: 204.
	low := f.tileOf(t, 490200, 4735970, 11)
	if c := f.call(t, "GET", tilePath("cadastre_parcels", low), "", nil); c.Code != 204 || c.Body.Len() != 0 {
		t.Errorf("below min zoom: %d", c.Code)
	}
	if c := f.call(t, "GET", "/tiles/cadastre_parcels/16/0/0.mvt", "", nil); c.Code != 204 {
		t.Errorf("empty tile: %d", c.Code)
	}
}

func TestTileBadPaths(t *testing.T) {
	f := newFixture(t)
	for p, want := range map[string]int{
		"/tiles/cadastre_parcels/25/0/0.mvt":                 400,
		"/tiles/cadastre_parcels/-1/0/0.mvt":                 400,
		"/tiles/cadastre_parcels/2/4/0.mvt":                  400,
		"/tiles/cadastre_parcels/2/0/4.mvt":                  400,
		"/tiles/cadastre_parcels/2/-1/0.mvt":                 400,
		"/tiles/cadastre_parcels/a/0/0.mvt":                  400,
		"/tiles/cadastre_parcels/1/0/x.mvt":                  400,
		"/tiles/cadastre_parcels/99999999999/0/0.mvt":        400,
		"/tiles/cadastre_parcels/1/0/0.png":                  404,
		"/tiles/cadastre_parcels/1/0.mvt":                    404,
		"/tiles/nope/1/0/0.mvt":                              404,
		"/tiles/NOPE;drop/1/0/0.mvt":                         404,
		"/tiles/cadastre_parcels,/1/0/0.mvt":                 404,
		"/tiles/cadastre_parcels,cadastre_parcels/1/0/0.mvt": 400,
		"/tiles/nope.json":                                   404,
		"/tiles/cadastre_parcels,benches.json":               404,
		"/tiles/" + strings.Repeat("a,", 40) + "a/1/0/0.mvt": 400,
	} {
		rec := f.call(t, "GET", p, "", nil)
		if rec.Code != want || !strings.Contains(rec.Body.String(), `"message"`) {
			t.Errorf("GET %s: %d %s, want %d", p, rec.Code, rec.Body, want)
		}
	}
}

// TestTileInvalidatedByPlainSQL is the key test: an edit made with plain
// SQL on another connection, not through munigis, reaches the next tile.
func TestTileInvalidatedByPlainSQL(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	l := f.tiler.Listen(ctx, f.pool.Pool.Config().ConnConfig, nil)
	t.Cleanup(func() { cancel(); <-l.Done() })
	select {
	case <-l.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("the listener did not start")
	}
	other, err := pgx.Connect(context.Background(), f.pool.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())

	tl := f.tileOf(t, 490200, 4735970, 16)
	p := tilePath("cadastre_parcels,benches", tl)
	get := func() (map[string]map[string]any, string) {
		rec := f.call(t, "GET", p, "", nil)
		if rec.Code != 200 {
			t.Fatalf("tile: %d %s", rec.Code, rec.Body)
		}
		return props(decode(t, rec.Body.Bytes(), false)["cadastre_parcels"]), rec.Header().Get("ETag")
	}
	before, etag := get()
	if before["68134.100.5"]["land_use"] != "жилищна" {
		t.Fatalf("before: %v", before)
	}
	if _, again := get(); again != etag {
		t.Fatal("the second request was not a cache hit")
	}
	// Tiles of other places stay cached: a tile far away.
	far := tilePath("cadastre_parcels", maptile.New(0, 0, 16))
	f.call(t, "GET", far, "", nil)
	n0, _ := f.tiler.Cache().Stats()

	// 1. An attribute.
	if _, err := other.Exec(context.Background(), `UPDATE features.cadastre_parcels SET land_use = 'нива' WHERE identifier = '68134.100.5'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { got, _ := get(); return got["68134.100.5"]["land_use"] == "нива" }, "the attribute change")
	if n, _ := f.tiler.Cache().Stats(); n != n0 {
		t.Errorf("cache holds %d tiles after the edit and a refill, want %d (the far tile kept)", n, n0)
	}

	// 2. A geometry: parcel .6 moves 2 km east, out of this tile, into one
	// that was cached empty.
	tl2 := f.tileOf(t, 492237, 4735973, 16)
	p2 := tilePath("cadastre_parcels", tl2)
	if c := f.call(t, "GET", p2, "", nil); c.Code != 204 {
		t.Fatalf("destination tile before: %d", c.Code)
	}
	if _, err := other.Exec(context.Background(), `UPDATE features.cadastre_parcels SET geom = ST_Translate(geom, 2000, 0) WHERE identifier = '68134.100.6'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { got, _ := get(); _, ok := got["68134.100.6"]; return !ok }, "the old place")
	waitFor(t, func() bool {
		c := f.call(t, "GET", p2, "", nil)
		return c.Code == 200 && props(decode(t, c.Body.Bytes(), false)["cadastre_parcels"])["68134.100.6"] != nil
	}, "the new place")

	// 3. A deletion and an insertion in one transaction.
	tx, err := other.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec(context.Background(), `DELETE FROM features.benches`)
	tx.Exec(context.Background(), `INSERT INTO features.cadastre_parcels (geom, identifier, land_use)
		VALUES (ST_Multi(ST_MakeEnvelope(490190, 4735960, 490200, 4735970, 7801)), '68134.100.99', 'нива')`)
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		rec := f.call(t, "GET", p, "", nil)
		ls := decode(t, rec.Body.Bytes(), false)
		return ls["benches"] == nil && props(ls["cadastre_parcels"])["68134.100.99"] != nil
	}, "the delete and insert")

	// 4. A catalog change drops everything.
	f.call(t, "GET", far, "", nil)
	if _, err := other.Exec(context.Background(), `UPDATE layers SET title_en = title_en || ' (renamed)' WHERE name = 'benches'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { n, _ := f.tiler.Cache().Stats(); return n == 0 }, "the catalog change")

	// 5. A lost listening connection: reconnected, everything dropped
	// (notifications may have been missed), and edits are followed again.
	f.call(t, "GET", far, "", nil)
	if _, err := other.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN munigis_tiles'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { n, _ := f.tiler.Cache().Stats(); return n == 0 }, "the reconnection")
	get()
	if _, err := other.Exec(context.Background(), `UPDATE features.cadastre_parcels SET land_use = 'гора' WHERE identifier = '68134.100.5'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { got, _ := get(); return got["68134.100.5"]["land_use"] == "гора" }, "an edit after the reconnection")
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach the tile within 2 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The tile URL is read the same way by the router's route and by the
// server's shortcut for tiles.
func TestTilePath(t *testing.T) {
	for path, want := range map[string]string{
		"/tiles/cadastre_parcels/16/37388/24140.mvt":   "cadastre_parcels 16 37388 24140",
		"/tiles/a,b/0/0/0.mvt":                         "a,b 0 0 0",
		"/tiles/a/b/1/2/3.mvt":                         "",
		"/tiles//1/2/3.mvt":                            "",
		"/tiles/a/1//3.mvt":                            "",
		"/tiles/a/1/2/3.pbf":                           "",
		"/tiles/a/1/2.mvt":                             "",
		"/tiles/a.json":                                "",
		"/tile/a/1/2/3.mvt":                            "",
		"/tiles/cadastre_parcels/16/37388/24140.mvt/x": "",
	} {
		name, z, x, y, ok := web.TilePath(path)
		got := ""
		if ok {
			got = name + " " + z + " " + x + " " + y
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", path, got, want)
		}
	}
}

package tiles_test

import (
	"context"
	"fmt"
	"munigis"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/tiles"
)

func TestParseTile(t *testing.T) {
	for _, c := range []struct {
		z, x, y string
		ok      bool
	}{
		{"0", "0", "0", true}, {"24", "16777215", "16777215", true}, {"25", "0", "0", false},
		{"1", "2", "0", false}, {"1", "0", "2", false}, {"-1", "0", "0", false}, {"a", "0", "0", false},
		{"3", "1.5", "0", false}, {"3", "+1", "0", false}, {"", "0", "0", false}, {"1", "0", "99999999999999999999", false},
	} {
		_, err := tiles.ParseTile(c.z, c.x, c.y)
		if (err == nil) != c.ok {
			t.Errorf("%s/%s/%s: %v", c.z, c.x, c.y, err)
		}
	}
}

func tileOf(z maptile.Zoom, x, y uint32) maptile.Tile { return maptile.New(x, y, z) }

func TestCacheInvalidateByExtentAndSize(t *testing.T) {
	c := tiles.NewCache(1 << 20)
	put := func(layers []string, tl maptile.Tile) {
		tiles.PutForTest(c, layers, tl, make([]byte, 100))
	}
	// A tile of layer a at every zoom over the point (1000, 1000), one far
	// away, and a two-layer tile.
	near := []maptile.Tile{tileOf(0, 0, 0)}
	for z := 1; z <= 20; z++ {
		n := uint32(1) << z
		near = append(near, tileOf(maptile.Zoom(z), n/2, n/2-1)) // NE of the origin: x >= 0, y >= 0 in 3857
	}
	for _, tl := range near {
		put([]string{"a"}, tl)
	}
	put([]string{"a"}, tileOf(10, 0, 0))
	put([]string{"b", "a"}, tileOf(15, 1<<14, 1<<14-1))
	put([]string{"b"}, tileOf(15, 1<<14, 1<<14-1))
	if n, _ := c.Stats(); n != 24 {
		t.Fatalf("%d tiles cached", n)
	}
	// An edit at (10, 10) m: every "near" tile, and the two-layer one.
	dropped := c.Invalidate("a", 10, 10, 11, 11, 64.0/4096)
	if dropped != 22 {
		t.Errorf("dropped %d tiles, want 22", dropped)
	}
	if n, _ := c.Stats(); n != 2 {
		t.Errorf("%d tiles left, want the far tile of a and the tile of b alone", n)
	}
	// Just outside a z20 tile's edge but inside its buffer: dropped as well.
	w := 2 * 20037508.342789244 / (1 << 20)
	put([]string{"a"}, tileOf(20, 1<<19, 1<<19-1))
	if c.Invalidate("a", w+w*32/4096, 10, w+w*32/4096, 10, 64.0/4096) != 1 {
		t.Error("an edit in the buffer did not drop the tile")
	}
	put([]string{"a"}, tileOf(20, 1<<19, 1<<19-1))
	if c.Invalidate("a", w+w*128/4096, 10, w+w*128/4096, 10, 64.0/4096) != 0 {
		t.Error("an edit beyond the buffer dropped the tile")
	}
	// The byte bound: 4,000 tiles of ~400 bytes into 1 MB.
	for i := 0; i < 4000; i++ {
		put([]string{"c"}, tileOf(16, uint32(i), 7))
	}
	if _, size := c.Stats(); size > 1<<20 {
		t.Errorf("the cache holds %d bytes, over its 1 MB bound", size)
	}
	c.InvalidateAll()
	if n, size := c.Stats(); n != 0 || size != 0 {
		t.Errorf("after InvalidateAll: %d tiles, %d bytes", n, size)
	}
}

// TestLowZoomsStaySmall loads a few thousand small parcels and a few large
// ones, lowers the parcels' min zoom to 0, and checks that every tile from
// z0 to z16 over them stays bounded, that sub-pixel parcels are dropped at
// low zoom and kept at high zoom, and that the feature cap keeps the
// biggest.
func TestLowZoomsStaySmall(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	// 6,000 parcels of 20 x 20 m on a grid, and 20 of 2 x 2 km.
	_, err := db.Pool.Exec(ctx, `
		UPDATE layers SET min_zoom = 0 WHERE name = 'cadastre_parcels';
		INSERT INTO features.cadastre_parcels (geom, identifier, land_use)
		SELECT ST_Multi(ST_MakeEnvelope(x0, y0, x0 + 20, y0 + 20, 7801)),
		       '68134.' || (100 + i / 1000) || '.' || (i % 1000 + 1), 'нива'
		FROM generate_series(0, 5999) i,
		     LATERAL (SELECT 490000 + (i % 100) * 25.0 AS x0, 4735000 + (i / 100) * 25.0 AS y0) p;
		INSERT INTO features.cadastre_parcels (geom, identifier, land_use)
		SELECT ST_Multi(ST_MakeEnvelope(480000 + i * 2100, 4737000, 482000 + i * 2100, 4739000, 7801)),
		       '68134.900.' || (i + 1), 'гора'
		FROM generate_series(0, 19) i;`)
	if err != nil {
		t.Fatal(err)
	}
	store := layers.NewStore(db.Pool)
	l, err := store.Layer(ctx, "cadastre_parcels")
	if err != nil {
		t.Fatal(err)
	}
	var lon, lat float64
	if err := db.Pool.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(491250, 4735750), 7801), 4326) p`).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	tiler := tiles.New(db.Pool, store, tiles.Config{CacheBytes: -1})
	spec := []tiles.LayerSpec{{Layer: l, Attributes: l.Type.Attributes}}
	count := func(b []byte) (small, big int) {
		ls, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ls {
			for _, f := range x.Features {
				if strings.HasPrefix(fmt.Sprint(f.Properties["identifier"]), "68134.900.") {
					big++
				} else {
					small++
				}
			}
		}
		return
	}
	bigAt12 := 0
	for z := maptile.Zoom(0); z <= 16; z++ {
		tl := maptile.At([2]float64{lon, lat}, z)
		start := time.Now()
		b, err := tiler.Render(ctx, tiles.Request{Layers: spec, Tile: tl})
		if err != nil {
			t.Fatalf("z%d: %v", z, err)
		}
		took := time.Since(start)
		small, big := count(b)
		t.Logf("z%-2d %v: %6d bytes, %4d small + %2d big parcels, %v", z, tl, len(b), small, big, took.Round(time.Microsecond))
		if len(b) > 500_000 {
			t.Errorf("z%d: %d bytes", z, len(b))
		}
		// A 20 m parcel is under a pixel (1/512 of a tile) below z12.
		if z <= 11 && small != 0 {
			t.Errorf("z%d: %d sub-pixel parcels kept", z, small)
		}
		if z == 12 {
			bigAt12 = big
		}
		if z >= 14 && small == 0 {
			t.Errorf("z%d: no small parcels at full detail", z)
		}
	}
	// The cap keeps the biggest.
	capped := tiles.New(db.Pool, store, tiles.Config{CacheBytes: -1, MaxFeatures: 10})
	b, err := capped.Render(ctx, tiles.Request{Layers: spec, Tile: maptile.At([2]float64{lon, lat}, 12)})
	if err != nil {
		t.Fatal(err)
	}
	if small, big := count(b); small+big != 10 || big != bigAt12 || big == 0 {
		t.Errorf("capped tile: %d small, %d big; uncapped: %d big", small, big, bigAt12)
	}
	// The SQL text is stable within a zoom class, so it is prepared once.
	q10, _ := tiler.SQL(tiles.Request{Layers: spec, Tile: maptile.New(1, 1, 10)})
	q11, _ := tiler.SQL(tiles.Request{Layers: spec, Tile: maptile.New(5, 7, 11)})
	q15, _ := tiler.SQL(tiles.Request{Layers: spec, Tile: maptile.New(5, 7, 15)})
	if q10 != q11 || q10 == q15 || !strings.Contains(q10, "ST_Simplify") || strings.Contains(q15, "ST_Simplify") {
		t.Errorf("SQL classes:\n%s\n%s", q10, q15)
	}
}

// Sync makes an edit that has just committed visible to the very next
// tile request, without waiting for the notification to arrive by chance.
func TestSyncAppliesCommittedEditsBeforeReturning(t *testing.T) {
	db := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var id int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO features.cadastre_parcels (geom, identifier, land_use)
		VALUES (ST_Multi(ST_MakeEnvelope(490000, 4735000, 490040, 4735040, 7801)), '68134.100.1', 'нива') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	store := layers.NewStore(db.Pool)
	l, err := store.Layer(ctx, "cadastre_parcels")
	if err != nil {
		t.Fatal(err)
	}
	var lon, lat float64
	if err := db.Pool.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(490020, 4735020), 7801), 4326) p`).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	tiler := tiles.New(db.Pool, store, tiles.Config{})
	req := tiles.Request{Layers: []tiles.LayerSpec{{Layer: l, Attributes: l.Type.Attributes}}, Tile: maptile.At([2]float64{lon, lat}, 16)}
	landUse := func() (string, bool) {
		tile, err := tiler.Tile(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := mvt.Unmarshal(tile.Data)
		if err != nil || len(ls) != 1 || len(ls[0].Features) != 1 {
			t.Fatalf("tile: %v, %d layers", err, len(ls))
		}
		return fmt.Sprint(ls[0].Features[0].Properties["land_use"]), tile.Cached
	}

	// Not listening: Sync drops everything, which is safe.
	landUse()
	if _, cached := landUse(); !cached {
		t.Fatal("second request was not served from the cache")
	}
	tiler.Sync(ctx)
	if _, cached := landUse(); cached {
		t.Error("Sync without a listener kept the cache")
	}

	l2 := tiler.Listen(ctx, db.Pool.Config().ConnConfig, nil)
	select {
	case <-l2.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("listener not ready")
	}
	for i, use := range []string{"ливада", "гора", "нива", "улица", "пасище"} {
		landUse() // cached now
		if _, err := db.Pool.Exec(ctx, `UPDATE features.cadastre_parcels SET land_use = $1 WHERE id = $2`, use, id); err != nil {
			t.Fatal(err)
		}
		tiler.Sync(ctx)
		if got, cached := landUse(); got != use || cached {
			t.Fatalf("edit %d: tile right after Sync shows %q (cached %v), want %q", i, got, cached, use)
		}
	}
}

// A tile waits for a query slot up to QueueTimeout (a burst of slow
// low-zoom tiles queues rather than fails), then answers "busy".
func TestTilesQueueForASlot(t *testing.T) {
	db, store, spec := parcelsSpec(t)
	ctx := context.Background()
	req := tiles.Request{Layers: spec, Tile: maptile.New(37388, 24140, 16)}
	tiler := tiles.New(db.Pool, store, tiles.Config{CacheBytes: -1, MaxConcurrent: 1, QueueTimeout: 300 * time.Millisecond})

	release := tiles.HoldSlotsForTest(tiler)
	start := time.Now()
	_, err := tiler.Render(ctx, req)
	if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(munigis.ErrorMessage(err), "busy") {
		t.Fatalf("all slots taken: %v, want Unavailable saying busy", err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("gave up after %v, before the queue timeout", waited)
	}
	// A slot freed within the queue timeout: the tile is built.
	go func() { time.Sleep(100 * time.Millisecond); release() }()
	if _, err := tiler.Render(ctx, req); err != nil {
		t.Errorf("slot freed after 100 ms: %v", err)
	}
}

// Slow low-zoom tiles take only their own share of the slots: while every
// generalised slot is busy, a z12 tile waits (and gives up "busy"), and a
// z16 tile is still built at once.
func TestTilesGeneralisedShareOfSlots(t *testing.T) {
	db, store, spec := parcelsSpec(t)
	ctx := context.Background()
	tiler := tiles.New(db.Pool, store, tiles.Config{CacheBytes: -1, MaxConcurrent: 4, MaxConcurrentGeneral: 1,
		QueueTimeout: 300 * time.Millisecond})
	release := tiles.HoldGeneralSlotsForTest(tiler)
	defer release()

	_, err := tiler.Render(ctx, tiles.Request{Layers: spec, Tile: maptile.New(37388, 24140, 16).Parent().Parent().Parent().Parent()})
	if munigis.ErrorCode(err) != munigis.Unavailable || !strings.Contains(munigis.ErrorMessage(err), "busy") {
		t.Fatalf("z12 tile with the generalised slots taken: %v, want Unavailable saying busy", err)
	}
	start := time.Now()
	if _, err := tiler.Render(ctx, tiles.Request{Layers: spec, Tile: maptile.New(37388, 24140, 16)}); err != nil {
		t.Fatalf("z16 tile with the generalised slots taken: %v", err)
	}
	if waited := time.Since(start); waited > 250*time.Millisecond {
		t.Errorf("the z16 tile waited %v: detail tiles must not queue behind low-zoom ones", waited)
	}
}

// parcelsSpec is a fresh database with its store and the parcels layer
// asked for with all its attributes.
func parcelsSpec(t *testing.T) (*pgtest.DB, *layers.Store, []tiles.LayerSpec) {
	t.Helper()
	db := pgtest.New(t)
	store := layers.NewStore(db.Pool)
	l, err := store.Layer(context.Background(), "cadastre_parcels")
	if err != nil {
		t.Fatal(err)
	}
	return db, store, []tiles.LayerSpec{{Layer: l, Attributes: l.Type.Attributes}}
}

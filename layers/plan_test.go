package layers_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/spatial"
)

// A page of the features in a box is read through the spatial index, never
// by walking the primary key and skipping what lies outside the box: on a
// million parcels that walk read 677,000 of them for a box whose parcels
// have high ids. The plan is checked both ways PostgreSQL may plan a
// prepared statement (for these values, and generic).
func TestBoxPageUsesTheSpatialIndex(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 20000}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ANALYZE features.cadastre_parcels`); err != nil {
		t.Fatal(err)
	}
	store := layers.NewStore(db.Pool)
	l, err := store.Layer(ctx, "cadastre_parcels")
	if err != nil {
		t.Fatal(err)
	}
	// The box of the 300 parcels with the highest ids.
	var box spatial.BBox
	if err := db.Pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
		SELECT ST_Extent(geom) AS e FROM (SELECT geom FROM features.cadastre_parcels ORDER BY id DESC LIMIT 300) x) y`).
		Scan(&box.MinX, &box.MinY, &box.MaxX, &box.MaxY); err != nil {
		t.Fatal(err)
	}
	sql, args, err := layers.SelectSQLForTest(l, layers.Query{BBox: &box, BBoxSRID: spatial.StorageSRID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"auto", "force_generic_plan"} {
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		if _, err = tx.Exec(ctx, `SET LOCAL plan_cache_mode = `+mode); err == nil {
			err = tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+sql, args...).Scan(&plan)
		}
		_ = tx.Rollback(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, "cadastre_parcels_pkey") {
			t.Errorf("plan_cache_mode %s: the box's page walks the primary key:\n%s", mode, plan)
		}
		if !strings.Contains(plan, `"Index Name": "cadastre_parcels_geom`) {
			t.Errorf("plan_cache_mode %s: the box's page does not use the spatial index:\n%s", mode, plan)
		}
	}

	// Still in id order.
	var ids []int64
	if err := store.Features(ctx, l, layers.Query{BBox: &box, BBoxSRID: spatial.StorageSRID, Limit: 100}, func(f layers.Feature) error {
		ids = append(ids, f.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 100 {
		t.Fatalf("%d features in the box's first page, want 100", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("page not in id order: %v", ids)
		}
	}
}

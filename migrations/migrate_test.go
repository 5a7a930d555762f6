package migrations_test

import (
	"context"
	"testing"

	"munigis/internal/pgtest"
	"munigis/migrations"
)

func TestMigrationsAreNumberedOnce(t *testing.T) {
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range all {
		if m.Version != i+1 {
			t.Errorf("migration %d is numbered %06d; numbers must run 1, 2, 3 … without gaps", i+1, m.Version)
		}
	}
}

func TestUpIsIdempotentAndAddsEPSG9391(t *testing.T) {
	db := pgtest.New(t) // already migrated through Up
	ctx := context.Background()
	applied, err := migrations.Up(ctx, db.Pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Errorf("second Up applied %v, want nothing", applied)
	}
	v, err := migrations.Version(ctx, db.Pool)
	if err != nil || v != migrations.Latest() {
		t.Errorf("Version = %d, %v; want %d", v, err, migrations.Latest())
	}
	// EPSG:9391 must transform like its deprecated twin 7804.
	var x, y float64
	err = db.Pool.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(25.38, 42.759), 4326), 9391) p`).Scan(&x, &y)
	if err != nil {
		t.Fatalf("transform to EPSG:9391: %v", err)
	}
	if x < 300000 || x > 400000 || y < 4700000 || y > 4800000 {
		t.Errorf("EPSG:9391 of lon 25.38 lat 42.759 = %.1f %.1f, want UTM 35N easting ~331000, northing ~4736000", x, y)
	}
	// The storage CRS test vector of cadastre-bg.md §3.3.
	err = db.Pool.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint(25.3799991, 42.7589996), 4258), 7801) p`).Scan(&x, &y)
	if err != nil {
		t.Fatal(err)
	}
	if d := x - 490177.508; d > 0.01 || d < -0.01 {
		t.Errorf("EPSG:7801 easting = %.3f, want 490177.508", x)
	}
	if d := y - 4735953.349; d > 0.01 || d < -0.01 {
		t.Errorf("EPSG:7801 northing = %.3f, want 4735953.349", y)
	}
}

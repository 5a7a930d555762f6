package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"munigis"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/spatial"
)

const parcels = 2000

func load(t *testing.T, opt demo.Options) (*pgtest.DB, demo.Summary) {
	t.Helper()
	db := pgtest.New(t)
	sum, err := demo.Load(context.Background(), db.Pool, opt, nil)
	if err != nil {
		t.Fatalf("Load(%+v) = %v", opt, err)
	}
	return db, sum
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	empty, err := demo.Empty(ctx, db.Pool)
	if err != nil || !empty {
		t.Fatalf("Empty before loading = %v, %v; want true", empty, err)
	}
	var progress bytes.Buffer
	sum, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: parcels, Progress: true}, &progress)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	t.Log("\n" + sum.String())
	if !strings.Contains(progress.String(), "cadastre_parcels") {
		t.Errorf("progress output %q does not name the layers", progress.String())
	}
	if empty, err := demo.Empty(ctx, db.Pool); err != nil || empty {
		t.Errorf("Empty after loading = %v, %v; want false", empty, err)
	}

	t.Run("every built-in layer has features", func(t *testing.T) {
		rows, err := db.Pool.Query(ctx, `SELECT l.name FROM layers l JOIN layer_types t ON t.name = l.layer_type
			WHERE t.built_in AND l.source = 'local' ORDER BY l.name`)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(names) < 14 {
			t.Fatalf("only %d built-in layers: %v", len(names), names)
		}
		for _, n := range names {
			var count int64
			var foreign bool
			err := db.Pool.QueryRow(ctx, `SELECT count(*), bool_or(created_by <> 'demo') FROM features.`+n).Scan(&count, &foreign)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			if count == 0 || count != sum.Count(n) || foreign {
				t.Errorf("%s: %d features (summary %d), some not by demo: %v", n, count, sum.Count(n), foreign)
			}
		}
		if got := sum.Count("cadastre_parcels"); got != parcels {
			t.Errorf("loaded %d parcels, want exactly %d", got, parcels)
		}
	})

	t.Run("parcel identifiers", func(t *testing.T) {
		rows, err := db.Pool.Query(ctx, `SELECT identifier FROM features.cadastre_parcels`)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			p, err := spatial.Parse(id)
			if err != nil || p.Level() != spatial.LevelParcel || p.EKATTE() != demo.DefaultEKATTE || seen[id] {
				t.Fatalf("parcel identifier %q: %v (repeated: %v)", id, err, seen[id])
			}
			seen[id] = true
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		// Parcel numbers are 1, 2, … within each cadastral area.
		var gaps int
		err = db.Pool.QueryRow(ctx, `SELECT count(*) FROM (
				SELECT split_part(identifier, '.', 2) AS area, max(split_part(identifier, '.', 3)::int) AS hi, count(*) AS n
				FROM features.cadastre_parcels GROUP BY 1) a WHERE hi <> n`).Scan(&gaps)
		if err != nil || gaps != 0 {
			t.Errorf("%d cadastral areas with gaps in parcel numbers (%v)", gaps, err)
		}
	})

	t.Run("buildings stand inside their parcels", func(t *testing.T) {
		var outside, orphans, total int
		err := db.Pool.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE p.id IS NOT NULL AND NOT ST_Within(b.geom, ST_Buffer(p.geom, 0.001))),
				count(*) FILTER (WHERE p.id IS NULL),
				count(*)
			FROM features.cadastre_buildings b
			LEFT JOIN features.cadastre_parcels p
				ON p.identifier = left(b.identifier, length(b.identifier) - strpos(reverse(b.identifier), '.'))`).
			Scan(&outside, &orphans, &total)
		if err != nil {
			t.Fatal(err)
		}
		if outside != 0 || orphans != 0 || total == 0 {
			t.Errorf("of %d buildings %d stand outside their parcel and %d have no parent parcel", total, outside, orphans)
		}
		// The setback: a metre inside, not just inside.
		var close int
		err = db.Pool.QueryRow(ctx, `SELECT count(*) FROM features.cadastre_buildings b
			JOIN features.cadastre_parcels p ON b.identifier LIKE p.identifier || '.%'
			WHERE NOT ST_Within(b.geom, ST_Buffer(p.geom, -0.9))`).Scan(&close)
		if err != nil || close != 0 {
			t.Errorf("%d buildings closer than 0.9 m to their parcel's boundary (%v)", close, err)
		}
	})

	t.Run("units belong to multi-unit buildings", func(t *testing.T) {
		var bad int
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM features.cadastre_units u
			LEFT JOIN features.cadastre_buildings b
				ON b.identifier = left(u.identifier, length(u.identifier) - strpos(reverse(u.identifier), '.'))
			WHERE b.id IS NULL OR b.units_count < 2 OR NOT ST_Within(u.geom, ST_Buffer(b.geom, 0.001))`).Scan(&bad)
		if err != nil || bad != 0 {
			t.Errorf("%d units without a multi-unit building around them (%v)", bad, err)
		}
		var mismatched int
		err = db.Pool.QueryRow(ctx, `SELECT count(*) FROM features.cadastre_buildings b
			WHERE b.units_count >= 2 AND b.units_count <> (SELECT count(*) FROM features.cadastre_units u
				WHERE u.identifier LIKE b.identifier || '.%')`).Scan(&mismatched)
		if err != nil || mismatched != 0 {
			t.Errorf("%d buildings whose units_count differs from their units (%v)", mismatched, err)
		}
	})

	t.Run("parcels tile their quarters", func(t *testing.T) {
		var overlaps int
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM features.cadastre_parcels a
			JOIN features.cadastre_parcels b ON a.id < b.id AND a.geom && b.geom
			WHERE ST_Overlaps(a.geom, b.geom)`).Scan(&overlaps)
		if err != nil || overlaps != 0 {
			t.Errorf("%d overlapping parcel pairs (%v)", overlaps, err)
		}
		var quarters, off int
		err = db.Pool.QueryRow(ctx, `WITH s AS (
				SELECT q.id, ST_Area(q.geom) AS qa, sum(ST_Area(p.geom)) AS pa
				FROM features.regulation_quarters q
				JOIN features.cadastre_parcels p ON ST_Within(ST_PointOnSurface(p.geom), q.geom)
				GROUP BY q.id, q.geom)
			SELECT count(*), count(*) FILTER (WHERE abs(pa - qa) > 0.005 * qa) FROM s`).Scan(&quarters, &off)
		if err != nil || off != 0 || quarters != int(sum.Count("regulation_quarters")) {
			t.Errorf("%d of %d quarters (of %d) whose parcels do not add up to them (%v)",
				off, quarters, sum.Count("regulation_quarters"), err)
		}
	})

	t.Run("plots name existing parcels", func(t *testing.T) {
		var bad, merged int
		err := db.Pool.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE p.id IS NULL),
				count(DISTINCT r.id) FILTER (WHERE r.parcel_ids LIKE '%,%')
			FROM features.regulation_plots r
			CROSS JOIN LATERAL unnest(string_to_array(r.parcel_ids, ', ')) AS i(id)
			LEFT JOIN features.cadastre_parcels p ON p.identifier = i.id`).Scan(&bad, &merged)
		if err != nil || bad != 0 || merged == 0 {
			t.Errorf("%d plot parcels that do not exist, %d merged plots (%v)", bad, merged, err)
		}
	})

	t.Run("geometries are where the town is", func(t *testing.T) {
		var lon, lat float64
		err := db.Pool.QueryRow(ctx, `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_SetSRID(
			ST_Centroid(ST_Extent(geom)::geometry), 7801), 4326) AS c FROM features.cadastre_parcels) s`).Scan(&lon, &lat)
		if err != nil || lat < 42.8 || lat > 43.0 || lon < 24.6 || lon > 24.85 {
			t.Errorf("parcels centred at %.4f, %.4f (%v); want Троян, about 42.89, 24.71", lat, lon, err)
		}
	})

	t.Run("a second load needs Replace", func(t *testing.T) {
		_, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 50}, nil)
		if munigis.ErrorCode(err) != munigis.Conflict {
			t.Fatalf("second Load = %v, want a Conflict", err)
		}
		sum, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 50, Replace: true}, nil)
		if err != nil {
			t.Fatalf("Load with Replace = %v", err)
		}
		var n int64
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM features.cadastre_parcels`).Scan(&n); err != nil || n != 50 || sum.Count("cadastre_parcels") != 50 {
			t.Errorf("after Replace %d parcels (%v), want 50", n, err)
		}
		var versions int64
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM feature_versions WHERE layer = 'cadastre_parcels' AND ended_by = 'demo'`).Scan(&versions); err != nil || versions != parcels {
			t.Errorf("history kept %d replaced parcels (%v), want %d", versions, err, parcels)
		}
	})

	t.Run("Replace never deletes others' features", func(t *testing.T) {
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SELECT set_config('munigis.actor', 'someone', true)`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO features.grassland (geom, block_code)
			VALUES (ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(431000, 4751000), 7801), 10)), 'x')`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = demo.Load(ctx, db.Pool, demo.Options{Parcels: 50, Replace: true}, nil)
		if munigis.ErrorCode(err) != munigis.Conflict {
			t.Fatalf("Load over others' data = %v, want a Conflict", err)
		}
	})
}

func TestLoadRejectsBadOptions(t *testing.T) {
	db := pgtest.New(t)
	for _, opt := range []demo.Options{{EKATTE: "73199"}, {EKATTE: "7319"}, {Parcels: -1}, {Parcels: demo.MaxParcels + 1}} {
		if _, err := demo.Load(context.Background(), db.Pool, opt, nil); munigis.ErrorCode(err) != munigis.Invalid {
			t.Errorf("Load(%+v) = %v, want Invalid", opt, err)
		}
	}
}

// parcelsMD5 is the md5 of every parcel's WKB, attributes included, in
// identifier order.
func parcelsMD5(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	var sum string
	err := db.Pool.QueryRow(context.Background(), `SELECT md5(string_agg(
			encode(ST_AsBinary(geom), 'hex') || identifier || area_m2 || land_use || ownership || address, ','
			ORDER BY identifier)) FROM features.cadastre_parcels`).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestLoadIsDeterministic(t *testing.T) {
	opt := demo.Options{Parcels: parcels, Seed: 42, EKATTE: "68134"}
	a, _ := load(t, opt)
	b, _ := load(t, opt)
	opt.Seed = 43
	c, _ := load(t, opt)
	ma, mb, mc := parcelsMD5(t, a), parcelsMD5(t, b), parcelsMD5(t, c)
	if ma != mb {
		t.Errorf("the same seed gave different parcels: %s, %s", ma, mb)
	}
	if ma == mc {
		t.Errorf("seeds 42 and 43 gave the same parcels")
	}
	var prefix bool
	if err := a.Pool.QueryRow(context.Background(), `SELECT bool_and(identifier LIKE '68134.%') FROM features.cadastre_parcels`).Scan(&prefix); err != nil || !prefix {
		t.Errorf("parcels of EKATTE 68134 do not all start with it (%v)", err)
	}
}

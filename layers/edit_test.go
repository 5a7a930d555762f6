package layers_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/spatial"
)

func sq(minx, miny, size float64) *geom.Polygon {
	return box(minx, miny, minx+size, miny+size, spatial.StorageSRID)
}

type versionRow struct {
	version          int
	createdBy, ended string
	how              string
}

func versions(t *testing.T, ctx context.Context, db *pgtest.DB, layer string, id int64) []versionRow {
	t.Helper()
	rows, err := db.Pool.Query(ctx, `SELECT version, created_by, ended_by, ended_how FROM feature_versions
		WHERE layer = $1 AND feature_id = $2 ORDER BY version`, layer, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []versionRow
	for rows.Next() {
		var v versionRow
		if err := rows.Scan(&v.version, &v.createdBy, &v.ended, &v.how); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestEditLifecycle(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	parcels, err := store.Layer(ctx, "cadastre_parcels")
	if err != nil {
		t.Fatal(err)
	}
	alice := munigis.WithActor(ctx, "U-alice")
	bob := munigis.WithActor(ctx, "U-bob")

	// Insert: a single Polygon into a MultiPolygon layer, in WGS 84, with
	// values as text (as WFS sends them) and typed (as JSON does).
	var wgs geom.T
	if err := db.Pool.QueryRow(ctx, `SELECT ST_Transform(ST_MakeEnvelope(490000, 4735000, 490020, 4735030, 7801), 4326)`).Scan(&wgs); err != nil {
		t.Fatal(err)
	}
	var id1, id2 int64
	err = store.Edit(alice, func(ctx context.Context, e *layers.Edit) error {
		var err error
		if id1, err = e.Insert(ctx, parcels, wgs, map[string]any{"identifier": "68134.100.5", "area_m2": "600.5", "land_use": "жилищна"}); err != nil {
			return err
		}
		id2, err = e.Insert(ctx, parcels, sq(490100, 4735000, 10), map[string]any{"identifier": "68134.100.6", "area_m2": 100})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := store.Feature(ctx, parcels, id1, spatial.StorageSRID, parcels.Type.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	if _, multi := f.Geometry.(*geom.MultiPolygon); !multi {
		t.Errorf("stored geometry is %T, want a MultiPolygon", f.Geometry)
	}
	if b := f.Geometry.Bounds(); math.Abs(b.Min(0)-490000) > 1e-3 || math.Abs(b.Max(1)-4735030) > 1e-3 {
		t.Errorf("stored geometry bounds %v, want 490000 4735000 490020 4735030 (transformed from WGS 84)", b)
	}
	if f.Properties["area_m2"] != 600.5 || f.Properties["land_use"] != "жилищна" || f.Properties["ownership"] != nil {
		t.Errorf("stored properties %v", f.Properties)
	}
	if f.CreatedBy != "U-alice" || f.Version != 1 {
		t.Errorf("created by %q version %d, want U-alice, 1", f.CreatedBy, f.Version)
	}

	// Update by filter: both features, by bob; each gets a version row.
	var n int64
	err = store.Edit(bob, func(ctx context.Context, e *layers.Edit) error {
		var err error
		n, err = e.Update(ctx, parcels, layers.Like{Property: "identifier", Pattern: "68134.100.*"}, nil, map[string]any{"ownership": "общинска публична"})
		return err
	})
	if err != nil || n != 2 {
		t.Fatalf("update: %d changed, err %v; want 2", n, err)
	}
	if v := versions(t, ctx, db, "cadastre_parcels", id2); len(v) != 1 || v[0].createdBy != "U-alice" || v[0].ended != "U-bob" || v[0].how != "update" {
		t.Errorf("versions of feature %d after update: %+v", id2, v)
	}

	// Replace: attributes left out become NULL, the geometry is new.
	err = store.Edit(bob, func(ctx context.Context, e *layers.Edit) error {
		return e.Replace(ctx, parcels, id1, sq(490000, 4735000, 50), map[string]any{"identifier": "68134.100.5", "address": "ул. Васил Левски 1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	f, _ = store.Feature(ctx, parcels, id1, spatial.StorageSRID, parcels.Type.Attributes)
	if f.Properties["area_m2"] != nil || f.Properties["ownership"] != nil || f.Properties["address"] != "ул. Васил Левски 1" || f.Version != 3 || f.UpdatedBy != "U-bob" {
		t.Errorf("after replace: version %d by %s, properties %v", f.Version, f.UpdatedBy, f.Properties)
	}
	if b := f.Geometry.Bounds(); b.Max(0) != 490050 {
		t.Errorf("after replace bounds %v, want the 50 m square", b)
	}
	err = store.Edit(bob, func(ctx context.Context, e *layers.Edit) error {
		return e.Replace(ctx, parcels, 999999, sq(0, 0, 1), map[string]any{"identifier": "68134.100.9"})
	})
	if munigis.ErrorCode(err) != munigis.NotFound || !strings.Contains(munigis.ErrorMessage(err), "no feature 999999") {
		t.Errorf("replace of a missing feature: %v, want NotFound", err)
	}

	// Delete by ids: the history keeps the last version, ended by alice.
	err = store.Edit(alice, func(ctx context.Context, e *layers.Edit) error {
		var err error
		n, err = e.Delete(ctx, parcels, layers.IDs{id1})
		return err
	})
	if err != nil || n != 1 {
		t.Fatalf("delete: %d, err %v; want 1", n, err)
	}
	v := versions(t, ctx, db, "cadastre_parcels", id1)
	if len(v) != 3 || v[2].version != 3 || v[2].ended != "U-alice" || v[2].how != "delete" {
		t.Errorf("versions of the deleted feature: %+v", v)
	}
	if _, err := store.Feature(ctx, parcels, id1, 0, nil); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("deleted feature still readable: %v", err)
	}
	// The audit trail names the actor of each statement (its triggers, not ours).
	var audited int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action LIKE 'feature.%' AND actor IN ('U-alice', 'U-bob')`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited < 4 {
		t.Errorf("%d audited feature statements by alice and bob, want at least 4", audited)
	}
}

func TestEditIsAllOrNothing(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := munigis.WithActor(context.Background(), "U-1")
	store := layers.NewStore(db.Pool)
	parcels, _ := store.Layer(ctx, "cadastre_parcels")
	buildings, _ := store.Layer(ctx, "cadastre_buildings")
	insertParcel(t, ctx, db, "68134.100.1", "490000, 4735000, 490010, 4735010")

	tests := []struct {
		name   string
		second func(ctx context.Context, e *layers.Edit) error
		code   munigis.Code
		want   string
	}{
		{"duplicate identifier", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, parcels, sq(0, 0, 1), map[string]any{"identifier": "68134.100.1"})
			return err
		}, munigis.Conflict, "a record with the same identifier already exists"},
		{"bad cadastral identifier", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, parcels, sq(0, 0, 1), map[string]any{"identifier": "68135.100.7"})
			return err
		}, munigis.Invalid, "identifier is not a valid cadastral identifier"},
		{"self-intersecting polygon", func(ctx context.Context, e *layers.Edit) error {
			bow := geom.NewPolygon(geom.XY).MustSetCoords([][]geom.Coord{{{0, 0}, {10, 10}, {10, 0}, {0, 10}, {0, 0}}}).SetSRID(7801)
			_, err := e.Insert(ctx, parcels, bow, map[string]any{"identifier": "68134.100.8"})
			return err
		}, munigis.Invalid, "invalid geometry: Self-intersection"},
		{"wrong geometry type", func(ctx context.Context, e *layers.Edit) error {
			line := geom.NewLineString(geom.XY).MustSetCoords([]geom.Coord{{0, 0}, {1, 1}}).SetSRID(7801)
			_, err := e.Insert(ctx, parcels, line, map[string]any{"identifier": "68134.100.8"})
			return err
		}, munigis.Invalid, "layer cadastre_parcels takes MultiPolygon or Polygon geometries, not LineString"},
		{"geometry without srid", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, parcels, box(0, 0, 1, 1, 0), map[string]any{"identifier": "68134.100.8"})
			return err
		}, munigis.Invalid, "the geometry has no CRS"},
		{"no geometry", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, parcels, nil, map[string]any{"identifier": "68134.100.8"})
			return err
		}, munigis.Invalid, "the geometry is missing"},
		{"required attribute missing", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, parcels, sq(0, 0, 1), map[string]any{"area_m2": 5})
			return err
		}, munigis.Invalid, `attribute "identifier" of layer cadastre_parcels is required`},
		{"required attribute cleared by update", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Update(ctx, parcels, layers.And{}, nil, map[string]any{"identifier": nil})
			return err
		}, munigis.Invalid, `attribute "identifier" of layer cadastre_parcels is required`},
		{"required attribute left out of a replace", func(ctx context.Context, e *layers.Edit) error {
			return e.Replace(ctx, parcels, 1, sq(0, 0, 1), map[string]any{"area_m2": 5})
		}, munigis.Invalid, `attribute "identifier" of layer cadastre_parcels is required`},
		{"unknown attribute", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, parcels, sq(0, 0, 1), map[string]any{"identifier": "68134.100.8", "colour": "red"})
			return err
		}, munigis.Invalid, `layer cadastre_parcels has no attribute "colour"`},
		{"system column as attribute", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Update(ctx, parcels, layers.And{}, nil, map[string]any{"created_by": "mallory"})
			return err
		}, munigis.Invalid, `layer cadastre_parcels has no attribute "created_by"`},
		{"text for an integer", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, buildings, sq(0, 0, 1), map[string]any{"identifier": "68134.100.1.1", "floors": "три"})
			return err
		}, munigis.Invalid, `attribute "floors": "три" is not an integer`},
		{"boolean for an integer", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, buildings, sq(0, 0, 1), map[string]any{"identifier": "68134.100.1.1", "floors": true})
			return err
		}, munigis.Invalid, `attribute "floors" takes an integer, not true`},
		{"value outside the enum", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Insert(ctx, parcels, sq(0, 0, 1), map[string]any{"identifier": "68134.100.8", "land_use": "луна"})
			return err
		}, munigis.Invalid, `attribute "land_use" of layer cadastre_parcels: "луна" is not one of`},
		{"update without a filter", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Update(ctx, parcels, nil, nil, map[string]any{"area_m2": 1})
			return err
		}, munigis.Invalid, "needs a filter"},
		{"delete without a filter", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Delete(ctx, parcels, nil)
			return err
		}, munigis.Invalid, "needs a filter"},
		{"update that changes nothing", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Update(ctx, parcels, layers.And{}, nil, nil)
			return err
		}, munigis.Invalid, "changes nothing"},
		{"delete filter on an unknown property", func(ctx context.Context, e *layers.Edit) error {
			_, err := e.Delete(ctx, parcels, layers.Compare{Property: "nope", Op: layers.Eq, Value: "1"})
			return err
		}, munigis.Invalid, `unknown property "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, ctx, db)
			err := store.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
				// A first change that succeeds, which the failure must undo.
				if _, err := e.Insert(ctx, parcels, sq(500, 500, 5), map[string]any{"identifier": "68134.200.1"}); err != nil {
					t.Fatalf("first insert: %v", err)
				}
				if _, err := e.Update(ctx, parcels, layers.IDs{1}, nil, map[string]any{"area_m2": 7}); err != nil {
					t.Fatalf("first update: %v", err)
				}
				return tc.second(ctx, e)
			})
			if munigis.ErrorCode(err) != tc.code || !strings.Contains(munigis.ErrorMessage(err), tc.want) {
				t.Errorf("error = %q (%s), want %s containing %q", munigis.ErrorMessage(err), munigis.ErrorCode(err), tc.code, tc.want)
			}
			if after := snapshot(t, ctx, db); after != before {
				t.Errorf("the database changed although the edit failed: before %q, after %q", before, after)
			}
		})
	}
}

// snapshot summarises every row a failed edit could have touched.
func snapshot(t *testing.T, ctx context.Context, db *pgtest.DB) string {
	t.Helper()
	var s string
	err := db.Pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(string_agg(id || ':' || identifier || ':' || coalesce(area_m2::text, '-') || ':' || version, ',' ORDER BY id), '') FROM features.cadastre_parcels) || '|' ||
		(SELECT count(*) FROM features.cadastre_buildings) || '|' ||
		(SELECT count(*) FROM feature_versions)`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEditGeometryTypes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	lines, _ := store.Layer(ctx, "utility_lines")       // MultiLineString
	manholes, _ := store.Layer(ctx, "utility_manholes") // Point
	if lines.Type.GeometryType != "MultiLineString" || manholes.Type.GeometryType != "Point" {
		t.Fatalf("fixture assumption broken: utility_lines is %s, utility_manholes %s", lines.Type.GeometryType, manholes.Type.GeometryType)
	}
	line := geom.NewLineString(geom.XY).MustSetCoords([]geom.Coord{{490000, 4735000}, {490050, 4735000}}).SetSRID(7801)
	// A 3D point is stored flat: the columns are 2D.
	p3 := geom.NewPoint(geom.XYZ).MustSetCoords(geom.Coord{490000, 4735000, 512}).SetSRID(7801)
	multiPoint := geom.NewMultiPoint(geom.XY).MustSetCoords([]geom.Coord{{490000, 4735000}}).SetSRID(7801)
	err := store.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		if _, err := e.Insert(ctx, lines, line, map[string]any{"network": "water", "diameter_mm": "110"}); err != nil {
			return err
		}
		_, err := e.Insert(ctx, manholes, p3, map[string]any{"network": "water"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var kinds string
	db.Pool.QueryRow(ctx, `SELECT (SELECT GeometryType(geom) FROM features.utility_lines) || ' ' ||
		(SELECT GeometryType(geom) || ST_NDims(geom) FROM features.utility_manholes)`).Scan(&kinds)
	if kinds != "MULTILINESTRING POINT2" {
		t.Errorf("stored %q, want MULTILINESTRING POINT2", kinds)
	}
	err = store.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		_, err := e.Insert(ctx, manholes, multiPoint, map[string]any{"network": "water"})
		return err
	})
	if munigis.ErrorCode(err) != munigis.Invalid || munigis.ErrorMessage(err) != "layer utility_manholes takes Point geometries, not MultiPoint" {
		t.Errorf("multipoint into a point layer: %q", munigis.ErrorMessage(err))
	}
}

func TestOnEditRunsAfterCommitOnly(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	calls := 0
	var seen int
	store.OnEdit(func(ctx context.Context) {
		calls++
		// The change is committed: another connection sees it.
		db.Pool.QueryRow(ctx, `SELECT count(*) FROM features.cadastre_parcels`).Scan(&seen)
	})
	parcels, _ := store.Layer(ctx, "cadastre_parcels")
	err := store.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		_, err := e.Insert(ctx, parcels, sq(0, 0, 1), map[string]any{"identifier": "68134.100.1"})
		return err
	})
	if err != nil || calls != 1 || seen != 1 {
		t.Errorf("after a committed edit: err %v, hook ran %d times and saw %d parcels; want nil, 1, 1", err, calls, seen)
	}
	err = store.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		_, err := e.Insert(ctx, parcels, sq(0, 0, 1), map[string]any{"identifier": "68134.100.1"})
		return err
	})
	if munigis.ErrorCode(err) != munigis.Conflict || calls != 1 {
		t.Errorf("after a failed edit: err %v, hook ran %d times; want Conflict, still 1", err, calls)
	}
}

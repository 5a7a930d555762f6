package layers_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/spatial"
)

// thingsType has one attribute of every type, and an internal one.
var thingsType = layers.Type{Name: "things", TitleBG: "Неща", TitleEN: "Things", GeometryType: "Point",
	Attributes: []layers.Attribute{
		{Name: "name", Type: layers.Text, TitleBG: "Име", TitleEN: "Name", Required: true},
		{Name: "code", Type: layers.CadastralID, TitleBG: "Код", TitleEN: "Code"},
		{Name: "num", Type: layers.Integer, TitleBG: "Номер", TitleEN: "Number"},
		{Name: "x", Type: layers.Number, TitleBG: "Х", TitleEN: "X"},
		{Name: "d", Type: layers.Date, TitleBG: "Дата", TitleEN: "Date"},
		{Name: "ok", Type: layers.Boolean, TitleBG: "Да", TitleEN: "OK"},
		{Name: "kind", Type: layers.Enum, TitleBG: "Вид", TitleEN: "Kind", Values: []string{"a", "b", "c"}},
		{Name: "secret", Type: layers.Text, TitleBG: "Тайна", TitleEN: "Secret", Internal: true},
	}}

// thingsRows are the fixture: ids 1..8 in this order. Points lie on a line
// 10 m apart from (490000, 4735000) in EPSG:7801, except 5..8, far away.
const thingsRows = `INSERT INTO features.things (geom, name, num, x, d, ok, kind, secret) VALUES
	('SRID=7801;POINT(490000 4735000)', 'Alpha', 1, 1.5, '2024-01-01', true, 'a', 's1'),
	('SRID=7801;POINT(490010 4735000)', 'alpha', 2, 2.5, '2024-02-01', false, 'b', 's2'),
	('SRID=7801;POINT(490020 4735000)', 'Beta 50%', 3, NULL, '2024-03-01', true, 'a', NULL),
	('SRID=7801;POINT(490030 4735000)', 'beta_x', NULL, 4.0, NULL, NULL, 'c', NULL),
	('SRID=7801;POINT(490100 4735100)', 'Gamma*star', 5, 5.5, '2025-01-01', false, NULL, NULL),
	('SRID=7801;POINT(490200 4735200)', 'O''Brien''; DROP TABLE features.things; --', 6, 6.5, NULL, NULL, NULL, NULL),
	('SRID=7801;POINT(490300 4735300)', '50 lev', 7, 7.5, NULL, NULL, NULL, NULL),
	('SRID=7801;POINT(490400 4735400)', 'betaQx', 8, 8.5, NULL, NULL, NULL, NULL)`

// TestThingsLayer runs the read-only checks on one fixture layer (one
// database clone instead of four).
func TestThingsLayer(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	store, l := newThings(t, ctx, db)
	for name, check := range map[string]func(*testing.T, context.Context, *pgtest.DB, *layers.Store, layers.Layer){
		"FilterKinds": filterKinds, "FilterRefusesBadInput": filterRefusesBadInput,
		"SortAndPaging": sortAndPaging, "Extent": extent,
	} {
		t.Run(name, func(t *testing.T) { check(t, ctx, db, store, l) })
	}
}

// newThings creates the things layer with the fixture rows.
func newThings(t *testing.T, ctx context.Context, db *pgtest.DB) (*layers.Store, layers.Layer) {
	t.Helper()
	store := layers.NewStore(db.Pool)
	if err := store.CreateType(ctx, thingsType); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateLayer(ctx, layers.Layer{Name: "things", TypeName: "things", TitleBG: "Неща", TitleEN: "Things", Visibility: layers.Public}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, thingsRows); err != nil {
		t.Fatal(err)
	}
	l, err := store.Layer(ctx, "things")
	if err != nil {
		t.Fatal(err)
	}
	return store, l
}

// publicAttrs are the attributes without the internal ones.
func publicAttrs(l layers.Layer) []layers.Attribute {
	var out []layers.Attribute
	for _, a := range l.Type.Attributes {
		if !a.Internal {
			out = append(out, a)
		}
	}
	return out
}

func ids(t *testing.T, ctx context.Context, store *layers.Store, l layers.Layer, q layers.Query) ([]int64, error) {
	t.Helper()
	var out []int64
	err := store.Features(ctx, l, q, func(f layers.Feature) error {
		out = append(out, f.ID)
		return nil
	})
	return out, err
}

func point(x, y float64, srid int) *geom.Point {
	return geom.NewPoint(geom.XY).MustSetCoords(geom.Coord{x, y}).SetSRID(srid)
}

func box(minx, miny, maxx, maxy float64, srid int) *geom.Polygon {
	return geom.NewPolygon(geom.XY).MustSetCoords([][]geom.Coord{{
		{minx, miny}, {maxx, miny}, {maxx, maxy}, {minx, maxy}, {minx, miny}}}).SetSRID(srid)
}

func filterKinds(t *testing.T, ctx context.Context, db *pgtest.DB, store *layers.Store, l layers.Layer) {

	// The first three points' envelope, in WGS 84 (as a WFS client sends
	// it), computed by PostGIS so the test does not trust our transform.
	var wgs geom.T
	if err := db.Pool.QueryRow(ctx, `SELECT ST_Transform(ST_MakeEnvelope(489995, 4734995, 490025, 4735005, 7801), 4326)`).Scan(&wgs); err != nil {
		t.Fatal(err)
	}
	everything := []int64{1, 2, 3, 4, 5, 6, 7, 8}
	tests := []struct {
		name string
		f    layers.Filter
		want []int64
	}{
		{"eq text ignoring case", layers.Compare{Property: "name", Op: layers.Eq, Value: "ALPHA"}, []int64{1, 2}},
		{"eq text matching case", layers.Compare{Property: "name", Op: layers.Eq, Value: "alpha", MatchCase: true}, []int64{2}},
		{"ne integer leaves out nulls", layers.Compare{Property: "num", Op: layers.Ne, Value: int64(2)}, []int64{1, 3, 5, 6, 7, 8}},
		{"lt integer from a string", layers.Compare{Property: "num", Op: layers.Lt, Value: "3"}, []int64{1, 2}},
		{"le integer from an int", layers.Compare{Property: "num", Op: layers.Le, Value: 3}, []int64{1, 2, 3}},
		{"ge number from a float", layers.Compare{Property: "x", Op: layers.Ge, Value: 6.5}, []int64{6, 7, 8}},
		{"gt number from a string", layers.Compare{Property: "x", Op: layers.Gt, Value: "7"}, []int64{7, 8}},
		{"integer compared with a fraction-free float", layers.Compare{Property: "num", Op: layers.Gt, Value: 6.0}, []int64{7, 8}},
		{"boolean from text", layers.Compare{Property: "ok", Op: layers.Eq, Value: "true"}, []int64{1, 3}},
		{"boolean from 0", layers.Compare{Property: "ok", Op: layers.Eq, Value: "0"}, []int64{2, 5}},
		{"boolean from bool", layers.Compare{Property: "ok", Op: layers.Eq, Value: false}, []int64{2, 5}},
		{"date eq", layers.Compare{Property: "d", Op: layers.Eq, Value: "2024-02-01"}, []int64{2}},
		{"date gt", layers.Compare{Property: "d", Op: layers.Gt, Value: "2024-02-15"}, []int64{3, 5}},
		{"enum eq", layers.Compare{Property: "kind", Op: layers.Eq, Value: "a", MatchCase: true}, []int64{1, 3}},
		{"enum value that does not exist matches nothing", layers.Compare{Property: "kind", Op: layers.Eq, Value: "z"}, nil},
		{"id", layers.Compare{Property: "id", Op: layers.Ge, Value: "7"}, []int64{7, 8}},
		{"between integers", layers.Between{Property: "num", Lower: "2", Upper: int64(5)}, []int64{2, 3, 5}},
		{"between dates", layers.Between{Property: "d", Lower: "2024-01-15", Upper: "2024-12-31"}, []int64{2, 3}},
		{"like prefix ignoring case", layers.Like{Property: "name", Pattern: "beta*"}, []int64{3, 4, 8}},
		{"like prefix matching case", layers.Like{Property: "name", Pattern: "beta*", MatchCase: true}, []int64{4, 8}},
		{"like single char", layers.Like{Property: "name", Pattern: "beta.x"}, []int64{4, 8}},
		{"like literal underscore", layers.Like{Property: "name", Pattern: "beta_x"}, []int64{4}},
		{"like literal percent", layers.Like{Property: "name", Pattern: "*50%"}, []int64{3}},
		{"like escaped wildcard", layers.Like{Property: "name", Pattern: "Gamma!*s*"}, []int64{5}},
		{"like custom characters", layers.Like{Property: "name", Pattern: "al%a", Wildcard: '%', SingleChar: '?', Escape: '\\'}, []int64{1, 2}},
		{"like custom escape of the wildcard", layers.Like{Property: "name", Pattern: "%\\%", Wildcard: '%', SingleChar: '?', Escape: '\\'}, []int64{3}},
		{"like on a number", layers.Like{Property: "x", Pattern: "*.5"}, []int64{1, 2, 5, 6, 7, 8}},
		{"is null", layers.IsNull{Property: "num"}, []int64{4}},
		{"not keeps nulls", layers.Not{F: layers.Compare{Property: "kind", Op: layers.Eq, Value: "a"}}, []int64{2, 4, 5, 6, 7, 8}},
		{"empty and", layers.And{}, everything},
		{"empty or", layers.Or{}, nil},
		{"or", layers.Or{layers.Compare{Property: "num", Op: layers.Eq, Value: "1"}, layers.Compare{Property: "num", Op: layers.Eq, Value: "8"}}, []int64{1, 8}},
		{"and of like and compare", layers.And{layers.Like{Property: "name", Pattern: "*a*"}, layers.Compare{Property: "num", Op: layers.Lt, Value: "3"}}, []int64{1, 2}},
		{"nested", layers.Not{F: layers.Or{layers.IsNull{Property: "d"}, layers.And{layers.Compare{Property: "ok", Op: layers.Eq, Value: true}}}}, []int64{2, 5}},
		{"ids", layers.IDs{3, 2, 99}, []int64{2, 3}},
		{"no ids", layers.IDs{}, nil},
		{"bbox in wgs84", layers.Spatial{Op: layers.BBoxOp, Geometry: wgs}, []int64{1, 2, 3}},
		{"intersects in wgs84", layers.Spatial{Op: layers.Intersects, Geometry: wgs}, []int64{1, 2, 3}},
		{"within", layers.Spatial{Op: layers.Within, Geometry: box(489995, 4734995, 490015, 4735005, 7801)}, []int64{1, 2}},
		{"disjoint", layers.Spatial{Op: layers.Disjoint, Geometry: box(489995, 4734995, 490015, 4735005, 7801)}, []int64{3, 4, 5, 6, 7, 8}},
		{"contains", layers.Spatial{Op: layers.Contains, Geometry: point(490010, 4735000, 7801)}, []int64{2}},
		{"equals", layers.Spatial{Op: layers.Equals, Geometry: point(490010, 4735000, 7801)}, []int64{2}},
		{"touches a box edge", layers.Spatial{Op: layers.Touches, Geometry: box(490030, 4734990, 490040, 4735010, 7801)}, []int64{4}},
		{"dwithin metres", layers.Spatial{Op: layers.DWithin, Geometry: point(490000, 4735000, 7801), Distance: 15}, []int64{1, 2}},
		{"beyond metres", layers.Spatial{Op: layers.Beyond, Geometry: point(490000, 4735000, 7801), Distance: 15}, []int64{3, 4, 5, 6, 7, 8}},
		{"dwithin from utm", layers.Spatial{Op: layers.DWithin, Geometry: utmOf(t, ctx, db, 490020, 4735000), Distance: 10.5}, []int64{2, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := layers.Query{Attributes: publicAttrs(l), Filter: tc.f, SRID: spatial.StorageSRID}
			got, err := ids(t, ctx, store, l, q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
			n, err := store.Count(ctx, l, q)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(tc.want)) {
				t.Errorf("Count = %d, want %d", n, len(tc.want))
			}
		})
	}
}

// utmOf returns the 7801 point (x, y) in WGS 84 / UTM 35N, via PostGIS.
func utmOf(t *testing.T, ctx context.Context, db *pgtest.DB, x, y float64) geom.T {
	t.Helper()
	var g geom.T
	if err := db.Pool.QueryRow(ctx, `SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 7801), 32635)`, x, y).Scan(&g); err != nil {
		t.Fatal(err)
	}
	return g
}

func filterRefusesBadInput(t *testing.T, ctx context.Context, db *pgtest.DB, store *layers.Store, l layers.Layer) {
	deep := layers.Filter(layers.IsNull{Property: "num"})
	for range 100 {
		deep = layers.Not{F: deep}
	}
	tests := []struct {
		name string
		f    layers.Filter
		sort []layers.Sort
		want string
	}{
		{"unknown property", layers.Compare{Property: "nope", Op: layers.Eq, Value: "1"}, nil, `unknown property "nope"`},
		{"hidden property answers like a missing one", layers.Compare{Property: "secret", Op: layers.Eq, Value: "s1"}, nil, `unknown property "secret"`},
		{"hidden property in like", layers.Like{Property: "secret", Pattern: "s*"}, nil, `unknown property "secret"`},
		{"hidden property in is null", layers.IsNull{Property: "secret"}, nil, `unknown property "secret"`},
		{"system column", layers.Compare{Property: "created_by", Op: layers.Eq, Value: "x"}, nil, `unknown property "created_by"`},
		{"sql in a property name", layers.Compare{Property: `name" = name OR "name`, Op: layers.Eq, Value: "1"}, nil, `unknown property "name\" = name OR \"name"`},
		{"sort by hidden property", nil, []layers.Sort{{Property: "secret"}}, `unknown property "secret"`},
		{"sort by sql", nil, []layers.Sort{{Property: "num; DROP TABLE features.things"}}, `unknown property "num; DROP TABLE features.things"`},
		{"text for an integer", layers.Compare{Property: "num", Op: layers.Eq, Value: "abc"}, nil, `attribute "num": "abc" is not an integer`},
		{"fraction for an integer", layers.Compare{Property: "num", Op: layers.Eq, Value: 2.5}, nil, `attribute "num" takes an integer`},
		{"bad date", layers.Compare{Property: "d", Op: layers.Eq, Value: "1.2.2024"}, nil, `attribute "d": "1.2.2024" is not a date (YYYY-MM-DD)`},
		{"bad boolean", layers.Compare{Property: "ok", Op: layers.Eq, Value: "yes"}, nil, `attribute "ok": "yes" is not a boolean`},
		{"bad number", layers.Between{Property: "x", Lower: "1", Upper: "NaN"}, nil, `attribute "x": "NaN" is not a number`},
		{"no value", layers.Compare{Property: "num", Op: layers.Eq}, nil, `compared with no value`},
		{"unknown operator", layers.Compare{Property: "num", Op: "LIKE", Value: "1"}, nil, `unknown comparison operator "LIKE"`},
		{"geometry without srid", layers.Spatial{Op: layers.Intersects, Geometry: point(1, 2, 0)}, nil, `the filter geometry has no CRS`},
		{"geometry in an unsupported crs", layers.Spatial{Op: layers.Intersects, Geometry: point(1, 2, 2100)}, nil, `EPSG:2100, which munigis does not support`},
		{"missing geometry", layers.Spatial{Op: layers.Intersects}, nil, `the filter geometry is missing`},
		{"negative distance", layers.Spatial{Op: layers.DWithin, Geometry: point(1, 2, 7801), Distance: -1}, nil, `DWithin needs a distance of zero or more metres`},
		{"unknown spatial operator", layers.Spatial{Op: "Near", Geometry: point(1, 2, 7801)}, nil, `unknown spatial operator "Near"`},
		{"not of nothing", layers.Not{}, nil, `Not needs a filter`},
		{"nil inside and", layers.And{nil}, nil, `a filter is missing`},
		{"too deep", deep, nil, `nests deeper than`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := layers.Query{Attributes: publicAttrs(l), Filter: tc.f, SortBy: tc.sort}
			_, err := ids(t, ctx, store, l, q)
			if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(munigis.ErrorMessage(err), tc.want) {
				t.Errorf("Features error = %q (%s), want Invalid containing %q", munigis.ErrorMessage(err), munigis.ErrorCode(err), tc.want)
			}
			if tc.sort == nil {
				_, err = store.Count(ctx, l, q)
				if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(munigis.ErrorMessage(err), tc.want) {
					t.Errorf("Count error = %q (%s), want Invalid containing %q", munigis.ErrorMessage(err), munigis.ErrorCode(err), tc.want)
				}
			}
		})
	}

	// A value full of SQL is only ever a value: it matches its own row and
	// the table is still there.
	sneaky := `O'Brien'; DROP TABLE features.things; --`
	got, err := ids(t, ctx, store, l, layers.Query{Attributes: publicAttrs(l),
		Filter: layers.Compare{Property: "name", Op: layers.Eq, Value: sneaky, MatchCase: true}})
	if err != nil || !slices.Equal(got, []int64{6}) {
		t.Errorf("injection in a value: ids %v, err %v; want [6]", got, err)
	}
	got, err = ids(t, ctx, store, l, layers.Query{Attributes: publicAttrs(l),
		Filter: layers.Like{Property: "name", Pattern: `*'; DROP*`}})
	if err != nil || !slices.Equal(got, []int64{6}) {
		t.Errorf("injection in a pattern: ids %v, err %v; want [6]", got, err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM features.things`).Scan(&n); err != nil || n != 8 {
		t.Errorf("after injection attempts the table has %d rows (err %v), want 8", n, err)
	}

	// The same filter on the internal field works for a caller who may see it.
	got, err = ids(t, ctx, store, l, layers.Query{Attributes: l.Type.Attributes,
		Filter: layers.Compare{Property: "secret", Op: layers.Eq, Value: "s2"}})
	if err != nil || !slices.Equal(got, []int64{2}) {
		t.Errorf("staff filter on secret: ids %v, err %v; want [2]", got, err)
	}
}

func sortAndPaging(t *testing.T, ctx context.Context, db *pgtest.DB, store *layers.Store, l layers.Layer) {
	attrs := publicAttrs(l)
	tests := []struct {
		name string
		sort []layers.Sort
		want []int64
	}{
		{"default by id", nil, []int64{1, 2, 3, 4, 5, 6, 7, 8}},
		// Equal kinds fall back to id; NULLs sort last ascending.
		{"kind then id", []layers.Sort{{Property: "kind"}}, []int64{1, 3, 2, 4, 5, 6, 7, 8}},
		{"kind descending, ties by id ascending", []layers.Sort{{Property: "kind", Desc: true}}, []int64{5, 6, 7, 8, 4, 2, 1, 3}},
		{"number descending", []layers.Sort{{Property: "x", Desc: true}, {Property: "name"}}, []int64{3, 8, 7, 6, 5, 4, 2, 1}},
		{"id descending", []layers.Sort{{Property: "id", Desc: true}}, []int64{8, 7, 6, 5, 4, 3, 2, 1}},
		{"ok then date", []layers.Sort{{Property: "ok"}, {Property: "d", Desc: true}}, []int64{5, 2, 3, 1, 4, 6, 7, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ids(t, ctx, store, l, layers.Query{Attributes: attrs, SortBy: tc.sort})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("order = %v, want %v", got, tc.want)
			}
			// Pages of 3 put together give the same order.
			var paged []int64
			for off := 0; off < 8; off += 3 {
				page, err := ids(t, ctx, store, l, layers.Query{Attributes: attrs, SortBy: tc.sort, Limit: 3, Offset: off})
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, page...)
			}
			if !slices.Equal(paged, tc.want) {
				t.Errorf("paged order = %v, want %v", paged, tc.want)
			}
		})
	}
	// Properties come back typed, dates as YYYY-MM-DD.
	f, err := store.Feature(ctx, l, 1, spatial.StorageSRID, attrs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "Alpha", "code": nil, "num": int64(1), "x": 1.5, "d": "2024-01-01", "ok": true, "kind": "a"}
	for k, v := range want {
		if f.Properties[k] != v {
			t.Errorf("property %s = %#v, want %#v", k, f.Properties[k], v)
		}
	}
	if _, hidden := f.Properties["secret"]; hidden {
		t.Error("the internal attribute came back although not asked for")
	}
}

// TestDemoDataAgainstSQL checks filters, NoLimit and Count on the demo town
// against plain SQL written independently in the test.
func TestDemoDataAgainstSQL(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 300}, io.Discard); err != nil {
		t.Fatal(err)
	}
	store := layers.NewStore(db.Pool)
	l, err := store.Layer(ctx, "cadastre_parcels")
	if err != nil {
		t.Fatal(err)
	}
	var total, cx, cy float64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), ST_X(ST_Centroid(ST_Extent(geom)::geometry)), ST_Y(ST_Centroid(ST_Extent(geom)::geometry))
		FROM features.cadastre_parcels`).Scan(&total, &cx, &cy); err != nil {
		t.Fatal(err)
	}
	if total <= layers.DefaultLimit {
		t.Fatalf("the demo has only %v parcels; the test needs more than %d", total, layers.DefaultLimit)
	}
	var landUse string
	var medianArea float64
	if err := db.Pool.QueryRow(ctx, `SELECT mode() WITHIN GROUP (ORDER BY land_use), percentile_disc(0.5) WITHIN GROUP (ORDER BY area_m2)
		FROM features.cadastre_parcels`).Scan(&landUse, &medianArea); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    layers.Filter
		sql  string
		args []any
	}{
		{"all", nil, `true`, nil},
		{"land use", layers.Compare{Property: "land_use", Op: layers.Eq, Value: landUse, MatchCase: true}, `land_use = $1`, []any{landUse}},
		{"area above the median", layers.Compare{Property: "area_m2", Op: layers.Gt, Value: fmt.Sprint(medianArea)}, `area_m2 > $1`, []any{medianArea}},
		{"identifier prefix", layers.Like{Property: "identifier", Pattern: "*!.1*", MatchCase: true}, `identifier LIKE '%.1%'`, nil},
		{"within 150 m of the centre", layers.Spatial{Op: layers.DWithin, Geometry: point(cx, cy, 7801), Distance: 150},
			`ST_Distance(geom, ST_SetSRID(ST_MakePoint($1, $2), 7801)) <= 150`, []any{cx, cy}},
		{"not near the centre and large", layers.And{
			layers.Spatial{Op: layers.Beyond, Geometry: point(cx, cy, 7801), Distance: 150},
			layers.Compare{Property: "area_m2", Op: layers.Ge, Value: medianArea}},
			`ST_Distance(geom, ST_SetSRID(ST_MakePoint($1, $2), 7801)) > 150 AND area_m2 >= $3`, []any{cx, cy, medianArea}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []int64
			rows, err := db.Pool.Query(ctx, `SELECT id FROM features.cadastre_parcels WHERE `+tc.sql+` ORDER BY id`, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				want = append(want, id)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || (tc.f != nil && len(want) == int(total)) {
				t.Fatalf("the SQL selects %d of %v parcels: the case tests nothing", len(want), total)
			}
			q := layers.Query{Attributes: l.Type.Attributes, Filter: tc.f, Limit: layers.NoLimit}
			got, err := ids(t, ctx, store, l, q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Features gave %d ids, SQL %d (first differences: %v)", len(got), len(want), firstDiff(got, want))
			}
			n, err := store.Count(ctx, l, q)
			if err != nil || n != int64(len(want)) {
				t.Errorf("Count = %d (%v), want %d", n, err, len(want))
			}
		})
	}
	// Without NoLimit the default page applies.
	got, err := ids(t, ctx, store, l, layers.Query{})
	if err != nil || len(got) != layers.DefaultLimit {
		t.Errorf("default limit gave %d features (%v), want %d", len(got), err, layers.DefaultLimit)
	}
	// A NoLimit stream stops at the first error of fn, and returns it.
	stop := fmt.Errorf("enough")
	seen := 0
	err = store.Features(ctx, l, layers.Query{Limit: layers.NoLimit}, func(layers.Feature) error {
		seen++
		if seen == 5 {
			return stop
		}
		return nil
	})
	if err != stop || seen != 5 {
		t.Errorf("stream stopped after %d features with %v, want 5 and the callback's error", seen, err)
	}
}

func firstDiff(a, b []int64) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("at %d: %d vs %d", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d", len(a), len(b))
}

func extent(t *testing.T, ctx context.Context, db *pgtest.DB, store *layers.Store, l layers.Layer) {

	minx, miny, maxx, maxy, ok, err := store.Extent(ctx, l, spatial.StorageSRID)
	if err != nil || !ok {
		t.Fatalf("extent: ok %v err %v", ok, err)
	}
	if minx != 490000 || miny != 4735000 || maxx != 490400 || maxy != 4735400 {
		t.Errorf("extent in 7801 = %v %v %v %v, want 490000 4735000 490400 4735400", minx, miny, maxx, maxy)
	}

	// In WGS 84 the box is lon/lat (x = longitude) and covers every point.
	minx, miny, maxx, maxy, ok, err = store.Extent(ctx, l, spatial.SRIDWGS84)
	if err != nil || !ok {
		t.Fatalf("extent 4326: ok %v err %v", ok, err)
	}
	var pminx, pminy, pmaxx, pmaxy float64
	if err := db.Pool.QueryRow(ctx, `SELECT min(ST_X(g)), min(ST_Y(g)), max(ST_X(g)), max(ST_Y(g))
		FROM (SELECT ST_Transform(geom, 4326) g FROM features.things) p`).Scan(&pminx, &pminy, &pmaxx, &pmaxy); err != nil {
		t.Fatal(err)
	}
	const tol = 1e-9
	if minx > pminx+tol || miny > pminy+tol || maxx < pmaxx-tol || maxy < pmaxy-tol {
		t.Errorf("extent 4326 %v %v %v %v does not cover the points %v %v %v %v", minx, miny, maxx, maxy, pminx, pminy, pmaxx, pmaxy)
	}
	if math.Abs(minx-pminx) > 1e-4 || math.Abs(maxy-pmaxy) > 1e-4 || minx < 22 || minx > 29 || miny < 41 || miny > 45 {
		t.Errorf("extent 4326 %v %v %v %v is far from the points %v %v %v %v (or not lon/lat)", minx, miny, maxx, maxy, pminx, pminy, pmaxx, pmaxy)
	}

	if _, _, _, _, _, err := store.Extent(ctx, l, 2100); munigis.ErrorCode(err) != munigis.Invalid {
		t.Errorf("extent in EPSG:2100: error %v, want Invalid", err)
	}
	empty, err := store.Layer(ctx, "grassland")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, ok, err := store.Extent(ctx, empty, 0); ok || err != nil {
		t.Errorf("empty layer: ok %v err %v, want false, nil", ok, err)
	}
}

func TestParseValue(t *testing.T) {
	t.Parallel()
	attr := func(typ layers.AttrType) layers.Attribute { return layers.Attribute{Name: "f", Type: typ} }
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	tests := []struct {
		typ  layers.AttrType
		in   string
		want any
		err  string
	}{
		{layers.Text, " as is ", " as is ", ""},
		{layers.Enum, "не е проверено", "не е проверено", ""},
		{layers.CadastralID, "68134.100.5", "68134.100.5", ""},
		{layers.Integer, "42", int64(42), ""},
		{layers.Integer, " -7 ", int64(-7), ""},
		{layers.Integer, "3.0", int64(3), ""},
		{layers.Integer, "3.5", nil, `attribute "f": "3.5" is not an integer`},
		{layers.Integer, "99999999999999999999", nil, `is not an integer`},
		{layers.Number, "1e3", 1000.0, ""},
		{layers.Number, "Inf", nil, `attribute "f": "Inf" is not a number`},
		{layers.Number, "1,5", nil, `attribute "f": "1,5" is not a number`},
		{layers.Boolean, "TRUE", true, ""},
		{layers.Boolean, "0", false, ""},
		{layers.Boolean, "да", nil, `attribute "f": "да" is not a boolean (true, false, 1 or 0)`},
		{layers.Date, "2024-05-01", day("2024-05-01"), ""},
		{layers.Date, "2024-05-01Z", day("2024-05-01"), ""},
		{layers.Date, "2024-05-01+03:00", day("2024-05-01"), ""},
		{layers.Date, "2024-05-01T00:00:00Z", day("2024-05-01"), ""},
		{layers.Date, "2024-02-30", nil, `attribute "f": "2024-02-30" is not a date (YYYY-MM-DD)`},
		{layers.Date, "01.05.2024", nil, `is not a date`},
		{layers.Date, "2024-05-01junk", nil, `is not a date`},
		{layers.Text + "x", "a", nil, `unknown type`},
	}
	for _, tc := range tests {
		got, err := layers.ParseValue(attr(tc.typ), tc.in)
		if tc.err != "" {
			if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(munigis.ErrorMessage(err), tc.err) {
				t.Errorf("ParseValue(%s, %q) error = %v, want Invalid containing %q", tc.typ, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseValue(%s, %q) = %#v, %v; want %#v", tc.typ, tc.in, got, err, tc.want)
		}
	}
	// A long value is cut in the message, which goes back to the client.
	_, err := layers.ParseValue(attr(layers.Integer), strings.Repeat("x", 5000))
	if msg := munigis.ErrorMessage(err); len(msg) > 200 {
		t.Errorf("message for a 5000-character value is %d bytes long", len(msg))
	}
}

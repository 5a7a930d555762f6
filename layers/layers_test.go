package layers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"munigis"
	"munigis/internal/pgtest"
	"munigis/internal/postgis"
	"munigis/layers"
	"munigis/spatial"

	"github.com/jackc/pgx/v5"
)

func all(l layers.Layer) bool { return true }

func allAttrs(l layers.Layer) []layers.Attribute { return l.Type.Attributes }

const square = `ST_Multi(ST_MakeEnvelope(%s, 7801))`

func insertParcel(t *testing.T, ctx context.Context, db *pgtest.DB, id, env string) int64 {
	t.Helper()
	var fid int64
	err := db.Pool.QueryRow(ctx, `INSERT INTO features.cadastre_parcels (geom, identifier, area_m2, land_use)
		VALUES (ST_Multi(ST_MakeEnvelope(`+env+`, 7801)), $1, 100, 'жилищна') RETURNING id`, id).Scan(&fid)
	if err != nil {
		t.Fatalf("insert parcel %s: %v", id, err)
	}
	return fid
}

func TestCatalogHasEveryBuiltInType(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	all, err := store.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cadastre_parcels", "cadastre_buildings", "cadastre_units", "regulation_plots",
		"regulation_quarters", "regulation_lines", "forestry_plan", "development_plan", "general_plan_zones",
		"utility_manholes", "utility_lines", "street_segments", "grassland", "subsidy_areas"}
	got := map[string]layers.Layer{}
	for _, l := range all {
		got[l.Name] = l
	}
	for _, name := range want {
		l, ok := got[name]
		if !ok {
			t.Errorf("built-in layer %s missing from the catalog", name)
			continue
		}
		if len(l.Type.Attributes) == 0 || l.Type.GeometryType == "" || l.TitleBG == "" {
			t.Errorf("layer %s is incomplete: %+v", name, l)
		}
	}
	if got["utility_lines"].Visibility != layers.Internal {
		t.Errorf("utility_lines visibility = %s, want internal", got["utility_lines"].Visibility)
	}
}

func TestFeatureStampHistoryAndValidation(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	l, err := store.Layer(ctx, "cadastre_parcels")
	if err != nil {
		t.Fatal(err)
	}

	// An edit made through munigis is attributed to the munigis user.
	var fid int64
	err = postgis.Tx(munigis.WithActor(ctx, "U-000042"), db.Pool, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO features.cadastre_parcels (geom, identifier)
			VALUES (ST_Multi(ST_MakeEnvelope(490000, 4735000, 490020, 4735030, 7801)), '68134.100.5') RETURNING id`).Scan(&fid)
	})
	if err != nil {
		t.Fatal(err)
	}
	// An edit made straight in PostGIS (QGIS, psql) is attributed to the role.
	if _, err := db.Pool.Exec(ctx, `UPDATE features.cadastre_parcels SET area_m2 = 600, land_use = 'жилищна' WHERE id = $1`, fid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE features.cadastre_parcels SET geom = ST_Multi(ST_MakeEnvelope(490000, 4735000, 490030, 4735030, 7801)) WHERE id = $1`, fid); err != nil {
		t.Fatal(err)
	}
	f, err := store.Feature(ctx, l, fid, spatial.SRIDCCS2005, l.Type.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || f.CreatedBy != "U-000042" || f.UpdatedBy != "db:postgres" {
		t.Errorf("feature = version %d created by %q updated by %q, want 3, U-000042, db:postgres", f.Version, f.CreatedBy, f.UpdatedBy)
	}
	if f.Properties["area_m2"] != 600.0 {
		t.Errorf("area_m2 = %v, want 600", f.Properties["area_m2"])
	}
	hist, err := store.History(ctx, l, fid, spatial.SRIDCCS2005)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Version != 1 || hist[1].Version != 2 {
		t.Fatalf("history = %+v, want versions 1 and 2", hist)
	}
	if hist[0].Properties["area_m2"] != nil || hist[1].Properties["area_m2"] != 600.0 {
		t.Errorf("history kept area_m2 %v then %v, want nil then 600", hist[0].Properties["area_m2"], hist[1].Properties["area_m2"])
	}
	if hist[0].ValidFrom.Nanosecond() != 0 {
		t.Errorf("valid_from %v is not to the second", hist[0].ValidFrom)
	}

	// Delete keeps the last version.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM features.cadastre_parcels WHERE id = $1`, fid); err != nil {
		t.Fatal(err)
	}
	hist, _ = store.History(ctx, l, fid, spatial.SRIDCCS2005)
	if len(hist) != 3 || hist[2].EndedHow != "delete" {
		t.Errorf("after delete history has %d versions, last ended %q; want 3, delete", len(hist), hist[len(hist)-1].EndedHow)
	}

	// TRUNCATE would lose history and is refused.
	if _, err := db.Pool.Exec(ctx, `TRUNCATE features.cadastre_parcels`); err == nil {
		t.Error("TRUNCATE of a feature table succeeded; it must be refused")
	}
}

func TestInvalidInputIsRejectedWithReason(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	tests := []struct {
		name, sql, want string
	}{
		{"self-intersecting polygon", `INSERT INTO features.cadastre_parcels (geom, identifier)
			VALUES ('SRID=7801;MULTIPOLYGON(((0 0,10 10,10 0,0 10,0 0)))', '68134.100.7')`, "Self-intersection"},
		{"bad check digit", `INSERT INTO features.cadastre_parcels (geom, identifier)
			VALUES (ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 7801)), '68135.100.7')`, "not a valid cadastral identifier"},
		{"building id in parcel layer", `INSERT INTO features.cadastre_parcels (geom, identifier)
			VALUES (ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 7801)), '68134.100.7.1')`, "wrong number of fields"},
		{"value outside enum", `INSERT INTO features.cadastre_parcels (geom, identifier, land_use)
			VALUES (ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 7801)), '68134.100.7', 'луна')`, "land_use is not one of the allowed values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := postgis.Tx(ctx, db.Pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, tc.sql)
				return postgis.Translate(err, "insert")
			})
			if err == nil {
				t.Fatal("insert succeeded, want an error")
			}
			if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(munigis.ErrorMessage(err), tc.want) {
				t.Errorf("error = %v (%s), want Invalid containing %q", munigis.ErrorMessage(err), munigis.ErrorCode(err), tc.want)
			}
		})
	}
	var n int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM features.cadastre_parcels`).Scan(&n)
	if n != 0 {
		t.Errorf("%d parcels saved after rejected inserts, want 0", n)
	}
}

func TestCadastralHierarchy(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	insertParcel(t, ctx, db, "68134.100.5", "490000, 4735000, 490040, 4735040")
	insertParcel(t, ctx, db, "68134.100.6", "490040, 4735000, 490080, 4735040")
	_, err := db.Pool.Exec(ctx, `INSERT INTO features.cadastre_buildings (geom, identifier, floors) VALUES
		(ST_Multi(ST_MakeEnvelope(490005, 4735005, 490015, 4735015, 7801)), '68134.100.5.1', 3),
		(ST_Multi(ST_MakeEnvelope(490020, 4735020, 490030, 4735030, 7801)), '68134.100.5.2', 1);
		INSERT INTO features.cadastre_units (geom, identifier, floor) VALUES
		(ST_Multi(ST_MakeEnvelope(490005, 4735005, 490015, 4735015, 7801)), '68134.100.5.1.1', 1),
		(ST_Multi(ST_MakeEnvelope(490005, 4735005, 490015, 4735015, 7801)), '68134.100.5.1.2', 2)`)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := store.Cadastral(ctx, spatial.MustParse("68134.100.5"), spatial.SRIDWGS84, all, allAttrs)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Parent != nil || len(obj.Children) != 2 || obj.Children[0].Identifier != "68134.100.5.1" {
		t.Errorf("parcel: parent %v children %v, want none and 68134.100.5.1, .2", obj.Parent, obj.Children)
	}
	obj, err = store.Cadastral(ctx, spatial.MustParse("68134.100.5.1"), spatial.SRIDWGS84, all, allAttrs)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Parent == nil || obj.Parent.Identifier != "68134.100.5" || len(obj.Children) != 2 {
		t.Errorf("building: parent %v children %v", obj.Parent, obj.Children)
	}
	if obj.Feature.Properties["floors"] != int64(3) {
		t.Errorf("building floors = %v, want 3", obj.Feature.Properties["floors"])
	}
	_, err = store.Cadastral(ctx, spatial.MustParse("68134.100.9"), spatial.SRIDWGS84, all, allAttrs)
	if munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("unknown parcel: error %v, want NotFound", err)
	}
	// A layer the caller may not see is not searched.
	_, err = store.Cadastral(ctx, spatial.MustParse("68134.100.5.1.1"), spatial.SRIDWGS84,
		func(l layers.Layer) bool { return l.Visibility == layers.Public }, allAttrs)
	if munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("unit in internal layer seen by the public: error %v, want NotFound", err)
	}
}

func TestFeaturesBBoxAndReprojection(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	l, _ := store.Layer(ctx, "cadastre_parcels")
	// Near the test vector of cadastre-bg.md: E 490177.508, N 4735953.349
	// is lon 25.3799991, lat 42.7589996.
	insertParcel(t, ctx, db, "68134.100.5", "490177.508, 4735953.349, 490187.508, 4735963.349")
	insertParcel(t, ctx, db, "68134.100.6", "500000, 4700000, 500010, 4700010")

	var got []layers.Feature
	box := spatial.BBox{MinX: 25.37, MinY: 42.75, MaxX: 25.39, MaxY: 42.77}
	err := store.Features(ctx, l, layers.Query{BBox: &box, Attributes: l.Type.Attributes}, func(f layers.Feature) error {
		got = append(got, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Properties["identifier"] != "68134.100.5" {
		t.Fatalf("bbox query returned %d features (%v), want only 68134.100.5", len(got), got)
	}
	c := got[0].Geometry.FlatCoords()
	if d := c[0] - 25.3799991; d > 1e-6 || d < -1e-6 {
		t.Errorf("first x = %.7f, want 25.3799991 (lon)", c[0])
	}
	if d := c[1] - 42.7589996; d > 1e-6 || d < -1e-6 {
		t.Errorf("first y = %.7f, want 42.7589996 (lat)", c[1])
	}
	// No attributes asked, none given: forgetting access rules leaks nothing.
	_ = store.Features(ctx, l, layers.Query{Limit: 1}, func(f layers.Feature) error {
		if len(f.Properties) != 0 {
			t.Errorf("properties %v returned without being asked for", f.Properties)
		}
		return nil
	})
	if err := store.Features(ctx, l, layers.Query{Limit: 100000}, func(layers.Feature) error { return nil }); munigis.ErrorCode(err) != munigis.Invalid {
		t.Errorf("limit 100000: error %v, want Invalid", err)
	}
}

func TestUserDefinedLayerType(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	typ := layers.Type{Name: "playgrounds", TitleBG: "Детски площадки", TitleEN: "Playgrounds", GeometryType: "Point",
		Attributes: []layers.Attribute{
			{Name: "name", Type: layers.Text, TitleBG: "Име", TitleEN: "Name", Required: true},
			{Name: "opened", Type: layers.Date, TitleBG: "Открита", TitleEN: "Opened"},
			{Name: "surface", Type: layers.Enum, TitleBG: "Настилка", TitleEN: "Surface", Values: []string{"каучук", "пясък"}},
			{Name: "inspector_note", Type: layers.Text, TitleBG: "Бележка", TitleEN: "Note", Internal: true},
		}}
	if err := store.CreateType(ctx, typ); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateLayer(ctx, layers.Layer{Name: "playgrounds", TypeName: "playgrounds", TitleBG: "Детски площадки", TitleEN: "Playgrounds", Visibility: layers.Public}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO features.playgrounds (geom, name, opened, surface) VALUES (ST_SetSRID(ST_MakePoint(25.3, 42.7), 4326), 'x', '2024-05-01', 'пясък')`); err == nil {
		// Degrees in a metre column: the typed column must refuse them.
		t.Error("a geometry in EPSG:4326 was accepted into an EPSG:7801 layer")
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO features.playgrounds (geom, name, opened, surface) VALUES (ST_SetSRID(ST_MakePoint(490000, 4735000), 7801), 'Градинката', '2024-05-01', 'пясък')`); err != nil {
		t.Fatal(err)
	}
	l, _ := store.Layer(ctx, "playgrounds")
	f, err := store.Feature(ctx, l, 1, spatial.SRIDCCS2005, l.Type.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	if f.Properties["opened"] != "2024-05-01" || f.Properties["name"] != "Градинката" {
		t.Errorf("properties = %v", f.Properties)
	}

	bad := []struct {
		name string
		typ  layers.Type
		want string
	}{
		{"reserved column", layers.Type{Name: "x1", TitleBG: "x", TitleEN: "x", GeometryType: "Point", Attributes: []layers.Attribute{{Name: "geom", Type: layers.Text}}}, "reserved"},
		{"unknown attr type", layers.Type{Name: "x2", TitleBG: "x", TitleEN: "x", GeometryType: "Point", Attributes: []layers.Attribute{{Name: "a", Type: "money"}}}, "money"},
		{"bad geometry type", layers.Type{Name: "x3", TitleBG: "x", TitleEN: "x", GeometryType: "Circle"}, "Circle"},
		{"duplicate", typ, "already exists"},
		{"enum without values", layers.Type{Name: "x4", TitleBG: "x", TitleEN: "x", GeometryType: "Point", Attributes: []layers.Attribute{{Name: "a", Type: layers.Enum}}}, "needs values"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := store.CreateType(ctx, tc.typ)
			if err == nil || !strings.Contains(munigis.ErrorMessage(err), tc.want) {
				t.Errorf("CreateType = %v, want an error mentioning %q", munigis.ErrorMessage(err), tc.want)
			}
		})
	}
	err = store.CreateLayer(ctx, layers.Layer{Name: "x5", TypeName: "no_such_type", TitleBG: "x", TitleEN: "x"})
	if munigis.ErrorCode(err) != munigis.Invalid {
		t.Errorf("layer of unknown type: %v, want Invalid", err)
	}
	if _, err := store.Layer(ctx, "x5"); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("a failed CreateLayer left layer x5 behind: %v", err)
	}
	// A layer of another server's WMS: a catalog entry, no table.
	ext := layers.Layer{Name: "agency_parcels", TypeName: "cadastre_parcels", TitleBG: "АГКК", TitleEN: "Agency",
		Visibility: layers.Public, Source: "wms", SourceURL: "https://inspire.example/wms", SourceLayer: "CP.CadastralParcel"}
	if err := store.CreateLayer(ctx, ext); err != nil {
		t.Fatalf("external layer: %v", err)
	}
	if got, err := store.Layer(ctx, "agency_parcels"); err != nil || got.Source != "wms" || got.SourceLayer != "CP.CadastralParcel" || got.Local() {
		t.Errorf("external layer read back: %+v, %v", got, err)
	}
}

// TestHistoryOfWideLayer covers types with more attributes than one
// jsonb_build_object call takes (the history function chunks them).
func TestHistoryOfWideLayer(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	typ := layers.Type{Name: "survey", TitleBG: "Анкета", TitleEN: "Survey", GeometryType: "Point"}
	for i := 1; i <= 95; i++ {
		typ.Attributes = append(typ.Attributes, layers.Attribute{Name: fmt.Sprintf("q%02d", i), Type: layers.Integer, TitleBG: "в", TitleEN: "q"})
	}
	if err := store.CreateType(ctx, typ); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateLayer(ctx, layers.Layer{Name: "survey", TypeName: "survey", TitleBG: "Анкета", TitleEN: "Survey"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO features.survey (geom, q01, q95) VALUES (ST_SetSRID(ST_MakePoint(490000, 4735000), 7801), 1, 95);
		UPDATE features.survey SET q01 = 2`); err != nil {
		t.Fatal(err)
	}
	l, _ := store.Layer(ctx, "survey")
	hist, err := store.History(ctx, l, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || len(hist[0].Properties) != 95 || hist[0].Properties["q95"] != 95.0 || hist[0].Properties["q01"] != 1.0 {
		t.Errorf("history = %d versions, first with %d attributes (q01 %v, q95 %v); want 1 with 95 (1, 95)",
			len(hist), len(hist[0].Properties), hist[0].Properties["q01"], hist[0].Properties["q95"])
	}
}

// TestSQLAndGoAgreeOnIdentifiers: the database CHECK (cadastral_id_valid)
// and spatial.Parse must accept exactly the same identifiers, or an import
// would pass one gate and fail the other.
func TestSQLAndGoAgreeOnIdentifiers(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	inputs := []string{"68134.100.5", "68134.100.5.1", "51500.506.331.1.15", "00014.1.2", "02810.1.1",
		"68135.100.5", "68134.100", "68134.100.5.1.2.3", "68134.0.5", "68134.0100.5", "68134..5", "68134.100.5.",
		"6813.100.5", "681344.100.5", "a8134.100.5", " 68134.100.5", "68134.100.99999999999", "68134.1.-5", "68134.1.+5"}
	for p := 0; p < 10000; p += 37 {
		for d := 0; d < 10; d++ {
			inputs = append(inputs, fmt.Sprintf("%04d%d.1.1", p, d))
		}
	}
	rows, err := db.Pool.Query(ctx, `SELECT s, cadastral_id_valid(s) FROM unnest($1::text[]) s`, inputs)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var s string
		var sqlOK bool
		if err := rows.Scan(&s, &sqlOK); err != nil {
			t.Fatal(err)
		}
		_, err := spatial.Parse(s)
		if goOK := err == nil; goOK != sqlOK {
			t.Errorf("%q: cadastral_id_valid = %v, spatial.Parse error %v", s, sqlOK, err)
		}
		n++
	}
	if n != len(inputs) {
		t.Fatalf("compared %d of %d inputs", n, len(inputs))
	}
}

// The catalog is kept in memory: this process's own changes show at once,
// others' once the database announces them (InvalidateCatalog).
func TestCatalogCache(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	store := layers.NewStore(db.Pool)
	has := func(name string) bool {
		ls, err := store.Layers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.Name == name {
				return true
			}
		}
		return false
	}
	if has("parks") {
		t.Fatal("parks before it exists")
	}
	if err := store.CreateLayer(ctx, layers.Layer{Name: "parks", TypeName: "grassland", TitleBG: "Паркове", TitleEN: "Parks"}); err != nil {
		t.Fatal(err)
	}
	if !has("parks") {
		t.Error("this process's new layer is not listed at once")
	}
	// Another process adds a layer: not seen until the notification.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO layers (name, layer_type, title_bg, title_en) VALUES ('gardens', 'grassland', 'Градини', 'Gardens')`); err != nil {
		t.Fatal(err)
	}
	if has("gardens") {
		t.Log("(the cached catalog was already stale; fine)")
	}
	store.InvalidateCatalog()
	if !has("gardens") {
		t.Error("after InvalidateCatalog the new layer is not listed")
	}
	// Callers may filter what they get in place without harming the cache.
	ls, _ := store.Layers(ctx)
	first := ls[0].Name
	ls[0] = ls[len(ls)-1]
	if again, _ := store.Layers(ctx); again[0].Name != first {
		t.Errorf("the cached catalog was changed through a returned slice: first layer %s, want %s", again[0].Name, first)
	}
}

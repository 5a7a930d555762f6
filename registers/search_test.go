package registers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"munigis"
	"munigis/layers"
	"munigis/registers"
	"munigis/registers/persons"
	"munigis/tiles"
)

func numbers(t *testing.T, s *registers.Store, q registers.Query) []string {
	t.Helper()
	var out []string
	if err := s.Search(context.Background(), q, func(e registers.Entry) error {
		out = append(out, e.Register+":"+e.Number)
		return nil
	}); err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	n, err := s.Count(context.Background(), q)
	if err != nil {
		t.Fatalf("Count(%+v): %v", q, err)
	}
	if q.Limit == 0 && q.Offset == 0 && int(n) != len(out) {
		t.Errorf("Count(%+v) = %d, Search found %d", q, n, len(out))
	}
	slices.Sort(out)
	return out
}

func TestSearchAndRelated(t *testing.T) {
	e := newEnv(t)
	parcel := e.parcels[20]
	// A building of that parcel and a unit of that building, if the demo
	// has them; else make the identifiers (entries may name objects the
	// cadastre does not hold yet).
	building, unit := parcel+".1", parcel+".1.1"

	a := e.property("100", parcel)
	a.Data["address"] = "гр. Троян, ул. Христо Ботев 5"
	mustCreate(t, e.store, a)
	b := e.property("101", building)
	b.Date = "2019-06-01"
	b.Parties = []registers.Party{{PersonID: e.maria.ID, Role: "holder"}}
	b.Data["address"] = "Troyan, Hristo Botev 5"
	mustCreate(t, e.store, b)
	permit := registers.Entry{Register: "building_permits", Number: "РС-12/2023", Date: "2023-04-04", Status: "издадено",
		Identifiers: []string{unit, e.parcels[21]},
		Parties:     []registers.Party{{PersonID: e.firm.ID, Role: "investors"}, {PersonID: e.ivan.ID, Role: "investors"}},
		Data:        map[string]any{"category": "V", "description": "Преустройство на жилище в офис", "issued_by": "Главен архитект"}}
	mustCreate(t, e.store, permit)
	other := e.property("200", e.parcels[30])
	other.Parties = nil
	mustCreate(t, e.store, other)

	s := e.store
	cases := []struct {
		name string
		q    registers.Query
		want []string
	}{
		{"identifier exact", registers.Query{Identifier: parcel}, []string{"municipal_property:100"}},
		{"identifier and below", registers.Query{Identifier: parcel, Below: true},
			[]string{"building_permits:РС-12/2023", "municipal_property:100", "municipal_property:101"}},
		{"a building and below", registers.Query{Identifier: building, Below: true},
			[]string{"building_permits:РС-12/2023", "municipal_property:101"}},
		{"number prefix, any case", registers.Query{Number: "рс-12"}, []string{"building_permits:РС-12/2023"}},
		{"number in one register", registers.Query{Register: "municipal_property", Number: "10"},
			[]string{"municipal_property:100", "municipal_property:101"}},
		{"person", registers.Query{PersonID: e.ivan.ID}, []string{"building_permits:РС-12/2023", "municipal_property:100"}},
		{"Cyrillic text finds Cyrillic and Latin", registers.Query{Text: "Ботев"},
			[]string{"municipal_property:100", "municipal_property:101"}},
		{"Latin text finds Cyrillic (Troyan → Троян)", registers.Query{Text: "troyan", Register: "municipal_property"},
			[]string{"municipal_property:100", "municipal_property:101", "municipal_property:200"}},
		{"a party's name in Latin", registers.Query{Text: "Shtereva"}, []string{"municipal_property:101"}},
		{"a party's name, other case", registers.Query{Text: "ИВАН ПЕТРОВ"}, []string{"building_permits:РС-12/2023", "municipal_property:100"}},
		{"LIKE wildcards are literal", registers.Query{Text: "%_%"}, nil},
		{"date range", registers.Query{DateFrom: "2019-01-01", DateTo: "2023-12-31"},
			[]string{"building_permits:РС-12/2023", "municipal_property:101"}},
		{"status", registers.Query{Status: "издадено"}, []string{"building_permits:РС-12/2023"}},
		{"visible registers only", registers.Query{Identifier: parcel, Below: true, Visible: func(r string) bool { return r == "building_permits" }},
			[]string{"building_permits:РС-12/2023"}},
	}
	for _, c := range cases {
		if got := numbers(t, s, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: found %v, want %v", c.name, got, c.want)
		}
	}

	if n, exact, err := s.CountUpTo(context.Background(), registers.Query{Register: "municipal_property"}, 2); n != 2 || exact || err != nil {
		t.Errorf("CountUpTo(2) = %d, %v, %v; want 2, false", n, exact, err)
	}
	if n, exact, err := s.CountUpTo(context.Background(), registers.Query{Register: "municipal_property"}, 10); n != 3 || !exact || err != nil {
		t.Errorf("CountUpTo(10) = %d, %v, %v; want 3, true", n, exact, err)
	}

	// Paging: newest first, Limit and Offset.
	var page []string
	if err := s.Search(context.Background(), registers.Query{Register: "municipal_property", Limit: 2, Offset: 1}, func(x registers.Entry) error {
		page = append(page, x.Number)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(page, []string{"100", "200"}) && !slices.Equal(page, []string{"200", "100"}) {
		t.Errorf("page 2 of municipal property (newest first) = %v", page)
	}

	for _, q := range []registers.Query{
		{Identifier: "73198.01.5"}, {DateFrom: "1.1.2020"}, {Limit: 5000}, {Text: "a"},
		{Register: "nope"}, {Register: "rentals", Visible: func(string) bool { return false }},
		{Public: true, PersonID: e.ivan.ID},
	} {
		err := s.Search(context.Background(), q, func(registers.Entry) error { return nil })
		if c := munigis.ErrorCode(err); c != munigis.Invalid && c != munigis.NotFound {
			t.Errorf("Search(%+v) = %v, want Invalid or NotFound", q, err)
		}
	}

	t.Run("the public searches public fields only", func(t *testing.T) {
		types, err := s.Types(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pub := registers.Query{Public: true, Visible: registers.Published(types)}
		q := pub
		q.Text = "Ботев" // a public field (address)
		if got := numbers(t, s, q); len(got) != 2 {
			t.Errorf("public text search on the address found %v", got)
		}
		q.Text = "Щерева" // a party's full name: hidden from the public
		if got := numbers(t, s, q); len(got) != 0 {
			t.Errorf("the public found entries by a masked name: %v", got)
		}
		q.Text = "училище" // "use" is public, book value is not
		if got := numbers(t, s, q); len(got) != 3 {
			t.Errorf("public text search on use found %v", got)
		}
		q = registers.Query{Public: true, Text: "училище"} // no Visible: Public alone keeps to published registers
		if got := numbers(t, s, q); len(got) != 3 {
			t.Errorf("public search without Visible found %v", got)
		}
		q = pub
		q.Register = "rentals"
		if err := s.Search(context.Background(), q, func(registers.Entry) error { return nil }); munigis.ErrorCode(err) != munigis.NotFound {
			t.Errorf("the public searched the unpublished rentals: %v", err)
		}
	})

	t.Run("related", func(t *testing.T) {
		groups, err := s.Related(context.Background(), parcel, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range groups {
			for _, x := range g.Entries {
				got = append(got, g.Register+":"+x.Number)
			}
			if g.TitleBG == "" {
				t.Errorf("group %s without a title", g.Register)
			}
		}
		// Built-in registers in the order of Types: municipal_property
		// before building_permits? Types orders by name among built-ins.
		want := []string{"building_permits:РС-12/2023", "municipal_property:101", "municipal_property:100"}
		if !slices.Equal(got, want) {
			t.Errorf("Related(%s) = %v, want %v", parcel, got, want)
		}
		groups, err = s.Related(context.Background(), unit, func(r string) bool { return r != "building_permits" })
		if err != nil || len(groups) != 0 {
			t.Errorf("Related(unit) without permits = %v, %v", groups, err)
		}
		if _, err := s.Related(context.Background(), "73198.1", nil); munigis.ErrorCode(err) != munigis.Invalid {
			t.Errorf("Related(malformed) = %v", err)
		}
	})
}

func TestUnresolvedAndFlags(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	parcel := e.parcels[40]
	f := strings.Split(parcel, ".")
	nowhere := f[0] + "." + f[1] + ".99999"
	on := mustCreate(t, e.store, e.property("1", parcel))
	lost := mustCreate(t, e.store, e.property("2", nowhere))
	mixed := e.property("3", e.parcels[41])
	mixed.Identifiers = append(mixed.Identifiers, nowhere+".1")
	mixedE := mustCreate(t, e.store, mixed)

	un, err := e.store.Unresolved(context.Background(), "municipal_property")
	if err != nil {
		t.Fatal(err)
	}
	if len(un) != 2 || un[0].Entry.ID != lost.ID || !slices.Equal(un[0].Missing, []string{nowhere}) ||
		un[1].Entry.ID != mixedE.ID || !slices.Equal(un[1].Missing, []string{nowhere + ".1"}) {
		t.Errorf("Unresolved = %+v", un)
	}

	// Reloading the same parcel in one transaction is not a change.
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `WITH d AS (DELETE FROM features.cadastre_parcels WHERE identifier = $1 RETURNING geom, identifier, area_m2, land_use)
		INSERT INTO features.cadastre_parcels (geom, identifier, area_m2, land_use) SELECT geom, identifier, area_m2, land_use FROM d`, parcel); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	flags, err := e.store.Flags(context.Background(), nil)
	if err != nil || len(flags) != 0 {
		t.Fatalf("flags after reloading the same parcel: %v, %v", flags, err)
	}

	// The parcel is split in two: both halves are suggested, nothing is re-keyed.
	var maxParcel int
	if err := e.pool.QueryRow(ctx, `SELECT max(split_part(identifier, '.', 3)::int) FROM features.cadastre_parcels
		WHERE identifier LIKE $1`, f[0]+"."+f[1]+".%").Scan(&maxParcel); err != nil {
		t.Fatal(err)
	}
	left, right := fmt.Sprintf("%s.%s.%d", f[0], f[1], maxParcel+1), fmt.Sprintf("%s.%s.%d", f[0], f[1], maxParcel+2)
	tx, err = e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `WITH d AS (DELETE FROM features.cadastre_parcels WHERE identifier = $1 RETURNING geom),
		     b AS (SELECT geom, ST_XMin(geom) x0, ST_YMin(geom) y0, ST_XMax(geom) x1, ST_YMax(geom) y1 FROM d)
		INSERT INTO features.cadastre_parcels (geom, identifier, land_use)
		SELECT ST_Multi(ST_CollectionExtract(ST_Intersection(geom, ST_MakeEnvelope(x0, y0, (x0 + x1) / 2, y1, 7801)), 3)), $2, 'жилищна' FROM b
		UNION ALL
		SELECT ST_Multi(ST_CollectionExtract(ST_Intersection(geom, ST_MakeEnvelope((x0 + x1) / 2, y0, x1, y1, 7801)), 3)), $3, 'жилищна' FROM b`,
		parcel, left, right)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	flags, err = e.store.Flags(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(flags) != 1 || flags[0].EntryID != on.ID || flags[0].Identifier != parcel || flags[0].Reason != "deleted" ||
		!slices.Equal(flags[0].Suggested, []string{left, right}) || flags[0].Number != "1" {
		t.Fatalf("flags after the split: %+v (want suggestions %s, %s)", flags, left, right)
	}
	still, _ := e.store.Get(context.Background(), on.ID)
	if still.Version != 1 || !slices.Equal(still.Identifiers, []string{parcel}) {
		t.Errorf("the entry was re-keyed by itself: %+v", still)
	}
	if fl, _ := e.store.Flags(context.Background(), func(string) bool { return false }); len(fl) != 0 {
		t.Errorf("flags of invisible registers: %v", fl)
	}

	// A person resolves it: a new version, the flag closed with who and how.
	reg, err := e.store.RegisterOfFlag(context.Background(), flags[0].ID)
	if err != nil || reg != "municipal_property" {
		t.Errorf("RegisterOfFlag = %s, %v", reg, err)
	}
	res, err := e.store.Resolve(ctx, flags[0].ID, flags[0].Suggested)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 2 || !slices.Equal(res.Identifiers, []string{left, right}) {
		t.Errorf("resolved entry %+v", res)
	}
	if _, err := e.store.Resolve(ctx, flags[0].ID, nil); munigis.ErrorCode(err) != munigis.Conflict {
		t.Errorf("resolving twice = %v", err)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM register_flags WHERE id = $1 AND resolved_by = 'U-000042' AND resolution = $2`,
		flags[0].ID, []string{left, right}); n != 1 {
		t.Errorf("the flag does not record its resolution")
	}
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action IN ('register_flag.create', 'register_flag.resolve')`); n != 2 {
		t.Errorf("%d audit rows for the flag, want 2", n)
	}

	// Re-numbering a parcel suggests its new number.
	other := mustCreate(t, e.store, e.property("4", e.parcels[50]))
	renamed := fmt.Sprintf("%s.%s.%d", f[0], f[1], maxParcel+3)
	if _, err := e.pool.Exec(ctx, `UPDATE features.cadastre_parcels SET identifier = $2 WHERE identifier = $1`, e.parcels[50], renamed); err != nil {
		t.Fatal(err)
	}
	flags, _ = e.store.Flags(context.Background(), nil)
	if len(flags) != 1 || flags[0].EntryID != other.ID || flags[0].Reason != "renumbered" || !slices.Equal(flags[0].Suggested, []string{renamed}) {
		t.Errorf("flags after re-numbering: %+v", flags)
	}
}

// The register is a map layer: the feature machinery (layers.Store,
// tiles) reads it, and it cannot be edited as features.
func TestRegisterLayer(t *testing.T) {
	e := newEnv(t)
	parcel := e.parcels[60]
	entry := e.property("АОС-555", parcel)
	entry.Identifiers = append(entry.Identifiers, e.parcels[61])
	created := mustCreate(t, e.store, entry)

	ls := layers.NewStore(e.pool)
	l, err := ls.Layer(context.Background(), "reg_municipal_property")
	if err != nil {
		t.Fatal(err)
	}
	if !l.Local() || l.Editable() || l.Visibility != layers.Public {
		t.Errorf("layer %+v", l)
	}
	var feats []layers.Feature
	if err := ls.Features(context.Background(), l, layers.Query{Attributes: l.Type.Attributes}, func(f layers.Feature) error {
		feats = append(feats, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(feats) != 2 {
		t.Fatalf("%d features, want one per identifier (2)", len(feats))
	}
	for _, f := range feats {
		if f.Properties["number"] != "АОС-555" || f.Properties["entry_id"] != created.ID || f.Geometry == nil ||
			f.Properties["kind"] != "частна" || f.Properties["area_m2"] != 512.5 || f.Properties["entry_date"] != "2015-03-12" {
			t.Errorf("feature %+v", f.Properties)
		}
	}
	// Internal fields of a published register are internal attributes.
	if a, ok := l.Type.Attribute("book_value"); !ok || !a.Internal {
		t.Errorf("book_value attribute %+v", a)
	}
	if a, ok := l.Type.Attribute("address"); !ok || a.Internal {
		t.Errorf("address attribute %+v", a)
	}

	// The entry appears in a vector tile of its parcel, with its number.
	var lon, lat float64
	if err := e.pool.QueryRow(context.Background(), `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) p
		FROM features.cadastre_parcels WHERE identifier = $1) s`, parcel).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	tiler := tiles.New(e.pool, ls, tiles.Config{CacheBytes: -1})
	tile := maptile.At(orb.Point{lon, lat}, 17)
	data, err := tiler.Render(context.Background(), tiles.Request{Tile: tile,
		Layers: []tiles.LayerSpec{{Layer: l, Attributes: l.Type.Attributes}}})
	if err != nil {
		t.Fatal(err)
	}
	mvtLayers, err := mvt.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ml := range mvtLayers {
		for _, f := range ml.Features {
			if ml.Name == "reg_municipal_property" && f.Properties["number"] == "АОС-555" && f.Properties["identifier"] == parcel {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("tile %v has no feature of act АОС-555 on %s", tile, parcel)
	}

	// Edits go through the register, never through the layer.
	err = ls.Edit(clerk(), func(ctx context.Context, ed *layers.Edit) error {
		_, err := ed.Delete(ctx, l, layers.And{})
		return err
	})
	if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(err.Error(), "shows records of the register municipal_property") {
		t.Errorf("editing the register layer = %v", err)
	}
	if err := ls.CreateLayer(context.Background(), layers.Layer{Name: "reg_x", TypeName: "reg_municipal_property",
		TitleBG: "x", TitleEN: "x", Source: "register"}); munigis.ErrorCode(err) != munigis.Invalid {
		t.Errorf("CreateLayer(source register) = %v", err)
	}

	// A change of the entry is announced to the tile caches under the layer's name.
	conn, err := e.pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(context.Background(), `LISTEN munigis_tiles`); err != nil {
		t.Fatal(err)
	}
	announced := func(what string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for {
			n, err := conn.Conn().WaitForNotification(wctx)
			if err != nil {
				t.Errorf("%s: no notification for reg_municipal_property: %v", what, err)
				return
			}
			var p struct {
				Layer string    `json:"layer"`
				BBox  []float64 `json:"bbox"`
			}
			if json.Unmarshal([]byte(n.Payload), &p) == nil && p.Layer == "reg_municipal_property" && len(p.BBox) == 4 {
				return
			}
		}
	}
	created.Data["address"] = "ново"
	if _, err := e.store.Update(clerk(), created); err != nil {
		t.Fatal(err)
	}
	announced("an entry changed")
	if _, err := e.pool.Exec(context.Background(), `UPDATE features.cadastre_parcels SET geom = ST_Translate(geom, 1, 0) WHERE identifier = $1`, parcel); err != nil {
		t.Fatal(err)
	}
	announced("its parcel moved")
}

func TestPublicView(t *testing.T) {
	e := newEnv(t)
	permit := registers.Entry{Register: "building_permits", Number: "РС-1", Date: "2024-01-01", Status: "издадено",
		Identifiers: []string{e.parcels[5]},
		Parties:     []registers.Party{{PersonID: e.ivan.ID, Role: "investors"}, {PersonID: e.firm.ID, Role: "investors"}},
		Data:        map[string]any{"category": "IV", "description": "Жилищна сграда", "design_ref": "проект 7/2023"}}
	created := mustCreate(t, e.store, permit)
	bp, err := e.store.Type(context.Background(), "building_permits")
	if err != nil {
		t.Fatal(err)
	}
	pv, err := registers.PublicView(created, bp)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Number != "РС-1" || pv.Status != "издадено" || len(pv.Identifiers) != 1 || pv.Data["category"] != "IV" {
		t.Errorf("public view %+v", pv)
	}
	if _, ok := pv.Data["design_ref"]; ok {
		t.Errorf("an internal field is public: %+v", pv.Data)
	}
	if len(pv.Parties) != 2 || pv.Parties[0].Name != "И. П. И." || pv.Parties[1].Name != "Троян Строй ЕООД" || pv.Parties[1].EIK != e.firm.EIK {
		t.Errorf("public parties %+v", pv.Parties)
	}
	raw, err := json.Marshal(pv)
	if err != nil {
		t.Fatal(err)
	}
	js := string(raw)
	if strings.Contains(js, "Иван") || strings.Contains(js, e.ivan.EGN) || strings.Contains(js, "person_id") || strings.Contains(js, "U-0000") {
		t.Errorf("the public view shows the natural person: %s", js)
	}
	if persons.Mask(e.ivan) != "И. П. И." {
		t.Errorf("mask %q", persons.Mask(e.ivan))
	}
	rentals, _ := e.store.Type(context.Background(), "rentals")
	if _, err := registers.PublicView(registers.Entry{Register: "rentals"}, rentals); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("public view of an unpublished register = %v", err)
	}
	pt, err := registers.PublicType(bp)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range pt.Fields {
		if !f.Public {
			t.Errorf("public type shows %s", f.Name)
		}
	}
}

// TestCountWithin: a page's count either finishes within its budget or is
// reported unknown without an error, and the connection it used still
// works — a search never waits on counting.
func TestCountWithin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 3 {
		mustCreate(t, e.store, e.property(fmt.Sprintf("CW-%d", i), e.parcels[i]))
	}
	q := registers.Query{Register: "municipal_property", Number: "CW-"}
	n, known, err := e.store.CountWithin(ctx, q, 2*time.Second)
	if err != nil || !known || n != 3 {
		t.Fatalf("CountWithin = %d, %v, %v; want 3, known", n, known, err)
	}
	// Another transaction holds the table: the count waits, runs past its
	// budget and gives up.
	lock, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `LOCK TABLE register_entries IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, known, err = e.store.CountWithin(ctx, q, 50*time.Millisecond)
	took := time.Since(start)
	_ = lock.Rollback(ctx)
	if err != nil || known || took > 2*time.Second {
		t.Errorf("CountWithin past its budget = %d, %v, %v after %s; want unknown, no error, about 50 ms", n, known, err, took)
	}
	if got := numbers(t, e.store, q); len(got) != 3 {
		t.Errorf("after a count over budget the search finds %v", got)
	}
}

// TestPage: Page gives the same page as Search, whichever way it found it
// (among the newest entries, or through the trigram index), and its total
// when cheap: a page that is not full tells it, a full page without free
// text is counted, a full free-text page is not (-1).
func TestPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	defer registers.SetTextWindow(4)()
	add := func(n int, date, word string) {
		for i := range n {
			a := e.property(fmt.Sprintf("%s-%d", word, i), e.parcels[i])
			a.Date = date
			a.Data["description"] = "Имот " + word
			mustCreate(t, e.store, a)
		}
	}
	add(5, "2001-01-01", "Редкадума")  // old: outside the newest four
	add(6, "2024-01-01", "Честадума")  // the newest
	add(3, "2010-01-01", "Среднадума") // between
	page := func(q registers.Query) ([]string, int64) {
		t.Helper()
		q.Register = "municipal_property"
		var got []string
		total, err := e.store.Page(ctx, q, 2*time.Second, func(x registers.Entry) error {
			got = append(got, x.Number)
			return nil
		})
		if err != nil {
			t.Fatalf("Page(%+v): %v", q, err)
		}
		var want []string
		if err := e.store.Search(ctx, q, func(x registers.Entry) error {
			want = append(want, x.Number)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Page(%+v) = %v, Search gives %v", q, got, want)
		}
		return got, total
	}
	if got, total := page(registers.Query{Text: "честадума", Limit: 2}); len(got) != 2 || total != -1 {
		t.Errorf("a common word, found among the newest: %v, total %d; want 2 and -1 (not counted)", got, total)
	}
	if got, total := page(registers.Query{Text: "redkaduma", Limit: 2, Offset: 1}); len(got) != 2 || total != -1 {
		t.Errorf("an old word in Latin, through the index: %v, total %d; want 2 and -1", got, total)
	}
	if got, total := page(registers.Query{Text: "chestaduma", Limit: 4, Offset: 4}); len(got) != 2 || total != 6 {
		t.Errorf("the last free-text page: %v, total %d; want 2 of 6", got, total)
	}
	if got, total := page(registers.Query{Text: "среднадума", Limit: 10}); len(got) != 3 || total != 3 {
		t.Errorf("a page that is not full: %v, total %d; want 3 of 3", got, total)
	}
	if got, total := page(registers.Query{Number: "Честадума-", Limit: 2}); len(got) != 2 || total != 6 {
		t.Errorf("a full page without free text: %v, total %d; want 2 of 6 (counted)", got, total)
	}
	if got, total := page(registers.Query{Text: "нищоподобно", Limit: 10}); len(got) != 0 || total != 0 {
		t.Errorf("no match: %v, total %d", got, total)
	}
}

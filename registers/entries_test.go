package registers_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"munigis"
	"munigis/internal/postgis"
	"munigis/registers"
)

func TestEntryLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	p := e.parcels[10]

	created := mustCreate(t, e.store, e.property("123", p))
	if created.ID == 0 || created.Version != 1 || created.CreatedBy != "U-000042" || created.Register != "municipal_property" {
		t.Fatalf("created %+v", created)
	}
	if len(created.Parties) != 1 || created.Parties[0].Name != "Иван Петров Иванов" || created.Parties[0].Kind != "natural" || created.Parties[0].Role != "holder" {
		t.Errorf("parties %+v", created.Parties)
	}
	if created.Data["book_value"] != float64(18000) || created.Data["area_m2"] != 512.5 || created.Data["kind"] != "частна" {
		t.Errorf("data %#v", created.Data)
	}
	got, err := e.store.Get(context.Background(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != "123" || got.Date != "2015-03-12" || got.Status != "актуален" || len(got.Identifiers) != 1 || got.Identifiers[0] != p {
		t.Errorf("Get = %+v", got)
	}
	if _, err := e.store.Get(context.Background(), 999999); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("Get(999999) = %v", err)
	}
	// The object and party indexes follow the entry.
	if n := count(t, e.pool, `SELECT count(*) FROM entry_objects WHERE entry_id = $1 AND identifier = $2`, created.ID, p); n != 1 {
		t.Errorf("entry_objects: %d", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM entry_parties WHERE entry_id = $1 AND person_id = $2 AND role = 'holder'`, created.ID, e.ivan.ID); n != 1 {
		t.Errorf("entry_parties: %d", n)
	}

	// An update: new version, the old one in the history with who and when.
	upd := got
	upd.Identifiers = []string{p, e.buildings[0]}
	upd.Parties = []registers.Party{{PersonID: e.firm.ID, Role: "holder"}}
	upd.Data["use"] = "детска градина"
	upd.Status = "отдаден под наем"
	ctx2 := munigis.WithAddress(munigis.WithActor(context.Background(), "U-000007"), "198.51.100.3")
	v2, err := e.store.Update(ctx2, upd)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if v2.Version != 2 || v2.UpdatedBy != "U-000007" || v2.CreatedBy != "U-000042" || v2.Parties[0].Name != "Троян Строй ЕООД" ||
		v2.Parties[0].EIK != e.firm.EIK || len(v2.Identifiers) != 2 {
		t.Errorf("after update %+v", v2)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM entry_objects WHERE entry_id = $1`, created.ID); n != 2 {
		t.Errorf("entry_objects after update: %d, want 2", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM entry_parties WHERE entry_id = $1 AND person_id = $2`, created.ID, e.ivan.ID); n != 0 {
		t.Errorf("the old holder is still indexed")
	}
	hist, err := e.store.History(context.Background(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 {
		t.Fatalf("history has %d versions, want 1", len(hist))
	}
	h := hist[0]
	if h.Version != 1 || h.Data["use"] != "училище" || h.Status != "актуален" || h.Parties[0].PersonID != e.ivan.ID ||
		h.UpdatedBy != "U-000042" || h.EndedBy != "U-000007" || h.EndedHow != "update" || len(h.Identifiers) != 1 {
		t.Errorf("history %+v", h)
	}

	// A stale version is refused, not overwritten.
	stale := got
	stale.Data = map[string]any{"kind": "публична"}
	if _, err := e.store.Update(ctx, stale); munigis.ErrorCode(err) != munigis.Conflict || !strings.Contains(err.Error(), "U-000007") {
		t.Errorf("stale update = %v, want Conflict naming who changed it", err)
	}

	// The audit trail has who, from where, before and after.
	var before, after []byte
	var actor, address string
	if err := e.pool.QueryRow(context.Background(), `SELECT actor, address, before, after FROM audit_log
		WHERE action = 'register_entry.update' AND object = $1`, "register:municipal_property/"+itoa(created.ID)).Scan(&actor, &address, &before, &after); err != nil {
		t.Fatalf("audit row of the update: %v", err)
	}
	if actor != "U-000007" || address != "198.51.100.3" || !strings.Contains(string(before), "училище") || !strings.Contains(string(after), "детска градина") {
		t.Errorf("audit %s %s before %s after %s", actor, address, before, after)
	}
	if strings.Contains(string(after), "search_text") {
		t.Errorf("audit copies the derived search_text")
	}
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'register_entry.insert' AND object = $1 AND actor = 'U-000042'`,
		"register:municipal_property/"+itoa(created.ID)); n != 1 {
		t.Errorf("%d audit rows for the creation", n)
	}

	// A person's new name reaches the search text without a new version.
	e.firm.Name = "Троян Инвест ЕООД"
	if _, err := e.persons.Update(ctx, e.firm); err != nil {
		t.Fatal(err)
	}
	after3, _ := e.store.Get(context.Background(), created.ID)
	if after3.Version != 2 {
		t.Errorf("renaming a party made version %d", after3.Version)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM register_entries WHERE id = $1 AND search_text LIKE '%инвест%' AND search_text LIKE '%invest%'`, created.ID); n != 1 {
		t.Errorf("search_text does not follow the party's new name")
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestEntryValidation(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	first := mustCreate(t, e.store, e.property("77", e.parcels[1]))
	rental := registers.Entry{
		Register: "rentals", Number: "Д-15/2024", Date: "2024-01-10", Status: "действащ",
		Parties: []registers.Party{{PersonID: e.maria.ID, Role: "tenant"}},
		Data:    map[string]any{"property": first.ID, "start_date": "2024-02-01", "end_date": "2027-01-31", "rent_bgn": "350,50"},
	}
	r := mustCreate(t, e.store, rental)
	if r.Data["rent_bgn"] != 350.5 || r.Data["property"] != first.ID {
		t.Errorf("rental data %#v", r.Data)
	}
	before := count(t, e.pool, `SELECT count(*) FROM register_entries`)

	cases := []struct {
		name   string
		entry  func() registers.Entry
		code   munigis.Code
		want   string // in Message
		wantBG string // in MessageBG
	}{
		{"no number", func() registers.Entry { x := e.property(" ", e.parcels[2]); return x }, munigis.Invalid, "number", "Акт №"},
		{"no date", func() registers.Entry { x := e.property("1", e.parcels[2]); x.Date = ""; return x }, munigis.Invalid, "date", "Дата на акта"},
		{"bad date", func() registers.Entry { x := e.property("1", e.parcels[2]); x.Date = "2015-02-30"; return x }, munigis.Invalid, "not a date", "не е дата"},
		{"duplicate act number", func() registers.Entry { return e.property("77", e.parcels[3]) }, munigis.Conflict, "Act No. 77 is already registered", "Акт № 77 вече е вписан"},
		{"malformed identifier", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Identifiers = []string{"73198.0100.5"}
			return x
		}, munigis.Invalid, "identifiers: cadastral identifier", "Кадастрални идентификатори: кадастрален идентификатор"},
		{"bad check digit", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Identifiers = []string{"73191.1.5"}
			return x
		}, munigis.Invalid, "identifiers", "ЕКАТТЕ"},
		{"unknown person", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Parties = []registers.Party{{PersonID: 987654, Role: "holder"}}
			return x
		}, munigis.Invalid, "holder: person 987654 does not exist", "лице № 987654 не съществува"},
		{"two holders", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Parties = append(x.Parties, registers.Party{PersonID: e.maria.ID, Role: "holder"})
			return x
		}, munigis.Invalid, "holder: takes one person", "допуска едно лице"},
		{"unknown role", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Parties = []registers.Party{{PersonID: e.maria.ID, Role: "owner"}}
			return x
		}, munigis.Invalid, `role "owner"`, "ролята"},
		{"unknown field", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Data["colour"] = "red"
			return x
		}, munigis.Invalid, "colour: register municipal_property has no such field", "няма такова поле"},
		{"enum value", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Data["kind"] = "общинска"
			return x
		}, munigis.Invalid, "kind: \"общинска\" is not one of публична, частна", "Вид собственост"},
		{"required field", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			delete(x.Data, "kind")
			return x
		}, munigis.Invalid, "kind: is required", "Вид собственост: задължително поле"},
		{"number as text", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Data["area_m2"] = "много"
			return x
		}, munigis.Invalid, "area_m2: \"много\" is not a number", "не е число"},
		{"person given as data", func() registers.Entry {
			x := e.property("2", e.parcels[2])
			x.Data["holder"] = e.ivan.ID
			return x
		}, munigis.Invalid, "holder: a person field is given in parties", "страни"},
		{"rental ends before it starts", func() registers.Entry {
			x := rental
			x.Number = "Д-16"
			x.Data = map[string]any{"property": first.ID, "start_date": "2024-02-01", "end_date": "2023-01-31", "rent_bgn": 100}
			return x
		}, munigis.Invalid, "end_date: 2023-01-31 is before start_date (2024-02-01)", "Край на наема: 2023-01-31 е преди „Начало на наема“"},
		{"reference into the wrong register", func() registers.Entry {
			x := rental
			x.Number = "Д-17"
			x.Data = map[string]any{"property": r.ID, "start_date": "2024-02-01", "end_date": "2025-01-31", "rent_bgn": 100}
			return x
		}, munigis.Invalid, "property: entry", "не съществува"},
		{"status not allowed", func() registers.Entry {
			x := rental
			x.Number = "Д-18"
			x.Status = "active"
			return x
		}, munigis.Invalid, `status: "active" is not one of`, "Състояние"},
		{"unknown register", func() registers.Entry {
			x := rental
			x.Register = "nope"
			return x
		}, munigis.NotFound, `register "nope" does not exist`, "не съществува"},
		{"identifiers in a register without them", func() registers.Entry {
			return registers.Entry{Register: "taxi_permits", Number: "T1", Date: "2024-01-01", Status: "действащо",
				Identifiers: []string{e.parcels[0]},
				Parties:     []registers.Party{{PersonID: e.firm.ID, Role: "carrier"}},
				Data:        map[string]any{"vehicle_reg": "ОВ 1234 АВ", "valid_until": "2025-01-01"}}
		}, munigis.Invalid, "takes no cadastral identifiers", "не съдържа"},
		{"permit valid until before its date", func() registers.Entry {
			return registers.Entry{Register: "taxi_permits", Number: "T1", Date: "2024-01-01", Status: "действащо",
				Parties: []registers.Party{{PersonID: e.firm.ID, Role: "carrier"}},
				Data:    map[string]any{"vehicle_reg": "ОВ 1234 АВ", "valid_until": "2023-01-01"}}
		}, munigis.Invalid, "valid_until: 2023-01-01 is before entry_date (2024-01-01)", "Дата на издаване"},
	}
	for _, c := range cases {
		_, err := e.store.Create(ctx, c.entry())
		var me *munigis.Error
		if !errors.As(err, &me) || me.Code != c.code || !strings.Contains(me.Message, c.want) || !strings.Contains(me.MessageBG, c.wantBG) {
			t.Errorf("%s: Create = %v (BG %q), want %s with %q / %q", c.name, err, bg(err), c.code, c.want, c.wantBG)
		}
	}
	if n := count(t, e.pool, `SELECT count(*) FROM register_entries`); n != before {
		t.Errorf("refused entries were stored: %d entries, want %d", n, before)
	}

	// An update that breaks a rule leaves the entry as it was.
	bad := r
	bad.Data = map[string]any{"property": first.ID, "start_date": "2024-02-01", "end_date": "2020-01-31", "rent_bgn": 100}
	if _, err := e.store.Update(ctx, bad); munigis.ErrorCode(err) != munigis.Invalid {
		t.Errorf("bad update = %v", err)
	}
	again, _ := e.store.Get(ctx, r.ID)
	if again.Version != 1 || again.Data["end_date"] != "2027-01-31" {
		t.Errorf("a refused update changed the entry: %+v", again)
	}

	// The number is checked against the other entries only: an entry keeps its own.
	r.Status = "прекратен"
	if _, err := e.store.Update(ctx, r); err != nil {
		t.Errorf("update keeping the number: %v", err)
	}
}

func bg(err error) string {
	var me *munigis.Error
	if errors.As(err, &me) {
		return me.MessageBG
	}
	return ""
}

// A unique field of a register a municipality defined, and two clerks
// writing the same number at once.
func TestUniqueAndConcurrentNumbers(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	_, err := e.store.CreateType(ctx, registers.Type{Name: "dogs", TitleBG: "Кучета", TitleEN: "Dogs",
		Fields: []registers.Field{
			{Name: "chip", Type: registers.Text, TitleBG: "Микрочип", TitleEN: "Chip", Unique: true, Required: true},
			{Name: "owner", Type: registers.Person, TitleBG: "Собственик", TitleEN: "Owner"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e.store, registers.Entry{Register: "dogs", Number: "1", Date: "2024-05-05", Data: map[string]any{"chip": "642090001"}})
	_, err = e.store.Create(ctx, registers.Entry{Register: "dogs", Number: "2", Date: "2024-05-05", Data: map[string]any{"chip": "642090001"}})
	if munigis.ErrorCode(err) != munigis.Conflict || !strings.Contains(err.Error(), "chip") {
		t.Errorf("duplicate chip = %v, want Conflict", err)
	}

	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := e.store.Create(ctx, registers.Entry{Register: "dogs", Number: "100", Date: "2024-05-05",
				Data: map[string]any{"chip": "x" + itoa(int64(i))}})
			errs <- err
		}()
	}
	ok, conflicts := 0, 0
	for i := 0; i < 8; i++ {
		switch err := <-errs; munigis.ErrorCode(err) {
		case "":
			ok++
		case munigis.Conflict:
			conflicts++
		default:
			t.Errorf("concurrent create: %v", err)
		}
	}
	if ok != 1 || conflicts != 7 {
		t.Errorf("8 clerks writing number 100: %d stored, %d conflicts; want 1 and 7", ok, conflicts)
	}
}

// munigis serve runs as munigis_app (migration 000004): everything the
// engine does, including what its triggers do (layers of a new register,
// the object index, flags, history, audit), must work with that role's
// rights, and the history must stay out of its reach.
func TestAsApplicationRole(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	cfg := e.pool.Config().ConnConfig
	app, err := postgis.Open(ctx, postgis.Config{URL: cfg.ConnString(), Role: "munigis_app", MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	s := registers.NewStore(app)
	if _, err := s.CreateType(ctx, registers.Type{Name: "kiosks", TitleBG: "Павилиони", TitleEN: "Kiosks", Published: true,
		Fields: []registers.Field{
			{Name: "identifiers", Type: registers.CadastralIDs, TitleBG: "Имот", TitleEN: "Parcel", Public: true},
			{Name: "holder", Type: registers.Person, TitleBG: "Ползвател", TitleEN: "Holder"},
		}}); err != nil {
		t.Fatalf("CreateType as munigis_app: %v", err)
	}
	k := mustCreate(t, s, registers.Entry{Register: "kiosks", Number: "П-1", Date: "2024-03-03", Identifiers: []string{e.parcels[7]},
		Parties: []registers.Party{{PersonID: e.ivan.ID, Role: "holder"}}})
	k.Number = "П-1а"
	if _, err := s.Update(ctx, k); err != nil {
		t.Fatalf("Update as munigis_app: %v", err)
	}
	if _, err := app.Exec(ctx, `DELETE FROM features.cadastre_parcels WHERE identifier = $1`, e.parcels[7]); err != nil {
		t.Fatalf("deleting a parcel under an entry as munigis_app: %v", err)
	}
	flags, err := s.Flags(ctx, nil)
	if err != nil || len(flags) != 1 {
		t.Fatalf("flags as munigis_app: %v, %v", flags, err)
	}
	if _, err := s.Resolve(ctx, flags[0].ID, []string{e.parcels[8]}); err != nil {
		t.Fatalf("Resolve as munigis_app: %v", err)
	}
	var n int
	if err := app.QueryRow(ctx, `SELECT count(*) FROM features.reg_kiosks`).Scan(&n); err != nil || n != 1 {
		t.Errorf("reading the register layer as munigis_app: %d, %v", n, err)
	}
	if _, err := app.Exec(ctx, `DELETE FROM register_entry_versions`); err == nil {
		t.Errorf("munigis_app may delete the history of entries")
	}
}

package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/xuri/excelize/v2"

	"munigis"
	"munigis/access"
	"munigis/accounts"
	"munigis/layers"
	"munigis/registers"
	"munigis/registers/persons"
	"munigis/registers/property"
	"munigis/web"
)

// regFixture is newFixture's database and accounts served with the
// registers, plus:
//   - two registers defined through the API: "test_permits" (published;
//     fields investor (person, public), address (public), category (enum,
//     public), note (internal)) and "test_files" (not published);
//   - a natural person "Иван Петров Иванов" with a valid ЕГН and a legal
//     entity "Троян Строй ЕООД" with a valid ЕИК;
//   - entries on the fixture's parcel 68134.100.5 and its building;
//   - users: clerk (read grant on every register), editor (edit grant on
//     test_permits only), outsider (signed in, no register grant).
type regFixture struct {
	fixture
	reg                      *registers.Store
	per                      *persons.Store
	clerk, editor, outsider  string // API tokens
	ivan, company            persons.Person
	egn, eik                 string
	permit1, permit2, secret registers.Entry
}

const (
	secretNote  = "SECRET-REGISTER-NOTE"
	secretFile  = "SECRET-FILE-NUMBER"
	ivanName    = "Иван Петров Иванов"
	ivanMasked  = "И. П. И."
	companyName = "Троян Строй ЕООД"
)

func newRegFixture(t *testing.T) regFixture {
	t.Helper()
	base := newFixture(t)
	ctx := munigis.WithActor(context.Background(), "test")
	pool := base.pool.Pool
	reg := registers.NewStore(pool)
	per := persons.NewStore(pool)
	ls := layers.NewStore(pool)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// A long request timeout: the export of 100,000 entries takes about 2 s,
	// but ten times that under the race detector on a busy machine.
	srv := web.New(web.Config{Version: "test", RequestTimeout: 3 * time.Minute}, web.Deps{Layers: ls, DB: pool, Log: log, Accounts: base.store,
		Registers: reg, Persons: per, Property: property.New(pool)})
	f := regFixture{fixture: base, reg: reg, per: per}
	f.srv, f.h = srv, srv.Handler()

	user := func(name string, role access.Role, grants ...accounts.Grant) string {
		t.Helper()
		if _, err := base.store.CreateUser(ctx, accounts.NewUser{Username: name, FirstName: "Тест", Surname: "Служител",
			Role: role, AdminBody: "Община Троян", JobTitle: "служител", Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		u, err := base.store.User(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range grants {
			g.SubjectKind, g.Subject = "user", u.SystemID
			if _, err := base.store.Grant(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		raw, _, err := base.store.CreateToken(ctx, name, "test")
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// The roles' default register grants (migration 000009) are revoked
	// here, so that each user holds exactly the grants the test gives.
	if _, err := pool.Exec(ctx, `UPDATE grants SET revoked_at = now(), revoked_by = 'test'
		WHERE subject_kind = 'role' AND object_kind = 'register' AND revoked_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	f.clerk = user("clerk1", access.Clerk, accounts.Grant{ObjectKind: access.KindRegister, Object: access.All, Permission: access.Read})
	f.editor = user("editor1", access.Planner, accounts.Grant{ObjectKind: access.KindRegister, Object: "test_permits", Permission: access.Edit})
	f.outsider = user("outsider1", access.Inspector)

	permits := `{"name":"test_permits","title_bg":"Тестови разрешения","title_en":"Test permits","published":true,
	  "number_label_bg":"Разрешение №","number_label_en":"Permit No",
	  "fields":[
	    {"name":"investor","type":"person","title_bg":"Възложител","title_en":"Investor","public":true},
	    {"name":"address","type":"text","title_bg":"Адрес","title_en":"Address","public":true},
	    {"name":"category","type":"enum","title_bg":"Категория","title_en":"Category","values":["I","II","III","IV","V","VI"],"public":true,"required":true},
	    {"name":"objects","type":"cadastral_ids","title_bg":"Обекти","title_en":"Objects","public":true},
	    {"name":"status","type":"enum","title_bg":"Състояние","title_en":"Status","values":["issued","in_force","expired"],"public":true},
	    {"name":"note","type":"text","title_bg":"Бележка","title_en":"Note"}]}`
	if code, body := f.do(t, "POST", "/api/register-types", f.token, permits); code != 201 {
		t.Fatalf("define test_permits: %d %s", code, body)
	}
	files := `{"name":"test_files","title_bg":"Преписки","title_en":"Files","published":false,
	  "fields":[{"name":"objects","type":"cadastral_ids","title_bg":"Обекти","title_en":"Objects"},
	            {"name":"subject","type":"text","title_bg":"Относно","title_en":"Subject"}]}`
	if code, body := f.do(t, "POST", "/api/register-types", f.token, files); code != 201 {
		t.Fatalf("define test_files: %d %s", code, body)
	}

	var err error
	if f.egn, err = persons.CompleteEGN("750102001"); err != nil {
		t.Fatal(err)
	}
	if f.eik, err = persons.CompleteEIK("12345678"); err != nil {
		t.Fatal(err)
	}
	if f.ivan, err = per.Create(ctx, persons.Person{Kind: persons.Natural, Name: ivanName, EGN: f.egn, Address: "гр. Троян, ул. Тайна 1"}); err != nil {
		t.Fatal(err)
	}
	if f.company, err = per.Create(ctx, persons.Person{Kind: persons.Legal, Name: companyName, EIK: f.eik}); err != nil {
		t.Fatal(err)
	}
	create := func(e registers.Entry) registers.Entry {
		t.Helper()
		out, err := reg.Create(ctx, e)
		if err != nil {
			t.Fatalf("create %s %s: %v", e.Register, e.Number, err)
		}
		return out
	}
	f.permit1 = create(registers.Entry{Register: "test_permits", Number: "РС-1/2025", Date: "2025-03-01", Status: "issued",
		Identifiers: []string{"68134.100.5"}, Parties: []registers.Party{{PersonID: f.ivan.ID, Role: "investor"}},
		Data: map[string]any{"address": "гр. Троян, ул. Васил Левски 5", "category": "V", "note": secretNote}})
	f.permit2 = create(registers.Entry{Register: "test_permits", Number: "РС-2/2025", Date: "2025-06-15", Status: "issued",
		Identifiers: []string{"68134.100.5.1"}, Parties: []registers.Party{{PersonID: f.company.ID, Role: "investor"}},
		Data: map[string]any{"address": "гр. Троян, ул. Раковска 2", "category": "IV"}})
	f.secret = create(registers.Entry{Register: "test_files", Number: secretFile, Date: "2025-01-10",
		Identifiers: []string{"68134.100.5"}, Data: map[string]any{"subject": "вътрешна преписка"}})
	return f
}

func decodeJSON[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

type entryList struct {
	Entries []struct {
		ID          int64          `json:"id"`
		Number      string         `json:"number"`
		Identifiers []string       `json:"identifiers"`
		Parties     []any          `json:"parties"`
		Data        map[string]any `json:"data"`
		Version     int            `json:"version"`
	} `json:"entries"`
	NumberMatched  int64 `json:"numberMatched"`
	NumberReturned int   `json:"numberReturned"`
	Links          []struct{ Rel, Href string }
}

func (l entryList) numbers() []string {
	var out []string
	for _, e := range l.Entries {
		out = append(out, e.Number)
	}
	return out
}

func (l entryList) link(rel string) string {
	for _, k := range l.Links {
		if k.Rel == rel {
			return k.Href
		}
	}
	return ""
}

// personalData is what must never reach the public from the fixture.
func (f regFixture) personalData() []string {
	return []string{f.egn, ivanName, "Иванов", "Ivanov", "ул. Тайна", secretNote, secretFile, "test_files", "вътрешна преписка",
		"clerk1", "editor1", "U-0000"}
}

func TestRegisterListAccess(t *testing.T) {
	f := newRegFixture(t)
	names := func(auth string) map[string]string {
		code, body := f.do(t, "GET", "/api/registers", auth, "")
		if code != 200 {
			t.Fatalf("GET /api/registers: %d %s", code, body)
		}
		got := decodeJSON[struct {
			Registers []struct {
				Name, Access string
				Fields       []struct{ Name string }
			}
		}](t, body)
		out := map[string]string{}
		for _, r := range got.Registers {
			var fs []string
			for _, fl := range r.Fields {
				fs = append(fs, fl.Name)
			}
			out[r.Name] = r.Access + ":" + strings.Join(fs, ",")
		}
		return out
	}
	pub := names("")
	if pub["test_permits"] != "public:investor,address,category,objects,status" {
		t.Errorf("public sees test_permits as %q, want its public fields only", pub["test_permits"])
	}
	if _, ok := pub["test_files"]; ok {
		t.Error("the public lists the unpublished register test_files")
	}
	for _, who := range []string{f.outsider} {
		if _, ok := names(who)["test_files"]; ok {
			t.Error("a user without a register grant lists test_files")
		}
	}
	staff := names(f.clerk)
	if staff["test_permits"] != "full:investor,address,category,objects,status,note" || !strings.HasPrefix(staff["test_files"], "full:") {
		t.Errorf("clerk sees %v, want both registers in full", staff)
	}
	// An unpublished register answers like a missing one.
	c1, b1 := f.do(t, "GET", "/api/registers/test_files/entries", "", "")
	c2, b2 := f.do(t, "GET", "/api/registers/no_such/entries", "", "")
	if c1 != 404 || c2 != 404 || strings.ReplaceAll(b1, "test_files", "X") != strings.ReplaceAll(b2, "no_such", "X") {
		t.Errorf("unpublished vs missing: %d %s / %d %s", c1, b1, c2, b2)
	}
}

func TestRegisterSearchAndMasking(t *testing.T) {
	f := newRegFixture(t)
	get := func(auth, query string) entryList {
		t.Helper()
		code, body := f.do(t, "GET", "/api/registers/test_permits/entries"+query, auth, "")
		if code != 200 {
			t.Fatalf("GET entries%s: %d %s", query, code, body)
		}
		return decodeJSON[entryList](t, body)
	}
	// The public: public fields, masked person, no person ids, no ЕГН.
	code, body := f.do(t, "GET", "/api/registers/test_permits/entries", "", "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, s := range f.personalData() {
		if strings.Contains(body, s) {
			t.Errorf("the public's list contains %q: %s", s, body)
		}
	}
	if !strings.Contains(body, ivanMasked) || !strings.Contains(body, companyName) || !strings.Contains(body, "Васил Левски") {
		t.Errorf("the public's list lacks the masked investor, the company or the public address: %s", body)
	}
	if strings.Contains(body, `"person_id"`) || strings.Contains(body, strconv.FormatInt(f.ivan.ID, 10)+`,`) && strings.Contains(body, `"investor":`+strconv.FormatInt(f.ivan.ID, 10)) {
		t.Errorf("the public sees person ids: %s", body)
	}
	// Staff: everything.
	_, staff := f.do(t, "GET", "/api/registers/test_permits/entries", f.clerk, "")
	if !strings.Contains(staff, secretNote) || !strings.Contains(staff, ivanName) {
		t.Errorf("the clerk lacks the internal note or the full name: %s", staff)
	}

	l := get("", "?limit=1")
	if l.NumberMatched != 2 || l.NumberReturned != 1 || l.link("next") == "" || l.link("prev") != "" {
		t.Errorf("page 1: %+v", l)
	}
	l2 := get("", strings.TrimPrefix(l.link("next"), "/api/registers/test_permits/entries"))
	if l2.NumberReturned != 1 || l2.link("next") != "" || l2.link("prev") == "" || l2.Entries[0].Number == l.Entries[0].Number {
		t.Errorf("page 2: %+v", l2)
	}
	cases := []struct {
		auth, query string
		want        []string
	}{
		{"", "?identifier=68134.100.5", []string{"РС-1/2025"}},
		{"", "?identifier=68134.100.5&below=1", []string{"РС-2/2025", "РС-1/2025"}}, // newest first
		{"", "?number=РС-2/2025", []string{"РС-2/2025"}},
		{"", "?q=" + urlq("васил левски"), []string{"РС-1/2025"}},
		{"", "?q=vasil+levski", []string{"РС-1/2025"}}, // Latin finds Cyrillic
		{"", "?q=rakovska", []string{"РС-2/2025"}},
		{"", "?from=2025-04-01", []string{"РС-2/2025"}},
		{"", "?to=2025-04-01", []string{"РС-1/2025"}},
		// The public cannot confirm a guessed name or an internal note.
		{"", "?q=" + urlq("Иванов"), nil},
		{"", "?q=" + secretNote, nil},
		{f.clerk, "?q=" + urlq("Иванов"), []string{"РС-1/2025"}},
		{f.clerk, "?q=ivanov", []string{"РС-1/2025"}},
		{f.clerk, "?q=" + secretNote, []string{"РС-1/2025"}},
		{f.clerk, "?person=" + strconv.FormatInt(f.company.ID, 10), []string{"РС-2/2025"}},
	}
	for _, c := range cases {
		got := get(c.auth, c.query)
		if strings.Join(got.numbers(), ",") != strings.Join(c.want, ",") || got.NumberMatched != int64(len(c.want)) {
			t.Errorf("%s (staff %v): %v (matched %d), want %v", c.query, c.auth != "", got.numbers(), got.NumberMatched, c.want)
		}
	}
	bad := []struct{ query, field string }{
		{"?identifier=68134.0100.5", "identifier"},
		{"?from=2025-13-01", "from"},
		{"?to=yesterday", "to"},
		{"?from=2025-05-01&to=2025-04-01", "to"},
		{"?limit=0", "limit"},
		{"?limit=5000", "limit"},
		{"?offset=-1", "offset"},
		{"?below=maybe", "below"},
		{"?format=pdf", "format"},
	}
	for _, b := range bad {
		code, body := f.do(t, "GET", "/api/registers/test_permits/entries"+b.query, "", "")
		if code != 400 || !strings.Contains(body, `"message":"`+b.field) || !strings.Contains(body, "message_bg") {
			t.Errorf("%s: %d %s, want 400 naming %s in both languages", b.query, code, body, b.field)
		}
	}
	if code, body := f.do(t, "GET", "/api/registers/test_permits/entries?person=1", "", ""); code != 403 {
		t.Errorf("the public searching by person: %d %s, want 403", code, body)
	}
}

func urlq(s string) string { return strings.ReplaceAll(s, " ", "+") }

func TestRegisterEntryWrites(t *testing.T) {
	f := newRegFixture(t)
	count := func() int {
		var n int
		if err := f.pool.Pool.QueryRow(context.Background(), `SELECT count(*) FROM register_entries WHERE register = 'test_permits'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	good := `{"number":"РС-3/2025","date":"2025-07-01","status":"issued","identifiers":["68134.100.6"],"data":{"category":"III","address":"ул. Нова 1"}}`
	if code, _ := f.do(t, "POST", "/api/registers/test_permits/entries", "", good); code != 403 {
		t.Errorf("the public creates: %d, want 403", code)
	}
	if code, _ := f.do(t, "POST", "/api/registers/test_permits/entries", f.clerk, good); code != 403 {
		t.Errorf("a read-only clerk creates: %d, want 403", code)
	}
	if code, _ := f.do(t, "POST", "/api/registers/test_files/entries", f.editor, `{"number":"x"}`); code != 404 {
		t.Errorf("the editor writes to a register not granted nor published: %d, want 404", code)
	}
	before := count()
	bad := []struct{ body, field string }{
		{`{"number":"РС-9","date":"2025-08-01","identifiers":["68134.0100.6"],"data":{"category":"III"}}`, "objects"},
		{`{"number":"РС-9","date":"2025-08-01","identifiers":["68134.100.6"],"data":{"category":"VII"}}`, "category"},
		{`{"number":"РС-9","date":"2025-08-01","identifiers":["68134.100.6"],"data":{}}`, "category"},
		{`{"number":"РС-9","date":"2025-08-01","identifiers":["68134.100.6"],"parties":[{"person_id":999999,"role":"investor"}],"data":{"category":"I"}}`, "investor"},
		{`{"number":"РС-9","date":"2025-08-01","status":"lost","data":{"category":"I"}}`, "status"},
		{`{"number":"РС-9","date":"2025-02-30","data":{"category":"I"}}`, "date"},
		{`{"number":"РС-9","date":"2025-08-01","data":{"category":"I"},"colour":"red"}`, "colour"},
	}
	for _, b := range bad {
		code, body := f.do(t, "POST", "/api/registers/test_permits/entries", f.editor, b.body)
		if code != 400 || !strings.Contains(body, b.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", b.body, code, body, b.field)
		}
	}
	if code, body := f.do(t, "POST", "/api/registers/test_permits/entries", f.editor,
		`{"number":"РС-1/2025","date":"2025-08-01","data":{"category":"I"}}`); code != 409 || !strings.Contains(body, "РС-1/2025") {
		t.Errorf("duplicate number: %d %s, want 409 naming it", code, body)
	}
	if n := count(); n != before {
		t.Fatalf("refused writes left %d entries, want %d", n, before)
	}
	code, body := f.do(t, "POST", "/api/registers/test_permits/entries", f.editor, good)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	created := decodeJSON[struct {
		ID      int64 `json:"id"`
		Version int   `json:"version"`
	}](t, body)
	path := "/api/registers/test_permits/entries/" + strconv.FormatInt(created.ID, 10)
	if code, body := f.do(t, "GET", path, "", ""); code != 200 || !strings.Contains(body, "РС-3/2025") {
		t.Errorf("public GET of the new entry: %d %s", code, body)
	}
	// Another register's path to the same id answers like a missing entry.
	if code, _ := f.do(t, "GET", "/api/registers/test_files/entries/"+strconv.FormatInt(created.ID, 10), f.clerk, ""); code != 404 {
		t.Errorf("entry under the wrong register: %d, want 404", code)
	}
	upd := fmt.Sprintf(`{"version":%d,"number":"РС-3/2025","date":"2025-07-01","status":"in_force","identifiers":["68134.100.6"],"data":{"category":"III","address":"ул. Нова 1"}}`, created.Version)
	if code, body := f.do(t, "PUT", path, f.editor, upd); code != 200 || !strings.Contains(body, "in_force") {
		t.Fatalf("update: %d %s", code, body)
	}
	if code, body := f.do(t, "PUT", path, f.editor, upd); code != 409 {
		t.Errorf("update with a stale version: %d %s, want 409", code, body)
	}
	if code, body := f.do(t, "PUT", path, f.editor, strings.Replace(upd, fmt.Sprintf(`"version":%d,`, created.Version), "", 1)); code != 400 || !strings.Contains(body, "version") {
		t.Errorf("update without version: %d %s, want 400 naming version", code, body)
	}
	// History: staff only, with who.
	if code, _ := f.do(t, "GET", path+"/history", "", ""); code != 403 {
		t.Errorf("public history: %d, want 403", code)
	}
	code, body = f.do(t, "GET", path+"/history", f.clerk, "")
	if code != 200 || !strings.Contains(body, `"status":"issued"`) || !strings.Contains(body, `"ended_how":"update"`) || !strings.Contains(body, "U-0000") {
		t.Errorf("history: %d %s", code, body)
	}
	// The audit trail has the write, with the editor.
	var n int
	if err := f.pool.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE object LIKE '%register%' AND actor LIKE 'U-%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Errorf("audit rows for the register writes: %d, want ≥ 2", n)
	}
}

func TestRegisterTypeCreate(t *testing.T) {
	f := newRegFixture(t)
	typ := `{"name":"taxi_test","title_bg":"Такси","title_en":"Taxi","published":true,"fields":[{"name":"plate","type":"text","title_bg":"Рег. номер","title_en":"Plate","public":true},
	  {"name":"stand","type":"cadastral_ids","title_bg":"Стоянка","title_en":"Taxi stand","public":true}]}`
	for _, who := range []string{"", f.clerk, f.editor} {
		if code, _ := f.do(t, "POST", "/api/register-types", who, typ); code != 403 {
			t.Errorf("non-admin defines a register: %d, want 403", code)
		}
	}
	if code, body := f.do(t, "POST", "/api/register-types", f.token, typ); code != 201 || !strings.Contains(body, `"layer":"reg_taxi_test"`) {
		t.Fatalf("admin: %d %s", code, body)
	}
	if code, _ := f.do(t, "POST", "/api/register-types", f.token, typ); code != 409 {
		t.Errorf("twice: %d, want 409", code)
	}
	for _, b := range []struct{ body, field string }{
		{`{"name":"Bad Name","title_bg":"X","title_en":"X"}`, "name"},
		{`{"name":"ok_name","title_bg":"X","title_en":"X","fields":[{"name":"f","type":"colour","title_bg":"Ц","title_en":"C"}]}`, "colour"},
		{`{"name":"ok_name","titel_bg":"X"}`, "titel_bg"},
	} {
		if code, body := f.do(t, "POST", "/api/register-types", f.token, b.body); code != 400 || !strings.Contains(body, b.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", b.body, code, body, b.field)
		}
	}
	if code, body := f.do(t, "GET", "/api/registers", "", ""); code != 200 || !strings.Contains(body, "taxi_test") {
		t.Errorf("the new published register is not listed: %d %s", code, body)
	}
	if code, _ := f.do(t, "GET", "/api/layers/reg_taxi_test", "", ""); code != 200 {
		t.Errorf("its map layer: %d, want 200", code)
	}
}

func TestRegisterRelated(t *testing.T) {
	f := newRegFixture(t)
	code, body := f.do(t, "GET", "/api/cadastre/68134.100.5/related", "", "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, s := range f.personalData() {
		if strings.Contains(body, s) {
			t.Errorf("the public's related contains %q: %s", s, body)
		}
	}
	if !strings.Contains(body, "РС-1/2025") || !strings.Contains(body, "РС-2/2025") || !strings.Contains(body, ivanMasked) {
		t.Errorf("related lacks the parcel's and its building's permits, masked: %s", body)
	}
	_, staff := f.do(t, "GET", "/api/cadastre/68134.100.5/related", f.clerk, "")
	if !strings.Contains(staff, secretFile) || !strings.Contains(staff, ivanName) {
		t.Errorf("the clerk's related lacks the internal file or the name: %s", staff)
	}
	_, building := f.do(t, "GET", "/api/cadastre/68134.100.5.1/related", "", "")
	if strings.Contains(building, "РС-1/2025") || !strings.Contains(building, "РС-2/2025") {
		t.Errorf("the building's related: %s", building)
	}
	if code, body := f.do(t, "GET", "/api/cadastre/68134.0100.5/related", "", ""); code != 400 || !strings.Contains(body, "message_bg") {
		t.Errorf("malformed identifier: %d %s", code, body)
	}
}

func TestPersonsAPI(t *testing.T) {
	f := newRegFixture(t)
	for _, who := range []string{"", f.outsider} {
		if code, _ := f.do(t, "GET", "/api/persons?q=ivan", who, ""); code != 403 {
			t.Errorf("persons search without a register grant: %d, want 403", code)
		}
		if code, _ := f.do(t, "GET", "/api/persons/"+strconv.FormatInt(f.ivan.ID, 10), who, ""); code != 403 {
			t.Errorf("person without a register grant: %d, want 403", code)
		}
	}
	code, body := f.do(t, "GET", "/api/persons?q=ivanov", f.clerk, "")
	if code != 200 || !strings.Contains(body, ivanName) {
		t.Errorf("clerk finds Ivanov: %d %s", code, body)
	}
	if code, body := f.do(t, "GET", "/api/persons?q="+f.egn, f.clerk, ""); code != 200 || !strings.Contains(body, ivanName) {
		t.Errorf("clerk finds by ЕГН: %d %s", code, body)
	}
	if code, _ := f.do(t, "GET", "/api/persons", f.clerk, ""); code != 400 {
		t.Errorf("persons without q: %d, want 400", code)
	}
	egn2, _ := persons.CompleteEGN("800315123")
	p := `{"kind":"natural","name":"Мария Георгиева Петрова","egn":"` + egn2 + `"}`
	if code, _ := f.do(t, "POST", "/api/persons", f.clerk, p); code != 403 {
		t.Errorf("read-only clerk adds a person: %d, want 403", code)
	}
	badEGN := egn2[:9] + strconv.Itoa((int(egn2[9]-'0')+1)%10)
	if code, body := f.do(t, "POST", "/api/persons", f.editor, strings.Replace(p, egn2, badEGN, 1)); code != 400 || !strings.Contains(body, "egn") || !strings.Contains(body, "message_bg") {
		t.Errorf("bad ЕГН: %d %s, want 400 naming egn", code, body)
	}
	code, body = f.do(t, "POST", "/api/persons", f.editor, p)
	if code != 201 {
		t.Fatalf("editor adds a person: %d %s", code, body)
	}
	if code, body := f.do(t, "POST", "/api/persons", f.editor, p); code != 409 {
		t.Errorf("the same ЕГН twice: %d %s, want 409", code, body)
	}
	id := decodeJSON[struct{ ID int64 }](t, body).ID
	if code, body := f.do(t, "GET", "/api/persons/"+strconv.FormatInt(id, 10), f.clerk, ""); code != 200 || !strings.Contains(body, egn2) {
		t.Errorf("clerk reads the person: %d %s", code, body)
	}
}

// readCSV parses an export and checks its byte order mark.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\uFEFF")) {
		t.Fatalf("the CSV does not start with a UTF-8 BOM: %q", body[:min(len(body), 20)])
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func (f regFixture) raw(t *testing.T, path, auth string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func TestRegisterExport(t *testing.T) {
	f := newRegFixture(t)
	rec := f.raw(t, "/api/registers/test_permits/entries?format=csv&limit=1", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), `attachment; filename="test_permits-`) {
		t.Fatalf("CSV: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rows := readCSV(t, rec.Body.Bytes())
	// The whole search, not the page: the header and both entries.
	if len(rows) != 3 || rows[0][1] != "Разрешение №" || !strings.Contains(strings.Join(rows[0], ","), "Адрес") {
		t.Fatalf("public CSV rows: %q", rows)
	}
	all := rec.Body.String()
	for _, s := range f.personalData() {
		if strings.Contains(all, s) {
			t.Errorf("the public CSV contains %q", s)
		}
	}
	if strings.Contains(all, "Бележка") || !strings.Contains(all, ivanMasked) {
		t.Errorf("the public CSV has the internal column or lacks the masked name: %s", all)
	}
	staff := f.raw(t, "/api/registers/test_permits/entries?format=csv&lang=en", f.clerk)
	rows = readCSV(t, staff.Body.Bytes())
	if len(rows) != 3 || rows[0][1] != "Permit No" || !strings.Contains(staff.Body.String(), secretNote) || !strings.Contains(staff.Body.String(), ivanName) {
		t.Errorf("staff CSV: %q", rows)
	}
	// A search narrows the export.
	rows = readCSV(t, f.raw(t, "/api/registers/test_permits/entries?format=csv&q=rakovska", "").Body.Bytes())
	if len(rows) != 2 || rows[1][1] != "РС-2/2025" {
		t.Errorf("searched CSV: %q", rows)
	}

	// A text typed as a formula is not run by the spreadsheet.
	if code, body := f.do(t, "POST", "/api/registers/test_permits/entries", f.editor,
		`{"number":"РС-5/2025","date":"2025-09-01","data":{"category":"II","address":"=HYPERLINK(\"http://example.com\")"}}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	rows = readCSV(t, f.raw(t, "/api/registers/test_permits/entries?format=csv&number=РС-5", "").Body.Bytes())
	if len(rows) != 2 || !strings.HasPrefix(rows[1][6], "'=HYPERLINK") {
		t.Errorf("formula cell: %q", rows)
	}

	x := f.raw(t, "/api/registers/test_permits/entries?format=xlsx", f.clerk)
	if x.Code != 200 || !strings.Contains(x.Header().Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("XLSX: %d %v", x.Code, x.Header())
	}
	book, err := excelize.OpenReader(bytes.NewReader(x.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	xrows, err := book.GetRows(book.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.reg.Count(context.Background(), registers.Query{Register: "test_permits"})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(xrows)) != n+1 || xrows[0][1] != "Разрешение №" || !strings.Contains(fmt.Sprint(xrows), "Васил Левски") || !strings.Contains(fmt.Sprint(xrows), ivanName) {
		t.Errorf("XLSX rows %q, want a header and %d entries", xrows, n)
	}
}

// countingWriter is a ResponseWriter that keeps nothing: it counts bytes
// and lines, and samples the heap as the export streams through it.
type countingWriter struct {
	h          http.Header
	code       int
	bytes      int64
	lines      int64
	writes     int
	peak, base uint64
	head       []byte
}

func (c *countingWriter) Header() http.Header { return c.h }
func (c *countingWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}
func (c *countingWriter) Write(p []byte) (int, error) {
	if c.code == 0 {
		c.code = 200
	}
	if len(c.head) < 64 {
		c.head = append(c.head, p[:min(len(p), 64-len(c.head))]...)
	}
	c.bytes += int64(len(p))
	c.lines += int64(bytes.Count(p, []byte("\n")))
	c.writes++
	if c.writes%20 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse > c.peak {
			c.peak = m.HeapInuse
		}
	}
	return len(p), nil
}

// TestRegisterExportFlatMemory exports 100,000 entries (made with SQL) as
// CSV and checks that the heap does not grow with them: the rows stream
// from the database cursor to the client.
func TestRegisterExportFlatMemory(t *testing.T) {
	f := newRegFixture(t)
	ctx := context.Background()
	start := time.Now()
	// The entries go in with the triggers off (session_replication_role):
	// this test measures the export, and 100,000 rows through the history,
	// audit and index triggers take minutes on a busy machine. A plain
	// search by register reads none of what the triggers keep.
	if _, err := f.pool.Pool.Exec(ctx, `
		SET session_replication_role = replica;
		INSERT INTO register_entries (register, number, entry_date, status, identifiers, data)
		SELECT 'test_permits', 'BULK-' || g, date '2020-01-01' + (g % 1500), 'issued', ARRAY['68134.100.6'],
		       jsonb_build_object('category', 'IV', 'address', 'гр. Троян, ул. Генерал Карцов ' || g)
		FROM generate_series(1, 100000) g;
		SET session_replication_role = DEFAULT`); err != nil {
		t.Fatal(err)
	}
	t.Logf("100,000 entries inserted in %v", time.Since(start))
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w := &countingWriter{h: http.Header{}, base: m.HeapInuse}
	req := httptest.NewRequest("GET", "/api/registers/test_permits/entries?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+f.clerk)
	start = time.Now()
	f.h.ServeHTTP(w, req)
	t.Logf("exported %d lines, %d MB in %v; heap in use %d MB before, peak %d MB during",
		w.lines, w.bytes>>20, time.Since(start), w.base>>20, w.peak>>20)
	if w.code != 200 || w.lines != 100000+2+1 {
		t.Fatalf("status %d, %d lines, want 200 and 100,003 (header + 2 + 100,000); starts %q", w.code, w.lines, w.head)
	}
	// The file is about 13 MB; holding it (or the entries) would show as
	// heap growth well above this bound.
	if w.peak > w.base+24<<20 {
		t.Errorf("the heap grew from %d MB to %d MB during the export; it should stay flat", w.base>>20, w.peak>>20)
	}

	// XLSX: excelize's StreamWriter keeps the sheet in a temporary file
	// beyond its buffer, and the workbook is zipped from there to the
	// client. A sampler watches the heap, since the bytes only come at the
	// end. A third of the entries (a date range, which also checks that
	// the export is the search's): excelize is ten times slower than CSV
	// under the race detector. Measured without it: a peak of 38, 56 and
	// 64 MB for 20,000, 100,000 and 400,000 rows.
	runtime.GC()
	runtime.ReadMemStats(&m)
	x := &countingWriter{h: http.Header{}, base: m.HeapInuse}
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				peak <- top
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapInuse)
			}
		}
	}()
	req = httptest.NewRequest("GET", "/api/registers/test_permits/entries?format=xlsx&from=2020-01-01&to=2021-05-14", nil)
	req.Header.Set("Authorization", "Bearer "+f.clerk)
	start = time.Now()
	f.h.ServeHTTP(x, req)
	close(done)
	top := max(<-peak, x.peak)
	t.Logf("XLSX: %d MB in %v; heap in use %d MB before, peak %d MB during", x.bytes>>20, time.Since(start), x.base>>20, top>>20)
	if x.code != 200 || !bytes.HasPrefix(x.head, []byte("PK")) {
		t.Fatalf("XLSX export: status %d, starts %q", x.code, x.head)
	}
	n, err := f.reg.Count(ctx, registers.Query{Register: "test_permits", DateFrom: "2020-01-01", DateTo: "2021-05-14"})
	if err != nil || n < 33000 {
		t.Fatalf("the XLSX's search matches %d (%v), want about 33,000", n, err)
	}
	// excelize keeps up to 16 MB of sheet XML in memory before it spills
	// to its temporary file (the XML of these 100,000 rows is bigger than
	// that); with the garbage between collections that is some 60 MB,
	// whatever the number of rows. Holding the rows would be far more.
	if top > x.base+96<<20 {
		t.Errorf("the heap grew from %d MB to %d MB during the XLSX export; it should stay flat", x.base>>20, top>>20)
	}
}

func TestRegistersPage(t *testing.T) {
	f := newRegFixture(t)
	code, body := f.do(t, "GET", "/registers", "", "")
	if code != 200 || !strings.Contains(body, `lang="bg"`) || !strings.Contains(body, "Публични регистри") ||
		!strings.Contains(body, "Тестови разрешения") || strings.Contains(body, "test_files") {
		t.Fatalf("index: %d %s", code, body)
	}
	code, body = f.do(t, "GET", "/registers?r=test_permits", f.clerk, "")
	if code != 200 || !strings.Contains(body, "РС-1/2025") || !strings.Contains(body, ivanMasked) ||
		!strings.Contains(body, `href="/#18/42.75`) || !strings.Contains(body, `href="/api/cadastre/68134.100.5/related"`) || !strings.Contains(body, "Васил Левски") {
		t.Errorf("register page: %d %s", code, body)
	}
	// The public's page is the public's even for staff.
	for _, s := range f.personalData() {
		if strings.Contains(body, s) {
			t.Errorf("the page contains %q", s)
		}
	}
	_, body = f.do(t, "GET", "/registers?r=test_permits&q=rakovska&lang=en", "", "")
	if !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Test permits") || strings.Contains(body, "РС-1/2025") || !strings.Contains(body, "РС-2/2025") {
		t.Errorf("English search page: %s", body)
	}
	if code, _ := f.do(t, "GET", "/registers?r=test_files", f.clerk, ""); code != 404 {
		t.Errorf("unpublished register's page: %d, want 404", code)
	}
}

// TestRegisterRoutesHidePersonalData walks every GET route of the router
// as the public with the registers' fill values, and fails if an answer
// holds a person's ЕГН or full name, an internal field's value or an
// unpublished register.
func TestRegisterRoutesHidePersonalData(t *testing.T) {
	f := newRegFixture(t)
	fill := map[string][]string{
		"name":       {"test_permits", "test_files", "municipal_property", "building_permits", "property_by_kind"},
		"id":         {strconv.FormatInt(f.permit1.ID, 10), strconv.FormatInt(f.secret.ID, 10), strconv.FormatInt(f.ivan.ID, 10)},
		"identifier": {"68134.100.5", "68134.100.5.1"},
		"z":          {"16"}, "x": {"37388"}, "y": {"24140"},
	}
	walked := 0
	err := f.srv.Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, _ := route.GetMethods()
		for _, m := range methods {
			if m != http.MethodGet || (!strings.Contains(tpl, "regist") && !strings.Contains(tpl, "persons") &&
				!strings.Contains(tpl, "related") && !strings.Contains(tpl, "reports")) {
				continue
			}
			for _, path := range expand(tpl, fill) {
				for _, q := range []string{"", "?limit=1000", "?format=csv", "?q=ivanov", "?r=test_permits", "?r=test_files"} {
					walked++
					code, body := f.do(t, m, path+q, "", "")
					for _, s := range f.personalData() {
						if strings.Contains(body, s) && !strings.Contains(path+q, s) {
							t.Errorf("GET %s%s (%d) as the public contains %q", path, q, code, s)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked < 50 {
		t.Fatalf("walked only %d requests", walked)
	}
}

func TestPropertyTimelineAndReports(t *testing.T) {
	f := newRegFixture(t)
	ctx := munigis.WithActor(context.Background(), "test")
	act, err := f.reg.Create(ctx, registers.Entry{Register: "municipal_property", Number: "АОС-77", Date: "2010-05-04",
		Identifiers: []string{"68134.100.6"}, Parties: []registers.Party{{PersonID: f.company.ID, Role: "holder"}},
		Data: map[string]any{"kind": "частна", "use": "магазин", "area_m2": 1600.0, "book_value": 52000.0, "dossier": secretNote}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/registers/municipal_property/entries/" + strconv.FormatInt(act.ID, 10)
	if code, _ := f.do(t, "GET", path+"/timeline", "", ""); code != 403 {
		t.Errorf("public timeline: %d, want 403", code)
	}
	code, body := f.do(t, "GET", path+"/timeline", f.clerk, "")
	if code != 200 || !strings.Contains(body, "АОС-77") || !strings.Contains(body, `"state":"owned"`) {
		t.Fatalf("clerk timeline: %d %s", code, body)
	}
	// The public sees the act itself, without its internal fields.
	if code, body := f.do(t, "GET", path, "", ""); code != 200 || strings.Contains(body, secretNote) || strings.Contains(body, "52000") || !strings.Contains(body, companyName) {
		t.Errorf("public act: %d %s", code, body)
	}
	// Before the sale the property counts as held.
	code, body = f.do(t, "GET", "/api/reports/property_by_kind_and_use", f.clerk, "")
	rep := decodeJSON[struct{ Rows [][]any }](t, body)
	if code != 200 || len(rep.Rows) != 1 || rep.Rows[0][0] != "частна" || rep.Rows[0][1] != "магазин" {
		t.Errorf("property by kind and use: %d %s", code, body)
	}
	rows := readCSV(t, f.raw(t, "/api/reports/property_by_kind_and_use?format=csv", f.clerk).Body.Bytes())
	if len(rows) != 2 || rows[0][0] != "Вид собственост" || rows[1][1] != "магазин" {
		t.Errorf("report CSV: %q", rows)
	}
	sale := `{"kind":"sale","op_date":"2024-02-01","document_number":"Договор 12/2024","document_date":"2024-01-20",
	  "parties":[{"person_id":` + strconv.FormatInt(f.ivan.ID, 10) + `,"role":"buyer"}],"description":"продажба чрез търг","amount_bgn":80000}`
	if code, _ := f.do(t, "POST", path+"/operations", f.clerk, sale); code != 403 {
		t.Errorf("read-only clerk records a sale: %d, want 403", code)
	}
	for _, b := range []struct{ body, field string }{
		{strings.Replace(sale, `"sale"`, `"gift"`, 1), "kind"},
		{strings.Replace(sale, `"2024-02-01"`, `"2024-13-01"`, 1), "op_date"},
		{strings.Replace(sale, `"2024-01-20"`, `"2024-03-01"`, 1), "document_date"},
	} {
		if code, body := f.do(t, "POST", path+"/operations", f.token, b.body); code != 400 || !strings.Contains(body, b.field) {
			t.Errorf("bad operation: %d %s, want 400 naming %s", code, body, b.field)
		}
	}
	if code, body := f.do(t, "POST", path+"/operations", f.token, sale); code != 201 || !strings.Contains(body, "Договор 12/2024") {
		t.Fatalf("sale: %d %s", code, body)
	}
	_, body = f.do(t, "GET", path+"/timeline", f.clerk, "")
	if !strings.Contains(body, `"state":"removed"`) || !strings.Contains(body, "продажба чрез търг") {
		t.Errorf("timeline after the sale: %s", body)
	}
	if code, _ := f.do(t, "GET", "/api/registers/test_permits/entries/"+strconv.FormatInt(f.permit1.ID, 10)+"/timeline", f.clerk, ""); code != 404 {
		t.Errorf("timeline of another register: %d, want 404", code)
	}

	// Reports: staff only, JSON or a download.
	for _, who := range []string{"", f.outsider} {
		if code, _ := f.do(t, "GET", "/api/reports/property_by_kind_and_use", who, ""); code != 403 {
			t.Errorf("report without a register grant: %d, want 403", code)
		}
	}
	if code, body := f.do(t, "GET", "/api/reports", f.clerk, ""); code != 200 || !strings.Contains(body, "rentals_due") {
		t.Errorf("report list: %d %s", code, body)
	}
	x := f.raw(t, "/api/reports/operations_in_period?from=2024-01-01&to=2024-12-31&format=xlsx&lang=en", f.clerk)
	book, err := excelize.OpenReader(bytes.NewReader(x.Body.Bytes()))
	if err != nil {
		t.Fatalf("report XLSX: %d %v", x.Code, err)
	}
	defer book.Close()
	xrows, _ := book.GetRows(book.GetSheetName(0))
	if len(xrows) != 2 || xrows[0][0] != "Kind (code)" || xrows[1][0] != "sale" || xrows[1][2] != "1" {
		t.Errorf("operations report XLSX: %q", xrows)
	}
	for _, b := range []struct{ query, field string }{
		{"/api/reports/operations_in_period?from=2024-02-30", "from"},
		{"/api/reports/operations_in_period?from=2024-05-01&to=2024-01-01", "to"},
		{"/api/reports/rentals_due?days=0", "days"},
		{"/api/reports/rentals_due?format=pdf", "format"},
	} {
		if code, body := f.do(t, "GET", b.query, f.clerk, ""); code != 400 || !strings.Contains(body, b.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", b.query, code, body, b.field)
		}
	}
	if code, _ := f.do(t, "GET", "/api/reports/nonsense", f.clerk, ""); code != 404 {
		t.Errorf("unknown report: %d, want 404", code)
	}
}

// uncountable is the register store with every count over its budget.
type uncountable struct{ *registers.Store }

func (u uncountable) Page(ctx context.Context, q registers.Query, budget time.Duration, fn func(registers.Entry) error) (int64, error) {
	_, err := u.Store.Page(ctx, q, budget, fn)
	return -1, err
}

// TestRegisterSearchCount: a page that is not full gives the total without
// counting; a full page whose count runs past its budget (the store's
// CountWithin, tested in registers) comes without numberMatched and with a
// next link — in the JSON and on the public page. (registers.Store.Page
// decides when counting is too costly; tested in registers.)
func TestRegisterSearchCount(t *testing.T) {
	f := newRegFixture(t)
	code, body := f.do(t, "GET", "/api/registers/test_permits/entries?limit=1", f.clerk, "")
	if l := decodeJSON[entryList](t, body); code != 200 || l.NumberMatched < 2 || l.link("next") == "" {
		t.Fatalf("counted: %d %s", code, body)
	}
	total := decodeJSON[entryList](t, body).NumberMatched
	code, body = f.do(t, "GET", "/api/registers/test_permits/entries?limit=100", f.clerk, "")
	if l := decodeJSON[entryList](t, body); code != 200 || l.NumberMatched != total || l.link("next") != "" {
		t.Errorf("a page that is not full: %d numberMatched %d (want %d), next %q", code, l.NumberMatched, total, l.link("next"))
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.New(web.Config{Version: "test"}, web.Deps{Layers: layers.NewStore(f.pool.Pool), DB: f.pool.Pool, Log: log,
		Accounts: f.store, Registers: uncountable{f.reg}, Persons: f.per, Property: property.New(f.pool.Pool)})
	f.srv, f.h = srv, srv.Handler()
	code, body = f.do(t, "GET", "/api/registers/test_permits/entries?limit=1", f.clerk, "")
	if code != 200 || strings.Contains(body, "numberMatched") {
		t.Errorf("a count past its budget still gave numberMatched: %d %s", code, body)
	}
	if l := decodeJSON[entryList](t, body); l.NumberReturned != 1 || l.link("next") == "" {
		t.Errorf("a full page without a total: %d returned, next %q", l.NumberReturned, l.link("next"))
	}
	if code, body = f.do(t, "GET", "/registers?r=test_permits", "", ""); code != 200 {
		t.Errorf("public page: %d", code)
	}
}

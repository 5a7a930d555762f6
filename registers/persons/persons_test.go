package persons_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/pgtest"
	"munigis/internal/postgis"
	"munigis/registers/persons"
)

func egn(t *testing.T, first9 string) string {
	t.Helper()
	e, err := persons.CompleteEGN(first9)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func eik(t *testing.T, first8 string) string {
	t.Helper()
	e, err := persons.CompleteEIK(first8)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// wantError fails unless err is a *munigis.Error with code whose message
// contains every one of parts.
func wantError(t *testing.T, what string, err error, code munigis.Code, parts ...string) *munigis.Error {
	t.Helper()
	var me *munigis.Error
	if !errors.As(err, &me) || me.Code != code {
		t.Fatalf("%s: error %v, want %s", what, err, code)
	}
	for _, p := range parts {
		if !strings.Contains(me.Message+" | "+me.MessageBG, p) {
			t.Errorf("%s: message %q / %q does not contain %q", what, me.Message, me.MessageBG, p)
		}
	}
	return me
}

func count(t *testing.T, db *pgtest.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM persons`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateGetAndDuplicates(t *testing.T) {
	db := pgtest.New(t)
	ctx := munigis.WithAddress(munigis.WithActor(context.Background(), "U-000007"), "192.0.2.7")
	s := persons.NewStore(db.Pool)

	ivanEGN := egn(t, "750102001")
	ivan, err := s.Create(ctx, persons.Person{Kind: persons.Natural, Name: "  Иван  Петров   Иванов ", EGN: ivanEGN,
		Address: "гр. Троян, ул. Васил Левски 1", Phone: "0670 6 20 21"})
	if err != nil {
		t.Fatal(err)
	}
	if ivan.ID == 0 || ivan.Name != "Иван Петров Иванов" || ivan.BirthDate != "1975-01-02" || ivan.Version != 1 ||
		ivan.CreatedBy != "U-000007" || ivan.UpdatedBy != "U-000007" || ivan.CreatedAt.IsZero() {
		t.Errorf("created %+v: want the name tidied, the birth date from the ЕГН, version 1 by U-000007", ivan)
	}
	got, err := s.Get(ctx, ivan.ID)
	if err != nil || got != ivan {
		t.Errorf("Get = %+v, %v; want %+v", got, err, ivan)
	}
	_, err = s.Get(ctx, ivan.ID+1000)
	wantError(t, "Get of a missing person", err, munigis.NotFound, fmt.Sprint(ivan.ID+1000))

	maria, err := s.Create(ctx, persons.Person{Kind: persons.Natural, Name: "Мария Петрова", BirthDate: "1980-02-03", BirthPlace: "Ловеч"})
	if err != nil {
		t.Fatal(err)
	}
	firm, err := s.Create(ctx, persons.Person{Kind: persons.Legal, Name: "Строй Инвест ЕООД", EIK: eik(t, "12345678")})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := s.Create(ctx, persons.Person{Kind: persons.Legal, Name: "Acme GmbH"})
	if err != nil {
		t.Fatal(err)
	}
	// A foreigner not registered in Bulgaria: date and place of birth and
	// the passport (Art. 15(1)).
	hans, err := s.Create(ctx, persons.Person{Kind: persons.Natural, Name: "Hans Müller", BirthDate: "1970-07-07",
		BirthPlace: "München, Deutschland", IDDocument: "паспорт C01X00T47, Германия"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, hans.ID); got.IDDocument != "паспорт C01X00T47, Германия" || got.BirthPlace != "München, Deutschland" {
		t.Errorf("foreigner stored as %+v", got)
	}
	n := count(t, db)

	// Every way of typing the same person again is refused with Conflict
	// naming the existing record, and nothing is saved.
	for _, c := range []struct {
		name     string
		p        persons.Person
		existing persons.Person
		field    string
	}{
		{"same ЕГН", persons.Person{Kind: persons.Natural, Name: "Иван Иванов", EGN: ivanEGN}, ivan, "egn"},
		{"same name and birthday, any case and spacing", persons.Person{Kind: persons.Natural, Name: "МАРИЯ   петрова", BirthDate: "1980-02-03"}, maria, "name"},
		{"an ЕГН for a person typed without one", persons.Person{Kind: persons.Natural, Name: "Мария Петрова", EGN: egn(t, "800203123")}, maria, "name"},
		{"no ЕГН for a person typed with one", persons.Person{Kind: persons.Natural, Name: "иван петров иванов", BirthDate: "1975-01-02"}, ivan, "name"},
		{"same ЕИК", persons.Person{Kind: persons.Legal, Name: "Строй Инвест", EIK: firm.EIK}, firm, "eik"},
		{"same firm name without ЕИК", persons.Person{Kind: persons.Legal, Name: "строй инвест ЕООД"}, firm, "name"},
		{"same foreign firm", persons.Person{Kind: persons.Legal, Name: "ACME GmbH", EIK: eik(t, "87654321")}, foreign, "name"},
	} {
		_, err := s.Create(ctx, c.p)
		me := wantError(t, c.name, err, munigis.Conflict, fmt.Sprintf("person %d (%s)", c.existing.ID, c.existing.Name),
			fmt.Sprintf("лице № %d (%s)", c.existing.ID, c.existing.Name))
		if me != nil && !strings.HasPrefix(me.Message, c.field+": ") {
			t.Errorf("%s: message %q does not name the field %s", c.name, me.Message, c.field)
		}
	}
	if count(t, db) != n {
		t.Errorf("refused duplicates were saved: %d persons, want %d", count(t, db), n)
	}

	// Namesakes born on the same day with different ЕГН are two people.
	if _, err := s.Create(ctx, persons.Person{Kind: persons.Natural, Name: "Иван Петров Иванов", EGN: egn(t, "750102123")}); err != nil {
		t.Errorf("a namesake with another ЕГН: %v", err)
	}
	// So are namesakes born on different days.
	if _, err := s.Create(ctx, persons.Person{Kind: persons.Natural, Name: "Мария Петрова", BirthDate: "1981-02-03"}); err != nil {
		t.Errorf("a namesake born on another day: %v", err)
	}
}

func TestCreateRefusesInvalidInput(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	s := persons.NewStore(db.Pool)
	for _, c := range []struct {
		p     persons.Person
		parts []string
	}{
		{persons.Person{Kind: persons.Natural, Name: "Иван Петров", EGN: "7501020019"},
			[]string{"egn: ЕГН 7501020019: the check digit should be 8, not 9", "контролната цифра трябва да е 8"}},
		{persons.Person{Kind: persons.Natural, Name: "Иван Петров", EGN: egn(t, "750230001")}, []string{"egn: ", "date of birth that exists"}},
		{persons.Person{Kind: persons.Natural, Name: "John Smith", LNCH: "1001045967"}, []string{"lnch: ", "should be 8, not 7"}},
		{persons.Person{Kind: persons.Legal, Name: "Фирма", EIK: "000696328"}, []string{"eik: ", "should be 7, not 8"}},
		{persons.Person{Kind: persons.Natural, Name: "Иван Петров"}, []string{"egn: ", "ЕГН, a ЛНЧ or at least a date of birth"}},
		{persons.Person{Kind: persons.Natural, Name: "  ", BirthDate: "1980-01-01"}, []string{"name: ", "името е задължително"}},
		{persons.Person{Kind: "company", Name: "Фирма"}, []string{"kind: "}},
		{persons.Person{Kind: persons.Natural, Name: "Иван", BirthDate: "1980-02-30"}, []string{"birth_date: ", "not a date"}},
		{persons.Person{Kind: persons.Natural, Name: "Иван", BirthDate: "2999-01-01"}, []string{"birth_date: ", "future"}},
		{persons.Person{Kind: persons.Natural, Name: "Иван", EGN: "7501020018", BirthDate: "1975-01-03"},
			[]string{"birth_date: 1975-01-03 is not the date of birth in the ЕГН (1975-01-02)"}},
		{persons.Person{Kind: persons.Natural, Name: "Иван", EGN: "7501020018", EIK: "000696327"}, []string{"eik: ", "sole trader"}},
		{persons.Person{Kind: persons.Legal, Name: "Фирма", EGN: "7501020018"}, []string{"egn: a legal entity has no egn"}},
		{persons.Person{Kind: persons.Legal, Name: "Фирма", IDDocument: "паспорт 1"}, []string{"id_document: a legal entity has no id_document"}},
		{persons.Person{Kind: persons.Natural, Name: "Иван", BirthDate: "1980-01-01", Email: "ivan at example.bg"}, []string{"email: "}},
		{persons.Person{Kind: persons.Natural, Name: "Иван", BirthDate: "1980-01-01", Phone: "звънни ми"}, []string{"phone: "}},
	} {
		_, err := s.Create(ctx, c.p)
		wantError(t, fmt.Sprintf("Create(%+v)", c.p), err, munigis.Invalid, c.parts...)
	}
	if n := count(t, db); n != 0 {
		t.Errorf("%d persons saved from invalid input", n)
	}

	// The database keeps the same rules for rows written straight in SQL.
	for _, stmt := range []string{
		`INSERT INTO persons (kind, name, egn) VALUES ('natural', 'Иван', '7501020019')`,
		`INSERT INTO persons (kind, name, lnch) VALUES ('natural', 'John', '1001045967')`,
		`INSERT INTO persons (kind, name, eik) VALUES ('legal', 'Фирма', '000696328')`,
		`INSERT INTO persons (kind, name) VALUES ('natural', 'Иван')`,
		`INSERT INTO persons (kind, name, eik, birth_date) VALUES ('natural', 'Иван', '000696327', '1980-01-01')`,
		`INSERT INTO persons (kind, name, egn) VALUES ('legal', 'Фирма', '7501020018')`,
	} {
		_, err := db.Pool.Exec(ctx, stmt)
		wantError(t, stmt, postgis.Translate(err, "insert"), munigis.Invalid)
	}
}

// TestConcurrentCreate: two clerks entering the same person at the same
// moment both pass the duplicate check; the unique index stops the second,
// which gets the same Conflict naming the first.
func TestConcurrentCreate(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	s := persons.NewStore(db.Pool)
	e := egn(t, "650515123")
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Create(ctx, persons.Person{Kind: persons.Natural, Name: "Петър Стоянов", EGN: e})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantError(t, "concurrent create", err, munigis.Conflict, "(Петър Стоянов) already exists with the same ЕГН")
		}
	}
	if ok != 1 || count(t, db) != 1 {
		t.Errorf("%d creates succeeded, %d persons stored; want exactly 1", ok, count(t, db))
	}
}

func TestUpdateHistoryAndAudit(t *testing.T) {
	db := pgtest.New(t)
	s := persons.NewStore(db.Pool)
	clerk := munigis.WithAddress(munigis.WithActor(context.Background(), "U-000001"), "192.0.2.1")
	other := munigis.WithAddress(munigis.WithActor(context.Background(), "U-000002"), "192.0.2.2")

	wrongEGN := egn(t, "750102001")
	p, err := s.Create(clerk, persons.Person{Kind: persons.Natural, Name: "Иван Петров Иванов", EGN: wrongEGN, Address: "Троян"})
	if err != nil {
		t.Fatal(err)
	}
	// An ЕГН corrected by another clerk (typed wrongly at first).
	rightEGN := egn(t, "750201001")
	p.EGN, p.BirthDate, p.Address = rightEGN, "", "гр. Троян, ул. Христо Ботев 3"
	p2, err := s.Update(other, p)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Version != 2 || p2.EGN != rightEGN || p2.BirthDate != "1975-02-01" || p2.CreatedBy != "U-000001" || p2.UpdatedBy != "U-000002" {
		t.Errorf("updated %+v: want version 2 with the new ЕГН and birth date, created by U-000001, updated by U-000002", p2)
	}
	// A change based on the old version is refused, not overwritten.
	p.Phone = "0888 111 222"
	_, err = s.Update(clerk, p)
	wantError(t, "stale update", err, munigis.Conflict, "version: ", "changed by someone else", "version 2, not 1")
	// An update into a duplicate is refused like a create.
	q, err := s.Create(clerk, persons.Person{Kind: persons.Natural, Name: "Георги Иванов", BirthDate: "1990-05-05"})
	if err != nil {
		t.Fatal(err)
	}
	q.EGN = rightEGN
	q.BirthDate = ""
	_, err = s.Update(clerk, q)
	wantError(t, "update into a duplicate", err, munigis.Conflict, fmt.Sprintf("person %d", p.ID))
	_, err = s.Update(clerk, persons.Person{ID: 999999, Kind: persons.Legal, Name: "X"})
	wantError(t, "update of a missing person", err, munigis.NotFound)

	h, err := s.History(clerk, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 {
		t.Fatalf("history has %d versions, want 1: %+v", len(h), h)
	}
	v := h[0]
	if v.Person.Version != 1 || v.Person.EGN != wrongEGN || v.Person.Address != "Троян" || v.Person.UpdatedBy != "U-000001" ||
		v.EndedBy != "U-000002" || v.EndedHow != "update" || v.ValidTo.Before(v.ValidFrom) {
		t.Errorf("history = %+v", v)
	}
	_, err = s.History(clerk, 999999)
	wantError(t, "history of a missing person", err, munigis.NotFound)

	// The audit trail has the creation and the correction, with who, from
	// where, and the ЕГН before and after.
	rows, err := db.Pool.Query(context.Background(), `SELECT actor, action, address, coalesce(before, 'null'), coalesce(after, 'null')
		FROM audit_log WHERE object = $1 ORDER BY id`, fmt.Sprintf("person:%d", p.ID))
	if err != nil {
		t.Fatal(err)
	}
	type auditRow struct {
		Actor, Action, Address string
		Before, After          map[string]any
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditRow, error) {
		var a auditRow
		var before, after []byte
		if err := r.Scan(&a.Actor, &a.Action, &a.Address, &before, &after); err != nil {
			return a, err
		}
		_ = json.Unmarshal(before, &a.Before)
		_ = json.Unmarshal(after, &a.After)
		return a, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("audit rows for the person: %+v, want create and update", got)
	}
	if c := got[0]; c.Actor != "U-000001" || c.Action != "person.create" || c.Address != "192.0.2.1" || c.Before != nil || c.After["egn"] != wrongEGN {
		t.Errorf("create audit row = %+v", c)
	}
	if u := got[1]; u.Actor != "U-000002" || u.Action != "person.update" || u.Address != "192.0.2.2" ||
		u.Before["egn"] != wrongEGN || u.After["egn"] != rightEGN || u.After["version"] != float64(2) {
		t.Errorf("update audit row = %+v", u)
	}
	if _, derived := got[0].After["search_text"]; derived {
		t.Errorf("the audit row copies the derived search_text: %+v", got[0].After)
	}

	// A deletion (straight in SQL: munigis has no way to delete a person
	// who may be a party to entries) keeps the history.
	if err := postgis.Tx(other, db.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(other, `DELETE FROM persons WHERE id = $1`, q.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	h, err = s.History(clerk, q.ID)
	if err != nil || len(h) != 1 || h[0].EndedHow != "delete" || h[0].EndedBy != "U-000002" || h[0].Person.Name != "Георги Иванов" {
		t.Errorf("history of a deleted person = %+v, %v", h, err)
	}
}

func TestFind(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	s := persons.NewStore(db.Pool)
	mk := func(p persons.Person) persons.Person {
		t.Helper()
		out, err := s.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ivan := mk(persons.Person{Kind: persons.Natural, Name: "Иван Петров Иванов", EGN: egn(t, "750102001")})
	petrova := mk(persons.Person{Kind: persons.Natural, Name: "Мария Петрова", BirthDate: "1980-02-03"})
	georgi := mk(persons.Person{Kind: persons.Natural, Name: "Георги Христов", LNCH: mustLNCH(t, "100104596")})
	firm := mk(persons.Person{Kind: persons.Legal, Name: "Строй Инвест ЕООД", EIK: eik(t, "12345678")})
	yulia := mk(persons.Person{Kind: persons.Natural, Name: "Юлия Щерева", BirthDate: "1990-09-09"})
	for i := 0; i < 30; i++ { // noise
		mk(persons.Person{Kind: persons.Natural, Name: fmt.Sprintf("Стоян Колев %d", i), BirthDate: "1970-01-01"})
	}
	ids := func(ps []persons.Person) []int64 {
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	for _, c := range []struct {
		q     string
		first int64
		also  []int64
		never []int64
	}{
		{"Petrov", ivan.ID, []int64{petrova.ID}, []int64{georgi.ID, firm.ID}},
		{"PETROV", ivan.ID, []int64{petrova.ID}, nil},
		{"петров", ivan.ID, []int64{petrova.ID}, nil},
		{"Петрова", petrova.ID, []int64{ivan.ID}, nil},
		{"maria petrova", petrova.ID, nil, []int64{georgi.ID}},
		{"Hristov", georgi.ID, nil, []int64{ivan.ID}},
		{"stroy invest", firm.ID, nil, nil},
		{"Строй", firm.ID, nil, nil},
		{"Yulia Shtereva", yulia.ID, nil, nil},
		{"Shtereva", yulia.ID, nil, nil},
		{"Петрв", ivan.ID, nil, nil}, // a typo
		{ivan.EGN, ivan.ID, nil, []int64{petrova.ID}},
		{georgi.LNCH, georgi.ID, nil, nil},
		{firm.EIK, firm.ID, nil, nil},
	} {
		got, err := s.Find(ctx, c.q, 10)
		if err != nil {
			t.Fatalf("Find(%q): %v", c.q, err)
		}
		g := ids(got)
		if len(g) == 0 || g[0] != c.first {
			t.Errorf("Find(%q) = %v, want %d first", c.q, g, c.first)
			continue
		}
		for _, id := range c.also {
			if !contains(g, id) {
				t.Errorf("Find(%q) = %v, want %d among them", c.q, g, id)
			}
		}
		for _, id := range c.never {
			if contains(g, id) {
				t.Errorf("Find(%q) = %v, should not find %d", c.q, g, id)
			}
		}
	}
	if got, err := s.Find(ctx, egn(t, "800101001"), 10); err != nil || len(got) != 0 {
		t.Errorf("Find(an unknown ЕГН) = %v, %v; want nothing", got, err)
	}
	if got, err := s.Find(ctx, "Колев", 5); err != nil || len(got) != 5 {
		t.Errorf("Find(Колев, limit 5) = %d persons, %v; want 5", len(got), err)
	}
	_, err := s.Find(ctx, "  ", 0)
	wantError(t, "empty query", err, munigis.Invalid, "q: ")
	_, err = s.Find(ctx, "Иван", 100000)
	wantError(t, "huge limit", err, munigis.Invalid, "limit: ")
}

func mustLNCH(t *testing.T, first9 string) string {
	t.Helper()
	l, err := persons.CompleteLNCH(first9)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestApplicationRole: munigis serve runs as munigis_app; it can create
// and change persons (their history and audit are written by triggers) but
// cannot rewrite the history.
func TestApplicationRole(t *testing.T) {
	db := pgtest.New(t)
	ctx := munigis.WithActor(context.Background(), "U-000003")
	pool, err := postgis.Open(ctx, postgis.Config{URL: db.URL, Role: "munigis_app", MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := persons.NewStore(pool)
	p, err := s.Create(ctx, persons.Person{Kind: persons.Legal, Name: "Община Троян", EIK: "000696327"})
	if err != nil {
		t.Fatal(err)
	}
	p.Address = "гр. Троян, пл. Възраждане 1"
	if _, err := s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if found, err := s.Find(ctx, "obshtina troyan", 5); err != nil || len(found) != 1 || found[0].ID != p.ID {
		t.Errorf("Find as munigis_app = %v, %v", found, err)
	}
	if h, err := s.History(ctx, p.ID); err != nil || len(h) != 1 {
		t.Errorf("History as munigis_app = %v, %v", h, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE person_versions SET name = 'X'`); err == nil {
		t.Error("munigis_app could rewrite person_versions")
	}
	if _, err := pool.Exec(ctx, `DELETE FROM person_versions`); err == nil {
		t.Error("munigis_app could delete person_versions")
	}
	// Not even the owner may TRUNCATE: it would bypass the history trigger.
	_, err = db.Pool.Exec(ctx, `TRUNCATE persons, person_versions CASCADE`)
	wantError(t, "TRUNCATE persons", postgis.Translate(err, "truncate"), munigis.Invalid, "cannot be truncated")
}

// TestCheckDigitsAgreeWithSQL: the CHECKs of the database and the Go
// validators accept exactly the same numbers.
func TestCheckDigitsAgreeWithSQL(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	var egns, eiks []string
	for i := 0; i < 3000; i++ {
		egns = append(egns, fmt.Sprintf("%010d", r.Int64N(10_000_000_000)))
		// Mostly plausible dates, so that the check digit is what decides.
		e, _ := persons.CompleteEGN(fmt.Sprintf("%02d%02d%02d%03d", r.IntN(100), []int{1, 2, 4, 11, 12, 22, 32, 41, 42, 52}[r.IntN(10)], 1+r.IntN(31), r.IntN(1000)))
		if r.IntN(3) == 0 {
			e = e[:9] + fmt.Sprint(r.IntN(10))
		}
		egns = append(egns, e)
		eiks = append(eiks, fmt.Sprintf("%09d", r.Int64N(1_000_000_000)), fmt.Sprintf("%013d", r.Int64N(10_000_000_000_000)))
		b, _ := persons.CompleteEIK(fmt.Sprintf("%011d", r.Int64N(100_000_000_000)))
		eiks = append(eiks, b, b[:12]+fmt.Sprint(r.IntN(10)))
	}
	rows, err := db.Pool.Query(ctx, `SELECT e, munigis_egn_valid(e), munigis_lnch_valid(e) FROM unnest($1::text[]) e`, egns)
	if err != nil {
		t.Fatal(err)
	}
	validEGN := 0
	for rows.Next() {
		var e string
		var sqlEGN, sqlLNCH bool
		if err := rows.Scan(&e, &sqlEGN, &sqlLNCH); err != nil {
			t.Fatal(err)
		}
		if goOK := persons.ValidateEGN(e) == nil; goOK != sqlEGN {
			t.Errorf("ЕГН %s: Go valid %v, SQL %v", e, goOK, sqlEGN)
		} else if goOK {
			validEGN++
		}
		if goOK := persons.ValidateLNCH(e) == nil; goOK != sqlLNCH {
			t.Errorf("ЛНЧ %s: Go valid %v, SQL %v", e, goOK, sqlLNCH)
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	rows, err = db.Pool.Query(ctx, `SELECT e, munigis_eik_valid(e) FROM unnest($1::text[]) e`, eiks)
	if err != nil {
		t.Fatal(err)
	}
	validEIK := 0
	for rows.Next() {
		var e string
		var sqlOK bool
		if err := rows.Scan(&e, &sqlOK); err != nil {
			t.Fatal(err)
		}
		if goOK := persons.ValidateEIK(e) == nil; goOK != sqlOK {
			t.Errorf("ЕИК %s: Go valid %v, SQL %v", e, goOK, sqlOK)
		} else if goOK {
			validEIK++
		}
	}
	if validEGN < 1000 || validEIK < 2000 {
		t.Errorf("only %d valid ЕГН and %d valid ЕИК in the sample: the comparison proves little", validEGN, validEIK)
	}
}

package property

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"munigis"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/registers"
	"munigis/registers/persons"
)

// fixture is a database with two persons and a municipal property whose act
// is of 2010-01-10, and a Store whose today is 2025-06-15.
type fixture struct {
	ctx      context.Context
	db       *pgtest.DB
	s        *Store
	reg      *registers.Store
	person   int64 // a natural person
	company  int64 // a legal entity
	property registers.Entry
}

var testToday = time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)

func date(s string) time.Time {
	t, err := time.Parse(dateFmt, s)
	if err != nil {
		panic(err)
	}
	return t
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ctx: munigis.WithActor(context.Background(), "U-000007"), db: pgtest.New(t)}
	f.s = New(f.db.Pool)
	f.s.today = func() time.Time { return testToday }
	f.reg = registers.NewStore(f.db.Pool)
	egn, _ := persons.CompleteEGN("750315128")
	eik, _ := persons.CompleteEIK("12345678")
	if err := f.db.Pool.QueryRow(f.ctx, `INSERT INTO persons (kind, name, egn) VALUES ('natural', 'Иван Петров Иванов', $1) RETURNING id`, egn).Scan(&f.person); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Pool.QueryRow(f.ctx, `INSERT INTO persons (kind, name, eik) VALUES ('legal', '„Балкан Строй“ ЕООД', $1) RETURNING id`, eik).Scan(&f.company); err != nil {
		t.Fatal(err)
	}
	f.property = f.newProperty(t, "АЧОС-101", "2010-01-10", "73198.501.12", 450)
	return f
}

func (f *fixture) newProperty(t *testing.T, number, act, identifier string, area float64) registers.Entry {
	t.Helper()
	e, err := f.reg.Create(f.ctx, registers.Entry{Register: PropertyRegister, Number: number, Date: act,
		Status: "общинска собственост", Identifiers: []string{identifier},
		Data: map[string]any{"kind": "частна", "use": "търговски обект", "area_m2": area, "book_value": 12000.0}})
	if err != nil {
		t.Fatalf("create property %s: %v", number, err)
	}
	return e
}

func (f *fixture) rental(number, start, end, status string, property int64) (registers.Entry, error) {
	return f.reg.Create(f.ctx, registers.Entry{Register: RentalRegister, Number: number, Date: start, Status: status,
		Parties: []registers.Party{{PersonID: f.person, Role: "tenant"}},
		Data:    map[string]any{"property": property, "start_date": start, "end_date": end, "rent_bgn": 350.0}})
}

func (f *fixture) count(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Pool.QueryRow(f.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (f *fixture) op(kind Kind, opDate, doc string, parties ...Party) Operation {
	return Operation{EntryID: f.property.ID, Kind: kind, Date: date(opDate), DocumentNumber: doc,
		DocumentDate: date(opDate), Parties: parties}
}

func TestAddOperationRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	rental, err := f.rental("Д-1/2020", "2020-01-01", "2021-12-31", "изтекъл", f.property.ID)
	if err != nil {
		t.Fatal(err)
	}
	good := f.op(Sale, "2020-03-01", "Д-77", Party{PersonID: f.person, Role: "buyer"})
	half, big := 0.5, 1.5
	cases := []struct {
		name  string
		edit  func(o *Operation)
		code  munigis.Code
		field string
		want  string
	}{
		{"unknown kind", func(o *Operation) { o.Kind = "gift" }, munigis.Invalid, "kind", "not an operation kind"},
		{"no date", func(o *Operation) { o.Date = time.Time{} }, munigis.Invalid, "op_date", "required"},
		{"future date", func(o *Operation) { o.Date, o.DocumentDate = date("2025-06-16"), date("2025-06-16") }, munigis.Invalid, "op_date", "future"},
		{"before the act", func(o *Operation) { o.Date, o.DocumentDate = date("2010-01-09"), date("2010-01-09") }, munigis.Invalid, "op_date", "АЧОС-101"},
		{"no document number", func(o *Operation) { o.DocumentNumber = "  " }, munigis.Invalid, "document_number", "required"},
		{"document after the operation", func(o *Operation) { o.DocumentDate = date("2020-03-02") }, munigis.Invalid, "document_date", "after"},
		{"unknown person", func(o *Operation) { o.Parties = []Party{{PersonID: 987654, Role: "buyer"}} }, munigis.Invalid, "parties", "987654"},
		{"party without role", func(o *Operation) { o.Parties = []Party{{PersonID: f.person}} }, munigis.Invalid, "parties[0].role", "required"},
		{"state the kind cannot leave", func(o *Operation) { o.ResultingStatus = Owned }, munigis.Invalid, "resulting_status", "sale"},
		{"contribution without the company", func(o *Operation) { o.Kind, o.Parties = CapitalContribution, nil }, munigis.Invalid, "parties", "company"},
		{"share above 1", func(o *Operation) { o.Share = &big }, munigis.Invalid, "share", "at most 1"},
		{"unknown property", func(o *Operation) { o.EntryID = 987654 }, munigis.NotFound, "entry_id", "does not exist"},
		{"not a property", func(o *Operation) { o.EntryID = rental.ID }, munigis.Invalid, "entry_id", "rentals"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := good
			o.Share = &half
			o.Parties = append([]Party(nil), good.Parties...)
			c.edit(&o)
			_, err := f.s.AddOperation(f.ctx, o)
			if munigis.ErrorCode(err) != c.code {
				t.Fatalf("AddOperation = %v (code %s), want %s", err, munigis.ErrorCode(err), c.code)
			}
			msg := munigis.ErrorMessage(err)
			if !strings.HasPrefix(msg, c.field+": ") || !strings.Contains(msg, c.want) {
				t.Errorf("message %q does not name %s and say %q", msg, c.field, c.want)
			}
			var me *munigis.Error
			if errors.As(err, &me) && c.code == munigis.Invalid && me.MessageBG == "" {
				t.Errorf("no Bulgarian message for %q", msg)
			}
		})
	}
	if n := f.count(t, `SELECT count(*) FROM property_operations`); n != 0 {
		t.Errorf("%d operations saved by refused calls", n)
	}

	// The same rules hold for a row written straight in SQL (the trigger).
	_, err = f.db.Pool.Exec(f.ctx, `INSERT INTO property_operations (entry_id, kind, op_date, document_number, document_date, resulting_status)
		VALUES ($1, 'sale', '2009-12-31', 'X', '2009-12-31', 'removed')`, f.property.ID)
	if err == nil || !strings.Contains(err.Error(), "before the act") {
		t.Errorf("SQL insert before the act = %v, want refused", err)
	}
}

func TestTimelineAndDerivedState(t *testing.T) {
	f := newFixture(t)
	area := 120.0
	rtb, err := f.s.AddOperation(f.ctx, Operation{EntryID: f.property.ID, Kind: RightToBuild, Date: date("2012-05-01"),
		DocumentNumber: "РД-09-112", DocumentDate: date("2012-04-20"), AreaM2: &area,
		Parties: []Party{{PersonID: f.company, Role: "superficiary"}}, Description: "Право на строеж за магазин"})
	if err != nil {
		t.Fatalf("right to build: %v", err)
	}
	if rtb.ResultingStatus != Owned || rtb.Version != 1 || rtb.CreatedBy != "U-000007" || len(rtb.Parties) != 1 || rtb.Parties[0].Name != "„Балкан Строй“ ЕООД" {
		t.Errorf("right to build as stored = %+v", rtb)
	}
	if st, err := f.s.CurrentState(f.ctx, f.property.ID); err != nil || st != Owned {
		t.Errorf("state after a right to build = %q, %v; want owned", st, err)
	}
	if _, err := f.rental("Д-5/2015", "2015-01-01", "2019-12-31", "изтекъл", f.property.ID); err != nil {
		t.Fatalf("rental: %v", err)
	}
	// Recorded after the rental but dated before it: the timeline orders by date.
	if _, err := f.s.AddOperation(f.ctx, f.op(Holding, "2014-01-01", "РД-09-14", Party{PersonID: f.company, Role: "company"})); err != nil {
		t.Fatalf("holding: %v", err)
	}
	price := 85000.0
	sale := f.op(Sale, "2020-03-01", "Д-77/2020", Party{PersonID: f.person, Role: "buyer"})
	sale.AmountBGN = &price
	if _, err := f.s.AddOperation(f.ctx, sale); err != nil {
		t.Fatalf("sale: %v", err)
	}

	tl, err := f.s.Timeline(f.ctx, f.property.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tl.Events {
		got = append(got, fmt.Sprintf("%s %s %s", e.Date.Format(dateFmt), e.Kind, e.State))
	}
	want := []string{
		"2010-01-10 act owned",
		"2012-05-01 operation owned",
		"2014-01-01 operation owned",
		"2015-01-01 rental_start owned",
		"2019-12-31 rental_end owned",
		"2020-03-01 operation removed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tl.State != Removed || tl.StateBG != "отписан" || tl.Act.Number != "АЧОС-101" || len(tl.Operations) != 3 || len(tl.Rentals) != 1 {
		t.Errorf("timeline = state %q (%s), act %q, %d operations, %d rentals", tl.State, tl.StateBG, tl.Act.Number, len(tl.Operations), len(tl.Rentals))
	}
	if tl.Operations[2].Kind != Sale || *tl.Operations[2].AmountBGN != price {
		t.Errorf("last operation = %+v", tl.Operations[2])
	}
	if st, err := f.s.CurrentState(f.ctx, f.property.ID); err != nil || st != Removed {
		t.Errorf("state after the sale = %q, %v; want removed", st, err)
	}

	// The entry shows the derived state, as a new version of the entry.
	e, err := f.reg.Get(f.ctx, f.property.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != "отписан" || e.Version != 2 {
		t.Errorf("property entry after the sale: status %q version %d; want отписан, 2", e.Status, e.Version)
	}
	if n := f.count(t, `SELECT count(*) FROM register_entry_versions WHERE entry_id = $1 AND status = 'общинска собственост'`, f.property.ID); n != 1 {
		t.Errorf("the entry's earlier status is in %d versions, want 1", n)
	}

	// Written off: nothing more can happen to it.
	_, err = f.s.AddOperation(f.ctx, f.op(RightToBuild, "2021-01-01", "РД-1", Party{PersonID: f.company, Role: "superficiary"}))
	if munigis.ErrorCode(err) != munigis.Conflict || !strings.Contains(munigis.ErrorMessage(err), "left municipal ownership on 2020-03-01") {
		t.Errorf("operation after the sale = %v, want Conflict naming the sale", err)
	}

	// Audited with the actor, and a correction keeps the earlier version.
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = 'property_operation.insert' AND actor = 'U-000007'
		AND object = 'property_operation:' || $1::bigint`, rtb.ID); n != 1 {
		t.Errorf("audit rows for the right to build: %d, want 1", n)
	}
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE property_operations SET document_number = 'РД-09-113' WHERE id = $1`, rtb.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM property_operation_versions WHERE operation_id = $1 AND version = 1
		AND row->>'document_number' = 'РД-09-112'`, rtb.ID); n != 1 {
		t.Errorf("the corrected operation's first version is kept %d times, want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = 'property_operation.update'
		AND before->>'document_number' = 'РД-09-112' AND after->>'document_number' = 'РД-09-113'`); n != 1 {
		t.Errorf("audit rows for the correction: %d, want 1", n)
	}

	if _, err := f.s.Timeline(f.ctx, 987654); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("timeline of a missing property = %v, want NotFound", err)
	}
}

func TestKindStatesMatchDatabase(t *testing.T) {
	f := newFixture(t)
	for _, k := range Kinds {
		var states []string
		if err := f.db.Pool.QueryRow(f.ctx, `SELECT property_kind_states($1)`, string(k.Kind)).Scan(&states); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(states) != fmt.Sprint(k.States) {
			t.Errorf("%s: database states %v, Go %v", k.Kind, states, k.States)
		}
		var title string
		if err := f.db.Pool.QueryRow(f.ctx, `SELECT property_state_title($1)`, string(k.States[0])).Scan(&title); err != nil || title != k.States[0].TitleBG() {
			t.Errorf("%s: database title %q, Go %q", k.States[0], title, k.States[0].TitleBG())
		}
	}
}

func TestRentalOverlapRefused(t *testing.T) {
	f := newFixture(t)
	if _, err := f.rental("Д-12/2024", "2024-01-01", "2025-12-31", "действащ", f.property.ID); err != nil {
		t.Fatalf("first contract: %v", err)
	}
	_, err := f.rental("Д-40/2025", "2025-06-01", "2027-05-31", "действащ", f.property.ID)
	msg := munigis.ErrorMessage(err)
	if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(msg, "overlaps rental contract № Д-12/2024 (2024-01-01 – 2025-12-31)") {
		t.Fatalf("overlapping contract = %v (%q), want Invalid naming Д-12/2024", err, msg)
	}
	if n := f.count(t, `SELECT count(*) FROM register_entries WHERE register = 'rentals'`); n != 1 {
		t.Errorf("%d rental entries after the refusal, want 1 (nothing half-saved)", n)
	}
	// The day after the first contract ends is free.
	if _, err := f.rental("Д-41/2025", "2026-01-01", "2027-12-31", "действащ", f.property.ID); err != nil {
		t.Errorf("contract from the day after: %v", err)
	}
	// Another property is another matter.
	other := f.newProperty(t, "АЧОС-102", "2011-02-02", "73198.501.13", 200)
	if _, err := f.rental("Д-42/2025", "2025-06-01", "2027-05-31", "действащ", other.ID); err != nil {
		t.Errorf("same dates on another property: %v", err)
	}
	// A terminated contract no longer holds the property.
	first, err := f.reg.Get(f.ctx, f.count(t, `SELECT id FROM register_entries WHERE number = 'Д-12/2024'`))
	if err != nil {
		t.Fatal(err)
	}
	first.Status = "прекратен"
	if _, err := f.reg.Update(f.ctx, first); err != nil {
		t.Fatalf("terminate: %v", err)
	}
	if _, err := f.rental("Д-40/2025", "2025-06-01", "2025-12-31", "действащ", f.property.ID); err != nil {
		t.Errorf("contract over a terminated one: %v", err)
	}
	// Re-opening the terminated contract now collides, and says with what.
	first, _ = f.reg.Get(f.ctx, first.ID)
	first.Status = "действащ"
	if _, err := f.reg.Update(f.ctx, first); !strings.Contains(munigis.ErrorMessage(err), "Д-40/2025") {
		t.Errorf("re-opening the terminated contract = %v, want refused naming Д-40/2025", err)
	}
}

func TestExpiring(t *testing.T) {
	f := newFixture(t)
	props := []registers.Entry{f.property,
		f.newProperty(t, "АЧОС-102", "2011-02-02", "73198.501.13", 200),
		f.newProperty(t, "АЧОС-103", "2011-02-02", "73198.501.14", 200),
		f.newProperty(t, "АЧОС-104", "2011-02-02", "73198.501.15", 200),
		f.newProperty(t, "АЧОС-105", "2011-02-02", "73198.501.16", 200)}
	for i, c := range []struct{ number, start, end, status string }{
		{"Д-1", "2022-07-01", "2025-06-15", "действащ"},  // ends today
		{"Д-2", "2022-07-01", "2025-07-10", "действащ"},  // in 25 days
		{"Д-3", "2022-07-01", "2025-07-16", "действащ"},  // in 31 days
		{"Д-4", "2022-07-01", "2025-06-20", "прекратен"}, // terminated
		{"Д-5", "2022-07-01", "2025-06-14", "изтекъл"},   // yesterday
	} {
		if _, err := f.rental(c.number, c.start, c.end, c.status, props[i].ID); err != nil {
			t.Fatalf("%s: %v", c.number, err)
		}
	}
	rs, err := f.s.Expiring(f.ctx, 30, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s %s %d %s", r.Number, r.PropertyNumber, r.DaysLeft(testToday), r.Tenant.Name))
	}
	want := "Д-1 АЧОС-101 0 Иван Петров Иванов\nД-2 АЧОС-102 25 Иван Петров Иванов"
	if strings.Join(got, "\n") != want {
		t.Errorf("Expiring(30):\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	masked, err := f.s.Expiring(f.ctx, 30, true)
	if err != nil || len(masked) != 2 || masked[0].Tenant.Name != "И. П. И." || masked[0].Tenant.PersonID != 0 {
		t.Errorf("Expiring(30, masked) = %+v, %v; want the tenant as initials without id", masked, err)
	}
	if _, err := f.s.Expiring(f.ctx, -1, false); munigis.ErrorCode(err) != munigis.Invalid {
		t.Errorf("Expiring(-1) = %v, want Invalid", err)
	}
}

// TestReports runs every report on the demo municipality and checks it
// against a count made another way, straight from the tables.
func TestReports(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 2000, Seed: 3}, nil); err != nil {
		t.Fatal(err)
	}
	s := New(db.Pool)
	today := s.today()
	q := func(sql string, args ...any) map[string][3]float64 {
		t.Helper()
		rows, err := db.Pool.Query(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rows.Close()
		out := map[string][3]float64{}
		for rows.Next() {
			var k string
			var v [3]float64
			if err := rows.Scan(&k, &v[0], &v[1], &v[2]); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		return out
	}
	near := func(a, b float64) bool { return a-b < 0.01 && b-a < 0.01 }

	t.Run("property by kind and use", func(t *testing.T) {
		// Held = no operation that removed or contributed it, whatever its date.
		want := q(`SELECT data->>'kind' || '|' || coalesce(data->>'use', ''), count(*)::float8,
				coalesce(sum((data->>'area_m2')::numeric), 0)::float8, coalesce(sum((data->>'book_value')::numeric), 0)::float8
			FROM register_entries e WHERE register = 'municipal_property'
			  AND NOT EXISTS (SELECT 1 FROM property_operations o WHERE o.entry_id = e.id AND o.resulting_status <> 'owned')
			GROUP BY 1`)
		rows, err := s.PropertyByKindAndUse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want) || len(rows) < 4 {
			t.Fatalf("%d groups, want %d (and several)", len(rows), len(want))
		}
		for _, r := range rows {
			w := want[r.Kind+"|"+r.Use]
			if float64(r.Count) != w[0] || !near(r.AreaM2, w[1]) || !near(r.BookValueBGN, w[2]) {
				t.Errorf("%s/%s: %d, %.2f m², %.2f BGN; want %v", r.Kind, r.Use, r.Count, r.AreaM2, r.BookValueBGN, w)
			}
		}
	})

	t.Run("operations in a period", func(t *testing.T) {
		for _, years := range []int{20, 5} {
			from := today.AddDate(-years, 0, 0)
			want := q(`SELECT kind, count(*)::float8, coalesce(sum(area_m2), 0)::float8, coalesce(sum(amount_bgn), 0)::float8
				FROM property_operations WHERE op_date >= $1 AND op_date <= $2 GROUP BY kind`, from, today)
			rows, err := s.OperationsInPeriod(ctx, from, today)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(want) || len(rows) == 0 {
				t.Fatalf("last %d years: %d kinds, want %d (and some)", years, len(rows), len(want))
			}
			for _, r := range rows {
				w := want[string(r.Kind)]
				if float64(r.Count) != w[0] || !near(r.AreaM2, w[1]) || !near(r.AmountBGN, w[2]) || r.TitleBG == "" {
					t.Errorf("last %d years, %s: %+v; want %v", years, r.Kind, r, w)
				}
			}
		}
	})

	t.Run("permits by category and month", func(t *testing.T) {
		from := today.AddDate(-3, 0, 0)
		want := q(`SELECT extract(year FROM entry_date)::int || '-' || lpad(extract(month FROM entry_date)::int::text, 2, '0')
				|| '|' || (data->>'category'), count(*)::float8, 0::float8, 0::float8
			FROM register_entries WHERE register = 'building_permits' AND entry_date >= $1 AND entry_date <= $2
			GROUP BY 1`, from, today)
		rows, err := s.PermitsByCategoryAndMonth(ctx, from, today)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want) || len(rows) == 0 {
			t.Fatalf("%d month/category groups, want %d (and some)", len(rows), len(want))
		}
		for _, r := range rows {
			if w := want[r.Month+"|"+r.Category]; float64(r.Count) != w[0] {
				t.Errorf("%s %s: %d permits, want %v", r.Month, r.Category, r.Count, w[0])
			}
		}
	})

	t.Run("rentals due", func(t *testing.T) {
		// From the entries themselves, not from rental_terms.
		var want int64
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM register_entries WHERE register = 'rentals'
			AND status <> 'прекратен' AND (data->>'end_date')::date BETWEEN $1 AND $2`, today, today.AddDate(0, 0, 30)).Scan(&want); err != nil {
			t.Fatal(err)
		}
		tbl, err := s.Report(ctx, ReportRentalsDue, Params{Days: 30, Mask: true})
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(tbl.Rows)) != want || want == 0 {
			t.Fatalf("%d rentals due within 30 days, want %d (and some)", len(tbl.Rows), want)
		}
		full := map[string]bool{}
		rows, _ := db.Pool.Query(ctx, `SELECT name FROM persons WHERE kind = 'natural'`)
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			full[n] = true
		}
		rows.Close()
		for _, r := range tbl.Rows {
			if full[r[3].(string)] {
				t.Errorf("masked report shows the tenant %q", r[3])
			}
			if d := r[5].(int64); d < 0 || d > 30 {
				t.Errorf("days left %d", d)
			}
		}
	})

	t.Run("every report as a table", func(t *testing.T) {
		for _, info := range Reports {
			tbl, err := s.Report(ctx, info.Name, Params{From: today.AddDate(-20, 0, 0)})
			if err != nil {
				t.Fatalf("%s: %v", info.Name, err)
			}
			if tbl.TitleBG == "" || len(tbl.Columns) == 0 {
				t.Errorf("%s: no title or columns", info.Name)
			}
			for _, c := range tbl.Columns {
				if c.Name == "" || c.TitleBG == "" || c.TitleEN == "" {
					t.Errorf("%s: column %+v lacks a name or title", info.Name, c)
				}
			}
			for _, r := range tbl.Rows {
				if len(r) != len(tbl.Columns) {
					t.Fatalf("%s: a row of %d values for %d columns", info.Name, len(r), len(tbl.Columns))
				}
			}
		}
		if _, err := s.Report(ctx, "nonsense", Params{}); munigis.ErrorCode(err) != munigis.NotFound {
			t.Errorf("unknown report = %v, want NotFound", err)
		}
		if _, err := s.Report(ctx, ReportOperations, Params{From: date("2024-02-01"), To: date("2024-01-01")}); munigis.ErrorCode(err) != munigis.Invalid {
			t.Errorf("period ending before it starts = %v, want Invalid", err)
		}
	})
}

// Two clerks enter overlapping contracts at the same moment: the second
// waits for the first and is refused with the first one's number, not with
// an internal error.
func TestRentalOverlapRace(t *testing.T) {
	f := newFixture(t)
	tx, err := f.db.Pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(f.ctx)
	if _, err := tx.Exec(f.ctx, `INSERT INTO register_entries (register, number, entry_date, status, parties, data)
		VALUES ('rentals', 'Д-1/2024', '2024-01-01', 'действащ', $1, $2)`,
		[]map[string]any{{"person_id": f.person, "role": "tenant"}},
		map[string]any{"property": f.property.ID, "start_date": "2024-01-01", "end_date": "2026-12-31", "rent_bgn": 100}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := f.rental("Д-2/2024", "2024-06-01", "2025-05-31", "действащ", f.property.ID)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the second contract did not wait for the first: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(f.ctx); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(munigis.ErrorMessage(err), "Д-1/2024") {
		t.Errorf("racing contract = %v, want Invalid naming Д-1/2024", err)
	}
}

package documents_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/documents"
)

// 32 clerks register at once: the numbers of the year are exactly 1..N,
// each once, and Check agrees.
func TestRegisterParallelIsGapFree(t *testing.T) {
	e := newEnv(t, documents.Config{})
	const workers, each = 32, 8
	const n = workers * each
	var wg sync.WaitGroup
	errs := make(chan error, n)
	seqs := make(chan int, n)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := munigis.WithActor(context.Background(), fmt.Sprintf("U-%06d", w+1))
			for i := range each {
				d, err := e.store.Create(ctx, documents.NewDocument{Name: fmt.Sprintf("Заявление %d/%d", w, i), TypeCode: "application"})
				if err != nil {
					errs <- err
					return
				}
				// Half register in the creating transaction, half apart.
				var r documents.Registration
				if i%2 == 0 {
					r, err = e.store.Register(ctx, d.ID, "", "")
				} else {
					var d2 documents.Document
					d2, err = e.store.Create(ctx, documents.NewDocument{Name: d.Name + " (2)", TypeCode: "signal", Register: true})
					if err == nil {
						r = *d2.Registration
					}
				}
				if err != nil {
					errs <- err
					return
				}
				seqs <- r.Sequence
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(seqs)
	for err := range errs {
		t.Fatalf("register: %v", err)
	}
	var got []int
	for s := range seqs {
		got = append(got, s)
	}
	slices.Sort(got)
	if len(got) != n || got[0] != 1 || got[n-1] != n {
		t.Fatalf("%d numbers from %d to %d, want 1..%d", len(got), got[0], got[len(got)-1], n)
	}
	for i, s := range got {
		if s != i+1 {
			t.Fatalf("numbers not 1..%d: position %d holds %d", n, i, s)
		}
	}
	year := time.Now().In(sofia).Year()
	c, err := e.store.Check(context.Background(), year)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Complete || c.Count != n || c.First != 1 || c.Last != n || len(c.Missing) != 0 || len(c.Duplicates) != 0 {
		t.Fatalf("Check = %+v", c)
	}
	if got := count(t, e.pool, `SELECT last FROM odr_counters WHERE year = $1`, year); got != n {
		t.Errorf("counter %d, want %d", got, n)
	}
}

// Eight clerks register the same document at once: one wins, the others
// are told its number.
func TestRegisterSameDocumentOnce(t *testing.T) {
	e := newEnv(t, documents.Config{})
	d := mustCreate(t, e.store, clerk(), documents.NewDocument{Name: "Жалба", TypeCode: "complaint"})
	var wg sync.WaitGroup
	results := make(chan error, 8)
	numbers := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.store.Register(clerk(), d.ID, "", "")
			results <- err
			if err == nil {
				numbers <- r.Number
			}
		}()
	}
	wg.Wait()
	close(results)
	close(numbers)
	number := <-numbers
	ok := 0
	for err := range results {
		if err == nil {
			ok++
			continue
		}
		wantErr(t, err, munigis.Conflict, "is already registered as "+number, "вече е регистриран с № "+number)
	}
	if ok != 1 || count(t, e.pool, `SELECT count(*) FROM odr_entries`) != 1 || count(t, e.pool, `SELECT last FROM odr_counters`) != 1 {
		t.Errorf("%d registrations succeeded", ok)
	}
}

// The year is the calendar year in Europe/Sofia: 22:30 UTC on 31 December
// is already 1 January there, and the sequence restarts at 1.
func TestYearRollover(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := clerk()
	at := func(ts time.Time) *documents.Store {
		return documents.NewStore(e.pool, documents.Config{Now: fixedClock(ts)})
	}
	doc := func(name string) int64 {
		return mustCreate(t, e.store, ctx, documents.NewDocument{Name: name, TypeCode: "incoming_letter"}).ID
	}
	cases := []struct {
		now      time.Time
		wantYear int
		wantSeq  int
		wantNum  string
	}{
		{time.Date(2026, 12, 31, 23, 59, 59, 0, sofia), 2026, 1, "1-1-31.12.2026"},
		{time.Date(2026, 12, 31, 21, 59, 59, 0, time.UTC), 2026, 2, "1-2-31.12.2026"}, // 23:59:59 in Sofia
		{time.Date(2027, 1, 1, 0, 0, 1, 0, sofia), 2027, 1, "1-1-01.01.2027"},
		{time.Date(2026, 12, 31, 22, 30, 0, 0, time.UTC), 2027, 2, "1-2-01.01.2027"}, // 00:30 on 1 Jan in Sofia
	}
	for _, c := range cases {
		r, err := at(c.now).Register(ctx, doc("Писмо "+c.now.String()), "", "")
		if err != nil {
			t.Fatalf("at %s: %v", c.now, err)
		}
		if r.Year != c.wantYear || r.Sequence != c.wantSeq || r.Number != c.wantNum || !r.EnteredAt.Equal(c.now) {
			t.Errorf("at %s (Sofia %s): year %d, seq %d, number %s, entered %s; want %d, %d, %s",
				c.now, c.now.In(sofia), r.Year, r.Sequence, r.Number, r.EnteredAt, c.wantYear, c.wantSeq, c.wantNum)
		}
	}
	// A document received in December and registered in January: the year
	// of the registration, the date of receipt in the number.
	r, err := at(time.Date(2027, 1, 4, 9, 0, 0, 0, sofia)).Register(ctx, doc("Късно писмо"), "", "2026-12-30")
	if err != nil {
		t.Fatal(err)
	}
	if r.Year != 2027 || r.Number != "1-3-30.12.2026" || r.ReceivedOn != "2026-12-30" {
		t.Errorf("late registration %+v", r)
	}
	for year, last := range map[int]int{2026: 2, 2027: 3} {
		c, err := e.store.Check(ctx, year)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Complete || c.Count != last || c.Last != last {
			t.Errorf("Check(%d) = %+v", year, c)
		}
	}
}

func TestRegisterRules(t *testing.T) {
	now := time.Date(2026, 5, 23, 10, 11, 12, 0, sofia)
	e := newEnv(t, documents.Config{Now: fixedClock(now.Add(300 * time.Millisecond))})
	ctx := clerk()
	st, err := e.store.SetSettings(ctx, documents.Settings{Index: "1234", Administration: "  Община   Троян ", Status: "active"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "Официален документен регистър на Община Троян" || st.Administration != "Община Троян" || st.Index != "1234" {
		t.Errorf("settings %+v", st)
	}
	if _, err := e.store.SetSettings(ctx, documents.Settings{Index: "12-3", Administration: "Община Троян"}); err != nil {
		wantErr(t, err, munigis.Invalid, "index:", "индекс:")
	} else {
		t.Error("index 12-3 accepted")
	}

	d := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Заявление за скица", TypeCode: "application"})
	if d.Registration != nil {
		t.Fatalf("registered without asking: %+v", d.Registration)
	}
	_, err = e.store.Register(ctx, d.ID, "", "2026-05-24")
	wantErr(t, err, munigis.Invalid, "received_on: 2026-05-24 is in the future", "24.05.2026 е в бъдещето")
	_, err = e.store.Register(ctx, d.ID, "", "23.05.2026")
	wantErr(t, err, munigis.Invalid, "received_on:", "дата на получаване")
	_, err = e.store.Register(ctx, d.ID, "no_such_type", "")
	wantErr(t, err, munigis.Invalid, `type: document type "no_such_type" does not exist`, "не съществува")
	_, err = e.store.Register(ctx, 999999, "", "")
	wantErr(t, err, munigis.NotFound, "document 999999 does not exist", "документ 999999 не съществува")

	r, err := e.store.Register(ctx, d.ID, "", "2026-05-03")
	if err != nil {
		t.Fatal(err)
	}
	want := documents.Registration{ID: r.ID, Number: "1234-1-03.05.2026", Index: "1234", Year: 2026, Sequence: 1,
		ReceivedOn: "2026-05-03", DocumentID: d.ID, DocumentName: "Заявление за скица", TypeCode: "application",
		TypeName: "Заявление", RegisteredType: "application", EnteredBy: "U-000042"}
	r.EnteredAt, r.Corrections = r.EnteredAt.UTC(), nil
	if !r.EnteredAt.Equal(now) {
		t.Errorf("entered at %s, want %s (to the second)", r.EnteredAt, now)
	}
	r.EnteredAt = time.Time{}
	if fmt.Sprint(r) != fmt.Sprint(want) {
		t.Errorf("registration\n got %+v\nwant %+v", r, want)
	}
	// A second registration of the same document names the first.
	_, err = e.store.Register(ctx, d.ID, "", "")
	wantErr(t, err, munigis.Conflict, "document "+fmt.Sprint(d.ID)+" is already registered as 1234-1-03.05.2026", "вече е регистриран с № 1234-1-03.05.2026")

	// The number, with or without leading zeros, finds the entry.
	for _, n := range []string{"1234-1-03.05.2026", "1234-000001-03.05.2026", "01234-01-3.5.2026", " 1234-1-03.05.2026 "} {
		got, err := e.store.Entry(ctx, n)
		if err != nil || got.ID != r.ID {
			t.Errorf("Entry(%q) = %d, %v", n, got.ID, err)
		}
	}
	_, err = e.store.Entry(ctx, "1234-1-04.05.2026")
	wantErr(t, err, munigis.NotFound, "register entry 1234-1-04.05.2026 does not exist", "не съществува")
	_, err = e.store.Entry(ctx, "1234/1/2026")
	wantErr(t, err, munigis.Invalid, "is not a registration number", "не е регистрационен номер")
	_, err = e.store.Entry(ctx, "1234-1-31.02.2026")
	wantErr(t, err, munigis.Invalid, "is not a registration number", "не е регистрационен номер")

	// The document shows its registration; "" is today in Sofia.
	got, err := e.store.Get(ctx, d.ID)
	if err != nil || got.Registration == nil || got.Registration.Number != "1234-1-03.05.2026" {
		t.Fatalf("Get: %+v, %v", got.Registration, err)
	}
	d2, err := e.store.Create(ctx, documents.NewDocument{Name: "Сигнал", TypeCode: "signal", Register: true})
	if err != nil || d2.Registration == nil || d2.Registration.Number != "1234-2-23.05.2026" || d2.TypeCode != "signal" {
		t.Fatalf("Create+Register: %+v, %v", d2.Registration, err)
	}
	_, err = e.store.Create(ctx, documents.NewDocument{Name: "Без вид", Register: true})
	wantErr(t, err, munigis.Invalid, "type: a document is registered with its type", "вид: документът се регистрира")

	// Registering with a type sets the document's type.
	d3 := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Неизвестен вид"})
	r3, err := e.store.Register(ctx, d3.ID, "complaint", "")
	if err != nil || r3.TypeCode != "complaint" {
		t.Fatalf("Register complaint: %+v, %v", r3, err)
	}
	if got, _ := e.store.Get(ctx, d3.ID); got.TypeCode != "complaint" || got.TypeName != "Жалба" {
		t.Errorf("document type after registration: %q %q", got.TypeCode, got.TypeName)
	}

	// Without a user, the system registers (Art. 28(1) p. 2), in the
	// entry and in the audit trail.
	d4 := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Електронно заявление", TypeCode: "application"})
	r4, err := e.store.Register(context.Background(), d4.ID, "", "")
	if err != nil || r4.EnteredBy != "system:munigis" {
		t.Fatalf("automatic registration: %+v, %v", r4, err)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE object = $1 AND actor = 'system:munigis'`, fmt.Sprintf("odr_entry:%d", r4.ID)); n != 1 {
		t.Errorf("audit rows of the automatic registration by system:munigis: %d", n)
	}

	// An archived register takes no entries (Art. 23(5)) and is not reopened.
	if _, err := e.store.SetSettings(ctx, documents.Settings{Index: "1234", Administration: "Община Троян", Status: "archived"}); err != nil {
		t.Fatal(err)
	}
	d5 := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Късно", TypeCode: "application"})
	_, err = e.store.Register(ctx, d5.ID, "", "")
	wantErr(t, err, munigis.Conflict, "Официален документен регистър на Община Троян is archived", "архивен")
	_, err = e.store.SetSettings(ctx, documents.Settings{Index: "1234", Administration: "Община Троян", Status: "active"})
	wantErr(t, err, munigis.Conflict, "never reopened", "не се възобновява")
	// Nothing half-saved: a create whose registration is refused keeps
	// neither the document nor its file.
	docs, files := count(t, e.pool, `SELECT count(*) FROM documents`), count(t, e.pool, `SELECT count(*) FROM files`)
	_, err = e.store.Create(ctx, documents.NewDocument{Name: "С файл", TypeCode: "application", Register: true, File: upload("f.pdf", pdf("f"))})
	wantErr(t, err, munigis.Conflict, "is archived", "архивен")
	if count(t, e.pool, `SELECT count(*) FROM documents`) != docs || count(t, e.pool, `SELECT count(*) FROM files`) != files {
		t.Error("a refused registration left its document or file behind")
	}
	if n := count(t, e.pool, `SELECT count(*) FROM odr_entries`); n != 4 {
		t.Errorf("%d entries, want 4", n)
	}
}

// Entries are never changed or deleted, not even by the owner (triggers),
// and the application role has no right to try (REVOKE).
func TestEntriesAreAppendOnly(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := clerk()
	d := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Заявление", TypeCode: "application", Register: true,
		File: upload("a.pdf", pdf("a"))})
	c, err := e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: documents.CorrectVoid, Reason: "грешка"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`UPDATE odr_entries SET entered_by = 'someone' WHERE id = $1`,
		`DELETE FROM odr_entries WHERE id = $1`,
		`UPDATE odr_corrections SET reason = 'друго' WHERE entry_id = $1`,
		`DELETE FROM odr_corrections WHERE entry_id = $1`,
		`DELETE FROM documents WHERE id = (SELECT document_id FROM odr_entries WHERE id = $1)`,
		`UPDATE odr_counters SET last = last + 5 WHERE $1 > 0`,
		`DELETE FROM odr_counters WHERE $1 > 0`,
		`UPDATE files SET media_type = 'text/html' WHERE $1 > 0`,
		`DELETE FROM document_versions WHERE $1 > 0`,
		`UPDATE document_types SET name = 'x' WHERE $1 > 0`,
	} {
		tag, err := e.pool.Exec(ctx, sql, d.Registration.ID)
		if err == nil || !strings.Contains(err.Error(), "are never changed or deleted") && !strings.Contains(err.Error(), "only moves up by one") {
			t.Errorf("owner: %s: %v, %v", sql, tag, err)
		}
	}
	// As the application role: refused by privileges.
	for _, sql := range []string{
		`UPDATE odr_entries SET entered_by = 'someone' WHERE id = $1`,
		`DELETE FROM odr_entries WHERE id = $1`,
		`DELETE FROM odr_corrections WHERE entry_id = $1`,
	} {
		err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL ROLE munigis_app`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql, d.Registration.ID)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("munigis_app: %s: %v", sql, err)
		}
	}
	got, err := e.store.Entry(ctx, d.Registration.Number)
	if err != nil || got.EnteredBy != "U-000042" || len(got.Corrections) != 1 || got.Corrections[0].ID != c.ID {
		t.Errorf("entry after the attempts: %+v, %v", got, err)
	}
	// TRUNCATE too.
	if _, err := e.pool.Exec(ctx, `TRUNCATE odr_entries CASCADE`); err == nil {
		t.Error("TRUNCATE odr_entries succeeded")
	}
}

func TestCorrections(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := clerk()
	today := time.Now().In(sofia)
	d := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Писмо от РДНСК", TypeCode: "application", Register: true,
		ReceivedOn: today.AddDate(0, 0, -3).Format(time.DateOnly)})
	number := d.Registration.Number

	_, err := e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: "type", NewValue: "incoming_letter", Reason: "  "})
	wantErr(t, err, munigis.Invalid, "reason:", "основание:")
	_, err = e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: "number", NewValue: "5", Reason: "x"})
	wantErr(t, err, munigis.Invalid, `field: "number" is not one of`, "поле:")
	_, err = e.store.Correct(ctx, 999999, documents.Correction{Field: "void", Reason: "x"})
	wantErr(t, err, munigis.NotFound, "register entry 999999 does not exist", "вписване 999999 не съществува")
	_, err = e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: "type", NewValue: "application", Reason: "x"})
	wantErr(t, err, munigis.Invalid, "already of type application", "вече е от вид")

	c1, err := e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: "type", NewValue: "incoming_letter", Reason: "писмо, не заявление"})
	if err != nil {
		t.Fatal(err)
	}
	if c1.OldValue != "application" || c1.NewValue != "incoming_letter" || c1.By != "U-000042" || c1.At.IsZero() {
		t.Errorf("type correction %+v", c1)
	}
	_, err = e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: "received_on", NewValue: today.AddDate(0, 0, 1).Format(time.DateOnly), Reason: "x"})
	wantErr(t, err, munigis.Invalid, "is in the future", "в бъдещето")
	c2, err := e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: "received_on",
		NewValue: today.AddDate(0, 0, -5).Format(time.DateOnly), Reason: "клеймото на пощата"})
	if err != nil {
		t.Fatal(err)
	}
	if c2.OldValue != today.AddDate(0, 0, -3).Format(time.DateOnly) {
		t.Errorf("date correction %+v", c2)
	}

	got, err := e.store.Entry(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	// The number and the registered values stay; the corrections show.
	if got.Number != number || got.ReceivedOn != today.AddDate(0, 0, -3).Format(time.DateOnly) || got.RegisteredType != "application" ||
		got.TypeCode != "incoming_letter" || got.TypeName != "Входящо писмо" || got.CorrectedReceivedOn != c2.NewValue || got.Void {
		t.Errorf("entry after corrections %+v", got)
	}
	if len(got.Corrections) != 2 || got.Corrections[0].ID != c1.ID || got.Corrections[1].ID != c2.ID {
		t.Errorf("corrections %+v", got.Corrections)
	}
	if doc, _ := e.store.Get(ctx, d.ID); doc.TypeCode != "incoming_letter" || doc.Registration.Number != number {
		t.Errorf("document after the type correction: %q, %+v", doc.TypeCode, doc.Registration)
	}
	// The type of a registered document changes only through a correction.
	doc, _ := e.store.Get(ctx, d.ID)
	_, err = e.store.Update(ctx, d.ID, doc.Version, documents.NewDocument{Name: doc.Name, TypeCode: "complaint"})
	wantErr(t, err, munigis.Conflict, "is registered as "+number, "видът му се поправя в регистъра")

	c3, err := e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: "void", Reason: "регистриран два пъти"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Correct(ctx, d.Registration.ID, documents.Correction{Field: "type", NewValue: "complaint", Reason: "x"})
	wantErr(t, err, munigis.Conflict, "is void", "анулирано")
	got, _ = e.store.Entry(ctx, number)
	if !got.Void || got.Number != number || len(got.Corrections) != 3 {
		t.Errorf("void entry %+v", got)
	}
	// Voided, the number stays taken: the next one is 2, and the year's
	// check lists the corrections.
	d2 := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Следващ", TypeCode: "application", Register: true})
	if d2.Registration.Sequence != 2 {
		t.Errorf("next sequence %d", d2.Registration.Sequence)
	}
	chk, err := e.store.Check(ctx, today.Year())
	if err != nil {
		t.Fatal(err)
	}
	if !chk.Complete || chk.Count != 2 || len(chk.Corrections) != 3 || chk.Corrections[2].ID != c3.ID {
		t.Errorf("Check = %+v", chk)
	}
	// Audited with the actor.
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'odr_correction.insert' AND actor = 'U-000042' AND address = '198.51.100.7'`); n != 3 {
		t.Errorf("%d audited corrections", n)
	}
}

// A gap or a duplicate made behind the store's back (triggers off, as the
// owner) is found by Check.
func TestCheckFindsGapsAndDuplicates(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := clerk()
	var last documents.Document
	for i := range 3 {
		last = mustCreate(t, e.store, ctx, documents.NewDocument{Name: fmt.Sprint("Документ ", i), TypeCode: "order", Register: true})
	}
	year := last.Registration.Year
	extra := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Вписан на ръка", TypeCode: "order"})
	extra2 := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Вписан на ръка 2", TypeCode: "order"})
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		// Number 5 without 4, and number 5 again under another index.
		_, err := tx.Exec(ctx, `INSERT INTO odr_entries (registration_index, year, sequence, received_on, document_id, document_type_id, entered_at, entered_by)
			SELECT '1', $1, 5, current_date, $2, 1, date_trunc('second', now()), 'db'`, year, extra.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO odr_entries (registration_index, year, sequence, received_on, document_id, document_type_id, entered_at, entered_by)
			SELECT '2', $1, 5, current_date, $2, 1, date_trunc('second', now()), 'db'`, year, extra2.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.store.Check(ctx, year)
	if err != nil {
		t.Fatal(err)
	}
	if c.Complete || c.Count != 5 || c.First != 1 || c.Last != 5 || !slices.Equal(c.Missing, []int{4}) || !slices.Equal(c.Duplicates, []int{5}) {
		t.Errorf("Check = %+v", c)
	}
	// Without the bypass, the counter refuses a number it did not give.
	extra3 := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Трети", TypeCode: "order"})
	_, err = e.pool.Exec(ctx, `INSERT INTO odr_entries (registration_index, year, sequence, received_on, document_id, document_type_id, entered_at, entered_by)
			SELECT '1', $1, 7, current_date, $2, 1, date_trunc('second', now()), 'db'`, year, extra3.ID)
	if err == nil || !strings.Contains(err.Error(), "must be taken from the register's counter") {
		t.Errorf("entry beside the counter: %v", err)
	}
	_, err = e.store.Check(ctx, 1999)
	wantErr(t, err, munigis.Invalid, "year: 1999", "година: 1999")
}

func TestEntriesPaging(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := clerk()
	for i := range 7 {
		code := "application"
		if i%3 == 0 {
			code = "complaint"
		}
		mustCreate(t, e.store, ctx, documents.NewDocument{Name: fmt.Sprintf("Документ номер %d", i+1), TypeCode: code, Register: true})
	}
	year := time.Now().In(sofia).Year()
	rs, total, err := e.store.Entries(ctx, documents.EntryQuery{Year: year, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if total != 7 || len(rs) != 3 || rs[0].Sequence != 7 || rs[2].Sequence != 5 {
		t.Errorf("page 1: total %d, %d rows, first %d", total, len(rs), rs[0].Sequence)
	}
	rs, total, _ = e.store.Entries(ctx, documents.EntryQuery{Year: year, Limit: 3, Offset: 6})
	if total != 7 || len(rs) != 1 || rs[0].Sequence != 1 {
		t.Errorf("page 3: total %d, %+v", total, rs)
	}
	rs, total, _ = e.store.Entries(ctx, documents.EntryQuery{Year: year, Limit: 3, Offset: 30})
	if total != 7 || len(rs) != 0 {
		t.Errorf("past the end: total %d, %d rows", total, len(rs))
	}
	rs, total, _ = e.store.Entries(ctx, documents.EntryQuery{Type: "complaint"})
	if total != 3 || len(rs) != 3 {
		t.Errorf("complaints: total %d", total)
	}
	rs, total, _ = e.store.Entries(ctx, documents.EntryQuery{Q: "НОМЕР 7"})
	if total != 1 || rs[0].DocumentName != "Документ номер 7" {
		t.Errorf("q: total %d %+v", total, rs)
	}
	rs, total, _ = e.store.Entries(ctx, documents.EntryQuery{Q: rs[0].Number})
	if total != 1 {
		t.Errorf("q by number: %d", total)
	}
	today := time.Now().In(sofia).Format(time.DateOnly)
	if _, total, _ = e.store.Entries(ctx, documents.EntryQuery{From: today, To: today}); total != 7 {
		t.Errorf("from/to today: %d", total)
	}
	if _, total, _ = e.store.Entries(ctx, documents.EntryQuery{To: "2000-01-01"}); total != 0 {
		t.Errorf("to 2000: %d", total)
	}
	_, _, err = e.store.Entries(ctx, documents.EntryQuery{From: "вчера"})
	wantErr(t, err, munigis.Invalid, "from:", "от:")
	if _, total, _ = e.store.Entries(ctx, documents.EntryQuery{Q: "100%_"}); total != 0 {
		t.Errorf("LIKE characters are literal: %d", total)
	}
}

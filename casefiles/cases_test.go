package casefiles_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"munigis"
	"munigis/casefiles"
	"munigis/documents"
)

func TestOpenPlansStagesInWorkingDays(t *testing.T) {
	// Wednesday before Orthodox Easter 2026: Good Friday 10 April and
	// Easter Monday 13 April are not working days.
	e := newEnv(t, "2026-04-08")
	o := e.open(t, "Удостоверение за имот 73198.501.12", "T-1")
	c := o.CaseFile

	if !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$`).MatchString(o.AccessCode) {
		t.Errorf("access code %q is not XXXX-XXXX-XXXX from the unambiguous alphabet", o.AccessCode)
	}
	var stored []byte
	if err := e.pool.QueryRow(context.Background(), `SELECT code_hash FROM case_file_access WHERE case_file_id = $1`, c.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(strings.ReplaceAll(o.AccessCode, "-", "")))
	if string(stored) != string(want[:]) {
		t.Error("the stored hash is not the SHA-256 of the code")
	}
	// Neither the code nor its hash reaches the audit trail or the history.
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE coalesce(after::text, '') || coalesce(before::text, '') ~* $1`,
		`code_hash|`+strings.ReplaceAll(o.AccessCode, "-", "")+`|`+hexString(want[:])); n != 0 {
		t.Errorf("%d audit rows carry the access code or its hash", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'case_file.access_code' AND object = $1 AND actor = $2`,
		"case_file:"+itoa(c.ID), e.clerk); n != 1 {
		t.Errorf("%d audit rows for issuing the code", n)
	}

	// The number is the opening document's registration number.
	opening, err := e.docs.Get(context.Background(), c.OpeningDocumentID)
	if err != nil {
		t.Fatal(err)
	}
	if opening.Registration == nil || c.Number != opening.Registration.Number {
		t.Fatalf("case number %q, opening document's registration %+v", c.Number, opening.Registration)
	}
	if len(c.Items) != 1 || c.Items[0].Section != casefiles.Official || c.Items[0].Position != 1 ||
		*c.Items[0].DocumentID != opening.ID || c.Items[0].IncludedBy != e.clerk {
		t.Fatalf("items %+v, want the opening document as official #1 included by %s", c.Items, e.clerk)
	}
	if c.ServiceCode != "T-1" || c.Status != casefiles.Open || c.CreatedBy != e.clerk {
		t.Errorf("case %+v", c)
	}
	// Internal deadline 7 working days from 8 April: 9, 14, 15, 16, 17, 20, 21.
	if c.DueOn != "2026-04-21" {
		t.Errorf("due_on %s, want 2026-04-21 (7 working days over Easter)", c.DueOn)
	}

	type plan struct{ start, end, state, executor string }
	wantPlan := []plan{
		// 2 working days from 8 April: 9 and 14 (10–13 off).
		{"2026-04-08", "2026-04-14", casefiles.InProgress, e.subHead},
		{"2026-04-14", "2026-04-17", casefiles.NotDone, e.subHead},
		{"2026-04-17", "2026-04-21", casefiles.NotDone, e.parentHead},
	}
	if len(c.Tasks) != 3 {
		t.Fatalf("%d tasks, want 3", len(c.Tasks))
	}
	for i, w := range wantPlan {
		tk := c.Tasks[i]
		if tk.PlannedStart != w.start || tk.PlannedEnd != w.end || tk.State != w.state || tk.ExecutorSystemID != w.executor ||
			tk.List != casefiles.Pending || tk.Ordinal != i+1 || tk.StageID == nil {
			t.Errorf("task %d: %s→%s %s %s %s, want %+v", i+1, tk.PlannedStart, tk.PlannedEnd, tk.List, tk.State, tk.ExecutorSystemID, w)
		}
	}
	if c.Tasks[0].ActualStart != "2026-04-08" || c.Tasks[1].ActualStart != "" {
		t.Errorf("actual starts %q, %q", c.Tasks[0].ActualStart, c.Tasks[1].ActualStart)
	}

	// The executor named at the counter gets the first task.
	o2, err := e.store.Open(as(e.clerk), casefiles.Opening{Name: "Второ", ServiceCode: "T-1", ExecutorSystemID: e.clerk,
		Document: &documents.NewDocument{Name: "Заявление 2", TypeCode: "application"}})
	if err != nil {
		t.Fatal(err)
	}
	if o2.CaseFile.Tasks[0].ExecutorSystemID != e.clerk || o2.CaseFile.Tasks[1].ExecutorSystemID != e.subHead {
		t.Errorf("executors %s, %s", o2.CaseFile.Tasks[0].ExecutorSystemID, o2.CaseFile.Tasks[1].ExecutorSystemID)
	}
	if o2.AccessCode == o.AccessCode {
		t.Error("two cases got the same access code")
	}
}

func hexString(b []byte) string { return hex.EncodeToString(b) }

func TestOpenChecksTheOpeningDocument(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	ctx := as(e.clerk)
	// A reply continues a case; it cannot open one.
	reply := e.doc(t, "Отговор", "reply", false)
	_, err := e.store.Open(ctx, casefiles.Opening{Name: "X", DocumentID: reply.ID})
	wantErr(t, err, munigis.Invalid, "does not start a case file", "не образува преписка")
	if n := count(t, e.pool, `SELECT count(*) FROM odr_entries WHERE document_id = $1`, reply.ID); n != 0 {
		t.Error("the refused opening registered the document anyway")
	}

	_, err = e.store.Open(ctx, casefiles.Opening{DocumentID: reply.ID})
	wantErr(t, err, munigis.Invalid, "name is required", "наименованието")
	_, err = e.store.Open(ctx, casefiles.Opening{Name: "X"})
	wantErr(t, err, munigis.Invalid, "exactly one opening document", "точно един")
	_, err = e.store.Open(ctx, casefiles.Opening{Name: "X", DocumentID: e.doc(t, "Заявление", "application", false).ID, ServiceCode: "9999"})
	wantErr(t, err, munigis.Invalid, `service: no service or procedure with code "9999"`, "няма услуга")
	_, err = e.store.Open(ctx, casefiles.Opening{Name: "X", DocumentID: e.doc(t, "Заявление", "application", false).ID,
		Identifiers: []string{"73198.1"}})
	wantErr(t, err, munigis.Invalid, `identifiers: "73198.1"`, "не е кадастрален идентификатор")

	// An already registered document keeps its number, which becomes the case's.
	app := e.doc(t, "Регистрирано заявление", "application", false)
	reg, err := e.docs.Register(ctx, app.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.store.Open(ctx, casefiles.Opening{Name: "На регистриран документ", DocumentID: app.ID, ServiceCode: "signal"})
	if err != nil {
		t.Fatal(err)
	}
	if o.CaseFile.Number != reg.Number {
		t.Errorf("number %s, want %s", o.CaseFile.Number, reg.Number)
	}
	// The signal procedure: the internal 30 calendar days from Wednesday
	// 25 November 2026 end on Friday 25 December (Christmas), so the
	// term moves to the next working day, Tuesday 29 December.
	if o.CaseFile.DueOn != "2026-12-29" || len(o.CaseFile.Tasks) != 3 {
		t.Errorf("signal: due %s, %d tasks", o.CaseFile.DueOn, len(o.CaseFile.Tasks))
	}
	// The same document cannot open a second case.
	_, err = e.store.Open(ctx, casefiles.Opening{Name: "Пак", DocumentID: app.ID})
	wantErr(t, err, munigis.Conflict, "already opened a case file", "вече е образувал")

	// Search and lookups.
	byNumber, err := e.store.GetByNumber(context.Background(), reg.Number)
	if err != nil || byNumber.ID != o.CaseFile.ID {
		t.Errorf("GetByNumber(%s) = %d, %v", reg.Number, byNumber.ID, err)
	}
	_, err = e.store.GetByNumber(context.Background(), "няма")
	wantErr(t, err, munigis.NotFound, "no case file with number", "няма преписка")
	list, total, err := e.store.List(context.Background(), casefiles.Query{Q: "регистриран"})
	if err != nil || total != 1 || list[0].ID != o.CaseFile.ID {
		t.Errorf("List(Q) = %d %+v %v", total, list, err)
	}
	if _, total, _ := e.store.List(context.Background(), casefiles.Query{Q: "%"}); total != 0 {
		t.Errorf("%% matched %d case files", total)
	}
	if _, total, _ := e.store.List(context.Background(), casefiles.Query{Service: "signal", Status: casefiles.Open}); total != 1 {
		t.Errorf("List(service signal) = %d", total)
	}

	// Wrong-mode opening in one transaction: nothing half-saved.
	before := count(t, e.pool, `SELECT count(*) FROM documents`)
	_, err = e.store.Open(ctx, casefiles.Opening{Name: "X", Document: &documents.NewDocument{Name: "Писмо", TypeCode: "reply"}})
	wantErr(t, err, munigis.Invalid, "does not start", "не образува")
	if after := count(t, e.pool, `SELECT count(*) FROM documents`); after != before {
		t.Errorf("documents %d → %d after a refused opening", before, after)
	}
}

func TestServicesNomenclature(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	all, err := e.store.Services(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]casefiles.Service{}
	for _, s := range all {
		codes[s.Code] = s
	}
	for _, c := range []string{"2027", "2054", "2112", "2082", "2084", "2117", "2119", "2120", "signal", "T-1"} {
		s, ok := codes[c]
		if !ok {
			t.Errorf("service %s missing", c)
			continue
		}
		if len(s.Stages) < 2 || len(s.Stages) > 4 {
			t.Errorf("service %s has %d stages", c, len(s.Stages))
		}
	}
	if s := codes["2112"]; s.StatutoryDays == nil || *s.StatutoryDays != 7 || s.DayKind != casefiles.CalendarDays {
		t.Errorf("2112: %+v", s)
	}
	seven := 7
	five := 5
	_, err = e.store.CreateService(context.Background(), casefiles.Service{Code: "X", Name: "X", StatutoryDays: &five, InternalDays: &seven})
	wantErr(t, err, munigis.Invalid, "internal_days may not be longer", "по-дълъг")
	_, err = e.store.CreateService(context.Background(), casefiles.Service{Code: "2027", Name: "Скица"})
	wantErr(t, err, munigis.Conflict, "already exists", "вече съществува")
	_, err = e.store.CreateService(context.Background(), casefiles.Service{Code: "X2", Name: "X",
		Stages: []casefiles.Stage{{Name: "a", Days: 1, ResultTypes: []string{"no_such_type"}}}})
	if munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(munigis.ErrorMessage(err), "no_such_type") {
		t.Errorf("unknown result type: %v", err)
	}
	// Entries are never changed (Art. 59(3)).
	if _, err := e.pool.Exec(context.Background(), `UPDATE services SET statutory_days = 1 WHERE code = '2027'`); err == nil {
		t.Error("a service was changed")
	}
	if _, err := e.pool.Exec(context.Background(), `DELETE FROM service_stages WHERE service_id = $1`, e.service.ID); err == nil {
		t.Error("a stage was deleted")
	}
}

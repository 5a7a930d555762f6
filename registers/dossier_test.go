package registers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"munigis"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/registers"
	"munigis/workdays"
)

// pdf is a small file that sniffs as PDF, with a distinguishing body.
func pdf(body string) []byte {
	return []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Title (" + body + ") >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
}

func wantCode(t *testing.T, err error, code munigis.Code, contains string) {
	t.Helper()
	if munigis.ErrorCode(err) != code {
		t.Fatalf("error %v (code %q), want %s", err, munigis.ErrorCode(err), code)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not name %q", err.Error(), contains)
	}
}

// someEntry creates an entry of register reg (municipal_property or
// building_permits) on the first demo parcel and returns its id.
func (e *env) someEntry(t *testing.T, reg string) int64 {
	t.Helper()
	if reg == "municipal_property" {
		return mustCreate(t, e.store, e.property("АОС-"+reg, e.parcels[0])).ID
	}
	return mustCreate(t, e.store, registers.Entry{Register: "building_permits", Number: "РС-17", Date: "2026-02-10",
		Identifiers: []string{e.parcels[1]}, Parties: []registers.Party{{PersonID: e.firm.ID, Role: "investors"}},
		Status: "издадено", Data: map[string]any{"category": "IV", "description": "Жилищна сграда"}}).ID
}

// TestFileField: a file field holds the id of an existing document with a
// file; a missing document, a document without a file and a non-id are
// refused naming the field, and nothing is saved.
func TestFileField(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	docs := documents.NewStore(e.pool, documents.Config{})
	e.store.UseDocuments(docs)
	_, err := e.store.CreateType(ctx, registers.Type{Name: "tree_permits", TitleBG: "Разрешения за сеч", TitleEN: "Tree felling permits",
		Published: true, Fields: []registers.Field{
			{Name: "order", Type: registers.File, TitleBG: "Заповед", TitleEN: "Order", Required: true, Public: true},
			{Name: "opinion", Type: registers.File, TitleBG: "Становище", TitleEN: "Opinion"},
		}})
	if err != nil {
		t.Fatalf("CreateType with file fields: %v", err)
	}
	if _, err := e.store.CreateType(ctx, registers.Type{Name: "bad_files", TitleBG: "Б", TitleEN: "B",
		Fields: []registers.Field{{Name: "f", Type: registers.File, TitleBG: "Ф", TitleEN: "F", Unique: true}}}); munigis.ErrorCode(err) != munigis.Invalid {
		t.Errorf("a unique file field: %v, want Invalid", err)
	}
	// The register map layer has no column for a file field.
	var cols string
	if err := e.pool.QueryRow(context.Background(), `SELECT lt.attributes::text FROM layers l JOIN layer_types lt ON lt.name = l.layer_type WHERE l.name = 'reg_tree_permits'`).Scan(&cols); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cols, `"order"`) || strings.Contains(cols, `"opinion"`) {
		t.Errorf("register layer has a file field column: %s", cols)
	}

	doc, err := docs.Create(ctx, documents.NewDocument{Name: "Заповед № 12", TypeCode: "order",
		File: &documents.Upload{FileName: "zapoved-12.pdf", Content: bytes.NewReader(pdf("order 12"))}})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := docs.Create(ctx, documents.NewDocument{Name: "Становище (чака файл)"})
	if err != nil {
		t.Fatal(err)
	}
	before := count(t, e.pool, `SELECT count(*) FROM register_entries WHERE register = 'tree_permits'`)
	for _, c := range []struct {
		name  string
		data  map[string]any
		field string
	}{
		{"missing document", map[string]any{"order": doc.ID + 1000}, "order: document"},
		{"document without a file", map[string]any{"order": doc.ID, "opinion": empty.ID}, "opinion: document"},
		{"not an id", map[string]any{"order": "заповед"}, "order:"},
		{"zero", map[string]any{"order": 0}, "order:"},
		{"required", map[string]any{"opinion": doc.ID}, "order: is required"},
	} {
		_, err := e.store.Create(ctx, registers.Entry{Register: "tree_permits", Number: "С-1", Date: "2026-03-01", Data: c.data})
		wantCode(t, err, munigis.Invalid, c.field)
		var me *munigis.Error
		if !asError(err, &me) || me.MessageBG == "" {
			t.Errorf("%s: no Bulgarian message: %v", c.name, err)
		}
	}
	if n := count(t, e.pool, `SELECT count(*) FROM register_entries WHERE register = 'tree_permits'`); n != before {
		t.Fatalf("refused entries were saved: %d entries, want %d", n, before)
	}

	got, err := e.store.Create(ctx, registers.Entry{Register: "tree_permits", Number: "С-1", Date: "2026-03-01",
		Data: map[string]any{"order": float64(doc.ID)}}) // as JSON brings it
	if err != nil {
		t.Fatalf("an existing document: %v", err)
	}
	if got.Data["order"] != doc.ID {
		t.Errorf("order = %#v, want %d", got.Data["order"], doc.ID)
	}
	// Update checks too.
	got.Data["opinion"] = doc.ID + 1000
	if _, err := e.store.Update(ctx, got); munigis.ErrorCode(err) != munigis.Invalid || !strings.Contains(err.Error(), "opinion") {
		t.Errorf("update with a missing document: %v", err)
	}
	field, id, err := e.store.FieldFile(context.Background(), got.ID, "order")
	if err != nil || id != doc.ID || field.Name != "order" {
		t.Fatalf("FieldFile = %v %d %v", field, id, err)
	}
	if _, _, err := e.store.FieldFile(context.Background(), got.ID, "opinion"); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("FieldFile of an empty field: %v, want NotFound", err)
	}
	files, err := e.store.Files(context.Background(), []int64{doc.ID, 999999})
	if err != nil {
		t.Fatal(err)
	}
	if ref := files[doc.ID]; ref.Name != "Заповед № 12" || ref.File == nil || ref.File.FileName != "zapoved-12.pdf" || len(files) != 1 {
		t.Errorf("Files = %+v", files)
	}
	// The public sees no document id in the data.
	ty, _ := e.store.Type(context.Background(), "tree_permits")
	pv, err := registers.PublicView(got, ty)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pv.Data["order"]; ok {
		t.Errorf("public data shows the document id: %v", pv.Data)
	}
}

func asError(err error, me **munigis.Error) bool { return errors.As(err, me) }

// TestDossier: documents are added (uploaded or existing), listed, removed
// with a reason; every change is audited with the actor and the address;
// the rows cannot be edited or deleted behind the store's back.
func TestDossier(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	docs := documents.NewStore(e.pool, documents.Config{})
	e.store.UseDocuments(docs)
	prop := e.someEntry(t, "municipal_property")

	if list, err := e.store.Dossier(ctx, prop); err != nil || len(list) != 0 {
		t.Fatalf("empty dossier = %v, %v", list, err)
	}
	act, err := e.store.AddToDossier(ctx, prop, documents.NewDocument{Name: "Акт за частна общинска собственост № 1234", TypeCode: "order",
		File: &documents.Upload{FileName: "akt-1234.pdf", Content: bytes.NewReader(pdf("act 1234"))}})
	if err != nil {
		t.Fatalf("AddToDossier: %v", err)
	}
	if act.EntryID != prop || act.File == nil || act.File.FileName != "akt-1234.pdf" || act.AddedBy != "U-000042" || act.TypeCode != "order" {
		t.Errorf("added = %+v", act)
	}
	contract, err := docs.Create(ctx, documents.NewDocument{Name: "Договор за продажба", TypeCode: "contract",
		File: &documents.Upload{FileName: "dogovor.pdf", Content: bytes.NewReader(pdf("contract"))}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.LinkToDossier(ctx, prop, contract.ID); err != nil {
		t.Fatalf("LinkToDossier: %v", err)
	}
	_, err = e.store.LinkToDossier(ctx, prop, contract.ID)
	wantCode(t, err, munigis.Conflict, "already in the dossier")
	_, err = e.store.LinkToDossier(ctx, prop, contract.ID+1000)
	wantCode(t, err, munigis.Invalid, "document_id")
	_, err = e.store.LinkToDossier(ctx, 99999999, contract.ID)
	wantCode(t, err, munigis.NotFound, "")

	list, err := e.store.Dossier(ctx, prop)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].DocumentID != act.DocumentID || list[1].DocumentID != contract.ID || list[1].Name != "Договор за продажба" {
		t.Fatalf("dossier = %+v", list)
	}
	fi, content, err := e.store.Content(ctx, act.DocumentID)
	if err != nil || !bytes.Equal(content, pdf("act 1234")) || fi.MediaType != "application/pdf" {
		t.Errorf("Content = %+v %q %v", fi, content, err)
	}

	_, err = e.store.RemoveFromDossier(ctx, prop, contract.ID, "  ")
	wantCode(t, err, munigis.Invalid, "reason")
	removed, err := e.store.RemoveFromDossier(ctx, prop, contract.ID, "добавен по грешка")
	if err != nil {
		t.Fatalf("RemoveFromDossier: %v", err)
	}
	if removed.RemovedAt == nil || removed.RemovedBy != "U-000042" || removed.RemovalReason != "добавен по грешка" {
		t.Errorf("removed = %+v", removed)
	}
	_, err = e.store.RemoveFromDossier(ctx, prop, contract.ID, "пак")
	wantCode(t, err, munigis.NotFound, "not in the dossier")
	if _, err := e.store.DossierDocument(ctx, prop, contract.ID); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("a removed document is still served: %v", err)
	}
	if list, _ := e.store.Dossier(ctx, prop); len(list) != 1 || list[0].DocumentID != act.DocumentID {
		t.Errorf("dossier after removal = %+v", list)
	}
	all, err := e.store.DossierWithRemoved(ctx, prop)
	if err != nil || len(all) != 2 || all[1].RemovedAt == nil {
		t.Errorf("dossier with removed = %+v %v", all, err)
	}
	// It can come back, as a new inclusion.
	if _, err := e.store.LinkToDossier(ctx, prop, contract.ID); err != nil {
		t.Errorf("adding a removed document again: %v", err)
	}

	// Audit: three inclusions and one removal, by the clerk, from her address.
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'entry_document.insert' AND actor = 'U-000042' AND address = '192.0.2.7'
		AND (after ->> 'entry_id')::bigint = $1`, prop); n != 3 {
		t.Errorf("%d entry_document.insert audit rows, want 3", n)
	}
	var before, after []byte
	if err := e.pool.QueryRow(context.Background(), `SELECT before, after FROM audit_log WHERE action = 'entry_document.update' AND actor = 'U-000042'
		AND object = 'entry_document:' || $1::bigint`, removed.ID).Scan(&before, &after); err != nil {
		t.Fatalf("removal audit row: %v", err)
	}
	var b, a map[string]any
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	if b["removed_at"] != nil || a["removal_reason"] != "добавен по грешка" || a["removed_by"] != "U-000042" {
		t.Errorf("removal audit before %s after %s", before, after)
	}

	// The table is append-only but for the removal, once.
	bg := context.Background()
	const never = "a document in a dossier is never changed; it can only be removed once, with a reason"
	for sql, want := range map[string]string{
		`DELETE FROM entry_documents WHERE id = ` + strconv.FormatInt(act.ID, 10):                             "documents of a dossier",
		`UPDATE entry_documents SET added_by = 'someone' WHERE id = ` + strconv.FormatInt(act.ID, 10):         never,
		`UPDATE entry_documents SET removal_reason = 'again' WHERE id = ` + strconv.FormatInt(removed.ID, 10): never,
	} {
		if _, err := e.pool.Exec(bg, sql); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", sql, err, want)
		}
	}
}

// TestDossierRefusedUpload: a file of a type not accepted is refused with
// the reason, and neither a document nor a link is left.
func TestDossierRefusedUpload(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	e.store.UseDocuments(documents.NewStore(e.pool, documents.Config{}))
	prop := e.someEntry(t, "municipal_property")
	docsBefore := count(t, e.pool, `SELECT count(*) FROM documents`)
	_, err := e.store.AddToDossier(ctx, prop, documents.NewDocument{Name: "Скрипт",
		File: &documents.Upload{FileName: "x.html", Content: strings.NewReader("<html><script>alert(1)</script></html>")}})
	wantCode(t, err, munigis.Invalid, "not accepted")
	// An unknown entry: the document is not kept either.
	_, err = e.store.AddToDossier(ctx, 99999999, documents.NewDocument{Name: "Акт",
		File: &documents.Upload{FileName: "a.pdf", Content: bytes.NewReader(pdf("a"))}})
	wantCode(t, err, munigis.NotFound, "")
	// A bad document type: checked inside the transaction, rolled back.
	_, err = e.store.AddToDossier(ctx, prop, documents.NewDocument{Name: "Акт", TypeCode: "no_such_type",
		File: &documents.Upload{FileName: "a.pdf", Content: bytes.NewReader(pdf("b"))}})
	wantCode(t, err, munigis.Invalid, "type")
	if n := count(t, e.pool, `SELECT count(*) FROM documents`); n != docsBefore {
		t.Errorf("%d documents after refusals, want %d", n, docsBefore)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM entry_documents`); n != 0 {
		t.Errorf("%d dossier rows after refusals, want 0", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM files`); n != 0 {
		t.Errorf("%d files kept after refusals, want 0", n)
	}
}

// TestCaseFileLink: a building permit is linked to the case file it was
// issued in, by the case's number; the link shows in CaseFiles, is audited,
// and is ended by unlinking, never deleted.
func TestCaseFileLink(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	docs := documents.NewStore(e.pool, documents.Config{})
	e.store.UseDocuments(docs)
	cases := casefiles.NewStore(e.pool, docs, workdays.Bulgaria())
	opened, err := cases.Open(ctx, casefiles.Opening{Name: "Разрешение за строеж на жилищна сграда",
		Document: &documents.NewDocument{Name: "Заявление за разрешение за строеж", TypeCode: "application",
			File: &documents.Upload{FileName: "zaiavlenie.pdf", Content: bytes.NewReader(pdf("application"))}}})
	if err != nil {
		t.Fatalf("open a case file: %v", err)
	}
	number := opened.CaseFile.Number
	permit := e.someEntry(t, "building_permits")

	if list, err := e.store.CaseFiles(ctx, permit); err != nil || len(list) != 0 {
		t.Fatalf("CaseFiles before = %v %v", list, err)
	}
	lc, err := e.store.LinkCaseFile(ctx, permit, " "+number+" ")
	if err != nil {
		t.Fatalf("LinkCaseFile: %v", err)
	}
	if lc.Number != number || lc.Status != "open" || lc.Name != "Разрешение за строеж на жилищна сграда" || lc.LinkedBy != "U-000042" {
		t.Errorf("linked = %+v", lc)
	}
	_, err = e.store.LinkCaseFile(ctx, permit, number)
	wantCode(t, err, munigis.Conflict, "already linked")
	_, err = e.store.LinkCaseFile(ctx, permit, "1000-999-01.01.2020")
	wantCode(t, err, munigis.Invalid, "number: case file")
	_, err = e.store.LinkCaseFile(ctx, 99999999, number)
	wantCode(t, err, munigis.NotFound, "")

	list, err := e.store.CaseFiles(ctx, permit)
	if err != nil || len(list) != 1 || list[0].ID != opened.CaseFile.ID || list[0].Number != number {
		t.Fatalf("CaseFiles = %+v %v", list, err)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'case_file_entry.insert' AND actor = 'U-000042'
		AND (after ->> 'entry_id')::bigint = $1`, permit); n != 1 {
		t.Errorf("%d case_file_entry.insert audit rows, want 1", n)
	}

	if err := e.store.UnlinkCaseFile(ctx, permit, number); err != nil {
		t.Fatalf("UnlinkCaseFile: %v", err)
	}
	wantCode(t, e.store.UnlinkCaseFile(ctx, permit, number), munigis.NotFound, "not linked")
	if list, _ := e.store.CaseFiles(ctx, permit); len(list) != 0 {
		t.Errorf("CaseFiles after unlink = %+v", list)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM case_file_entries WHERE entry_id = $1 AND unlinked_by = 'U-000042'`, permit); n != 1 {
		t.Errorf("the unlinked row is not kept: %d", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'case_file_entry.update' AND actor = 'U-000042'`); n != 1 {
		t.Errorf("%d case_file_entry.update audit rows, want 1", n)
	}
	if _, err := e.pool.Exec(context.Background(), `DELETE FROM case_file_entries`); err == nil {
		t.Error("case_file_entries rows can be deleted")
	}
	// Linked once, unlinked once (the guard shared with the map links).
	for _, sql := range []string{
		`UPDATE case_file_entries SET linked_by = 'someone'`,
		`UPDATE case_file_entries SET unlinked_at = now(), unlinked_by = 'again'`,
	} {
		if _, err := e.pool.Exec(context.Background(), sql); err == nil || !strings.Contains(err.Error(), "a link of a register entry to a case file is never changed") {
			t.Errorf("%s: %v", sql, err)
		}
	}
}

// TestDossierConcurrentLink: clerks filing the same document at once get
// one inclusion; the others are told it is there already.
func TestDossierConcurrentLink(t *testing.T) {
	e := newEnv(t)
	ctx := clerk()
	docs := documents.NewStore(e.pool, documents.Config{})
	e.store.UseDocuments(docs)
	prop := e.someEntry(t, "municipal_property")
	d, err := docs.Create(ctx, documents.NewDocument{Name: "Скица", File: &documents.Upload{FileName: "s.pdf", Content: bytes.NewReader(pdf("s"))}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := e.store.LinkToDossier(ctx, prop, d.ID)
			errs <- err
		}()
	}
	ok, conflicts := 0, 0
	for range n {
		switch err := <-errs; munigis.ErrorCode(err) {
		case munigis.Conflict:
			conflicts++
		default:
			if err != nil {
				t.Errorf("LinkToDossier: %v", err)
			} else {
				ok++
			}
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Errorf("%d linked, %d conflicts; want 1 and %d", ok, conflicts, n-1)
	}
	if c := count(t, e.pool, `SELECT count(*) FROM entry_documents WHERE entry_id = $1`, prop); c != 1 {
		t.Errorf("%d rows, want 1", c)
	}
}

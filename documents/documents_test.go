package documents_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"munigis"
	"munigis/documents"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestContentStoredOnceAndVersioned(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := clerk()
	body := pdf("Заявление за виза")
	d := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Заявление за виза", TypeCode: "application",
		File: upload(`C:\Users\ivan\Desktop\заявление.pdf`, body), ReceivedVia: "гише"})
	if d.File == nil || d.File.SHA256 != sum(body) || d.File.Size != int64(len(body)) || d.File.MediaType != "application/pdf" ||
		d.File.FileName != "заявление.pdf" || d.ContentVersion != 1 {
		t.Fatalf("file %+v, content version %d", d.File, d.ContentVersion)
	}
	if d.CreatedBy != "U-000042" || d.Direction != documents.Incoming || d.ReceivedVia != "гише" || d.Version != 2 {
		// Version 2: the insert, then content_version set to 1.
		t.Errorf("document %+v", d)
	}
	// The same bytes in another document are stored once.
	d2 := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Копие", File: upload("copy.pdf", body)})
	if d2.File.SHA256 != d.File.SHA256 || d2.File.FileName != "copy.pdf" {
		t.Errorf("copy %+v", d2.File)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM files`); n != 1 {
		t.Errorf("%d files, want 1", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM files WHERE encode(sha256, 'hex') = $1 AND size = $2 AND content = $3`,
		sum(body), len(body), body); n != 1 {
		t.Errorf("stored content does not match")
	}

	// A second content version; the first stays readable.
	text := []byte("Поправено заявление\nс приложения\n")
	_, err := e.store.AddVersion(ctx, d.ID, d.Version-1, documents.Upload{FileName: "v2.txt", Content: bytes.NewReader(text)})
	wantErr(t, err, munigis.Conflict, "version: document", "версия: документ")
	v2, err := e.store.AddVersion(ctx, d.ID, d.Version, documents.Upload{FileName: "v2.txt", Content: bytes.NewReader(text)})
	if err != nil {
		t.Fatal(err)
	}
	if v2.ContentVersion != 2 || v2.File.MediaType != "text/plain; charset=utf-8" || v2.File.SHA256 != sum(text) {
		t.Errorf("after AddVersion: %d %+v", v2.ContentVersion, v2.File)
	}
	vs, err := e.store.Versions(ctx, d.ID)
	if err != nil || len(vs) != 2 || vs[0].N != 1 || vs[0].File.SHA256 != sum(body) || vs[1].N != 2 || vs[1].File.FileName != "v2.txt" || vs[1].CreatedBy != "U-000042" {
		t.Errorf("Versions = %+v, %v", vs, err)
	}
	fi, b, err := e.store.Content(ctx, d.ID, 1)
	if err != nil || !bytes.Equal(b, body) || fi.MediaType != "application/pdf" || fi.FileName != "заявление.pdf" {
		t.Errorf("Content(1) = %+v, %d bytes, %v", fi, len(b), err)
	}
	fi, b, err = e.store.Content(ctx, d.ID, 0)
	if err != nil || !bytes.Equal(b, text) || fi.SHA256 != sum(text) {
		t.Errorf("Content(0) = %+v, %q, %v", fi, b, err)
	}
	_, _, err = e.store.Content(ctx, d.ID, 3)
	wantErr(t, err, munigis.NotFound, fmt.Sprintf("document %d has no content version 3", d.ID), "няма версия 3")
	_, _, err = e.store.Content(ctx, 999999, 0)
	wantErr(t, err, munigis.NotFound, "document 999999 does not exist", "документ 999999 не съществува")
	empty := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Без файл", Direction: documents.Internal})
	if empty.File != nil || empty.ContentVersion != 0 {
		t.Errorf("document without content: %+v", empty)
	}
	_, _, err = e.store.Content(ctx, empty.ID, 0)
	wantErr(t, err, munigis.NotFound, "has no content yet", "още няма съдържание")
	if vs, err := e.store.Versions(ctx, empty.ID); err != nil || len(vs) != 0 {
		t.Errorf("Versions(empty) = %v, %v", vs, err)
	}
	_, err = e.store.Versions(ctx, 999999)
	wantErr(t, err, munigis.NotFound, "document 999999 does not exist", "не съществува")
	// A document row whose content does not hash to its key is refused.
	if _, err := e.pool.Exec(ctx, `INSERT INTO files (sha256, size, media_type, content) VALUES (sha256('a'), 1, 'text/plain', 'b')`); err == nil {
		t.Error("a file under a wrong sha256 was stored")
	}
}

// A refused file is refused before the database: no file, no document, no
// version, no audit row.
func TestUploadRefused(t *testing.T) {
	e := newEnv(t, documents.Config{MaxFileBytes: 4 << 10})
	ctx := clerk()
	elf := append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0}, bytes.Repeat([]byte{0}, 120)...)
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 120)...)
	html := []byte("<!DOCTYPE html><html><head><script>alert(1)</script></head><body>Заявление</body></html>")
	big := append(pdf("голям"), bytes.Repeat([]byte("x"), 4<<10)...)
	audit := func() int { return count(t, e.pool, `SELECT count(*) FROM audit_log`) }
	before := audit()
	cases := []struct {
		name     string
		b        []byte
		code     munigis.Code
		en, bg   string
		register bool
	}{
		{"program", elf, munigis.Invalid, "which is not accepted; accepted types: application/pdf, image/jpeg", "не се приема; приемат се: application/pdf", true},
		{"setup.pdf", exe, munigis.Invalid, "setup.pdf is of type application/vnd.microsoft.portable-executable, which is not accepted", "не се приема", false},
		{"page.txt", html, munigis.Invalid, "page.txt is of type text/html, which is not accepted", "е от вид text/html", true},
		{"scan.pdf", big, munigis.TooLarge, "scan.pdf is larger than the limit of 4 KiB", "по-голям от допустимите 4 KiB", true},
		{"empty.pdf", nil, munigis.Invalid, "empty.pdf is empty", "е празен", false},
	}
	for _, c := range cases {
		_, err := e.store.Create(ctx, documents.NewDocument{Name: "Заявление", TypeCode: "application", File: upload(c.name, c.b), Register: c.register})
		wantErr(t, err, c.code, "file: ", "файл: ")
		wantErr(t, err, c.code, c.en, c.bg)
	}
	for _, tbl := range []string{"files", "documents", "document_versions", "odr_entries", "odr_counters"} {
		if n := count(t, e.pool, `SELECT count(*) FROM `+tbl); n != 0 {
			t.Errorf("%s: %d rows after refused uploads", tbl, n)
		}
	}
	if n := audit(); n != before {
		t.Errorf("audit rows %d -> %d", before, n)
	}
	// A refused new version leaves the document as it was.
	d := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Заявление", File: upload("a.pdf", pdf("a"))})
	_, err := e.store.AddVersion(ctx, d.ID, d.Version, documents.Upload{FileName: "b.html", Content: bytes.NewReader(html)})
	wantErr(t, err, munigis.Invalid, "b.html is of type text/html", "text/html")
	got, _ := e.store.Get(ctx, d.ID)
	if got.Version != d.Version || got.ContentVersion != 1 || count(t, e.pool, `SELECT count(*) FROM files`) != 1 {
		t.Errorf("after a refused version: %+v", got)
	}
	// Types a tenant chose.
	only := documents.NewStore(e.pool, documents.Config{AllowedTypes: []string{"text/plain"}})
	_, err = only.Create(ctx, documents.NewDocument{Name: "PDF", File: upload("a.pdf", pdf("x"))})
	wantErr(t, err, munigis.Invalid, "a.pdf is of type application/pdf, which is not accepted; accepted types: text/plain", "приемат се: text/plain")
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := clerk()
	cases := []struct {
		nd     documents.NewDocument
		en, bg string
	}{
		{documents.NewDocument{Name: "   "}, "name: the name of the document is required", "наименование:"},
		{documents.NewDocument{Name: "A", Direction: "sideways"}, `direction: "sideways" is not one of`, "посока:"},
		{documents.NewDocument{Name: "A", TypeCode: "nope"}, `type: document type "nope" does not exist`, "вид:"},
		{documents.NewDocument{Name: "A", AuthorPersonID: ptr(int64(424242))}, "author_person_id: person 424242 does not exist", "автор:"},
		{documents.NewDocument{Name: "A", TypeCode: "application", Register: true, ReceivedOn: "2999-01-01"}, "received_on: 2999-01-01 is in the future", "в бъдещето"},
		{documents.NewDocument{Name: "A", File: &documents.Upload{FileName: "x"}}, "file: the content is required", "файл:"},
	}
	for _, c := range cases {
		_, err := e.store.Create(ctx, c.nd)
		wantErr(t, err, munigis.Invalid, c.en, c.bg)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM documents`); n != 0 {
		t.Errorf("%d documents after refusals", n)
	}
	_, err := e.store.Get(ctx, 12)
	wantErr(t, err, munigis.NotFound, "document 12 does not exist", "документ 12 не съществува")
}

func ptr[T any](v T) *T { return &v }

// Audit rows carry the actor; a metadata update keeps the old row in
// record_versions.
func TestAuditAndHistory(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := munigis.WithAddress(munigis.WithActor(context.Background(), "U-000007"), "203.0.113.9")
	d := mustCreate(t, e.store, ctx, documents.NewDocument{Name: "Докладна записка", TypeCode: "internal_note",
		Direction: documents.Internal, File: upload("n.txt", []byte("Текст на записката\n")), Register: true})
	if d.Registration.EnteredBy != "U-000007" || d.CreatedBy != "U-000007" {
		t.Errorf("entered by %q, created by %q", d.Registration.EnteredBy, d.CreatedBy)
	}
	for _, o := range []struct{ action, object string }{
		{"document.insert", fmt.Sprintf("document:%d", d.ID)},
		{"document.update", fmt.Sprintf("document:%d", d.ID)},
		{"document_version.insert", ""},
		{"odr_entry.insert", fmt.Sprintf("odr_entry:%d", d.Registration.ID)},
	} {
		sql := `SELECT count(*) FROM audit_log WHERE action = $1 AND actor = 'U-000007' AND address = '203.0.113.9'`
		args := []any{o.action}
		if o.object != "" {
			sql += ` AND object = $2`
			args = append(args, o.object)
		}
		if n := count(t, e.pool, sql, args...); n < 1 {
			t.Errorf("no audit row %s %s by U-000007", o.action, o.object)
		}
	}
	// The entry's audit row holds the number.
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE object = $1 AND after ->> 'number' = $2`,
		fmt.Sprintf("odr_entry:%d", d.Registration.ID), d.Registration.Number); n != 1 {
		t.Errorf("audit row of the entry without its number")
	}

	ctx2 := munigis.WithActor(context.Background(), "U-000009")
	u, err := e.store.Update(ctx2, d.ID, d.Version, documents.NewDocument{Name: "Докладна записка относно ремонт", TypeCode: "internal_note",
		Direction: documents.Internal, Signatory: "Кмет"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Докладна записка относно ремонт" || u.Version != d.Version+1 || u.UpdatedBy != "U-000009" || u.CreatedBy != "U-000007" ||
		u.Signatory != "Кмет" || u.File == nil || u.Registration == nil {
		t.Errorf("updated %+v", u)
	}
	var name, by string
	if err := e.pool.QueryRow(ctx, `SELECT data ->> 'name', replaced_by FROM record_versions
		WHERE tbl = 'documents' AND record_id = $1 AND version = $2`, d.ID, d.Version).Scan(&name, &by); err != nil {
		t.Fatalf("record_versions: %v", err)
	}
	if name != "Докладна записка" || by != "U-000009" {
		t.Errorf("record_versions: %q by %q", name, by)
	}
	_, err = e.store.Update(ctx2, d.ID, d.Version, documents.NewDocument{Name: "Стара версия", TypeCode: "internal_note"})
	wantErr(t, err, munigis.Conflict, "changed by U-000009", "променен от U-000009")
}

func TestTypes(t *testing.T) {
	e := newEnv(t, documents.Config{})
	ctx := clerk()
	ts, err := e.store.Types(ctx)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]documents.Type{}
	for _, ty := range ts {
		codes[ty.Code] = ty
	}
	for _, c := range []string{"application", "signal", "complaint", "incoming_letter", "reply", "outgoing_letter", "receipt_confirmation",
		"irregularity_notice", "sketch", "design_visa", "building_permit", "certificate", "order", "internal_note", "protocol", "contract"} {
		if _, ok := codes[c]; !ok {
			t.Errorf("built-in type %s missing", c)
		}
	}
	if a := codes["application"]; a.Name != "Заявление" || a.ProcessingMode != documents.Starts || a.CreatedBy != "system:migration" {
		t.Errorf("application %+v", a)
	}
	if p := codes["building_permit"]; p.ArchivalValue != documents.Archival || p.StorageSection != "не се класифицира" {
		t.Errorf("building_permit %+v", p)
	}
	tmpl := pdf("шаблон")
	nt, err := e.store.CreateType(ctx, documents.Type{Code: "demolition_order", Name: "Заповед за премахване", ProcessingMode: documents.Related,
		ArchivalValue: documents.Archival, URI: "https://troyan.bg/types/demolition_order", RetentionYears: 50}, upload("шаблон.pdf", tmpl))
	if err != nil {
		t.Fatal(err)
	}
	if nt.ID == 0 || nt.CreatedBy != "U-000042" || nt.Template == nil || nt.Template.SHA256 != sum(tmpl) || nt.Template.MediaType != "application/pdf" || nt.RetentionYears != 50 {
		t.Errorf("new type %+v %+v", nt, nt.Template)
	}
	got, err := e.store.Type(ctx, "demolition_order")
	if err != nil || got.Name != "Заповед за премахване" || got.URI != "https://troyan.bg/types/demolition_order" {
		t.Errorf("Type = %+v, %v", got, err)
	}
	_, err = e.store.CreateType(ctx, documents.Type{Code: "demolition_order", Name: "Друго", ProcessingMode: documents.Related, ArchivalValue: documents.Archival}, nil)
	wantErr(t, err, munigis.Conflict, "code: document type demolition_order already exists (Заповед за премахване)", "вече съществува")
	for _, c := range []struct {
		ty     documents.Type
		en, bg string
	}{
		{documents.Type{Code: "Bad", Name: "x", ProcessingMode: "starts", ArchivalValue: "archival"}, "code:", "код:"},
		{documents.Type{Code: "ok", Name: " ", ProcessingMode: "starts", ArchivalValue: "archival"}, "name:", "наименование:"},
		{documents.Type{Code: "ok", Name: "x", ProcessingMode: "begins", ArchivalValue: "archival"}, "processing_mode:", "начин на обработка:"},
		{documents.Type{Code: "ok", Name: "x", ProcessingMode: "starts", ArchivalValue: "forever"}, "archival_value:", "архивна стойност:"},
		{documents.Type{Code: "ok", Name: "x", ProcessingMode: "starts", ArchivalValue: "archival", URI: "not a uri"}, "uri:", "URI:"},
	} {
		_, err := e.store.CreateType(ctx, c.ty, nil)
		wantErr(t, err, munigis.Invalid, c.en, c.bg)
	}
	_, err = e.store.Type(ctx, "nope")
	wantErr(t, err, munigis.NotFound, `document type "nope" does not exist`, "не съществува")
	if n := count(t, e.pool, `SELECT count(*) FROM audit_log WHERE action = 'document_type.insert' AND actor = 'U-000042'`); n != 1 {
		t.Errorf("%d audit rows of the new type", n)
	}
}

package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"munigis"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/web"
)

// dossierFixture is newCaseFixture with the dossier routes, a published
// register "tree_permits" whose file field "order" is public and "opinion"
// internal, an unpublished "tree_drafts" with a public file field, and one
// entry of each holding uploaded PDFs.
type dossierFixture struct {
	caseFixture
	order, opinion     []byte
	orderID, opinionID int64
	permit, draft      string // entry paths
}

func newDossierFixture(t *testing.T) dossierFixture {
	t.Helper()
	f := dossierFixture{caseFixture: newCaseFixture(t, web.Config{})}
	for _, reg := range []struct {
		name      string
		published bool
	}{{"tree_permits", true}, {"tree_drafts", false}} {
		f.mustJSON(t, "POST", "/api/register-types", f.token, `{"name":"`+reg.name+`","title_bg":"Разрешения за сеч","title_en":"Tree felling permits",
		  "published":`+strconv.FormatBool(reg.published)+`,"fields":[
		  {"name":"order","type":"file","title_bg":"Заповед","title_en":"Order","public":true},
		  {"name":"opinion","type":"file","title_bg":"Становище","title_en":"Opinion"},
		  {"name":"note","type":"text","title_bg":"Бележка","title_en":"Note","public":true}]}`, 201)
	}
	f.order, f.opinion = pdf("заповед за сеч 17"), pdf("становище на еколога")
	f.orderID = f.uploadDoc(t, "Заповед № 17 за сеч", "zapoved-17.pdf", f.order)
	f.opinionID = f.uploadDoc(t, "Становище на еколога", "stanovishte.pdf", f.opinion)
	body := `{"number":"С-17","date":"2026-03-02","data":{"order":` + strconv.FormatInt(f.orderID, 10) +
		`,"opinion":` + strconv.FormatInt(f.opinionID, 10) + `,"note":"орех в двора"}}`
	f.permit = f.entryPath(t, "tree_permits", body)
	f.draft = f.entryPath(t, "tree_drafts", body)
	return f
}

// uploadDoc uploads a document through /api/documents and returns its id.
func (f caseFixture) uploadDoc(t *testing.T, name, fileName string, content []byte) int64 {
	t.Helper()
	rec := f.upload(t, f.clerk, `{"name":"`+name+`"}`, fileName, content)
	if rec.Code != 201 {
		t.Fatalf("upload %s: %d %s", name, rec.Code, rec.Body)
	}
	var d docOut
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// entryPath creates an entry as the clerk and returns its path.
func (f caseFixture) entryPath(t *testing.T, register, body string) string {
	t.Helper()
	out := f.mustJSON(t, "POST", "/api/registers/"+register+"/entries", f.clerk, body, 201)
	var e struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	return "/api/registers/" + register + "/entries/" + strconv.FormatInt(e.ID, 10)
}

type entryFiles struct {
	Data  map[string]any `json:"data"`
	Files map[string]struct {
		DocumentID int64  `json:"document_id"`
		Name       string `json:"name"`
		FileName   string `json:"file_name"`
		Size       int64  `json:"size"`
		Href       string `json:"href"`
	} `json:"files"`
	Dossier   *[]json.RawMessage `json:"dossier"`
	CaseFiles *[]struct {
		Number string `json:"number"`
		Status string `json:"status"`
	} `json:"case_files"`
}

func decodeEntry(t *testing.T, body string) entryFiles {
	t.Helper()
	var e entryFiles
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return e
}

// TestFileFieldPublic: the public sees a public file field's name and size
// and downloads it from a published register; a non-public field, any
// field of an unpublished register and every dossier route answer 404.
func TestFileFieldPublic(t *testing.T) {
	f := newDossierFixture(t)

	code, body := f.do(t, "GET", f.permit, "", "")
	if code != 200 {
		t.Fatalf("public GET entry = %d %s", code, body)
	}
	e := decodeEntry(t, body)
	order, ok := e.Files["order"]
	if !ok || order.FileName != "zapoved-17.pdf" || order.Size != int64(len(f.order)) || order.Href != f.permit+"/files/order" {
		t.Errorf("public files = %+v", e.Files)
	}
	if order.DocumentID != 0 || order.Name != "" {
		t.Errorf("the public sees the document: %+v", order)
	}
	if _, ok := e.Files["opinion"]; ok {
		t.Errorf("the public sees the internal file field: %s", body)
	}
	if _, ok := e.Data["order"]; ok || e.Dossier != nil || e.CaseFiles != nil {
		t.Errorf("the public sees a document id, the dossier or the case files: %s", body)
	}
	if strings.Contains(body, "stanovishte") || strings.Contains(body, "Становище на еколога") {
		t.Errorf("the internal file's name leaks: %s", body)
	}

	rec := f.send(t, "GET", f.permit+"/files/order", "", "", nil)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), f.order) {
		t.Fatalf("public download = %d %q", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment") ||
		rec.Header().Get("ETag") == "" {
		t.Errorf("download headers %v", rec.Header())
	}

	for _, path := range []string{
		f.permit + "/files/opinion", // not public
		f.permit + "/files/note",    // not a file field
		f.draft + "/files/order",    // register not published
		f.permit + "/documents",     // dossier: staff only
		f.permit + "/documents/" + strconv.FormatInt(f.orderID, 10) + "/content",
		f.permit + "/case-files",
	} {
		if rec := f.send(t, "GET", path, "", "", nil); rec.Code != 404 {
			t.Errorf("public GET %s = %d, want 404: %s", path, rec.Code, rec.Body)
		}
	}
	// Staff who may read the register download the internal field.
	rec = f.send(t, "GET", f.draft+"/files/opinion", f.inspector, "", nil)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), f.opinion) {
		t.Errorf("staff download of an internal field = %d", rec.Code)
	}
	// Staff see the document behind the field.
	e = decodeEntry(t, f.mustJSON(t, "GET", f.permit, f.inspector, "", 200))
	if got := e.Files["opinion"]; got.DocumentID != f.opinionID || got.Name != "Становище на еколога" {
		t.Errorf("staff files = %+v", e.Files)
	}
	// A missing document is refused naming the field, and nothing is saved.
	code, body = f.do(t, "POST", "/api/registers/tree_permits/entries", f.clerk, `{"number":"С-18","date":"2026-03-02","data":{"order":999999}}`)
	if code != 400 || !strings.Contains(body, "order") {
		t.Errorf("entry with a missing document = %d %s", code, body)
	}
	if n := f.count(t, "register_entries"); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}

	// Exports: staff get the document id and name, the public the file.
	code, body = f.do(t, "GET", "/api/registers/tree_permits/entries?format=csv", f.inspector, "")
	want := strconv.FormatInt(f.orderID, 10) + ": Заповед № 17 за сеч (zapoved-17.pdf)"
	if code != 200 || !strings.Contains(body, want) || !strings.Contains(body, "stanovishte.pdf") {
		t.Errorf("staff CSV = %d, want %q in %s", code, want, body)
	}
	code, body = f.do(t, "GET", "/api/registers/tree_permits/entries?format=csv", "", "")
	if code != 200 || !strings.Contains(body, "zapoved-17.pdf ("+strconv.Itoa(len(f.order))+" B)") || strings.Contains(body, "stanovishte") {
		t.Errorf("public CSV = %d %s", code, body)
	}
	// The public page shows the same.
	code, body = f.do(t, "GET", "/registers?r=tree_permits", "", "")
	if code != 200 || !strings.Contains(body, "zapoved-17.pdf ("+strconv.Itoa(len(f.order))+" B)") || strings.Contains(body, "stanovishte") {
		t.Errorf("public page = %d %s", code, body)
	}
}

// TestDossierRoundTrip: staff upload into an entry's dossier and download
// it again; a refused file keeps nothing; an existing document is linked;
// removal needs a reason; a case file is linked by number and shows on the
// entry.
func TestDossierRoundTrip(t *testing.T) {
	f := newDossierFixture(t)
	act := pdf("акт за общинска собственост 1234")
	ct, body := multipartBody(t, part{name: "metadata", contentType: "application/json", body: []byte(`{"name":"Акт № 1234","type":"t_reply"}`)},
		part{name: "file", fileName: "акт-1234.pdf", body: act})
	rec := f.send(t, "POST", f.permit+"/documents", f.clerk, ct, body)
	if rec.Code != 201 {
		t.Fatalf("upload to dossier = %d %s", rec.Code, rec.Body)
	}
	var added struct {
		DocumentID int64  `json:"document_id"`
		AddedBy    string `json:"added_by"`
		File       struct {
			SHA256 string `json:"sha256"`
		} `json:"file"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &added); err != nil {
		t.Fatal(err)
	}
	if added.AddedBy != f.clerkID || added.File.SHA256 == "" {
		t.Errorf("added = %s", rec.Body)
	}
	content := f.permit + "/documents/" + strconv.FormatInt(added.DocumentID, 10) + "/content"
	rec = f.send(t, "GET", content, f.inspector, "", nil)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), act) || rec.Header().Get("ETag") != `"`+added.File.SHA256+`"` ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "filename*=UTF-8''%D0%B0%D0%BA%D1%82-1234.pdf") {
		t.Fatalf("download = %d %v", rec.Code, rec.Header())
	}
	// The same file in the other register's entry is not served through
	// this one's dossier.
	if rec := f.send(t, "GET", f.draft+"/documents/"+strconv.FormatInt(added.DocumentID, 10)+"/content", f.inspector, "", nil); rec.Code != 404 {
		t.Errorf("another entry's dossier serves it: %d", rec.Code)
	}
	// Read-only staff may not add.
	ct, body = multipartBody(t, part{name: "metadata", body: []byte(`{"name":"Х"}`)}, part{name: "file", fileName: "x.pdf", body: pdf("x")})
	if rec := f.send(t, "POST", f.permit+"/documents", f.inspector, ct, body); rec.Code != 403 {
		t.Errorf("inspector upload = %d", rec.Code)
	}

	// A file type not accepted: 415, nothing kept.
	docs, links := f.count(t, "documents"), f.count(t, "entry_documents")
	ct, body = multipartBody(t, part{name: "metadata", body: []byte(`{"name":"Страница"}`)},
		part{name: "file", fileName: "page.html", body: []byte("<html><body><script>alert(1)</script></body></html>")})
	if rec := f.send(t, "POST", f.permit+"/documents", f.clerk, ct, body); rec.Code != 415 {
		t.Errorf("HTML upload = %d %s", rec.Code, rec.Body)
	}
	if f.count(t, "documents") != docs || f.count(t, "entry_documents") != links {
		t.Errorf("a refused upload left a document or a link")
	}

	// An existing document by id; twice is a conflict.
	orderID := strconv.FormatInt(f.orderID, 10)
	f.mustJSON(t, "POST", f.permit+"/documents", f.clerk, `{"document_id":`+orderID+`}`, 201)
	f.mustJSON(t, "POST", f.permit+"/documents", f.clerk, `{"document_id":`+orderID+`}`, 409)
	var list struct {
		Documents []struct {
			DocumentID int64 `json:"document_id"`
		} `json:"documents"`
	}
	if err := json.Unmarshal([]byte(f.mustJSON(t, "GET", f.permit+"/documents", f.inspector, "", 200)), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Documents) != 2 || list.Documents[0].DocumentID != added.DocumentID || list.Documents[1].DocumentID != f.orderID {
		t.Errorf("dossier = %+v", list)
	}

	// Removal needs a reason; afterwards the content is not served here.
	f.mustJSON(t, "DELETE", f.permit+"/documents/"+strconv.FormatInt(added.DocumentID, 10), f.clerk, "", 400)
	f.mustJSON(t, "DELETE", f.permit+"/documents/"+strconv.FormatInt(added.DocumentID, 10)+"?reason=%D0%B3%D1%80%D0%B5%D1%88%D0%BA%D0%B0", f.clerk, "", 200)
	if rec := f.send(t, "GET", content, f.inspector, "", nil); rec.Code != 404 {
		t.Errorf("removed document still served: %d", rec.Code)
	}

	// A case file, by its number.
	opened, err := f.cases.Open(munigis.WithActor(context.Background(), f.clerkID), casefiles.Opening{Name: "Сеч на орех",
		Document: &documents.NewDocument{Name: "Заявление за сеч", TypeCode: "t_application"}})
	if err != nil {
		t.Fatalf("open case: %v", err)
	}
	number := opened.CaseFile.Number
	f.mustJSON(t, "POST", f.permit+"/case-files", f.clerk, `{"number":"`+number+`"}`, 201)
	f.mustJSON(t, "POST", f.permit+"/case-files", f.clerk, `{"number":"1000-999-01.01.2020"}`, 400)
	e := decodeEntry(t, f.mustJSON(t, "GET", f.permit, f.inspector, "", 200))
	if e.CaseFiles == nil || len(*e.CaseFiles) != 1 || (*e.CaseFiles)[0].Number != number || (*e.CaseFiles)[0].Status != "open" {
		t.Errorf("entry case_files = %+v", e.CaseFiles)
	}
	if e.Dossier == nil || len(*e.Dossier) != 1 {
		t.Errorf("entry dossier = %+v", e.Dossier)
	}
	f.mustJSON(t, "DELETE", f.permit+"/case-files?number="+number, f.clerk, "", 200)
	e = decodeEntry(t, f.mustJSON(t, "GET", f.permit, f.inspector, "", 200))
	if e.CaseFiles == nil || len(*e.CaseFiles) != 0 {
		t.Errorf("after unlink, case_files = %+v", e.CaseFiles)
	}
}

package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"munigis"
	"munigis/access"
	"munigis/accounts"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/layers"
	"munigis/registers"
	"munigis/web"
)

// caseFixture is newFixture's database and accounts served with the
// documents and case-file stores, plus:
//   - the official document register set up (index 1000, Община Троян);
//   - document types "t_application" (starts) and "t_reply" (continues), and
//     a service "T-100" with two stages (the migration seeds the real ones);
//   - users with their roles' default grants (migration 000011): clerk
//     (every cases grant), planner (case_files and odr, not
//     official_section), inspector (reads case files only).
type caseFixture struct {
	fixture
	docs                       *documents.Store
	cases                      *casefiles.Store
	clerk, planner, inspector  string // API tokens
	maxFile                    int64
	clerkID, plannerID, inspID string // system ids
}

// A small file limit keeps the 413 test quick.
const testMaxFile = 64 << 10

func newCaseFixture(t *testing.T, cfg web.Config) caseFixture {
	t.Helper()
	base := newFixture(t)
	ctx := munigis.WithActor(context.Background(), "test")
	pool := base.pool.Pool
	docs := documents.NewStore(pool, documents.Config{MaxFileBytes: testMaxFile})
	cases := casefiles.NewStore(pool, docs, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Version = "test"
	if cfg.TrackFloor == 0 {
		cfg.TrackFloor = 20 * time.Millisecond
	}
	if cfg.TrackPerMinute == 0 {
		cfg.TrackPerMinute, cfg.TrackBurst = 6000, 1000
	}
	regs := registers.NewStore(pool)
	srv := web.New(cfg, web.Deps{Layers: layers.NewStore(pool), DB: pool, Log: log, Accounts: base.store,
		Registers: regs, Documents: docs, Cases: cases})
	f := caseFixture{fixture: base, docs: docs, cases: cases, maxFile: testMaxFile}
	f.srv, f.h = srv, srv.Handler()

	user := func(name string, role access.Role) (string, string) {
		t.Helper()
		if _, err := base.store.CreateUser(ctx, accounts.NewUser{Username: name, FirstName: "Тест", Surname: "Служител",
			Role: role, AdminBody: "Община Троян", JobTitle: "служител", Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		u, err := base.store.User(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		raw, _, err := base.store.CreateToken(ctx, name, "test")
		if err != nil {
			t.Fatal(err)
		}
		return raw, u.SystemID
	}
	f.clerk, f.clerkID = user("clerk7", access.Clerk)
	f.planner, f.plannerID = user("planner7", access.Planner)
	f.inspector, f.inspID = user("inspector7", access.Inspector)

	f.mustJSON(t, "PUT", "/api/odr", f.token, `{"index":"1000","administration":"Община Троян","status":"active"}`, 200)
	f.mustJSON(t, "POST", "/api/document-types", f.clerk,
		`{"code":"t_application","name":"Заявление","processing_mode":"starts","archival_value":"archival"}`, 201)
	f.mustJSON(t, "POST", "/api/document-types", f.clerk,
		`{"code":"t_reply","name":"Отговор","processing_mode":"continues","archival_value":"archival"}`, 201)
	f.mustJSON(t, "POST", "/api/services", f.clerk, `{"code":"T-100","name":"Издаване на скица на поземлен имот",
	  "description":"Скица от кадастралната карта","statutory_days":14,"internal_days":7,"day_kind":"working",
	  "stages":[{"ordinal":1,"name":"Проверка на документите","executor":"Дирекция УТ","days":3},
	            {"ordinal":2,"name":"Изготвяне на скицата","executor":"Главен архитект","days":4}]}`, 201)
	return f
}

// mustJSON makes a JSON request and fails unless it answers want.
func (f caseFixture) mustJSON(t *testing.T, method, path, auth, body string, want int) string {
	t.Helper()
	code, out := f.do(t, method, path, auth, body)
	if code != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, code, want, out)
	}
	return out
}

// part is one part of a multipart body.
type part struct {
	name, fileName, contentType string
	body                        []byte
}

// multipartBody builds multipart/form-data from parts, in order.
func multipartBody(t *testing.T, parts ...part) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.fileName != "" {
			cd += fmt.Sprintf(`; filename=%q`, p.fileName)
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(p.body)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

// send makes a request with any body and returns the recorder.
func (f caseFixture) send(t *testing.T, method, path, auth, contentType string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// upload sends POST /api/documents as multipart: metadata, then the file.
func (f caseFixture) upload(t *testing.T, auth, meta, fileName string, content []byte) *httptest.ResponseRecorder {
	t.Helper()
	ct, body := multipartBody(t, part{name: "metadata", contentType: "application/json", body: []byte(meta)},
		part{name: "file", fileName: fileName, contentType: "application/octet-stream", body: content})
	return f.send(t, "POST", "/api/documents", auth, ct, body)
}

// count counts the rows of a table.
func (f caseFixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := f.pool.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pdf is a small PDF as the store's sniffer recognises one.
func pdf(text string) []byte {
	return []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% " + text + "\ntrailer<</Root 1 0 R>>\n%%EOF\n")
}

type docOut struct {
	ID             int64                      `json:"id"`
	Name           string                     `json:"name"`
	Version        int                        `json:"version"`
	ContentVersion int                        `json:"content_version"`
	File           *documents.FileInfo        `json:"file"`
	Registration   *documents.Registration    `json:"registration"`
	Versions       []documents.ContentVersion `json:"versions"`
}

func TestDocumentUploadRoundTrip(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	content := pdf("първа версия")
	rec := f.upload(t, f.clerk, `{"name":"Скица на имот","type":"t_application","direction":"incoming","received_via":"counter"}`,
		"Скица 68134.100.5.pdf", content)
	if rec.Code != 201 {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	d := decodeJSON[docOut](t, rec.Body.String())
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	if d.File == nil || d.File.SHA256 != want || d.File.Size != int64(len(content)) || !strings.HasPrefix(d.File.MediaType, "application/pdf") {
		t.Fatalf("stored file: %+v, want sha256 %s, %d bytes, application/pdf", d.File, want, len(content))
	}
	if got := rec.Header().Get("Location"); got != fmt.Sprintf("/api/documents/%d", d.ID) {
		t.Errorf("Location = %q", got)
	}

	path := fmt.Sprintf("/api/documents/%d/content", d.ID)
	got := f.send(t, "GET", path, f.inspector, "", nil)
	if got.Code != 200 || !bytes.Equal(got.Body.Bytes(), content) {
		t.Fatalf("content: %d, %d bytes (want %d)", got.Code, got.Body.Len(), len(content))
	}
	h := got.Header()
	if h.Get("ETag") != `"`+want+`"` || !strings.HasPrefix(h.Get("Content-Type"), "application/pdf") ||
		h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("content headers: %v", h)
	}
	if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") ||
		!strings.Contains(cd, "filename*=UTF-8''%D0%A1%D0%BA%D0%B8%D1%86%D0%B0%2068134.100.5.pdf") {
		t.Errorf("Content-Disposition = %q", cd)
	}
	// A client that has it already gets 304.
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+f.inspector)
	req.Header.Set("If-None-Match", `"`+want+`"`)
	rr := httptest.NewRecorder()
	f.h.ServeHTTP(rr, req)
	if rr.Code != http.StatusNotModified || rr.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d, %d bytes", rr.Code, rr.Body.Len())
	}

	// A new content version; the first stays readable.
	second := pdf("втора версия")
	ct, body := multipartBody(t, part{name: "version", body: []byte(fmt.Sprint(d.Version))},
		part{name: "file", fileName: "скица-2.pdf", body: second})
	if rec := f.send(t, "POST", fmt.Sprintf("/api/documents/%d/versions", d.ID), f.clerk, ct, body); rec.Code != 201 {
		t.Fatalf("new version: %d %s", rec.Code, rec.Body)
	} else if d2 := decodeJSON[docOut](t, rec.Body.String()); d2.ContentVersion != 2 || len(d2.Versions) != 2 {
		t.Errorf("after a new version: content_version %d, %d versions", d2.ContentVersion, len(d2.Versions))
	}
	if got := f.send(t, "GET", path, f.clerk, "", nil); !bytes.Equal(got.Body.Bytes(), second) {
		t.Errorf("current content is not the second version")
	}
	if got := f.send(t, "GET", path+"?version=1", f.clerk, "", nil); !bytes.Equal(got.Body.Bytes(), content) {
		t.Errorf("?version=1 is not the first version: %d", got.Code)
	}
	// A stale version is a conflict and keeps nothing.
	ct, body = multipartBody(t, part{name: "version", body: []byte(fmt.Sprint(d.Version))},
		part{name: "file", fileName: "скица-3.pdf", body: pdf("трета")})
	if rec := f.send(t, "POST", fmt.Sprintf("/api/documents/%d/versions", d.ID), f.clerk, ct, body); rec.Code != 409 {
		t.Errorf("stale version: %d %s", rec.Code, rec.Body)
	}

	// The document as JSON, then registered (Art. 28).
	if code, body := f.do(t, "GET", fmt.Sprintf("/api/documents/%d", d.ID), f.inspector, ""); code != 200 || !strings.Contains(body, "Скица на имот") {
		t.Errorf("GET document: %d %s", code, body)
	}
	if code, body := f.do(t, "POST", fmt.Sprintf("/api/documents/%d/registration", d.ID), f.inspector, `{"type":"t_application"}`); code != 403 {
		t.Errorf("inspector registers: %d %s", code, body)
	}
	out := f.mustJSON(t, "POST", fmt.Sprintf("/api/documents/%d/registration", d.ID), f.planner, `{"type":"t_application"}`, 201)
	reg := decodeJSON[documents.Registration](t, out)
	if !strings.HasPrefix(reg.Number, "1000-") || reg.DocumentID != d.ID {
		t.Errorf("registration: %+v", reg)
	}
}

func TestDocumentUploadRefusedKeepsNothing(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	docs, files := f.count(t, "documents"), f.count(t, "files")
	meta := `{"name":"Голям файл","type":"t_application"}`

	// Over the store's limit: 413 naming the limit.
	big := append(pdf("голям"), bytes.Repeat([]byte("x"), testMaxFile)...)
	rec := f.upload(t, f.clerk, meta, "big.pdf", big)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "64 KiB") && !strings.Contains(rec.Body.String(), "65536") {
		t.Errorf("over the limit: %d %s", rec.Code, rec.Body)
	}
	// Far over it: the body limit (file limit + 1 MiB) stops the request.
	huge := append(pdf("огромен"), bytes.Repeat([]byte("x"), 2<<20)...)
	rec = f.upload(t, f.clerk, meta, "huge.pdf", huge)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("over the body limit: %d %s", rec.Code, rec.Body)
	}

	// A type not accepted (an HTML page, a Windows executable): 415 with
	// the reason, whatever name and Content-Type the client claims.
	for name, content := range map[string][]byte{
		"page.pdf": []byte("<!doctype html><html><body><script>alert(1)</script></body></html>"),
		"tool.pdf": append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...),
	} {
		rec := f.upload(t, f.clerk, meta, name, content)
		if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "not accepted") ||
			!strings.Contains(rec.Body.String(), "message_bg") {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if d, fl := f.count(t, "documents"), f.count(t, "files"); d != docs || fl != files {
		t.Errorf("refused uploads kept something: documents %d → %d, files %d → %d", docs, d, files, fl)
	}
	// Metadata must come first, and an inspector may not upload.
	ct, body := multipartBody(t, part{name: "file", fileName: "a.pdf", body: pdf("a")}, part{name: "metadata", body: []byte(meta)})
	if rec := f.send(t, "POST", "/api/documents", f.clerk, ct, body); rec.Code != 400 || !strings.Contains(rec.Body.String(), "metadata") {
		t.Errorf("file before metadata: %d %s", rec.Code, rec.Body)
	}
	if rec := f.upload(t, f.inspector, meta, "a.pdf", pdf("a")); rec.Code != 403 {
		t.Errorf("inspector uploads: %d %s", rec.Code, rec.Body)
	}
	if rec := f.upload(t, "", meta, "a.pdf", pdf("a")); rec.Code != 401 {
		t.Errorf("the public uploads: %d %s", rec.Code, rec.Body)
	}
	if d := f.count(t, "documents"); d != docs {
		t.Errorf("refused uploads kept a document: %d → %d", docs, d)
	}
}

type entriesOut struct {
	Entries       []documents.Registration `json:"entries"`
	NumberMatched int64                    `json:"numberMatched"`
	Links         []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	} `json:"links"`
}

func TestODRAPI(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	var numbers []string
	for i := range 3 {
		out := f.mustJSON(t, "POST", "/api/documents", f.planner,
			fmt.Sprintf(`{"name":"Писмо %d","type":"t_application","register":true,"received_via":"post"}`, i+1), 201)
		d := decodeJSON[docOut](t, out)
		if d.Registration == nil {
			t.Fatalf("registered document without registration: %s", out)
		}
		numbers = append(numbers, d.Registration.Number)
	}
	// Registering needs the register's grant even when creating is allowed.
	if code, body := f.do(t, "POST", "/api/documents", f.inspector, `{"name":"x","type":"t_application","register":true}`); code != 403 {
		t.Errorf("inspector registers: %d %s", code, body)
	}

	out := f.mustJSON(t, "GET", "/api/odr", f.inspector, "", 200)
	if !strings.Contains(out, "Официален документен регистър на Община Троян") {
		t.Errorf("ODR settings: %s", out)
	}
	if code, body := f.do(t, "PUT", "/api/odr", f.clerk, `{"index":"2000","administration":"Община Троян","status":"active"}`); code != 403 {
		t.Errorf("a clerk changes the ODR settings: %d %s", code, body)
	}

	page := decodeJSON[entriesOut](t, f.mustJSON(t, "GET", "/api/odr/entries?limit=2", f.inspector, "", 200))
	if page.NumberMatched != 3 || len(page.Entries) != 2 {
		t.Fatalf("page: %d matched, %d returned", page.NumberMatched, len(page.Entries))
	}
	next := ""
	for _, l := range page.Links {
		if l.Rel == "next" {
			next = l.Href
		}
	}
	if next == "" {
		t.Fatalf("no next link: %+v", page.Links)
	}
	if p2 := decodeJSON[entriesOut](t, f.mustJSON(t, "GET", next, f.inspector, "", 200)); len(p2.Entries) != 1 {
		t.Errorf("second page: %d entries", len(p2.Entries))
	}
	if code, body := f.do(t, "GET", "/api/odr/entries?from=2026-13-01", f.inspector, ""); code != 400 || !strings.Contains(body, "from") {
		t.Errorf("bad from: %d %s", code, body)
	}

	e := decodeJSON[documents.Registration](t, f.mustJSON(t, "GET", "/api/odr/entries/"+numbers[1], f.inspector, "", 200))
	if e.Number != numbers[1] || e.DocumentName != "Писмо 2" {
		t.Errorf("entry: %+v", e)
	}

	// A visible correction (Art. 29); the number stays.
	corr := `{"field":"type","new_value":"t_reply","reason":"грешно избран вид"}`
	if code, body := f.do(t, "POST", fmt.Sprintf("/api/odr/entries/%d/corrections", e.ID), f.inspector, corr); code != 403 {
		t.Errorf("inspector corrects: %d %s", code, body)
	}
	f.mustJSON(t, "POST", fmt.Sprintf("/api/odr/entries/%d/corrections", e.ID), f.planner, corr, 201)
	e2 := decodeJSON[documents.Registration](t, f.mustJSON(t, "GET", "/api/odr/entries/"+numbers[1], f.inspector, "", 200))
	if e2.Number != numbers[1] || len(e2.Corrections) != 1 || e2.Corrections[0].Reason != "грешно избран вид" {
		t.Errorf("after correction: %+v", e2)
	}

	year := time.Now().In(time.FixedZone("EET", 2*3600)).Year()
	c := decodeJSON[documents.Completeness](t, f.mustJSON(t, "GET", fmt.Sprintf("/api/odr/check?year=%d", year), f.inspector, "", 200))
	if !c.Complete || c.Count != 3 || len(c.Corrections) != 1 {
		t.Errorf("check: %+v", c)
	}

	rec := f.send(t, "GET", "/api/odr/entries?format=csv", f.inspector, "", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", rec.Code, rec.Body)
	}
	rows := readCSV(t, rec.Body.Bytes())
	if len(rows) != 4 || rows[0][0] != "Регистрационен номер" {
		t.Errorf("csv rows: %v", rows)
	}
	for _, n := range numbers {
		if !strings.Contains(rec.Body.String(), n) {
			t.Errorf("csv lacks %s", n)
		}
	}

	// The public: 401 on the lists, 404 on an entry whether it exists or not.
	for _, p := range []string{"/api/odr", "/api/odr/entries", "/api/odr/check", "/api/document-types"} {
		if code, body := f.do(t, "GET", p, "", ""); code != 401 {
			t.Errorf("public GET %s: %d %s", p, code, body)
		}
	}
	_, real := f.do(t, "GET", "/api/odr/entries/"+numbers[0], "", "")
	code, missing := f.do(t, "GET", "/api/odr/entries/1000-999-01.01.2020", "", "")
	if code != 404 || strings.Contains(real, "Писмо") || strings.ReplaceAll(real, numbers[0], "N") != strings.ReplaceAll(missing, "1000-999-01.01.2020", "N") {
		t.Errorf("public entry: %s vs %s", real, missing)
	}
}

func TestNomenclaturesAPI(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	// A document type with a template, as multipart (Art. 52(1) p. 5).
	tpl := pdf("образец")
	ct, body := multipartBody(t, part{name: "metadata", body: []byte(`{"code":"t_permit","name":"Тестово разрешение",
	  "processing_mode":"continues","archival_value":"archival"}`)}, part{name: "template", fileName: "образец.pdf", body: tpl})
	rec := f.send(t, "POST", "/api/document-types", f.clerk, ct, body)
	if rec.Code != 201 {
		t.Fatalf("type with template: %d %s", rec.Code, rec.Body)
	}
	sum := sha256.Sum256(tpl)
	if typ := decodeJSON[documents.Type](t, rec.Body.String()); typ.Template == nil || typ.Template.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("type's template: %s", rec.Body)
	}
	if list := f.mustJSON(t, "GET", "/api/document-types", f.inspector, "", 200); !strings.Contains(list, "t_permit") {
		t.Errorf("types: %s", list)
	}
	if code, body := f.do(t, "POST", "/api/document-types", f.planner, `{"code":"t_x","name":"x","processing_mode":"starts","archival_value":"archival"}`); code != 403 {
		t.Errorf("planner adds a type: %d %s", code, body)
	}
	// Services are published (Art. 58): the public reads them; only the
	// nomenclatures grant adds one.
	if code, body := f.do(t, "GET", "/api/services", "", ""); code != 200 || !strings.Contains(body, "T-100") {
		t.Errorf("public services: %d %s", code, body)
	}
	sv := decodeJSON[casefiles.Service](t, f.mustJSON(t, "GET", "/api/services/T-100", "", "", 200))
	if len(sv.Stages) != 2 || sv.Stages[0].Name != "Проверка на документите" {
		t.Errorf("service: %+v", sv)
	}
	if code, body := f.do(t, "POST", "/api/services", f.planner, `{"code":"T-2","name":"x","day_kind":"working"}`); code != 403 {
		t.Errorf("planner adds a service: %d %s", code, body)
	}
	if code, body := f.do(t, "POST", "/api/services", f.clerk, `{"code":"T-3","name":"x","day_kind":"working","statutory_days":5,"internal_days":9}`); code != 400 || !strings.Contains(body, "internal_days") {
		t.Errorf("internal deadline longer than the statutory one: %d %s", code, body)
	}
}

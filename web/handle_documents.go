package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"munigis"
	"munigis/access"
	"munigis/audit"
	"munigis/documents"
)

// Documents, the nomenclature of document types and the official document
// register (issue 7; Art. 19–31 and 51–53 of the documents regulation).
// The store (package documents) keeps the rules; this file reads requests,
// asks the viewer and writes answers.

// What a case-work route needs of the viewer.
type caseNeed int

const (
	needRead          caseNeed = iota // CanReadCases
	needEdit                          // CanEditCases
	needRegister                      // CanRegisterDocuments
	needRemove                        // CanRemoveOfficial
	needNomenclatures                 // CanEditNomenclatures
	needAdmin                         // IsAdmin
)

func (n caseNeed) allowed(v access.Viewer) bool {
	switch n {
	case needRead:
		return v.CanReadCases()
	case needEdit:
		return v.CanEditCases()
	case needRegister:
		return v.CanRegisterDocuments()
	case needRemove:
		return v.CanRemoveOfficial()
	case needNomenclatures:
		return v.CanEditNomenclatures()
	case needAdmin:
		return v.IsAdmin()
	}
	return false
}

func (n caseNeed) forbidden() error {
	en, bg := "", ""
	switch n {
	case needRead:
		en, bg = "you may not see case files, documents and the document register", "нямате достъп до преписките, документите и деловодния регистър"
	case needEdit:
		en, bg = "you may not change case files, documents and tasks", "нямате право да променяте преписки, документи и задачи"
	case needRegister:
		en, bg = "you may not register documents in the official document register", "нямате право да регистрирате документи в официалния документен регистър"
	case needRemove:
		en, bg = "you may not remove documents from the official section of a case file (Art. 45(2))", "нямате право да изваждате документи от официалния раздел на преписка (чл. 45, ал. 2)"
	case needNomenclatures:
		en, bg = "you may not add to the nomenclatures of document types and services", "нямате право да допълвате номенклатурите на видовете документи и услугите"
	default:
		en, bg = "only administrators may do this", "само администратор може да прави това"
	}
	return &munigis.Error{Code: munigis.Forbidden, Message: en, MessageBG: bg}
}

// errSignIn answers the public on the staff routes of case work.
var errSignIn = &munigis.Error{Code: munigis.Unauthorized,
	Message:   "sign in: case files, documents and the document register are for the administration's staff (citizens follow their case at /track)",
	MessageBG: "влезте в системата: преписките, документите и регистърът са за служителите (гражданите проследяват преписката си на /track)"}

// errNotFoundBG is a NotFound in both languages.
func errNotFoundBG(en, bg string) error {
	return &munigis.Error{Code: munigis.NotFound, Message: en, MessageBG: bg}
}

// caseGate decides whether the viewer may use a route of case work. The
// public gets 401 on a list and, on one object (item), the same 404 whether
// or not it exists (the public may not know that it does); a signed-in
// user without the grant gets 403. notFound is that 404.
func (s *Server) caseGate(r *http.Request, n caseNeed, notFound error) (access.Viewer, error) {
	v := access.FromContext(r.Context())
	if !v.SignedIn() {
		if notFound != nil {
			return v, notFound
		}
		return v, errSignIn
	}
	if !n.allowed(v) {
		return v, n.forbidden()
	}
	return v, nil
}

func (s *Server) docsGate(r *http.Request, n caseNeed, notFound error) (access.Viewer, error) {
	if s.documents == nil {
		return access.Viewer{}, errNoRoute
	}
	return s.caseGate(r, n, notFound)
}

func errNoDocument(raw string) error {
	return errNotFoundBG(fmt.Sprintf("document %s does not exist", raw), fmt.Sprintf("документ %s не съществува", raw))
}

func errNoODREntry(raw string) error {
	return errNotFoundBG(fmt.Sprintf("the official document register has no entry %s", raw),
		fmt.Sprintf("в официалния документен регистър няма запис %s", raw))
}

// pathVarID parses the {id} path variable (the routes allow digits only).
func pathVarID(r *http.Request, name string) (int64, error) {
	raw := mux.Vars(r)[name]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid(name, fmt.Sprintf("%q is not an id", raw), fmt.Sprintf("%q не е идентификатор", raw))
	}
	return id, nil
}

// fileLimit is the largest document file the store accepts.
func (s *Server) fileLimit() int64 {
	if c, ok := s.documents.(interface{ Config() documents.Config }); ok && c.Config().MaxFileBytes > 0 {
		return c.Config().MaxFileBytes
	}
	return s.cfg.MaxFileBytes
}

// errFileTooLarge names the limit (Art. 69(3) p. 4(б): the size set by the
// authority), in MiB as people read it.
func errFileTooLarge(limit int64) error {
	size := strconv.FormatFloat(float64(limit)/(1<<20), 'f', -1, 64) + " MiB"
	if limit < 1<<20 {
		size = strconv.FormatFloat(float64(limit)/(1<<10), 'f', -1, 64) + " KiB"
	}
	return &munigis.Error{Code: munigis.TooLarge,
		Message:   fmt.Sprintf("the file is larger than the limit of %s (%d bytes); nothing was kept", size, limit),
		MessageBG: fmt.Sprintf("файлът е по-голям от допустимите %s (%d байта); нищо не е записано", size, limit)}
}

// codeUnsupportedMedia answers 415: a file type the store refuses.
const codeUnsupportedMedia munigis.Code = "unsupported_media_type"

func init() { statusOf[codeUnsupportedMedia] = http.StatusUnsupportedMediaType }

// uploadError turns what went wrong while a file streamed into the store
// into the answer: a body over the limit is 413 naming the file limit; a
// file type the store refuses is 415 with the store's reason (Art. 69).
func (s *Server) uploadError(err error) error {
	if err == nil {
		return nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errFileTooLarge(s.fileLimit())
	}
	var me *munigis.Error
	if errors.As(err, &me) && me.Code == munigis.Invalid && mediaTypeRefused(err, me) {
		return &munigis.Error{Code: codeUnsupportedMedia, Message: me.Message, MessageBG: me.MessageBG, Err: err}
	}
	return err
}

// mediaTypeRefused tells a refused file type from other invalid input: an
// error that says so (UnsupportedMediaType() true), else the store's
// message ("file: x is of type …, which is not accepted; accepted types:
// …").
func mediaTypeRefused(err error, me *munigis.Error) bool {
	var typed interface{ UnsupportedMediaType() bool }
	if errors.As(err, &typed) && typed.UnsupportedMediaType() {
		return true
	}
	m := strings.ToLower(me.Message)
	return strings.HasPrefix(m, "file:") && strings.Contains(m, "not accepted")
}

// isMultipart reports whether the request body is multipart/form-data.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// upload is what a multipart request carries besides the file.
type upload struct {
	// Fields are the small text parts, by name.
	Fields map[string]string
	// HasMeta tells whether a "metadata" part came.
	HasMeta bool
}

// readMultipart streams a multipart/form-data body (r.MultipartReader: no
// temporary files, no buffering of the file). The parts are read in order:
// a JSON "metadata" part is decoded into meta (unknown fields refused),
// other small parts (such as "version") are kept as text, and the first
// part named fileField is handed to fn as it streams, then reading stops.
// fn gets nil when the body has no file. The whole body is bounded by the
// store's file limit + 1 MiB, so a client cannot send more than that.
func (s *Server) readMultipart(w http.ResponseWriter, r *http.Request, meta any, fileFields []string, fn func(up upload, f *documents.Upload) error) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.fileLimit()+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return invalid("body", "cannot read the multipart/form-data body: "+err.Error(), "тялото на заявката не е валиден multipart/form-data")
	}
	up := upload{Fields: map[string]string{}}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return fn(up, nil)
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return errFileTooLarge(s.fileLimit())
			}
			return invalid("body", "cannot read the multipart/form-data body: "+err.Error(), "тялото на заявката не е валиден multipart/form-data")
		}
		name := part.FormName()
		switch {
		case isOneOf(name, fileFields):
			f := &documents.Upload{FileName: part.FileName(), Content: part}
			err := fn(up, f)
			_ = part.Close()
			return s.uploadError(err)
		case name == "metadata" && meta != nil:
			if err := decodeStrict(io.LimitReader(part, s.cfg.MaxBodyBytes), meta); err != nil {
				return err
			}
			up.HasMeta = true
		default:
			b, err := io.ReadAll(io.LimitReader(part, 4<<10))
			if err != nil {
				return s.uploadError(err)
			}
			up.Fields[name] = string(b)
		}
		_ = part.Close()
	}
}

func isOneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

// decodeStrict decodes one JSON value, refusing unknown fields.
func decodeStrict(rd io.Reader, v any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return invalid("metadata", "the part is empty; send a JSON object", "частта е празна; изпратете JSON обект")
		}
		return munigis.Wrap(munigis.Invalid, err, "metadata: not valid JSON for this endpoint: %s", err.Error())
	}
	return nil
}

// contentDisposition is "attachment" with the file name: an ASCII
// fallback for old clients and the exact name RFC 5987-encoded
// (filename*=UTF-8”…), so that Cyrillic names survive.
func contentDisposition(name string) string {
	if name == "" {
		name = "document"
	}
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, rfc5987(name))
}

// rfc5987 percent-encodes everything but RFC 5987's attr-char.
func rfc5987(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// writeFile sends stored content as a download: the media type the store
// sniffed, never sniffed again by the browser (nosniff), shown in a
// sandbox if opened, and the SHA-256 as the ETag.
func writeFile(w http.ResponseWriter, r *http.Request, fi documents.FileInfo, content []byte, cache string) error {
	etag := `"` + fi.SHA256 + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", cache)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	mt := fi.MediaType
	if mt == "" {
		mt = "application/octet-stream"
	}
	h.Set("Content-Type", mt)
	h.Set("Content-Disposition", contentDisposition(fi.FileName))
	h.Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(content)
	}
	return nil
}

// Document types (Art. 52–53).

func (s *Server) handleDocTypeList(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needRead, nil); err != nil {
		return err
	}
	types, err := s.documents.Types(r.Context())
	if err != nil {
		return err
	}
	if types == nil {
		types = []documents.Type{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"document_types": types})
	return nil
}

// handleDocTypeCreate answers POST /api/document-types: JSON, or multipart
// with a "metadata" JSON part and an optional "template" (or "file") part.
func (s *Server) handleDocTypeCreate(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needNomenclatures, nil); err != nil {
		return err
	}
	var t documents.Type
	var created documents.Type
	if isMultipart(r) {
		err := s.readMultipart(w, r, &t, []string{"template", "file"}, func(up upload, f *documents.Upload) error {
			if !up.HasMeta {
				return invalid("metadata", "send the document type as a JSON part named metadata, before the template file",
					"изпратете вида документ като JSON част metadata преди файла с образеца")
			}
			var err error
			created, err = s.documents.CreateType(r.Context(), t, f)
			return err
		})
		if err != nil {
			return err
		}
	} else {
		if err := s.decode(w, r, &t); err != nil {
			return err
		}
		var err error
		if created, err = s.documents.CreateType(r.Context(), t, nil); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// The official document register (Art. 23–31).

func (s *Server) handleODRGet(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needRead, nil); err != nil {
		return err
	}
	st, err := s.documents.Settings(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"index": st.Index, "administration": st.Administration, "name": st.Name,
		"status": st.Status, "links": []link{{Href: "/api/odr/entries", Rel: "items", Type: "application/json"},
			{Href: "/api/odr/check", Rel: "describedby", Type: "application/json", Title: "completeness (Art. 29(3))"}}})
	return nil
}

func (s *Server) handleODRPut(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needAdmin, nil); err != nil {
		return err
	}
	var st documents.Settings
	if err := s.decode(w, r, &st); err != nil {
		return err
	}
	out, err := s.documents.SetSettings(r.Context(), st)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Limits of a page of register entries, case files or tasks.
const (
	pageDefaultLimit = 50
	pageMaxLimit     = 1000
)

// pageParams reads limit (1 to most) and offset.
func pageParams(p url.Values, most int) (limit, offset int, err error) {
	if limit, err = intParam(p.Get("limit"), "limit", min(pageDefaultLimit, most)); err != nil {
		return 0, 0, err
	}
	if limit < 1 || limit > most {
		return 0, 0, invalid("limit", fmt.Sprintf("must be between 1 and %d", most), fmt.Sprintf("трябва да е между 1 и %d", most))
	}
	if offset, err = intParam(p.Get("offset"), "offset", 0); err != nil {
		return 0, 0, err
	}
	if offset < 0 {
		return 0, 0, invalid("offset", "must not be negative", "не може да е отрицателно")
	}
	return limit, offset, nil
}

// pageLinks are self, next and prev of a paged list, as the registers give.
func pageLinks(r *http.Request, limit, offset, returned int, matched int64) []link {
	links := []link{{Href: r.URL.RequestURI(), Rel: "self", Type: "application/json"}}
	if int64(offset+returned) < matched {
		links = append(links, link{Href: withQuery(r.URL, map[string]string{
			"offset": strconv.Itoa(offset + limit), "limit": strconv.Itoa(limit)}), Rel: "next", Type: "application/json"})
	}
	if offset > 0 {
		links = append(links, link{Href: withQuery(r.URL, map[string]string{
			"offset": strconv.Itoa(max(offset-limit, 0)), "limit": strconv.Itoa(limit)}), Rel: "prev", Type: "application/json"})
	}
	return links
}

func odrQuery(p url.Values) (documents.EntryQuery, error) {
	q := documents.EntryQuery{Type: strings.TrimSpace(p.Get("type")), Q: strings.TrimSpace(p.Get("q"))}
	var err error
	if q.Year, err = intParam(p.Get("year"), "year", 0); err != nil {
		return q, err
	}
	if q.Year != 0 && (q.Year < 1900 || q.Year > 9999) {
		return q, invalid("year", fmt.Sprintf("%d is not a year", q.Year), fmt.Sprintf("%d не е година", q.Year))
	}
	for _, d := range []struct {
		name string
		to   *string
	}{{"from", &q.From}, {"to", &q.To}} {
		v := p.Get(d.name)
		if _, err := dateParam(v, d.name); err != nil {
			return q, err
		}
		*d.to = v
	}
	if q.Limit, q.Offset, err = pageParams(p, documents.MaxEntries); err != nil {
		return q, err
	}
	return q, nil
}

// handleODREntries answers GET /api/odr/entries: a page of the register
// with numberMatched and links; format=csv|xlsx downloads the whole search.
func (s *Server) handleODREntries(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needRead, nil); err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	q, err := odrQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if format != "" {
		return s.exportODR(w, r, q, format)
	}
	entries, n, err := s.documents.Entries(r.Context(), q)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []documents.Registration{}
	}
	links := pageLinks(r, q.Limit, q.Offset, len(entries), n)
	for _, f := range []string{formatCSV, formatXLSX} {
		u := *r.URL
		qq := u.Query()
		qq.Del("limit")
		qq.Del("offset")
		qq.Set("format", f)
		u.RawQuery = qq.Encode()
		links = append(links, link{Href: u.RequestURI(), Rel: "alternate", Type: map[string]string{
			formatCSV: "text/csv", formatXLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[f]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "numberMatched": n, "numberReturned": len(entries), "links": links})
	return nil
}

// exportODR writes the whole search, page by page, through the export
// writers of export.go (CSV with BOM and formula guard, or XLSX).
func (s *Server) exportODR(w http.ResponseWriter, r *http.Request, q documents.EntryQuery, format string) error {
	en := lang(r) == "en"
	// Read the first page before anything is written, so that an error
	// can still be answered as JSON.
	q.Offset, q.Limit = 0, documents.MaxEntries
	page, total, err := s.documents.Entries(r.Context(), q)
	if err != nil {
		return err
	}
	title := pick(en, "Официален документен регистър", "Official document register")
	tw, err := startExport(w, format, "odr-"+time.Now().In(audit.Sofia).Format("20060102"), title)
	if err != nil {
		return err
	}
	header := []any{pick(en, "Регистрационен номер", "Registration number"), pick(en, "Година", "Year"),
		pick(en, "Пореден номер", "Sequence"), pick(en, "Дата на получаване/подписване", "Date received/signed"),
		pick(en, "Вид документ", "Document type"), pick(en, "Документ", "Document"),
		pick(en, "Въведен на", "Entered at"), pick(en, "Въведен от", "Entered by"), pick(en, "Корекции", "Corrections")}
	fail := func(err error) error {
		if !munigis.ClientGone(r.Context()) {
			s.log.Error("register export failed midway", "request_id", requestID(r.Context()), "register", "odr", "err", err.Error())
		}
		panic(http.ErrAbortHandler)
	}
	if err := tw.Row(header); err != nil {
		return fail(err)
	}
	for {
		for _, e := range page {
			var corr []string
			for _, c := range e.Corrections {
				corr = append(corr, fmt.Sprintf("%s: %s → %s (%s)", c.Field, c.OldValue, c.NewValue, c.Reason))
			}
			if err := tw.Row([]any{e.Number, e.Year, e.Sequence, e.ReceivedOn, e.TypeName, e.DocumentName,
				e.EnteredAt.In(audit.Sofia).Format("2006-01-02 15:04:05"), e.EnteredBy, strings.Join(corr, "; ")}); err != nil {
				return fail(err)
			}
		}
		q.Offset += len(page)
		if len(page) == 0 || int64(q.Offset) >= total {
			break
		}
		if page, _, err = s.documents.Entries(r.Context(), q); err != nil {
			return fail(err)
		}
	}
	if err := tw.Close(); err != nil {
		return fail(err)
	}
	return nil
}

func (s *Server) handleODREntry(w http.ResponseWriter, r *http.Request) error {
	raw := mux.Vars(r)["number"]
	if _, err := s.docsGate(r, needRead, errNoODREntry(raw)); err != nil {
		return err
	}
	e, err := s.documents.Entry(r.Context(), raw)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// handleODRCorrection answers POST /api/odr/entries/{id}/corrections with
// {field, new_value, reason}: a visible correction (Art. 29(1)); the entry
// itself never changes.
func (s *Server) handleODRCorrection(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needRegister, nil); err != nil {
		return err
	}
	id, err := pathVarID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Field    string `json:"field"`
		NewValue string `json:"new_value"`
		Reason   string `json:"reason"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.documents.Correct(r.Context(), id, documents.Correction{EntryID: id, Field: in.Field, NewValue: in.NewValue, Reason: in.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// handleODRCheck answers GET /api/odr/check?year=: the completeness of a
// year's numbering (Art. 29(3)); the current year in Europe/Sofia when
// not given.
func (s *Server) handleODRCheck(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needRead, nil); err != nil {
		return err
	}
	year, err := intParam(r.URL.Query().Get("year"), "year", time.Now().In(audit.Sofia).Year())
	if err != nil {
		return err
	}
	if year < 1900 || year > 9999 {
		return invalid("year", fmt.Sprintf("%d is not a year", year), fmt.Sprintf("%d не е година", year))
	}
	c, err := s.documents.Check(r.Context(), year)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// Documents (Art. 19–22).

// documentJSON is a document with its content versions and links.
type documentJSON struct {
	documents.Document
	Versions []documents.ContentVersion `json:"versions"`
	Links    []link                     `json:"links"`
}

func (s *Server) documentOut(r *http.Request, d documents.Document) (documentJSON, error) {
	vs, err := s.documents.Versions(r.Context(), d.ID)
	if err != nil {
		return documentJSON{}, err
	}
	if vs == nil {
		vs = []documents.ContentVersion{}
	}
	self := "/api/documents/" + strconv.FormatInt(d.ID, 10)
	out := documentJSON{Document: d, Versions: vs, Links: []link{{Href: self, Rel: "self", Type: "application/json"}}}
	if d.File != nil {
		out.Links = append(out.Links, link{Href: self + "/content", Rel: "enclosure", Type: d.File.MediaType, Title: d.File.FileName})
	}
	if d.Registration != nil {
		out.Links = append(out.Links, link{Href: "/api/odr/entries/" + url.PathEscape(d.Registration.Number), Rel: "related",
			Type: "application/json", Title: d.Registration.Number})
	}
	return out, nil
}

// handleDocumentCreate answers POST /api/documents: multipart/form-data
// with a "metadata" JSON part (documents.NewDocument) and then a "file"
// part, streamed into the store; or plain JSON for a document without a
// file yet. Asking to register it needs the register's grant too.
func (s *Server) handleDocumentCreate(w http.ResponseWriter, r *http.Request) error {
	v, err := s.docsGate(r, needEdit, nil)
	if err != nil {
		return err
	}
	var nd documents.NewDocument
	var created documents.Document
	create := func() error {
		if nd.Register && !v.CanRegisterDocuments() {
			return needRegister.forbidden()
		}
		var err error
		created, err = s.documents.Create(r.Context(), nd)
		return err
	}
	if isMultipart(r) {
		err = s.readMultipart(w, r, &nd, []string{"file"}, func(up upload, f *documents.Upload) error {
			if !up.HasMeta {
				return invalid("metadata", "send the document's fields as a JSON part named metadata, before the file part",
					"изпратете данните на документа като JSON част metadata преди файла")
			}
			nd.File = f
			return create()
		})
	} else {
		if err := s.decode(w, r, &nd); err != nil {
			return err
		}
		err = create()
	}
	if err != nil {
		return err
	}
	out, err := s.documentOut(r, created)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/documents/"+strconv.FormatInt(created.ID, 10))
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) handleDocumentGet(w http.ResponseWriter, r *http.Request) error {
	raw := mux.Vars(r)["id"]
	if _, err := s.docsGate(r, needRead, errNoDocument(raw)); err != nil {
		return err
	}
	id, err := pathVarID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.documents.Get(r.Context(), id)
	if err != nil {
		return err
	}
	out, err := s.documentOut(r, d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleDocumentContent answers GET /api/documents/{id}/content[?version=n]:
// the file, as stored (files are served only through these checks).
func (s *Server) handleDocumentContent(w http.ResponseWriter, r *http.Request) error {
	raw := mux.Vars(r)["id"]
	if _, err := s.docsGate(r, needRead, errNoDocument(raw)); err != nil {
		return err
	}
	id, err := pathVarID(r, "id")
	if err != nil {
		return err
	}
	n, err := intParam(r.URL.Query().Get("version"), "version", 0)
	if err != nil {
		return err
	}
	if n < 0 {
		return invalid("version", "must be a content version number (1, 2, …)", "трябва да е номер на версия (1, 2, …)")
	}
	fi, content, err := s.documents.Content(r.Context(), id, n)
	if err != nil {
		return err
	}
	return writeFile(w, r, fi, content, "private, no-cache")
}

// handleDocumentVersion answers POST /api/documents/{id}/versions: a new
// content version from a multipart "file" part; the document's version
// read comes first as a "version" part (or ?version=), so that two clerks
// do not overwrite each other's upload unknowingly.
func (s *Server) handleDocumentVersion(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needEdit, nil); err != nil {
		return err
	}
	id, err := pathVarID(r, "id")
	if err != nil {
		return err
	}
	if !isMultipart(r) {
		return invalid("body", "send the file as multipart/form-data: a \"version\" part, then a \"file\" part",
			"изпратете файла като multipart/form-data: част version, после част file")
	}
	var updated documents.Document
	err = s.readMultipart(w, r, nil, []string{"file"}, func(up upload, f *documents.Upload) error {
		if f == nil {
			return invalid("file", "the request has no file part", "липсва част file с файла")
		}
		raw := up.Fields["version"]
		if raw == "" {
			raw = r.URL.Query().Get("version")
		}
		if raw == "" {
			return invalid("version", "send the document's version you read (a \"version\" part before the file, or ?version=)",
				"изпратете версията на документа, която сте прочели (част version преди файла или ?version=)")
		}
		ver, err := intParam(strings.TrimSpace(raw), "version", 0)
		if err != nil {
			return err
		}
		updated, err = s.documents.AddVersion(r.Context(), id, ver, *f)
		return err
	})
	if err != nil {
		return err
	}
	out, err := s.documentOut(r, updated)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// handleDocumentRegistration answers POST /api/documents/{id}/registration
// with {type, received_on}: the document gets its number (Art. 28).
func (s *Server) handleDocumentRegistration(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.docsGate(r, needRegister, nil); err != nil {
		return err
	}
	id, err := pathVarID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Type       string `json:"type"`
		ReceivedOn string `json:"received_on"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	reg, err := s.documents.Register(r.Context(), id, in.Type, in.ReceivedOn)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/odr/entries/"+url.PathEscape(reg.Number))
	writeJSON(w, http.StatusCreated, reg)
	return nil
}

package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"munigis"
	"munigis/access"
	"munigis/registers"
	"munigis/registers/persons"
	"munigis/registers/property"
	"munigis/spatial"
)

// RegisterStore is what the web layer needs of the register engine
// (package registers, *registers.Store).
type RegisterStore interface {
	Types(ctx context.Context) ([]registers.Type, error)
	Type(ctx context.Context, name string) (registers.Type, error)
	CreateType(ctx context.Context, t registers.Type) (registers.Type, error)
	Create(ctx context.Context, e registers.Entry) (registers.Entry, error)
	Update(ctx context.Context, e registers.Entry) (registers.Entry, error)
	Get(ctx context.Context, id int64) (registers.Entry, error)
	History(ctx context.Context, id int64) ([]registers.Version, error)
	Search(ctx context.Context, q registers.Query, fn func(registers.Entry) error) error
	// Page is Search for one page, with the total when it is cheap to
	// know (else -1).
	Page(ctx context.Context, q registers.Query, countBudget time.Duration, fn func(registers.Entry) error) (int64, error)
	// RelatedFor: the entries on a cadastral object as the viewer may see
	// them (the access rules are the engine's, shared with WMS).
	RelatedFor(ctx context.Context, identifier string, v access.Viewer) ([]registers.ShownGroup, error)
	// The dossier, case files and file fields of entries (handle_dossier.go).
	DossierStore
}

// PersonStore is what the web layer needs of persons and legal entities
// (package registers/persons, *persons.Store).
type PersonStore interface {
	Create(ctx context.Context, p persons.Person) (persons.Person, error)
	Get(ctx context.Context, id int64) (persons.Person, error)
	Find(ctx context.Context, q string, limit int) ([]persons.Person, error)
}

// PropertyStore is what the web layer needs of municipal property
// operations and the reports (package registers/property).
type PropertyStore interface {
	Timeline(ctx context.Context, propertyID int64) (property.Timeline, error)
	AddOperation(ctx context.Context, op property.Operation) (property.Operation, error)
	Report(ctx context.Context, name string, p property.Params) (property.Table, error)
}

// Limits of a register search page; an export (format=csv|xlsx) has none.
const (
	registerDefaultLimit = 50
	registerMaxLimit     = 1000
)

// errNoRegister answers for a register that does not exist and for one
// the caller may not see (unpublished, no grant) alike, so that internal
// register names do not leak.
func errNoRegister(name string) error {
	return &munigis.Error{Code: munigis.NotFound, Message: fmt.Sprintf("register %q does not exist", name),
		MessageBG: fmt.Sprintf("регистър %q не съществува", name)}
}

func errNoEntry(name string, id int64) error {
	return &munigis.Error{Code: munigis.NotFound, Message: fmt.Sprintf("register %s has no entry %d", name, id),
		MessageBG: fmt.Sprintf("в регистър %s няма вписване %d", name, id)}
}

// invalid is a 400 naming the field, in English and Bulgarian.
func invalid(field, en, bg string) error {
	return &munigis.Error{Code: munigis.Invalid, Message: field + ": " + en, MessageBG: field + ": " + bg}
}

// registerView is how the caller sees one register: in full (internal
// part: a read grant, or admin) or only its public part (published).
type registerView struct {
	Type registers.Type
	Full bool
}

// visibleRegister returns the named register as the caller may see it. A
// register that is neither readable by the caller nor published answers
// exactly like a missing one.
func (s *Server) visibleRegister(r *http.Request, name string) (registerView, access.Viewer, error) {
	v := access.FromContext(r.Context())
	if s.registers == nil {
		return registerView{}, v, errNoRegister(name)
	}
	t, err := s.registers.Type(r.Context(), name)
	if munigis.ErrorCode(err) == munigis.NotFound {
		return registerView{}, v, errNoRegister(name)
	}
	if err != nil {
		return registerView{}, v, err
	}
	full := v.CanReadRegister(t.Name)
	if !full && !t.Published {
		return registerView{}, v, errNoRegister(name)
	}
	return registerView{Type: t, Full: full}, v, nil
}

// fieldJSON is a register field as the API lists it.
type fieldJSON struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	TitleBG  string   `json:"title_bg"`
	TitleEN  string   `json:"title_en"`
	Required bool     `json:"required,omitempty"`
	Unique   bool     `json:"unique,omitempty"`
	Values   []string `json:"values,omitempty"`
	Public   bool     `json:"public"`
}

type registerJSON struct {
	Name          string      `json:"name"`
	TitleBG       string      `json:"title_bg"`
	TitleEN       string      `json:"title_en"`
	NumberLabelBG string      `json:"number_label_bg,omitempty"`
	NumberLabelEN string      `json:"number_label_en,omitempty"`
	Published     bool        `json:"published"`
	BuiltIn       bool        `json:"built_in"`
	Access        string      `json:"access"`          // "full" or "public"
	Layer         string      `json:"layer,omitempty"` // the register's map layer
	Fields        []fieldJSON `json:"fields"`
	Links         []link      `json:"links"`
}

func registerOut(rv registerView) registerJSON {
	t := rv.Type
	out := registerJSON{Name: t.Name, TitleBG: t.TitleBG, TitleEN: t.TitleEN, NumberLabelBG: t.NumberLabelBG,
		NumberLabelEN: t.NumberLabelEN, Published: t.Published, BuiltIn: t.BuiltIn, Access: "public",
		Layer: t.LayerName(), Fields: []fieldJSON{},
		Links: []link{{Href: "/api/registers/" + t.Name + "/entries", Rel: "items", Type: "application/json"}}}
	if rv.Full {
		out.Access = "full"
	}
	// The map layer is public when the register and its identifiers are.
	if rv.Full || identifiersPublic(t) {
		out.Links = append(out.Links, link{Href: "/api/layers/" + t.LayerName(), Rel: "layer", Type: "application/json"})
	} else {
		out.Layer = ""
	}
	for _, f := range t.Fields {
		if !rv.Full && !f.Public {
			continue
		}
		out.Fields = append(out.Fields, fieldJSON{Name: f.Name, Type: string(f.Type), TitleBG: f.TitleBG, TitleEN: f.TitleEN,
			Required: f.Required, Unique: f.Unique, Values: f.Values, Public: f.Public})
	}
	return out
}

// handleRegisterList answers GET /api/registers: the registers the caller
// may read in full, and the published ones (public part only).
func (s *Server) handleRegisterList(w http.ResponseWriter, r *http.Request) error {
	v := access.FromContext(r.Context())
	out := []registerJSON{}
	if s.registers != nil {
		all, err := s.registers.Types(r.Context())
		if err != nil {
			return err
		}
		for _, t := range all {
			full := v.CanReadRegister(t.Name)
			if !full && !t.Published {
				continue
			}
			out = append(out, registerOut(registerView{Type: t, Full: full}))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"registers": out})
	return nil
}

// handleRegisterTypeCreate answers POST /api/register-types (admins): a
// municipality defines a register of its own; the engine also creates its
// map layer.
func (s *Server) handleRegisterTypeCreate(w http.ResponseWriter, r *http.Request) error {
	v := access.FromContext(r.Context())
	if !v.CanEditCatalog() || s.registers == nil {
		return &munigis.Error{Code: munigis.Forbidden, Message: "only administrators may define registers",
			MessageBG: "само администратор може да създава регистри"}
	}
	var t registers.Type
	if err := s.decode(w, r, &t); err != nil {
		return err
	}
	t.BuiltIn = false
	created, err := s.registers.CreateType(r.Context(), t)
	if err != nil {
		return err
	}
	// The new register's map layer is in the catalog now; this process's
	// copy of the catalog need not wait for the database's notification.
	if c, ok := s.layers.(interface{ InvalidateCatalog() }); ok {
		c.InvalidateCatalog()
	}
	w.Header().Set("Location", "/api/registers/"+created.Name)
	writeJSON(w, http.StatusCreated, registerOut(registerView{Type: created, Full: true}))
	return nil
}

// partyJSON is a party of an entry. The public sees no person id (it would
// link one person's entries across registers) and a masked name.
type partyJSON struct {
	PersonID int64  `json:"person_id,omitempty"`
	Role     string `json:"role"`
	Name     string `json:"name"`
	Kind     string `json:"kind,omitempty"`
	EIK      string `json:"eik,omitempty"`
}

// entryJSON is an entry as the API shows it. created_by/updated_by (system
// identifiers of staff) are for staff only.
type entryJSON struct {
	ID          int64          `json:"id"`
	Register    string         `json:"register"`
	Number      string         `json:"number"`
	Date        string         `json:"date,omitempty"`
	Status      string         `json:"status,omitempty"`
	Identifiers []string       `json:"identifiers"`
	Parties     []partyJSON    `json:"parties"`
	Data        map[string]any `json:"data"`
	Version     int            `json:"version,omitempty"`
	CreatedAt   string         `json:"created_at,omitempty"`
	CreatedBy   string         `json:"created_by,omitempty"`
	UpdatedAt   string         `json:"updated_at,omitempty"`
	UpdatedBy   string         `json:"updated_by,omitempty"`
	// Files are the documents of the file fields the caller may see
	// (withFiles, handle_dossier.go); Data keeps a file field's document id
	// for staff only.
	Files map[string]fileJSON `json:"files,omitempty"`
	Links []link              `json:"links"`
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// entryOut is an entry as rv allows the caller to see it: in full, or
// through the engine's public view (public fields, natural persons masked,
// no person ids, never an ЕГН).
func entryOut(rv registerView, e registers.Entry) (entryJSON, error) {
	sh, err := registers.Show(e, rv.Type, rv.Full)
	if err != nil {
		return entryJSON{}, err
	}
	return shownOut(sh), nil
}

// shownOut is an entry, as registers.Show let the caller see it, in the
// API's shape with its links.
func shownOut(sh registers.Shown) entryJSON {
	self := "/api/registers/" + sh.Register + "/entries/" + strconv.FormatInt(sh.ID, 10)
	out := entryJSON{ID: sh.ID, Register: sh.Register, Number: sh.Number, Date: sh.Date, Status: sh.Status,
		Identifiers: nonNilStrings(sh.Identifiers), Parties: []partyJSON{}, Data: sh.Data}
	if sh.Full {
		out.Version, out.CreatedAt, out.CreatedBy = sh.Version, fmtTime(sh.CreatedAt), sh.CreatedBy
		out.UpdatedAt, out.UpdatedBy = fmtTime(sh.UpdatedAt), sh.UpdatedBy
	}
	for _, pt := range sh.Parties {
		out.Parties = append(out.Parties, partyJSON{PersonID: pt.PersonID, Role: pt.Role, Name: pt.Name, Kind: pt.Kind, EIK: pt.EIK})
	}
	if out.Data == nil {
		out.Data = map[string]any{}
	}
	out.Links = []link{{Href: self, Rel: "self", Type: "application/json"}}
	for _, id := range out.Identifiers {
		out.Links = append(out.Links, link{Href: "/api/cadastre/" + id, Rel: "related", Type: "application/geo+json", Title: id})
	}
	if sh.Full {
		out.Links = append(out.Links, link{Href: self + "/history", Rel: "version-history", Type: "application/json"})
	}
	return out
}

// identifiersPublic reports whether the public sees the cadastral
// identifiers of register t: only then may it search by identifier or find
// the register's entries from a parcel, which would tell them otherwise.
func identifiersPublic(t registers.Type) bool { return registers.PlacesPublic(t) }

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// parseIdentifier checks a cadastral identifier from a request, with the
// parser's own message (naming the part that is wrong) in both languages.
func parseIdentifier(raw, field string) (spatial.Identifier, error) {
	id, err := spatial.Parse(raw)
	if err != nil {
		e := munigis.Wrap(munigis.Invalid, err, "%s: %s", field, err.Error())
		var pe *spatial.ParseError
		if errors.As(err, &pe) {
			e.MessageBG = field + ": " + pe.MessageBG()
		}
		return id, e
	}
	return id, nil
}

// dateParam parses a YYYY-MM-DD query parameter.
func dateParam(v, name string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, invalid(name, fmt.Sprintf("%q is not a date (YYYY-MM-DD, e.g. 2026-03-01)", v),
			fmt.Sprintf("%q не е дата (ГГГГ-ММ-ДД, напр. 2026-03-01)", v))
	}
	return &d, nil
}

// searchQuery reads the search parameters of GET …/entries (and of the
// public page): identifier (below=1 adds the buildings and units under a
// parcel), number, person (staff only), q, from, to, limit, offset.
func searchQuery(r *http.Request, rv registerView) (registers.Query, error) {
	p := r.URL.Query()
	q := registers.Query{Register: rv.Type.Name, Number: strings.TrimSpace(p.Get("number")),
		Text: strings.TrimSpace(p.Get("q"))}
	if raw := strings.TrimSpace(p.Get("identifier")); raw != "" {
		if !rv.Full && !identifiersPublic(rv.Type) {
			return q, &munigis.Error{Code: munigis.Forbidden, Message: "identifier: this register's cadastral identifiers are not public",
				MessageBG: "identifier: кадастралните идентификатори в този регистър не са публични"}
		}
		id, err := parseIdentifier(raw, "identifier")
		if err != nil {
			return q, err
		}
		q.Identifier = id.String()
	}
	switch b := p.Get("below"); b {
	case "", "0", "false":
	case "1", "true":
		q.Below = true
	default:
		return q, invalid("below", fmt.Sprintf("%q is not 1 or 0", b), fmt.Sprintf("%q не е 1 или 0", b))
	}
	if raw := p.Get("person"); raw != "" {
		if !rv.Full {
			// A person id would let the public link a masked person's
			// entries across registers.
			return q, &munigis.Error{Code: munigis.Forbidden, Message: "person: only staff search by person",
				MessageBG: "person: търсене по лице е само за служители"}
		}
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 1 {
			return q, invalid("person", fmt.Sprintf("%q is not a person id", raw), fmt.Sprintf("%q не е номер на лице", raw))
		}
		q.PersonID = id
	}
	from, err := dateParam(p.Get("from"), "from")
	if err != nil {
		return q, err
	}
	to, err := dateParam(p.Get("to"), "to")
	if err != nil {
		return q, err
	}
	if from != nil && to != nil && to.Before(*from) {
		return q, invalid("to", "the end date is before the start date (from)", "крайната дата е преди началната (from)")
	}
	if from != nil {
		q.DateFrom = from.Format(time.DateOnly)
	}
	if to != nil {
		q.DateTo = to.Format(time.DateOnly)
	}
	if q.Limit, err = intParam(p.Get("limit"), "limit", registerDefaultLimit); err != nil {
		return q, err
	}
	if q.Limit < 1 || q.Limit > registerMaxLimit {
		return q, invalid("limit", fmt.Sprintf("must be between 1 and %d", registerMaxLimit),
			fmt.Sprintf("трябва да е между 1 и %d", registerMaxLimit))
	}
	if q.Offset, err = intParam(p.Get("offset"), "offset", 0); err != nil {
		return q, err
	}
	if q.Offset < 0 {
		return q, invalid("offset", "must not be negative", "не може да е отрицателно")
	}
	return q, nil
}

// countBudget bounds the count of a search page's matches: a free-text
// search on a common word can match most of a register, and counting it
// all would cost more than the page (issue 6: p99 under 100 ms). Past the
// budget the total is left out.
const countBudget = 30 * time.Millisecond

// hasNext says whether a page of limit entries starting at offset, of which
// returned came back, has a next page: by the total when it is known (n ≥
// 0), else by a full page (which may lead to an empty one).
func hasNext(offset, limit, returned int, n int64) bool {
	if n >= 0 {
		return int64(offset+returned) < n
	}
	return returned == limit
}

// searchVisible runs the search and calls fn with each entry as the
// caller may see it, and returns how many match in all: -1 when that is
// not known (q has no limit — an export does not count first — or the
// store found it too costly to count: registers.Store.Page). For the
// public the engine matches free text against the public fields only, so
// that a hit cannot confirm a guessed name or an internal note.
func searchVisible(ctx context.Context, store RegisterStore, rv registerView, q registers.Query, fn func(entryJSON, registers.Entry) error) (int64, error) {
	q.Register, q.Public = rv.Type.Name, !rv.Full
	each := func(e registers.Entry) error {
		p, err := entryOut(rv, e)
		if err != nil {
			return err
		}
		return fn(p, e)
	}
	if q.Limit == registers.NoLimit {
		return -1, store.Search(ctx, q, each)
	}
	return store.Page(ctx, q, countBudget, each)
}

// handleEntryList answers GET /api/registers/{name}/entries: a search,
// paged, with numberMatched and next/prev links; format=csv|xlsx exports
// the whole search as a download.
func (s *Server) handleEntryList(w http.ResponseWriter, r *http.Request) error {
	rv, _, err := s.visibleRegister(r, mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	q, err := searchQuery(r, rv)
	if err != nil {
		return err
	}
	if format != "" {
		return s.exportEntries(w, r, rv, q, format)
	}
	out, entries := []entryJSON{}, []registers.Entry{}
	n, err := searchVisible(r.Context(), s.registers, rv, q, func(p entryJSON, e registers.Entry) error {
		out, entries = append(out, p), append(entries, e)
		return nil
	})
	if err != nil {
		return err
	}
	if err := withFiles(r.Context(), s.registers, rv, entries, out); err != nil {
		return err
	}
	links := []link{{Href: r.URL.RequestURI(), Rel: "self", Type: "application/json"}}
	if hasNext(q.Offset, q.Limit, len(out), n) {
		links = append(links, link{Href: withQuery(r.URL, map[string]string{
			"offset": strconv.Itoa(q.Offset + q.Limit), "limit": strconv.Itoa(q.Limit)}), Rel: "next", Type: "application/json"})
	}
	if q.Offset > 0 {
		links = append(links, link{Href: withQuery(r.URL, map[string]string{
			"offset": strconv.Itoa(max(q.Offset-q.Limit, 0)), "limit": strconv.Itoa(q.Limit)}), Rel: "prev", Type: "application/json"})
	}
	for _, f := range []string{"csv", "xlsx"} {
		u := *r.URL
		qq := u.Query()
		qq.Del("limit")
		qq.Del("offset")
		qq.Set("format", f)
		u.RawQuery = qq.Encode()
		links = append(links, link{Href: u.RequestURI(), Rel: "alternate", Type: map[string]string{
			"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[f]})
	}
	body := map[string]any{"register": rv.Type.Name, "entries": out, "numberReturned": len(out), "links": links}
	if n >= 0 {
		body["numberMatched"] = n // left out when too costly to count (countBudget)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// lang is "en" when the request asks for English (?lang=en), else "bg".
func lang(r *http.Request) string {
	if r.URL.Query().Get("lang") == "en" {
		return "en"
	}
	return "bg"
}

// exportEntries streams the whole search (no limit) as CSV or XLSX. The
// rows come from the engine's cursor one by one and go straight to the
// writer, so memory stays flat for any number of entries.
func (s *Server) exportEntries(w http.ResponseWriter, r *http.Request, rv registerView, q registers.Query, format string) error {
	en := lang(r) == "en"
	tw, err := startExport(w, format, rv.Type.Name+"-"+time.Now().Format("20060102"), pick(en, rv.Type.TitleBG, rv.Type.TitleEN))
	if err != nil {
		return err
	}
	started, err := writeEntries(r.Context(), s.registers, rv, q, tw, en, format)
	if err != nil && started {
		// The response is under way: log, and cut the connection so that
		// the client sees a broken download rather than a short file that
		// looks complete.
		if !munigis.ClientGone(r.Context()) {
			s.log.Error("register export failed midway", "request_id", requestID(r.Context()), "register", rv.Type.Name, "err", err.Error())
		}
		panic(http.ErrAbortHandler)
	}
	return err
}

// ExportEntries writes the whole search q of register t to w as CSV or
// XLSX, as staff see it (every field, names in full). `munigis register
// export` uses it, so that a file from the command line and one from the
// API are the same.
func ExportEntries(ctx context.Context, store RegisterStore, t registers.Type, q registers.Query, format string, en bool, w io.Writer) error {
	var tw tableWriter
	var err error
	switch format {
	case formatCSV:
		tw = newCSVWriter(w)
	case formatXLSX:
		if tw, err = newXLSXWriter(w, pick(en, t.TitleBG, t.TitleEN)); err != nil {
			return err
		}
	default:
		return invalid("format", fmt.Sprintf("%q is not one of csv, xlsx", format), fmt.Sprintf("%q не е csv или xlsx", format))
	}
	_, err = writeEntries(ctx, store, registerView{Type: t, Full: true}, q, tw, en, format)
	return err
}

// pick returns the English text when en, else the Bulgarian one (the
// Bulgarian one when there is no English).
func pick(en bool, bg, enText string) string {
	if en && enText != "" {
		return enText
	}
	return bg
}

// writeEntries writes the header and every entry of the search to tw and
// closes it. started tells whether bytes may have reached the client (CSV
// writes as it goes; XLSX only on Close).
func writeEntries(ctx context.Context, store RegisterStore, rv registerView, q registers.Query, tw tableWriter, en bool, format string) (started bool, err error) {
	q.Limit, q.Offset = registers.NoLimit, 0
	fields := tableFields(rv)
	header := []any{"id"}
	for _, c := range spineTitles(rv.Type, en) {
		header = append(header, c)
	}
	for _, f := range fields {
		header = append(header, pick(en, f.TitleBG, f.TitleEN))
	}
	if rv.Full {
		header = append(header, pick(en, "Версия", "Version"), pick(en, "Променено на", "Updated at"), pick(en, "Променено от", "Updated by"))
	}
	started = format == formatCSV
	if err := tw.Row(header); err != nil {
		return started, err
	}
	write := func(p entryJSON) error {
		row := []any{p.ID, p.Number, p.Date, p.Status, strings.Join(p.Identifiers, "; ")}
		for _, f := range fields {
			row = append(row, fieldValue(p, f))
		}
		if rv.Full {
			row = append(row, p.Version, p.UpdatedAt, p.UpdatedBy)
		}
		return tw.Row(row)
	}
	// A register with file fields looks up their documents a batch of rows
	// at a time (one query each), so memory stays flat.
	const fileBatch = 500
	var batch []entryJSON
	var batchEntries []registers.Entry
	flush := func() error {
		if err := withFiles(ctx, store, rv, batchEntries, batch); err != nil {
			return err
		}
		for _, p := range batch {
			if err := write(p); err != nil {
				return err
			}
		}
		batch, batchEntries = batch[:0], batchEntries[:0]
		return nil
	}
	withFileFields := len(fileFields(rv)) > 0
	_, err = searchVisible(ctx, store, rv, q, func(p entryJSON, e registers.Entry) error {
		if !withFileFields {
			return write(p)
		}
		batch, batchEntries = append(batch, p), append(batchEntries, e)
		if len(batch) < fileBatch {
			return nil
		}
		return flush()
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return started, err
	}
	// An XLSX goes out during Close: a failure there comes after bytes.
	return true, tw.Close()
}

// spineTitles are the titles of the columns every register has: number,
// date, status, cadastral identifiers, in the register's own words where
// it has them ("Акт №", "Дата на акта").
func spineTitles(t registers.Type, en bool) []string {
	out := []string{pick(en, t.NumberLabelBG, t.NumberLabelEN), pick(en, t.DateLabelBG, t.DateLabelEN),
		pick(en, "Състояние", "Status"), pick(en, "Кадастрални идентификатори", "Cadastral identifiers")}
	if out[0] == "" {
		out[0] = pick(en, "Номер", "Number")
	}
	if out[1] == "" {
		out[1] = pick(en, "Дата", "Date")
	}
	if f, ok := t.Field(registers.StatusField); ok {
		out[2] = pick(en, f.TitleBG, f.TitleEN)
	}
	if f, ok := t.IdentifiersField(); ok {
		out[3] = pick(en, f.TitleBG, f.TitleEN)
	}
	return out
}

// tableFields are the columns of a register's table (export, page) after
// the spine: the fields the caller may see, except status and the
// identifiers, which are spine columns.
func tableFields(rv registerView) []registers.Field {
	var out []registers.Field
	for _, f := range rv.Type.Fields {
		if (!rv.Full && !f.Public) || f.Type == registers.CadastralIDs || f.Name == registers.StatusField {
			continue
		}
		out = append(out, f)
	}
	return out
}

// fieldValue is field f of an entry for a table cell: a person field shows
// the names of the parties in that role (masked for the public).
func fieldValue(p entryJSON, f registers.Field) any {
	if f.Type == registers.Person || f.Type == registers.Persons {
		var names []string
		for _, pt := range p.Parties {
			if pt.Role == f.Name {
				names = append(names, pt.Name)
			}
		}
		if names == nil {
			return nil
		}
		return strings.Join(names, "; ")
	}
	if f.Type == registers.File {
		return fileCell(p, f)
	}
	return cellValue(p.Data[f.Name])
}

// cellValue flattens a data value for a spreadsheet cell: numbers stay
// numbers, lists are joined.
func cellValue(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int, int64:
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, fmt.Sprint(cellValue(e)))
		}
		return strings.Join(parts, "; ")
	case []string:
		return strings.Join(x, "; ")
	default:
		return fmt.Sprint(x)
	}
}

// entryInput is the body of POST and PUT …/entries.
type entryInput struct {
	Number      string            `json:"number"`
	Date        string            `json:"date"`
	Status      string            `json:"status"`
	Identifiers []string          `json:"identifiers"`
	Parties     []registers.Party `json:"parties"`
	Data        map[string]any    `json:"data"`
	// Version is the version the client edited (PUT): a change made by
	// someone else in between is refused with 409, not overwritten.
	Version int `json:"version"`
}

// entry is the input as an entry of register; the engine validates it.
func (in entryInput) entry(register string) (registers.Entry, error) {
	return registers.Entry{Register: register, Number: in.Number, Date: in.Date, Status: in.Status,
		Identifiers: in.Identifiers, Parties: in.Parties, Data: in.Data, Version: in.Version}, nil
}

// editableRegister is visibleRegister plus the edit grant.
func (s *Server) editableRegister(r *http.Request) (registerView, error) {
	name := mux.Vars(r)["name"]
	rv, v, err := s.visibleRegister(r, name)
	if err != nil {
		return rv, err
	}
	if !v.CanEditRegister(rv.Type.Name) {
		return rv, &munigis.Error{Code: munigis.Forbidden, Message: fmt.Sprintf("you may not change entries of register %s", name),
			MessageBG: fmt.Sprintf("нямате право да променяте вписвания в регистър %s", name)}
	}
	return rv, nil
}

// handleEntryCreate answers POST /api/registers/{name}/entries (edit
// grant). The engine validates every field in one transaction.
func (s *Server) handleEntryCreate(w http.ResponseWriter, r *http.Request) error {
	rv, err := s.editableRegister(r)
	if err != nil {
		return err
	}
	var in entryInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	e, err := in.entry(rv.Type.Name)
	if err != nil {
		return err
	}
	created, err := s.registers.Create(r.Context(), e)
	if err != nil {
		return err
	}
	out, err := entryOut(rv, created)
	if err != nil {
		return err
	}
	outs := []entryJSON{out}
	if err := withFiles(r.Context(), s.registers, rv, []registers.Entry{created}, outs); err != nil {
		return err
	}
	out = outs[0]
	w.Header().Set("Location", "/api/registers/"+rv.Type.Name+"/entries/"+strconv.FormatInt(created.ID, 10))
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// entryOf loads entry {id} of register {name}; an entry of another
// register answers like a missing one.
func (s *Server) entryOf(r *http.Request, rv registerView) (registers.Entry, error) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	e, err := s.registers.Get(r.Context(), id)
	if munigis.ErrorCode(err) == munigis.NotFound || (err == nil && e.Register != rv.Type.Name) {
		return e, errNoEntry(rv.Type.Name, id)
	}
	return e, err
}

// handleEntryGet answers GET /api/registers/{name}/entries/{id}: the entry
// as the caller may see it, with the documents of its file fields and, for
// staff who may read the register, its dossier and case files
// (handle_dossier.go).
func (s *Server) handleEntryGet(w http.ResponseWriter, r *http.Request) error {
	rv, v, err := s.visibleRegister(r, mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	e, err := s.entryOf(r, rv)
	if err != nil {
		return err
	}
	out, err := entryOut(rv, e)
	if err != nil {
		return err
	}
	outs := []entryJSON{out}
	if err := withFiles(r.Context(), s.registers, rv, []registers.Entry{e}, outs); err != nil {
		return err
	}
	out = outs[0]
	full, err := s.entryExtras(r.Context(), rv, v, e, out)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, full)
	return nil
}

// handleEntryUpdate answers PUT /api/registers/{name}/entries/{id} (edit
// grant) with the whole entry; version must be the one read.
func (s *Server) handleEntryUpdate(w http.ResponseWriter, r *http.Request) error {
	rv, err := s.editableRegister(r)
	if err != nil {
		return err
	}
	old, err := s.entryOf(r, rv)
	if err != nil {
		return err
	}
	var in entryInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.Version == 0 {
		return invalid("version", "give the version you edited (from GET), so that a change made meanwhile is not overwritten",
			"посочете версията, която редактирате (от GET), за да не се загуби чужда промяна")
	}
	e, err := in.entry(rv.Type.Name)
	if err != nil {
		return err
	}
	e.ID = old.ID
	updated, err := s.registers.Update(r.Context(), e)
	if err != nil {
		return err
	}
	out, err := entryOut(rv, updated)
	if err != nil {
		return err
	}
	outs := []entryJSON{out}
	if err := withFiles(r.Context(), s.registers, rv, []registers.Entry{updated}, outs); err != nil {
		return err
	}
	out = outs[0]
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleEntryHistory answers GET …/entries/{id}/history: the earlier
// versions, with who and when. Staff only: an old version holds what was
// never meant to be public.
func (s *Server) handleEntryHistory(w http.ResponseWriter, r *http.Request) error {
	rv, _, err := s.visibleRegister(r, mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	if !rv.Full {
		return &munigis.Error{Code: munigis.Forbidden, Message: "only staff with access to this register see an entry's history",
			MessageBG: "историята на вписване е достъпна само за служители"}
	}
	e, err := s.entryOf(r, rv)
	if err != nil {
		return err
	}
	versions, err := s.registers.History(r.Context(), e.ID)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, ver := range versions {
		old, err := entryOut(rv, ver.Entry)
		if err != nil {
			return err
		}
		out = append(out, map[string]any{
			"version": ver.Entry.Version, "number": old.Number, "date": old.Date, "status": old.Status,
			"identifiers": old.Identifiers, "parties": old.Parties, "data": old.Data,
			"valid_from": fmtTime(ver.ValidFrom), "created_by": ver.UpdatedBy,
			"valid_to": fmtTime(ver.ValidTo), "ended_by": ver.EndedBy, "ended_how": ver.EndedHow,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"register": rv.Type.Name, "entry_id": e.ID, "current_version": e.Version, "versions": out})
	return nil
}

// Persons. Reading them (ЕГН, addresses) needs a read grant on some
// register, creating one an edit grant on some register: a person exists
// only to be a party of entries, and whoever may enter those must be able
// to add the party first. Admins may do both.
func (s *Server) personAccess(ctx context.Context, edit bool) error {
	v := access.FromContext(ctx)
	if s.persons == nil || s.registers == nil || !v.SignedIn() {
		return personForbidden(edit)
	}
	if v.IsAdmin() {
		return nil
	}
	types, err := s.registers.Types(ctx)
	if err != nil {
		return err
	}
	for _, t := range types {
		if (edit && v.CanEditRegister(t.Name)) || (!edit && v.CanReadRegister(t.Name)) {
			return nil
		}
	}
	return personForbidden(edit)
}

func personForbidden(edit bool) error {
	if edit {
		return &munigis.Error{Code: munigis.Forbidden, Message: "only staff who may change a register's entries may add persons",
			MessageBG: "само служители с право да вписват в регистър могат да добавят лица"}
	}
	return &munigis.Error{Code: munigis.Forbidden, Message: "only staff with access to a register may see persons",
		MessageBG: "само служители с достъп до регистър виждат лицата"}
}

// handlePersonList answers GET /api/persons?q=…&limit=: by ЕГН/ЛНЧ/ЕИК
// exactly, or by name (Cyrillic or Latin).
func (s *Server) handlePersonList(w http.ResponseWriter, r *http.Request) error {
	if err := s.personAccess(r.Context(), false); err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return invalid("q", "give a name or an ЕГН, ЛНЧ or ЕИК to look for", "въведете име или ЕГН, ЛНЧ или ЕИК")
	}
	limit, err := intParam(r.URL.Query().Get("limit"), "limit", 20)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 200 {
		return invalid("limit", "must be between 1 and 200", "трябва да е между 1 и 200")
	}
	found, err := s.persons.Find(r.Context(), q, limit)
	if err != nil {
		return err
	}
	if found == nil {
		found = []persons.Person{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"persons": found})
	return nil
}

func (s *Server) handlePersonCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.personAccess(r.Context(), true); err != nil {
		return err
	}
	var p persons.Person
	if err := s.decode(w, r, &p); err != nil {
		return err
	}
	p.ID = 0
	created, err := s.persons.Create(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/persons/"+strconv.FormatInt(created.ID, 10))
	writeJSON(w, http.StatusCreated, created)
	return nil
}

func (s *Server) handlePersonGet(w http.ResponseWriter, r *http.Request) error {
	if err := s.personAccess(r.Context(), false); err != nil {
		return err
	}
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	p, err := s.persons.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// The municipal property register's timeline and operations (helper D's
// package): staff with access to the register.
const propertyRegister = "municipal_property"

func (s *Server) propertyEntry(r *http.Request, edit bool) (registerView, registers.Entry, error) {
	var rv registerView
	var err error
	if edit {
		rv, err = s.editableRegister(r)
	} else {
		rv, _, err = s.visibleRegister(r, propertyRegister)
	}
	if err != nil {
		return rv, registers.Entry{}, err
	}
	if s.property == nil {
		return rv, registers.Entry{}, errNoRoute
	}
	if !rv.Full {
		return rv, registers.Entry{}, &munigis.Error{Code: munigis.Forbidden, Message: "only staff with access to the municipal property register see its operations",
			MessageBG: "операциите с общински имоти са достъпни само за служители"}
	}
	e, err := s.entryOf(r, rv)
	return rv, e, err
}

func (s *Server) handlePropertyTimeline(w http.ResponseWriter, r *http.Request) error {
	_, e, err := s.propertyEntry(r, false)
	if err != nil {
		return err
	}
	tl, err := s.property.Timeline(r.Context(), e.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tl)
	return nil
}

// operationInput is the body of POST …/operations: property.Operation's
// fields with dates as YYYY-MM-DD, as everywhere else in the API.
type operationInput struct {
	Kind            property.Kind    `json:"kind"`
	Date            string           `json:"op_date"`
	DocumentNumber  string           `json:"document_number"`
	DocumentDate    string           `json:"document_date"`
	Parties         []property.Party `json:"parties"`
	Description     string           `json:"description"`
	Share           *float64         `json:"share"`
	AreaM2          *float64         `json:"area_m2"`
	AmountBGN       *float64         `json:"amount_bgn"`
	ResultingStatus property.State   `json:"resulting_status"`
}

func (s *Server) handlePropertyOperation(w http.ResponseWriter, r *http.Request) error {
	_, e, err := s.propertyEntry(r, true)
	if err != nil {
		return err
	}
	var in operationInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	op := property.Operation{EntryID: e.ID, Kind: in.Kind, DocumentNumber: in.DocumentNumber, Parties: in.Parties,
		Description: in.Description, Share: in.Share, AreaM2: in.AreaM2, AmountBGN: in.AmountBGN, ResultingStatus: in.ResultingStatus}
	for _, d := range []struct {
		v, name string
		to      *time.Time
	}{{in.Date, "op_date", &op.Date}, {in.DocumentDate, "document_date", &op.DocumentDate}} {
		t, err := dateParam(d.v, d.name)
		if err != nil {
			return err
		}
		if t != nil {
			*d.to = *t
		}
	}
	created, err := s.property.AddOperation(r.Context(), op)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, created)
	return nil
}

// handleReportList answers GET /api/reports: the справки and the
// parameters each reads.
func (s *Server) handleReportList(w http.ResponseWriter, r *http.Request) error {
	if err := s.personAccess(r.Context(), false); err != nil || s.property == nil {
		return &munigis.Error{Code: munigis.Forbidden, Message: "only staff with access to a register may run reports",
			MessageBG: "справките са достъпни само за служители"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": property.Reports})
	return nil
}

// handleReport answers GET /api/reports/{name}?from&to&days&format: the
// справки, as JSON or a CSV/XLSX download. Staff with access to a register.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) error {
	if err := s.personAccess(r.Context(), false); err != nil || s.property == nil {
		return &munigis.Error{Code: munigis.Forbidden, Message: "only staff with access to a register may run reports",
			MessageBG: "справките са достъпни само за служители"}
	}
	format, err := exportFormat(r)
	if err != nil {
		return err
	}
	p := r.URL.Query()
	// Tenants are natural persons too: masked unless the caller may read
	// the rentals register.
	rp := property.Params{Mask: !access.FromContext(r.Context()).CanReadRegister("rentals")}
	from, err := dateParam(p.Get("from"), "from")
	if err != nil {
		return err
	}
	to, err := dateParam(p.Get("to"), "to")
	if err != nil {
		return err
	}
	if from != nil && to != nil && to.Before(*from) {
		return invalid("to", "the end date is before the start date (from)", "крайната дата е преди началната (from)")
	}
	if from != nil {
		rp.From = *from
	}
	if to != nil {
		rp.To = *to
	}
	if rp.Days, err = intParam(p.Get("days"), "days", 30); err != nil {
		return err
	}
	if rp.Days < 1 || rp.Days > 3660 {
		return invalid("days", "must be between 1 and 3660", "трябва да е между 1 и 3660")
	}
	rep, err := s.property.Report(r.Context(), mux.Vars(r)["name"], rp)
	if err != nil {
		return err
	}
	if format == "" {
		writeJSON(w, http.StatusOK, rep)
		return nil
	}
	en := lang(r) == "en"
	header := make([]any, len(rep.Columns))
	for i, c := range rep.Columns {
		header[i] = c.TitleBG
		if en {
			header[i] = c.TitleEN
		}
	}
	title := rep.TitleBG
	if en {
		title = rep.TitleEN
	}
	tw, err := startExport(w, format, "report-"+rep.Name, title)
	if err != nil {
		return err
	}
	if err := tw.Row(header); err != nil {
		return err
	}
	for _, row := range rep.Rows {
		if err := tw.Row(row); err != nil {
			return err
		}
	}
	return tw.Close()
}

// The public registers page (seed item 30): published registers, a search
// box and a table of entries with public fields only and natural persons
// masked; the same for everyone, since it is the public's page.

type regPageText struct {
	Lang, Title, Intro, Search, Submit, Number, Date, Status, Objects, Parties, None, Found, Many, Other, OtherHref,
	Map, Related, Next, Prev, Download, Registers string
}

var regPageTexts = map[string]regPageText{
	"bg": {Lang: "bg", Title: "Публични регистри", Intro: "Регистрите, които общината публикува. Личните данни на физическите лица са скрити.",
		Search: "Търсене (номер, адрес, идентификатор, текст – на кирилица или латиница)", Submit: "Търси", Number: "Номер", Date: "Дата",
		Status: "Статус", Objects: "Обекти", Parties: "Лица", None: "Няма вписвания.", Found: "Намерени", Many: "много (повече, отколкото се броят бързо)", Other: "English",
		OtherHref: "en", Map: "на картата", Related: "вписвания", Next: "Следващи", Prev: "Предишни", Download: "Изтегли", Registers: "Регистри"},
	"en": {Lang: "en", Title: "Public registers", Intro: "The registers the municipality publishes. Personal data of natural persons is masked.",
		Search: "Search (number, address, identifier, text – Cyrillic or Latin)", Submit: "Search", Number: "Number", Date: "Date",
		Status: "Status", Objects: "Objects", Parties: "Parties", None: "No entries.", Found: "Found", Many: "many (more than can be counted quickly)", Other: "Български",
		OtherHref: "bg", Map: "on the map", Related: "entries", Next: "Next", Prev: "Previous", Download: "Download", Registers: "Registers"},
}

type regPageRow struct {
	Entry   entryJSON
	Objects []regPageObject
	Values  []string
}

// regPageObject is a cadastral identifier of an entry with the map's
// address of its object (/#18/lat/lon), empty when the object is not on
// the public map (an unresolved identifier).
type regPageObject struct {
	ID, MapHref string
}

type regPageData struct {
	T          regPageText
	Registers  []registerJSON
	Current    *registerJSON
	Title      string
	Columns    []string
	Rows       []regPageRow
	Query      string
	Matched    int64
	Error      string
	NextHref   string
	PrevHref   string
	CSVHref    string
	XLSXHref   string
	OtherHref  string
	RegisterBy map[string]string
}

var registersPage = template.Must(template.New("registers").Funcs(template.FuncMap{
	"title": func(lang, bg, en string) string {
		if lang == "en" && en != "" {
			return en
		}
		return bg
	},
}).Parse(`<!doctype html>
<html lang="{{.T.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.Title}}{{with .Title}} – {{.}}{{end}}</title>
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:72rem;padding:0 1rem;color:#222}
nav a{margin-right:.8rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.3rem .4rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
.ident{font-family:ui-monospace,monospace}form{margin:.8rem 0}input[type=search]{width:28rem;max-width:100%}
.err{color:#a00}
</style></head>
<body>
<nav><a href="/{{if eq .T.Lang "en"}}?lang=en{{end}}">munigis</a><a id="other-lang" href="{{.OtherHref}}">{{.T.Other}}</a></nav>
<h1>{{.T.Title}}</h1>
<p>{{.T.Intro}}</p>
<h2>{{.T.Registers}}</h2>
<ul id="registers">
{{range .Registers}}<li><a href="/registers?r={{.Name}}{{if eq $.T.Lang "en"}}&amp;lang=en{{end}}">{{title $.T.Lang .TitleBG .TitleEN}}</a></li>
{{else}}<li>{{$.T.None}}</li>{{end}}
</ul>
{{with .Current}}
<h2 id="register-title">{{title $.T.Lang .TitleBG .TitleEN}}</h2>
<form method="get" action="/registers">
<input type="hidden" name="r" value="{{.Name}}">{{if eq $.T.Lang "en"}}<input type="hidden" name="lang" value="en">{{end}}
<label>{{$.T.Search}}<br><input type="search" name="q" value="{{$.Query}}"></label>
<button type="submit">{{$.T.Submit}}</button>
</form>
{{if $.Error}}<p class="err">{{$.Error}}</p>{{end}}
<p>{{$.T.Found}}: <span id="matched">{{if lt $.Matched 0}}{{$.T.Many}}{{else}}{{$.Matched}}{{end}}</span> · {{$.T.Download}}: <a href="{{$.CSVHref}}">CSV</a> <a href="{{$.XLSXHref}}">XLSX</a></p>
<table id="entries"><thead><tr>{{range $.Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range $.Rows}}<tr>
<td>{{.Entry.Number}}</td><td>{{.Entry.Date}}</td><td>{{.Entry.Status}}</td>
<td>{{range .Objects}}{{if .MapHref}}<a class="ident" href="{{.MapHref}}" title="{{$.T.Map}}">{{.ID}}</a>{{else}}<span class="ident">{{.ID}}</span>{{end}} <a href="/api/cadastre/{{.ID}}/related">({{$.T.Related}})</a><br>{{end}}</td>
{{range .Values}}<td>{{.}}</td>{{end}}
</tr>
{{else}}<tr><td colspan="{{len $.Columns}}">{{$.T.None}}</td></tr>{{end}}
</tbody></table>
<p>{{with $.PrevHref}}<a href="{{.}}" rel="prev">{{$.T.Prev}}</a> {{end}}{{with $.NextHref}}<a href="{{.}}" rel="next">{{$.T.Next}}</a>{{end}}</p>
{{end}}
</body></html>
`))

// handleRegistersPage answers GET /registers?r=NAME&q=…&offset=&lang=en.
func (s *Server) handleRegistersPage(w http.ResponseWriter, r *http.Request) error {
	l := lang(r)
	d := regPageData{T: regPageTexts[l], Registers: []registerJSON{}}
	other := *r.URL
	oq := other.Query()
	if l == "en" {
		oq.Del("lang")
	} else {
		oq.Set("lang", "en")
	}
	other.RawQuery = oq.Encode()
	d.OtherHref = other.RequestURI()
	var types []registers.Type
	if s.registers != nil {
		var err error
		if types, err = s.registers.Types(r.Context()); err != nil {
			return err
		}
	}
	for _, t := range types {
		if t.Published {
			d.Registers = append(d.Registers, registerOut(registerView{Type: t}))
		}
	}
	status := http.StatusOK
	if name := r.URL.Query().Get("r"); name != "" {
		var rv registerView
		found := false
		for _, t := range types {
			if t.Name == name && t.Published {
				rv, found = registerView{Type: t}, true
			}
		}
		if !found {
			status = http.StatusNotFound
			d.Error = errNoRegister(name).Error()
		} else {
			cur := registerOut(rv)
			d.Current, d.Title = &cur, cur.TitleBG
			if l == "en" {
				d.Title = cur.TitleEN
			}
			if err := s.fillRegistersPage(r, rv, &d); err != nil {
				var me *munigis.Error
				if !errors.As(err, &me) || me.Code == munigis.Internal {
					return err
				}
				status = statusOf[me.Code]
				d.Error = me.Message
				if l == "bg" && me.MessageBG != "" {
					d.Error = me.MessageBG
				}
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	return registersPage.Execute(w, d)
}

func (s *Server) fillRegistersPage(r *http.Request, rv registerView, d *regPageData) error {
	en := d.T.Lang == "en"
	d.Columns = spineTitles(rv.Type, en)
	fields := tableFields(rv)
	for _, f := range fields {
		d.Columns = append(d.Columns, pick(en, f.TitleBG, f.TitleEN))
	}
	// The page's own parameters are r, q, offset and lang; the search
	// takes q, offset and a fixed page size.
	p := r.URL.Query()
	d.Query = p.Get("q")
	sq := url.Values{"q": {d.Query}, "offset": {p.Get("offset")}, "limit": {"50"}}
	fake := &http.Request{URL: &url.URL{RawQuery: sq.Encode()}}
	q, err := searchQuery(fake, rv)
	if err != nil {
		return err
	}
	hrefs := map[string]string{}
	var shown []entryJSON
	var entries []registers.Entry
	d.Matched, err = searchVisible(r.Context(), s.registers, rv, q, func(e entryJSON, entry registers.Entry) error {
		shown, entries = append(shown, e), append(entries, entry)
		return nil
	})
	if err != nil {
		return err
	}
	// The names and sizes of the file fields' files (handle_dossier.go).
	if err := withFiles(r.Context(), s.registers, rv, entries, shown); err != nil {
		return err
	}
	for _, e := range shown {
		row := regPageRow{Entry: e}
		for _, id := range e.Identifiers {
			row.Objects = append(row.Objects, regPageObject{ID: id, MapHref: s.mapHref(r.Context(), id, hrefs)})
		}
		for _, f := range fields {
			v := fieldValue(e, f)
			if v == nil {
				row.Values = append(row.Values, "")
			} else {
				row.Values = append(row.Values, fmt.Sprint(v))
			}
		}
		d.Rows = append(d.Rows, row)
	}
	page := func(offset int) string {
		v := url.Values{"r": {rv.Type.Name}, "offset": {strconv.Itoa(offset)}}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		if d.T.Lang == "en" {
			v.Set("lang", "en")
		}
		return "/registers?" + v.Encode()
	}
	if hasNext(q.Offset, q.Limit, len(d.Rows), d.Matched) {
		d.NextHref = page(q.Offset + q.Limit)
	}
	if q.Offset > 0 {
		d.PrevHref = page(max(q.Offset-q.Limit, 0))
	}
	exp := url.Values{}
	if d.Query != "" {
		exp.Set("q", d.Query)
	}
	if d.T.Lang == "en" {
		exp.Set("lang", "en")
	}
	base := "/api/registers/" + rv.Type.Name + "/entries?"
	exp.Set("format", "csv")
	d.CSVHref = base + exp.Encode()
	exp.Set("format", "xlsx")
	d.XLSXHref = base + exp.Encode()
	return nil
}

// mapHref returns the map page's address of the cadastral object id
// (/#18/lat/lon at the middle of its bounding box) as the public map shows
// it, or "" when it is not there. seen caches the answers of one page.
func (s *Server) mapHref(ctx context.Context, raw string, seen map[string]string) string {
	if h, ok := seen[raw]; ok {
		return h
	}
	seen[raw] = ""
	id, err := spatial.Parse(raw)
	if err != nil || s.layers == nil {
		return ""
	}
	pub := access.Anonymous
	obj, err := s.layers.Cadastral(ctx, id, spatial.SRIDWGS84, pub.CanRead, pub.Attributes)
	if err != nil || obj.Feature.Geometry == nil {
		return ""
	}
	b := obj.Feature.Geometry.Bounds()
	if b == nil || b.IsEmpty() {
		return ""
	}
	lon, lat := (b.Min(0)+b.Max(0))/2, (b.Min(1)+b.Max(1))/2
	seen[raw] = fmt.Sprintf("/#18/%.6f/%.6f", lat, lon)
	return seen[raw]
}

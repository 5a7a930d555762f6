package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"munigis"
	"munigis/access"
	"munigis/documents"
	"munigis/registers"
)

// The dossier (досие) of a register entry, its case files and the files of
// its `file` fields (issue 6; registers/dossier.go keeps the rules). A
// dossier is for staff who may read the register (change: edit grant); the
// public gets the same 404 as for a missing entry. A file field's document
// is served to the public only when the register is published and the
// field public.

// DossierStore is what the web layer needs of the dossiers, case-file links
// and file fields of register entries (*registers.Store; part of
// RegisterStore).
type DossierStore interface {
	Dossier(ctx context.Context, entryID int64) ([]registers.DossierDocument, error)
	DossierWithRemoved(ctx context.Context, entryID int64) ([]registers.DossierDocument, error)
	DossierDocument(ctx context.Context, entryID, documentID int64) (registers.DossierDocument, error)
	AddToDossier(ctx context.Context, entryID int64, nd documents.NewDocument) (registers.DossierDocument, error)
	LinkToDossier(ctx context.Context, entryID, documentID int64) (registers.DossierDocument, error)
	RemoveFromDossier(ctx context.Context, entryID, documentID int64, reason string) (registers.DossierDocument, error)
	Content(ctx context.Context, documentID int64) (documents.FileInfo, []byte, error)
	FieldFile(ctx context.Context, entryID int64, field string) (registers.Field, int64, error)
	Files(ctx context.Context, ids []int64) (map[int64]registers.FileRef, error)
	CaseFiles(ctx context.Context, entryID int64) ([]registers.LinkedCase, error)
	LinkCaseFile(ctx context.Context, entryID int64, caseNumber string) (registers.LinkedCase, error)
	UnlinkCaseFile(ctx context.Context, entryID int64, caseNumber string) error
}

// dossierRoutes adds the routes of this file; routes() calls it.
func (s *Server) dossierRoutes(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	const entry = "/api/registers/{name}/entries/{id:[0-9]+}"
	r.Handle(entry+"/documents", s.handle(s.handleDossierList)).Methods(get...).Name("dossier")
	r.Handle(entry+"/documents", s.handle(s.handleDossierAdd)).Methods(http.MethodPost)
	r.Handle(entry+"/documents/{doc:[0-9]+}", s.handle(s.handleDossierRemove)).Methods(http.MethodDelete)
	r.Handle(entry+"/documents/{doc:[0-9]+}/content", s.handle(s.handleDossierContent)).Methods(get...)
	r.Handle(entry+"/files/{field}", s.handle(s.handleEntryFile)).Methods(get...)
	r.Handle(entry+"/case-files", s.handle(s.handleEntryCaseFiles)).Methods(get...)
	r.Handle(entry+"/case-files", s.handle(s.handleEntryCaseLink)).Methods(http.MethodPost)
	r.Handle(entry+"/case-files", s.handle(s.handleEntryCaseUnlink)).Methods(http.MethodDelete)
}

// dossierEntry loads entry {id} of register {name} for the dossier routes:
// staff who may read the register, else the 404 of a missing entry (the
// public may not learn what a dossier holds, nor that one exists); edit
// also needs the register's edit grant (403).
func (s *Server) dossierEntry(r *http.Request, edit bool) (registerView, access.Viewer, registers.Entry, error) {
	name := mux.Vars(r)["name"]
	rv, v, err := s.visibleRegister(r, name)
	if err != nil {
		return rv, v, registers.Entry{}, err
	}
	if !rv.Full {
		id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
		return rv, v, registers.Entry{}, errNoEntry(rv.Type.Name, id)
	}
	e, err := s.entryOf(r, rv)
	if err != nil {
		return rv, v, e, err
	}
	if edit && !v.CanEditRegister(rv.Type.Name) {
		return rv, v, e, &munigis.Error{Code: munigis.Forbidden,
			Message:   fmt.Sprintf("you may not change the dossier of entries of register %s", rv.Type.Name),
			MessageBG: fmt.Sprintf("нямате право да променяте досиетата на вписванията в регистър %s", rv.Type.Name)}
	}
	return rv, v, e, nil
}

func entryPath(register string, id int64) string {
	return "/api/registers/" + register + "/entries/" + strconv.FormatInt(id, 10)
}

// dossierJSON is a document of a dossier as the API shows it.
type dossierJSON struct {
	registers.DossierDocument
	Links []link `json:"links"`
}

func dossierOut(register string, dd registers.DossierDocument) dossierJSON {
	self := entryPath(register, dd.EntryID) + "/documents/" + strconv.FormatInt(dd.DocumentID, 10)
	out := dossierJSON{DossierDocument: dd, Links: []link{
		{Href: "/api/documents/" + strconv.FormatInt(dd.DocumentID, 10), Rel: "describedby", Type: "application/json"}}}
	if dd.File != nil && dd.RemovedAt == nil {
		out.Links = append(out.Links, link{Href: self + "/content", Rel: "enclosure", Type: dd.File.MediaType, Title: dd.File.FileName})
	}
	return out
}

func dossierListOut(register string, list []registers.DossierDocument) []dossierJSON {
	out := make([]dossierJSON, 0, len(list))
	for _, dd := range list {
		out = append(out, dossierOut(register, dd))
	}
	return out
}

// handleDossierList answers GET …/entries/{id}/documents: the documents in
// the entry's dossier; ?removed=true lists those taken out too.
func (s *Server) handleDossierList(w http.ResponseWriter, r *http.Request) error {
	rv, _, e, err := s.dossierEntry(r, false)
	if err != nil {
		return err
	}
	list, err := s.dossier(r.Context(), e.ID, r.URL.Query().Get("removed") == "true")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"register": rv.Type.Name, "entry_id": e.ID,
		"documents": dossierListOut(rv.Type.Name, list)})
	return nil
}

func (s *Server) dossier(ctx context.Context, entryID int64, removed bool) ([]registers.DossierDocument, error) {
	if removed {
		return s.registers.DossierWithRemoved(ctx, entryID)
	}
	return s.registers.Dossier(ctx, entryID)
}

// handleDossierAdd answers POST …/entries/{id}/documents (edit grant):
// multipart/form-data with a "metadata" JSON part (documents.NewDocument)
// and then a "file" part creates the document and files it in the dossier
// in one transaction (a refused file: 413 or 415, nothing kept); JSON
// {"document_id": n} files an existing document, which needs the right to
// read documents (else a dossier would hand out documents one may not see).
func (s *Server) handleDossierAdd(w http.ResponseWriter, r *http.Request) error {
	rv, v, e, err := s.dossierEntry(r, true)
	if err != nil {
		return err
	}
	var added registers.DossierDocument
	if isMultipart(r) {
		var nd documents.NewDocument
		err = s.readMultipart(w, r, &nd, []string{"file"}, func(up upload, f *documents.Upload) error {
			if !up.HasMeta {
				return invalid("metadata", "send the document's fields as a JSON part named metadata, before the file part",
					"изпратете данните на документа като JSON част metadata преди файла")
			}
			if f == nil {
				return invalid("file", "send the file as a part named file, after the metadata",
					"изпратете файла като част file след metadata")
			}
			if nd.Register && !v.CanRegisterDocuments() {
				return needRegister.forbidden()
			}
			nd.File = f
			var err error
			added, err = s.registers.AddToDossier(r.Context(), e.ID, nd)
			return err
		})
	} else {
		var in struct {
			DocumentID int64 `json:"document_id"`
		}
		if err := s.decode(w, r, &in); err != nil {
			return err
		}
		if !v.CanReadCases() {
			return needRead.forbidden()
		}
		added, err = s.registers.LinkToDossier(r.Context(), e.ID, in.DocumentID)
	}
	if err != nil {
		return err
	}
	out := dossierOut(rv.Type.Name, added)
	w.Header().Set("Location", out.Links[0].Href)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// handleDossierRemove answers DELETE …/entries/{id}/documents/{doc}?reason=
// (edit grant): the document leaves the dossier, with the reason; the
// inclusion and the document stay.
func (s *Server) handleDossierRemove(w http.ResponseWriter, r *http.Request) error {
	rv, _, e, err := s.dossierEntry(r, true)
	if err != nil {
		return err
	}
	doc, err := pathVarID(r, "doc")
	if err != nil {
		return err
	}
	removed, err := s.registers.RemoveFromDossier(r.Context(), e.ID, doc, r.URL.Query().Get("reason"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dossierOut(rv.Type.Name, removed))
	return nil
}

// handleDossierContent answers GET …/entries/{id}/documents/{doc}/content:
// the current file of a document in the dossier (staff who may read the
// register).
func (s *Server) handleDossierContent(w http.ResponseWriter, r *http.Request) error {
	_, _, e, err := s.dossierEntry(r, false)
	if err != nil {
		return err
	}
	doc, err := pathVarID(r, "doc")
	if err != nil {
		return err
	}
	if _, err := s.registers.DossierDocument(r.Context(), e.ID, doc); err != nil {
		return err
	}
	fi, content, err := s.registers.Content(r.Context(), doc)
	if err != nil {
		return err
	}
	return writeFile(w, r, fi, content, "private, no-cache")
}

// handleEntryFile answers GET …/entries/{id}/files/{field}: the document
// of a file field. Staff who may read the register get any file field; the
// public, of a published register, a public field only (else the 404 of a
// field that does not exist).
func (s *Server) handleEntryFile(w http.ResponseWriter, r *http.Request) error {
	rv, _, err := s.visibleRegister(r, mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	name := mux.Vars(r)["field"]
	f, ok := rv.Type.Field(name)
	if !ok || f.Type != registers.File || (!rv.Full && !f.Public) {
		return &munigis.Error{Code: munigis.NotFound,
			Message:   fmt.Sprintf("register %s has no file field %q", rv.Type.Name, name),
			MessageBG: fmt.Sprintf("регистър %s няма поле за файл %q", rv.Type.Name, name)}
	}
	e, err := s.entryOf(r, rv)
	if err != nil {
		return err
	}
	_, doc, err := s.registers.FieldFile(r.Context(), e.ID, f.Name)
	if err != nil {
		return err
	}
	fi, content, err := s.registers.Content(r.Context(), doc)
	if err != nil {
		return err
	}
	cache := "private, no-cache"
	if !rv.Full {
		cache = "public, no-cache"
	}
	return writeFile(w, r, fi, content, cache)
}

// caseLinkInput is the body of POST and DELETE …/case-files.
type caseLinkInput struct {
	Number string `json:"number"`
}

// caseEntry is dossierEntry for the case-file routes, which also need the
// right to see case files.
func (s *Server) caseEntry(r *http.Request, edit bool) (registerView, registers.Entry, error) {
	rv, v, e, err := s.dossierEntry(r, edit)
	if err != nil {
		return rv, e, err
	}
	if !v.CanReadCases() {
		return rv, e, needRead.forbidden()
	}
	return rv, e, nil
}

// handleEntryCaseFiles answers GET …/entries/{id}/case-files.
func (s *Server) handleEntryCaseFiles(w http.ResponseWriter, r *http.Request) error {
	rv, e, err := s.caseEntry(r, false)
	if err != nil {
		return err
	}
	list, err := s.registers.CaseFiles(r.Context(), e.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"register": rv.Type.Name, "entry_id": e.ID, "case_files": caseFilesOut(list)})
	return nil
}

// linkedCaseJSON is a linked case file with its link.
type linkedCaseJSON struct {
	registers.LinkedCase
	Links []link `json:"links"`
}

func caseFilesOut(list []registers.LinkedCase) []linkedCaseJSON {
	out := make([]linkedCaseJSON, 0, len(list))
	for _, c := range list {
		out = append(out, linkedCaseJSON{LinkedCase: c, Links: []link{
			{Href: "/api/case-files/" + strconv.FormatInt(c.ID, 10), Rel: "related", Type: "application/json", Title: c.Number}}})
	}
	return out
}

// handleEntryCaseLink answers POST …/entries/{id}/case-files {"number"}
// (edit grant on the register and the right to see case files).
func (s *Server) handleEntryCaseLink(w http.ResponseWriter, r *http.Request) error {
	_, e, err := s.caseEntry(r, true)
	if err != nil {
		return err
	}
	var in caseLinkInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.registers.LinkCaseFile(r.Context(), e.ID, in.Number)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, caseFilesOut([]registers.LinkedCase{c})[0])
	return nil
}

// handleEntryCaseUnlink answers DELETE …/entries/{id}/case-files with
// {"number"} (or ?number=) and returns the case files still linked.
func (s *Server) handleEntryCaseUnlink(w http.ResponseWriter, r *http.Request) error {
	rv, e, err := s.caseEntry(r, true)
	if err != nil {
		return err
	}
	in := caseLinkInput{Number: r.URL.Query().Get("number")}
	if in.Number == "" && r.ContentLength != 0 {
		if err := s.decode(w, r, &in); err != nil {
			return err
		}
	}
	if err := s.registers.UnlinkCaseFile(r.Context(), e.ID, in.Number); err != nil {
		return err
	}
	list, err := s.registers.CaseFiles(r.Context(), e.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"register": rv.Type.Name, "entry_id": e.ID, "case_files": caseFilesOut(list)})
	return nil
}

// fileJSON is what an entry shows of the document of a file field: staff
// see the document (id, name); the public the file's name, size and type.
type fileJSON struct {
	DocumentID int64  `json:"document_id,omitempty"`
	Name       string `json:"name,omitempty"`
	FileName   string `json:"file_name,omitempty"`
	Size       int64  `json:"size,omitempty"`
	MediaType  string `json:"media_type,omitempty"`
	Href       string `json:"href"`
}

// fileFields are the file fields of rv the caller may see.
func fileFields(rv registerView) []registers.Field {
	var out []registers.Field
	for _, f := range rv.Type.Fields {
		if f.Type == registers.File && (rv.Full || f.Public) {
			out = append(out, f)
		}
	}
	return out
}

// withFiles fills outs[i].Files from the file fields of entries[i] (one
// query for them all).
func withFiles(ctx context.Context, store RegisterStore, rv registerView, entries []registers.Entry, outs []entryJSON) error {
	fields := fileFields(rv)
	if len(fields) == 0 {
		return nil
	}
	var ids []int64
	for _, e := range entries {
		for _, f := range fields {
			if id, ok := e.Data[f.Name].(int64); ok {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	refs, err := store.Files(ctx, ids)
	if err != nil {
		return err
	}
	for i, e := range entries {
		for _, f := range fields {
			id, ok := e.Data[f.Name].(int64)
			if !ok {
				continue
			}
			ref, ok := refs[id]
			if !ok {
				continue
			}
			fj := fileJSON{Href: entryPath(rv.Type.Name, e.ID) + "/files/" + f.Name}
			if rv.Full {
				fj.DocumentID, fj.Name = ref.DocumentID, ref.Name
			}
			if ref.File != nil {
				fj.FileName, fj.Size, fj.MediaType = ref.File.FileName, ref.File.Size, ref.File.MediaType
			}
			if outs[i].Files == nil {
				outs[i].Files = map[string]fileJSON{}
			}
			outs[i].Files[f.Name] = fj
		}
	}
	return nil
}

// fileCell is a file field in an export: staff get the document id and
// name and the file name ("12: Заповед № 5 (zapoved.pdf)"), the public the
// file name and size.
func fileCell(p entryJSON, f registers.Field) any {
	fj, ok := p.Files[f.Name]
	if !ok {
		return cellValue(p.Data[f.Name])
	}
	if fj.DocumentID != 0 {
		s := strconv.FormatInt(fj.DocumentID, 10) + ": " + fj.Name
		if fj.FileName != "" {
			s += " (" + fj.FileName + ")"
		}
		return s
	}
	return strings.TrimSpace(fmt.Sprintf("%s (%d B)", fj.FileName, fj.Size))
}

// entryWithExtras is one entry as GET …/entries/{id} shows it to a staff
// reader of the register: with its dossier and, with the right to see case
// files, its case files.
type entryWithExtras struct {
	entryJSON
	Dossier   *[]dossierJSON    `json:"dossier,omitempty"`
	CaseFiles *[]linkedCaseJSON `json:"case_files,omitempty"`
}

func (s *Server) entryExtras(ctx context.Context, rv registerView, v access.Viewer, e registers.Entry, p entryJSON) (entryWithExtras, error) {
	out := entryWithExtras{entryJSON: p}
	if !rv.Full {
		return out, nil
	}
	list, err := s.registers.Dossier(ctx, e.ID)
	if err != nil {
		return out, err
	}
	d := dossierListOut(rv.Type.Name, list)
	out.Dossier = &d
	out.Links = append(out.Links, link{Href: entryPath(rv.Type.Name, e.ID) + "/documents", Rel: "dossier", Type: "application/json"})
	if v.CanReadCases() {
		cases, err := s.registers.CaseFiles(ctx, e.ID)
		if err != nil {
			return out, err
		}
		c := caseFilesOut(cases)
		out.CaseFiles = &c
	}
	return out, nil
}

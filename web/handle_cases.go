package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"munigis/access"
	"munigis/casefiles"
	"munigis/documents"
)

// Services, case files and tasks (issue 7; Art. 14, 41–49, 54–66, 104–113
// of the documents regulation). The store (package casefiles) keeps the
// rules; this file reads requests, asks the viewer and writes answers.

func (s *Server) casesGate(r *http.Request, n caseNeed, notFound error) (access.Viewer, error) {
	if s.cases == nil {
		return access.Viewer{}, errNoRoute
	}
	return s.caseGate(r, n, notFound)
}

func errNoCase(raw string) error {
	return errNotFoundBG(fmt.Sprintf("case file %s does not exist", raw), fmt.Sprintf("преписка %s не съществува", raw))
}

func errNoTask(raw string) error {
	return errNotFoundBG(fmt.Sprintf("task %s does not exist", raw), fmt.Sprintf("задача %s не съществува", raw))
}

// Services (Art. 54–59). The nomenclature of services is what the
// administration offers citizens and is published (Art. 58), so anyone may
// read it; adding to it needs the nomenclatures grant.

func (s *Server) handleServiceList(w http.ResponseWriter, r *http.Request) error {
	if s.cases == nil {
		return errNoRoute
	}
	list, err := s.cases.Services(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []casefiles.Service{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": list})
	return nil
}

func (s *Server) handleServiceGet(w http.ResponseWriter, r *http.Request) error {
	if s.cases == nil {
		return errNoRoute
	}
	sv, err := s.cases.Service(r.Context(), mux.Vars(r)["code"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sv)
	return nil
}

func (s *Server) handleServiceCreate(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needNomenclatures, nil); err != nil {
		return err
	}
	var sv casefiles.Service
	if err := s.decode(w, r, &sv); err != nil {
		return err
	}
	out, err := s.cases.CreateService(r.Context(), sv)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/services/"+url.PathEscape(out.Code))
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// Case files (Art. 41–49).

// caseOf reads the case file named by {id}: its id, or its number (the
// registration number of the opening document, Art. 44(1)).
func (s *Server) caseOf(r *http.Request) (casefiles.CaseFile, error) {
	raw := mux.Vars(r)["id"]
	if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if id <= 0 {
			return casefiles.CaseFile{}, errNoCase(raw)
		}
		return s.cases.Get(r.Context(), id)
	}
	return s.cases.GetByNumber(r.Context(), raw)
}

// caseID is the id of the case file named by {id} (an id is used as is).
func (s *Server) caseID(r *http.Request) (int64, error) {
	raw := mux.Vars(r)["id"]
	if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 {
		return id, nil
	}
	c, err := s.caseOf(r)
	return c.ID, err
}

// caseJSON is a case file with its links.
type caseJSON struct {
	casefiles.CaseFile
	Links []link `json:"links"`
}

func caseOut(c casefiles.CaseFile) caseJSON {
	self := "/api/case-files/" + strconv.FormatInt(c.ID, 10)
	out := caseJSON{CaseFile: c, Links: []link{{Href: self, Rel: "self", Type: "application/json"}}}
	if out.Identifiers == nil {
		out.Identifiers = []string{}
	}
	if out.Features == nil {
		out.Features = []casefiles.FeatureLink{}
	}
	if c.Number != "" {
		out.Links = append(out.Links, link{Href: "/api/odr/entries/" + url.PathEscape(c.Number), Rel: "describedby",
			Type: "application/json", Title: c.Number})
	}
	for _, id := range out.Identifiers {
		out.Links = append(out.Links, link{Href: "/api/cadastre/" + id, Rel: "related", Type: "application/geo+json", Title: id})
	}
	return out
}

// handleCaseList answers GET /api/case-files?status&service&identifier&
// below&q&limit&offset, paged like the registers.
func (s *Server) handleCaseList(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needRead, nil); err != nil {
		return err
	}
	p := r.URL.Query()
	q := casefiles.Query{Status: strings.TrimSpace(p.Get("status")), Service: strings.TrimSpace(p.Get("service")),
		Q: strings.TrimSpace(p.Get("q"))}
	switch q.Status {
	case "", casefiles.Open, casefiles.Closed, casefiles.Cancelled:
	default:
		return invalid("status", fmt.Sprintf("%q is not one of open, closed, cancelled", q.Status),
			fmt.Sprintf("%q не е open, closed или cancelled", q.Status))
	}
	if raw := strings.TrimSpace(p.Get("identifier")); raw != "" {
		id, err := parseIdentifier(raw, "identifier")
		if err != nil {
			return err
		}
		q.Identifier = id.String()
	}
	switch p.Get("below") {
	case "", "0", "false":
	case "1", "true":
		q.Below = true
	default:
		return invalid("below", "must be 1 or 0", "трябва да е 1 или 0")
	}
	var err error
	if q.Limit, q.Offset, err = pageParams(p, pageMaxLimit); err != nil {
		return err
	}
	list, n, err := s.cases.List(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]caseJSON, 0, len(list))
	for _, c := range list {
		out = append(out, caseOut(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"case_files": out, "numberMatched": n, "numberReturned": len(out),
		"links": pageLinks(r, q.Limit, q.Offset, len(out), n)})
	return nil
}

// handleCaseOpen answers POST /api/case-files: JSON casefiles.Opening, or
// multipart with a "metadata" JSON part (the Opening, whose "document"
// describes the new opening document) and a "file" part with its content.
// Opening registers the opening document (Art. 44(1)), so it needs the
// register's grant too. The answer carries the access code: the only time
// it is shown (only its hash is kept).
func (s *Server) handleCaseOpen(w http.ResponseWriter, r *http.Request) error {
	v, err := s.casesGate(r, needEdit, nil)
	if err != nil {
		return err
	}
	if !v.CanRegisterDocuments() {
		return needRegister.forbidden()
	}
	var o casefiles.Opening
	var opened casefiles.Opened
	if isMultipart(r) {
		if s.documents == nil {
			return errNoRoute
		}
		err = s.readMultipart(w, r, &o, []string{"file"}, func(up upload, f *documents.Upload) error {
			if !up.HasMeta {
				return invalid("metadata", "send the case file as a JSON part named metadata, before the file part",
					"изпратете данните на преписката като JSON част metadata преди файла")
			}
			if f != nil {
				if o.Document == nil {
					return invalid("metadata.document", "a file needs the opening document described under \"document\"",
						"файлът изисква описание на входящия документ в \"document\"")
				}
				o.Document.File = f
			}
			if err := s.readableFeatures(r, o.Features); err != nil {
				return err
			}
			var err error
			opened, err = s.cases.Open(r.Context(), o)
			return err
		})
	} else {
		if err := s.decode(w, r, &o); err != nil {
			return err
		}
		if err := s.readableFeatures(r, o.Features); err != nil {
			return err
		}
		opened, err = s.cases.Open(r.Context(), o)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/case-files/"+strconv.FormatInt(opened.CaseFile.ID, 10))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"case_file": caseOut(opened.CaseFile), "access_code": opened.AccessCode})
	return nil
}

func (s *Server) handleCaseGet(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needRead, errNoCase(mux.Vars(r)["id"])); err != nil {
		return err
	}
	c, err := s.caseOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, caseOut(c))
	return nil
}

// handleCaseItemAdd answers POST /api/case-files/{id}/items with
// {section, document_id | case_file_id} (Art. 46–47).
func (s *Server) handleCaseItemAdd(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needEdit, nil); err != nil {
		return err
	}
	var in struct {
		Section    string `json:"section"`
		DocumentID *int64 `json:"document_id"`
		CaseFileID *int64 `json:"case_file_id"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if (in.DocumentID == nil) == (in.CaseFileID == nil) {
		return invalid("document_id", "give either document_id or case_file_id", "посочете document_id или case_file_id")
	}
	id, err := s.caseID(r)
	if err != nil {
		return err
	}
	item, err := s.cases.AddItem(r.Context(), id, in.Section, in.DocumentID, in.CaseFileID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, item)
	return nil
}

// handleCaseItemRemove answers DELETE /api/case-files/{id}/items/{item}?
// reason=. Taking a document out of the official section moves it to the
// control section and needs the official_section grant (Art. 45(2)); web
// checks it before asking the store, which checks it again.
func (s *Server) handleCaseItemRemove(w http.ResponseWriter, r *http.Request) error {
	v, err := s.casesGate(r, needEdit, nil)
	if err != nil {
		return err
	}
	itemID, err := pathVarID(r, "item")
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(r.URL.Query().Get("reason"))
	c, err := s.caseOf(r)
	if err != nil {
		return err
	}
	found := false
	for _, it := range c.Items {
		if it.ID == itemID {
			found = true
			if it.Section == casefiles.Official && !v.CanRemoveOfficial() {
				return needRemove.forbidden()
			}
		}
	}
	if !found {
		return errNotFoundBG(fmt.Sprintf("case file %s has no item %d", c.Number, itemID),
			fmt.Sprintf("преписка %s няма елемент %d", c.Number, itemID))
	}
	item, err := s.cases.RemoveItem(r.Context(), c.ID, itemID, reason, v.CanRemoveOfficial())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, item)
	return nil
}

// linksInput is the body of POST and DELETE /api/case-files/{id}/links.
type linksInput struct {
	Identifiers []string                `json:"identifiers"`
	Features    []casefiles.FeatureLink `json:"features"`
}

func (s *Server) handleCaseLinks(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needEdit, nil); err != nil {
		return err
	}
	var in linksInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if len(in.Identifiers) == 0 && len(in.Features) == 0 {
		return invalid("identifiers", "give identifiers or features", "посочете identifiers или features")
	}
	for i, raw := range in.Identifiers {
		id, err := parseIdentifier(raw, fmt.Sprintf("identifiers[%d]", i))
		if err != nil {
			return err
		}
		in.Identifiers[i] = id.String()
	}
	if err := s.readableFeatures(r, in.Features); err != nil {
		return err
	}
	id, err := s.caseID(r)
	if err != nil {
		return err
	}
	var c casefiles.CaseFile
	if r.Method == http.MethodDelete {
		c, err = s.cases.Unlink(r.Context(), id, in.Identifiers, in.Features)
	} else {
		c, err = s.cases.Link(r.Context(), id, in.Identifiers, in.Features)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, caseOut(c))
	return nil
}

// readableFeatures refuses a link to a feature of a layer the caller may
// not read, answering as if the layer did not exist: a case file must not
// become a way to learn of (or pin) internal layers.
func (s *Server) readableFeatures(r *http.Request, fs []casefiles.FeatureLink) error {
	for _, f := range fs {
		if _, _, err := s.visibleLayer(r, f.Layer); err != nil {
			return err
		}
	}
	return nil
}

// handleCaseClose answers POST /api/case-files/{id}/close with {version,
// status}: closed or cancelled.
func (s *Server) handleCaseClose(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needEdit, nil); err != nil {
		return err
	}
	var in struct {
		Version int    `json:"version"`
		Status  string `json:"status"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.Status == "" {
		in.Status = casefiles.Closed
	}
	id, err := s.caseID(r)
	if err != nil {
		return err
	}
	c, err := s.cases.Close(r.Context(), id, in.Version, in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, caseOut(c))
	return nil
}

// handleCaseAccessCode answers POST /api/case-files/{id}/access-code: a
// new access identifier (the old one stops working), shown this once.
func (s *Server) handleCaseAccessCode(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needEdit, nil); err != nil {
		return err
	}
	c, err := s.caseOf(r)
	if err != nil {
		return err
	}
	code, err := s.cases.NewAccessCode(r.Context(), c.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"case_file_id": c.ID, "number": c.Number, "access_code": code})
	return nil
}

// handleCaseTaskAdd answers POST /api/case-files/{id}/tasks with a task
// (Art. 14's fields) for that case file.
func (s *Server) handleCaseTaskAdd(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needEdit, nil); err != nil {
		return err
	}
	var in struct {
		Name             string `json:"name"`
		Description      string `json:"description"`
		StageID          *int64 `json:"stage_id"`
		ExecutorSystemID string `json:"executor"`
		UnitID           *int64 `json:"unit_id"`
		PlannedStart     string `json:"planned_start"`
		PlannedEnd       string `json:"planned_end"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	id, err := s.caseID(r)
	if err != nil {
		return err
	}
	t, err := s.cases.AddTask(r.Context(), casefiles.Task{CaseFileID: &id, Name: in.Name, Description: in.Description,
		StageID: in.StageID, ExecutorSystemID: in.ExecutorSystemID, UnitID: in.UnitID, PlannedStart: in.PlannedStart,
		PlannedEnd: in.PlannedEnd})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/tasks/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, t)
	return nil
}

// Tasks (Art. 14, 65–66, 104–113).

// handleTaskList answers GET /api/tasks?due=overdue|week&executor=me|U-…&
// unit=ID&limit=: the overdue or this week's pending tasks of a person
// (default: the caller) or of a unit with its sub-units (Art. 111, 113).
func (s *Server) handleTaskList(w http.ResponseWriter, r *http.Request) error {
	v, err := s.casesGate(r, needRead, nil)
	if err != nil {
		return err
	}
	p := r.URL.Query()
	q := casefiles.DueQuery{Kind: p.Get("due")}
	switch q.Kind {
	case "":
		q.Kind = "overdue"
	case "overdue", "week":
	default:
		return invalid("due", fmt.Sprintf("%q is not overdue or week", q.Kind), fmt.Sprintf("%q не е overdue или week", q.Kind))
	}
	switch ex := strings.TrimSpace(p.Get("executor")); ex {
	case "me":
		q.ExecutorSystemID = v.SystemID
	default:
		q.ExecutorSystemID = ex
	}
	if raw := p.Get("unit"); raw != "" {
		unit, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || unit <= 0 {
			return invalid("unit", fmt.Sprintf("%q is not a unit id", raw), fmt.Sprintf("%q не е идентификатор на звено", raw))
		}
		q.UnitID = unit
	}
	if q.ExecutorSystemID == "" && q.UnitID == 0 {
		q.ExecutorSystemID = v.SystemID
	}
	if q.Limit, err = intParam(p.Get("limit"), "limit", pageDefaultLimit*4); err != nil {
		return err
	}
	if q.Limit < 1 || q.Limit > pageMaxLimit {
		return invalid("limit", fmt.Sprintf("must be between 1 and %d", pageMaxLimit), fmt.Sprintf("трябва да е между 1 и %d", pageMaxLimit))
	}
	tasks, err := s.cases.Due(r.Context(), q)
	if err != nil {
		return err
	}
	if tasks == nil {
		tasks = []casefiles.Task{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"due": q.Kind, "executor": q.ExecutorSystemID, "unit": q.UnitID, "tasks": tasks})
	return nil
}

func (s *Server) handleTaskGet(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needRead, errNoTask(mux.Vars(r)["id"])); err != nil {
		return err
	}
	id, err := pathVarID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.cases.Task(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// handleTaskUpdate answers PATCH /api/tasks/{id} (casefiles.TaskUpdate) and
// POST /api/tasks/{id}/complete (the same body: the actual dates and the
// result documents, Art. 110).
func (s *Server) handleTaskUpdate(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needEdit, nil); err != nil {
		return err
	}
	id, err := pathVarID(r, "id")
	if err != nil {
		return err
	}
	var u casefiles.TaskUpdate
	if err := s.decode(w, r, &u); err != nil {
		return err
	}
	u.ID = id
	var t casefiles.Task
	if strings.HasSuffix(r.URL.Path, "/complete") {
		t, err = s.cases.CompleteTask(r.Context(), u)
	} else {
		t, err = s.cases.UpdateTask(r.Context(), u)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// handleTaskState answers POST /api/tasks/{id}/cancel and …/reopen with
// {version}.
func (s *Server) handleTaskState(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.casesGate(r, needEdit, nil); err != nil {
		return err
	}
	id, err := pathVarID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Version int `json:"version"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	var t casefiles.Task
	switch mux.Vars(r)["action"] {
	case "cancel":
		t, err = s.cases.CancelTask(r.Context(), id, in.Version)
	case "reopen":
		t, err = s.cases.ReopenTask(r.Context(), id, in.Version)
	default:
		return errNoRoute
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// caseFilesGroup is the case files on a cadastral object as
// /api/cadastre/{identifier}/related lists them, for a viewer who may read
// case files; nil for anyone else (the public never sees them there).
func (s *Server) caseFilesGroup(r *http.Request, identifier string) (any, error) {
	if s.cases == nil || !access.FromContext(r.Context()).CanReadCases() {
		return nil, nil
	}
	list, err := s.cases.Related(r.Context(), identifier)
	if err != nil {
		return nil, err
	}
	entries := make([]map[string]any, 0, len(list))
	for _, c := range list {
		entries = append(entries, map[string]any{"id": c.ID, "number": c.Number, "name": c.Name, "status": c.Status,
			"service": c.Service, "identifier": c.Identifier, "opened_on": c.OpenedOn,
			"links": []link{{Href: "/api/case-files/" + strconv.FormatInt(c.ID, 10), Rel: "self", Type: "application/json"}}})
	}
	return map[string]any{"register": "case_files", "title_bg": "Преписки", "title_en": "Case files", "entries": entries}, nil
}

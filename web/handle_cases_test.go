package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"munigis/audit"
	"munigis/casefiles"
	"munigis/web"
)

// Names that only staff may ever see.
const (
	caseName      = "Скица за имот 68134.100.5 на Иван Тайнов"
	internalDoc   = "ВЪТРЕШНА-СЛУЖЕБНА-БЕЛЕЖКА"
	controlDoc    = "КОНТРОЛЕН-ИЗВАДЕН-ДОКУМЕНТ"
	applicantName = "Иван Тайнов"
)

type openedOut struct {
	CaseFile   casefiles.CaseFile `json:"case_file"`
	AccessCode string             `json:"access_code"`
}

// openCase opens a case file for service T-100 on parcel 68134.100.5 over
// HTTP, as multipart with the application's file (for the applicant).
func (f caseFixture) openCase(t *testing.T, auth string) openedOut {
	t.Helper()
	meta := fmt.Sprintf(`{"name":%q,"service":"T-100","identifiers":["68134.100.5"],
	  "document":{"name":"Заявление за скица","type":"t_application","direction":"incoming","author":%q,
	    "received_via":"counter","for_applicant":true}}`, caseName, applicantName)
	ct, body := multipartBody(t, part{name: "metadata", contentType: "application/json", body: []byte(meta)},
		part{name: "file", fileName: "заявление.pdf", body: pdf("заявление")})
	rec := f.send(t, "POST", "/api/case-files", auth, ct, body)
	if rec.Code != 201 {
		t.Fatalf("open a case file: %d %s", rec.Code, rec.Body)
	}
	o := decodeJSON[openedOut](t, rec.Body.String())
	if o.AccessCode == "" || o.CaseFile.Number == "" || o.CaseFile.ID == 0 {
		t.Fatalf("opened: %s", rec.Body)
	}
	return o
}

// newDocument creates a document without a file and returns its id.
func (f caseFixture) newDocument(t *testing.T, auth, name, typ string) int64 {
	t.Helper()
	out := f.mustJSON(t, "POST", "/api/documents", auth, fmt.Sprintf(`{"name":%q,"type":%q,"direction":"internal"}`, name, typ), 201)
	return decodeJSON[docOut](t, out).ID
}

// getCase reads a case file as the clerk.
func (f caseFixture) getCase(t *testing.T, id int64) casefiles.CaseFile {
	t.Helper()
	return decodeJSON[casefiles.CaseFile](t, f.mustJSON(t, "GET", fmt.Sprintf("/api/case-files/%d", id), f.clerk, "", 200))
}

func itemIn(c casefiles.CaseFile, section string, docID int64) *casefiles.Item {
	for i, it := range c.Items {
		if it.Section == section && it.DocumentID != nil && *it.DocumentID == docID && it.RemovedAt == nil {
			return &c.Items[i]
		}
	}
	return nil
}

func TestCaseFileOverHTTP(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	o := f.openCase(t, f.planner)
	c := o.CaseFile
	if c.ServiceCode != "T-100" || c.Status != casefiles.Open || len(c.Identifiers) != 1 || c.DueOn == "" {
		t.Errorf("opened case: %+v", c)
	}
	// By id and by number alike; the access code is never shown again.
	byNumber := f.mustJSON(t, "GET", "/api/case-files/"+c.Number, f.inspector, "", 200)
	if !strings.Contains(byNumber, caseName) || strings.Contains(byNumber, o.AccessCode) {
		t.Errorf("by number: %s", byNumber)
	}
	if code, body := f.do(t, "POST", "/api/case-files", f.inspector, `{"name":"x","service":"T-100","document":{"name":"x","type":"t_application"}}`); code != 403 {
		t.Errorf("inspector opens a case: %d %s", code, body)
	}

	// The list, filtered by identifier (with what is below) and status.
	list := f.mustJSON(t, "GET", "/api/case-files?identifier=68134.100.5&status=open", f.inspector, "", 200)
	if !strings.Contains(list, c.Number) || !strings.Contains(list, `"numberMatched":1`) {
		t.Errorf("list: %s", list)
	}
	if list := f.mustJSON(t, "GET", "/api/case-files?identifier=68134.100.6", f.inspector, "", 200); strings.Contains(list, c.Number) {
		t.Errorf("list of another parcel: %s", list)
	}
	if code, body := f.do(t, "GET", "/api/case-files?status=lost", f.inspector, ""); code != 400 || !strings.Contains(body, "status") {
		t.Errorf("bad status: %d %s", code, body)
	}

	// Removal from the official section needs the official_section grant
	// (Art. 45(2)): the planner lacks it, the clerk holds it; the document
	// moves to the control section.
	doc := f.newDocument(t, f.clerk, controlDoc, "t_reply")
	item := decodeJSON[casefiles.Item](t, f.mustJSON(t, "POST", fmt.Sprintf("/api/case-files/%d/items", c.ID), f.clerk,
		fmt.Sprintf(`{"section":"official","document_id":%d}`, doc), 201))
	del := fmt.Sprintf("/api/case-files/%d/items/%d?reason=%s", c.ID, item.ID, "подаден+по+грешка")
	if code, body := f.do(t, "DELETE", del, f.planner, ""); code != 403 || !strings.Contains(body, "message_bg") {
		t.Errorf("planner removes from official: %d %s", code, body)
	}
	if itemIn(f.getCase(t, c.ID), casefiles.Official, doc) == nil {
		t.Fatalf("the refused removal changed the case")
	}
	f.mustJSON(t, "DELETE", del, f.clerk, "", 200)
	after := f.getCase(t, c.ID)
	if itemIn(after, casefiles.Official, doc) != nil || itemIn(after, casefiles.Control, doc) == nil {
		t.Errorf("after removal the document is not in control only: %+v", after.Items)
	}

	// Links to the map.
	linked := f.mustJSON(t, "POST", fmt.Sprintf("/api/case-files/%d/links", c.ID), f.planner, `{"identifiers":["68134.100.6"]}`, 200)
	if !strings.Contains(linked, "68134.100.6") {
		t.Errorf("link: %s", linked)
	}
	if code, body := f.do(t, "POST", fmt.Sprintf("/api/case-files/%d/links", c.ID), f.planner, `{"identifiers":["68134.0100.6"]}`); code != 400 {
		t.Errorf("malformed identifier: %d %s", code, body)
	}
	unlinked := f.mustJSON(t, "DELETE", fmt.Sprintf("/api/case-files/%d/links", c.ID), f.planner, `{"identifiers":["68134.100.6"]}`, 200)
	if strings.Contains(unlinked, "68134.100.6\"") {
		t.Errorf("unlink: %s", unlinked)
	}

	// A new access code replaces the old one.
	code := f.mustJSON(t, "POST", fmt.Sprintf("/api/case-files/%d/access-code", c.ID), f.planner, "", 201)
	if strings.Contains(code, o.AccessCode) || !strings.Contains(code, "access_code") {
		t.Errorf("new code: %s", code)
	}
}

func TestCaseFilesInRelatedForStaffOnly(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	c := f.openCase(t, f.clerk).CaseFile
	_, public := f.do(t, "GET", "/api/cadastre/68134.100.5/related", "", "")
	if strings.Contains(public, "case_files") || strings.Contains(public, c.Number) || strings.Contains(public, caseName) {
		t.Errorf("the public sees case files in related: %s", public)
	}
	// A second case file, opened with plain JSON, on the parcel's building:
	// related lists what is below the parcel too.
	out := f.mustJSON(t, "POST", "/api/case-files", f.planner, `{"name":"Сигнал за незаконен строеж","identifiers":["68134.100.5.1"],
	  "document":{"name":"Сигнал","type":"t_application","received_via":"email"}}`, 201)
	second := decodeJSON[openedOut](t, out)
	if second.AccessCode == "" || second.CaseFile.Number == "" {
		t.Fatalf("JSON opening: %s", out)
	}
	_, staff := f.do(t, "GET", "/api/cadastre/68134.100.5/related", f.inspector, "")
	if !strings.Contains(staff, `"register":"case_files"`) || !strings.Contains(staff, c.Number) || !strings.Contains(staff, "Преписки") ||
		!strings.Contains(staff, second.CaseFile.Number) {
		t.Errorf("the inspector's related lacks the case files: %s", staff)
	}
	if _, public := f.do(t, "GET", "/api/cadastre/68134.100.5.1/related", "", ""); strings.Contains(public, second.CaseFile.Number) {
		t.Errorf("the public sees the building's case file: %s", public)
	}
}

func TestTaskCompletionNeedsResults(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	c := f.getCase(t, f.openCase(t, f.clerk).CaseFile.ID)
	var task *casefiles.Task
	for i, tk := range c.Tasks {
		if tk.List == casefiles.Pending && (task == nil || tk.Ordinal < task.Ordinal) {
			task = &c.Tasks[i]
		}
	}
	if task == nil {
		t.Fatalf("the opened case has no pending task: %+v", c.Tasks)
	}
	path := fmt.Sprintf("/api/tasks/%d", task.ID)
	if got := decodeJSON[casefiles.Task](t, f.mustJSON(t, "GET", path, f.inspector, "", 200)); got.Name != task.Name {
		t.Errorf("GET task: %+v", got)
	}
	today := time.Now().In(audit.Sofia).Format(time.DateOnly)

	// Assign it to the planner (PATCH), who then finds it among the week's.
	upd := decodeJSON[casefiles.Task](t, f.mustJSON(t, "PATCH", path, f.clerk,
		fmt.Sprintf(`{"version":%d,"executor":%q}`, task.Version, f.plannerID), 200))
	if upd.ExecutorSystemID != f.plannerID {
		t.Errorf("executor after PATCH: %+v", upd)
	}
	if code, body := f.do(t, "PATCH", path, f.inspector, fmt.Sprintf(`{"version":%d}`, upd.Version)); code != 403 {
		t.Errorf("inspector changes a task: %d %s", code, body)
	}

	// Without the actual dates and a result document it is refused (Art. 110).
	code, body := f.do(t, "POST", path+"/complete", f.planner, fmt.Sprintf(`{"version":%d}`, upd.Version))
	if code != 400 && code != 409 {
		t.Fatalf("complete without results: %d %s", code, body)
	}
	if !strings.Contains(body, "message_bg") {
		t.Errorf("refusal without a Bulgarian message: %s", body)
	}
	if got := decodeJSON[casefiles.Task](t, f.mustJSON(t, "GET", path, f.clerk, "", 200)); got.List != casefiles.Pending {
		t.Errorf("a refused completion moved the task: %+v", got)
	}
	result := f.newDocument(t, f.clerk, "Скица № 1", "t_reply")
	f.mustJSON(t, "POST", fmt.Sprintf("/api/case-files/%d/items", c.ID), f.clerk, fmt.Sprintf(`{"section":"official","document_id":%d}`, result), 201)
	done := decodeJSON[casefiles.Task](t, f.mustJSON(t, "POST", path+"/complete", f.planner,
		fmt.Sprintf(`{"version":%d,"actual_start":%q,"actual_end":%q,"results":[%d]}`, upd.Version, today, today, result), 200))
	if done.List != casefiles.Completed || done.ActualEnd != today || len(done.Results) != 1 || done.Results[0] != result {
		t.Errorf("completed task: %+v", done)
	}
	// Reopened (a stage reopened moves back to pending).
	re := decodeJSON[casefiles.Task](t, f.mustJSON(t, "POST", path+"/reopen", f.clerk, fmt.Sprintf(`{"version":%d}`, done.Version), 200))
	if re.List != casefiles.Pending {
		t.Errorf("reopened: %+v", re)
	}
	// A task added by hand to the case, then cancelled.
	added := decodeJSON[casefiles.Task](t, f.mustJSON(t, "POST", fmt.Sprintf("/api/case-files/%d/tasks", c.ID), f.clerk,
		fmt.Sprintf(`{"name":"Оглед на място","executor":%q,"planned_end":%q}`, f.plannerID, today), 201))
	if added.CaseFileID == nil || *added.CaseFileID != c.ID || added.List != casefiles.Pending {
		t.Errorf("added task: %+v", added)
	}
	if code, body := f.do(t, "POST", fmt.Sprintf("/api/case-files/%d/tasks", c.ID), f.clerk, `{"name":""}`); code != 400 || !strings.Contains(body, "name") {
		t.Errorf("a task without a name: %d %s", code, body)
	}
	cancelled := decodeJSON[casefiles.Task](t, f.mustJSON(t, "POST", fmt.Sprintf("/api/tasks/%d/cancel", added.ID), f.clerk,
		fmt.Sprintf(`{"version":%d}`, added.Version), 200))
	if cancelled.List != casefiles.Cancelled {
		t.Errorf("cancelled task: %+v", cancelled)
	}
	if code, body := f.do(t, "GET", "/api/tasks?due=soon", f.clerk, ""); code != 400 || !strings.Contains(body, "due") {
		t.Errorf("bad due: %d %s", code, body)
	}
	if code, body := f.do(t, "GET", "/api/tasks?due=week&executor=me", f.planner, ""); code != 200 || !strings.Contains(body, `"tasks"`) {
		t.Errorf("the planner's week: %d %s", code, body)
	}
}

// TestCaseRoutesClosedToThePublic walks every route of issue 7's staff
// API (found in the router, so a new route is walked too) as the public
// and as an inspector, who may only read: the public gets 401 or 404 and
// never a name; the inspector 403 on every change; nothing changes.
func TestCaseRoutesClosedToThePublic(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	o := f.openCase(t, f.clerk)
	c := f.getCase(t, o.CaseFile.ID)
	docID := c.OpeningDocumentID
	var taskID int64
	if len(c.Tasks) > 0 {
		taskID = c.Tasks[0].ID
	}
	var itemID int64
	if len(c.Items) > 0 {
		itemID = c.Items[0].ID
	}
	fill := map[string][]string{
		"id":     {strconv.FormatInt(c.ID, 10), strconv.FormatInt(docID, 10), strconv.FormatInt(taskID, 10), c.Number, "1", "99999999999999999999", "x"},
		"number": {c.Number, "1000-999-01.01.2020", "not-a-number", "%25"},
		"item":   {strconv.FormatInt(itemID, 10)},
		"action": {"cancel", "reopen"},
		"code":   {"T-100"},
	}
	secrets := []string{caseName, applicantName, "Заявление за скица", o.AccessCode, f.clerkID}
	staff := []string{"/api/case-files", "/api/documents", "/api/odr", "/api/tasks", "/api/document-types", "/api/services"}
	cases, docs := f.count(t, "case_files"), f.count(t, "documents")
	walked := 0
	err := f.srv.Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		isStaff := false
		for _, p := range staff {
			isStaff = isStaff || tpl == p || strings.HasPrefix(tpl, p+"/")
		}
		if !isStaff {
			return nil
		}
		methods, _ := route.GetMethods()
		for _, m := range methods {
			if m == http.MethodHead {
				continue
			}
			for _, path := range expandMatching(tpl, fill) {
				// The nomenclature of services is published (Art. 58).
				if strings.HasPrefix(tpl, "/api/services") && m == http.MethodGet {
					continue
				}
				walked++
				body := ""
				if m != http.MethodGet {
					body = `{"version":1}`
				}
				code, out := f.do(t, m, path, "", body)
				if code != 401 && code != 404 {
					t.Errorf("public %s %s = %d: %s", m, path, code, out)
				}
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("public %s %s shows %q", m, path, s)
					}
				}
				if m == http.MethodGet {
					// Staff may read every one of them; odd values are
					// 4xx, never a server error.
					if code, out := f.do(t, m, path, f.inspector, ""); code >= 500 || code == 401 || code == 403 {
						t.Errorf("inspector GET %s = %d: %s", path, code, out)
					}
				} else {
					if code, out := f.do(t, m, path, f.inspector, body); code != 403 {
						t.Errorf("inspector %s %s = %d, want 403: %s", m, path, code, out)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked < 40 {
		t.Errorf("walked only %d requests", walked)
	}
	// The public's 404 for an existing case equals a missing one's.
	_, real := f.do(t, "GET", fmt.Sprintf("/api/case-files/%d", c.ID), "", "")
	_, missing := f.do(t, "GET", "/api/case-files/999999", "", "")
	if strings.ReplaceAll(real, strconv.FormatInt(c.ID, 10), "N") != strings.ReplaceAll(missing, "999999", "N") {
		t.Errorf("the public tells an existing case file from a missing one: %s vs %s", real, missing)
	}
	if f.count(t, "case_files") != cases || f.count(t, "documents") != docs {
		t.Errorf("refused requests changed something")
	}
}

// expandMatching is expand, leaving out values a variable's pattern (as in
// {id:[0-9]+}) refuses, which the router would answer with its own 404.
func expandMatching(tpl string, fill map[string][]string) []string {
	start := strings.Index(tpl, "{")
	if start < 0 {
		return []string{tpl}
	}
	end := strings.Index(tpl[start:], "}") + start
	name, pattern, _ := strings.Cut(tpl[start+1:end], ":")
	var out []string
	for _, v := range fill[name] {
		if pattern != "" && !regexp.MustCompile("^(?:"+pattern+")$").MatchString(v) {
			continue
		}
		out = append(out, expandMatching(tpl[:start]+v+tpl[end+1:], fill)...)
	}
	return out
}

// TestCaseFeatureLinksNeedTheLayer: a feature of a layer the caller may not
// read cannot be linked (nor does the answer tell the layer exists), while
// a readable layer's feature can.
func TestCaseFeatureLinksNeedTheLayer(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	ctx := context.Background()
	o := f.openCase(t, f.clerk)
	var parcelID int64
	if err := f.pool.Pool.QueryRow(ctx, `SELECT id FROM features.cadastre_parcels LIMIT 1`).Scan(&parcelID); err != nil {
		t.Fatal(err)
	}
	// Clerks read every layer by the default grant of 000005; take it away
	// for utility_lines' sake, keeping the public layers readable.
	if _, err := f.pool.Pool.Exec(ctx, `UPDATE grants SET revoked_at = now(), revoked_by = 'test'
		WHERE subject = 'clerk' AND object_kind = 'layer' AND revoked_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/case-files/%d/links", o.CaseFile.ID)
	code, body := f.do(t, "POST", path, f.clerk, `{"features":[{"layer":"utility_lines","feature_id":1}]}`)
	if code != 404 || !strings.Contains(body, `layer \"utility_lines\" does not exist`) {
		t.Errorf("linking an internal layer's feature: %d %s; want 404 as for a missing layer", code, body)
	}
	code, body = f.do(t, "POST", path, f.clerk, fmt.Sprintf(`{"features":[{"layer":"cadastre_parcels","feature_id":%d}]}`, parcelID))
	if code != 200 || !strings.Contains(body, `"layer":"cadastre_parcels"`) {
		t.Errorf("linking a public layer's feature: %d %s", code, body)
	}
}

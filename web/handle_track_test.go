package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"munigis/casefiles"
	"munigis/web"
)

// track posts the tracking form (or JSON to /api/track) from addr.
func (f caseFixture) track(t *testing.T, path, addr string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if path == "/api/track" {
		body := fmt.Sprintf(`{"number":%q,"code":%q}`, form.Get("number"), form.Get("code"))
		req = httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if addr != "" {
		req.RemoteAddr = addr
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// trackCase opens a case with an internal and a control document besides
// the official ones: the applicant must see neither.
func (f caseFixture) trackCase(t *testing.T) (openedOut, int64) {
	t.Helper()
	o := f.openCase(t, f.clerk)
	id := o.CaseFile.ID
	internal := f.newDocument(t, f.clerk, internalDoc, "t_reply")
	f.mustJSON(t, "POST", fmt.Sprintf("/api/case-files/%d/items", id), f.clerk, fmt.Sprintf(`{"section":"internal","document_id":%d}`, internal), 201)
	control := f.newDocument(t, f.clerk, controlDoc, "t_reply")
	item := decodeJSON[casefiles.Item](t, f.mustJSON(t, "POST", fmt.Sprintf("/api/case-files/%d/items", id), f.clerk,
		fmt.Sprintf(`{"section":"official","document_id":%d}`, control), 201))
	f.mustJSON(t, "DELETE", fmt.Sprintf("/api/case-files/%d/items/%d?reason=test", id, item.ID), f.clerk, "", 200)
	return o, internal
}

func TestTrackCaseFile(t *testing.T) {
	f := newCaseFixture(t, web.Config{})
	o, internal := f.trackCase(t)
	form := url.Values{"number": {o.CaseFile.Number}, "code": {o.AccessCode}}

	rec := f.track(t, "/api/track", "", form)
	if rec.Code != 200 {
		t.Fatalf("track: %d %s", rec.Code, rec.Body)
	}
	tr := decodeJSON[casefiles.Tracking](t, rec.Body.String())
	if tr.Number != o.CaseFile.Number || tr.Name != caseName || tr.Status != casefiles.Open || tr.DueOn == "" || len(tr.Stages) != 2 {
		t.Errorf("tracking: %+v", tr)
	}
	var opening *casefiles.TrackedDocument
	for i, d := range tr.Documents {
		if d.ID == o.CaseFile.OpeningDocumentID {
			opening = &tr.Documents[i]
		}
	}
	if opening == nil || opening.Number != o.CaseFile.Number || !opening.Downloadable || opening.ReceivedVia != "counter" {
		t.Errorf("the opening document as tracked: %+v", tr.Documents)
	}
	for _, s := range []string{internalDoc, controlDoc} {
		if strings.Contains(rec.Body.String(), s) {
			t.Errorf("tracking JSON shows %q: %s", s, rec.Body)
		}
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("tracking JSON may be cached: %v", rec.Header())
	}

	// The page: Bulgarian first, dates as dd.mm.yyyy, no internal names,
	// a download form for the applicant's document.
	page := f.track(t, "/track", "", form)
	body := page.Body.String()
	if page.Code != 200 || !strings.Contains(body, caseName) || !strings.Contains(body, "Издаване на скица на поземлен имот") ||
		!strings.Contains(body, "в процес на изпълнение") || !strings.Contains(body, "на гише") ||
		!strings.Contains(body, "Проверка на документите") {
		t.Fatalf("track page: %d %s", page.Code, body)
	}
	due, _ := time.Parse(time.DateOnly, tr.DueOn)
	if !strings.Contains(body, due.Format("02.01.2006")) {
		t.Errorf("the page lacks the due date %s as dd.mm.yyyy", tr.DueOn)
	}
	if !strings.Contains(body, fmt.Sprintf(`action="/track/documents/%d"`, o.CaseFile.OpeningDocumentID)) {
		t.Errorf("the page lacks the download form")
	}
	for _, s := range []string{internalDoc, controlDoc} {
		if strings.Contains(body, s) {
			t.Errorf("track page shows %q", s)
		}
	}
	if en := f.track(t, "/track", "", url.Values{"number": form["number"], "code": form["code"], "lang": {"en"}}); !strings.Contains(en.Body.String(), "in progress") {
		t.Errorf("English page: %s", en.Body)
	}

	// Downloads: the applicant's document yes; an internal one, or with a
	// wrong code, no (the same not-found page).
	dl := f.track(t, fmt.Sprintf("/track/documents/%d", o.CaseFile.OpeningDocumentID), "", form)
	if dl.Code != 200 || !bytes.Equal(dl.Body.Bytes(), pdf("заявление")) || dl.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download: %d %v", dl.Code, dl.Header())
	}
	no1 := f.track(t, fmt.Sprintf("/track/documents/%d", internal), "", form)
	no2 := f.track(t, fmt.Sprintf("/track/documents/%d", o.CaseFile.OpeningDocumentID), "",
		url.Values{"number": form["number"], "code": {"WRONG-CODE"}})
	if no1.Code != 404 || no2.Code != 404 || no1.Body.String() != no2.Body.String() || strings.Contains(no1.Body.String(), internalDoc) {
		t.Errorf("refused downloads: %d %d\n%s\n%s", no1.Code, no2.Code, no1.Body, no2.Body)
	}

	// The form: GET /track, in Bulgarian, and English with ?lang=en; the
	// code is asked in a POST form, never in the URL.
	code, get := f.do(t, "GET", "/track", "", "")
	if code != 200 || !strings.Contains(get, `method="post"`) || !strings.Contains(get, "Код за достъп") {
		t.Errorf("GET /track: %d %s", code, get)
	}
	if _, en := f.do(t, "GET", "/track?lang=en", "", ""); !strings.Contains(en, "Access code") {
		t.Errorf("GET /track?lang=en: %s", en)
	}
}

func TestTrackWrongNumberOrCodeLookAlike(t *testing.T) {
	floor := 150 * time.Millisecond
	f := newCaseFixture(t, web.Config{TrackFloor: floor})
	o := f.openCase(t, f.clerk)
	wrongCode := url.Values{"number": {o.CaseFile.Number}, "code": {"AAAA-BBBB-CCCC"}}
	wrongNumber := url.Values{"number": {"1000-99999-01.01.2026"}, "code": {o.AccessCode}}
	malformed := url.Values{"number": {"no such thing"}, "code": {o.AccessCode}}
	for _, path := range []string{"/api/track", "/track"} {
		var bodies []string
		for _, form := range []url.Values{wrongCode, wrongNumber, malformed} {
			start := time.Now()
			rec := f.track(t, path, "", form)
			if took := time.Since(start); took < floor {
				t.Errorf("%s answered in %s, under the floor %s", path, took, floor)
			}
			if rec.Code != 404 {
				t.Errorf("%s %v: %d %s", path, form, rec.Code, rec.Body)
			}
			bodies = append(bodies, rec.Body.String())
		}
		if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
			t.Errorf("%s: a wrong code and a wrong number answer differently:\n%s\n%s\n%s", path, bodies[0], bodies[1], bodies[2])
		}
		if strings.Contains(bodies[0], o.AccessCode) || strings.Contains(bodies[0], o.CaseFile.Number) {
			t.Errorf("%s echoes the number or code: %s", path, bodies[0])
		}
	}
	// A found case takes the floor too.
	start := time.Now()
	if rec := f.track(t, "/api/track", "", url.Values{"number": {o.CaseFile.Number}, "code": {o.AccessCode}}); rec.Code != 200 {
		t.Errorf("right code: %d %s", rec.Code, rec.Body)
	}
	if took := time.Since(start); took < floor {
		t.Errorf("a found case answered in %s, under the floor", took)
	}
}

func TestTrackRateLimit(t *testing.T) {
	f := newCaseFixture(t, web.Config{TrackPerMinute: 1, TrackBurst: 3})
	form := url.Values{"number": {"1000-1-01.01.2026"}, "code": {"x"}}
	for i := range 3 {
		if rec := f.track(t, "/api/track", "198.51.100.7:4000", form); rec.Code != 404 {
			t.Fatalf("request %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	for _, path := range []string{"/api/track", "/track"} {
		rec := f.track(t, path, "198.51.100.7:4001", form)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s over the limit: %d %v %s", path, rec.Code, rec.Header(), rec.Body)
		}
		if path == "/api/track" && !strings.Contains(rec.Body.String(), "message_bg") {
			t.Errorf("429 without a message: %s", rec.Body)
		}
	}
	// Another address is not held back.
	if rec := f.track(t, "/api/track", "198.51.100.8:4000", form); rec.Code != 404 {
		t.Errorf("another address: %d %s", rec.Code, rec.Body)
	}
}

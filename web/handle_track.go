package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/time/rate"

	"munigis"
	"munigis/accounts"
	"munigis/audit"
	"munigis/casefiles"
	"munigis/documents"
)

// Citizen tracking, the "web деловодна справка" of Art. 123: with the
// registration number and the access identifier of a case file (Art. 44)
// the applicant sees the official section and the status of the service,
// never the internal or control sections (package casefiles decides what
// the Tracking holds). Three rules keep numbers and codes from being
// enumerated:
//   - a wrong number and a wrong code get the same answer, byte for byte;
//   - every answer, found or not, takes at least Config.TrackFloor, so the
//     timing tells nothing either;
//   - each client address may ask Config.TrackPerMinute times a minute
//     (burst Config.TrackBurst), else 429 with Retry-After.
//
// The code travels only in POST bodies, never in a URL, which access logs
// and browser histories keep.

// errTrackNotFound is the one answer for a wrong number, a wrong code, a
// malformed number or a document that is not the applicant's to download.
var errTrackNotFound = &munigis.Error{Code: munigis.NotFound,
	Message:   "no case file has this registration number and access code; check both and try again",
	MessageBG: "няма преписка с този регистрационен номер и код за достъп; проверете ги и опитайте отново"}

// trackLimiter limits tracking requests per client address, in memory (a
// restart forgets it, which is acceptable: it is there to make guessing
// slow).
type trackLimiter struct {
	mu       sync.Mutex
	every    rate.Limit
	burst    int
	byAddr   map[string]*trackEntry
	lastSwep time.Time
}

type trackEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newTrackLimiter(perMinute, burst int) *trackLimiter {
	return &trackLimiter{every: rate.Limit(float64(perMinute) / 60), burst: burst, byAddr: map[string]*trackEntry{}}
}

// wait returns 0 when addr may ask now, else how long it must wait.
func (l *trackLimiter) wait(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget addresses idle long enough to have their full burst back.
	if now.Sub(l.lastSwep) > 10*time.Minute {
		for a, e := range l.byAddr {
			if now.Sub(e.seen) > 10*time.Minute {
				delete(l.byAddr, a)
			}
		}
		l.lastSwep = now
	}
	e := l.byAddr[addr]
	if e == nil {
		e = &trackEntry{lim: rate.NewLimiter(l.every, l.burst)}
		l.byAddr[addr] = e
	}
	e.seen = now
	res := e.lim.ReserveN(now, 1)
	if !res.OK() {
		return time.Minute
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

func errTrackLimited(wait time.Duration) error {
	secs := int(wait.Seconds() + 0.999)
	return &munigis.Error{Code: accounts.TooManyRequests,
		Message:   fmt.Sprintf("too many tracking requests from your address; try again in %d s", secs),
		MessageBG: fmt.Sprintf("твърде много справки от вашия адрес; опитайте отново след %d s", secs),
		Err:       &accounts.RateLimited{Wait: wait}}
}

// trackBegin starts a tracking answer: it checks the rate limit and
// returns the function that waits out the floor; call that before
// writing anything, found or not.
func (s *Server) trackBegin(r *http.Request) (floor func(), err error) {
	start := time.Now()
	floor = func() { waitCtx(r.Context(), s.cfg.TrackFloor-time.Since(start)) }
	if s.cases == nil {
		return floor, errNoRoute
	}
	if wait := s.track.wait(clientAddress(r), start); wait > 0 {
		return floor, errTrackLimited(wait)
	}
	return floor, nil
}

// trackError maps what the store says to the one not-found answer; an
// internal error stays one (logged, generic to the client).
func trackError(err error) error {
	switch munigis.ErrorCode(err) {
	case munigis.NotFound, munigis.Invalid, munigis.Forbidden:
		return errTrackNotFound
	}
	return err
}

// handleTrackAPI answers POST /api/track with {number, code}: the
// casefiles.Tracking as JSON.
func (s *Server) handleTrackAPI(w http.ResponseWriter, r *http.Request) error {
	floor, err := s.trackBegin(r)
	if err != nil {
		floor()
		return err
	}
	var in struct {
		Number string `json:"number"`
		Code   string `json:"code"`
	}
	if err := s.decode(w, r, &in); err != nil {
		floor()
		return err
	}
	t, err := s.cases.Track(r.Context(), strings.TrimSpace(in.Number), strings.TrimSpace(in.Code))
	floor()
	if err != nil {
		return trackError(err)
	}
	if t.Documents == nil {
		t.Documents = []casefiles.TrackedDocument{}
	}
	if t.Stages == nil {
		t.Stages = []casefiles.TrackedStage{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, t)
	return nil
}

// The page.

type trackTexts struct {
	Lang, Title, Intro, Number, Code, Submit, Other, OtherHref, Service, Status, Opened, Due string
	Documents, Position, DocNumber, Name, Received, Via, Download, NoDocuments               string
	Stages, Stage, Executor, State, PlannedEnd, Completed, NoStages, Home, Again             string
	StatusNames, ListNames, ViaNames                                                         map[string]string
}

var trackPageTexts = map[string]trackTexts{
	"bg": {Lang: "bg", Title: "Справка по преписка", Other: "English", OtherHref: "/track?lang=en",
		Intro:  "Въведете регистрационния номер на заявлението и кода за достъп, който получихте при подаването му (чл. 123 от Наредбата за общите изисквания към информационните системи за документооборот).",
		Number: "Регистрационен номер", Code: "Код за достъп", Submit: "Покажи", Service: "Услуга", Status: "Състояние",
		Opened: "Образувана на", Due: "Срок", Documents: "Документи в официалния раздел", Position: "№",
		DocNumber: "Рег. номер", Name: "Документ", Received: "Дата", Via: "Получен/изпратен", Download: "Изтегли",
		NoDocuments: "Няма документи.", Stages: "Етапи", Stage: "Етап", Executor: "Изпълнител", State: "Състояние",
		PlannedEnd: "Планиран край", Completed: "Изпълнен на", NoStages: "Няма етапи.", Home: "Към началната страница",
		Again:       "Нова справка",
		StatusNames: map[string]string{casefiles.Open: "в процес на изпълнение", casefiles.Closed: "приключена", casefiles.Cancelled: "прекратена"},
		ListNames:   map[string]string{casefiles.Pending: "предстои", casefiles.Completed: "изпълнен", casefiles.Cancelled: "отменен"},
		ViaNames: map[string]string{"counter": "на гише", "post": "по пощата", "email": "по електронна поща", "web": "по интернет",
			"internal": "вътрешен", "courier": "с куриер", "seos": "по СЕОС", "fax": "по факс"}},
	"en": {Lang: "en", Title: "Follow your case file", Other: "Български", OtherHref: "/track",
		Intro:  "Enter the registration number of your application and the access code you were given when you filed it (Art. 123 of the regulation on document management systems).",
		Number: "Registration number", Code: "Access code", Submit: "Show", Service: "Service", Status: "Status",
		Opened: "Opened on", Due: "Due on", Documents: "Documents of the official section", Position: "No",
		DocNumber: "Reg. number", Name: "Document", Received: "Date", Via: "Received/sent", Download: "Download",
		NoDocuments: "No documents.", Stages: "Stages", Stage: "Stage", Executor: "Executor", State: "State",
		PlannedEnd: "Planned end", Completed: "Completed on", NoStages: "No stages.", Home: "To the home page",
		Again:       "Another case",
		StatusNames: map[string]string{casefiles.Open: "in progress", casefiles.Closed: "completed", casefiles.Cancelled: "cancelled"},
		ListNames:   map[string]string{casefiles.Pending: "pending", casefiles.Completed: "completed", casefiles.Cancelled: "cancelled"},
		ViaNames: map[string]string{"counter": "at the counter", "post": "by post", "email": "by e-mail", "web": "online",
			"internal": "internal", "courier": "by courier", "seos": "through SEOS", "fax": "by fax"}},
}

type trackPageData struct {
	T     trackTexts
	Error string
	CSRF  string
	// Found: the result, with the number and code the download forms send
	// again (in the POST body; never in a URL).
	Found  *casefiles.Tracking
	Number string
	Code   string
}

// sofiaDate shows a YYYY-MM-DD date as dd.mm.yyyy.
func sofiaDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("02.01.2006")
}

var trackPage = template.Must(template.New("track").Funcs(template.FuncMap{
	"date": sofiaDate,
	"day":  func(t time.Time) string { return t.In(audit.Sofia).Format("02.01.2006") },
	"name": func(m map[string]string, k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		return k
	},
}).Parse(`<!doctype html>
<html lang="{{.T.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.T.Title}}</title>
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem;color:#222;line-height:1.45}
table{border-collapse:collapse;width:100%;font-size:.95rem;margin-bottom:1rem}
th,td{border-bottom:1px solid #ddd;padding:.3rem .4rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
label{display:block;margin:.5rem 0 .2rem}input{padding:.4rem;width:22rem;max-width:100%}button{padding:.4rem .8rem;margin-top:.6rem}
.err{color:#a00;border:1px solid #a00;padding:.5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{font-weight:600}td form{margin:0}td button{margin:0;padding:.2rem .5rem}
</style></head>
<body>
<p style="text-align:right"><a id="other-lang" href="{{.T.OtherHref}}">{{.T.Other}}</a></p>
<h1>{{.T.Title}}</h1>
{{if .Error}}<p class="err" role="alert" id="error">{{.Error}}</p>{{end}}
{{with .Found}}
<h2 id="case-name">{{.Name}}</h2>
<dl>
<dt>{{$.T.Number}}</dt><dd id="case-number">{{.Number}}</dd>
{{if .Service}}<dt>{{$.T.Service}}</dt><dd id="case-service">{{.Service}}{{with .ServiceDescription}}<br><small>{{.}}</small>{{end}}</dd>{{end}}
<dt>{{$.T.Status}}</dt><dd id="case-status">{{name $.T.StatusNames .Status}}</dd>
<dt>{{$.T.Opened}}</dt><dd>{{day .OpenedAt}}</dd>
{{if .DueOn}}<dt>{{$.T.Due}}</dt><dd id="case-due">{{date .DueOn}}</dd>{{end}}
</dl>
<h3>{{$.T.Documents}}</h3>
<table id="documents"><thead><tr><th>{{$.T.Position}}</th><th>{{$.T.DocNumber}}</th><th>{{$.T.Name}}</th><th>{{$.T.Received}}</th><th>{{$.T.Via}}</th><th></th></tr></thead>
<tbody>
{{range .Documents}}<tr><td>{{.Position}}</td><td>{{.Number}}</td><td>{{.Name}}</td><td>{{date .ReceivedOn}}</td><td>{{name $.T.ViaNames .ReceivedVia}}</td>
<td>{{if .Downloadable}}<form method="post" action="/track/documents/{{.ID}}">
<input type="hidden" name="number" value="{{$.Number}}"><input type="hidden" name="code" value="{{$.Code}}">
<input type="hidden" name="lang" value="{{$.T.Lang}}">{{if $.CSRF}}<input type="hidden" name="csrf_token" value="{{$.CSRF}}">{{end}}
<button type="submit">{{$.T.Download}}</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="6">{{$.T.NoDocuments}}</td></tr>{{end}}
</tbody></table>
<h3>{{$.T.Stages}}</h3>
<table id="stages"><thead><tr><th>{{$.T.Stage}}</th><th>{{$.T.Executor}}</th><th>{{$.T.State}}</th><th>{{$.T.PlannedEnd}}</th><th>{{$.T.Completed}}</th></tr></thead>
<tbody>
{{range .Stages}}<tr><td>{{.Name}}{{with .Description}}<br><small>{{.}}</small>{{end}}</td><td>{{.Executor}}</td><td>{{name $.T.ListNames .List}}</td>
<td>{{date .PlannedEnd}}</td><td>{{date .CompletedOn}}</td></tr>
{{else}}<tr><td colspan="5">{{$.T.NoStages}}</td></tr>{{end}}
</tbody></table>
<h3>{{$.T.Again}}</h3>
{{end}}
<p>{{.T.Intro}}</p>
<form method="post" action="/track">
<input type="hidden" name="lang" value="{{.T.Lang}}">{{if .CSRF}}<input type="hidden" name="csrf_token" value="{{.CSRF}}">{{end}}
<label for="number">{{.T.Number}}</label>
<input id="number" name="number" required autocomplete="off" placeholder="1000-123-01.03.2026">
<label for="code">{{.T.Code}}</label>
<input id="code" name="code" type="password" required autocomplete="off">
<button type="submit">{{.T.Submit}}</button>
</form>
<p><a href="/{{if eq .T.Lang "en"}}?lang=en{{end}}">{{.T.Home}}</a></p>
</body></html>
`))

// trackLang is the page's language: ?lang=en, or the form's lang field.
func trackLang(r *http.Request) trackTexts {
	l := r.URL.Query().Get("lang")
	if r.Method == http.MethodPost && r.PostForm.Get("lang") != "" {
		l = r.PostForm.Get("lang")
	}
	if t, ok := trackPageTexts[l]; ok {
		return t
	}
	return trackPageTexts["bg"]
}

func (s *Server) renderTrack(w http.ResponseWriter, r *http.Request, status int, d trackPageData) error {
	if a := authFrom(r); a.session != nil {
		// A staff member's browser sends the session cookie: the form
		// carries the CSRF token, which the middleware asks for.
		d.CSRF = a.session.CSRFToken
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	return trackPage.Execute(w, d)
}

// pageError fills the page's error in its language and gives its status.
func pageError(d *trackPageData, err error) int {
	var me *munigis.Error
	if !asError(err, &me) || me.Code == munigis.Internal {
		d.Error = munigis.ErrorMessage(err)
		return http.StatusInternalServerError
	}
	d.Error = me.Message
	if d.T.Lang == "bg" && me.MessageBG != "" {
		d.Error = me.MessageBG
	}
	if st, ok := statusOf[me.Code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// handleTrackPage answers GET /track: the form.
func (s *Server) handleTrackPage(w http.ResponseWriter, r *http.Request) error {
	if s.cases == nil {
		return errNoRoute
	}
	return s.renderTrack(w, r, http.StatusOK, trackPageData{T: trackLang(r)})
}

// readTrackForm reads the urlencoded form (bounded like every body).
func (s *Server) readTrackForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return invalid("body", "the form cannot be read", "формата не може да бъде прочетена")
	}
	return nil
}

// beginTrackForm starts a tracking form's answer: the rate limit, the time
// floor and the form. When it cannot go on (ok false) the answer is made,
// or err is the one to make.
func (s *Server) beginTrackForm(w http.ResponseWriter, r *http.Request) (floor func(), d trackPageData, ok bool, err error) {
	floor, err = s.trackBegin(r)
	if err == nil {
		err = s.readTrackForm(w, r)
	}
	d = trackPageData{T: trackLang(r)}
	if err == nil {
		return floor, d, true, nil
	}
	floor()
	if munigis.ErrorCode(err) == munigis.Internal || err == errNoRoute {
		return nil, d, false, err
	}
	s.setRetryAfter(w, err)
	return nil, d, false, s.renderTrack(w, r, pageError(&d, err), d)
}

// handleTrackForm answers POST /track (form fields number, code, lang):
// the page with the case, or with the one not-found message.
func (s *Server) handleTrackForm(w http.ResponseWriter, r *http.Request) error {
	floor, d, ok, err := s.beginTrackForm(w, r)
	if !ok {
		return err
	}
	number, code := strings.TrimSpace(r.PostForm.Get("number")), strings.TrimSpace(r.PostForm.Get("code"))
	t, err := s.cases.Track(r.Context(), number, code)
	floor()
	if err != nil {
		if err = trackError(err); munigis.ErrorCode(err) == munigis.Internal {
			return err
		}
		return s.renderTrack(w, r, pageError(&d, err), d)
	}
	d.Found, d.Number, d.Code = &t, number, code
	return s.renderTrack(w, r, http.StatusOK, d)
}

// setRetryAfter sets Retry-After for a rate-limited answer.
func (s *Server) setRetryAfter(w http.ResponseWriter, err error) {
	var wait interface{ RetryAfter() time.Duration }
	if asError(err, &wait) {
		w.Header().Set("Retry-After", retryAfter(wait.RetryAfter()))
	}
}

// handleTrackDocument answers POST /track/documents/{id} (form fields
// number, code): the file of a document of the official section meant for
// the applicant; anything else gets the not-found page.
func (s *Server) handleTrackDocument(w http.ResponseWriter, r *http.Request) error {
	floor, d, ok, err := s.beginTrackForm(w, r)
	if !ok {
		return err
	}
	id, perr := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	var fi documents.FileInfo
	var content []byte
	if perr != nil {
		err = errTrackNotFound
	} else {
		fi, content, err = s.cases.TrackDocument(r.Context(), strings.TrimSpace(r.PostForm.Get("number")),
			strings.TrimSpace(r.PostForm.Get("code")), id)
	}
	floor()
	if err != nil {
		if err = trackError(err); munigis.ErrorCode(err) == munigis.Internal {
			return err
		}
		return s.renderTrack(w, r, pageError(&d, err), d)
	}
	return writeFile(w, r, fi, content, "no-store")
}

// waitCtx is a sleep that a cancelled request cuts short.
func waitCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

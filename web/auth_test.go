package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"munigis"
	"munigis/access"
	"munigis/accounts"
)

// call makes a request with optional headers and cookies and returns the
// recorder.
func (f fixture) call(t *testing.T, method, path, body string, hdr map[string]string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "192.0.2.10:4567"
	if body != "" && !strings.HasPrefix(hdr["Content-Type"], "application/x-www-form") {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func (f fixture) addUser(t *testing.T, username string, role access.Role, unit string) accounts.User {
	t.Helper()
	u, err := f.store.CreateUser(munigis.WithActor(context.Background(), "test"), accounts.NewUser{Username: username,
		FirstName: "Мария", Surname: "Петрова", Role: role, AdminBody: "Община Троян", JobTitle: "специалист",
		Unit: unit, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type signedIn struct {
	cookie *http.Cookie
	csrf   string
}

func (f fixture) signIn(t *testing.T, username string) signedIn {
	t.Helper()
	rec := f.call(t, "POST", "/api/session", `{"username":"`+username+`","password":"`+testPassword+`"}`, nil)
	if rec.Code != 200 {
		t.Fatalf("sign in %s: %d %s", username, rec.Code, rec.Body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
		User struct {
			Username string `json:"username"`
			SystemID string `json:"system_id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.CSRF == "" || out.User.Username != username {
		t.Fatalf("sign-in answer %s (%v)", rec.Body, err)
	}
	var c *http.Cookie
	for _, x := range rec.Result().Cookies() {
		if x.Name == "munigis_session" {
			c = x
		}
	}
	if c == nil {
		t.Fatal("no munigis_session cookie")
	}
	return signedIn{cookie: c, csrf: out.CSRF}
}

func (f fixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.pool.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSignInSessionAndCookie(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "maria", access.Clerk, "")
	s := f.signIn(t, "maria")
	if !s.cookie.HttpOnly || s.cookie.SameSite != http.SameSiteLaxMode || s.cookie.Path != "/" || s.cookie.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over plain HTTP", s.cookie)
	}
	if f.count(t, `SELECT count(*) FROM sessions WHERE id = sha256(convert_to($1, 'UTF8'))`, s.cookie.Value) != 1 {
		t.Error("the session is not stored by the SHA-256 of the cookie")
	}
	rec := f.call(t, "GET", "/api/session", "", nil, s.cookie)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"username":"maria"`) || !strings.Contains(rec.Body.String(), s.csrf) {
		t.Errorf("GET /api/session: %d %s", rec.Code, rec.Body)
	}
	// A clerk reads internal layers (default role grant) with all fields.
	rec = f.call(t, "GET", "/api/layers/benches/features", "", nil, s.cookie)
	if !strings.Contains(rec.Body.String(), "SECRET-NOTE-VALUE") {
		t.Errorf("signed-in clerk does not see internal fields: %s", rec.Body)
	}
	if rec := f.call(t, "GET", "/api/session", "", nil); rec.Code != 401 {
		t.Errorf("anonymous GET /api/session: %d", rec.Code)
	}

	wrong := f.call(t, "POST", "/api/session", `{"username":"maria","password":"not the password"}`, nil)
	unknown := f.call(t, "POST", "/api/session", `{"username":"nobody","password":"not the password"}`, nil)
	if wrong.Code != 401 || unknown.Code != 401 || wrong.Body.String() != unknown.Body.String() {
		t.Errorf("wrong password %d %s / unknown user %d %s: want the same 401", wrong.Code, wrong.Body, unknown.Code, unknown.Body)
	}
	if len(wrong.Result().Cookies()) != 0 {
		t.Error("a failed sign-in set a cookie")
	}
	if err := f.store.Disable(munigis.WithActor(context.Background(), "test"), "maria"); err != nil {
		t.Fatal(err)
	}
	if rec := f.call(t, "POST", "/api/session", `{"username":"maria","password":"`+testPassword+`"}`, nil); rec.Code != 401 || !strings.Contains(rec.Body.String(), "disabled") {
		t.Errorf("disabled user: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(t, "GET", "/api/layers", "", nil, s.cookie); rec.Code != 401 {
		t.Errorf("a disabled user's old session: %d", rec.Code)
	}
	if rec := f.call(t, "POST", "/api/session", `{"username":"x","password":"`+strings.Repeat("a", 2<<20)+`"}`, nil); rec.Code != 413 {
		t.Errorf("2 MB sign-in body: %d", rec.Code)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = 'sign_in_failed'`); n != 3 {
		t.Errorf("%d sign_in_failed audit rows, want 3", n)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = 'sign_in' AND actor LIKE 'U-%'`); n != 1 {
		t.Errorf("%d sign_in audit rows with the user's system id as actor, want 1", n)
	}
}

func TestRateLimitedSignIn(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "maria", access.Clerk, "")
	for i := 0; i < 5; i++ {
		f.call(t, "POST", "/api/session", `{"username":"maria","password":"guess number `+string(rune('a'+i))+`"}`, nil)
	}
	rec := f.call(t, "POST", "/api/session", `{"username":"maria","password":"`+testPassword+`"}`, nil)
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "try again in") {
		t.Errorf("6th attempt: %d Retry-After=%q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if n := f.count(t, `SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("%d sessions after a rate-limited sign-in", n)
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "maria", access.Clerk, "")
	s := f.signIn(t, "maria")
	if _, err := f.pool.Pool.Exec(context.Background(), `UPDATE sessions SET last_seen_at = now() - interval '9 hours'`); err != nil {
		t.Fatal(err)
	}
	rec := f.call(t, "GET", "/api/layers", "", nil, s.cookie)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "expired") {
		t.Errorf("expired session: %d %s", rec.Code, rec.Body)
	}
	cleared := false
	for _, c := range rec.Result().Cookies() {
		cleared = cleared || (c.Name == "munigis_session" && c.MaxAge < 0)
	}
	if !cleared {
		t.Error("the 401 for an expired session does not clear the cookie")
	}
	// A browser is sent to the sign-in form, which ignores the stale cookie.
	if rec := f.call(t, "GET", "/", "", map[string]string{"Accept": "text/html"}, s.cookie); rec.Code != 303 || rec.Header().Get("Location") != "/login?expired=1" {
		t.Errorf("browser with an expired session: %d %v", rec.Code, rec.Header())
	}
	if rec := f.call(t, "GET", "/login?expired=1", "", nil, s.cookie); rec.Code != 200 || !strings.Contains(rec.Body.String(), "изтече") {
		t.Errorf("sign-in page with a stale cookie: %d %s", rec.Code, rec.Body)
	}
	// Signing in again works even with the stale cookie.
	if rec := f.call(t, "POST", "/api/session", `{"username":"maria","password":"`+testPassword+`"}`, nil, s.cookie); rec.Code != 200 {
		t.Errorf("sign in with a stale cookie: %d %s", rec.Code, rec.Body)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	s := f.signIn(t, "root")
	grant := `{"subject_kind":"role","subject":"clerk","object_kind":"register","object":"permits","permission":"read"}`
	before := f.count(t, `SELECT count(*) FROM grants`)
	for _, hdr := range []map[string]string{nil, {"X-CSRF-Token": "wrong"}} {
		rec := f.call(t, "POST", "/api/grants", grant, hdr, s.cookie)
		if rec.Code != 403 || !strings.Contains(rec.Body.String(), "X-CSRF-Token") {
			t.Errorf("POST without the right CSRF token (%v): %d %s", hdr, rec.Code, rec.Body)
		}
	}
	if rec := f.call(t, "DELETE", "/api/session", "", nil, s.cookie); rec.Code != 403 {
		t.Errorf("sign-out without CSRF: %d", rec.Code)
	}
	if after := f.count(t, `SELECT count(*) FROM grants`); after != before {
		t.Errorf("grants %d → %d after refused requests", before, after)
	}
	if rec := f.call(t, "GET", "/api/session", "", nil, s.cookie); rec.Code != 200 {
		t.Errorf("session gone after a refused sign-out: %d", rec.Code)
	}
	rec := f.call(t, "POST", "/api/grants", grant, map[string]string{"X-CSRF-Token": s.csrf}, s.cookie)
	if rec.Code != 201 {
		t.Fatalf("POST with CSRF: %d %s", rec.Code, rec.Body)
	}
	// Bearer requests need no CSRF token.
	if rec := f.call(t, "GET", "/api/grants", "", map[string]string{"Authorization": "Bearer " + f.token}); rec.Code != 200 || !strings.Contains(rec.Body.String(), "permits") {
		t.Errorf("GET /api/grants as admin: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(t, "DELETE", "/api/session", "", map[string]string{"X-CSRF-Token": s.csrf}, s.cookie); rec.Code != 204 {
		t.Errorf("sign-out: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(t, "GET", "/api/session", "", nil, s.cookie); rec.Code != 401 {
		t.Errorf("session after sign-out: %d", rec.Code)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action IN ('grant', 'sign_out')`); n != 2 {
		t.Errorf("%d grant/sign_out audit rows, want 2", n)
	}
}

func TestLoginForm(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "maria", access.Clerk, "")
	if rec := f.call(t, "GET", "/login", "", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Вход") || !strings.Contains(rec.Body.String(), `lang="bg"`) {
		t.Errorf("GET /login: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(t, "GET", "/login?lang=en", "", nil); !strings.Contains(rec.Body.String(), "Sign in") {
		t.Errorf("GET /login?lang=en: %s", rec.Body)
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	rec := f.call(t, "POST", "/login", url.Values{"username": {"maria"}, "password": {"wrong password"}}.Encode(), form)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "Грешно потребителско име или парола") {
		t.Errorf("wrong password in the form: %d %s", rec.Code, rec.Body)
	}
	rec = f.call(t, "POST", "/login", url.Values{"username": {"maria"}, "password": {testPassword}}.Encode(), form)
	if rec.Code != 303 || rec.Header().Get("Location") != "/" {
		t.Fatalf("form sign-in: %d %s", rec.Code, rec.Header())
	}
	var c *http.Cookie
	for _, x := range rec.Result().Cookies() {
		if x.Name == "munigis_session" {
			c = x
		}
	}
	if c == nil {
		t.Fatal("no cookie")
	}
	page := f.call(t, "GET", "/login", "", nil, c).Body.String()
	i := strings.Index(page, `name="csrf_token" value="`)
	if i < 0 {
		t.Fatalf("signed-in page has no sign-out form: %s", page)
	}
	csrf := page[i+len(`name="csrf_token" value="`):]
	csrf = csrf[:strings.Index(csrf, `"`)]
	if rec := f.call(t, "POST", "/logout", "lang=bg", form, c); rec.Code != 403 {
		t.Errorf("sign-out form without csrf_token: %d", rec.Code)
	}
	rec = f.call(t, "POST", "/logout", url.Values{"csrf_token": {csrf}}.Encode(), form, c)
	if rec.Code != 303 || f.count(t, `SELECT count(*) FROM sessions`) != 0 {
		t.Errorf("sign-out form: %d, sessions left %d", rec.Code, f.count(t, `SELECT count(*) FROM sessions`))
	}
}

func TestTokensOverHTTP(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "gps", access.Inspector, "")
	admin := map[string]string{"Authorization": "Bearer " + f.token}
	rec := f.call(t, "POST", "/api/tokens", `{"name":"GPS unit 7","user":"gps"}`, admin)
	if rec.Code != 201 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var created struct {
		Token   string `json:"token"`
		Details struct {
			ID int64 `json:"id"`
		} `json:"details"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || !strings.HasPrefix(created.Token, "mgt_") {
		t.Fatalf("%s %v", rec.Body, err)
	}
	gps := map[string]string{"Authorization": "Bearer " + created.Token}
	if rec := f.call(t, "GET", "/api/layers/utility_lines/features", "", gps); rec.Code != 200 {
		t.Errorf("inspector token reads internal layer: %d", rec.Code)
	}
	// An inspector may not edit the catalog, and may not list others' tokens.
	if rec := f.call(t, "POST", "/api/layer-types", `{"name":"x"}`, gps); rec.Code != 403 {
		t.Errorf("inspector defines a type: %d", rec.Code)
	}
	if rec := f.call(t, "GET", "/api/tokens?all=1", "", gps); rec.Code != 403 {
		t.Errorf("inspector lists all tokens: %d", rec.Code)
	}
	rec = f.call(t, "GET", "/api/tokens", "", gps)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), created.Token) || !strings.Contains(rec.Body.String(), "GPS unit 7") {
		t.Errorf("own token list: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(t, "GET", "/api/grants", "", gps); rec.Code != 403 {
		t.Errorf("inspector lists grants: %d", rec.Code)
	}
	if rec := f.call(t, "DELETE", "/api/tokens/"+itoa(created.Details.ID), "", gps); rec.Code != 200 {
		t.Errorf("revoke own token: %d %s", rec.Code, rec.Body)
	}
	if rec := f.call(t, "GET", "/api/layers", "", gps); rec.Code != 401 || !strings.Contains(rec.Body.String(), "revoked") {
		t.Errorf("revoked token: %d %s", rec.Code, rec.Body)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action IN ('token.create', 'token.revoke')`); n != 3 {
		t.Errorf("%d token audit rows, want 3 (fixture + create + revoke)", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestGrantsDecideVisibility takes the default read grants away from
// clerks and gives an internal layer to one unit; its head (Art. 40) and
// members see it, others do not, and the public never does.
func TestGrantsDecideVisibility(t *testing.T) {
	f := newFixture(t)
	ctx := munigis.WithActor(context.Background(), "test")
	if _, err := f.store.CreateUnit(ctx, "Отдел ВиК", "Water", "Дирекция УТ"); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, "head", access.Clerk, "Дирекция УТ")
	f.addUser(t, "member", access.Clerk, "Отдел ВиК")
	f.addUser(t, "outsider", access.Clerk, "")
	if err := f.store.SetUnitHead(ctx, "Дирекция УТ", "head"); err != nil {
		t.Fatal(err)
	}
	gs, _ := f.store.Grants(ctx, false)
	admin := map[string]string{"Authorization": "Bearer " + f.token}
	for _, g := range gs {
		if g.Subject == "clerk" {
			if rec := f.call(t, "DELETE", "/api/grants/"+itoa(g.ID), "", admin); rec.Code != 200 {
				t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
			}
		}
	}
	if rec := f.call(t, "POST", "/api/grants", `{"subject_kind":"user","subject":"member","object_kind":"layer","object":"utility_lines","permission":"read"}`, admin); rec.Code != 201 {
		t.Fatalf("grant: %d %s", rec.Code, rec.Body)
	}
	sees := func(who string) bool {
		s := f.signIn(t, who)
		rec := f.call(t, "GET", "/api/layers", "", nil, s.cookie)
		return strings.Contains(rec.Body.String(), `"utility_lines"`)
	}
	if !sees("member") || !sees("head") || sees("outsider") {
		t.Errorf("member %v head %v outsider %v, want true true false", sees("member"), sees("head"), sees("outsider"))
	}
	if rec := f.call(t, "GET", "/api/layers", "", nil); strings.Contains(rec.Body.String(), "utility_lines") {
		t.Error("the public sees utility_lines")
	}
	if rec := f.call(t, "GET", "/api/grants?all=1", "", admin); !strings.Contains(rec.Body.String(), `"revoked_by"`) {
		t.Errorf("revoked grants are not kept on record: %s", rec.Body)
	}
}

// GIS clients authenticate with Basic: the username and an API token as the
// password. The token must be that user's; a password is never accepted.
func TestBasicAuthWithAPIToken(t *testing.T) {
	f := newFixture(t)
	basic := func(user, secret string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))}
	}
	if rec := f.call(t, "GET", "/api/layers/utility_lines/features", "", basic("root", f.token)); rec.Code != 200 {
		t.Errorf("Basic root:<token> reads an internal layer: %d %s", rec.Code, rec.Body)
	}
	for _, c := range []struct {
		name string
		h    map[string]string
	}{
		{"password instead of token", basic("root", testPassword)},
		{"another user's name", basic("someone", f.token)},
		{"no token", basic("root", "")},
	} {
		if rec := f.call(t, "GET", "/api/layers", "", c.h); rec.Code != 401 {
			t.Errorf("%s: %d %s, want 401", c.name, rec.Code, rec.Body)
		}
	}
	// Basic is offered on the OGC services only: a browser would answer
	// it with a password dialog.
	bad := basic("root", "mgt_wrong")
	if rec := f.call(t, "GET", "/wfs?SERVICE=WFS&REQUEST=GetCapabilities", "", bad); rec.Code != 401 ||
		!strings.Contains(strings.Join(rec.Header().Values("WWW-Authenticate"), ";"), "Basic") {
		t.Errorf("/wfs with a bad token: %d, WWW-Authenticate %q", rec.Code, rec.Header().Values("WWW-Authenticate"))
	}
	if rec := f.call(t, "GET", "/api/layers", "", bad); strings.Contains(strings.Join(rec.Header().Values("WWW-Authenticate"), ";"), "Basic") {
		t.Errorf("/api/layers offers Basic: %q", rec.Header().Values("WWW-Authenticate"))
	}
}

package web

import (
	"html/template"
	"net"
	"net/http"
	"time"

	"munigis"
	"munigis/access"
	"munigis/accounts"
)

// sessionCookie names the session cookie.
const sessionCookie = "munigis_session"

type authKey struct{}

// authInfo is how the request's user authenticated, for the handlers that
// need more than the access.Viewer (who am I, sign-out).
type authInfo struct {
	user    accounts.User
	via     string // "session", "token" or "" for the public
	session *accounts.Session
	cookie  string
}

func authFrom(r *http.Request) authInfo {
	a, _ := r.Context().Value(authKey{}).(authInfo)
	return a
}

// clientAddress is the peer's IP address. Headers such as X-Forwarded-For
// are not trusted: anyone can send them.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, ns accounts.NewSession) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: ns.Cookie, Path: "/", Expires: ns.Session.ExpiresAt,
		HttpOnly: true, Secure: r.TLS != nil || s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil || s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

var errNotSignedIn = &munigis.Error{Code: munigis.Unauthorized,
	Message:   "sign in first (POST /api/session, or send an API token as Authorization: Bearer)",
	MessageBG: "Първо влезте в системата"}

var errAdminOnly = munigis.Errorf(munigis.Forbidden, "only an administrator may do this")

func (s *Server) noAccounts() error {
	return munigis.Errorf(munigis.Unavailable, "sign-in is not configured on this server")
}

// signInJSON answers a sign-in or "who am I".
type signInJSON struct {
	User      accounts.User  `json:"user"`
	Via       string         `json:"via"`
	CSRFToken string         `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time     `json:"expires_at,omitempty"`
	Grants    []access.Grant `json:"grants"`
}

// handleSessionCreate: POST /api/session {username, password} sets the
// session cookie and returns the user and the CSRF token.
func (s *Server) handleSessionCreate(w http.ResponseWriter, r *http.Request) error {
	if s.accounts == nil {
		return s.noAccounts()
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.Username == "" || in.Password == "" {
		return munigis.Errorf(munigis.Invalid, "send both username and password")
	}
	ns, err := s.accounts.SignIn(r.Context(), in.Username, in.Password, clientAddress(r), r.UserAgent())
	if err != nil {
		return err
	}
	v, err := s.accounts.ViewerFor(r.Context(), ns.User, "session")
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, ns)
	writeJSON(w, http.StatusOK, signInJSON{User: ns.User, Via: "session", CSRFToken: ns.Session.CSRFToken,
		ExpiresAt: &ns.Session.ExpiresAt, Grants: nonNil(v.Grants)})
	return nil
}

func nonNil(g []access.Grant) []access.Grant {
	if g == nil {
		return []access.Grant{}
	}
	return g
}

// handleSessionGet: GET /api/session says who is signed in, 401 for the public.
func (s *Server) handleSessionGet(w http.ResponseWriter, r *http.Request) error {
	a := authFrom(r)
	if a.via == "" {
		return errNotSignedIn
	}
	v := access.FromContext(r.Context())
	out := signInJSON{User: a.user, Via: a.via, Grants: nonNil(v.Grants)}
	if a.session != nil {
		out.CSRFToken, out.ExpiresAt = a.session.CSRFToken, &a.session.ExpiresAt
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleSessionDelete: DELETE /api/session signs out (CSRF checked by the
// middleware).
func (s *Server) handleSessionDelete(w http.ResponseWriter, r *http.Request) error {
	a := authFrom(r)
	switch a.via {
	case "":
		return errNotSignedIn
	case "token":
		return munigis.Errorf(munigis.Invalid, "an API token has no session to end; revoke the token with DELETE /api/tokens/{id}")
	}
	if err := s.accounts.SignOut(r.Context(), a.cookie, clientAddress(r)); err != nil {
		return err
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// loginText holds the sign-in page in both languages.
type loginText struct {
	Lang, Title, Username, Password, Submit, Other, OtherHref, SignedInAs, SignOut, Back string
}

var loginTexts = map[string]loginText{
	"bg": {Lang: "bg", Title: "Вход в munigis", Username: "Потребителско име", Password: "Парола", Submit: "Вход",
		Other: "English", OtherHref: "/login?lang=en", SignedInAs: "Влезли сте като", SignOut: "Изход", Back: "Към началната страница"},
	"en": {Lang: "en", Title: "Sign in to munigis", Username: "Username", Password: "Password", Submit: "Sign in",
		Other: "Български", OtherHref: "/login", SignedInAs: "Signed in as", SignOut: "Sign out", Back: "To the home page"},
}

type loginPage struct {
	T        loginText
	Error    string
	Username string
	User     *accounts.User
	CSRF     string
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="{{.T.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
label,input,button{display:block;width:100%;box-sizing:border-box}input{margin:.2rem 0 1rem;padding:.4rem}
button{padding:.5rem}.error{color:#a00;border:1px solid #a00;padding:.5rem}</style></head>
<body>
<p style="text-align:right"><a href="{{.T.OtherHref}}">{{.T.Other}}</a></p>
<h1>{{.T.Title}}</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .User}}
<p>{{.T.SignedInAs}} <strong>{{.User.Username}}</strong> ({{.User.Name}}, {{.User.Role}}).</p>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{.CSRF}}">
<input type="hidden" name="lang" value="{{.T.Lang}}"><button type="submit">{{.T.SignOut}}</button></form>
{{else}}
<form method="post" action="/login">
<input type="hidden" name="lang" value="{{.T.Lang}}">
<label for="username">{{.T.Username}}</label>
<input id="username" name="username" autocomplete="username" required autofocus value="{{.Username}}">
<label for="password">{{.T.Password}}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{{.T.Submit}}</button>
</form>
{{end}}
<p><a href="/">{{.T.Back}}</a></p>
</body></html>
`))

func langOf(r *http.Request) loginText {
	lang := r.URL.Query().Get("lang")
	if r.Method == http.MethodPost {
		lang = r.PostForm.Get("lang")
	}
	if t, ok := loginTexts[lang]; ok {
		return t
	}
	return loginTexts["bg"]
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, p loginPage) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	return loginTemplate.Execute(w, p)
}

// handleLoginPage: GET /login, the sign-in form (Bulgarian; ?lang=en for
// English), or the signed-in user with a sign-out button.
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) error {
	p := loginPage{T: langOf(r)}
	if r.URL.Query().Get("expired") != "" {
		p.Error = "Сесията ви изтече или е прекратена; влезте отново."
		if p.T.Lang == "en" {
			p.Error = "Your session has expired or was ended; sign in again."
		}
	}
	if a := authFrom(r); a.session != nil {
		p.User, p.CSRF = &a.user, a.session.CSRFToken
	}
	return s.renderLogin(w, http.StatusOK, p)
}

// handleLoginForm: POST /login from the form; success redirects to /, a
// failure shows the form again with the reason and the status of the
// failure (401, 429).
func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) error {
	if s.accounts == nil {
		return s.noAccounts()
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return munigis.Wrap(munigis.Invalid, err, "the form cannot be read")
	}
	t := langOf(r)
	username := r.PostForm.Get("username")
	ns, err := s.accounts.SignIn(r.Context(), username, r.PostForm.Get("password"), clientAddress(r), r.UserAgent())
	if err != nil {
		code := munigis.ErrorCode(err)
		status, ok := statusOf[code]
		if !ok || status >= 500 {
			return err
		}
		msg := munigis.ErrorMessage(err)
		if me := (*munigis.Error)(nil); t.Lang == "bg" && asError(err, &me) && me.MessageBG != "" {
			msg = me.MessageBG
		}
		var wait interface{ RetryAfter() time.Duration }
		if asError(err, &wait) {
			w.Header().Set("Retry-After", retryAfter(wait.RetryAfter()))
		}
		return s.renderLogin(w, status, loginPage{T: t, Error: msg, Username: username})
	}
	s.setSessionCookie(w, r, ns)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// handleLogoutForm: POST /logout from the sign-out button (csrf_token form
// field, checked by the middleware); redirects to the sign-in page.
func (s *Server) handleLogoutForm(w http.ResponseWriter, r *http.Request) error {
	a := authFrom(r)
	if a.session != nil {
		if err := s.accounts.SignOut(r.Context(), a.cookie, clientAddress(r)); err != nil {
			return err
		}
	}
	s.clearSessionCookie(w, r)
	to := "/login"
	if r.PostForm.Get("lang") == "en" {
		to += "?lang=en"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

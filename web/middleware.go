package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"munigis"
	"munigis/access"
)

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}

// middleware wraps h, outermost first: request ID and deadline, access
// log, panic recovery, then who is asking. Each step that adds to the
// context copies the request, and a cached tile costs only microseconds, so
// the steps are few and the public's requests add nothing they do not need.
func (s *Server) middleware(h http.Handler) http.Handler {
	h = s.authenticate(h)
	h = s.recoverPanics(h)
	h = s.accessLog(h)
	return s.begin(h)
}

// begin gives the request its ID (answered in X-Request-Id, logged with
// every line about it) and bounds its context by RequestTimeout. The pool's
// statement_timeout has the same value, so the database stops the query
// too.
func (s *Server) begin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, requestIDKey{}, id)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		// LogAttrs, asked first whether the level is on: a line per
		// request, mostly cached tiles, should not cost more than the tile.
		if ctx := r.Context(); s.log.Enabled(ctx, slog.LevelInfo) {
			s.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", requestID(ctx)),
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("query", r.URL.RawQuery),
				slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
				slog.Float64("ms", float64(time.Since(start).Microseconds())/1000), slog.String("remote", r.RemoteAddr))
		}
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic in handler", "request_id", requestID(r.Context()), "path", r.URL.Path, "panic", p)
				writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{
					"code": string(munigis.Internal), "message": munigis.ErrorMessage(nil)}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// authenticate puts the caller's access.Viewer in the context: from an
// "Authorization: Bearer <API token>" header (or Basic with the username
// and an API token), else from the session cookie,
// else the public. A bearer token or cookie that is not valid (unknown,
// revoked, expired, of a disabled user) is refused with 401 rather than
// treated as anonymous, so that a client notices; the 401 also clears a bad
// cookie, so the next request is the public's. The sign-in routes ignore a
// bad cookie, so a person can always sign in again.
//
// A state-changing request (POST, PUT, PATCH, DELETE) authenticated by the
// cookie must carry the session's CSRF token in the X-CSRF-Token header (or,
// for the HTML sign-out form, the csrf_token form field), else 403. Bearer
// requests are exempt: a browser never adds that header by itself.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(err error) {
			s.handle(func(http.ResponseWriter, *http.Request) error { return err }).ServeHTTP(w, r)
		}
		ctx := r.Context()
		var a authInfo
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			// GIS clients (QGIS, GDAL, OWSLib) know Basic authentication,
			// not bearer tokens: they send the username with an API token
			// as the password. A password is never accepted here.
			basicUser, basicToken, basic := r.BasicAuth()
			if basic {
				token, ok = basicToken, true
			}
			if !ok || s.accounts == nil {
				fail(munigis.Errorf(munigis.Unauthorized, "the Authorization header must be \"Bearer <API token>\", or Basic with your username and an API token as the password"))
				return
			}
			_, u, err := s.accounts.LookupToken(ctx, strings.TrimSpace(token))
			if err != nil {
				fail(err)
				return
			}
			if basic && basicUser != u.Username {
				fail(munigis.Errorf(munigis.Unauthorized, "the API token does not belong to user %q", basicUser))
				return
			}
			a = authInfo{user: u, via: "token"}
		} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && s.accounts != nil {
			sess, u, err := s.accounts.LookupSession(ctx, c.Value)
			stale := err != nil && munigis.ErrorCode(err) == munigis.Unauthorized
			switch {
			case stale && (isSignInRoute(r) || r.URL.Path == "/login"):
				// Ignore a stale cookie where one signs in again.
				s.clearSessionCookie(w, r)
			case stale && r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html"):
				// A browser page: show the sign-in form with the reason.
				s.clearSessionCookie(w, r)
				http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
				return
			case err != nil:
				if stale {
					s.clearSessionCookie(w, r)
				}
				fail(err)
				return
			default:
				if err := s.accounts.TouchSession(ctx, sess); err != nil {
					fail(err)
					return
				}
				a = authInfo{user: u, via: "session", session: &sess, cookie: c.Value}
			}
		}
		// The public needs nothing more in the context than its address:
		// no viewer (access.FromContext of a context without one is
		// access.Anonymous) and no authInfo (its zero value).
		if a.via != "" {
			v, err := s.accounts.ViewerFor(ctx, a.user, a.via)
			if err != nil {
				fail(err)
				return
			}
			ctx = context.WithValue(access.WithViewer(munigis.WithActor(ctx, v.SystemID), v), authKey{}, a)
		}
		if a.session != nil && stateChanging(r.Method) && !isSignInRoute(r) {
			if err := s.checkCSRF(w, r, a.session.CSRFToken); err != nil {
				fail(err)
				return
			}
		}
		ctx = munigis.WithAddress(ctx, clientAddress(r))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func stateChanging(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// isSignInRoute: where a person signs in, a stale cookie is ignored and no
// CSRF token is asked (the request does not act with the session).
func isSignInRoute(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/login" || r.URL.Path == "/api/session")
}

var errCSRF = &munigis.Error{Code: munigis.Forbidden,
	Message: "this request was made with a session cookie but without the session's CSRF token: send it in the X-CSRF-Token header " +
		"(sign-in and GET /api/session return it as csrf_token)",
	MessageBG: "Липсва или е грешен CSRF ключът на сесията (заглавие X-CSRF-Token)"}

func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request, want string) error {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return err
			}
			return munigis.Wrap(munigis.Invalid, err, "the form cannot be read")
		}
		got = r.PostForm.Get("csrf_token")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

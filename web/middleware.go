package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
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

// middleware wraps h, outermost first: request ID, access log, panic
// recovery, timeout, then who is asking.
func (s *Server) middleware(h http.Handler) http.Handler {
	h = s.authenticate(h)
	h = s.timeout(h)
	h = s.recoverPanics(h)
	h = s.accessLog(h)
	return s.withRequestID(h)
}

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
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
		s.log.Info("request", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path,
			"query", r.URL.RawQuery, "status", rec.status, "bytes", rec.bytes,
			"ms", float64(time.Since(start).Microseconds())/1000, "remote", r.RemoteAddr)
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

// timeout bounds the request's context. The pool's statement_timeout has
// the same value, so the database stops the query too.
func (s *Server) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticate puts the caller's access.Viewer in the context. A bearer
// token that is not valid is refused rather than treated as anonymous, so
// a misconfigured client notices.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := access.Anonymous
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || s.cfg.AdminToken == "" ||
				subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.cfg.AdminToken)) != 1 {
				s.handle(func(http.ResponseWriter, *http.Request) error {
					return munigis.Errorf(munigis.Unauthorized, "the bearer token is not valid")
				}).ServeHTTP(w, r)
				return
			}
			v = access.Viewer{Actor: "admin-token", Staff: true}
		}
		ctx := access.WithViewer(r.Context(), v)
		if v.Actor != "" {
			ctx = munigis.WithActor(ctx, v.Actor)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"munigis"
)

var (
	errNoRoute = munigis.Errorf(munigis.NotFound, "no such page or API endpoint")
	errMethod  = &munigis.Error{Code: "method_not_allowed", Message: "this method is not allowed here"}
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[munigis.Code]int{
	munigis.Invalid:      http.StatusBadRequest,
	munigis.NotFound:     http.StatusNotFound,
	munigis.Conflict:     http.StatusConflict,
	munigis.Unauthorized: http.StatusUnauthorized,
	munigis.Forbidden:    http.StatusForbidden,
	munigis.TooLarge:     http.StatusRequestEntityTooLarge,
	munigis.Unavailable:  http.StatusServiceUnavailable,
	munigis.Internal:     http.StatusInternalServerError,
	"method_not_allowed": http.StatusMethodNotAllowed,
	"too_many_requests":  http.StatusTooManyRequests,
}

// handlerFunc is the shape of every handler: it writes a response or
// returns an error for handle to report.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc: errors become a JSON error body with the
// status of their code. Internal errors are logged with the request ID and
// answered with a generic message, so database text never reaches a client.
func (s *Server) handle(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		if munigis.ClientGone(r.Context()) {
			s.log.Info("client closed the request", "request_id", requestID(r.Context()), "method", r.Method,
				"path", r.URL.Path, "err", err.Error())
			w.WriteHeader(munigis.StatusClientClosed)
			return
		}
		if errors.Is(err, context.DeadlineExceeded) && munigis.ErrorCode(err) == munigis.Internal {
			err = munigis.Wrap(munigis.Unavailable, err, "the request took longer than %s and was stopped; narrow it (smaller bbox, lower limit)", s.cfg.RequestTimeout)
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = munigis.Errorf(munigis.TooLarge, "the request body is larger than %d bytes", tooBig.Limit)
		}
		code := munigis.ErrorCode(err)
		status, ok := statusOf[code]
		if !ok {
			status = http.StatusInternalServerError
		}
		if status >= 500 {
			s.log.Error("request failed", "request_id", requestID(r.Context()), "method", r.Method,
				"path", r.URL.Path, "status", status, "err", err.Error())
		}
		body := map[string]string{"code": string(code), "message": munigis.ErrorMessage(err)}
		var me *munigis.Error
		if errors.As(err, &me) && me.MessageBG != "" && code != munigis.Internal {
			body["message_bg"] = me.MessageBG
		}
		if code == munigis.Unauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="munigis"`)
			// GIS clients on the OGC services are offered Basic too, so
			// that they ask for a username and API token (see
			// authenticate). Never elsewhere: a browser would answer a
			// Basic challenge to the map's own requests with a password
			// dialog.
			if isOGCPath(r.URL.Path) {
				w.Header().Add("WWW-Authenticate", `Basic realm="munigis", charset="UTF-8"`)
			}
		}
		var wait interface{ RetryAfter() time.Duration }
		if errors.As(err, &wait) {
			w.Header().Set("Retry-After", retryAfter(wait.RetryAfter()))
		}
		writeJSON(w, status, map[string]any{"error": body})
	})
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("web: encode response", "err", err)
		http.Error(w, `{"error":{"code":"internal","message":"Internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// retryAfter formats a Retry-After header: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

// asError is errors.As, for call sites that declare the target inline.
func asError(err error, target any) bool { return errors.As(err, target) }

package ogcapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"munigis"
	"munigis/access"
	"munigis/layers"
)

// Deps are what the service needs.
type Deps struct {
	Layers *layers.Store
	Log    *slog.Logger
	// MaxBodyBytes caps a create/replace/update body (default 1 MiB).
	MaxBodyBytes int64
}

// Service serves OGC API – Features. It is an http.Handler for /ogc and
// everything under it; the web server mounts it behind its middleware, so
// the caller (access.FromContext) is already known.
type Service struct {
	d Deps

	mu      sync.Mutex
	extents map[string]cachedExtent // by layer name; see extentTTL
}

// New returns the service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	return &Service{d: d, extents: map[string]cachedExtent{}}
}

// Paging bounds of /items. The default is the one of the OGC examples and
// pygeoapi; the maximum is the feature store's.
const (
	defaultLimit = 10
	maxLimit     = layers.MaxLimit
)

// Media types.
const (
	mtJSON    = "application/json"
	mtGeoJSON = "application/geo+json"
	mtHTML    = "text/html"
	mtOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
)

// handlerFunc is the shape of every handler here: it writes a response or
// returns an error for fail to report.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errMethod is answered with 405 and an Allow header.
type errMethod struct{ allow []string }

func (e errMethod) Error() string {
	return "this resource answers " + strings.Join(e.allow, ", ") + " only"
}

// ServeHTTP routes /ogc/... to the resources of Part 1 and Part 4.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, allow := s.route(r)
	if h == nil {
		s.fail(w, r, munigis.Errorf(munigis.NotFound, "no such OGC API resource: %s (start at %s)", r.URL.Path, baseURL(r)))
		return
	}
	if !methodIn(r.Method, allow) {
		s.fail(w, r, errMethod{allow: allow})
		return
	}
	if err := h(w, r); err != nil {
		s.fail(w, r, err)
	}
}

var (
	readOnly  = []string{http.MethodGet, http.MethodHead}
	itemsRW   = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	featureRW = []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete}
)

func methodIn(m string, allow []string) bool {
	for _, a := range allow {
		if a == m {
			return true
		}
	}
	return false
}

// route picks the handler for r's path and the methods it takes; nil when
// there is no such resource. A trailing slash is ignored, as pygeoapi and
// GeoServer do, because clients build URLs both ways.
func (s *Service) route(r *http.Request) (handlerFunc, []string) {
	p, ok := strings.CutPrefix(r.URL.Path, "/ogc")
	if !ok || (p != "" && p[0] != '/') {
		return nil, nil
	}
	p = strings.Trim(p, "/")
	if p == "" {
		return s.handleLanding, readOnly
	}
	seg := strings.Split(p, "/")
	switch {
	case len(seg) == 1 && seg[0] == "api":
		return s.handleAPI, readOnly
	case len(seg) == 1 && seg[0] == "conformance":
		return s.handleConformance, readOnly
	case len(seg) == 1 && seg[0] == "collections":
		return s.handleCollections, readOnly
	case len(seg) == 2 && seg[0] == "collections":
		return s.withCollection(seg[1], s.handleCollection), readOnly
	case len(seg) == 3 && seg[0] == "collections" && seg[2] == "schema":
		return s.withCollection(seg[1], s.handleSchema), readOnly
	case len(seg) == 3 && seg[0] == "collections" && seg[2] == "queryables":
		return s.withCollection(seg[1], s.handleQueryables), readOnly
	case len(seg) == 3 && seg[0] == "collections" && seg[2] == "items":
		h := s.withCollection(seg[1], func(w http.ResponseWriter, r *http.Request, l layers.Layer) error {
			if r.Method == http.MethodPost {
				return s.handleCreate(w, r, l)
			}
			return s.handleItems(w, r, l)
		})
		return h, itemsRW
	case len(seg) == 4 && seg[0] == "collections" && seg[2] == "items":
		fid := seg[3]
		h := s.withCollection(seg[1], func(w http.ResponseWriter, r *http.Request, l layers.Layer) error {
			switch r.Method {
			case http.MethodPut:
				return s.handleReplace(w, r, l, fid)
			case http.MethodPatch:
				return s.handleUpdate(w, r, l, fid)
			case http.MethodDelete:
				return s.handleDelete(w, r, l, fid)
			}
			return s.handleItem(w, r, l, fid)
		})
		return h, featureRW
	}
	return nil, nil
}

// withCollection resolves the collection named in the path before h runs.
// A layer the caller may not read is NotFound, exactly like a missing one,
// and so is a layer whose features live on another server (wms/wfs).
func (s *Service) withCollection(name string, h func(http.ResponseWriter, *http.Request, layers.Layer) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		l, err := s.collection(r.Context(), name)
		if err != nil {
			return err
		}
		return h(w, r, l)
	}
}

func (s *Service) collection(ctx context.Context, name string) (layers.Layer, error) {
	v := access.FromContext(ctx)
	l, err := s.d.Layers.Layer(ctx, name)
	if err != nil && munigis.ErrorCode(err) != munigis.NotFound {
		return l, err
	}
	if err != nil || !v.CanRead(l) || !l.Local() {
		return layers.Layer{}, munigis.Errorf(munigis.NotFound, "collection %q does not exist", name)
	}
	return l, nil
}

// statusOf maps error codes to HTTP statuses (the same table as package
// web's) and to the exception codes OGC services use in {code, description}.
var statusOf = map[munigis.Code]struct {
	status int
	code   string
}{
	munigis.Invalid:      {http.StatusBadRequest, "InvalidParameterValue"},
	munigis.NotFound:     {http.StatusNotFound, "NotFound"},
	munigis.Conflict:     {http.StatusConflict, "Conflict"},
	munigis.Unauthorized: {http.StatusUnauthorized, "Unauthorized"},
	munigis.Forbidden:    {http.StatusForbidden, "Forbidden"},
	munigis.TooLarge:     {http.StatusRequestEntityTooLarge, "PayloadTooLarge"},
	munigis.Unavailable:  {http.StatusServiceUnavailable, "ServiceUnavailable"},
	munigis.Internal:     {http.StatusInternalServerError, "ServerError"},
	codeNotAcceptable:    {http.StatusNotAcceptable, "NotAcceptable"},
	codeUnsupportedMedia: {http.StatusUnsupportedMediaType, "UnsupportedMediaType"},
}

// Error codes of this package only.
const (
	codeNotAcceptable    munigis.Code = "not_acceptable"
	codeUnsupportedMedia munigis.Code = "unsupported_media_type"
)

// fail answers err as an OGC exception, {"code", "description"}, the
// schema of the OGC API OpenAPI building blocks (exception.yaml). Internal
// errors are logged and answered with a generic text, so no database text
// ever reaches a client.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var me errMethod
	if errors.As(err, &me) {
		w.Header().Set("Allow", strings.Join(me.allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, mtJSON, map[string]any{
			"code": "MethodNotAllowed", "description": me.Error()})
		return
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = munigis.Errorf(munigis.TooLarge, "the request body is larger than %d bytes", tooBig.Limit)
	}
	if errors.Is(err, context.DeadlineExceeded) && munigis.ErrorCode(err) == munigis.Internal {
		err = munigis.Wrap(munigis.Unavailable, err, "the request took too long and was stopped; narrow it (smaller bbox, lower limit)")
	}
	if munigis.ClientGone(r.Context()) {
		s.d.Log.Info("ogcapi: client closed the request", "method", r.Method, "path", r.URL.Path, "err", err.Error())
		w.WriteHeader(munigis.StatusClientClosed)
		return
	}
	code := munigis.ErrorCode(err)
	st, ok := statusOf[code]
	if !ok {
		st = statusOf[munigis.Internal]
	}
	if st.status >= 500 {
		s.d.Log.Error("ogcapi: request failed", "method", r.Method, "path", r.URL.Path,
			"query", r.URL.RawQuery, "status", st.status, "err", err.Error())
	}
	if code == munigis.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="munigis"`)
	}
	writeJSON(w, st.status, mtJSON, map[string]any{"code": st.code, "description": munigis.ErrorMessage(err)})
}

// writeJSON writes v with the given status and media type.
func writeJSON(w http.ResponseWriter, status int, mediaType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("ogcapi: encode response", "err", err)
		http.Error(w, `{"code":"ServerError","description":"Internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// baseURL is the service's absolute URL as the client reached it: the
// scheme from TLS or a proxy's X-Forwarded-Proto, the Host header, then
// "/ogc". Links must be absolute for clients such as GDAL and QGIS, which
// follow "next" links as they are.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0])); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host + "/ogc"
}

// link is a link object of OGC API (RFC 8288 fields).
type link struct {
	Href     string `json:"href"`
	Rel      string `json:"rel"`
	Type     string `json:"type,omitempty"`
	Title    string `json:"title,omitempty"`
	Hreflang string `json:"hreflang,omitempty"`
}

// withQuery returns href with the query q (encoded, keys sorted).
func withQuery(href string, q url.Values) string {
	if len(q) == 0 {
		return href
	}
	return href + "?" + q.Encode()
}

// format is a representation a resource can be answered in.
type format int

const (
	formatJSON format = iota
	formatHTML
)

// negotiate picks JSON or HTML: the f parameter wins (json, geojson, html),
// then the Accept header, where HTML is chosen only when text/html is
// preferred over every JSON type, so that curl's */* and clients that send
// application/json get JSON and browsers get HTML. Returns NotAcceptable's
// code for an unknown f.
func negotiate(r *http.Request) (format, error) {
	switch f := strings.ToLower(r.URL.Query().Get("f")); f {
	case "json", "geojson", "application/json", "application/geo+json":
		return formatJSON, nil
	case "html", "text/html":
		return formatHTML, nil
	case "":
	default:
		return 0, munigis.Errorf(munigis.Invalid, "f=%s: the formats are json and html", f)
	}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return formatJSON, nil
	}
	qHTML, qJSON := -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				q = v
			}
		}
		switch mt {
		case "text/html", "application/xhtml+xml":
			qHTML = max(qHTML, q)
		case "application/json", "application/geo+json", "application/*", "*/*",
			"application/vnd.oai.openapi+json", "application/schema+json":
			qJSON = max(qJSON, q)
		}
	}
	if qHTML > 0 && qHTML > qJSON {
		return formatHTML, nil
	}
	return formatJSON, nil
}

// errInvalidf is munigis.Errorf(munigis.Invalid, ...), for brevity.
func errInvalidf(format string, args ...any) error {
	return munigis.Errorf(munigis.Invalid, format, args...)
}

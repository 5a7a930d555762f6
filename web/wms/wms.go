// Package wms serves OGC WMS 1.3.0 and 1.1.1 (GetCapabilities, GetMap,
// GetFeatureInfo, GetLegendGraphic) over the layers the caller may read,
// answering like GeoServer and MapServer do: KVP names in any case, the
// version negotiated, ServiceExceptionReports with the standard codes, and
// the INIMAGE and BLANK exception formats. Images are drawn by package
// render through the Renderer interface; this package speaks HTTP only.
package wms

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"munigis"
	"munigis/access"
	"munigis/layers"
	"munigis/render"
	"munigis/spatial"
)

// Renderer draws maps and answers feature queries; *render.Renderer is
// one.
type Renderer interface {
	Map(ctx context.Context, r render.MapRequest) (*image.RGBA, error)
	FeatureInfo(ctx context.Context, q render.InfoRequest) ([]layers.Feature, error)
	Extent(ctx context.Context, l layers.Layer, srids []int) (map[int][4]float64, bool, error)
}

// RemoteMaps draws the layers served by another WMS or WFS (Source "wms"
// or "wfs"), in the map's CRS and box (x = easting or longitude) at the
// map's size. When the
// remote server is down it returns an error tile of that size AND an error
// (for the log); the tile is drawn in the layer's place. A nil image (bad
// arguments) leaves the layer out.
type RemoteMaps interface {
	Map(ctx context.Context, l layers.Layer, crs spatial.CRS,
		minx, miny, maxx, maxy float64, width, height int) (image.Image, error)
}

// Deps are what the service needs.
type Deps struct {
	Layers   *layers.Store
	Renderer Renderer
	Remote   RemoteMaps
	// Related adds the register entries on a cadastral object to
	// GetFeatureInfo (*registers.Store); nil adds none.
	Related RelatedEntries
	Log     *slog.Logger
	// MaxWidth and MaxHeight bound GetMap's size (4096 each).
	MaxWidth, MaxHeight int
}

// Service serves the protocol.
type Service struct{ d Deps }

// New returns the service.
func New(d Deps) *Service {
	if d.MaxWidth <= 0 {
		d.MaxWidth = 4096
	}
	if d.MaxHeight <= 0 {
		d.MaxHeight = 4096
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{d: d}
}

// The versions served, and the exception codes of WMS 1.3.0 (1.1.1 says
// InvalidSRS for InvalidCRS).
const (
	v130 = "1.3.0"
	v111 = "1.1.1"

	codeLayerNotDefined    = "LayerNotDefined"
	codeStyleNotDefined    = "StyleNotDefined"
	codeInvalidCRS         = "InvalidCRS"
	codeInvalidFormat      = "InvalidFormat"
	codeInvalidPoint       = "InvalidPoint"
	codeLayerNotQueryable  = "LayerNotQueryable"
	codeNotSupported       = "OperationNotSupported"
	codeMissing            = "MissingParameterValue"
	codeInvalid            = "InvalidParameterValue"
	codeCurrentUpdateSeq   = "CurrentUpdateSequence"
	codeInvalidUpdateSeq   = "InvalidUpdateSequence"
	codeInternal           = "NoApplicableCode"
	maxFormBytes           = 1 << 20
	defaultFeatureCount    = 1
	maxFeatureCount        = 50
	featureInfoTolerancePx = 4
)

// wmsError is an exception to report: a WMS code, a message safe to show
// and the parameter at fault (the locator).
type wmsError struct {
	code    string
	locator string
	msg     string
	status  int
	cause   error // logged, never shown
}

func (e *wmsError) Error() string { return e.code + ": " + e.msg }

func fail(code, locator, msg string) *wmsError {
	return &wmsError{code: code, locator: locator, msg: msg, status: http.StatusBadRequest}
}

// request is a parsed KVP request: parameter names upper-cased, first
// value of each.
type request struct {
	p       map[string]string
	version string
	viewer  access.Viewer
	base    string // the service URL for links, ending in ? or &
}

func (q *request) get(name string) string { return q.p[name] }

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := s.parse(w, r)
	if err != nil {
		s.exception(w, r, &request{p: map[string]string{}, version: v130}, err)
		return
	}
	if err := s.dispatch(w, r, q); err != nil {
		s.exception(w, r, q, err)
	}
}

// parse reads the KVP parameters from the query string and, for a POST, a
// form body. XML-encoded POST requests are not served.
func (s *Service) parse(w http.ResponseWriter, r *http.Request) (*request, error) {
	vals, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodPost {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" {
			return nil, fail(codeNotSupported, "", "POST requests must be KVP forms (application/x-www-form-urlencoded); XML-encoded WMS requests are not supported")
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, fail(codeInvalid, "", "the request body is larger than 1 MB")
			}
			return nil, fail(codeInvalid, "", "the form body cannot be read")
		}
		vals = r.Form
	}
	q := &request{p: map[string]string{}, viewer: access.FromContext(r.Context())}
	for k, v := range vals {
		if len(v) > 0 {
			q.p[strings.ToUpper(k)] = v[0]
		}
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	q.base = scheme + "://" + r.Host + r.URL.Path + "?"
	if strings.HasSuffix(r.URL.Path, "/ows") {
		q.base += "SERVICE=WMS&"
	}
	return q, nil
}

func (s *Service) dispatch(w http.ResponseWriter, r *http.Request, q *request) error {
	if svc := q.get("SERVICE"); svc != "" && !strings.EqualFold(svc, "WMS") {
		return fail(codeInvalid, "SERVICE", "SERVICE must be WMS, not "+quote(svc))
	}
	req := q.get("REQUEST")
	v := q.get("VERSION")
	if v == "" {
		v = q.get("WMTVER")
	}
	if strings.EqualFold(req, "GetCapabilities") || strings.EqualFold(req, "capabilities") {
		q.version = negotiate(v)
		return s.getCapabilities(w, r, q)
	}
	switch v {
	case "", v130:
		q.version = v130
	case v111, "1.1.0":
		q.version = v111
	default:
		q.version = v130
		return fail(codeInvalid, "VERSION", "VERSION "+quote(v)+" is not served: use 1.3.0 or 1.1.1")
	}
	switch {
	case req == "":
		return fail(codeMissing, "REQUEST", "REQUEST is missing: use GetCapabilities, GetMap, GetFeatureInfo or GetLegendGraphic")
	case strings.EqualFold(req, "GetMap") || strings.EqualFold(req, "map"):
		return s.getMap(w, r, q)
	case strings.EqualFold(req, "GetFeatureInfo") || strings.EqualFold(req, "feature_info"):
		return s.getFeatureInfo(w, r, q)
	case strings.EqualFold(req, "GetLegendGraphic"):
		return s.getLegendGraphic(w, r, q)
	}
	return fail(codeNotSupported, "REQUEST", "REQUEST "+quote(req)+" is not supported: use GetCapabilities, GetMap, GetFeatureInfo or GetLegendGraphic")
}

// negotiate picks the capabilities version for a requested one, as WMS
// 1.3.0 section 6.2.4 says: the highest served that is not higher than
// the request, or the lowest served when the request is lower still.
func negotiate(v string) string {
	if v == "" {
		return v130
	}
	if compareVersions(v, v130) >= 0 {
		return v130
	}
	return v111
}

// compareVersions compares dotted version numbers.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x = atoiOr(pa[i], 0)
		}
		if i < len(pb) {
			y = atoiOr(pb[i], 0)
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func atoiOr(s string, def int) int {
	n := 0
	if s == "" {
		return def
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return def
		}
		n = n*10 + int(c-'0')
		if n > 1e6 {
			return def
		}
	}
	return n
}

// readable returns the catalog's layers the viewer may read, in display
// order.
func (s *Service) readable(ctx context.Context, v access.Viewer) ([]layers.Layer, error) {
	all, err := s.d.Layers.Layers(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, l := range all {
		if v.CanRead(l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// layerNamed finds name among ls; a layer the viewer may not read is not
// among them, so it answers exactly like a missing one.
func layerNamed(ls []layers.Layer, name, locator string) (layers.Layer, error) {
	for _, l := range ls {
		if l.Name == name {
			return l, nil
		}
	}
	return layers.Layer{}, fail(codeLayerNotDefined, locator, "layer "+quote(name)+" is not defined")
}

// asWMS turns any error into a wmsError: munigis.Invalid becomes
// InvalidParameterValue with its (safe) message, Unavailable a 503,
// anything else an internal error whose text is logged, not shown.
func asWMS(err error) *wmsError {
	var we *wmsError
	if errors.As(err, &we) {
		return we
	}
	switch munigis.ErrorCode(err) {
	case munigis.Invalid, munigis.NotFound:
		return &wmsError{code: codeInvalid, msg: munigis.ErrorMessage(err), status: http.StatusBadRequest}
	case munigis.Unavailable:
		return &wmsError{code: codeInternal, msg: munigis.ErrorMessage(err), status: http.StatusServiceUnavailable, cause: err}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &wmsError{code: codeInternal, msg: "the request took too long and was stopped; ask for a smaller map", status: http.StatusServiceUnavailable, cause: err}
	}
	return &wmsError{code: codeInternal, msg: "internal error", status: http.StatusInternalServerError, cause: err}
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + s + `"`
}

// parseQuery reads a query string splitting on & only. net/url also
// splits on ; since Go 1.17 refuses it (dropping the pair), but WMS
// values carry raw semicolons: FORMAT=image/png; mode=8bit as GeoServer
// documents it, and entities such as &amp; inside SLD_BODY.
func parseQuery(raw string) (url.Values, error) {
	vals := url.Values{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, fail(codeInvalid, "", "the query string is not valid URL encoding near "+quote(k))
		}
		vals[key] = append(vals[key], val)
	}
	return vals, nil
}

// encodeValue escapes a value for a URL query.
func encodeValue(s string) string { return url.QueryEscape(s) }

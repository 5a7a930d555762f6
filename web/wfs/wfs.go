// Package wfs serves OGC Web Feature Service 2.0.0 and 1.1.0 at /wfs (and
// /ows with SERVICE=WFS): capabilities, schemas, stored queries, GetFeature
// and GetPropertyValue streamed from the feature store, and transactions.
//
// It answers the way GeoServer, the reference implementation, does: KVP
// names in any case, feature types named munigis:<layer>, gml:ids
// <layer>.<id>, OWS exception reports with the codes and HTTP statuses of
// WFS 2.0 section 7.5 and OWS Common 1.1 table 28 (400 for bad parameters,
// 403 for OperationProcessingFailed, 404 for GetFeatureById's NotFound, 501
// for OperationNotSupported). What a caller sees and may change is decided by package
// access only: a layer the caller may not read is answered exactly like one
// that does not exist.
//
// Choices a client may notice:
//   - GetFeature counts before it streams (one more query), so every
//     response carries an exact numberMatched and numberReturned, and KVP
//     requests with COUNT get next/previous links. XML POST requests get no
//     links: their paging state is in the body.
//   - At most CountDefault (1,000,000) features go out per request; the
//     response streams from the store with flat memory whatever its size.
//   - The default CRS is the storage CRS, urn:ogc:def:crs:EPSG::7801. GML
//     coordinates follow the CRS's axis order in both versions (EPSG:4326,
//     7801, 7799 and 7800 northing first, CRS84, 3857 and 32635 easting
//     first), GeoJSON is always easting first.
//   - One KVP FILTER applies to every type in TYPENAMES; several types in
//     one request are answered one after the other in one collection.
//   - Answers follow the namespace of an XML request: a WFS 1.1 document
//     gets a WFS 1.1 answer whatever its version attribute says (GDAL 3.6
//     posts those in 2.0 mode).
package wfs

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"munigis"
	"munigis/access"
	"munigis/layers"
)

// nsWFS110 is the namespace of WFS 1.0 and 1.1 documents.
const nsWFS110 = "http://www.opengis.net/wfs"

// Namespace of the feature types and the prefix clients see.
const (
	NamespaceURI = "https://munigis.bg/ns"
	Prefix       = "munigis"
)

// Body limits: transactions carry geometries, everything else is small.
// Depth bounds the nesting of any XML request.
const (
	maxTransactionBody = 16 << 20
	maxRequestBody     = 1 << 20
	maxXMLDepth        = 64
)

// CountDefault is the most features one GetFeature returns, advertised in
// the capabilities. GeoServer has no cap by default; a million parcels in
// one response is far beyond any real request yet still streams with flat
// memory, so the cap only stops a runaway client.
const CountDefault = 1_000_000

// Deps are what the service needs.
type Deps struct {
	Layers *layers.Store
	Log    *slog.Logger
}

// Service serves WFS.
type Service struct{ d Deps }

// New returns the service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{d: d}
}

// version is a WFS version this service speaks.
type version int

const (
	v200 version = iota
	v110
)

func (v version) String() string {
	if v == v110 {
		return "1.1.0"
	}
	return "2.0.0"
}

// parseVersion reads VERSION: 2.0.2 is answered as 2.0.0 (the corrigendum
// changed no encoding), anything else but 1.1.0 is refused.
func parseVersion(s string) (version, bool) {
	switch strings.TrimSpace(s) {
	case "", "2.0.0", "2.0.2", "2.0":
		return v200, true
	case "1.1.0", "1.1":
		return v110, true
	}
	return v200, false
}

// request is one WFS request, from KVP or XML.
type request struct {
	r       *http.Request
	version version
	op      string // canonical operation name, e.g. "GetFeature"
	kvp     map[string]string
	xml     *node // the document of an XML POST, nil for KVP
	viewer  access.Viewer
	base    string // the service URL clients use, e.g. https://host/wfs
}

// operations maps lower-case request names to their canonical spelling.
var operations = map[string]string{
	"getcapabilities":       "GetCapabilities",
	"describefeaturetype":   "DescribeFeatureType",
	"getfeature":            "GetFeature",
	"getpropertyvalue":      "GetPropertyValue",
	"liststoredqueries":     "ListStoredQueries",
	"describestoredqueries": "DescribeStoredQueries",
	"transaction":           "Transaction",
	"lockfeature":           "LockFeature",
	"getfeaturewithlock":    "GetFeatureWithLock",
	"createstoredquery":     "CreateStoredQuery",
	"dropstoredquery":       "DropStoredQuery",
	"getgmlobject":          "GetGmlObject",
}

// served lists the operations implemented here; the others in operations
// are known names answered with OperationNotSupported.
var served = map[string]bool{
	"GetCapabilities": true, "DescribeFeatureType": true, "GetFeature": true,
	"GetPropertyValue": true, "ListStoredQueries": true, "DescribeStoredQueries": true,
	"Transaction": true,
}

// ServeHTTP answers one WFS request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := s.parseRequest(w, r)
	if err != nil {
		v := v200
		if req != nil {
			v = req.version
		}
		s.fail(w, r, v, err)
		return
	}
	if err := s.serve(w, req); err != nil {
		s.fail(w, r, req.version, err)
	}
}

func (s *Service) serve(w http.ResponseWriter, req *request) error {
	switch req.op {
	case "GetCapabilities":
		return s.getCapabilities(w, req)
	case "DescribeFeatureType":
		return s.describeFeatureType(w, req)
	case "ListStoredQueries":
		return s.listStoredQueries(w, req)
	case "DescribeStoredQueries":
		return s.describeStoredQueries(w, req)
	case "GetFeature":
		return s.getFeature(w, req)
	case "GetPropertyValue":
		if req.version == v110 {
			return opNotSupported(req.op + " is a WFS 2.0 operation; ask with VERSION=2.0.0")
		}
		return s.getFeature(w, req)
	case "Transaction":
		return s.transaction(w, req)
	}
	return opNotSupported(fmt.Sprintf("operation %s is not supported: use GetCapabilities, DescribeFeatureType, GetFeature, GetPropertyValue, ListStoredQueries, DescribeStoredQueries or Transaction", req.op))
}

// parseRequest reads the operation, version and parameters of a KVP GET or
// an XML POST. The returned request is non-nil whenever the version is known,
// so that errors are reported in that version's format.
func (s *Service) parseRequest(w http.ResponseWriter, r *http.Request) (*request, error) {
	req := &request{r: r, viewer: access.FromContext(r.Context()), base: serviceURL(r), kvp: map[string]string{}}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			req.kvp[strings.ToLower(k)] = vs[0]
		}
	}
	// A POST without a body (some clients send KVP that way) is KVP.
	if r.Method == http.MethodPost && r.ContentLength != 0 {
		ct := strings.ToLower(r.Header.Get("Content-Type"))
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
			if err := r.ParseForm(); err != nil {
				return req, bodyError(err)
			}
			for k, vs := range r.PostForm {
				if len(vs) > 0 {
					req.kvp[strings.ToLower(k)] = vs[0]
				}
			}
		} else {
			// A Transaction may carry 16 MB of geometries, anything else 1 MB;
			// the operation is known once the root element is read, and the
			// limit tightens then, before the rest is parsed.
			if r.ContentLength > maxTransactionBody {
				return req, bodyError(&http.MaxBytesError{Limit: maxTransactionBody})
			}
			body := &bodyLimit{r: http.MaxBytesReader(w, r.Body, maxTransactionBody), limit: maxTransactionBody}
			doc, err := parseXMLRoot(body, func(root xml.Name) {
				if !strings.EqualFold(root.Local, "Transaction") {
					body.limit = maxRequestBody
				}
			})
			if err != nil {
				return req, err
			}
			req.xml = doc
			op, ok := operations[strings.ToLower(doc.name.Local)]
			if !ok {
				return req, opNotSupported(fmt.Sprintf("the XML request %s is not a WFS operation", doc.name.Local))
			}
			req.op = op
			if v, ok := parseVersion(doc.attr("version")); ok {
				req.version = v
			} else if op != "GetCapabilities" {
				return req, invalidParam("version", fmt.Sprintf("version %q is not supported: use 2.0.0 or 1.1.0", doc.attr("version")))
			}
			// The namespace decides the schema of the answer: GDAL's WFS
			// driver (3.6) posts WFS 1.1 documents marked version="2.0.0"
			// and reads the answer as 1.1.
			if doc.name.Space == nsWFS110 {
				req.version = v110
			}
			if svc := doc.attr("service"); svc != "" && !strings.EqualFold(svc, "WFS") {
				return req, invalidParam("service", fmt.Sprintf("service %q is not served here: this is WFS", svc))
			}
			if op == "GetCapabilities" {
				req.version = capabilitiesVersion(doc.attr("version"), acceptVersionsXML(doc))
				if req.version < 0 {
					req.version = v200
					return req, versionFailed(acceptVersionsXML(doc))
				}
			}
			if !served[op] {
				return req, opNotSupported(fmt.Sprintf("operation %s is not supported", op))
			}
			return req, nil
		}
	}

	if svc, ok := req.kvp["service"]; ok && !strings.EqualFold(svc, "WFS") {
		return req, invalidParam("service", fmt.Sprintf("SERVICE %q is not served here: this is WFS", svc))
	}
	name := req.kvp["request"]
	if name == "" {
		return req, missingParam("request", "the REQUEST parameter is missing: use for example REQUEST=GetCapabilities")
	}
	op, ok := operations[strings.ToLower(name)]
	if !ok || !served[op] {
		return req, opNotSupported(fmt.Sprintf("REQUEST=%s is not supported: use GetCapabilities, DescribeFeatureType, GetFeature, GetPropertyValue, ListStoredQueries, DescribeStoredQueries or Transaction (XML POST)", name))
	}
	req.op = op
	if op == "GetCapabilities" {
		req.version = capabilitiesVersion(req.kvp["version"], req.kvp["acceptversions"])
		if req.version < 0 {
			req.version = v200
			return req, versionFailed(req.kvp["acceptversions"])
		}
		return req, nil
	}
	v, ok := parseVersion(req.kvp["version"])
	if !ok {
		return req, invalidParam("version", fmt.Sprintf("VERSION %q is not supported: use 2.0.0 or 1.1.0", req.kvp["version"]))
	}
	req.version = v
	if op == "Transaction" {
		return req, invalidParam("request", "Transaction needs an XML POST body")
	}
	return req, nil
}

// capabilitiesVersion negotiates the capabilities version (OWS Common 7.3):
// the first supported entry of AcceptVersions, else VERSION if supported,
// else the newest. It returns -1 when AcceptVersions lists nothing we speak.
func capabilitiesVersion(ver, accept string) version {
	if accept != "" {
		for _, a := range strings.Split(accept, ",") {
			if v, ok := parseVersion(a); ok && strings.TrimSpace(a) != "" {
				return v
			}
		}
		return -1
	}
	if v, ok := parseVersion(ver); ok {
		return v
	}
	return v200
}

func acceptVersionsXML(doc *node) string {
	av := doc.child("AcceptVersions")
	if av == nil {
		return ""
	}
	var vs []string
	for _, c := range av.children {
		vs = append(vs, strings.TrimSpace(c.text))
	}
	return strings.Join(vs, ",")
}

// serviceURL is the URL of this service as the client reached it: scheme
// from TLS or X-Forwarded-Proto, host from X-Forwarded-Host or Host.
func serviceURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = strings.TrimSpace(strings.Split(h, ",")[0])
	}
	return scheme + "://" + host + "/wfs"
}

// kvpURL returns the service URL with the given parameters.
func (req *request) kvpURL(params [][2]string) string {
	var b strings.Builder
	b.WriteString(req.base)
	for i, p := range params {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p[1]))
	}
	return b.String()
}

// owsError is an OWS exception: code and locator as the standard names
// them, msg safe for clients, status the HTTP status.
type owsError struct {
	code, locator, msg string
	status             int
	err                error // cause, logged only
}

func (e *owsError) Error() string {
	if e.err != nil {
		return e.code + ": " + e.msg + ": " + e.err.Error()
	}
	return e.code + ": " + e.msg
}

func (e *owsError) Unwrap() error { return e.err }

func invalidParam(locator, msg string) *owsError {
	return &owsError{code: "InvalidParameterValue", locator: locator, msg: msg, status: http.StatusBadRequest}
}

func missingParam(locator, msg string) *owsError {
	return &owsError{code: "MissingParameterValue", locator: locator, msg: msg, status: http.StatusBadRequest}
}

func opNotSupported(msg string) *owsError {
	return &owsError{code: "OperationNotSupported", locator: "request", msg: msg, status: http.StatusNotImplemented}
}

func parsingFailed(msg string) *owsError {
	return &owsError{code: "OperationParsingFailed", msg: msg, status: http.StatusBadRequest}
}

func versionFailed(accept string) *owsError {
	return &owsError{code: "VersionNegotiationFailed", locator: "AcceptVersions", status: http.StatusBadRequest,
		msg: fmt.Sprintf("none of the versions %q is supported: this service speaks 2.0.0 and 1.1.0", accept)}
}

// bodyLimit fails a read once more than limit bytes have been read; the
// limit may be lowered while reading.
type bodyLimit struct {
	r     io.Reader
	n     int64
	limit int64
}

func (b *bodyLimit) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		return n, &http.MaxBytesError{Limit: b.limit}
	}
	return n, err
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &owsError{code: "OperationParsingFailed", status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("the request body is larger than %d bytes", tooBig.Limit)}
	}
	return parsingFailed("the request body could not be read")
}

// asOWS turns any error into an OWS exception. munigis errors keep their
// (safe) message; anything else is internal and its text is only logged.
func asOWS(err error, locator string) *owsError {
	var oe *owsError
	if errors.As(err, &oe) {
		return oe
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return bodyError(err).(*owsError)
	}
	if errors.Is(err, context.DeadlineExceeded) && munigis.ErrorCode(err) == munigis.Internal {
		return &owsError{code: "OperationProcessingFailed", status: http.StatusServiceUnavailable, err: err,
			msg: "the request took too long and was stopped; narrow it (smaller BBOX, a filter or a lower COUNT)"}
	}
	switch munigis.ErrorCode(err) {
	case munigis.Invalid, munigis.Conflict:
		return &owsError{code: "InvalidParameterValue", locator: locator, msg: munigis.ErrorMessage(err), status: http.StatusBadRequest, err: err}
	case munigis.NotFound:
		return &owsError{code: "InvalidParameterValue", locator: locator, msg: munigis.ErrorMessage(err), status: http.StatusBadRequest, err: err}
	case munigis.Forbidden, munigis.Unauthorized:
		return &owsError{code: "OperationProcessingFailed", locator: locator, msg: munigis.ErrorMessage(err), status: http.StatusForbidden, err: err}
	case munigis.TooLarge:
		return &owsError{code: "OperationProcessingFailed", locator: locator, msg: munigis.ErrorMessage(err), status: http.StatusRequestEntityTooLarge, err: err}
	case munigis.Unavailable:
		return &owsError{code: "OperationProcessingFailed", locator: locator, msg: munigis.ErrorMessage(err), status: http.StatusServiceUnavailable, err: err}
	}
	return &owsError{code: "NoApplicableCode", msg: munigis.ErrorMessage(err), status: http.StatusInternalServerError, err: err}
}

// fail writes err as an ows:ExceptionReport of version v.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, v version, err error) {
	if munigis.ClientGone(r.Context()) {
		s.d.Log.Info("wfs: client closed the request", "method", r.Method, "query", r.URL.RawQuery, "err", err.Error())
		w.WriteHeader(munigis.StatusClientClosed)
		return
	}
	oe := asOWS(err, "")
	if oe.status >= 500 && oe.status != http.StatusNotImplemented {
		s.d.Log.Error("wfs request failed", "method", r.Method, "query", r.URL.RawQuery, "status", oe.status, "err", err.Error())
	}
	ns, ver := "http://www.opengis.net/ows/1.1", "2.0.0"
	if v == v110 {
		ns, ver = "http://www.opengis.net/ows", "1.0.0"
	}
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	fmt.Fprintf(&b, `<ows:ExceptionReport xmlns:ows="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="%s" xml:lang="en">`, ns, ver)
	b.WriteString(`<ows:Exception exceptionCode="` + esc(oe.code) + `"`)
	if oe.locator != "" {
		b.WriteString(` locator="` + esc(oe.locator) + `"`)
	}
	b.WriteString(`><ows:ExceptionText>` + esc(oe.msg) + `</ows:ExceptionText></ows:Exception></ows:ExceptionReport>` + "\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(oe.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	if !needsEscape(s) {
		return s
	}
	return string(appendEsc(nil, s))
}

// needsEscape reports whether s holds a character esc changes; most
// values (numbers, identifiers) hold none and are written as they are.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '<', c == '>', c == '&', c == '"', c == '\'':
			return true
		}
	}
	return false
}

// appendEsc appends s to b, escaped for XML text and attribute values.
// Control characters other than tab, newline and carriage return are not
// allowed in XML 1.0 and are dropped.
func appendEsc(b []byte, s string) []byte {
	if !needsEscape(s) {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		case '"':
			b = append(b, "&quot;"...)
		case '\'':
			b = append(b, "&apos;"...)
		case '\n':
			b = append(b, "&#xA;"...)
		case '\r':
			b = append(b, "&#xD;"...)
		case '\t':
			b = append(b, "&#x9;"...)
		default:
			if c >= 0x20 {
				b = append(b, c)
			}
		}
	}
	return b
}

// visibleLayer resolves a type name (munigis:name, name, or
// {namespace}name) to a local layer the caller may read; anything else is
// answered as unknown, whether missing or hidden.
func (s *Service) visibleLayer(ctx context.Context, req *request, typeName, locator string) (layers.Layer, error) {
	name := localTypeName(typeName)
	l, err := s.d.Layers.Layer(ctx, name)
	if err != nil && munigis.ErrorCode(err) != munigis.NotFound {
		return layers.Layer{}, err
	}
	if err != nil || !req.viewer.CanRead(l) || !l.Local() {
		return layers.Layer{}, invalidParam(locator, fmt.Sprintf("feature type %q is not served here; GetCapabilities lists the feature types", typeName))
	}
	return l, nil
}

// localTypeName strips the prefix or namespace of a type name.
func localTypeName(t string) string {
	t = strings.TrimSpace(t)
	if i := strings.LastIndex(t, "}"); strings.HasPrefix(t, "{") && i > 0 {
		return t[i+1:]
	}
	if i := strings.LastIndex(t, ":"); i >= 0 {
		return t[i+1:]
	}
	return t
}

// readableLayers lists the local layers the caller may read, in catalog
// order.
func (s *Service) readableLayers(ctx context.Context, v access.Viewer) ([]layers.Layer, error) {
	all, err := s.d.Layers.Layers(ctx)
	if err != nil {
		return nil, err
	}
	var out []layers.Layer
	for _, l := range all {
		if l.Local() && v.CanRead(l) {
			out = append(out, l)
		}
	}
	return out, nil
}

package wfs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/layers"
	"munigis/spatial"
)

// format is a GetFeature output format.
type format int

const (
	fmtGML32 format = iota
	fmtGML311
	fmtJSON
)

func (f format) contentType() string {
	switch f {
	case fmtGML311:
		return "text/xml; subtype=gml/3.1.1"
	case fmtJSON:
		return "application/json"
	}
	return "application/gml+xml; version=3.2"
}

// normFormat folds the spellings of a MIME type clients send: case,
// spaces, and '+' (which an unencoded KVP value turns into a space).
func normFormat(s string) string {
	return strings.NewReplacer(" ", "", "+", "", "\"", "").Replace(strings.ToLower(s))
}

// parseFormat reads OUTPUTFORMAT; "" gives the version's default.
func parseFormat(s string, v version) (format, bool) {
	switch normFormat(s) {
	case "":
		if v == v110 {
			return fmtGML311, true
		}
		return fmtGML32, true
	case "application/gmlxml;version=3.2", "application/gmlxml;version=3.2.1", "text/xml;subtype=gml/3.2",
		"text/xml;subtype=gml/3.2.1", "gml32", "application/gmlxml":
		return fmtGML32, true
	case "text/xml;subtype=gml/3.1.1", "application/gmlxml;version=3.1", "application/gmlxml;version=3.1.1", "gml3", "gml311":
		return fmtGML311, true
	case "text/xml":
		if v == v110 {
			return fmtGML311, true
		}
		return fmtGML32, true
	case "application/json", "json", "geojson", "application/geojson", "application/vnd.geojson":
		return fmtJSON, true
	}
	return 0, false
}

// parseGMLFormat reads the outputFormat of DescribeFeatureType.
func parseGMLFormat(s string) (gmlVersion, bool) {
	f, ok := parseFormat(s, v200)
	if !ok || f == fmtJSON {
		return 0, false
	}
	if f == fmtGML311 {
		return gml311, true
	}
	return gml32, true
}

// query is one query of a GetFeature (one feature type).
type query struct {
	layer layers.Layer
	// attrs are the attributes the caller may see: the store checks filter
	// and sort names against them. out are those written (PROPERTYNAME).
	attrs    []layers.Attribute
	out      []layers.Attribute
	withGeom bool
	filter   layers.Filter
	sortBy   []layers.Sort
	bbox     *spatial.BBox
}

// getFeatureReq is a parsed GetFeature or GetPropertyValue.
type getFeatureReq struct {
	queries []*query
	crs     spatial.CRS
	count   int // -1: none asked
	start   int
	hits    bool
	format  format
	byID    bool   // GetFeatureById: the bare feature, 404 when missing
	value   string // GetPropertyValue's valueReference
}

func (s *Service) getFeature(w http.ResponseWriter, req *request) error {
	ctx := req.r.Context()
	var g *getFeatureReq
	var err error
	if req.xml != nil {
		g, err = s.parseGetFeatureXML(ctx, req)
	} else {
		g, err = s.parseGetFeatureKVP(ctx, req)
	}
	if err != nil {
		return err
	}
	if g.value != "" && g.format == fmtJSON {
		return invalidParam("outputFormat", "GetPropertyValue answers in XML (a wfs:ValueCollection); use GetFeature with PROPERTYNAME for JSON")
	}

	// Counting first gives numberMatched, the numberReturned the root
	// element must carry before the first feature, and the paging links,
	// at the price of one more query (GeoServer counts by default too). A feature
	// changed between the two queries can make numberReturned off by one;
	// the features written never exceed it.
	totals := make([]int64, len(g.queries))
	var matched int64
	for i, q := range g.queries {
		n, err := s.d.Layers.Count(ctx, q.layer, q.storeQuery(g, 0, 0))
		if err != nil {
			return err
		}
		totals[i] = n
		matched += n
	}
	limit := int64(CountDefault)
	if g.count >= 0 && int64(g.count) < limit {
		limit = int64(g.count)
	}
	returned := max(0, min(limit, matched-int64(g.start)))
	if g.hits {
		returned = 0
	}
	for _, q := range g.queries {
		if err := q.checkSort(); err != nil {
			return err
		}
	}
	if g.byID && matched == 0 {
		return &owsError{code: "NotFound", locator: "ID", status: http.StatusNotFound,
			msg: "there is no feature with that identifier"}
	}

	w.Header().Set("Content-Type", g.format.contentType())
	if g.value != "" {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	}
	if req.r.Method == http.MethodHead {
		return nil
	}
	sink := &commitWriter{w: w}
	out := &featureWriter{w: bufio.NewWriterSize(sink, 64<<10), rw: w, g: g, req: req}
	out.head(matched, returned)
	// Spread the window [start, start+returned) over the queries in order.
	skip, left := int64(g.start), returned
	for i, q := range g.queries {
		if left <= 0 {
			break
		}
		if skip >= totals[i] {
			skip -= totals[i]
			continue
		}
		n := min(left, totals[i]-skip)
		if err := out.stream(ctx, s.d.Layers, q, skip, n); err != nil {
			if !sink.committed {
				// Nothing reached the client yet: drop the buffered
				// start and report the error properly.
				w.Header().Del("Content-Type")
				return err
			}
			// Headers and part of the body are gone; cutting the
			// connection tells the client the document is incomplete.
			if !munigis.ClientGone(ctx) {
				s.d.Log.Error("wfs: GetFeature failed while streaming", "layer", q.layer.Name, "err", err.Error())
			}
			panic(http.ErrAbortHandler)
		}
		left -= n
		skip = 0
	}
	out.tail(matched, returned)
	return out.w.Flush()
}

// commitWriter records whether anything was written to the client.
type commitWriter struct {
	w         http.ResponseWriter
	committed bool
}

func (c *commitWriter) Write(p []byte) (int, error) {
	c.committed = true
	return c.w.Write(p)
}

// storeQuery is q for the feature store.
func (q *query) storeQuery(g *getFeatureReq, offset, limit int64) layers.Query {
	lq := layers.Query{SRID: g.crs.SRID, Attributes: q.attrs, Filter: q.filter, SortBy: q.sortBy,
		Offset: int(offset), Limit: layers.NoLimit}
	if limit > 0 && limit <= layers.MaxLimit {
		lq.Limit = int(limit)
	}
	if q.bbox != nil {
		lq.BBox = q.bbox
		lq.BBoxSRID = q.bbox.CRS.SRID
	}
	return lq
}

// parseGetFeatureKVP reads the KVP parameters of GetFeature and
// GetPropertyValue (WFS 2.0 names, and the 1.1.0 ones: TYPENAME,
// MAXFEATURES, FEATUREID).
func (s *Service) parseGetFeatureKVP(ctx context.Context, req *request) (*getFeatureReq, error) {
	p := req.kvp
	g := &getFeatureReq{count: -1}
	if err := g.common(req, p["count"], p["maxfeatures"], p["startindex"], p["resulttype"], p["outputformat"], p["srsname"]); err != nil {
		return nil, err
	}
	if req.op == "GetPropertyValue" {
		g.value = propertyName(p["valuereference"])
		if g.value == "" {
			return nil, missingParam("valueReference", "GetPropertyValue needs VALUEREFERENCE")
		}
	}
	if sq := p["storedquery_id"]; sq != "" {
		if sq != storedQueryByID {
			return nil, invalidParam("STOREDQUERY_ID", "stored query "+sq+" does not exist; the only one is "+storedQueryByID)
		}
		id := p["id"]
		if id == "" {
			return nil, missingParam("ID", "the stored query GetFeatureById needs the parameter ID")
		}
		return g, s.byID(ctx, req, g, id)
	}

	typeNames := p["typenames"]
	if typeNames == "" {
		typeNames = p["typename"]
	}
	rid := p["resourceid"]
	if rid == "" {
		rid = p["featureid"]
	}
	names := splitList(typeNames)
	var idsByLayer map[string][]int64
	if rid != "" {
		idsByLayer = map[string][]int64{}
		var order []string
		for _, r := range splitList(rid) {
			name, num, ok := strings.Cut(r, ".")
			id, err := strconv.ParseInt(num, 10, 64)
			if !ok || err != nil {
				return nil, invalidParam("RESOURCEID", fmt.Sprintf("%q is not a feature identifier (<type>.<number>)", r))
			}
			name = localTypeName(name)
			if _, seen := idsByLayer[name]; !seen {
				order = append(order, name)
			}
			idsByLayer[name] = append(idsByLayer[name], id)
		}
		if len(names) == 0 {
			names = order
		}
	}
	if len(names) == 0 {
		return nil, missingParam("typeNames", "GetFeature needs TYPENAMES (TYPENAME in 1.1.0), RESOURCEID or STOREDQUERY_ID")
	}
	var filterDoc *node
	if f := p["filter"]; f != "" {
		if lang := p["filter_language"]; lang != "" && !strings.Contains(strings.ToLower(lang), "filter") {
			return nil, invalidParam("FILTER_LANGUAGE", "FILTER_LANGUAGE "+lang+" is not supported: use urn:ogc:def:query Language:OGC-FES:Filter")
		}
		if len(f) > maxRequestBody {
			return nil, invalidParam("FILTER", "FILTER is too long")
		}
		doc, err := parseXML(strings.NewReader(f))
		if err != nil {
			if oe, ok := err.(*owsError); ok {
				oe.locator = "FILTER"
			}
			return nil, err
		}
		if doc.name.Local != "Filter" {
			return nil, invalidParam("FILTER", "FILTER must be a fes:Filter (ogc:Filter in 1.1.0) element, not "+doc.name.Local)
		}
		filterDoc = doc
	}
	var box *spatial.BBox
	if b := p["bbox"]; b != "" {
		bb, err := spatial.ParseBBox(b, g.crs, g.crs.AxisNorthingFirst(true))
		if err != nil {
			return nil, invalidParam("BBOX", err.Error())
		}
		box = &bb
	}
	for _, n := range names {
		l, err := s.visibleLayer(ctx, req, n, "typeNames")
		if err != nil {
			return nil, err
		}
		q := &query{layer: l, bbox: box}
		if err := q.setProperties(req, p["propertyname"], g.value); err != nil {
			return nil, err
		}
		if filterDoc != nil {
			f, err := g.filterParser(l).parse(filterDoc)
			if err != nil {
				return nil, err
			}
			q.filter = f
		}
		if idsByLayer != nil {
			ids := layers.IDs(idsByLayer[l.Name])
			if ids == nil {
				ids = layers.IDs{}
			}
			q.filter = and(q.filter, ids)
		}
		if sb := p["sortby"]; sb != "" {
			if q.sortBy, err = parseSortBy(sb); err != nil {
				return nil, err
			}
		}
		g.queries = append(g.queries, q)
	}
	return g, nil
}

// common reads the parameters shared by KVP and XML requests.
func (g *getFeatureReq) common(req *request, count, maxFeatures, start, resultType, outputFormat, srsName string) error {
	if count == "" {
		count = maxFeatures
	}
	if count != "" {
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if err != nil || n < 0 {
			return invalidParam("count", fmt.Sprintf("COUNT %q must be a non-negative integer", count))
		}
		g.count = n
	}
	if start != "" {
		n, err := strconv.Atoi(strings.TrimSpace(start))
		if err != nil || n < 0 {
			return invalidParam("startIndex", fmt.Sprintf("STARTINDEX %q must be a non-negative integer", start))
		}
		g.start = n
	}
	switch strings.ToLower(strings.TrimSpace(resultType)) {
	case "", "results":
	case "hits":
		g.hits = true
	default:
		return invalidParam("resultType", fmt.Sprintf("RESULTTYPE %q must be results or hits", resultType))
	}
	f, ok := parseFormat(outputFormat, req.version)
	if !ok {
		return invalidParam("outputFormat", fmt.Sprintf("OUTPUTFORMAT %q is not supported: use %s", outputFormat, strings.Join(outputFormats(req.version), ", ")))
	}
	g.format = f
	g.crs, _ = spatial.ParseCRS("urn:ogc:def:crs:EPSG::7801")
	if srsName != "" {
		c, err := spatial.ParseCRS(srsName)
		if err != nil {
			return invalidParam("srsName", err.Error())
		}
		g.crs = c
	}
	return nil
}

func (g *getFeatureReq) filterParser(l layers.Layer) filterParser {
	return filterParser{layer: l.Name, geoms: geometryParser{def: g.crs}}
}

// byID sets up the stored query GetFeatureById for id "<layer>.<n>". A
// missing feature and a hidden or unknown layer all answer NotFound.
func (s *Service) byID(ctx context.Context, req *request, g *getFeatureReq, id string) error {
	g.byID = true
	name, num, ok := strings.Cut(strings.TrimSpace(id), ".")
	n, err := strconv.ParseInt(num, 10, 64)
	notFound := &owsError{code: "NotFound", locator: "ID", status: http.StatusNotFound,
		msg: fmt.Sprintf("there is no feature %q", id)}
	if !ok || err != nil {
		return notFound
	}
	l, err := s.visibleLayer(ctx, req, name, "ID")
	if err != nil {
		if _, isOWS := err.(*owsError); isOWS {
			return notFound
		}
		return err
	}
	q := &query{layer: l, filter: layers.IDs{n}}
	if err := q.setProperties(req, "", g.value); err != nil {
		return err
	}
	g.queries = []*query{q}
	g.count, g.start, g.hits = 1, 0, false
	return nil
}

// setProperties chooses the attributes to write: all the caller may see,
// or those PROPERTYNAME (or a GetPropertyValue valueReference) names.
func (q *query) setProperties(req *request, list, value string) error {
	q.attrs = req.viewer.Attributes(q.layer)
	q.out, q.withGeom = q.attrs, true
	names := splitList(list)
	if value != "" {
		names = []string{value}
	}
	if len(names) == 0 || (len(names) == 1 && names[0] == "*") {
		return nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[propertyName(n)] = true
	}
	q.out, q.withGeom = nil, want[geomProperty]
	known := map[string]bool{geomProperty: true}
	for _, a := range q.attrs {
		known[a.Name] = true
		if want[a.Name] {
			q.out = append(q.out, a)
		}
	}
	for n := range want {
		if !known[n] {
			loc := "propertyName"
			if value != "" {
				loc = "valueReference"
			}
			return invalidParam(loc, fmt.Sprintf("feature type %s%s has no property %q", Prefix+":", q.layer.Name, n))
		}
	}
	return nil
}

// checkSort refuses sorting by a property the caller may not see before
// any output is written (Count, which checks filters, ignores the order).
func (q *query) checkSort() error {
	for _, srt := range q.sortBy {
		ok := srt.Property == "id"
		for _, a := range q.attrs {
			ok = ok || a.Name == srt.Property
		}
		if !ok {
			return invalidParam("sortBy", fmt.Sprintf("feature type %s:%s has no property %q to sort by", Prefix, q.layer.Name, srt.Property))
		}
	}
	return nil
}

// splitList splits a KVP list "a,b" or "(a,b)(c)" into its names.
func splitList(s string) []string {
	s = strings.NewReplacer("(", ",", ")", ",").Replace(s)
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseSortBy reads "name [ASC|DESC|A|D], ...".
func parseSortBy(s string) ([]layers.Sort, error) {
	var out []layers.Sort
	for _, item := range strings.Split(s, ",") {
		f := strings.Fields(strings.ReplaceAll(item, "+", " "))
		if len(f) == 0 {
			continue
		}
		srt := layers.Sort{Property: propertyName(f[0])}
		if len(f) > 2 {
			return nil, invalidParam("sortBy", fmt.Sprintf("SORTBY item %q must be a property name and ASC or DESC", item))
		}
		if len(f) == 2 {
			switch strings.ToUpper(f[1]) {
			case "ASC", "A":
			case "DESC", "D":
				srt.Desc = true
			default:
				return nil, invalidParam("sortBy", fmt.Sprintf("SORTBY order %q must be ASC or DESC", f[1]))
			}
		}
		out = append(out, srt)
	}
	return out, nil
}

func and(a, b layers.Filter) layers.Filter {
	if a == nil {
		return b
	}
	return layers.And{a, b}
}

// parseGetFeatureXML reads a wfs:GetFeature or wfs:GetPropertyValue
// document with wfs:Query and wfs:StoredQuery children.
func (s *Service) parseGetFeatureXML(ctx context.Context, req *request) (*getFeatureReq, error) {
	d := req.xml
	g := &getFeatureReq{count: -1}
	srs := ""
	if q := d.child("Query"); q != nil {
		srs = q.attr("srsName")
	}
	if err := g.common(req, d.attr("count"), d.attr("maxFeatures"), d.attr("startIndex"), d.attr("resultType"), d.attr("outputFormat"), srs); err != nil {
		return nil, err
	}
	if req.op == "GetPropertyValue" {
		g.value = propertyName(d.attr("valueReference"))
		if g.value == "" {
			return nil, missingParam("valueReference", "GetPropertyValue needs the valueReference attribute")
		}
	}
	if sq := d.child("StoredQuery"); sq != nil {
		if sq.attr("id") != storedQueryByID {
			return nil, invalidParam("StoredQuery", "stored query "+sq.attr("id")+" does not exist; the only one is "+storedQueryByID)
		}
		for _, p := range sq.all("Parameter") {
			if strings.EqualFold(p.attr("name"), "ID") {
				return g, s.byID(ctx, req, g, p.text)
			}
		}
		return nil, missingParam("ID", "the stored query GetFeatureById needs the parameter ID")
	}
	qs := d.all("Query")
	if len(qs) == 0 {
		return nil, missingParam("Query", req.op+" needs a wfs:Query or wfs:StoredQuery")
	}
	for _, qn := range qs {
		tn := qn.attr("typeNames")
		if tn == "" {
			tn = qn.attr("typeName")
		}
		names := splitList(tn)
		if len(names) != 1 {
			return nil, invalidParam("typeNames", "each wfs:Query names exactly one feature type (joins are not supported)")
		}
		if s := qn.attr("srsName"); s != "" {
			c, err := spatial.ParseCRS(s)
			if err != nil {
				return nil, invalidParam("srsName", err.Error())
			}
			g.crs = c
		}
		l, err := s.visibleLayer(ctx, req, names[0], "typeNames")
		if err != nil {
			return nil, err
		}
		q := &query{layer: l}
		var props []string
		for _, c := range qn.children {
			switch c.name.Local {
			case "PropertyName":
				props = append(props, strings.TrimSpace(c.text))
			case "Filter":
				f, err := g.filterParser(l).parse(c)
				if err != nil {
					return nil, err
				}
				q.filter = f
			case "SortBy":
				for _, sp := range c.all("SortProperty") {
					var srt layers.Sort
					for _, x := range sp.children {
						switch x.name.Local {
						case "ValueReference", "PropertyName":
							srt.Property = propertyName(x.text)
						case "SortOrder":
							srt.Desc = strings.HasPrefix(strings.ToUpper(strings.TrimSpace(x.text)), "D")
						}
					}
					q.sortBy = append(q.sortBy, srt)
				}
			}
		}
		if err := q.setProperties(req, strings.Join(props, ","), g.value); err != nil {
			return nil, err
		}
		g.queries = append(g.queries, q)
	}
	return g, nil
}

// featureWriter streams a GetFeature response.
type featureWriter struct {
	w       *bufio.Writer
	rw      http.ResponseWriter
	g       *getFeatureReq
	req     *request
	n       int // features written, for the JSON separators and flushing
	geoms   geomWriter
	scratch []byte
}

func (o *featureWriter) gmlNS() string {
	if o.g.format == fmtGML311 {
		return nsGML311
	}
	return nsGML32
}

func (o *featureWriter) nsDecl() string {
	return `xmlns:gml="` + o.gmlNS() + `" xmlns:` + Prefix + `="` + NamespaceURI + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`
}

// head writes everything before the first feature.
func (o *featureWriter) head(matched, returned int64) {
	g := o.g
	o.geoms = geomWriter{version: gml32, srsName: g.crs.URN(), northingFirst: g.crs.AxisNorthingFirst(true)}
	if g.format == fmtGML311 {
		o.geoms.version = gml311
	}
	ts := time.Now().UTC().Format("2006-01-02T15:04:05Z")
	if g.format == fmtJSON {
		if g.byID {
			return
		}
		fmt.Fprintf(o.w, `{"type":"FeatureCollection","numberMatched":%d,"numberReturned":%d,"timeStamp":%q`, matched, returned, ts)
		if g.crs.SRID != spatial.SRIDWGS84 {
			fmt.Fprintf(o.w, `,"crs":{"type":"name","properties":{"name":%q}}`, g.crs.URN())
		}
		if links := o.links(matched, returned); len(links) > 0 {
			var ls []map[string]string
			for _, l := range links {
				ls = append(ls, map[string]string{"rel": l[0], "href": l[1], "type": "application/json"})
			}
			b, _ := json.Marshal(ls)
			o.w.WriteString(`,"links":`)
			o.w.Write(b)
		}
		o.w.WriteString(`,"features":[`)
		return
	}
	o.w.WriteString(xmlHeader)
	if g.byID {
		return
	}
	if g.value != "" {
		fmt.Fprintf(o.w, `<wfs:ValueCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" %s timeStamp="%s" numberMatched="%d" numberReturned="%d">`, o.nsDecl(), ts, matched, returned)
		return
	}
	if o.req.version == v110 {
		// numberOfFeatures is the match count for hits, else the number
		// of features in this response.
		n := returned
		if g.hits {
			n = matched
		}
		fmt.Fprintf(o.w, `<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" %s timeStamp="%s" numberOfFeatures="%d" xsi:schemaLocation="%s %s http://www.opengis.net/wfs http://schemas.opengis.net/wfs/1.1.0/wfs.xsd">`,
			o.nsDecl(), ts, n, NamespaceURI, esc(o.schemaURL()))
		return
	}
	fmt.Fprintf(o.w, `<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" %s timeStamp="%s" numberMatched="%d" numberReturned="%d"`, o.nsDecl(), ts, matched, returned)
	for _, l := range o.links(matched, returned) {
		fmt.Fprintf(o.w, ` %s="%s"`, l[0], esc(l[1]))
	}
	fmt.Fprintf(o.w, ` xsi:schemaLocation="%s %s http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd">`, NamespaceURI, esc(o.schemaURL()))
}

func (o *featureWriter) tail(matched, returned int64) {
	switch {
	case o.g.format == fmtJSON && o.g.byID:
	case o.g.format == fmtJSON:
		o.w.WriteString("]}\n")
	case o.g.byID:
		o.w.WriteString("\n")
	case o.g.value != "":
		o.w.WriteString("</wfs:ValueCollection>\n")
	default:
		o.w.WriteString("</wfs:FeatureCollection>\n")
	}
}

// schemaURL is the DescribeFeatureType request for the queried types.
func (o *featureWriter) schemaURL() string {
	var names []string
	for _, q := range o.g.queries {
		names = append(names, Prefix+":"+q.layer.Name)
	}
	return o.req.kvpURL([][2]string{{"SERVICE", "WFS"}, {"VERSION", o.req.version.String()},
		{"REQUEST", "DescribeFeatureType"}, {"TYPENAMES", strings.Join(names, ",")}})
}

// links returns the previous and next pages as (rel, href) for a KVP
// request that asked for COUNT; XML POST requests get none, since their
// paging state is in the body.
func (o *featureWriter) links(matched, returned int64) [][2]string {
	g := o.g
	if o.req.xml != nil || g.hits || g.byID || g.count <= 0 {
		return nil
	}
	var out [][2]string
	if g.start > 0 {
		out = append(out, [2]string{"previous", o.pageURL(max(0, g.start-g.count))})
	}
	if int64(g.start)+returned < matched {
		out = append(out, [2]string{"next", o.pageURL(g.start + g.count)})
	}
	return out
}

func (o *featureWriter) pageURL(start int) string {
	q := url.Values{}
	for k, vs := range o.req.r.URL.Query() {
		if lk := strings.ToLower(k); lk == "startindex" {
			continue
		}
		q[k] = vs
	}
	q.Set("STARTINDEX", strconv.Itoa(start))
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(q.Get(k)))
	}
	return o.req.base + "?" + b.String()
}

// errStop ends a stream once the announced number of features is written.
var errStop = errors.New("enough features")

// flushEvery is how many features go out between flushes to the client.
const flushEvery = 500

// stream writes n features of q after skipping offset.
func (o *featureWriter) stream(ctx context.Context, store *layers.Store, q *query, offset, n int64) error {
	written := int64(0)
	err := store.Features(ctx, q.layer, q.storeQuery(o.g, offset, n), func(f layers.Feature) error {
		if written >= n {
			return errStop
		}
		if err := o.feature(q, f); err != nil {
			return err
		}
		written++
		o.n++
		if o.n%flushEvery == 0 {
			if err := o.w.Flush(); err != nil {
				return err
			}
			_ = http.NewResponseController(o.rw).Flush()
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func (o *featureWriter) feature(q *query, f layers.Feature) error {
	gmlID := q.layer.Name + "." + strconv.FormatInt(f.ID, 10)
	if o.g.format == fmtJSON {
		return o.featureJSON(q, f, gmlID)
	}
	if o.g.value != "" {
		return o.value(q, f, gmlID)
	}
	b := o.scratch[:0]
	switch {
	case o.g.byID:
	case o.req.version == v110:
		b = append(b, "<gml:featureMember>"...)
	default:
		b = append(b, "<wfs:member>"...)
	}
	b = append(b, "<"+Prefix+":"...)
	b = append(b, q.layer.Name...)
	if o.g.byID {
		b = append(b, ' ')
		b = append(b, o.nsDecl()...)
	}
	b = append(b, ` gml:id="`...)
	b = appendEsc(b, gmlID)
	b = append(b, `">`...)
	if q.withGeom && f.Geometry != nil {
		b = append(b, "<"+Prefix+":"+geomProperty+">"...)
		o.geoms.buf = b
		if err := o.geoms.write(f.Geometry, gmlID+".geom"); err != nil {
			return err
		}
		b = o.geoms.buf
		b = append(b, "</"+Prefix+":"+geomProperty+">"...)
	}
	for _, a := range q.out {
		v := f.Properties[a.Name]
		if v == nil {
			continue
		}
		b = append(b, "<"+Prefix+":"...)
		b = append(b, a.Name...)
		b = append(b, '>')
		b = appendEsc(b, valueText(v))
		b = append(b, "</"+Prefix+":"...)
		b = append(b, a.Name...)
		b = append(b, '>')
	}
	b = append(b, "</"+Prefix+":"...)
	b = append(b, q.layer.Name...)
	b = append(b, '>')
	switch {
	case o.g.byID:
	case o.req.version == v110:
		b = append(b, "</gml:featureMember>"...)
	default:
		b = append(b, "</wfs:member>"...)
	}
	b = append(b, '\n')
	o.scratch = b
	_, err := o.w.Write(b)
	return err
}

// value writes one wfs:member of a GetPropertyValue ValueCollection.
func (o *featureWriter) value(q *query, f layers.Feature, gmlID string) error {
	b := append(o.scratch[:0], "<wfs:member>"...)
	if o.g.value == geomProperty {
		o.geoms.buf = b
		if err := o.geoms.write(f.Geometry, gmlID+".geom"); err != nil {
			return err
		}
		b = o.geoms.buf
	} else if v := f.Properties[o.g.value]; v != nil {
		b = appendEsc(b, valueText(v))
	}
	b = append(b, "</wfs:member>\n"...)
	o.scratch = b
	_, err := o.w.Write(b)
	return err
}

// featureJSON writes one GeoJSON feature. It is written by hand, like the
// GML, because it is the inner loop of a response of up to a million
// features; properties keep the schema's order.
func (o *featureWriter) featureJSON(q *query, f layers.Feature, gmlID string) error {
	b := o.scratch[:0]
	if o.n > 0 && !o.g.byID {
		b = append(b, ',')
	}
	b = append(b, `{"type":"Feature","id":`...)
	b = appendJSONString(b, gmlID)
	b = append(b, `,"geometry":`...)
	if q.withGeom && f.Geometry != nil {
		var err error
		if b, err = appendGeoJSON(b, f.Geometry); err != nil {
			return fmt.Errorf("wfs: feature %s: %w", gmlID, err)
		}
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"properties":{`...)
	for i, a := range q.out {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, a.Name)
		b = append(b, ':')
		switch v := f.Properties[a.Name].(type) {
		case nil:
			b = append(b, "null"...)
		case string:
			b = appendJSONString(b, v)
		case bool, int64, int32, int:
			b = append(b, valueText(v)...)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				b = append(b, "null"...) // JSON has no NaN
			} else {
				b = strconv.AppendFloat(b, v, 'g', -1, 64)
			}
		default:
			j, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("wfs: feature %s: %w", gmlID, err)
			}
			b = append(b, j...)
		}
	}
	b = append(b, "}}"...)
	o.scratch = b
	_, err := o.w.Write(b)
	return err
}

// appendJSONString appends s as a JSON string. UTF-8 passes through; quotes,
// backslashes and control characters are escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendGeoJSON appends g as a GeoJSON geometry, x (easting) first.
func appendGeoJSON(b []byte, g geom.T) ([]byte, error) {
	flat, stride := g.FlatCoords(), g.Stride()
	pos := func(b []byte, i int) []byte {
		b = append(b, '[')
		b = strconv.AppendFloat(b, flat[i], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, flat[i+1], 'f', -1, 64)
		return append(b, ']')
	}
	run := func(b []byte, from, to int) []byte {
		b = append(b, '[')
		for i := from; i < to; i += stride {
			if i > from {
				b = append(b, ',')
			}
			b = pos(b, i)
		}
		return append(b, ']')
	}
	rings := func(b []byte, from int, ends []int) []byte {
		b = append(b, '[')
		for i, end := range ends {
			if i > 0 {
				b = append(b, ',')
			}
			b = run(b, from, end)
			from = end
		}
		return append(b, ']')
	}
	switch t := g.(type) {
	case *geom.Point:
		b = append(b, `{"type":"Point","coordinates":`...)
		if len(flat) < 2 {
			b = append(b, "[]"...) // an empty point
		} else {
			b = pos(b, 0)
		}
	case *geom.LineString:
		b = append(b, `{"type":"LineString","coordinates":`...)
		b = run(b, 0, len(flat))
	case *geom.MultiPoint:
		b = append(b, `{"type":"MultiPoint","coordinates":`...)
		b = run(b, 0, len(flat))
	case *geom.Polygon:
		b = append(b, `{"type":"Polygon","coordinates":`...)
		b = rings(b, 0, t.Ends())
	case *geom.MultiLineString:
		b = append(b, `{"type":"MultiLineString","coordinates":`...)
		b = rings(b, 0, t.Ends())
	case *geom.MultiPolygon:
		b = append(b, `{"type":"MultiPolygon","coordinates":[`...)
		from := 0
		for i, ends := range t.Endss() {
			if i > 0 {
				b = append(b, ',')
			}
			b = rings(b, from, ends)
			if len(ends) > 0 {
				from = ends[len(ends)-1]
			}
		}
		b = append(b, ']')
	default:
		return b, fmt.Errorf("geometry type %T has no GeoJSON encoding here", g)
	}
	return append(b, '}'), nil
}

// valueText formats an attribute value as xsd text.
func valueText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int64:
		return strconv.FormatInt(t, 10)
	case int32:
		return strconv.FormatInt(int64(t), 10)
	case int:
		return strconv.Itoa(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(t), 'f', -1, 32)
	case bool:
		return strconv.FormatBool(t)
	case time.Time:
		return t.Format(time.DateOnly)
	}
	return fmt.Sprint(v)
}

package ogcapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/geojson"

	"munigis"
	"munigis/access"
	"munigis/layers"
	"munigis/spatial"
)

// noParams refuses any query parameter but f, per /req/core/query-param-
// unknown: a typo must not silently return something else.
func noParams(r *http.Request) error {
	for k := range r.URL.Query() {
		if k != "f" {
			return munigis.Errorf(munigis.Invalid, "unknown query parameter %q: this resource takes only f (json or html)", k)
		}
	}
	return nil
}

// itemsRequest is a parsed /items query.
type itemsRequest struct {
	q      layers.Query
	crs    spatial.CRS // output
	swapXY bool        // output northing/latitude first (crs's axis order)
	limit  int
	offset int
}

// fixedItemParams are the /items parameters of Part 1 and Part 2; the
// others are the collection's visible attributes (property filters).
var fixedItemParams = map[string]bool{"f": true, "bbox": true, "bbox-crs": true, "crs": true,
	"limit": true, "offset": true, "datetime": true}

// parseCRSParam parses a crs or bbox-crs value; "" is CRS84.
func parseCRSParam(name, s string) (spatial.CRS, error) {
	if s == "" {
		return spatial.ParseCRS(crs84URI)
	}
	c, err := spatial.ParseCRS(s)
	if err != nil {
		return c, munigis.Wrap(munigis.Invalid, err, "%s: %s", name, err.Error())
	}
	return c, nil
}

// parseItems reads the query of /collections/{id}/items for the caller v.
// Every parameter is checked; an unknown one is Invalid (400), as are bad
// values, with a message naming the parameter.
func parseItems(r *http.Request, l layers.Layer, v access.Viewer) (itemsRequest, error) {
	params := r.URL.Query()
	attrs := v.Attributes(l)
	byName := map[string]layers.Attribute{}
	for _, a := range attrs {
		byName[a.Name] = a
	}
	for k := range params {
		if !fixedItemParams[k] {
			if _, ok := byName[k]; !ok {
				return itemsRequest{}, munigis.Errorf(munigis.Invalid,
					"unknown query parameter %q: use bbox, bbox-crs, crs, limit, offset, datetime, f or a property of collection %s", k, l.Name)
			}
		}
	}
	var ir itemsRequest
	ir.q.Attributes = attrs
	var err error
	if ir.crs, err = parseCRSParam("crs", params.Get("crs")); err != nil {
		return ir, err
	}
	ir.swapXY = ir.crs.AxisNorthingFirst(true)
	ir.q.SRID = ir.crs.SRID

	var filters layers.And
	bboxCRS, err := parseCRSParam("bbox-crs", params.Get("bbox-crs"))
	if err != nil {
		return ir, err
	}
	if b := params.Get("bbox"); b != "" {
		parts := strings.Split(b, ",")
		switch len(parts) {
		case 4:
		case 6:
			// A 3D box: minx,miny,minz,maxx,maxy,maxz; heights are not
			// stored, so the box's footprint selects.
			b = strings.Join([]string{parts[0], parts[1], parts[3], parts[4]}, ",")
		default:
			return ir, munigis.Errorf(munigis.Invalid, "bbox %q: give 4 numbers (or 6 with heights) in the axis order of bbox-crs (default CRS84: lon,lat)", b)
		}
		box, err := spatial.ParseBBox(b, bboxCRS, bboxCRS.AxisNorthingFirst(true))
		if err != nil {
			return ir, munigis.Wrap(munigis.Invalid, err, "%s", err.Error())
		}
		if box.MinX < box.MaxX && box.MinY < box.MaxY {
			// Part 1 selects features whose geometry intersects the box,
			// not merely their bounding boxes, as pg_featureserv and
			// pygeoapi do; a client that refines by geometry then agrees.
			filters = append(filters, layers.Spatial{Op: layers.Intersects, Geometry: boxPolygon(box, bboxCRS.SRID)})
		} else {
			// A box without area cannot be a polygon; it selects by the
			// features' boxes.
			ir.q.BBox = &box
			ir.q.BBoxSRID = bboxCRS.SRID
		}
	}
	// A bbox-crs without a bbox (some clients always send it) is checked
	// above and otherwise ignored.

	ir.limit = defaultLimit
	if s := params.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return ir, munigis.Errorf(munigis.Invalid, "limit %q: give a whole number from 1 to %d", s, maxLimit)
		}
		// Part 1 lets a server return fewer features than asked
		// (/per/core/fc-limit-response-2): a larger limit is capped, as
		// GeoServer and pygeoapi do, rather than refused.
		ir.limit = min(n, maxLimit)
	}
	if s := params.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return ir, munigis.Errorf(munigis.Invalid, "offset %q: give a whole number, 0 or more", s)
		}
		ir.offset = n
	}
	ir.q.Limit, ir.q.Offset = ir.limit, ir.offset

	if s := params.Get("datetime"); s != "" {
		f, err := datetimeFilter(s, attrs)
		if err != nil {
			return ir, err
		}
		if f != nil {
			filters = append(filters, f)
		}
	}
	for k, vals := range params {
		if fixedItemParams[k] {
			continue
		}
		// A property filter is equality with the value parsed by the
		// attribute's type (the store checks it and names a bad value).
		filters = append(filters, layers.Compare{Property: k, Op: layers.Eq, Value: vals[0], MatchCase: true})
	}
	if len(filters) > 0 {
		ir.q.Filter = filters
	}
	return ir, nil
}

// datetimeFilter turns the datetime parameter into a filter on the first
// date attribute the caller may see (Part 1 lets the server choose the
// temporal property, /req/core/fc-time-response B). Features whose date is
// empty, and every feature of a collection without a date attribute, match
// whatever the value (C). A date attribute is a whole day, so an instant
// matches the features of its day (UTC) and an interval the days it meets.
// The syntax is checked either way, so a malformed value is always 400.
func datetimeFilter(s string, attrs []layers.Attribute) (layers.Filter, error) {
	lo, hi, err := parseDatetime(s)
	if err != nil {
		return nil, err
	}
	var attr *layers.Attribute
	for i := range attrs {
		if attrs[i].Type == layers.Date {
			attr = &attrs[i]
			break
		}
	}
	if attr == nil {
		return nil, nil
	}
	var conds layers.And
	if !lo.IsZero() {
		conds = append(conds, layers.Compare{Property: attr.Name, Op: layers.Ge, Value: lo.UTC().Format(time.DateOnly)})
	}
	if !hi.IsZero() {
		conds = append(conds, layers.Compare{Property: attr.Name, Op: layers.Le, Value: hi.UTC().Format(time.DateOnly)})
	}
	return layers.Or{layers.IsNull{Property: attr.Name}, conds}, nil
}

// parseDatetime reads an RFC 3339 instant or an interval "a/b" whose ends
// may be open (".." or empty). A zero time is an open end; an instant gives
// lo == hi. A bare date (2024-05-01) is accepted too, as clients send it.
func parseDatetime(s string) (lo, hi time.Time, err error) {
	bad := func(why string) error {
		return munigis.Errorf(munigis.Invalid, "datetime %q: %s; give an RFC 3339 date-time (2024-05-01T00:00:00Z), a date, or an interval a/b with .. for an open end", s, why)
	}
	one := func(p string) (time.Time, error) {
		for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
			if t, err := time.Parse(layout, p); err == nil {
				return t, nil
			}
		}
		return time.Time{}, bad(fmt.Sprintf("%q is not a date-time", p))
	}
	a, b, interval := strings.Cut(s, "/")
	if !interval {
		t, err := one(s)
		return t, t, err
	}
	if strings.Contains(b, "/") {
		return lo, hi, bad("more than one /")
	}
	open := func(p string) bool { return p == "" || p == ".." }
	if open(a) && open(b) {
		return lo, hi, nil
	}
	if !open(a) {
		if lo, err = one(a); err != nil {
			return
		}
	}
	if !open(b) {
		if hi, err = one(b); err != nil {
			return
		}
	}
	if !lo.IsZero() && !hi.IsZero() && hi.Before(lo) {
		return lo, hi, bad("the end is before the start")
	}
	return lo, hi, nil
}

// contentCRS is the Content-Crs header value for c (Part 2: the URI in
// angle brackets).
func contentCRS(c spatial.CRS) string { return "<" + c.URI() + ">" }

// itemsLinks are the links of an items page: self and alternate, prev and
// next where there are more, and the collection.
// The page links are in format f ("json" or "html"), the alternate in the
// other.
func itemsLinks(base string, l layers.Layer, r *http.Request, ir itemsRequest, returned int, matched int64, f string) []link {
	href := base + "/collections/" + url.PathEscape(l.Name) + "/items"
	q := r.URL.Query()
	page := func(offset int, f string) string {
		c := url.Values{}
		for k, v := range q {
			c[k] = v
		}
		c.Set("limit", strconv.Itoa(ir.limit))
		c.Set("offset", strconv.Itoa(offset))
		c.Set("f", f)
		if offset == 0 {
			c.Del("offset")
		}
		return withQuery(href, c)
	}
	mt, other, otherMT := mtGeoJSON, "html", mtHTML
	if f == "html" {
		mt, other, otherMT = mtHTML, "json", mtGeoJSON
	}
	links := []link{
		{Href: page(ir.offset, f), Rel: "self", Type: mt, Title: "this page"},
		{Href: page(ir.offset, other), Rel: "alternate", Type: otherMT, Title: "this page as " + other},
	}
	if int64(ir.offset+returned) < matched {
		links = append(links, link{Href: page(ir.offset+ir.limit, f), Rel: "next", Type: mt, Title: "next page"})
	}
	if ir.offset > 0 {
		links = append(links, link{Href: page(max(ir.offset-ir.limit, 0), f), Rel: "prev", Type: mt, Title: "previous page"})
	}
	links = append(links, link{Href: base + "/collections/" + url.PathEscape(l.Name), Rel: "collection", Type: mtJSON, Title: l.TitleBG})
	return links
}

func (s *Service) handleItems(w http.ResponseWriter, r *http.Request, l layers.Layer) error {
	f, err := negotiate(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	v := access.FromContext(ctx)
	ir, err := parseItems(r, l, v)
	if err != nil {
		return err
	}
	// numberMatched first: it decides the next link, which the streamed
	// body can only carry at its end, and a bad filter fails here, before
	// any byte is written.
	matched, err := s.d.Layers.Count(ctx, l, ir.q)
	if err != nil {
		return err
	}
	base := baseURL(r)
	stamp := time.Now().UTC().Format(time.RFC3339)
	if f == formatHTML {
		var feats []featureView
		err := s.d.Layers.Features(ctx, l, ir.q, func(ft layers.Feature) error {
			fv, err := viewFeature(ft, ir, base, l)
			if err != nil {
				return err
			}
			feats = append(feats, fv)
			return nil
		})
		if err != nil {
			return err
		}
		col, err := s.describe(ctx, base, l)
		if err != nil {
			return err
		}
		return writeHTML(w, "items", pageData{Title: l.TitleBG, TitleEN: l.TitleEN, Base: base,
			JSON:       withQuery(base+"/collections/"+url.PathEscape(l.Name)+"/items", withF(r.URL.Query(), "json")),
			Collection: &col, Features: feats, Matched: matched, Links: itemsLinks(base, l, r, ir, len(feats), matched, "html")})
	}

	w.Header().Set("Content-Type", mtGeoJSON)
	w.Header().Set("Content-Crs", contentCRS(ir.crs))
	w.Header().Set("Vary", "Accept")
	bw := bufio.NewWriterSize(w, 64<<10)
	returned := 0
	started := false
	err = s.d.Layers.Features(ctx, l, ir.q, func(ft layers.Feature) error {
		if !started {
			started = true
			if _, err := bw.WriteString(`{"type":"FeatureCollection","features":[`); err != nil {
				return err
			}
		} else if err := bw.WriteByte(','); err != nil {
			return err
		}
		returned++
		return writeFeature(bw, ft, l, ir)
	})
	if err != nil {
		if !started {
			return err
		}
		// The status line is out: cut the connection so the client sees a
		// broken body rather than a short, valid-looking page.
		if !munigis.ClientGone(r.Context()) {
			s.d.Log.Error("ogcapi: items stream failed", "path", r.URL.Path, "err", err.Error())
		}
		panic(http.ErrAbortHandler)
	}
	if !started {
		_, _ = bw.WriteString(`{"type":"FeatureCollection","features":[`)
	}
	tail := map[string]any{
		"numberMatched":  matched,
		"numberReturned": returned,
		"timeStamp":      stamp,
		"links":          itemsLinks(base, l, r, ir, returned, matched, "json"),
	}
	b, err := json.Marshal(tail)
	if err != nil {
		return err
	}
	// tail is an object; splice its members after the features array.
	_, _ = bw.WriteString("],")
	_, _ = bw.Write(b[1:])
	_, _ = bw.WriteString("\n")
	return bw.Flush()
}

// withF returns q with f set.
func withF(q url.Values, f string) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	c.Set("f", f)
	return c
}

// parseFID reads a feature id of the path; anything but a positive whole
// number names no feature (404, not 400: the resource does not exist).
func parseFID(l layers.Layer, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, munigis.Errorf(munigis.NotFound, "collection %s has no feature %q", l.Name, s)
	}
	return id, nil
}

func (s *Service) handleItem(w http.ResponseWriter, r *http.Request, l layers.Layer, fid string) error {
	f, err := negotiate(r)
	if err != nil {
		return err
	}
	for k := range r.URL.Query() {
		if k != "f" && k != "crs" {
			return munigis.Errorf(munigis.Invalid, "unknown query parameter %q: a feature takes crs and f", k)
		}
	}
	id, err := parseFID(l, fid)
	if err != nil {
		return err
	}
	ctx := r.Context()
	v := access.FromContext(ctx)
	var ir itemsRequest
	if ir.crs, err = parseCRSParam("crs", r.URL.Query().Get("crs")); err != nil {
		return err
	}
	ir.swapXY = ir.crs.AxisNorthingFirst(true)
	ft, err := s.d.Layers.Feature(ctx, l, id, ir.crs.SRID, v.Attributes(l))
	if err != nil {
		return err
	}
	base := baseURL(r)
	href := base + "/collections/" + url.PathEscape(l.Name) + "/items/" + strconv.FormatInt(id, 10)
	links := []link{
		{Href: withQuery(href, withF(r.URL.Query(), "json")), Rel: "self", Type: mtGeoJSON, Title: "this feature"},
		{Href: withQuery(href, withF(r.URL.Query(), "html")), Rel: "alternate", Type: mtHTML, Title: "this feature as HTML"},
		{Href: base + "/collections/" + url.PathEscape(l.Name), Rel: "collection", Type: mtJSON, Title: l.TitleBG},
	}
	if f == formatHTML {
		fv, err := viewFeature(ft, ir, base, l)
		if err != nil {
			return err
		}
		col, err := s.describe(ctx, base, l)
		if err != nil {
			return err
		}
		return writeHTML(w, "item", pageData{Title: l.TitleBG + " – " + strconv.FormatInt(id, 10), TitleEN: l.TitleEN,
			Base: base, JSON: links[0].Href, Collection: &col, Features: []featureView{fv}})
	}
	w.Header().Set("Content-Type", mtGeoJSON)
	w.Header().Set("Content-Crs", contentCRS(ir.crs))
	w.Header().Set("Vary", "Accept")
	bw := bufio.NewWriter(w)
	if err := writeFeatureWith(bw, ft, l, ir, links); err != nil {
		return err
	}
	_, _ = bw.WriteString("\n")
	return bw.Flush()
}

// writeFeature writes one GeoJSON feature of an items page.
func writeFeature(bw *bufio.Writer, ft layers.Feature, l layers.Layer, ir itemsRequest) error {
	return writeFeatureWith(bw, ft, l, ir, nil)
}

// writeFeatureWith writes ft as a GeoJSON Feature: the id, the geometry in
// the output CRS's axis order, the properties in the layer type's order
// (only those the store returned, i.e. those the caller may see) and the
// bookkeeping every feature has, then links when given.
func writeFeatureWith(bw *bufio.Writer, ft layers.Feature, l layers.Layer, ir itemsRequest, links []link) error {
	g, err := geometryJSON(ft.Geometry, ir.crs, ir.swapXY)
	if err != nil {
		return fmt.Errorf("ogcapi: feature %s/%d: %w", l.Name, ft.ID, err)
	}
	bw.WriteString(`{"type":"Feature","id":`)
	bw.WriteString(strconv.FormatInt(ft.ID, 10))
	bw.WriteString(`,"geometry":`)
	bw.Write(g)
	bw.WriteString(`,"properties":{`)
	first := true
	prop := func(k string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("ogcapi: feature %s/%d: property %s: %w", l.Name, ft.ID, k, err)
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		bw.Write(kb)
		bw.WriteByte(':')
		bw.Write(b)
		return nil
	}
	for _, a := range l.Type.Attributes {
		v, ok := ft.Properties[a.Name]
		if !ok {
			continue
		}
		if err := prop(a.Name, v); err != nil {
			return err
		}
	}
	if err := prop("version", ft.Version); err != nil {
		return err
	}
	if err := prop("created_at", ft.CreatedAt.UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	if err := prop("updated_at", ft.UpdatedAt.UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	bw.WriteByte('}')
	if links != nil {
		b, err := json.Marshal(links)
		if err != nil {
			return err
		}
		bw.WriteString(`,"links":`)
		bw.Write(b)
	}
	_, err = bw.WriteString("}")
	return err
}

// geometryJSON encodes g as a GeoJSON geometry, swapping x and y first when
// the output CRS is northing/latitude first (Part 2). Coordinates keep 8
// decimals in degrees (about 1 mm) and 3 in metres.
func geometryJSON(g geom.T, c spatial.CRS, swap bool) ([]byte, error) {
	if g == nil {
		return []byte("null"), nil
	}
	if swap {
		// The feature was read for this response alone, so its coordinates
		// may be swapped in place.
		swapFlat(g)
	}
	digits := 3
	if c.SRID == spatial.SRIDWGS84 {
		digits = 8
	}
	return geojson.Marshal(g, geojson.EncodeGeometryWithMaxDecimalDigits(digits))
}

// swapFlat exchanges the first two ordinates of every coordinate of g, in
// place, including the members of a geometry collection.
func swapFlat(g geom.T) {
	if gc, ok := g.(*geom.GeometryCollection); ok {
		for _, m := range gc.Geoms() {
			swapFlat(m)
		}
		return
	}
	flat, stride := g.FlatCoords(), g.Stride()
	if stride < 2 {
		return
	}
	for i := 0; i+1 < len(flat); i += stride {
		flat[i], flat[i+1] = flat[i+1], flat[i]
	}
}

// boxPolygon is box as a polygon in srid with x = easting, each edge cut
// into 16 segments, so that it keeps its shape when the store transforms it
// to the storage CRS, where the edges of a longitude/latitude box curve.
func boxPolygon(b spatial.BBox, srid int) *geom.Polygon {
	const n = 16
	corners := [][2]float64{{b.MinX, b.MinY}, {b.MaxX, b.MinY}, {b.MaxX, b.MaxY}, {b.MinX, b.MaxY}}
	flat := make([]float64, 0, 2*(4*n+1))
	for i := range corners {
		a, c := corners[i], corners[(i+1)%4]
		for k := 0; k < n; k++ {
			t := float64(k) / n
			flat = append(flat, a[0]+(c[0]-a[0])*t, a[1]+(c[1]-a[1])*t)
		}
	}
	flat = append(flat, corners[0][0], corners[0][1])
	return geom.NewPolygonFlat(geom.XY, flat, []int{len(flat)}).SetSRID(srid)
}

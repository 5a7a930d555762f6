package wfs

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/twpayne/go-geom"

	"munigis/spatial"
)

// gmlVersion selects the GML encoding of output.
type gmlVersion int

const (
	gml32  gmlVersion = iota // GML 3.2.1, WFS 2.0's default
	gml311                   // GML 3.1.1, WFS 1.1.0's default
)

const (
	nsGML32  = "http://www.opengis.net/gml/3.2"
	nsGML311 = "http://www.opengis.net/gml"
)

// geomWriter writes geometries as GML in one CRS and axis order.
type geomWriter struct {
	version gmlVersion
	srsName string
	// northingFirst swaps the stored x = easting, y = northing on output.
	northingFirst bool
	buf           []byte
}

// write appends g as GML to w.buf; id prefixes the gml:ids every GML 3.2
// geometry needs.
func (w *geomWriter) write(g geom.T, id string) error {
	w.buf = append(w.buf, '<')
	switch t := g.(type) {
	case *geom.Point:
		w.open("Point", id, true)
		w.buf = append(w.buf, "<gml:pos>"...)
		w.coords(t.FlatCoords(), t.Stride())
		w.buf = append(w.buf, "</gml:pos></gml:Point>"...)
	case *geom.LineString:
		w.open("LineString", id, true)
		w.posList(t.FlatCoords(), t.Stride())
		w.buf = append(w.buf, "</gml:LineString>"...)
	case *geom.Polygon:
		w.open("Polygon", id, true)
		w.polygonBody(t)
		w.buf = append(w.buf, "</gml:Polygon>"...)
	case *geom.MultiPoint:
		w.open("MultiPoint", id, true)
		for i := 0; i < t.NumPoints(); i++ {
			w.buf = append(w.buf, "<gml:pointMember><"...)
			w.open("Point", id+"."+strconv.Itoa(i+1), false)
			w.buf = append(w.buf, "<gml:pos>"...)
			w.coords(t.Point(i).FlatCoords(), t.Stride())
			w.buf = append(w.buf, "</gml:pos></gml:Point></gml:pointMember>"...)
		}
		w.buf = append(w.buf, "</gml:MultiPoint>"...)
	case *geom.MultiLineString:
		w.open("MultiCurve", id, true)
		for i := 0; i < t.NumLineStrings(); i++ {
			w.buf = append(w.buf, "<gml:curveMember><"...)
			w.open("LineString", id+"."+strconv.Itoa(i+1), false)
			w.posList(t.LineString(i).FlatCoords(), t.Stride())
			w.buf = append(w.buf, "</gml:LineString></gml:curveMember>"...)
		}
		w.buf = append(w.buf, "</gml:MultiCurve>"...)
	case *geom.MultiPolygon:
		w.open("MultiSurface", id, true)
		for i := 0; i < t.NumPolygons(); i++ {
			w.buf = append(w.buf, "<gml:surfaceMember><"...)
			w.open("Polygon", id+"."+strconv.Itoa(i+1), false)
			w.polygonBody(t.Polygon(i))
			w.buf = append(w.buf, "</gml:Polygon></gml:surfaceMember>"...)
		}
		w.buf = append(w.buf, "</gml:MultiSurface>"...)
	default:
		return fmt.Errorf("wfs: geometry type %T has no GML encoding here", g)
	}
	return nil
}

// open writes the rest of a start tag whose '<' is already written.
func (w *geomWriter) open(name, id string, top bool) {
	w.buf = append(w.buf, "gml:"...)
	w.buf = append(w.buf, name...)
	if w.version == gml32 || top {
		w.buf = append(w.buf, ` gml:id="`...)
		w.buf = appendEsc(w.buf, id)
		w.buf = append(w.buf, '"')
	}
	if top {
		w.buf = append(w.buf, ` srsName="`...)
		w.buf = appendEsc(w.buf, w.srsName)
		w.buf = append(w.buf, `" srsDimension="2"`...)
	}
	w.buf = append(w.buf, '>')
}

func (w *geomWriter) polygonBody(p *geom.Polygon) {
	for i := 0; i < p.NumLinearRings(); i++ {
		tag := "interior"
		if i == 0 {
			tag = "exterior"
		}
		w.buf = append(w.buf, "<gml:"+tag+"><gml:LinearRing>"...)
		w.posList(p.LinearRing(i).FlatCoords(), p.Stride())
		w.buf = append(w.buf, "</gml:LinearRing></gml:"+tag+">"...)
	}
}

func (w *geomWriter) posList(flat []float64, stride int) {
	w.buf = append(w.buf, "<gml:posList>"...)
	w.coords(flat, stride)
	w.buf = append(w.buf, "</gml:posList>"...)
}

// coords writes x y pairs (2D: any Z or M is dropped) in the output axis
// order.
func (w *geomWriter) coords(flat []float64, stride int) {
	for i := 0; i+1 < len(flat); i += stride {
		if i > 0 {
			w.buf = append(w.buf, ' ')
		}
		a, b := flat[i], flat[i+1]
		if w.northingFirst {
			a, b = b, a
		}
		w.buf = strconv.AppendFloat(w.buf, a, 'f', -1, 64)
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendFloat(w.buf, b, 'f', -1, 64)
	}
}

// geometryParser reads GML geometries (GML 2, 3.1.1 and 3.2) from request
// documents into go-geom geometries with x = easting and the SRID set, as
// package layers wants them.
type geometryParser struct {
	// def is the CRS of a geometry that names none of its own.
	def spatial.CRS
}

// parse reads the geometry element n.
func (p geometryParser) parse(n *node) (geom.T, error) {
	crs := p.def
	if s := n.attr("srsName"); s != "" {
		c, err := spatial.ParseCRS(s)
		if err != nil {
			return nil, invalidParam("srsName", err.Error())
		}
		crs = c
	}
	// Inside a request document every notation follows the EPSG axis
	// order (WFS 2.0 and 1.1 alike), as GeoServer reads it.
	swap := crs.AxisNorthingFirst(true)
	dim := 2
	if d := n.attr("srsDimension"); d != "" {
		v, err := strconv.Atoi(d)
		if err != nil || v < 2 || v > 4 {
			return nil, invalidParam("srsDimension", fmt.Sprintf("srsDimension %q must be 2, 3 or 4", d))
		}
		dim = v
	}
	q := geometryParser{def: crs}
	var g geom.T
	var err error
	switch n.name.Local {
	case "Point":
		var c []float64
		c, err = pointCoords(n, dim, swap)
		if err == nil {
			g, err = newPoint(c)
		}
	case "LineString", "LinearRing":
		var c []float64
		c, err = lineCoords(n, dim, swap)
		if err == nil {
			if len(c) < 4 {
				return nil, invalidParam(n.name.Local, "a LineString needs at least 2 points")
			}
			g = geom.NewLineStringFlat(geom.XY, c)
		}
	case "Polygon":
		g, err = q.polygon(n, dim, swap)
	case "Envelope", "Box":
		g, err = envelope(n, dim, swap)
	case "MultiPoint":
		mp := geom.NewMultiPoint(geom.XY)
		for _, m := range members(n, "pointMember", "pointMembers") {
			var c []float64
			if c, err = pointCoords(m, dim, swap); err != nil {
				break
			}
			pt, perr := newPoint(c)
			if perr != nil {
				return nil, perr
			}
			if err = mp.Push(pt); err != nil {
				break
			}
		}
		g = mp
	case "MultiCurve", "MultiLineString":
		ml := geom.NewMultiLineString(geom.XY)
		for _, m := range members(n, "curveMember", "curveMembers", "lineStringMember") {
			if m.name.Local != "LineString" {
				return nil, invalidParam(m.name.Local, "only LineString members are supported in "+n.name.Local)
			}
			var c []float64
			if c, err = lineCoords(m, dim, swap); err != nil {
				break
			}
			if err = ml.Push(geom.NewLineStringFlat(geom.XY, c)); err != nil {
				break
			}
		}
		g = ml
	case "MultiSurface", "MultiPolygon":
		mp := geom.NewMultiPolygon(geom.XY)
		for _, m := range members(n, "surfaceMember", "surfaceMembers", "polygonMember") {
			if m.name.Local != "Polygon" {
				return nil, invalidParam(m.name.Local, "only Polygon members are supported in "+n.name.Local)
			}
			var pg *geom.Polygon
			if pg, err = q.polygon(m, dim, swap); err != nil {
				break
			}
			if err = mp.Push(pg); err != nil {
				break
			}
		}
		g = mp
	default:
		return nil, invalidParam(n.name.Local, fmt.Sprintf("GML geometry %s is not supported: use Point, LineString, Polygon, Envelope, MultiPoint, MultiCurve or MultiSurface", n.name.Local))
	}
	if err != nil {
		if _, ok := err.(*owsError); ok {
			return nil, err
		}
		return nil, invalidParam(n.name.Local, fmt.Sprintf("GML %s: %v", n.name.Local, err))
	}
	return setSRID(g, crs.SRID), nil
}

func setSRID(g geom.T, srid int) geom.T {
	switch t := g.(type) {
	case *geom.Point:
		return t.SetSRID(srid)
	case *geom.LineString:
		return t.SetSRID(srid)
	case *geom.Polygon:
		return t.SetSRID(srid)
	case *geom.MultiPoint:
		return t.SetSRID(srid)
	case *geom.MultiLineString:
		return t.SetSRID(srid)
	case *geom.MultiPolygon:
		return t.SetSRID(srid)
	}
	return g
}

func newPoint(c []float64) (*geom.Point, error) {
	if len(c) != 2 {
		return nil, invalidParam("Point", "a Point needs exactly one position")
	}
	return geom.NewPointFlat(geom.XY, c), nil
}

// members returns the geometries inside the member elements of a multi
// geometry (one per xxxMember, several per xxxMembers).
func members(n *node, names ...string) []*node {
	var out []*node
	for _, c := range n.children {
		for _, name := range names {
			if c.name.Local == name {
				out = append(out, c.children...)
			}
		}
	}
	return out
}

func (p geometryParser) polygon(n *node, dim int, swap bool) (*geom.Polygon, error) {
	var flat []float64
	var ends []int
	var rings []*node
	for _, c := range n.children {
		switch c.name.Local {
		case "exterior", "outerBoundaryIs", "interior", "innerBoundaryIs":
			rings = append(rings, c.children...)
		}
	}
	if len(rings) == 0 {
		return nil, invalidParam("Polygon", "a Polygon needs an exterior LinearRing")
	}
	for _, r := range rings {
		if r.name.Local != "LinearRing" {
			return nil, invalidParam(r.name.Local, "polygon rings must be LinearRings")
		}
		c, err := lineCoords(r, dim, swap)
		if err != nil {
			return nil, err
		}
		if len(c) < 8 {
			return nil, invalidParam("LinearRing", "a LinearRing needs at least 4 points")
		}
		if c[0] != c[len(c)-2] || c[1] != c[len(c)-1] {
			return nil, invalidParam("LinearRing", "a LinearRing must end at its first point")
		}
		flat = append(flat, c...)
		ends = append(ends, len(flat))
	}
	return geom.NewPolygonFlat(geom.XY, flat, ends), nil
}

// envelope reads gml:Envelope (lowerCorner, upperCorner) or GML 2 gml:Box
// (coordinates) as a rectangle polygon.
func envelope(n *node, dim int, swap bool) (geom.T, error) {
	var c []float64
	var err error
	if n.name.Local == "Box" || n.child("coordinates") != nil || len(n.all("coord")) > 0 {
		c, err = lineCoords(n, dim, swap)
	} else {
		lo, hi := n.child("lowerCorner"), n.child("upperCorner")
		if lo == nil || hi == nil {
			return nil, invalidParam("Envelope", "an Envelope needs lowerCorner and upperCorner")
		}
		var a, b []float64
		if a, err = numbers(lo.text, dim, swap); err == nil {
			b, err = numbers(hi.text, dim, swap)
		}
		c = append(a, b...)
	}
	if err != nil {
		return nil, err
	}
	if len(c) != 4 {
		return nil, invalidParam(n.name.Local, "an envelope needs exactly two corners")
	}
	x0, y0, x1, y1 := c[0], c[1], c[2], c[3]
	if x0 > x1 || y0 > y1 {
		return nil, invalidParam(n.name.Local, "the lower corner of the envelope lies above or right of the upper corner (check the axis order of the CRS)")
	}
	return geom.NewPolygonFlat(geom.XY, []float64{x0, y0, x1, y0, x1, y1, x0, y1, x0, y0}, []int{10}), nil
}

func pointCoords(n *node, dim int, swap bool) ([]float64, error) {
	if n.name.Local != "Point" {
		return nil, invalidParam(n.name.Local, "expected a gml:Point")
	}
	return lineCoords(n, dim, swap)
}

// lineCoords reads the positions of an element in any of the GML forms:
// posList, a run of pos, GML 2 coordinates or coord elements.
func lineCoords(n *node, dim int, swap bool) ([]float64, error) {
	if d := n.attr("srsDimension"); d != "" {
		if v, err := strconv.Atoi(d); err == nil && v >= 2 && v <= 4 {
			dim = v
		}
	}
	if pl := n.child("posList"); pl != nil {
		d := dim
		if v, err := strconv.Atoi(pl.attr("srsDimension")); err == nil && v >= 2 && v <= 4 {
			d = v
		}
		return numbers(pl.text, d, swap)
	}
	if ps := n.all("pos"); len(ps) > 0 {
		var out []float64
		for _, p := range ps {
			c, err := numbers(p.text, dim, swap)
			if err != nil {
				return nil, err
			}
			if len(c) != 2 {
				return nil, invalidParam("pos", "each gml:pos holds one position")
			}
			out = append(out, c...)
		}
		return out, nil
	}
	if cs := n.child("coordinates"); cs != nil {
		return coordinates(cs, swap)
	}
	if cs := n.all("coord"); len(cs) > 0 {
		var out []float64
		for _, c := range cs {
			x, y := c.child("X"), c.child("Y")
			if x == nil || y == nil {
				return nil, invalidParam("coord", "gml:coord needs X and Y")
			}
			v, err := numbers(x.text+" "+y.text, 2, swap)
			if err != nil {
				return nil, err
			}
			out = append(out, v...)
		}
		return out, nil
	}
	return nil, invalidParam(n.name.Local, fmt.Sprintf("gml:%s has no coordinates (posList, pos or coordinates)", n.name.Local))
}

// numbers reads whitespace-separated numbers, dim per position, keeping x
// and y (easting first).
func numbers(s string, dim int, swap bool) ([]float64, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f)%dim != 0 {
		return nil, invalidParam("posList", fmt.Sprintf("%d numbers do not make positions of %d coordinates", len(f), dim))
	}
	out := make([]float64, 0, len(f)/dim*2)
	for i := 0; i < len(f); i += dim {
		a, err := number(f[i])
		if err != nil {
			return nil, err
		}
		b, err := number(f[i+1])
		if err != nil {
			return nil, err
		}
		if swap {
			a, b = b, a
		}
		out = append(out, a, b)
	}
	return out, nil
}

func number(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, invalidParam("posList", fmt.Sprintf("coordinate %q is not a number", s))
	}
	return v, nil
}

// coordinates reads GML 2 gml:coordinates with its cs, ts and decimal
// attributes (defaults ",", " " and ".").
func coordinates(n *node, swap bool) ([]float64, error) {
	cs, ts, dec := n.attr("cs"), n.attr("ts"), n.attr("decimal")
	if cs == "" {
		cs = ","
	}
	if dec == "" {
		dec = "."
	}
	var tuples []string
	if ts == "" || strings.TrimSpace(ts) == "" {
		tuples = strings.Fields(n.text)
	} else {
		tuples = strings.Split(strings.TrimSpace(n.text), ts)
	}
	var out []float64
	for _, t := range tuples {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		parts := strings.Split(t, cs)
		if len(parts) < 2 || len(parts) > 3 {
			return nil, invalidParam("coordinates", fmt.Sprintf("tuple %q needs 2 or 3 values", t))
		}
		var v [2]float64
		for i := 0; i < 2; i++ {
			x, err := number(strings.ReplaceAll(strings.TrimSpace(parts[i]), dec, "."))
			if err != nil {
				return nil, err
			}
			v[i] = x
		}
		if swap {
			v[0], v[1] = v[1], v[0]
		}
		out = append(out, v[0], v[1])
	}
	if len(out) == 0 {
		return nil, invalidParam("coordinates", "gml:coordinates is empty")
	}
	return out, nil
}

package demo

import (
	"math"

	"github.com/twpayne/go-geom"
)

const srid = 7801

// frame places the town: the generator works in local metres (x east, y
// north, origin at the town centre, streets along the axes) and frame turns
// that into EPSG:7801 by a rotation and a shift. A rotation keeps straight
// lines straight and areas unchanged, so what tiles exactly in local metres
// still tiles after it, and areas can be computed before it.
type frame struct {
	e0, n0   float64 // the centre, EPSG:7801 easting and northing
	cos, sin float64
}

// at returns the EPSG:7801 easting and northing of local (x, y), rounded to
// the millimetre as surveyed coordinates are. Equal inputs give equal
// outputs, which is what keeps shared vertices of neighbours identical.
func (f *frame) at(x, y float64) (float64, float64) {
	e := f.e0 + f.cos*x - f.sin*y
	n := f.n0 + f.sin*x + f.cos*y
	return math.Round(e*1000) / 1000, math.Round(n*1000) / 1000
}

// shapeKind is the geometry type of a layer.
type shapeKind uint8

const (
	multiPolygon shapeKind = iota
	multiLineString
	point
)

// shape collects one feature's geometry in flat EPSG:7801 coordinates. It
// holds a single polygon (one exterior ring), a set of lines, or a point.
// Its slices are reused from feature to feature: a COPY encodes a row
// before asking for the next one.
type shape struct {
	f    *frame
	kind shapeKind
	flat []float64
	ends []int // end offsets (in flat) of each ring or line
}

func (s *shape) reset(kind shapeKind) {
	s.kind = kind
	s.flat = s.flat[:0]
	s.ends = s.ends[:0]
}

// add appends local point (x, y).
func (s *shape) add(x, y float64) {
	e, n := s.f.at(x, y)
	s.flat = append(s.flat, e, n)
}

// end closes the current ring (repeating its first point) or line.
func (s *shape) end() {
	start := 0
	if len(s.ends) > 0 {
		start = s.ends[len(s.ends)-1]
	}
	if s.kind == multiPolygon {
		s.flat = append(s.flat, s.flat[start], s.flat[start+1])
	}
	s.ends = append(s.ends, len(s.flat))
}

// ring sets s to the polygon with exterior ring pts (local, not closed).
func (s *shape) ring(pts []pt) {
	s.reset(multiPolygon)
	for _, p := range pts {
		s.add(p.x, p.y)
	}
	s.end()
}

// geomT returns s as a go-geom value for the pgx-geom codec. It shares s's
// slices, so it is only good until s is reset.
func (s *shape) geomT() geom.T {
	switch s.kind {
	case multiPolygon:
		return geom.NewMultiPolygonFlat(geom.XY, s.flat, [][]int{s.ends}).SetSRID(srid)
	case multiLineString:
		return geom.NewMultiLineStringFlat(geom.XY, s.flat, s.ends).SetSRID(srid)
	default:
		return geom.NewPointFlat(geom.XY, s.flat[:2]).SetSRID(srid)
	}
}

// pt is a local point in metres.
type pt struct{ x, y float64 }

// ringArea is the area of a closed-implicitly ring by the shoelace formula,
// positive when counter-clockwise.
func ringArea(pts []pt) float64 {
	var a float64
	for i := range pts {
		j := (i + 1) % len(pts)
		a += pts[i].x*pts[j].y - pts[j].x*pts[i].y
	}
	return a / 2
}

// rect returns the counter-clockwise ring of an axis-aligned rectangle.
func rect(dst []pt, x0, y0, x1, y1 float64) []pt {
	return append(dst[:0], pt{x0, y0}, pt{x1, y0}, pt{x1, y1}, pt{x0, y1})
}

package render

import (
	"encoding/binary"
	"errors"
	"math"
)

// shape is one feature's geometry in pixel coordinates, decoded straight
// from WKB without building geometry objects: rings of polygons, lines,
// and points, each a flat x,y list. Its slices are reused from feature to
// feature.
type shape struct {
	rings  [][]float32
	lines  [][]float32
	points []float32
	// minX..maxY is the pixel box of the shape.
	minX, minY, maxX, maxY float32
	// buf backs rings and lines. When it grows, the sequences already
	// taken keep the old array, which nothing writes to any more.
	buf []float32
}

// transform maps map coordinates (x = easting) to pixels.
type transform struct {
	minX, maxY, sx, sy float64
}

func (t transform) apply(x, y float64) (float32, float32) {
	return float32((x - t.minX) * t.sx), float32((t.maxY - y) * t.sy)
}

var errWKB = errors.New("render: malformed WKB")

type wkbReader struct {
	b   []byte
	bo  binary.ByteOrder
	t   transform
	s   *shape
	err error
}

func (s *shape) reset() {
	s.rings, s.lines, s.points = s.rings[:0], s.lines[:0], s.points[:0]
	s.buf = s.buf[:0]
	s.minX, s.minY = math.MaxFloat32, math.MaxFloat32
	s.maxX, s.maxY = -math.MaxFloat32, -math.MaxFloat32
}

// decode reads one WKB geometry (ISO or extended, 2D, Z, M or ZM; Z and M
// are ignored) into s, in pixels.
func (s *shape) decode(b []byte, t transform) error {
	s.reset()
	r := &wkbReader{b: b, t: t, s: s}
	r.geometry(0)
	if r.err != nil {
		return r.err
	}
	return nil
}

func (r *wkbReader) u32() uint32 {
	if len(r.b) < 4 {
		r.err = errWKB
		return 0
	}
	v := r.bo.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *wkbReader) f64() float64 {
	if len(r.b) < 8 {
		r.err = errWKB
		return 0
	}
	v := math.Float64frombits(r.bo.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *wkbReader) geometry(depth int) {
	if depth > 4 || len(r.b) < 5 {
		r.err = errWKB
		return
	}
	if r.b[0] == 0 {
		r.bo = binary.BigEndian
	} else {
		r.bo = binary.LittleEndian
	}
	r.b = r.b[1:]
	typ := r.u32()
	dims := 2
	// Extended WKB flags (PostGIS EWKB) and ISO type offsets.
	if typ&0x80000000 != 0 {
		dims++
	}
	if typ&0x40000000 != 0 {
		dims++
	}
	if typ&0x20000000 != 0 {
		r.u32() // SRID
	}
	typ &= 0x0fffffff
	switch typ / 1000 {
	case 1, 2:
		dims++
	case 3:
		dims += 2
	}
	typ %= 1000
	switch typ {
	case 1:
		x, y := r.f64(), r.f64()
		r.skip(dims - 2)
		if r.err == nil && !math.IsNaN(x) {
			px, py := r.t.apply(x, y)
			r.s.points = append(r.s.points, px, py)
			r.s.grow(px, py)
		}
	case 2:
		r.seq(dims, false)
	case 3:
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.seq(dims, true)
			if r.err == nil {
				// The fill's non-zero rule needs every outer ring wound
				// one way and every hole the other (see canvas.fillPath).
				orient(r.s.rings[len(r.s.rings)-1], i == 0)
			}
		}
	case 4, 5, 6, 7:
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.geometry(depth + 1)
		}
	default:
		r.err = errWKB
	}
}

func (r *wkbReader) skip(n int) {
	for i := 0; i < n; i++ {
		r.f64()
	}
}

// seq reads a coordinate sequence: a polygon ring when ring is true, else
// a line.
func (r *wkbReader) seq(dims int, ring bool) {
	n := int(r.u32())
	if r.err != nil || n < 0 || n*dims*8 > len(r.b) {
		r.err = errWKB
		return
	}
	s := r.s
	start := len(s.buf)
	var lastX, lastY float32 = math.MaxFloat32, math.MaxFloat32
	for i := 0; i < n; i++ {
		x := math.Float64frombits(r.bo.Uint64(r.b))
		y := math.Float64frombits(r.bo.Uint64(r.b[8:]))
		r.b = r.b[dims*8:]
		px, py := r.t.apply(x, y)
		// Consecutive points within a tenth of a pixel add nothing but
		// work for the rasteriser.
		if i > 0 && i < n-1 && abs32(px-lastX) < 0.1 && abs32(py-lastY) < 0.1 {
			continue
		}
		s.buf = append(s.buf, px, py)
		lastX, lastY = px, py
		s.grow(px, py)
	}
	seq := s.buf[start:len(s.buf):len(s.buf)]
	if ring {
		s.rings = append(s.rings, seq)
	} else {
		s.lines = append(s.lines, seq)
	}
}

func (s *shape) grow(x, y float32) {
	s.minX, s.minY = min(s.minX, x), min(s.minY, y)
	s.maxX, s.maxY = max(s.maxX, x), max(s.maxY, y)
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// orient winds a polygon ring as ST_ForcePolygonCCW would in map
// coordinates: outer rings counter-clockwise, holes clockwise (on screen,
// with y pointing down, the other way round). Doing it here rather than
// in SQL spares the database a copy of every geometry per map; the
// ring's points stay the same and keep their first point, only their
// order may turn.
func orient(ring []float32, outer bool) {
	n := len(ring) / 2
	if n < 3 {
		return
	}
	// Shoelace sum, relative to the first point for precision; with y
	// down, negative is counter-clockwise in map coordinates.
	x0, y0 := ring[0], ring[1]
	var a float64
	for i := 1; i+1 < n; i++ {
		ax, ay := float64(ring[2*i]-x0), float64(ring[2*i+1]-y0)
		bx, by := float64(ring[2*i+2]-x0), float64(ring[2*i+3]-y0)
		a += ax*by - bx*ay
	}
	if a == 0 || (a < 0) == outer {
		return
	}
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		ring[2*i], ring[2*j] = ring[2*j], ring[2*i]
		ring[2*i+1], ring[2*j+1] = ring[2*j+1], ring[2*i+1]
	}
}

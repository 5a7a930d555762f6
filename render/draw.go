package render

import (
	"encoding/binary"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"golang.org/x/image/vector"
)

// path gathers the figures one rule draws in one colour: closed rings for
// fills (clipped to the image) or the quads and joins of strokes. All of a
// rule's features go into one path and are rasterised in one pass, so
// neighbouring parcels share their edge pixels without seams and a
// semi-transparent fill does not darken where features overlap.
type path struct {
	pts    []float32 // x,y pairs
	starts []int     // start index in pts of each closed figure
	minX   float32
	minY   float32
	maxX   float32
	maxY   float32
}

func (p *path) reset() {
	p.pts, p.starts = p.pts[:0], p.starts[:0]
	p.minX, p.minY = math.MaxFloat32, math.MaxFloat32
	p.maxX, p.maxY = -math.MaxFloat32, -math.MaxFloat32
}

func (p *path) empty() bool { return len(p.starts) == 0 }

func (p *path) begin() { p.starts = append(p.starts, len(p.pts)) }

func (p *path) add(x, y float32) {
	p.pts = append(p.pts, x, y)
	p.minX, p.minY = min(p.minX, x), min(p.minY, y)
	p.maxX, p.maxY = max(p.maxX, x), max(p.maxY, y)
}

// canvas is the image being drawn and its rasteriser.
type canvas struct {
	img  *image.RGBA
	w, h int
	*scratch
}

// scratch holds a drawing's working buffers (the rasteriser's, the
// coverage mask, clipping), reused from map to map: at 1024×768 they are
// some 4 MB, which a busy server would otherwise allocate and collect per
// request.
type scratch struct {
	ras     vector.Rasterizer
	clip    [2][]float32 // scratch for ring clipping
	maskBuf []byte       // coverage mask of fillPath
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

// imagePool holds map images given back by Release.
var imagePool sync.Pool

// newImage returns a transparent w×h image, reusing a released one when
// it is big enough.
func newImage(w, h int) *image.RGBA {
	if img, ok := imagePool.Get().(*image.RGBA); ok && cap(img.Pix) >= 4*w*h {
		img.Pix = img.Pix[:4*w*h]
		clear(img.Pix)
		img.Stride, img.Rect = 4*w, image.Rect(0, 0, w, h)
		return img
	}
	return image.NewRGBA(image.Rect(0, 0, w, h))
}

func newCanvas(w, h int) *canvas {
	return &canvas{img: newImage(w, h), w: w, h: h, scratch: scratchPool.Get().(*scratch)}
}

// release returns the canvas's working buffers for reuse; the image
// stays the caller's.
func (cv *canvas) release() {
	if cv.scratch != nil {
		scratchPool.Put(cv.scratch)
		cv.scratch = nil
	}
}

// fillPath paints p in c, anti-aliased, with the non-zero rule: rings of
// opposite orientation (holes; the WKB decoder's orient guarantees
// it) cut out, figures of the same orientation merge.
func (cv *canvas) fillPath(p *path, c color.NRGBA) {
	if p.empty() || c.A == 0 {
		return
	}
	// Rasterise only the box the path covers: the rasteriser's cost is
	// its area.
	x0 := max(0, int(math.Floor(float64(p.minX))))
	y0 := max(0, int(math.Floor(float64(p.minY))))
	x1 := min(cv.w, int(math.Ceil(float64(p.maxX)))+1)
	y1 := min(cv.h, int(math.Ceil(float64(p.maxY)))+1)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	fx, fy := float32(x0), float32(y0)
	cv.ras.Reset(x1-x0, y1-y0)
	for i, s := range p.starts {
		e := len(p.pts)
		if i+1 < len(p.starts) {
			e = p.starts[i+1]
		}
		fig := p.pts[s:e]
		if len(fig) < 6 {
			continue
		}
		cv.ras.MoveTo(fig[0]-fx, fig[1]-fy)
		for j := 2; j < len(fig); j += 2 {
			cv.ras.LineTo(fig[j]-fx, fig[j+1]-fy)
		}
		cv.ras.ClosePath()
	}
	w, h := x1-x0, y1-y0
	if cap(cv.maskBuf) < w*h {
		cv.maskBuf = make([]byte, w*h)
	}
	mask := &image.Alpha{Pix: cv.maskBuf[:w*h], Stride: w, Rect: image.Rect(0, 0, w, h)}
	// Into a mask first, with the rasteriser's SIMD path (a mask exactly
	// its size, opaque source, Src): then only the covered pixels are
	// blended. Drawing straight onto the RGBA image would blend every
	// pixel of the box, covered or not, and a thematic style has one path
	// per rule spread over the whole map.
	cv.ras.DrawOp = draw.Src
	cv.ras.Draw(mask, mask.Rect, image.Opaque, image.Point{})
	pc := premultiply(c)
	// Per coverage value: the source scaled by it, and what is left of
	// the destination (out = src·m + dst·(1 − srcα·m), in 255ths).
	var src [256][4]uint32
	var keep [256]uint32
	for m := uint32(1); m < 256; m++ {
		src[m] = [4]uint32{div255(uint32(pc.R) * m), div255(uint32(pc.G) * m), div255(uint32(pc.B) * m), div255(uint32(pc.A) * m)}
		keep[m] = 255 - src[m][3]
	}
	// The inside of a fill is runs of one coverage (255) over one colour
	// (the background, or one fill below): the last pixel blended is
	// remembered and its result reused, which spares most of the
	// arithmetic of a map of filled parcels.
	lastM, lastIn, lastOut := uint8(0), uint32(0), uint32(0)
	for y := 0; y < h; y++ {
		mrow := mask.Pix[y*w : y*w+w]
		drow := cv.img.Pix[cv.img.PixOffset(x0, y0+y):]
		for x := 0; x < len(mrow); x++ {
			// Most of a rule's box is usually uncovered: skip it eight
			// pixels at a time.
			if x+8 <= len(mrow) && binary.NativeEndian.Uint64(mrow[x:]) == 0 {
				x += 7
				continue
			}
			m := mrow[x]
			if m == 0 {
				continue
			}
			i := 4 * x
			px := drow[i : i+4 : i+4]
			in := binary.NativeEndian.Uint32(px)
			if m == lastM && in == lastIn {
				binary.NativeEndian.PutUint32(px, lastOut)
				continue
			}
			s, k := &src[m], keep[m]
			if k == 0 {
				px[0], px[1], px[2], px[3] = uint8(s[0]), uint8(s[1]), uint8(s[2]), uint8(s[3])
			} else {
				px[0] = uint8(s[0] + div255(uint32(px[0])*k))
				px[1] = uint8(s[1] + div255(uint32(px[1])*k))
				px[2] = uint8(s[2] + div255(uint32(px[2])*k))
				px[3] = uint8(s[3] + div255(uint32(px[3])*k))
			}
			lastM, lastIn, lastOut = m, in, binary.NativeEndian.Uint32(px)
		}
	}
}

// div255 is x/255 rounded, for x up to 255·255.
func div255(x uint32) uint32 { return (x + 128 + (x+128)>>8) >> 8 }

func premultiply(c color.NRGBA) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: uint8(a >> 8)}
}

// addRing adds a polygon ring to p, clipped to the image widened by a
// margin: the rasteriser walks every row a segment spans, so a vertex far
// outside the map (a big polygon seen up close) would cost millions of
// empty rows. Sutherland–Hodgman clipping keeps the area inside exact.
func (cv *canvas) addRing(p *path, ring []float32) {
	const m = 2
	lo := [2]float32{-m, -m}
	hi := [2]float32{float32(cv.w) + m, float32(cv.h) + m}
	in := ring
	inside := true
	for i := 0; i < len(ring); i += 2 {
		if ring[i] < lo[0] || ring[i] > hi[0] || ring[i+1] < lo[1] || ring[i+1] > hi[1] {
			inside = false
			break
		}
	}
	if !inside {
		for edge := 0; edge < 4 && len(in) >= 6; edge++ {
			axis := edge % 2
			upper := edge >= 2
			bound := lo[axis]
			if upper {
				bound = hi[axis]
			}
			out := cv.clip[edge%2][:0]
			n := len(in) / 2
			for i := 0; i < n; i++ {
				cx, cy := in[2*i], in[2*i+1]
				j := (i + n - 1) % n
				px, py := in[2*j], in[2*j+1]
				cIn := keep(cx, cy, axis, bound, upper)
				pIn := keep(px, py, axis, bound, upper)
				if cIn != pIn {
					ix, iy := intersect(px, py, cx, cy, axis, bound)
					out = append(out, ix, iy)
				}
				if cIn {
					out = append(out, cx, cy)
				}
			}
			cv.clip[edge%2] = out
			in = out
		}
	}
	if len(in) < 6 {
		return
	}
	p.begin()
	for i := 0; i < len(in); i += 2 {
		p.add(in[i], in[i+1])
	}
}

func keep(x, y float32, axis int, bound float32, upper bool) bool {
	v := x
	if axis == 1 {
		v = y
	}
	if upper {
		return v <= bound
	}
	return v >= bound
}

func intersect(px, py, cx, cy float32, axis int, bound float32) (float32, float32) {
	if axis == 0 {
		t := (bound - px) / (cx - px)
		return bound, py + t*(cy-py)
	}
	t := (bound - py) / (cy - py)
	return px + t*(cx-px), bound
}

// addStroke adds the outline of a line of width w pixels along pts (closed
// when closed is true) to p: a quad per segment and, for lines wider than
// 1.5 pixels, an octagon at each vertex for round joins. All figures wind
// the same way, so they merge. Dashes split the line first.
func (cv *canvas) addStroke(p *path, pts []float32, closed bool, s *Stroke) {
	n := len(pts) / 2
	if n < 2 {
		return
	}
	hw := float32(s.Width / 2)
	if hw < 0.25 {
		hw = 0.25 // thinner than half a pixel reads as nothing; keep a hairline
	}
	m := 2*hw + 2
	lox, loy, hix, hiy := -m, -m, float32(cv.w)+m, float32(cv.h)+m
	segs := n - 1
	if closed {
		segs = n
	}
	joins := hw > 0.75 && len(s.Dash) == 0
	dash := dasher{pattern: s.Dash}
	for i := 0; i < segs; i++ {
		ax, ay := pts[2*i], pts[2*i+1]
		j := (i + 1) % n
		bx, by := pts[2*j], pts[2*j+1]
		if len(s.Dash) > 0 {
			dash.segment(ax, ay, bx, by, func(ax, ay, bx, by float32) {
				if cx0, cy0, cx1, cy1, ok := clipSegment(ax, ay, bx, by, lox, loy, hix, hiy); ok {
					quad(p, cx0, cy0, cx1, cy1, hw)
				}
			})
			continue
		}
		cx0, cy0, cx1, cy1, ok := clipSegment(ax, ay, bx, by, lox, loy, hix, hiy)
		if !ok {
			continue
		}
		quad(p, cx0, cy0, cx1, cy1, hw)
		if joins && (closed || j < n-1) && bx >= lox && bx <= hix && by >= loy && by <= hiy {
			disc(p, bx, by, hw, 8)
		}
	}
}

// quad adds the rectangle of half-width hw around segment a–b.
func quad(p *path, ax, ay, bx, by, hw float32) {
	dx, dy := bx-ax, by-ay
	l := float32(math.Sqrt(float64(dx*dx + dy*dy)))
	if l < 1e-4 {
		return
	}
	nx, ny := -dy/l*hw, dx/l*hw
	p.begin()
	p.add(ax+nx, ay+ny)
	p.add(bx+nx, by+ny)
	p.add(bx-nx, by-ny)
	p.add(ax-nx, ay-ny)
}

// disc adds a k-gon of radius r around x, y, wound like quad's rectangles.
func disc(p *path, x, y, r float32, k int) {
	p.begin()
	for i := 0; i < k; i++ {
		a := -2 * math.Pi * float64(i) / float64(k)
		p.add(x+r*float32(math.Cos(a)), y+r*float32(math.Sin(a)))
	}
}

// square adds an axis-aligned square of half-side r around x, y.
func square(p *path, x, y, r float32) {
	p.begin()
	p.add(x-r, y-r)
	p.add(x-r, y+r)
	p.add(x+r, y+r)
	p.add(x+r, y-r)
}

// clipSegment clips a–b to the box (Liang–Barsky).
func clipSegment(ax, ay, bx, by, lox, loy, hix, hiy float32) (float32, float32, float32, float32, bool) {
	t0, t1 := float32(0), float32(1)
	dx, dy := bx-ax, by-ay
	for _, e := range [4][2]float32{{-dx, ax - lox}, {dx, hix - ax}, {-dy, ay - loy}, {dy, hiy - ay}} {
		pp, q := e[0], e[1]
		if pp == 0 {
			if q < 0 {
				return 0, 0, 0, 0, false
			}
			continue
		}
		r := q / pp
		if pp < 0 {
			if r > t1 {
				return 0, 0, 0, 0, false
			}
			t0 = max(t0, r)
		} else {
			if r < t0 {
				return 0, 0, 0, 0, false
			}
			t1 = min(t1, r)
		}
	}
	return ax + t0*dx, ay + t0*dy, ax + t1*dx, ay + t1*dy, true
}

// dasher cuts segments into dashes, carrying the pattern's phase from one
// segment to the next.
type dasher struct {
	pattern []float64
	i       int     // index of the current dash or gap
	left    float32 // length left of it; 0 before the first segment
	started bool
}

func (d *dasher) segment(ax, ay, bx, by float32, emit func(ax, ay, bx, by float32)) {
	if !d.started {
		d.started = true
		d.i, d.left = 0, float32(d.pattern[0])
	}
	dx, dy := bx-ax, by-ay
	l := float32(math.Sqrt(float64(dx*dx + dy*dy)))
	if l < 1e-4 {
		return
	}
	pos := float32(0)
	for pos < l {
		step := min(d.left, l-pos)
		if d.i%2 == 0 && step > 0 {
			t0, t1 := pos/l, (pos+step)/l
			emit(ax+t0*dx, ay+t0*dy, ax+t1*dx, ay+t1*dy)
		}
		pos += step
		d.left -= step
		if d.left <= 1e-4 {
			d.i = (d.i + 1) % len(d.pattern)
			d.left = float32(d.pattern[d.i])
			if d.left <= 0 {
				d.left = 1e-3
			}
		}
	}
}

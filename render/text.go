package render

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The Go fonts cover the WGL4 set, Cyrillic included, and are embedded in
// the binary, so labels in Bulgarian need no system font.
var (
	fontOnce sync.Once
	goFont   *opentype.Font
)

func regularFont() *opentype.Font {
	fontOnce.Do(func() {
		f, err := opentype.Parse(goregular.TTF)
		if err != nil {
			panic(err) // an embedded, known-good font
		}
		goFont = f
	})
	return goFont
}

// faces hands out font faces by pixel size for one drawing, with their
// glyphs rasterised once: an opentype face is not safe for concurrent use
// (so each drawing has its own), and it rasterises a glyph anew on every
// call, while a map's labels repeat the same few characters (a parcel's
// identifier is digits and dots) hundreds of times.
type faces map[float64]*face

type face struct {
	font.Face
	glyphs map[rune]*glyph
}

// glyph is a rasterised glyph at an integer pen position: its mask, its
// box relative to the pen, and its advance in whole pixels.
type glyph struct {
	mask *image.Alpha
	box  image.Rectangle
	adv  int
}

func (fs faces) get(size float64) *face {
	if f, ok := fs[size]; ok {
		return f
	}
	f, err := opentype.NewFace(regularFont(), &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err) // sizes are validated to 4..72 pixels
	}
	fc := &face{Face: f, glyphs: map[rune]*glyph{}}
	fs[size] = fc
	return fc
}

func (f *face) glyph(r rune) *glyph {
	if g, ok := f.glyphs[r]; ok {
		return g
	}
	dr, mask, mp, adv, ok := f.Glyph(fixed.Point26_6{}, r)
	if !ok {
		dr, mask, mp, adv, _ = f.Glyph(fixed.Point26_6{}, '?')
	}
	g := &glyph{box: dr, adv: adv.Round(), mask: image.NewAlpha(image.Rect(0, 0, dr.Dx(), dr.Dy()))}
	if mask != nil {
		draw.Draw(g.mask, g.mask.Rect, mask, mp, draw.Src)
	}
	f.glyphs[r] = g
	return g
}

// width returns the advance of s in pixels.
func (f *face) width(s string) int {
	w := 0
	for _, r := range s {
		w += f.glyph(r).adv
	}
	return w
}

// drawString writes s into mask (coverage, the larger of old and new)
// with the pen starting at x, y (baseline).
func (f *face) drawString(mask *image.Alpha, x, y int, s string) {
	for _, r := range s {
		g := f.glyph(r)
		at := g.box.Add(image.Pt(x, y)).Intersect(mask.Rect)
		for py := at.Min.Y; py < at.Max.Y; py++ {
			src := g.mask.Pix[g.mask.PixOffset(at.Min.X-x-g.box.Min.X, py-y-g.box.Min.Y):]
			dst := mask.Pix[mask.PixOffset(at.Min.X, py):]
			for i := 0; i < at.Dx(); i++ {
				dst[i] = max(dst[i], src[i])
			}
		}
		x += g.adv
	}
}

// placedLabel is a label waiting to be drawn, centred on x, y.
type placedLabel struct {
	text  string
	x, y  float32
	style *Label
}

// labeller draws labels above everything else, skipping any that would
// overlap one already drawn or not fit in the image.
type labeller struct {
	faces  faces
	placed []image.Rectangle
	mask   *image.Alpha
}

const haloPx = 2

func (lb *labeller) draw(dst *image.RGBA, l placedLabel) {
	if l.text == "" {
		return
	}
	face := lb.faces.get(l.style.Size)
	adv := face.width(l.text)
	m := face.Metrics()
	asc, desc := m.Ascent.Ceil(), m.Descent.Ceil()
	w, h := adv+2*haloPx, asc+desc+2*haloPx
	x0 := int(l.x) - w/2
	y0 := int(l.y) - h/2
	r := image.Rect(x0, y0, x0+w, y0+h)
	if !r.In(dst.Bounds()) {
		return
	}
	for _, p := range lb.placed {
		if p.Overlaps(r) {
			return
		}
	}
	lb.placed = append(lb.placed, r)
	if lb.mask == nil || lb.mask.Bounds().Dx() < w || lb.mask.Bounds().Dy() < h {
		lb.mask = image.NewAlpha(image.Rect(0, 0, max(w, 256), max(h, 64)))
	} else {
		clear(lb.mask.Pix)
	}
	face.drawString(lb.mask, haloPx, haloPx+asc, l.text)
	mr := image.Rect(0, 0, w, h)
	if l.style.Halo != nil && l.style.Halo.Color.A > 0 {
		halo := image.NewUniform(premultiply(l.style.Halo.Color))
		for _, o := range [...]image.Point{{-1, -1}, {0, -1}, {1, -1}, {-1, 0}, {1, 0}, {-1, 1}, {0, 1}, {1, 1}, {-2, 0}, {2, 0}, {0, -2}, {0, 2}} {
			draw.DrawMask(dst, r.Add(o), halo, image.Point{}, lb.mask, mr.Min, draw.Over)
		}
	}
	draw.DrawMask(dst, r, image.NewUniform(premultiply(l.style.Color)), image.Point{}, lb.mask, mr.Min, draw.Over)
}

// drawText writes s with its left baseline at x, y (legends, messages).
func drawText(dst *image.RGBA, fs faces, size float64, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: fs.get(size).Face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

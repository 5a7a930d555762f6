package render

import (
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"sync"
)

// Format is an output image format.
type Format string

// The formats GetMap and GetLegendGraphic write.
const (
	PNG  Format = "image/png"
	PNG8 Format = "image/png; mode=8bit"
	JPEG Format = "image/jpeg"
)

// Formats lists the image formats, as capabilities advertise them.
var Formats = []Format{PNG, PNG8, JPEG}

// pngBuffers lets the PNG encoder reuse its compression buffers between
// images (image/png's EncoderBufferPool).
type pngBuffers struct{ p sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	v, _ := b.p.Get().(*png.EncoderBuffer)
	return v
}
func (b *pngBuffers) Put(e *png.EncoderBuffer) { b.p.Put(e) }

// pngEncoder writes PNG8 (paletted) images. BestSpeed: a map image
// compresses well anyway (large flat areas), and deflate at the default
// level cost about as much as drawing the map.
var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// Encode writes img in format f. JPEG has no transparency: the image is
// put on bg first.
func Encode(w io.Writer, img *image.RGBA, f Format, bg color.RGBA) error {
	switch f {
	case PNG8:
		return pngEncoder.Encode(w, quantise(img))
	case JPEG:
		bg.A = 255
		flat := image.NewRGBA(img.Bounds())
		draw.Draw(flat, flat.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
		draw.Draw(flat, flat.Bounds(), img, img.Bounds().Min, draw.Over)
		return jpeg.Encode(w, flat, &jpeg.Options{Quality: 85})
	}
	return encodePNG(w, img)
}

// quantise reduces img to at most 256 colours for PNG8 with a fast
// popularity quantiser: colours are counted in buckets of 5 bits per
// colour channel and 4 of alpha, the 256 most frequent buckets become the
// palette (their average colour), and every other bucket maps to its
// nearest palette entry, found once per bucket. A map has few colours
// besides the anti-aliased edges, which land on a near neighbour.
func quantise(img *image.RGBA) *image.Paletted {
	b := img.Bounds()
	key := func(p []uint8) uint32 {
		return uint32(p[0]>>3)<<14 | uint32(p[1]>>3)<<9 | uint32(p[2]>>3)<<4 | uint32(p[3]>>4)
	}
	type bucket struct {
		n          uint32
		r, g, b, a uint64
	}
	buckets := map[uint32]*bucket{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):img.PixOffset(b.Max.X, y)]
		var last uint32 = 1 << 31
		var lb *bucket
		for i := 0; i < len(row); i += 4 {
			k := key(row[i : i+4])
			if k != last {
				lb = buckets[k]
				if lb == nil {
					lb = &bucket{}
					buckets[k] = lb
				}
				last = k
			}
			lb.n++
			lb.r += uint64(row[i])
			lb.g += uint64(row[i+1])
			lb.b += uint64(row[i+2])
			lb.a += uint64(row[i+3])
		}
	}
	keys := make([]uint32, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b uint32) int {
		na, nb := buckets[a].n, buckets[b].n
		switch {
		case na > nb:
			return -1
		case na < nb:
			return 1
		}
		return int(int64(a) - int64(b))
	})
	n := min(len(keys), 256)
	pal := make(color.Palette, n)
	index := make(map[uint32]uint8, len(keys))
	for i := 0; i < n; i++ {
		bk := buckets[keys[i]]
		c := color.RGBA{R: uint8(bk.r / uint64(bk.n)), G: uint8(bk.g / uint64(bk.n)), B: uint8(bk.b / uint64(bk.n)), A: uint8(bk.a / uint64(bk.n))}
		// Premultiplied colours must not exceed their alpha.
		c.R, c.G, c.B = min(c.R, c.A), min(c.G, c.A), min(c.B, c.A)
		pal[i] = c
		index[keys[i]] = uint8(i)
	}
	for _, k := range keys[n:] {
		bk := buckets[k]
		r, g, bl, a := int(bk.r/uint64(bk.n)), int(bk.g/uint64(bk.n)), int(bk.b/uint64(bk.n)), int(bk.a/uint64(bk.n))
		best, bestD := 0, 1<<62
		for i, pc := range pal {
			c := pc.(color.RGBA)
			dr, dg, db, da := r-int(c.R), g-int(c.G), bl-int(c.B), a-int(c.A)
			if d := dr*dr + dg*dg + db*db + 2*da*da; d < bestD {
				best, bestD = i, d
			}
		}
		index[k] = uint8(best)
	}
	out := image.NewPaletted(b, pal)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):img.PixOffset(b.Max.X, y)]
		orow := out.Pix[out.PixOffset(b.Min.X, y):]
		var last uint32 = 1 << 31
		var li uint8
		for i, j := 0, 0; i < len(row); i, j = i+4, j+1 {
			k := key(row[i : i+4])
			if k != last {
				li, last = index[k], k
			}
			orow[j] = li
		}
	}
	return out
}

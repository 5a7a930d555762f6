package render

import (
	"encoding/binary"
	"image/color"
	"math"
	"testing"
)

// wkbPolygon encodes a little-endian WKB polygon of rings of x,y pairs.
func wkbPolygon(rings ...[]float64) []byte {
	b := []byte{1}
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rings)))
	for _, r := range rings {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r)/2))
		for _, v := range r {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

// TestDecodeOrientsRings: the database no longer reorients polygons, so
// the decoder must. Whatever way the rings come wound, a hole stays
// empty, and two neighbours wound opposite ways leave no seam where their
// anti-aliased edge pixels meet.
func TestDecodeOrientsRings(t *testing.T) {
	tr := transform{minX: 0, maxY: 40, sx: 1, sy: 1} // pixel y = 40 − y
	ccw := func(x0, y0, x1, y1 float64) []float64 { return []float64{x0, y0, x1, y0, x1, y1, x0, y1, x0, y0} }
	cw := func(x0, y0, x1, y1 float64) []float64 { return []float64{x0, y0, x0, y1, x1, y1, x1, y0, x0, y0} }
	for name, rings := range map[string][][]float64{
		"both counter-clockwise": {ccw(5, 5, 35, 35), ccw(15, 15, 25, 25)},
		"both clockwise":         {cw(5, 5, 35, 35), cw(15, 15, 25, 25)},
		"outer clockwise":        {cw(5, 5, 35, 35), ccw(15, 15, 25, 25)},
	} {
		cv := newCanvas(40, 40)
		var p path
		p.reset()
		var sh shape
		if err := sh.decode(wkbPolygon(rings...), tr); err != nil {
			t.Fatal(err)
		}
		for _, r := range sh.rings {
			cv.addRing(&p, r)
		}
		cv.fillPath(&p, color.NRGBA{255, 0, 0, 255})
		if c := cv.img.RGBAAt(10, 10); c.A != 255 {
			t.Errorf("%s: inside %v", name, c)
		}
		if c := cv.img.RGBAAt(20, 20); c.A != 0 {
			t.Errorf("%s: hole %v", name, c)
		}
	}
	cv := newCanvas(40, 40)
	var p path
	p.reset()
	var sh shape
	for _, g := range [][]byte{wkbPolygon(ccw(5, 5, 20.5, 35)), wkbPolygon(cw(20.5, 5, 35, 35))} {
		if err := sh.decode(g, tr); err != nil {
			t.Fatal(err)
		}
		for _, r := range sh.rings {
			cv.addRing(&p, r)
		}
	}
	cv.fillPath(&p, color.NRGBA{0, 0, 255, 255})
	if c := cv.img.RGBAAt(20, 20); c.A != 255 {
		t.Errorf("seam between neighbours wound opposite ways: %v", c)
	}
}

// TestReleasedImageIsClear: a map drawn on a reused image starts
// transparent, not with the previous map.
func TestReleasedImageIsClear(t *testing.T) {
	img := newImage(8, 8)
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	Release(img)
	for range 3 { // sync.Pool may drop it; try a few times
		img2 := newImage(4, 4)
		if img2.Bounds().Dx() != 4 || img2.Stride != 16 || len(img2.Pix) != 64 {
			t.Fatalf("reused image has bounds %v stride %d", img2.Bounds(), img2.Stride)
		}
		for _, v := range img2.Pix {
			if v != 0 {
				t.Fatal("reused image not cleared")
			}
		}
		Release(img2)
	}
}

package remote

import (
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"munigis/layers"
)

// The error tile's colours: a pale veil over whatever lies below, a red
// frame and dark red text, readable on any base map.
var (
	tileVeil   = color.NRGBA{R: 255, G: 255, B: 255, A: 150}
	tileFrame  = color.NRGBA{R: 200, G: 30, B: 30, A: 200}
	tileText   = color.NRGBA{R: 150, G: 0, B: 0, A: 255}
	tileFontPt = 12.0
)

// The Go font covers Cyrillic (basicfont is ASCII only) and is embedded in
// x/image, so no system font is needed.
var (
	fontOnce sync.Once
	goFont   *opentype.Font
	fontErr  error
)

// ErrorTile returns a width × height image telling that layer l's remote
// does not answer, in Bulgarian and English:
//
//	Отдалеченият слой <title_bg> не отговаря
//	remote layer <title_en> not responding
//
// wrapped to the width, on a semi-transparent veil with a red frame.
func ErrorTile(l layers.Layer, width, height int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(tileVeil), image.Point{}, draw.Src)
	frame := image.NewUniform(tileFrame)
	for _, r := range []image.Rectangle{
		image.Rect(0, 0, width, 2), image.Rect(0, height-2, width, height),
		image.Rect(0, 0, 2, height), image.Rect(width-2, 0, width, height),
	} {
		draw.Draw(img, r.Intersect(img.Bounds()), frame, image.Point{}, draw.Src)
	}

	fontOnce.Do(func() { goFont, fontErr = opentype.Parse(goregular.TTF) })
	if fontErr != nil {
		return img // cannot happen with the embedded font; the frame still shows
	}
	// A face is not safe for concurrent use: one per tile.
	face, err := opentype.NewFace(goFont, &opentype.FaceOptions{Size: tileFontPt, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return img
	}
	defer face.Close()
	titleBG, titleEN := l.TitleBG, l.TitleEN
	if titleBG == "" {
		titleBG = l.Name
	}
	if titleEN == "" {
		titleEN = l.Name
	}
	d := &font.Drawer{Dst: img, Src: image.NewUniform(tileText), Face: face}
	maxw := fixed.I(width - 12)
	var lines []string
	lines = append(lines, wrap(d, "Отдалеченият слой „"+titleBG+"“ не отговаря", maxw)...)
	lines = append(lines, "")
	lines = append(lines, wrap(d, "remote layer “"+titleEN+"” not responding", maxw)...)

	m := face.Metrics()
	lh := m.Height.Ceil() + 2
	y := (height-lh*len(lines))/2 + m.Ascent.Ceil()
	for _, s := range lines {
		w := d.MeasureString(s)
		x := (fixed.I(width) - w) / 2
		if x < fixed.I(6) {
			x = fixed.I(6)
		}
		d.Dot = fixed.Point26_6{X: x, Y: fixed.I(y)}
		d.DrawString(s)
		y += lh
	}
	return img
}

// wrap breaks s into lines at spaces so that each fits maxw where it can;
// a single word longer than maxw stays whole (and is clipped).
func wrap(d *font.Drawer, s string, maxw fixed.Int26_6) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		if cur != "" && d.MeasureString(try) > maxw {
			lines = append(lines, cur)
			cur = w
			continue
		}
		cur = try
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

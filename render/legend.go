package render

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"

	"munigis/layers"
)

// Legend draws one row per rule group of st: a swatch of swatchW×swatchH
// pixels drawn with the rule's symbolizers (a square patch, a line, a
// marker or "Aa"), then the rule's title. A style of one unnamed rule is
// titled with the layer's title.
func Legend(l layers.Layer, st *Style, swatchW, swatchH int) *image.RGBA {
	if swatchW <= 0 {
		swatchW = 20
	}
	if swatchH <= 0 {
		swatchH = 20
	}
	type row struct {
		title string
		rules []*Rule
	}
	var rows []row
	for i := range st.Rules {
		r := &st.Rules[i]
		if len(rows) > 0 && i > 0 && st.Rules[i-1].Group == r.Group {
			rows[len(rows)-1].rules = append(rows[len(rows)-1].rules, r)
			continue
		}
		title := r.Title
		if title == "" {
			title = r.Name
		}
		rows = append(rows, row{title: title, rules: []*Rule{r}})
	}
	if len(rows) == 1 && rows[0].title == "" {
		rows[0].title = l.TitleBG
	}
	fs := faces{}
	const textSize, gap = 12.0, 4
	textW := 0
	for _, rw := range rows {
		textW = max(textW, font.MeasureString(fs.get(textSize), rw.title).Ceil())
	}
	rowH := max(swatchH, int(textSize)+4) + 2
	w, h := swatchW+gap+textW+gap, rowH*len(rows)
	cv := newCanvas(max(w, 1), max(h, 1))
	defer cv.release()
	draw.Draw(cv.img, cv.img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	kind := geometryKind(l.Type.GeometryType)
	lb := &labeller{faces: fs}
	for i, rw := range rows {
		y0 := float32(i*rowH + 1)
		x0, x1, y1 := float32(1), float32(swatchW-1), y0+float32(swatchH)-2
		for _, r := range rw.rules {
			var sh shape
			sh.reset()
			switch {
			case r.Mark != nil || (kind == kindPoint && r.Label == nil):
				sh.points = []float32{(x0 + x1) / 2, (y0 + y1) / 2}
			case kind == kindLine || (r.Fill == nil && r.Stroke != nil && kind != kindPolygon):
				sh.lines = [][]float32{{x0, (y0 + y1) / 2, x1, (y0 + y1) / 2}}
			default:
				sh.rings = [][]float32{{x0, y0, x0, y1, x1, y1, x1, y0}}
			}
			if r.Label != nil {
				lbl := *r.Label
				lbl.Size = min(lbl.Size, float64(swatchH)-2)
				lb.draw(cv.img, placedLabel{text: "Aa", x: (x0 + x1) / 2, y: (y0 + y1) / 2, style: &lbl})
				continue
			}
			rs := &ruleState{rule: r}
			for _, p := range []*path{&rs.fill, &rs.stroke, &rs.markFill, &rs.markStroke} {
				p.reset()
			}
			if r.Mark != nil && r.Mark.Size > float64(swatchH) {
				m := *r.Mark
				m.Size = float64(swatchH) - 2
				cp := *r
				cp.Mark = &m
				rs.rule = &cp
			}
			applyRule(cv, rs, &sh)
			if r.Fill != nil {
				cv.fillPath(&rs.fill, r.Fill.Color)
			}
			if r.Stroke != nil {
				cv.fillPath(&rs.stroke, r.Stroke.Color)
			}
			if m := rs.rule.Mark; m != nil {
				if m.Fill != nil {
					cv.fillPath(&rs.markFill, m.Fill.Color)
				}
				if m.Stroke != nil {
					cv.fillPath(&rs.markStroke, m.Stroke.Color)
				}
			}
		}
		drawText(cv.img, fs, textSize, swatchW+gap, i*rowH+1+(swatchH+int(textSize))/2-1, rw.title, color.Black)
	}
	return cv.img
}

// MessageImage draws msg in black on bg, wrapped to the width of a w×h
// image: WMS's INIMAGE exception format.
func MessageImage(w, h int, msg string, bg color.NRGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if bg.A > 0 {
		draw.Draw(img, img.Bounds(), image.NewUniform(premultiply(bg)), image.Point{}, draw.Src)
	}
	fs := faces{}
	const size = 12.0
	face := fs.get(size)
	y := int(size) + 2
	line := ""
	flush := func() {
		drawText(img, fs, size, 4, y, line, color.Black)
		y += int(size) + 3
		line = ""
	}
	for _, word := range strings.Fields(msg) {
		next := word
		if line != "" {
			next = line + " " + word
		}
		if font.MeasureString(face, next).Ceil() > w-8 && line != "" {
			flush()
			next = word
		}
		line = next
	}
	if line != "" {
		flush()
	}
	return img
}

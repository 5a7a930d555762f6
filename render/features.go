package render

import (
	"encoding/binary"
	"image"
	"strconv"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/wkb"

	"munigis"
	"munigis/layers"
	"munigis/spatial"
)

// DrawFeatures draws features that did not come from PostGIS (those of a
// layer whose source is another server's WFS) into a new, transparent
// width × height image of the box minX..maxY, given in crs with x =
// easting or longitude, using l's default style with the same rules,
// rasteriser and labeller as Renderer.Map. Geometries must be in crs, x
// first; their SRID is not read.
//
// Features rather than bare geometries are taken because the built-in
// styles are thematic (parcels coloured by land_use, labelled with their
// identifier): a property a feature lacks reads as "", as a NULL does for
// a local layer, so such a feature falls to the style's else rule.
//
// Labels sit at the centre of a feature's box (the local path asks PostGIS
// for ST_PointOnSurface, which a concave polygon may need; without a
// database the centre is the honest approximation).
func DrawFeatures(l layers.Layer, crs spatial.CRS, minX, minY, maxX, maxY float64, width, height int,
	feats []layers.Feature) (*image.RGBA, error) {
	if width <= 0 || height <= 0 || !(maxX > minX) || !(maxY > minY) {
		return nil, munigis.Errorf(munigis.Invalid, "the map needs a positive size and a non-empty box")
	}
	st, _ := StyleFor(l, "")
	scale := ScaleDenominator(crs, minX, minY, maxX, maxY, width)
	t := transform{minX: minX, maxY: maxY, sx: float64(width) / (maxX - minX), sy: float64(height) / (maxY - minY)}
	cv := newCanvas(width, height)
	defer cv.release()

	var rules []*ruleState
	for i := range st.Rules {
		ru := &st.Rules[i]
		if !ru.active(scale) {
			continue
		}
		rs := &ruleState{rule: ru, prop: -1, labelProp: -1, filtered: ru.Filter != nil}
		for _, p := range []*path{&rs.fill, &rs.stroke, &rs.markFill, &rs.markStroke} {
			p.reset()
		}
		rules = append(rules, rs)
	}
	if len(rules) == 0 {
		return cv.img, nil
	}
	var (
		sh     shape
		buf    []byte
		labels []placedLabel
		err    error
	)
	for _, f := range feats {
		if f.Geometry == nil || f.Geometry.Empty() {
			continue
		}
		// Through WKB so that the renderer's one decoder serves both
		// paths: pixel transform, sub-pixel vertices dropped, and rings
		// wound for the non-zero fill (a remote's GeoJSON or GML promises
		// no orientation; TestDrawFeaturesFillsPolygonsAndCutsHoles
		// checks that a hole stays a hole).
		if buf, err = appendWKB(buf[:0], f.Geometry); err != nil {
			return nil, munigis.Wrap(munigis.Invalid, err, "layer %s: feature %d: unreadable geometry", l.Name, f.ID)
		}
		if err := sh.decode(buf, t); err != nil {
			return nil, munigis.Wrap(munigis.Invalid, err, "layer %s: feature %d: unreadable geometry", l.Name, f.ID)
		}
		prop := func(name string) string { return propertyText(f, name) }
		labels = applyRules(cv, rules, &sh, prop, labels)
	}
	paintRules(cv, rules)
	lb := &labeller{faces: faces{}}
	for _, pl := range labels {
		lb.draw(cv.img, pl)
	}
	return cv.img, nil
}

// applyRules adds one feature's shape to the rules that draw it: every
// filtered rule it matches and every unfiltered one, or, when no filtered
// rule matched, the else rules, as drawLayer does for rows from PostGIS
// (which could call this with its columns as prop). It returns labels
// with the feature's labels appended, at the centre of its box.
func applyRules(cv *canvas, rules []*ruleState, sh *shape, prop func(string) string, labels []placedLabel) []placedLabel {
	matched := false
	for pass := 0; pass < 2; pass++ {
		for _, rs := range rules {
			if (pass == 0) == rs.rule.Else {
				continue
			}
			if pass == 1 && matched {
				break
			}
			if rs.filtered && !rs.rule.Filter.match(prop(rs.rule.Filter.Property)) {
				continue
			}
			if rs.filtered {
				matched = true
			}
			applyRule(cv, rs, sh)
			if lbl := rs.rule.Label; lbl != nil {
				labels = append(labels, placedLabel{text: prop(lbl.Property),
					x: (sh.minX + sh.maxX) / 2, y: (sh.minY + sh.maxY) / 2, style: lbl})
			}
		}
	}
	return labels
}

// paintRules rasterises what the rules gathered: all fills, then all
// strokes, then markers, so that outlines stay above every fill.
func paintRules(cv *canvas, rules []*ruleState) {
	for _, rs := range rules {
		if rs.rule.Fill != nil {
			cv.fillPath(&rs.fill, rs.rule.Fill.Color)
		}
	}
	for _, rs := range rules {
		if rs.rule.Stroke != nil {
			cv.fillPath(&rs.stroke, rs.rule.Stroke.Color)
		}
	}
	for _, rs := range rules {
		if m := rs.rule.Mark; m != nil {
			if m.Fill != nil {
				cv.fillPath(&rs.markFill, m.Fill.Color)
			}
			if m.Stroke != nil {
				cv.fillPath(&rs.markStroke, m.Stroke.Color)
			}
		}
	}
}

// propertyText is a property as the style's filters and labels compare
// it: the text PostgreSQL's ::text gives, "" for a missing or null value.
// A number from JSON is a float64; 12 must read "12", as an integer
// column does.
func propertyText(f layers.Feature, name string) string {
	if name == "id" {
		return strconv.FormatInt(f.ID, 10)
	}
	switch v := f.Properties[name].(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	default:
		return ""
	}
}

func appendWKB(dst []byte, g geom.T) ([]byte, error) {
	b, err := wkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

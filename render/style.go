package render

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"munigis"
	"munigis/layers"
)

// Style is a named way of drawing a layer: an ordered list of rules.
type Style struct {
	Name     string
	Title    string
	Abstract string
	Rules    []Rule
}

// Rule draws the features its filter matches with one symbolizer (a
// fill+stroke, a stroke, a point marker or a label). An SLD rule with
// several symbolizers becomes several Rules with the same Group, so that a
// legend shows one swatch per SLD rule.
type Rule struct {
	Group int
	Name  string
	Title string
	// MinScale and MaxScale are scale denominators; the rule applies when
	// MinScale <= scale < MaxScale (0 = no bound), as in SLD.
	MinScale, MaxScale float64
	// Filter, when set, selects the features the rule draws.
	Filter *Filter
	// Else makes the rule draw the features no filtered rule of the style
	// matched (SLD's ElseFilter).
	Else bool

	Fill   *Fill   // polygons
	Stroke *Stroke // polygon outlines and lines
	Mark   *Mark   // points
	Label  *Label  // text at the feature
}

// Filter compares a property with a literal: equality, or a prefix match
// (an SLD PropertyIsLike whose only wildcard is at the end).
type Filter struct {
	Property string
	Value    string
	Prefix   bool
}

func (f *Filter) match(v string) bool {
	if f.Prefix {
		return strings.HasPrefix(v, f.Value)
	}
	return v == f.Value
}

// Fill paints an area.
type Fill struct{ Color color.NRGBA }

// Stroke draws a line of Width pixels, dashed when Dash is set (lengths in
// pixels, on and off in turn).
type Stroke struct {
	Color color.NRGBA
	Width float64
	Dash  []float64
}

// Mark is a point marker: a circle or a square of Size pixels.
type Mark struct {
	Shape  string // "circle" or "square"
	Size   float64
	Fill   *Fill
	Stroke *Stroke
}

// Label writes a property's value at the feature.
type Label struct {
	Property string
	Size     float64 // pixels
	Color    color.NRGBA
	Halo     *Fill // a 1.5-pixel halo behind the text
}

// active reports whether r applies at scale denominator s.
func (r *Rule) active(s float64) bool {
	return (r.MinScale <= 0 || s >= r.MinScale) && (r.MaxScale <= 0 || s < r.MaxScale)
}

// Properties returns the properties the style reads (filters and labels),
// each once.
func (s *Style) Properties() []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, r := range s.Rules {
		if r.Filter != nil {
			add(r.Filter.Property)
		}
		if r.Label != nil {
			add(r.Label.Property)
		}
	}
	return out
}

// Check verifies that every property the style reads is among attrs (the
// attributes the caller may see), so that a style cannot reveal a hidden
// field through colours or labels. Returns munigis.Invalid naming the
// first property that is not.
func (s *Style) Check(l layers.Layer, attrs []layers.Attribute) error {
	for _, p := range s.Properties() {
		ok := p == "id"
		for _, a := range attrs {
			ok = ok || a.Name == p
		}
		if !ok {
			return munigis.Errorf(munigis.Invalid, "style %q reads property %q, which layer %s does not have", s.Name, p, l.Name)
		}
	}
	return nil
}

// ParseColor reads "#rrggbb" or "#rgb" with an opacity from 0 to 1.
func ParseColor(s string, opacity float64) (color.NRGBA, error) {
	s = strings.TrimSpace(s)
	h, ok := strings.CutPrefix(s, "#")
	if !ok {
		return color.NRGBA{}, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		return color.NRGBA{}, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return color.NRGBA{}, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	if opacity < 0 || opacity > 1 {
		return color.NRGBA{}, fmt.Errorf("opacity %v: want a number from 0 to 1", opacity)
	}
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: uint8(opacity*255 + 0.5)}, nil
}

// mustColor is ParseColor for the built-in styles' literals.
func mustColor(s string, opacity float64) color.NRGBA {
	c, err := ParseColor(s, opacity)
	if err != nil {
		panic(err)
	}
	return c
}

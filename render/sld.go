package render

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"munigis"
)

// Limits on an SLD document: a style is a few kilobytes; anything much
// bigger or deeper is a mistake or an attack.
const (
	MaxSLDBytes = 64 << 10
	maxSLDDepth = 32
)

// NamedLayer is one NamedLayer of an SLD document: the layer it styles and
// its user styles, or the name of a named (built-in) style.
type NamedLayer struct {
	Layer      string
	Styles     []*Style
	NamedStyle string
}

// The XML shapes of the SLD 1.0.0 subset munigis reads. encoding/xml
// matches local names, so the sld:, se: and ogc: prefixes all work.
type xmlSLD struct {
	NamedLayers []xmlNamedLayer `xml:"NamedLayer"`
	UserLayers  []struct{}      `xml:"UserLayer"`
}

type xmlNamedLayer struct {
	Name        string         `xml:"Name"`
	NamedStyles []xmlNameOnly  `xml:"NamedStyle"`
	UserStyles  []xmlUserStyle `xml:"UserStyle"`
}

type xmlNameOnly struct {
	Name string `xml:"Name"`
}

type xmlUserStyle struct {
	Name     string `xml:"Name"`
	Title    string `xml:"Title"`
	Abstract string `xml:"Abstract"`
	FTS      []struct {
		Rules []xmlRule `xml:"Rule"`
	} `xml:"FeatureTypeStyle"`
}

type xmlRule struct {
	Name     string     `xml:"Name"`
	Title    string     `xml:"Title"`
	Filter   *xmlFilter `xml:"Filter"`
	Else     *struct{}  `xml:"ElseFilter"`
	MinScale string     `xml:"MinScaleDenominator"`
	MaxScale string     `xml:"MaxScaleDenominator"`
	Polygons []struct {
		Fill   *xmlParams `xml:"Fill"`
		Stroke *xmlParams `xml:"Stroke"`
	} `xml:"PolygonSymbolizer"`
	Lines []struct {
		Stroke *xmlParams `xml:"Stroke"`
	} `xml:"LineSymbolizer"`
	Points []struct {
		Graphic struct {
			Mark struct {
				WellKnownName string     `xml:"WellKnownName"`
				Fill          *xmlParams `xml:"Fill"`
				Stroke        *xmlParams `xml:"Stroke"`
			} `xml:"Mark"`
			Size string `xml:"Size"`
		} `xml:"Graphic"`
	} `xml:"PointSymbolizer"`
	Texts []struct {
		Label struct {
			Property string `xml:"PropertyName"`
		} `xml:"Label"`
		Font *xmlParams `xml:"Font"`
		Halo *struct {
			Fill *xmlParams `xml:"Fill"`
		} `xml:"Halo"`
		Fill *xmlParams `xml:"Fill"`
	} `xml:"TextSymbolizer"`
}

type xmlFilter struct {
	Equal *xmlCompare `xml:"PropertyIsEqualTo"`
	Like  *struct {
		WildCard string `xml:"wildCard,attr"`
		Property string `xml:"PropertyName"`
		Literal  string `xml:"Literal"`
	} `xml:"PropertyIsLike"`
	Other []xml.Name `xml:",any"`
}

type xmlCompare struct {
	Property string `xml:"PropertyName"`
	Literal  string `xml:"Literal"`
}

type xmlParams struct {
	Params []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"CssParameter"`
	SvgParams []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"SvgParameter"`
}

func (p *xmlParams) get(name string) string {
	if p == nil {
		return ""
	}
	for _, c := range p.Params {
		if c.Name == name {
			return strings.TrimSpace(c.Value)
		}
	}
	for _, c := range p.SvgParams {
		if c.Name == name {
			return strings.TrimSpace(c.Value)
		}
	}
	return ""
}

// ParseSLD reads an SLD 1.0.0 StyledLayerDescriptor: NamedLayers with
// UserStyles (FeatureTypeStyle/Rule with Name, Title, Min/MaxScaleDenominator,
// an ogc:Filter of one PropertyIsEqualTo or a PropertyIsLike with a
// trailing wildcard, ElseFilter, and Polygon-, Line-, Point- and
// TextSymbolizers) or a NamedStyle. A document with a DOCTYPE is refused
// (no DTDs, no entities), as is one bigger than MaxSLDBytes or nested
// deeper than 32 elements. Errors are munigis.Invalid and name the
// problem.
func ParseSLD(r io.Reader) ([]NamedLayer, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSLDBytes+1))
	if err != nil {
		return nil, munigis.Errorf(munigis.Invalid, "SLD: cannot be read")
	}
	if len(data) > MaxSLDBytes {
		return nil, munigis.Errorf(munigis.Invalid, "SLD: larger than %d bytes", MaxSLDBytes)
	}
	if err := checkXML(data); err != nil {
		return nil, err
	}
	var doc xmlSLD
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, munigis.Errorf(munigis.Invalid, "SLD: not well-formed XML: %v", err)
	}
	if len(doc.UserLayers) > 0 {
		return nil, munigis.Errorf(munigis.Invalid, "SLD: UserLayer is not supported; use NamedLayer with the name of a layer")
	}
	if len(doc.NamedLayers) == 0 {
		return nil, munigis.Errorf(munigis.Invalid, "SLD: no NamedLayer (want StyledLayerDescriptor/NamedLayer/UserStyle)")
	}
	var out []NamedLayer
	for _, nl := range doc.NamedLayers {
		name := strings.TrimSpace(nl.Name)
		if name == "" {
			return nil, munigis.Errorf(munigis.Invalid, "SLD: a NamedLayer has no Name")
		}
		l := NamedLayer{Layer: name}
		for _, ns := range nl.NamedStyles {
			l.NamedStyle = strings.TrimSpace(ns.Name)
		}
		for i, us := range nl.UserStyles {
			st, err := convertStyle(us)
			if err != nil {
				return nil, munigis.Errorf(munigis.Invalid, "SLD: layer %s, UserStyle %d: %v", name, i+1, err)
			}
			l.Styles = append(l.Styles, st)
		}
		if l.NamedStyle == "" && len(l.Styles) == 0 {
			return nil, munigis.Errorf(munigis.Invalid, "SLD: layer %s has neither a UserStyle nor a NamedStyle", name)
		}
		out = append(out, l)
	}
	return out, nil
}

// checkXML walks the document's tokens once, refusing a DOCTYPE (or any
// other directive) and nesting deeper than maxSLDDepth, before
// encoding/xml builds anything from it.
func checkXML(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return munigis.Errorf(munigis.Invalid, "SLD: not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(string(t))), "DOCTYPE") {
				return munigis.Errorf(munigis.Invalid, "SLD: a DOCTYPE is not allowed (no DTDs or entities)")
			}
			return munigis.Errorf(munigis.Invalid, "SLD: XML directives are not allowed")
		case xml.StartElement:
			depth++
			if depth > maxSLDDepth {
				return munigis.Errorf(munigis.Invalid, "SLD: elements nested deeper than %d", maxSLDDepth)
			}
		case xml.EndElement:
			depth--
		}
	}
}

func convertStyle(us xmlUserStyle) (*Style, error) {
	st := &Style{Name: strings.TrimSpace(us.Name), Title: strings.TrimSpace(us.Title), Abstract: strings.TrimSpace(us.Abstract)}
	if st.Name == "" {
		st.Name = "sld"
	}
	group := 0
	for _, fts := range us.FTS {
		for ri, xr := range fts.Rules {
			base := Rule{Group: group, Name: strings.TrimSpace(xr.Name), Title: strings.TrimSpace(xr.Title), Else: xr.Else != nil}
			group++
			var err error
			if base.MinScale, err = scaleOf(xr.MinScale, "MinScaleDenominator"); err != nil {
				return nil, fmt.Errorf("rule %d: %v", ri+1, err)
			}
			if base.MaxScale, err = scaleOf(xr.MaxScale, "MaxScaleDenominator"); err != nil {
				return nil, fmt.Errorf("rule %d: %v", ri+1, err)
			}
			if xr.Filter != nil {
				if base.Filter, err = convertFilter(xr.Filter); err != nil {
					return nil, fmt.Errorf("rule %d: %v", ri+1, err)
				}
			}
			n := len(st.Rules)
			for _, p := range xr.Polygons {
				r := base
				if p.Fill != nil {
					f, err := fillOf(p.Fill, "fill", "fill-opacity", "#808080")
					if err != nil {
						return nil, fmt.Errorf("rule %d: PolygonSymbolizer: %v", ri+1, err)
					}
					r.Fill = f
				}
				if p.Stroke != nil {
					if r.Stroke, err = strokeOf(p.Stroke); err != nil {
						return nil, fmt.Errorf("rule %d: PolygonSymbolizer: %v", ri+1, err)
					}
				}
				st.Rules = append(st.Rules, r)
			}
			for _, l := range xr.Lines {
				r := base
				if r.Stroke, err = strokeOf(l.Stroke); err != nil {
					return nil, fmt.Errorf("rule %d: LineSymbolizer: %v", ri+1, err)
				}
				st.Rules = append(st.Rules, r)
			}
			for _, p := range xr.Points {
				r := base
				m := &Mark{Shape: strings.ToLower(strings.TrimSpace(p.Graphic.Mark.WellKnownName)), Size: 6}
				switch m.Shape {
				case "":
					m.Shape = "square" // SLD's default mark
				case "circle", "square":
				default:
					return nil, fmt.Errorf("rule %d: PointSymbolizer: WellKnownName %q: supported are circle and square", ri+1, m.Shape)
				}
				if s := strings.TrimSpace(p.Graphic.Size); s != "" {
					v, err := strconv.ParseFloat(s, 64)
					if err != nil || v <= 0 || v > 200 {
						return nil, fmt.Errorf("rule %d: PointSymbolizer: Size %q: want a number of pixels from 0 to 200", ri+1, s)
					}
					m.Size = v
				}
				if p.Graphic.Mark.Fill != nil {
					if m.Fill, err = fillOf(p.Graphic.Mark.Fill, "fill", "fill-opacity", "#808080"); err != nil {
						return nil, fmt.Errorf("rule %d: PointSymbolizer: %v", ri+1, err)
					}
				}
				if p.Graphic.Mark.Stroke != nil {
					if m.Stroke, err = strokeOf(p.Graphic.Mark.Stroke); err != nil {
						return nil, fmt.Errorf("rule %d: PointSymbolizer: %v", ri+1, err)
					}
				}
				if m.Fill == nil && m.Stroke == nil {
					m.Fill = &Fill{Color: mustColor("#808080", 1)}
				}
				r.Mark = m
				st.Rules = append(st.Rules, r)
			}
			for _, t := range xr.Texts {
				r := base
				prop := strings.TrimSpace(t.Label.Property)
				if prop == "" {
					return nil, fmt.Errorf("rule %d: TextSymbolizer: Label needs an ogc:PropertyName", ri+1)
				}
				lb := &Label{Property: prop, Size: 10, Color: mustColor("#000000", 1)}
				if s := t.Font.get("font-size"); s != "" {
					v, err := strconv.ParseFloat(s, 64)
					if err != nil || v < 4 || v > 72 {
						return nil, fmt.Errorf("rule %d: TextSymbolizer: font-size %q: want a number from 4 to 72", ri+1, s)
					}
					lb.Size = v
				}
				if t.Fill != nil {
					f, err := fillOf(t.Fill, "fill", "fill-opacity", "#000000")
					if err != nil {
						return nil, fmt.Errorf("rule %d: TextSymbolizer: %v", ri+1, err)
					}
					lb.Color = f.Color
				}
				if t.Halo != nil {
					lb.Halo = &Fill{Color: mustColor("#ffffff", 1)}
					if t.Halo.Fill != nil {
						if lb.Halo, err = fillOf(t.Halo.Fill, "fill", "fill-opacity", "#ffffff"); err != nil {
							return nil, fmt.Errorf("rule %d: TextSymbolizer Halo: %v", ri+1, err)
						}
					}
				}
				r.Label = lb
				st.Rules = append(st.Rules, r)
			}
			if len(st.Rules) == n {
				return nil, fmt.Errorf("rule %d has no symbolizer (Polygon-, Line-, Point- or TextSymbolizer)", ri+1)
			}
		}
	}
	if len(st.Rules) == 0 {
		return nil, errors.New("no FeatureTypeStyle/Rule")
	}
	return st, nil
}

func scaleOf(s, what string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%s %q is not a non-negative number", what, s)
	}
	return v, nil
}

func convertFilter(f *xmlFilter) (*Filter, error) {
	switch {
	case f.Equal != nil:
		p := strings.TrimSpace(f.Equal.Property)
		if p == "" {
			return nil, errors.New("PropertyIsEqualTo needs a PropertyName")
		}
		return &Filter{Property: p, Value: f.Equal.Literal}, nil
	case f.Like != nil:
		p := strings.TrimSpace(f.Like.Property)
		wc := f.Like.WildCard
		if wc == "" {
			wc = "*"
		}
		prefix, ok := strings.CutSuffix(f.Like.Literal, wc)
		if p == "" || !ok || strings.Contains(prefix, wc) {
			return nil, errors.New("PropertyIsLike: only a PropertyName with a Literal ending in the wildCard is supported")
		}
		return &Filter{Property: p, Value: prefix, Prefix: true}, nil
	}
	for _, o := range f.Other {
		if o.Local != "PropertyIsEqualTo" && o.Local != "PropertyIsLike" {
			return nil, fmt.Errorf("ogc:Filter: %s is not supported (PropertyIsEqualTo and PropertyIsLike are)", o.Local)
		}
	}
	return nil, errors.New("ogc:Filter is empty")
}

func fillOf(p *xmlParams, colourName, opacityName, def string) (*Fill, error) {
	c := p.get(colourName)
	if c == "" {
		c = def
	}
	op, err := opacityOf(p.get(opacityName), opacityName)
	if err != nil {
		return nil, err
	}
	col, err := ParseColor(c, op)
	if err != nil {
		return nil, err
	}
	return &Fill{Color: col}, nil
}

func opacityOf(s, what string) (float64, error) {
	if s == "" {
		return 1, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("%s %q: want a number from 0 to 1", what, s)
	}
	return v, nil
}

func strokeOf(p *xmlParams) (*Stroke, error) {
	c := p.get("stroke")
	if c == "" {
		c = "#000000"
	}
	op, err := opacityOf(p.get("stroke-opacity"), "stroke-opacity")
	if err != nil {
		return nil, err
	}
	col, err := ParseColor(c, op)
	if err != nil {
		return nil, err
	}
	s := &Stroke{Color: col, Width: 1}
	if w := p.get("stroke-width"); w != "" {
		v, err := strconv.ParseFloat(w, 64)
		if err != nil || v < 0 || v > 100 {
			return nil, fmt.Errorf("stroke-width %q: want a number of pixels from 0 to 100", w)
		}
		s.Width = v
	}
	if d := p.get("stroke-dasharray"); d != "" {
		for _, f := range strings.FieldsFunc(d, func(r rune) bool { return r == ' ' || r == ',' }) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil || v < 0 || v > 1000 {
				return nil, fmt.Errorf("stroke-dasharray %q: want numbers of pixels", d)
			}
			s.Dash = append(s.Dash, v)
		}
		total := 0.0
		for _, v := range s.Dash {
			total += v
		}
		if len(s.Dash)%2 == 1 {
			s.Dash = append(s.Dash, s.Dash...)
		}
		if total < 0.5 {
			s.Dash = nil
		}
	}
	return s, nil
}

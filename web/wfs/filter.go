package wfs

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"munigis/layers"
)

// geomProperty is the name of every feature type's geometry property.
const geomProperty = "geom"

// filterParser turns an FES 2.0 fes:Filter or an OGC Filter 1.1 ogc:Filter
// into a layers.Filter for one layer. Element names are matched by local
// name, so fes:ValueReference and ogc:PropertyName, fes:ResourceId and
// ogc:FeatureId / ogc:GmlObjectId are read alike whatever the version.
// Property names are checked by the store against the attributes the caller
// may see; this parser only strips prefixes and paths.
type filterParser struct {
	layer string
	geoms geometryParser
}

// parse reads the content of a Filter element.
func (p filterParser) parse(filter *node) (layers.Filter, error) {
	if len(filter.children) == 0 {
		return nil, invalidParam("Filter", "the Filter is empty")
	}
	// Identifier filters come as a run of sibling elements.
	var ids layers.IDs
	var others []*node
	for _, c := range filter.children {
		switch c.name.Local {
		case "ResourceId", "FeatureId", "GmlObjectId":
			rid := c.attr("rid")
			if c.name.Local == "FeatureId" {
				rid = c.attr("fid")
			} else if c.name.Local == "GmlObjectId" {
				rid = c.attr("id")
			}
			id, ok := p.featureID(rid)
			if !ok {
				continue // another type's id matches nothing here
			}
			ids = append(ids, id)
		default:
			others = append(others, c)
		}
	}
	switch {
	case len(others) == 0:
		if ids == nil {
			ids = layers.IDs{}
		}
		return ids, nil
	case len(others) > 1 || len(ids) > 0:
		return nil, invalidParam("Filter", "a Filter holds one operator (combine several with And or Or) or only ResourceIds")
	}
	return p.op(others[0])
}

// featureID reads "<layer>.<id>" for this layer.
func (p filterParser) featureID(rid string) (int64, bool) {
	name, num, ok := strings.Cut(strings.TrimSpace(rid), ".")
	if !ok || localTypeName(name) != p.layer {
		return 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return id, err == nil
}

var compareOps = map[string]layers.CompareOp{
	"PropertyIsEqualTo":              layers.Eq,
	"PropertyIsNotEqualTo":           layers.Ne,
	"PropertyIsLessThan":             layers.Lt,
	"PropertyIsLessThanOrEqualTo":    layers.Le,
	"PropertyIsGreaterThan":          layers.Gt,
	"PropertyIsGreaterThanOrEqualTo": layers.Ge,
}

var spatialOps = map[string]layers.SpatialOp{
	"BBOX": layers.BBoxOp, "Intersects": layers.Intersects, "Within": layers.Within,
	"Contains": layers.Contains, "Disjoint": layers.Disjoint, "Touches": layers.Touches,
	"Crosses": layers.Crosses, "Overlaps": layers.Overlaps, "Equals": layers.Equals,
	"DWithin": layers.DWithin, "Beyond": layers.Beyond,
}

func (p filterParser) op(n *node) (layers.Filter, error) {
	name := n.name.Local
	if op, ok := compareOps[name]; ok {
		prop, lit, err := p.propertyAndLiteral(n)
		if err != nil {
			return nil, err
		}
		return layers.Compare{Property: prop, Op: op, Value: lit, MatchCase: matchCase(n)}, nil
	}
	if op, ok := spatialOps[name]; ok {
		return p.spatial(n, op)
	}
	switch name {
	case "And", "Or":
		if len(n.children) < 2 {
			return nil, invalidParam(name, name+" needs at least two operands")
		}
		var fs []layers.Filter
		for _, c := range n.children {
			f, err := p.op(c)
			if err != nil {
				return nil, err
			}
			fs = append(fs, f)
		}
		if name == "And" {
			return layers.And(fs), nil
		}
		return layers.Or(fs), nil
	case "Not":
		if len(n.children) != 1 {
			return nil, invalidParam("Not", "Not needs exactly one operand")
		}
		f, err := p.op(n.children[0])
		if err != nil {
			return nil, err
		}
		return layers.Not{F: f}, nil
	case "PropertyIsLike":
		prop, lit, err := p.propertyAndLiteral(n)
		if err != nil {
			return nil, err
		}
		like := layers.Like{Property: prop, Pattern: lit, MatchCase: matchCase(n)}
		for _, a := range []struct {
			names []string
			dst   *rune
		}{{[]string{"wildCard"}, &like.Wildcard}, {[]string{"singleChar"}, &like.SingleChar}, {[]string{"escapeChar", "escape"}, &like.Escape}} {
			for _, an := range a.names {
				if v := n.attr(an); v != "" {
					if utf8.RuneCountInString(v) != 1 {
						return nil, invalidParam(an, fmt.Sprintf("PropertyIsLike %s must be one character, not %q", an, v))
					}
					*a.dst, _ = utf8.DecodeRuneInString(v)
				}
			}
		}
		return like, nil
	case "PropertyIsNull", "PropertyIsNil":
		prop, err := p.property(n)
		if err != nil {
			return nil, err
		}
		return layers.IsNull{Property: prop}, nil
	case "PropertyIsBetween":
		prop, err := p.property(n)
		if err != nil {
			return nil, err
		}
		lo, hi := n.child("LowerBoundary"), n.child("UpperBoundary")
		if lo == nil || hi == nil || lo.child("Literal") == nil || hi.child("Literal") == nil {
			return nil, invalidParam("PropertyIsBetween", "PropertyIsBetween needs LowerBoundary and UpperBoundary, each with a Literal")
		}
		return layers.Between{Property: prop, Lower: strings.TrimSpace(lo.child("Literal").text), Upper: strings.TrimSpace(hi.child("Literal").text)}, nil
	case "ResourceId", "FeatureId", "GmlObjectId":
		return p.parse(&node{name: n.name, children: []*node{n}})
	}
	return nil, invalidParam(name, fmt.Sprintf("filter operator %s is not supported; Filter_Capabilities in GetCapabilities lists the supported ones", name))
}

func matchCase(n *node) bool {
	return !strings.EqualFold(strings.TrimSpace(n.attr("matchCase")), "false")
}

// property returns the attribute named by the ValueReference or
// PropertyName child.
func (p filterParser) property(n *node) (string, error) {
	for _, c := range n.children {
		if c.name.Local == "ValueReference" || c.name.Local == "PropertyName" {
			return propertyName(c.text), nil
		}
	}
	return "", invalidParam(n.name.Local, n.name.Local+" needs a ValueReference (PropertyName in Filter 1.1)")
}

func (p filterParser) propertyAndLiteral(n *node) (string, string, error) {
	prop, err := p.property(n)
	if err != nil {
		return "", "", err
	}
	lit := n.child("Literal")
	if lit == nil {
		return "", "", invalidParam(n.name.Local, n.name.Local+" needs a Literal")
	}
	if prop == geomProperty {
		return "", "", invalidParam(n.name.Local, "the geometry cannot be compared with "+n.name.Local+"; use a spatial operator")
	}
	return prop, strings.TrimSpace(lit.text), nil
}

// propertyName reduces an XPath such as munigis:parcels/munigis:area_m2 or
// a prefixed name to the attribute name; @gml:id names the feature id.
func propertyName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	if s == "@gml:id" || s == "@id" {
		return "id"
	}
	return localTypeName(s)
}

func (p filterParser) spatial(n *node, op layers.SpatialOp) (layers.Filter, error) {
	var g *node
	var dist *node
	for _, c := range n.children {
		switch c.name.Local {
		case "ValueReference", "PropertyName":
			if pn := propertyName(c.text); pn != geomProperty {
				return nil, invalidParam(n.name.Local, fmt.Sprintf("%s applies to the geometry property %q, not %q", n.name.Local, geomProperty, pn))
			}
		case "Distance":
			dist = c
		default:
			g = c
		}
	}
	if g == nil {
		return nil, invalidParam(n.name.Local, n.name.Local+" needs a GML geometry (or gml:Envelope)")
	}
	geometry, err := p.geoms.parse(g)
	if err != nil {
		return nil, err
	}
	f := layers.Spatial{Op: op, Geometry: geometry}
	if op == layers.DWithin || op == layers.Beyond {
		if dist == nil {
			return nil, invalidParam(n.name.Local, n.name.Local+" needs a Distance")
		}
		d, err := strconv.ParseFloat(strings.TrimSpace(dist.text), 64)
		if err != nil || d < 0 {
			return nil, invalidParam("Distance", fmt.Sprintf("distance %q is not a non-negative number", dist.text))
		}
		unit := dist.attr("uom")
		if unit == "" {
			unit = dist.attr("units")
		}
		factor, ok := metres[strings.ToLower(strings.TrimSpace(unit))]
		if !ok {
			return nil, invalidParam("uom", fmt.Sprintf("distance unit %q is not supported: use m, km, ft or mi", unit))
		}
		f.Distance = d * factor
	}
	return f, nil
}

// metres converts the distance units clients send (UCUM codes, names and
// URNs) to metres. An empty unit means metres, the unit of every projected
// CRS munigis serves.
var metres = map[string]float64{
	"": 1, "m": 1, "metre": 1, "meter": 1, "metres": 1, "meters": 1, "urn:ogc:def:uom:epsg::9001": 1,
	"km": 1000, "kilometre": 1000, "kilometer": 1000, "kilometers": 1000,
	"ft": 0.3048, "[ft_i]": 0.3048, "feet": 0.3048, "mi": 1609.344, "[mi_i]": 1609.344, "miles": 1609.344,
}

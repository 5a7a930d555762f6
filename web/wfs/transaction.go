package wfs

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/layers"
	"munigis/spatial"
)

// action is one Insert (of one feature), Update, Replace or Delete of a
// Transaction, parsed and checked before anything is written.
type action struct {
	kind    string // Insert, Update, Replace, Delete
	handle  string
	locator string // for error reports: the handle, else e.g. "Update 2"
	layer   layers.Layer
	geom    geom.T // Insert, Replace; Update when setGeom
	setGeom bool
	props   map[string]any
	filter  layers.Filter
	ids     []int64 // Replace
}

func (s *Service) transaction(w http.ResponseWriter, req *request) error {
	ctx := req.r.Context()
	v := req.viewer
	// Refusing the public before reading anything further means nothing
	// about the layers is revealed and nothing can change.
	if !v.SignedIn() {
		return &owsError{code: "OperationProcessingFailed", locator: "Transaction", status: http.StatusForbidden,
			msg: "transactions need a signed-in user with edit rights (send an API token: Authorization: Bearer ...)"}
	}
	var actions []*action
	counts := map[string]int{}
	for _, n := range req.xml.children {
		kind := n.name.Local
		switch kind {
		case "Insert", "Update", "Replace", "Delete":
		default:
			return invalidParam(kind, fmt.Sprintf("transaction action %s is not supported: use Insert, Update, Replace or Delete", kind))
		}
		counts[kind]++
		loc := n.attr("handle")
		if loc == "" {
			loc = kind + " " + strconv.Itoa(counts[kind])
		}
		as, err := s.parseAction(ctx, req, n, kind, loc)
		if err != nil {
			return err
		}
		actions = append(actions, as...)
	}
	if len(actions) == 0 {
		return invalidParam("Transaction", "the Transaction holds no Insert, Update, Replace or Delete")
	}
	for _, a := range actions {
		if !v.CanEdit(a.layer) {
			return &owsError{code: "OperationProcessingFailed", locator: a.locator, status: http.StatusForbidden,
				msg: fmt.Sprintf("you may not edit %s:%s", Prefix, a.layer.Name)}
		}
	}

	type result struct{ handle, rid string }
	var inserted, replaced []result
	var nUpdated, nDeleted int64
	ctx = munigis.WithActor(ctx, v.SystemID)
	err := s.d.Layers.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		for _, a := range actions {
			var err error
			switch a.kind {
			case "Insert":
				var id int64
				if id, err = e.Insert(ctx, a.layer, a.geom, a.props); err == nil {
					inserted = append(inserted, result{a.handle, a.layer.Name + "." + strconv.FormatInt(id, 10)})
				}
			case "Update":
				var g geom.T
				if a.setGeom {
					g = a.geom
				}
				var n int64
				n, err = e.Update(ctx, a.layer, a.filter, g, a.props)
				nUpdated += n
			case "Replace":
				for _, id := range a.ids {
					if err = e.Replace(ctx, a.layer, id, a.geom, a.props); err != nil {
						break
					}
					replaced = append(replaced, result{a.handle, a.layer.Name + "." + strconv.FormatInt(id, 10)})
				}
			case "Delete":
				var n int64
				n, err = e.Delete(ctx, a.layer, a.filter)
				nDeleted += n
			}
			if err != nil {
				return &actionError{locator: a.locator, err: err}
			}
		}
		return nil
	})
	if err != nil {
		if ae, ok := err.(*actionError); ok {
			oe := asOWS(ae.err, ae.locator)
			if oe.status < 500 {
				oe.msg = ae.locator + ": " + oe.msg + " (nothing was changed)"
			}
			return oe
		}
		return err
	}

	var b strings.Builder
	b.WriteString(xmlHeader)
	if req.version == v110 {
		b.WriteString(`<wfs:TransactionResponse xmlns:wfs="http://www.opengis.net/wfs" xmlns:ogc="http://www.opengis.net/ogc" version="1.1.0">`)
		fmt.Fprintf(&b, `<wfs:TransactionSummary><wfs:totalInserted>%d</wfs:totalInserted><wfs:totalUpdated>%d</wfs:totalUpdated><wfs:totalDeleted>%d</wfs:totalDeleted></wfs:TransactionSummary>`,
			len(inserted), nUpdated+int64(len(replaced)), nDeleted)
		b.WriteString(`<wfs:TransactionResults/>`)
		if len(inserted) > 0 {
			b.WriteString(`<wfs:InsertResults>`)
			for _, r := range inserted {
				b.WriteString(`<wfs:Feature` + handleAttr(r.handle) + `><ogc:FeatureId fid="` + esc(r.rid) + `"/></wfs:Feature>`)
			}
			b.WriteString(`</wfs:InsertResults>`)
		}
	} else {
		b.WriteString(`<wfs:TransactionResponse xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" version="2.0.0">`)
		fmt.Fprintf(&b, `<wfs:TransactionSummary><wfs:totalInserted>%d</wfs:totalInserted><wfs:totalUpdated>%d</wfs:totalUpdated><wfs:totalReplaced>%d</wfs:totalReplaced><wfs:totalDeleted>%d</wfs:totalDeleted></wfs:TransactionSummary>`,
			len(inserted), nUpdated, len(replaced), nDeleted)
		for _, set := range []struct {
			elem string
			rs   []result
		}{{"InsertResults", inserted}, {"ReplaceResults", replaced}} {
			if len(set.rs) == 0 {
				continue
			}
			b.WriteString(`<wfs:` + set.elem + `>`)
			for _, r := range set.rs {
				b.WriteString(`<wfs:Feature` + handleAttr(r.handle) + `><fes:ResourceId rid="` + esc(r.rid) + `"/></wfs:Feature>`)
			}
			b.WriteString(`</wfs:` + set.elem + `>`)
		}
	}
	b.WriteString(`</wfs:TransactionResponse>` + "\n")
	return writeXML(w, req, b.String())
}

func handleAttr(h string) string {
	if h == "" {
		return ""
	}
	return ` handle="` + esc(h) + `"`
}

// actionError carries which action of a transaction failed.
type actionError struct {
	locator string
	err     error
}

func (e *actionError) Error() string { return e.locator + ": " + e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// defaultCRS is the CRS of geometries that name none: the action's srsName,
// else the storage CRS, as the capabilities' DefaultCRS says.
func defaultCRS(n *node) (spatial.CRS, error) {
	name := n.attr("srsName")
	if name == "" {
		name = "urn:ogc:def:crs:EPSG::7801"
	}
	c, err := spatial.ParseCRS(name)
	if err != nil {
		return c, invalidParam("srsName", err.Error())
	}
	return c, nil
}

func (s *Service) parseAction(ctx context.Context, req *request, n *node, kind, loc string) ([]*action, error) {
	crs, err := defaultCRS(n)
	if err != nil {
		return nil, err
	}
	geoms := geometryParser{def: crs}
	switch kind {
	case "Insert":
		if len(n.children) == 0 {
			return nil, invalidParam(loc, "Insert holds no feature")
		}
		var out []*action
		for i, fn := range n.children {
			floc := loc
			if len(n.children) > 1 {
				floc = fmt.Sprintf("%s feature %d", loc, i+1)
			}
			a := &action{kind: kind, handle: n.attr("handle"), locator: floc}
			l, err := s.visibleLayer(ctx, req, fn.name.Local, floc)
			if err != nil {
				return nil, err
			}
			a.layer = l
			if a.geom, a.props, err = featureContent(req, l, fn, geoms, floc); err != nil {
				return nil, err
			}
			if a.geom == nil {
				return nil, invalidParam(floc, fmt.Sprintf("the inserted %s:%s has no %s", Prefix, l.Name, geomProperty))
			}
			out = append(out, a)
		}
		return out, nil
	case "Replace":
		var feature, filter *node
		for _, c := range n.children {
			if c.name.Local == "Filter" {
				filter = c
			} else if feature == nil {
				feature = c
			}
		}
		if feature == nil || filter == nil {
			return nil, invalidParam(loc, "Replace needs a feature and a Filter")
		}
		l, err := s.visibleLayer(ctx, req, feature.name.Local, loc)
		if err != nil {
			return nil, err
		}
		a := &action{kind: kind, handle: n.attr("handle"), locator: loc, layer: l}
		if a.geom, a.props, err = featureContent(req, l, feature, geoms, loc); err != nil {
			return nil, err
		}
		if a.geom == nil {
			return nil, invalidParam(loc, fmt.Sprintf("the replacing %s:%s has no %s", Prefix, l.Name, geomProperty))
		}
		f, err := filterParser{layer: l.Name, geoms: geoms}.parse(filter)
		if err != nil {
			return nil, err
		}
		ids, ok := f.(layers.IDs)
		if !ok || len(ids) == 0 {
			return nil, invalidParam(loc, "Replace needs a Filter of fes:ResourceId naming features of "+Prefix+":"+l.Name)
		}
		a.ids = ids
		return []*action{a}, nil
	}

	// Update and Delete name their type in an attribute.
	tn := n.attr("typeName")
	if tn == "" {
		tn = n.attr("typeNames")
	}
	if tn == "" {
		return nil, missingParam(loc, kind+" needs the typeName attribute")
	}
	l, err := s.visibleLayer(ctx, req, tn, loc)
	if err != nil {
		return nil, err
	}
	a := &action{kind: kind, handle: n.attr("handle"), locator: loc, layer: l}
	if fn := n.child("Filter"); fn != nil {
		if a.filter, err = (filterParser{layer: l.Name, geoms: geoms}).parse(fn); err != nil {
			return nil, err
		}
	} else if kind == "Delete" {
		return nil, missingParam(loc, "Delete needs a Filter")
	} else {
		a.filter = layers.And{} // an Update without a Filter changes every feature (WFS 2.0, 15.2.5.2.1)
	}
	if kind == "Delete" {
		return []*action{a}, nil
	}
	attrs := map[string]layers.Attribute{}
	for _, at := range req.viewer.Attributes(l) {
		attrs[at.Name] = at
	}
	a.props = map[string]any{}
	for _, p := range n.all("Property") {
		var name string
		var value *node
		for _, c := range p.children {
			switch c.name.Local {
			case "ValueReference", "Name":
				name = propertyName(c.text)
			case "Value":
				value = c
			}
		}
		if name == "" {
			return nil, invalidParam(loc, "each Update Property needs a ValueReference (Name in 1.1.0)")
		}
		if name == geomProperty {
			if value == nil || len(value.children) == 0 {
				return nil, invalidParam(loc, "the geometry cannot be removed")
			}
			g, err := geoms.parse(value.children[0])
			if err != nil {
				return nil, err
			}
			a.geom, a.setGeom = g, true
			continue
		}
		at, ok := attrs[name]
		if !ok {
			return nil, invalidParam(loc, fmt.Sprintf("feature type %s:%s has no property %q", Prefix, l.Name, name))
		}
		if value == nil {
			a.props[name] = nil
			continue
		}
		v, err := layers.ParseValue(at, strings.TrimSpace(value.text))
		if err != nil {
			return nil, asOWS(err, loc)
		}
		a.props[name] = v
	}
	if len(a.props) == 0 && !a.setGeom {
		return nil, invalidParam(loc, "Update changes no Property")
	}
	return []*action{a}, nil
}

// featureContent reads a feature element of an Insert or Replace: its
// geometry and typed attribute values. Elements of the GML namespace
// (boundedBy, name, description) are ignored; any other unknown element is
// an error naming it.
func featureContent(req *request, l layers.Layer, fn *node, geoms geometryParser, loc string) (geom.T, map[string]any, error) {
	attrs := map[string]layers.Attribute{}
	for _, at := range req.viewer.Attributes(l) {
		attrs[at.Name] = at
	}
	props := map[string]any{}
	var g geom.T
	for _, c := range fn.children {
		if c.name.Space == nsGML32 || c.name.Space == nsGML311 {
			continue
		}
		name := c.name.Local
		if name == geomProperty {
			if len(c.children) != 1 {
				return nil, nil, invalidParam(loc, fmt.Sprintf("%s must hold one GML geometry", geomProperty))
			}
			var err error
			if g, err = geoms.parse(c.children[0]); err != nil {
				return nil, nil, err
			}
			continue
		}
		at, ok := attrs[name]
		if !ok {
			return nil, nil, invalidParam(loc, fmt.Sprintf("feature type %s:%s has no property %q", Prefix, l.Name, name))
		}
		if strings.EqualFold(c.attr("nil"), "true") {
			props[name] = nil
			continue
		}
		v, err := layers.ParseValue(at, strings.TrimSpace(c.text))
		if err != nil {
			return nil, nil, asOWS(err, loc)
		}
		props[name] = v
	}
	return g, props, nil
}

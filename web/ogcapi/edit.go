package ogcapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/geojson"

	"munigis"
	"munigis/access"
	"munigis/layers"
	"munigis/spatial"
)

// Part 4 (create, replace, update, delete). Every change goes through
// layers.Store.Edit in one transaction with the acting user set, so the
// database triggers version, audit and announce it to the tile caches like
// any other edit.

// editor returns the caller if they may edit l. The collection was already
// resolved for the caller, so a layer they may not even read is 404 before
// this; here the public gets 401 (sign in) and a reader without an edit
// grant 403.
func editor(ctx context.Context, l layers.Layer) (access.Viewer, error) {
	v := access.FromContext(ctx)
	if v.CanEdit(l) {
		return v, nil
	}
	if !v.SignedIn() {
		return v, munigis.Errorf(munigis.Unauthorized, "sign in (session or API token) to change features of %s", l.Name)
	}
	return v, munigis.Errorf(munigis.Forbidden, "you may read %s but not change it; ask an administrator for an edit grant", l.Name)
}

// readBody reads a JSON request body of at most MaxBodyBytes. The media
// type must be one of allowed (or absent); anything else is 415.
func (s *Service) readBody(w http.ResponseWriter, r *http.Request, allowed ...string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		ok := false
		for _, a := range allowed {
			ok = ok || (err == nil && mt == a)
		}
		if !ok {
			return nil, munigis.Errorf(codeUnsupportedMedia, "send the body as %s, not %s", strings.Join(allowed, " or "), ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.d.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, munigis.Wrap(munigis.Invalid, err, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, munigis.Errorf(munigis.Invalid, "the request body is empty; send a GeoJSON Feature")
	}
	return body, nil
}

// requestCRS reads the Content-Crs header of a request body (Part 2/4),
// "<uri>" or a bare identifier; absent means CRS84.
func requestCRS(r *http.Request) (spatial.CRS, error) {
	h := strings.TrimSpace(r.Header.Get("Content-Crs"))
	h = strings.TrimSuffix(strings.TrimPrefix(h, "<"), ">")
	c, err := parseCRSParam("Content-Crs", h)
	if err != nil {
		return c, munigis.Wrap(munigis.Invalid, err, "header %s", munigis.ErrorMessage(err))
	}
	return c, nil
}

// featureIn is a GeoJSON Feature (or, for PATCH, a merge patch of one) as
// a client sends it. Other members (bbox, links, foreign members) are
// allowed by GeoJSON and ignored.
type featureIn struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

func decodeFeature(body []byte) (featureIn, error) {
	var f featureIn
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&f); err != nil {
		return f, munigis.Wrap(munigis.Invalid, err, "the body is not a GeoJSON Feature: %s", jsonProblem(err))
	}
	if dec.More() {
		return f, munigis.Errorf(munigis.Invalid, "the body holds more than one JSON value; send one GeoJSON Feature")
	}
	return f, nil
}

// jsonProblem describes a JSON decoding error for a client: its own
// message, which names the offset or the field and never holds server data.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("member %q must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return err.Error()
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return k
}

// readGeometry decodes a GeoJSON geometry given in crs, checks its shape
// and returns it with x = easting/longitude and its SRID set, as the store
// wants it. The store checks the geometry type against the layer's.
func readGeometry(raw json.RawMessage, crs spatial.CRS, l layers.Layer) (geom.T, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, munigis.Errorf(munigis.Invalid, "the feature has no geometry; %s needs a %s", l.Name, l.Type.GeometryType)
	}
	var gj geojson.Geometry
	if err := json.Unmarshal(raw, &gj); err != nil {
		return nil, munigis.Wrap(munigis.Invalid, err, "geometry: %s", jsonProblem(err))
	}
	if gj.Type == "" {
		return nil, munigis.Errorf(munigis.Invalid, "geometry: the member \"type\" is missing")
	}
	g, err := gj.Decode()
	if err != nil {
		var ut geojson.ErrUnsupportedType
		if errors.As(err, &ut) {
			return nil, munigis.Errorf(munigis.Invalid, "geometry: type %q is not a GeoJSON geometry type", gj.Type)
		}
		return nil, munigis.Wrap(munigis.Invalid, err, "geometry (%s): the coordinates do not fit the type: %s", gj.Type, err.Error())
	}
	if err := checkShape(g); err != nil {
		return nil, munigis.Errorf(munigis.Invalid, "geometry (%s): %s", gj.Type, err.Error())
	}
	if crs.AxisNorthingFirst(true) {
		swapFlat(g)
	}
	return setSRID(g, crs.SRID)
}

// checkShape refuses what PostGIS would refuse with a less helpful message:
// no coordinates, heights (layers are 2D), too short lines and rings, and
// rings that are not closed.
func checkShape(g geom.T) error {
	if g.Empty() {
		return errors.New("it has no coordinates")
	}
	if g.Layout() != geom.XY {
		return fmt.Errorf("positions must have 2 numbers (x and y in the CRS's axis order), not %d", g.Stride())
	}
	line := func(flat []float64, what string) error {
		if len(flat)/2 < 2 {
			return fmt.Errorf("%s has %d position(s); it needs at least 2", what, len(flat)/2)
		}
		return nil
	}
	ring := func(flat []float64, what string) error {
		n := len(flat) / 2
		if n < 4 {
			return fmt.Errorf("%s has %d positions; a linear ring needs at least 4", what, n)
		}
		if flat[0] != flat[len(flat)-2] || flat[1] != flat[len(flat)-1] {
			return fmt.Errorf("%s is not closed: its last position must repeat its first", what)
		}
		return nil
	}
	polygon := func(p *geom.Polygon, what string) error {
		for i := 0; i < p.NumLinearRings(); i++ {
			if err := ring(p.LinearRing(i).FlatCoords(), fmt.Sprintf("%sring %d", what, i+1)); err != nil {
				return err
			}
		}
		return nil
	}
	switch g := g.(type) {
	case *geom.LineString:
		return line(g.FlatCoords(), "the line")
	case *geom.MultiLineString:
		for i := 0; i < g.NumLineStrings(); i++ {
			if err := line(g.LineString(i).FlatCoords(), fmt.Sprintf("line %d", i+1)); err != nil {
				return err
			}
		}
	case *geom.Polygon:
		return polygon(g, "")
	case *geom.MultiPolygon:
		for i := 0; i < g.NumPolygons(); i++ {
			if err := polygon(g.Polygon(i), fmt.Sprintf("polygon %d, ", i+1)); err != nil {
				return err
			}
		}
	case *geom.GeometryCollection:
		return errors.New("a GeometryCollection cannot be stored in a layer; send the layer's geometry type")
	}
	return nil
}

func setSRID(g geom.T, srid int) (geom.T, error) {
	switch g := g.(type) {
	case *geom.Point:
		return g.SetSRID(srid), nil
	case *geom.MultiPoint:
		return g.SetSRID(srid), nil
	case *geom.LineString:
		return g.SetSRID(srid), nil
	case *geom.MultiLineString:
		return g.SetSRID(srid), nil
	case *geom.Polygon:
		return g.SetSRID(srid), nil
	case *geom.MultiPolygon:
		return g.SetSRID(srid), nil
	}
	return nil, munigis.Errorf(munigis.Invalid, "geometry: type %T cannot be stored", g)
}

// readOnlyProps are the bookkeeping properties munigis writes itself. A
// client that sends back a feature it read may include them; they are
// ignored, as Part 4 says of read-only properties.
var readOnlyProps = map[string]bool{"version": true, "created_at": true, "created_by": true,
	"updated_at": true, "updated_by": true, "id": true}

// readProperties turns the properties member into typed attribute values
// for the store: only attributes the caller may see, each value checked by
// its type (layers.ParseValue). null clears an attribute. A missing or
// null member gives no properties.
func readProperties(raw json.RawMessage, l layers.Layer, attrs []layers.Attribute) (map[string]any, error) {
	out := map[string]any{}
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return out, nil
	}
	var in map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return nil, munigis.Wrap(munigis.Invalid, err, "properties must be a JSON object: %s", jsonProblem(err))
	}
	byName := map[string]layers.Attribute{}
	names := make([]string, 0, len(attrs))
	for _, a := range attrs {
		byName[a.Name] = a
		names = append(names, a.Name)
	}
	for k, v := range in {
		if readOnlyProps[k] {
			continue
		}
		a, ok := byName[k]
		if !ok {
			return nil, munigis.Errorf(munigis.Invalid, "unknown property %q: collection %s has %s", k, l.Name, strings.Join(names, ", "))
		}
		val, err := propertyValue(a, v)
		if err != nil {
			return nil, err
		}
		out[k] = val
	}
	return out, nil
}

// propertyValue converts one JSON value for attribute a. Strings and
// numbers go through layers.ParseValue, so "12" and 12 are the same integer
// and a date is YYYY-MM-DD; booleans only fit boolean attributes.
func propertyValue(a layers.Attribute, v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return parseValue(a, v)
	case json.Number:
		switch a.Type {
		case layers.Integer, layers.Number:
			return parseValue(a, v.String())
		}
		return nil, munigis.Errorf(munigis.Invalid, "property %q is %s: send a JSON string, not the number %s", a.Name, a.Type, v.String())
	case bool:
		if a.Type == layers.Boolean {
			return v, nil
		}
		return nil, munigis.Errorf(munigis.Invalid, "property %q is %s, not a boolean", a.Name, a.Type)
	}
	return nil, munigis.Errorf(munigis.Invalid, "property %q must be a single value, not an object or array", a.Name)
}

func parseValue(a layers.Attribute, s string) (any, error) {
	v, err := layers.ParseValue(a, s)
	if err != nil {
		if munigis.ErrorCode(err) == munigis.Invalid {
			return nil, err
		}
		return nil, munigis.Wrap(munigis.Invalid, err, "property %q: %q is not a valid %s", a.Name, s, a.Type)
	}
	return v, nil
}

// readFeature reads a whole feature body (POST, PUT) for l.
func (s *Service) readFeature(w http.ResponseWriter, r *http.Request, l layers.Layer, v access.Viewer) (featureIn, geom.T, map[string]any, error) {
	body, err := s.readBody(w, r, mtGeoJSON, mtJSON)
	if err != nil {
		return featureIn{}, nil, nil, err
	}
	f, err := decodeFeature(body)
	if err != nil {
		return f, nil, nil, err
	}
	if f.Type != "Feature" {
		return f, nil, nil, munigis.Errorf(munigis.Invalid, "the body must be a GeoJSON Feature (\"type\": \"Feature\"), not %q", f.Type)
	}
	crs, err := requestCRS(r)
	if err != nil {
		return f, nil, nil, err
	}
	g, err := readGeometry(f.Geometry, crs, l)
	if err != nil {
		return f, nil, nil, err
	}
	props, err := readProperties(f.Properties, l, v.Attributes(l))
	return f, g, props, err
}

func itemURL(r *http.Request, l layers.Layer, id int64) string {
	return baseURL(r) + "/collections/" + url.PathEscape(l.Name) + "/items/" + strconv.FormatInt(id, 10)
}

// handleCreate answers POST /collections/{id}/items: 201 with the new
// feature's Location. An id in the body is ignored: munigis assigns ids
// (Part 4 lets the server do so).
func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request, l layers.Layer) error {
	v, err := editor(r.Context(), l)
	if err != nil {
		return err
	}
	_, g, props, err := s.readFeature(w, r, l, v)
	if err != nil {
		return err
	}
	ctx := munigis.WithActor(r.Context(), v.SystemID)
	var id int64
	err = s.d.Layers.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		id, err = e.Insert(ctx, l, g, props)
		return err
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", itemURL(r, l, id))
	w.WriteHeader(http.StatusCreated)
	return nil
}

// handleReplace answers PUT /collections/{id}/items/{fid}: the feature
// becomes the body (attributes not sent are cleared). 204; 404 when there
// is no such feature (munigis does not create features by PUT).
func (s *Service) handleReplace(w http.ResponseWriter, r *http.Request, l layers.Layer, fid string) error {
	v, err := editor(r.Context(), l)
	if err != nil {
		return err
	}
	id, err := parseFID(l, fid)
	if err != nil {
		return err
	}
	f, g, props, err := s.readFeature(w, r, l, v)
	if err != nil {
		return err
	}
	if len(f.ID) > 0 && string(f.ID) != "null" {
		bodyID := strings.Trim(string(bytes.TrimSpace(f.ID)), `"`)
		if bodyID != strconv.FormatInt(id, 10) {
			return munigis.Errorf(munigis.Invalid, "the body's id %s differs from the feature %d in the URL", string(f.ID), id)
		}
	}
	ctx := munigis.WithActor(r.Context(), v.SystemID)
	err = s.d.Layers.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		return e.Replace(ctx, l, id, g, props)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleUpdate answers PATCH /collections/{id}/items/{fid} with a JSON
// Merge Patch (RFC 7396) of the GeoJSON feature: the properties sent
// change (null clears one), the others stay; a geometry, if sent, replaces
// the old one. 204.
func (s *Service) handleUpdate(w http.ResponseWriter, r *http.Request, l layers.Layer, fid string) error {
	v, err := editor(r.Context(), l)
	if err != nil {
		return err
	}
	id, err := parseFID(l, fid)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r, "application/merge-patch+json", mtGeoJSON, mtJSON)
	if err != nil {
		return err
	}
	f, err := decodeFeature(body)
	if err != nil {
		return err
	}
	if f.Type != "" && f.Type != "Feature" {
		return munigis.Errorf(munigis.Invalid, "the patch's \"type\" must be \"Feature\" or absent, not %q", f.Type)
	}
	var g geom.T
	if len(f.Geometry) > 0 {
		crs, err := requestCRS(r)
		if err != nil {
			return err
		}
		if g, err = readGeometry(f.Geometry, crs, l); err != nil {
			return err
		}
	}
	props, err := readProperties(f.Properties, l, v.Attributes(l))
	if err != nil {
		return err
	}
	if g == nil && len(props) == 0 {
		return munigis.Errorf(munigis.Invalid, "the patch changes nothing: send \"properties\" and/or \"geometry\"")
	}
	ctx := munigis.WithActor(r.Context(), v.SystemID)
	var n int64
	err = s.d.Layers.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		n, err = e.Update(ctx, l, layers.IDs{id}, g, props)
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return munigis.Errorf(munigis.NotFound, "collection %s has no feature %d", l.Name, id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleDelete answers DELETE /collections/{id}/items/{fid}: 204, or 404
// when there is no such feature. The feature's versions stay in history.
func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request, l layers.Layer, fid string) error {
	v, err := editor(r.Context(), l)
	if err != nil {
		return err
	}
	id, err := parseFID(l, fid)
	if err != nil {
		return err
	}
	ctx := munigis.WithActor(r.Context(), v.SystemID)
	var n int64
	err = s.d.Layers.Edit(ctx, func(ctx context.Context, e *layers.Edit) error {
		n, err = e.Delete(ctx, l, layers.IDs{id})
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return munigis.Errorf(munigis.NotFound, "collection %s has no feature %d", l.Name, id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

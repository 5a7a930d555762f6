package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb/geojson"

	"munigis"
	"munigis/access"
	"munigis/layers"
	"munigis/spatial"
)

type layerJSON struct {
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	TitleBG    string             `json:"title_bg"`
	TitleEN    string             `json:"title_en"`
	AbstractBG string             `json:"abstract_bg,omitempty"`
	AbstractEN string             `json:"abstract_en,omitempty"`
	Visibility layers.Visibility  `json:"visibility"`
	Geometry   string             `json:"geometry_type"`
	MinZoom    int                `json:"min_zoom"`
	MaxZoom    int                `json:"max_zoom"`
	Style      string             `json:"style,omitempty"`
	Source     string             `json:"source"`
	SourceURL  string             `json:"source_url,omitempty"`
	Attributes []layers.Attribute `json:"attributes"`
	layers.Stats
	Links []link `json:"links"`
}

func (s *Server) layerJSON(r *http.Request, v access.Viewer, l layers.Layer) (layerJSON, error) {
	st, err := s.layers.Stats(r.Context(), l)
	if err != nil {
		return layerJSON{}, err
	}
	style := l.Style
	if style == "" {
		style = l.Type.DefaultStyle
	}
	return layerJSON{
		Name: l.Name, Type: l.TypeName, TitleBG: l.TitleBG, TitleEN: l.TitleEN,
		AbstractBG: l.AbstractBG, AbstractEN: l.AbstractEN, Visibility: l.Visibility,
		Geometry: l.Type.GeometryType, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Style: style,
		Source: l.Source, SourceURL: l.SourceURL, Attributes: v.Attributes(l), Stats: st,
		Links: []link{
			{Href: "/api/layers/" + l.Name, Rel: "self", Type: "application/json"},
			{Href: "/api/layers/" + l.Name + "/features", Rel: "items", Type: "application/geo+json"},
		},
	}, nil
}

// visibleLayer returns the named layer if the caller may see it. A layer the
// caller may not see is NotFound, exactly like one that does not exist, so
// its name does not leak.
func (s *Server) visibleLayer(r *http.Request, name string) (layers.Layer, access.Viewer, error) {
	v := access.FromContext(r.Context())
	l, err := s.layers.Layer(r.Context(), name)
	if err != nil {
		return l, v, err
	}
	if !v.CanRead(l) {
		return layers.Layer{}, v, munigis.Errorf(munigis.NotFound, "layer %q does not exist", name)
	}
	return l, v, nil
}

func (s *Server) handleLayerList(w http.ResponseWriter, r *http.Request) error {
	v := access.FromContext(r.Context())
	all, err := s.layers.Layers(r.Context())
	if err != nil {
		return err
	}
	out := []layerJSON{}
	for _, l := range all {
		if !v.CanRead(l) {
			continue
		}
		lj, err := s.layerJSON(r, v, l)
		if err != nil {
			return err
		}
		out = append(out, lj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"layers": out})
	return nil
}

func (s *Server) handleLayerGet(w http.ResponseWriter, r *http.Request) error {
	l, v, err := s.visibleLayer(r, mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	lj, err := s.layerJSON(r, v, l)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, lj)
	return nil
}

// handleFeatureList answers GET /api/layers/{name}/features with a GeoJSON
// FeatureCollection. Query: bbox=minx,miny,maxx,maxy (x = easting or
// longitude, whatever bbox-crs), bbox-crs (default CRS84), crs (output,
// default CRS84), limit (1..10000, default 100), offset.
func (s *Server) handleFeatureList(w http.ResponseWriter, r *http.Request) error {
	l, v, err := s.visibleLayer(r, mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	q := layers.Query{Attributes: v.Attributes(l)}
	params := r.URL.Query()
	if q.SRID, err = crsParam(params.Get("crs"), "crs"); err != nil {
		return err
	}
	if q.BBoxSRID, err = crsParam(params.Get("bbox-crs"), "bbox-crs"); err != nil {
		return err
	}
	if b := params.Get("bbox"); b != "" {
		crs, _ := spatial.ParseCRS("EPSG:" + strconv.Itoa(q.BBoxSRID))
		if strings.Count(b, ",") != 3 {
			// A fifth element (WFS style, with its own axis order) is not
			// taken here: one way to say the CRS is enough.
			return munigis.Errorf(munigis.Invalid, "bbox: give four numbers minx,miny,maxx,maxy (x = easting or longitude) and the CRS in bbox-crs")
		}
		box, err := spatial.ParseBBox(b, crs, false)
		if err != nil {
			return munigis.Wrap(munigis.Invalid, err, "bbox: %s", err.Error())
		}
		q.BBox = &box
	}
	if q.Limit, err = intParam(params.Get("limit"), "limit", layers.DefaultLimit); err != nil {
		return err
	}
	if q.Limit < 1 || q.Limit > layers.MaxLimit {
		return munigis.Errorf(munigis.Invalid, "limit must be between 1 and %d", layers.MaxLimit)
	}
	if q.Offset, err = intParam(params.Get("offset"), "offset", 0); err != nil {
		return err
	}
	fc := geojson.NewFeatureCollection()
	err = s.layers.Features(r.Context(), l, q, func(f layers.Feature) error {
		gf, err := featureJSON(f)
		if err != nil {
			return err
		}
		fc.Append(gf)
		return nil
	})
	if err != nil {
		return err
	}
	links := []link{{Href: r.URL.RequestURI(), Rel: "self", Type: "application/geo+json"}}
	if len(fc.Features) == q.Limit {
		links = append(links, link{Href: withQuery(r.URL, map[string]string{
			"offset": strconv.Itoa(q.Offset + q.Limit), "limit": strconv.Itoa(q.Limit)}),
			Rel: "next", Type: "application/geo+json"})
	}
	if q.Offset > 0 {
		prev := max(q.Offset-q.Limit, 0)
		links = append(links, link{Href: withQuery(r.URL, map[string]string{
			"offset": strconv.Itoa(prev), "limit": strconv.Itoa(q.Limit)}),
			Rel: "prev", Type: "application/geo+json"})
	}
	fc.ExtraMembers = geojson.Properties{
		"numberReturned": len(fc.Features),
		"links":          links,
	}
	if c := crsMember(q.SRID); c != nil {
		fc.ExtraMembers["crs"] = c
	}
	return writeGeoJSON(w, fc)
}

func (s *Server) handleFeatureGet(w http.ResponseWriter, r *http.Request) error {
	l, v, err := s.visibleLayer(r, mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	srid, err := crsParam(r.URL.Query().Get("crs"), "crs")
	if err != nil {
		return err
	}
	f, err := s.layers.Feature(r.Context(), l, id, srid, v.Attributes(l))
	if err != nil {
		return err
	}
	gf, err := featureJSON(f)
	if err != nil {
		return err
	}
	if c := crsMember(srid); c != nil {
		gf.ExtraMembers = geojson.Properties{"crs": c}
	}
	return writeGeoJSON(w, gf)
}

// handleFeatureHistory lists the earlier versions of a feature (a deleted
// feature's versions too), with the attributes the caller may see.
func (s *Server) handleFeatureHistory(w http.ResponseWriter, r *http.Request) error {
	l, v, err := s.visibleLayer(r, mux.Vars(r)["name"])
	if err != nil {
		return err
	}
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	srid, err := crsParam(r.URL.Query().Get("crs"), "crs")
	if err != nil {
		return err
	}
	versions, err := s.layers.History(r.Context(), l, id, srid)
	if err != nil {
		return err
	}
	allowed := map[string]bool{}
	for _, a := range v.Attributes(l) {
		allowed[a.Name] = true
	}
	out := []map[string]any{}
	for _, ver := range versions {
		props := map[string]any{}
		for k, val := range ver.Properties {
			if allowed[k] {
				props[k] = val
			}
		}
		g, err := spatial.ToOrb(ver.Geometry)
		if err != nil {
			return err
		}
		out = append(out, map[string]any{
			"version": ver.Version, "properties": props, "geometry": geojson.NewGeometry(g),
			"valid_from": ver.ValidFrom.UTC().Format("2006-01-02T15:04:05Z"), "created_by": ver.CreatedBy,
			"valid_to": ver.ValidTo.UTC().Format("2006-01-02T15:04:05Z"), "ended_by": ver.EndedBy, "ended_how": ver.EndedHow,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"layer": l.Name, "feature_id": id, "versions": out})
	return nil
}

func (s *Server) handleTypeList(w http.ResponseWriter, r *http.Request) error {
	v := access.FromContext(r.Context())
	all, err := s.layers.Types(r.Context())
	if err != nil {
		return err
	}
	lays, err := s.layers.Layers(r.Context())
	if err != nil {
		return err
	}
	// A caller sees the types of the layers they may read (a built-in type
	// shares its layer's name, so listing it would name an internal layer),
	// and staff see them all.
	used := map[string]bool{}
	for _, l := range lays {
		if v.CanRead(l) {
			used[l.TypeName] = true
		}
	}
	out := []layers.Type{}
	for _, t := range all {
		if !v.CanEditCatalog() && !used[t.Name] {
			continue
		}
		t.Attributes = v.Attributes(layers.Layer{Type: t})
		out = append(out, t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"layer_types": out})
	return nil
}

func (s *Server) handleTypeCreate(w http.ResponseWriter, r *http.Request) error {
	if !access.FromContext(r.Context()).CanEditCatalog() {
		return munigis.Errorf(munigis.Forbidden, "only staff may define layer types")
	}
	var t layers.Type
	if err := s.decode(w, r, &t); err != nil {
		return err
	}
	t.BuiltIn = false
	if err := s.layers.CreateType(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

type layerCreate struct {
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	TitleBG     string            `json:"title_bg"`
	TitleEN     string            `json:"title_en"`
	AbstractBG  string            `json:"abstract_bg"`
	AbstractEN  string            `json:"abstract_en"`
	Visibility  layers.Visibility `json:"visibility"`
	MinZoom     int               `json:"min_zoom"`
	MaxZoom     int               `json:"max_zoom"`
	Style       string            `json:"style"`
	Source      string            `json:"source"`
	SourceURL   string            `json:"source_url"`
	SourceLayer string            `json:"source_layer"`
}

func (s *Server) handleLayerCreate(w http.ResponseWriter, r *http.Request) error {
	v := access.FromContext(r.Context())
	if !v.CanEditCatalog() {
		return munigis.Errorf(munigis.Forbidden, "only staff may create layers")
	}
	var in layerCreate
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	l := layers.Layer{Name: in.Name, TypeName: in.Type, TitleBG: in.TitleBG, TitleEN: in.TitleEN,
		AbstractBG: in.AbstractBG, AbstractEN: in.AbstractEN, Visibility: in.Visibility,
		MinZoom: in.MinZoom, MaxZoom: in.MaxZoom, Style: in.Style, Source: in.Source,
		SourceURL: in.SourceURL, SourceLayer: in.SourceLayer}
	if err := s.layers.CreateLayer(r.Context(), l); err != nil {
		return err
	}
	created, err := s.layers.Layer(r.Context(), l.Name)
	if err != nil {
		return err
	}
	lj, err := s.layerJSON(r, v, created)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/layers/"+l.Name)
	writeJSON(w, http.StatusCreated, lj)
	return nil
}

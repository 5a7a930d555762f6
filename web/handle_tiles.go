package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"munigis"
	"munigis/access"
	"munigis/layers"
	"munigis/tiles"
)

// TileStore builds and caches vector tiles (package tiles, *tiles.Tiler).
type TileStore interface {
	// Layer returns a catalog entry from the tiler's in-memory catalog
	// (munigis.NotFound when missing); tiles are served without a catalog
	// query per request.
	Layer(ctx context.Context, name string) (layers.Layer, error)
	Tile(ctx context.Context, r tiles.Request) (tiles.Tile, error)
}

// maxTileLayers caps the layers of one multi-layer tile request.
const maxTileLayers = 32

// validLayerName matches ^[a-z][a-z0-9_]{0,62}$ without a regular
// expression: it runs once per layer of every tile request.
func validLayerName(name string) bool {
	if len(name) == 0 || len(name) > 63 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// tilePath splits /tiles/{name}/{z}/{x}/{y}.mvt. It is how both the router's
// tile route and the server's shortcut for tiles (Server.dispatch) read a
// tile URL, so the two cannot disagree.
func tilePath(path string) (name, z, x, y string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/tiles/")
	if !ok {
		return "", "", "", "", false
	}
	if rest, ok = strings.CutSuffix(rest, ".mvt"); !ok {
		return "", "", "", "", false
	}
	var parts [4]string
	for i := 3; i > 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if j < 0 {
			return "", "", "", "", false
		}
		parts[i], rest = rest[j+1:], rest[:j]
	}
	parts[0] = rest
	for _, p := range parts {
		if p == "" || strings.IndexByte(p, '/') >= 0 {
			return "", "", "", "", false
		}
	}
	return parts[0], parts[1], parts[2], parts[3], true
}

// tileLayers resolves the comma-separated layer list of a tile URL. A layer
// the caller may not read is NotFound exactly like a missing one. It also
// reports whether the answer is private: any layer internal, or any
// internal field shown (to staff), so that no shared cache keeps it.
func (s *Server) tileLayers(r *http.Request, list string) ([]tiles.LayerSpec, bool, error) {
	v := access.FromContext(r.Context())
	names := strings.Split(list, ",")
	if len(names) > maxTileLayers {
		return nil, false, munigis.Errorf(munigis.Invalid, "a tile may combine at most %d layers", maxTileLayers)
	}
	specs := make([]tiles.LayerSpec, 0, len(names))
	internal := false
	for i, name := range names {
		if !validLayerName(name) {
			return nil, false, munigis.Errorf(munigis.NotFound, "layer %q does not exist", name)
		}
		if slices.Contains(names[:i], name) {
			return nil, false, munigis.Errorf(munigis.Invalid, "layer %q is named twice", name)
		}
		l, err := s.tiles.Layer(r.Context(), name)
		if err != nil {
			return nil, false, err
		}
		if !v.CanRead(l) {
			return nil, false, munigis.Errorf(munigis.NotFound, "layer %q does not exist", name)
		}
		if !l.Local() {
			return nil, false, munigis.Errorf(munigis.NotFound, "layer %q is served by %s, not as vector tiles", name, l.Source)
		}
		attrs := v.Attributes(l)
		internal = internal || l.Visibility != layers.Public
		for _, a := range attrs {
			internal = internal || a.Internal
		}
		specs = append(specs, tiles.LayerSpec{Layer: l, Attributes: attrs})
	}
	return specs, internal, nil
}

// cacheControl: public layers (as the public sees them) may be kept by
// browsers and proxies for TileMaxAge; a private answer (an internal layer
// or internal fields) is kept by no shared cache and checked again on every
// use (ETag makes that cheap).
func (s *Server) cacheControl(internal bool) string {
	if internal {
		return "private, max-age=0, must-revalidate"
	}
	return "public, max-age=" + strconv.Itoa(int(s.cfg.TileMaxAge.Seconds()))
}

// handleTile serves GET /tiles/{name}/{z}/{x}/{y}.mvt, where name is one
// layer or several separated by commas. A tile without features (also one
// outside every layer's zoom range) is 204 No Content.
func (s *Server) handleTile(w http.ResponseWriter, r *http.Request) error {
	if s.tiles == nil {
		return errNoRoute
	}
	name, z, x, y, ok := tilePath(r.URL.Path)
	if !ok {
		return errNoRoute
	}
	t, err := tiles.ParseTile(z, x, y)
	if err != nil {
		return err
	}
	specs, internal, err := s.tileLayers(r, name)
	if err != nil {
		return err
	}
	tile, err := s.tiles.Tile(r.Context(), tiles.Request{Layers: specs, Tile: t})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Cache-Control", s.cacheControl(internal))
	h.Set("Vary", "Accept-Encoding")
	if len(tile.Data) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	body, etag := tile.Data, tile.ETag
	if acceptsGzip(r) {
		body, etag = tile.Gzipped(), tile.GzipETag
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// acceptsGzip reports whether Accept-Encoding allows gzip (q > 0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		enc = strings.ToLower(strings.TrimSpace(enc))
		if enc != "gzip" && enc != "x-gzip" && enc != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				continue
			}
		}
		return true
	}
	return false
}

// etagMatches implements If-None-Match's weak comparison.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// tileJSON is TileJSON 3.0.0.
type tileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Tiles        []string      `json:"tiles"`
	Scheme       string        `json:"scheme"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       []float64     `json:"bounds"`
	Center       []float64     `json:"center,omitempty"`
	VectorLayers []vectorLayer `json:"vector_layers"`
}

type vectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// handleTileJSON serves GET /tiles/{name}.json.
func (s *Server) handleTileJSON(w http.ResponseWriter, r *http.Request) error {
	if s.tiles == nil {
		return errNoRoute
	}
	name := mux.Vars(r)["name"]
	specs, internal, err := s.tileLayers(r, name)
	if err != nil {
		return err
	}
	if len(specs) != 1 {
		return munigis.Errorf(munigis.NotFound, "TileJSON is served per layer: /tiles/<layer>.json")
	}
	l := specs[0].Layer
	st, err := s.layers.Stats(r.Context(), l)
	if err != nil {
		return err
	}
	bounds := []float64{-180, -85.0511, 180, 85.0511}
	if len(st.Extent) == 4 {
		bounds = st.Extent
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	fields := map[string]string{}
	for _, a := range specs[0].Attributes {
		switch a.Type {
		case layers.Integer, layers.Number:
			fields[a.Name] = "Number"
		case layers.Boolean:
			fields[a.Name] = "Boolean"
		default:
			fields[a.Name] = "String"
		}
	}
	center := []float64{(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, float64(max(l.MinZoom, min(14, l.MaxZoom)))}
	w.Header().Set("Cache-Control", s.cacheControl(internal))
	writeJSON(w, http.StatusOK, tileJSON{
		TileJSON: "3.0.0", Name: l.TitleBG, Description: l.TitleEN,
		Tiles:   []string{scheme + "://" + r.Host + "/tiles/" + l.Name + "/{z}/{x}/{y}.mvt"},
		Scheme:  "xyz",
		MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Bounds: bounds, Center: center,
		VectorLayers: []vectorLayer{{ID: l.Name, Description: l.TitleEN, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: fields}},
	})
	return nil
}

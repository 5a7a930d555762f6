package web

import "net/http"

// AddTileRoutes registers the tile routes when routes.go does not list them
// yet (they are named "tile" and "tilejson" there).
func (s *Server) AddTileRoutes() {
	if s.router.Get("tile") == nil {
		s.router.Handle("/tiles/{name}/{z}/{x}/{y}.mvt", s.handle(s.handleTile)).Methods(http.MethodGet, http.MethodHead).Name("tile")
	}
	if s.router.Get("tilejson") == nil {
		s.router.Handle("/tiles/{name}.json", s.handle(s.handleTileJSON)).Methods(http.MethodGet, http.MethodHead).Name("tilejson")
	}
}

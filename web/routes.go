package web

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routes lists every route munigis serves. Each declares its methods.
// Tests walk this router, so a route added here is checked by them
// automatically.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errNoRoute
	})
	r.MethodNotAllowedHandler = s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errMethod
	})

	r.Handle("/", s.handle(s.handleHome)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/healthz", s.handle(s.handleHealth)).Methods(http.MethodGet, http.MethodHead)

	api := r.PathPrefix("/api").Subrouter()
	api.Handle("/layers", s.handle(s.handleLayerList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/layers", s.handle(s.handleLayerCreate)).Methods(http.MethodPost)
	api.Handle("/layer-types", s.handle(s.handleTypeList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/layer-types", s.handle(s.handleTypeCreate)).Methods(http.MethodPost)
	api.Handle("/layers/{name}", s.handle(s.handleLayerGet)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/layers/{name}/features", s.handle(s.handleFeatureList)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/layers/{name}/features/{id:[0-9]+}", s.handle(s.handleFeatureGet)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/layers/{name}/features/{id:[0-9]+}/history", s.handle(s.handleFeatureHistory)).Methods(http.MethodGet, http.MethodHead)
	api.Handle("/cadastre/{identifier}", s.handle(s.handleCadastre)).Methods(http.MethodGet, http.MethodHead)
	return r
}

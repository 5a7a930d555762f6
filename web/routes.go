package web

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routes lists every route munigis serves. Each declares its methods.
// Tests walk this router, so a route added here is checked by them
// automatically.
func (s *Server) routes() *mux.Router {
	notFound := s.handle(func(w http.ResponseWriter, r *http.Request) error { return errNoRoute })
	notAllowed := s.handle(func(w http.ResponseWriter, r *http.Request) error { return errMethod })
	r := mux.NewRouter()
	r.NotFoundHandler, r.MethodNotAllowedHandler = notFound, notAllowed

	r.Handle("/", s.handle(s.handleHome)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/healthz", s.handle(s.handleHealth)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/styles/{name}.json", s.handle(s.handleStyle)).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/ui/").Handler(s.handleUI()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/tiles/{name}/{z}/{x}/{y}.mvt", s.handle(s.handleTile)).Methods(http.MethodGet, http.MethodHead).Name("tile")
	r.Handle("/tiles/{name}.json", s.handle(s.handleTileJSON)).Methods(http.MethodGet, http.MethodHead).Name("tilejson")

	// OGC services. /ows picks WMS or WFS by the SERVICE parameter, as
	// GeoServer and MapServer do; /ogc is OGC API Features.
	r.Handle("/wms", s.handleOGC("wms")).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	r.Handle("/wfs", s.handleOGC("wfs")).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	r.Handle("/ows", s.handle(s.handleOWS)).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	r.Handle("/ogc", s.handleOGC("ogcapi")).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/ogc/").Handler(s.handleOGC("ogcapi")).Methods(http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete)

	r.Handle("/api/layers", s.handle(s.handleLayerList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/layers", s.handle(s.handleLayerCreate)).Methods(http.MethodPost)
	r.Handle("/api/layer-types", s.handle(s.handleTypeList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/layer-types", s.handle(s.handleTypeCreate)).Methods(http.MethodPost)
	r.Handle("/api/layers/{name}", s.handle(s.handleLayerGet)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/layers/{name}/features", s.handle(s.handleFeatureList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/layers/{name}/features/{id:[0-9]+}", s.handle(s.handleFeatureGet)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/layers/{name}/features/{id:[0-9]+}/history", s.handle(s.handleFeatureHistory)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/cadastre/{identifier}", s.handle(s.handleCadastre)).Methods(http.MethodGet, http.MethodHead)

	r.Handle("/login", s.handle(s.handleLoginPage)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/login", s.handle(s.handleLoginForm)).Methods(http.MethodPost)
	r.Handle("/logout", s.handle(s.handleLogoutForm)).Methods(http.MethodPost)
	r.Handle("/api/session", s.handle(s.handleSessionGet)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/session", s.handle(s.handleSessionCreate)).Methods(http.MethodPost)
	r.Handle("/api/session", s.handle(s.handleSessionDelete)).Methods(http.MethodDelete)
	r.Handle("/api/tokens", s.handle(s.handleTokenList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/tokens", s.handle(s.handleTokenCreate)).Methods(http.MethodPost)
	r.Handle("/api/tokens/{id:[0-9]+}", s.handle(s.handleTokenRevoke)).Methods(http.MethodDelete)
	r.Handle("/api/grants", s.handle(s.handleGrantList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/grants", s.handle(s.handleGrantCreate)).Methods(http.MethodPost)
	r.Handle("/api/grants/{id:[0-9]+}", s.handle(s.handleGrantRevoke)).Methods(http.MethodDelete)
	r.Handle("/api/audit", s.handle(s.handleAuditList)).Methods(http.MethodGet, http.MethodHead)

	// Registers (issue 6, handle_registers.go).
	r.Handle("/registers", s.handle(s.handleRegistersPage)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/registers", s.handle(s.handleRegisterList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/register-types", s.handle(s.handleRegisterTypeCreate)).Methods(http.MethodPost)
	r.Handle("/api/registers/{name}/entries", s.handle(s.handleEntryList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/registers/{name}/entries", s.handle(s.handleEntryCreate)).Methods(http.MethodPost)
	r.Handle("/api/registers/{name}/entries/{id:[0-9]+}", s.handle(s.handleEntryGet)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/registers/{name}/entries/{id:[0-9]+}", s.handle(s.handleEntryUpdate)).Methods(http.MethodPut)
	r.Handle("/api/registers/{name}/entries/{id:[0-9]+}/history", s.handle(s.handleEntryHistory)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/registers/{name:municipal_property}/entries/{id:[0-9]+}/timeline", s.handle(s.handlePropertyTimeline)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/registers/{name:municipal_property}/entries/{id:[0-9]+}/operations", s.handle(s.handlePropertyOperation)).Methods(http.MethodPost)
	r.Handle("/api/persons", s.handle(s.handlePersonList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/persons", s.handle(s.handlePersonCreate)).Methods(http.MethodPost)
	r.Handle("/api/persons/{id:[0-9]+}", s.handle(s.handlePersonGet)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/cadastre/{identifier}/related", s.handle(s.handleRelated)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/reports", s.handle(s.handleReportList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/reports/{name}", s.handle(s.handleReport)).Methods(http.MethodGet, http.MethodHead)
	return r
}

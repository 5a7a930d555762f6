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
	r.Handle("/tiles/{name}/{z}/{x}/{y}.mvt", s.tileHandler).Methods(http.MethodGet, http.MethodHead).Name("tile")
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
	// Registers and, for staff who may read them, case files (issue 7).
	r.Handle("/api/cadastre/{identifier}/related", s.handle(s.handleCadastreRelated)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/reports", s.handle(s.handleReportList)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/reports/{name}", s.handle(s.handleReport)).Methods(http.MethodGet, http.MethodHead)

	// Documents, the official document register, case files and tasks
	// (issue 7: handle_documents.go, handle_cases.go).
	get, post := []string{http.MethodGet, http.MethodHead}, http.MethodPost
	r.Handle("/api/document-types", s.handle(s.handleDocTypeList)).Methods(get...)
	r.Handle("/api/document-types", s.handle(s.handleDocTypeCreate)).Methods(post)
	r.Handle("/api/odr", s.handle(s.handleODRGet)).Methods(get...)
	r.Handle("/api/odr", s.handle(s.handleODRPut)).Methods(http.MethodPut)
	r.Handle("/api/odr/entries", s.handle(s.handleODREntries)).Methods(get...)
	r.Handle("/api/odr/check", s.handle(s.handleODRCheck)).Methods(get...)
	r.Handle("/api/odr/entries/{number}", s.handle(s.handleODREntry)).Methods(get...)
	r.Handle("/api/odr/entries/{id:[0-9]+}/corrections", s.handle(s.handleODRCorrection)).Methods(post)
	r.Handle("/api/documents", s.handle(s.handleDocumentCreate)).Methods(post)
	r.Handle("/api/documents/{id:[0-9]+}", s.handle(s.handleDocumentGet)).Methods(get...)
	r.Handle("/api/documents/{id:[0-9]+}/content", s.handle(s.handleDocumentContent)).Methods(get...)
	r.Handle("/api/documents/{id:[0-9]+}/versions", s.handle(s.handleDocumentVersion)).Methods(post)
	r.Handle("/api/documents/{id:[0-9]+}/registration", s.handle(s.handleDocumentRegistration)).Methods(post)
	r.Handle("/api/services", s.handle(s.handleServiceList)).Methods(get...)
	r.Handle("/api/services", s.handle(s.handleServiceCreate)).Methods(post)
	r.Handle("/api/services/{code}", s.handle(s.handleServiceGet)).Methods(get...)
	r.Handle("/api/case-files", s.handle(s.handleCaseList)).Methods(get...)
	r.Handle("/api/case-files", s.handle(s.handleCaseOpen)).Methods(post)
	// {id} of a case file is its id or its number.
	r.Handle("/api/case-files/{id}", s.handle(s.handleCaseGet)).Methods(get...)
	r.Handle("/api/case-files/{id}/items", s.handle(s.handleCaseItemAdd)).Methods(post)
	r.Handle("/api/case-files/{id}/items/{item:[0-9]+}", s.handle(s.handleCaseItemRemove)).Methods(http.MethodDelete)
	r.Handle("/api/case-files/{id}/links", s.handle(s.handleCaseLinks)).Methods(post, http.MethodDelete)
	r.Handle("/api/case-files/{id}/close", s.handle(s.handleCaseClose)).Methods(post)
	r.Handle("/api/case-files/{id}/access-code", s.handle(s.handleCaseAccessCode)).Methods(post)
	r.Handle("/api/case-files/{id}/tasks", s.handle(s.handleCaseTaskAdd)).Methods(post)
	r.Handle("/api/tasks", s.handle(s.handleTaskList)).Methods(get...)
	r.Handle("/api/tasks/{id:[0-9]+}", s.handle(s.handleTaskGet)).Methods(get...)
	r.Handle("/api/tasks/{id:[0-9]+}", s.handle(s.handleTaskUpdate)).Methods(http.MethodPatch)
	r.Handle("/api/tasks/{id:[0-9]+}/complete", s.handle(s.handleTaskUpdate)).Methods(post)
	r.Handle("/api/tasks/{id:[0-9]+}/{action:cancel|reopen}", s.handle(s.handleTaskState)).Methods(post)

	// Citizen tracking (Art. 123, handle_track.go): public; the access
	// code travels in POST bodies only.
	r.Handle("/track", s.handle(s.handleTrackPage)).Methods(get...)
	r.Handle("/track", s.handle(s.handleTrackForm)).Methods(post)
	r.Handle("/track/documents/{id:[0-9]+}", s.handle(s.handleTrackDocument)).Methods(post)
	r.Handle("/api/track", s.handle(s.handleTrackAPI)).Methods(post)
	// Register entries' files and dossiers, and their case files (handle_dossier.go).
	s.dossierRoutes(r)
	return r
}

package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"munigis/access"
	"munigis/accounts"
	"munigis/audit"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/layers"
	"munigis/spatial"
)

// LayerStore is what the web layer needs of the catalog and feature store.
type LayerStore interface {
	Layers(ctx context.Context) ([]layers.Layer, error)
	Layer(ctx context.Context, name string) (layers.Layer, error)
	Types(ctx context.Context) ([]layers.Type, error)
	Stats(ctx context.Context, l layers.Layer) (layers.Stats, error)
	Features(ctx context.Context, l layers.Layer, q layers.Query, fn func(layers.Feature) error) error
	Feature(ctx context.Context, l layers.Layer, id int64, srid int, attrs []layers.Attribute) (layers.Feature, error)
	History(ctx context.Context, l layers.Layer, id int64, srid int) ([]layers.Version, error)
	Cadastral(ctx context.Context, id spatial.Identifier, srid int, visible func(layers.Layer) bool, attrs func(layers.Layer) []layers.Attribute) (layers.CadastralObject, error)
	CreateType(ctx context.Context, t layers.Type) error
	CreateLayer(ctx context.Context, l layers.Layer) error
}

// AccountStore is what the web layer needs of users, sessions, API tokens
// and grants (package accounts).
type AccountStore interface {
	SignIn(ctx context.Context, username, password, address, userAgent string) (accounts.NewSession, error)
	LookupSession(ctx context.Context, raw string) (accounts.Session, accounts.User, error)
	TouchSession(ctx context.Context, sess accounts.Session) error
	SignOut(ctx context.Context, raw, address string) error
	LookupToken(ctx context.Context, raw string) (accounts.Token, accounts.User, error)
	ViewerFor(ctx context.Context, u accounts.User, via string) (access.Viewer, error)
	User(ctx context.Context, who string) (accounts.User, error)
	CreateToken(ctx context.Context, who, name string) (string, accounts.Token, error)
	Tokens(ctx context.Context, who string) ([]accounts.Token, error)
	Token(ctx context.Context, id int64) (accounts.Token, error)
	RevokeToken(ctx context.Context, id int64) (accounts.Token, error)
	Grant(ctx context.Context, g accounts.Grant) (accounts.Grant, error)
	RevokeGrant(ctx context.Context, id int64) (accounts.Grant, error)
	Grants(ctx context.Context, all bool) ([]accounts.Grant, error)
}

// AuditLog is what the web layer needs of the audit trail (package audit).
type AuditLog interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Entry, int64, error)
}

// DocumentStore is what the web layer needs of documents, their content,
// the nomenclature of document types and the official document register
// (package documents, *documents.Store).
type DocumentStore interface {
	Settings(ctx context.Context) (documents.Settings, error)
	SetSettings(ctx context.Context, st documents.Settings) (documents.Settings, error)
	Types(ctx context.Context) ([]documents.Type, error)
	CreateType(ctx context.Context, t documents.Type, template *documents.Upload) (documents.Type, error)
	Create(ctx context.Context, d documents.NewDocument) (documents.Document, error)
	Get(ctx context.Context, id int64) (documents.Document, error)
	AddVersion(ctx context.Context, id int64, version int, f documents.Upload) (documents.Document, error)
	Versions(ctx context.Context, id int64) ([]documents.ContentVersion, error)
	Content(ctx context.Context, id int64, contentVersion int) (documents.FileInfo, []byte, error)
	Register(ctx context.Context, documentID int64, typeCode string, receivedOn string) (documents.Registration, error)
	Entry(ctx context.Context, number string) (documents.Registration, error)
	Entries(ctx context.Context, q documents.EntryQuery) ([]documents.Registration, int64, error)
	Correct(ctx context.Context, entryID int64, c documents.Correction) (documents.Correction, error)
	Check(ctx context.Context, year int) (documents.Completeness, error)
}

// CaseStore is what the web layer needs of case files, services, tasks and
// the citizen's view (package casefiles, *casefiles.Store).
type CaseStore interface {
	Services(ctx context.Context) ([]casefiles.Service, error)
	Service(ctx context.Context, code string) (casefiles.Service, error)
	CreateService(ctx context.Context, sv casefiles.Service) (casefiles.Service, error)
	Open(ctx context.Context, o casefiles.Opening) (casefiles.Opened, error)
	Get(ctx context.Context, id int64) (casefiles.CaseFile, error)
	GetByNumber(ctx context.Context, number string) (casefiles.CaseFile, error)
	List(ctx context.Context, q casefiles.Query) ([]casefiles.CaseFile, int64, error)
	AddItem(ctx context.Context, caseID int64, section string, documentID, childCaseID *int64) (casefiles.Item, error)
	RemoveItem(ctx context.Context, caseID, itemID int64, reason string, mayRemoveOfficial bool) (casefiles.Item, error)
	Link(ctx context.Context, caseID int64, identifiers []string, features []casefiles.FeatureLink) (casefiles.CaseFile, error)
	Unlink(ctx context.Context, caseID int64, identifiers []string, features []casefiles.FeatureLink) (casefiles.CaseFile, error)
	Close(ctx context.Context, caseID int64, version int, status string) (casefiles.CaseFile, error)
	NewAccessCode(ctx context.Context, caseID int64) (string, error)
	AddTask(ctx context.Context, t casefiles.Task) (casefiles.Task, error)
	Task(ctx context.Context, id int64) (casefiles.Task, error)
	UpdateTask(ctx context.Context, u casefiles.TaskUpdate) (casefiles.Task, error)
	CompleteTask(ctx context.Context, u casefiles.TaskUpdate) (casefiles.Task, error)
	CancelTask(ctx context.Context, id int64, version int) (casefiles.Task, error)
	ReopenTask(ctx context.Context, id int64, version int) (casefiles.Task, error)
	Due(ctx context.Context, q casefiles.DueQuery) ([]casefiles.Task, error)
	Related(ctx context.Context, identifier string) ([]casefiles.Summary, error)
	Track(ctx context.Context, number, code string) (casefiles.Tracking, error)
	TrackDocument(ctx context.Context, number, code string, documentID int64) (documents.FileInfo, []byte, error)
}

// Pinger checks that the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config holds the server's settings, built and validated in cmd/munigis.
type Config struct {
	// Addr to listen on, e.g. ":8080".
	Addr string
	// RequestTimeout bounds each request; the database pool's
	// statement_timeout is set to the same value so that a slow query is
	// stopped in the database too, not only abandoned.
	RequestTimeout time.Duration
	// SecureCookies marks the session cookie Secure even on plain HTTP
	// requests (set it behind a TLS-terminating proxy). It is always
	// Secure on HTTPS requests.
	SecureCookies bool
	// MaxBodyBytes caps request bodies.
	MaxBodyBytes int64
	// Version is reported by /healthz.
	Version string
	// TileMaxAge is the Cache-Control max-age of public tiles and TileJSON
	// (default 60 s); private ones are never kept.
	TileMaxAge time.Duration
	// MaxFileBytes is the largest document file accepted, when the
	// document store does not say (default 20 MiB, the store's default).
	// An upload's body may be 1 MiB larger, for the other parts.
	MaxFileBytes int64
	// TrackFloor is the least time every citizen-tracking answer takes,
	// found or not (default 300 ms), so that the timing does not tell a
	// wrong number from a wrong access code (Art. 123).
	TrackFloor time.Duration
	// TrackPerMinute and TrackBurst limit tracking requests per client
	// address (default 10 a minute, burst 5), so that numbers and codes
	// cannot be enumerated.
	TrackPerMinute int
	TrackBurst     int
}

// Deps are the stores and services the server talks to, each through an
// interface declared here, on the consumer side. Later capabilities
// (accounts, audit, registers) add their field here.
type Deps struct {
	Layers LayerStore
	DB     Pinger
	Log    *slog.Logger
	// Accounts signs people in; nil serves everyone as the public.
	Accounts AccountStore
	// Audit lists the audit trail for admins; nil answers 404.
	Audit AuditLog
	// Tiles serves vector tiles (*tiles.Tiler); nil answers 404.
	Tiles TileStore
	// WMS, WFS and OGCAPI serve the OGC protocols (packages web/wms,
	// web/wfs, web/ogcapi) behind this server's middleware, so they see the
	// same viewer, limits and logs as every other route; nil answers 404.
	WMS, WFS, OGCAPI http.Handler
	// Registers, Persons and Property serve the registers (issue 6:
	// handle_registers.go); a nil Registers lists none.
	Registers RegisterStore
	Persons   PersonStore
	Property  PropertyStore
	// Documents and Cases serve documents, the official document register,
	// case files, tasks and the citizen's tracking (issue 7:
	// handle_documents.go, handle_cases.go, handle_track.go); nil answers
	// 404.
	Documents DocumentStore
	Cases     CaseStore
}

// Server serves munigis over HTTP.
type Server struct {
	cfg      Config
	layers   LayerStore
	db       Pinger
	log      *slog.Logger
	accounts AccountStore
	audit    AuditLog
	tiles    TileStore
	ogc      map[string]http.Handler // by service: "wms", "wfs", "ogcapi"
	router   *mux.Router
	// tileHandler is the tile route's handler, reached without the
	// router (dispatch).
	tileHandler http.Handler

	// The registers (handle_registers.go).
	registers RegisterStore
	persons   PersonStore
	property  PropertyStore

	// Documents, case files and tracking (issue 7).
	documents DocumentStore
	cases     CaseStore
	track     *trackLimiter
}

// New returns a Server; call Handler or ListenAndServe.
func New(cfg Config, d Deps) *Server {
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.TileMaxAge == 0 {
		cfg.TileMaxAge = time.Minute
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Server{cfg: cfg, layers: d.Layers, db: d.DB, log: d.Log, accounts: d.Accounts, audit: d.Audit, tiles: d.Tiles,
		ogc: map[string]http.Handler{"wms": d.WMS, "wfs": d.WFS, "ogcapi": d.OGCAPI}}
	s.registers, s.persons, s.property = d.Registers, d.Persons, d.Property
	if cfg.MaxFileBytes == 0 {
		cfg.MaxFileBytes = 20 << 20
	}
	if cfg.TrackFloor == 0 {
		cfg.TrackFloor = 300 * time.Millisecond
	}
	if cfg.TrackPerMinute == 0 {
		cfg.TrackPerMinute = 10
	}
	if cfg.TrackBurst == 0 {
		cfg.TrackBurst = 5
	}
	s.cfg = cfg
	s.documents, s.cases = d.Documents, d.Cases
	s.track = newTrackLimiter(cfg.TrackPerMinute, cfg.TrackBurst)
	s.tileHandler = s.handle(s.handleTile)
	s.router = s.routes()
	return s
}

// Handler returns the server's routes wrapped in its middleware.
func (s *Server) Handler() http.Handler {
	return s.middleware(http.HandlerFunc(s.dispatch))
}

// dispatch sends GET and HEAD tile requests straight to the tile handler
// and everything else through the router. A map asks for dozens of tiles
// at every move, most of them answered from the cache in microseconds;
// gorilla/mux tries its routes one regular expression after another and
// copies the request to attach the path variables, which was a fifth of
// the cost of a cached tile. The router still lists the tile route (for
// other methods' 405, and for the tests that walk every route); both
// read the URL with tilePath.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if _, _, _, _, ok := tilePath(r.URL.Path); ok {
			s.tileHandler.ServeHTTP(w, r)
			return
		}
	}
	s.router.ServeHTTP(w, r)
}

// Router exposes the routes, so that tests can walk every one of them.
func (s *Server) Router() *mux.Router { return s.router }

// ListenAndServe serves until ctx is cancelled, then shuts down gracefully,
// letting requests in flight finish for up to 10 seconds. ready, if not nil,
// receives the bound address (useful with ":0").
func (s *Server) ListenAndServe(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("web: listen on %s: %w (is another munigis running? set MUNIGIS_ADDR)", s.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

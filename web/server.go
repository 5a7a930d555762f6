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

	// The registers (handle_registers.go).
	registers RegisterStore
	persons   PersonStore
	property  PropertyStore
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
	s.router = s.routes()
	return s
}

// Handler returns the server's routes wrapped in its middleware.
func (s *Server) Handler() http.Handler {
	return s.middleware(s.router)
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

// Package postgis opens munigis's connection pool to PostGIS, finds the
// project-local cluster when DATABASE_URL is unset, runs work in transactions
// that carry the acting user, and turns PostgreSQL errors into errors that
// are safe to show a person.
package postgis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxgeom "github.com/twpayne/pgx-geom"

	"munigis"
)

// Config says how to reach PostGIS.
type Config struct {
	// URL is a libpq connection string or URL.
	URL string
	// StatementTimeout bounds every statement of the pool; 0 leaves the
	// server's default. munigis serve pairs it with its HTTP timeout.
	StatementTimeout time.Duration
	// MaxConns caps the pool; 0 means pgx's default (max(4, cores)).
	MaxConns int32
	// AppName shows in pg_stat_activity.
	AppName string
	// Role, when set, is the database role every connection switches to
	// (SET ROLE) right after connecting, e.g. "munigis_app", which may only
	// read and append the audit trail. The login user must be a member of
	// it; migration 000004 makes the migrating user one.
	Role string
	// Settings are PostgreSQL settings for every connection of the pool
	// (sent at connect, like statement_timeout), e.g.
	// max_parallel_workers_per_gather.
	Settings map[string]string
}

// Open connects a pool, registers the geometry codec (go-geom values in and
// out of geometry columns) and checks that the server answers.
func Open(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error may echo the password; do not wrap it.
		return nil, munigis.Errorf(munigis.Invalid, "the database URL cannot be parsed; check DATABASE_URL")
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if cfg.StatementTimeout > 0 {
		pc.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)
	}
	for k, v := range cfg.Settings {
		pc.ConnConfig.RuntimeParams[k] = v
	}
	name := cfg.AppName
	if name == "" {
		name = "munigis"
	}
	pc.ConnConfig.RuntimeParams["application_name"] = name
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pc.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if cfg.Role != "" {
			if _, err := conn.Exec(ctx, `SELECT set_config('role', $1, false)`, cfg.Role); err != nil {
				return fmt.Errorf("postgis: set role %s (has `munigis migrate` run?): %w", cfg.Role, err)
			}
		}
		// A database that is not migrated yet has no geometry type to
		// register; the migration runner connects to such databases.
		var ready bool
		if err := conn.QueryRow(ctx, `SELECT to_regtype('geometry') IS NOT NULL AND to_regtype('geography') IS NOT NULL`).Scan(&ready); err != nil {
			return err
		}
		if !ready {
			return nil
		}
		return pgxgeom.Register(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgis: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		host := pc.ConnConfig.Host
		return nil, munigis.Wrap(munigis.Unavailable, err,
			"cannot reach PostGIS at %s (database %q); start it with `make db-start` (or `make run`), or set DATABASE_URL", host, pc.ConnConfig.Database)
	}
	return pool, nil
}

// ResolveURL returns DATABASE_URL when it is set, else the URL of the
// project-local cluster under var/pg (see VarDir).
func ResolveURL() (string, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u, nil
	}
	dir, ok := VarDir()
	if !ok {
		return "", munigis.Errorf(munigis.Unavailable,
			"no database: DATABASE_URL is unset and there is no project cluster under var/pg here or above; run `make db-start` (or `make run`) in the munigis checkout, or set DATABASE_URL")
	}
	pg := filepath.Join(dir, "pg")
	b, err := os.ReadFile(filepath.Join(pg, "port"))
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(pg)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("postgres://postgres@/munigis?host=%s&port=%s&sslmode=disable",
		filepath.Join(real, "run"), strings.TrimSpace(string(b))), nil
}

// VarDir finds the checkout's var/ folder holding the project cluster
// (var/pg/port), looking in the current folder and its parents, so that
// subcommands work from any folder of the checkout.
func VarDir() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		v := filepath.Join(dir, "var")
		if _, err := os.Stat(filepath.Join(v, "pg", "port")); err == nil {
			return v, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Tx runs fn in one transaction, committed when fn returns nil and rolled
// back otherwise. The acting user and address from ctx (munigis.Actor,
// munigis.Address) are set for the transaction so that history and audit
// triggers record who made each change and from where.
func Tx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgis: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if actor, address := munigis.Actor(ctx), munigis.Address(ctx); actor != "" || address != "" {
		// '' leaves the triggers' defaults: the database role as actor, no address.
		if _, err := tx.Exec(ctx, `SELECT set_config('munigis.actor', $1, true), set_config('munigis.address', $2, true)`, actor, address); err != nil {
			return fmt.Errorf("postgis: set actor: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return Translate(err, "commit")
	}
	return nil
}

// Translate turns a PostgreSQL error into a *munigis.Error whose message can
// be shown to a person: rule violations become Invalid or Conflict naming the
// column or rule, a timeout becomes Unavailable, anything else stays
// Internal (its text goes to the log only). what says what was being done.
func Translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var me *munigis.Error
	if errors.As(err, &me) {
		return err
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if errors.Is(err, context.DeadlineExceeded) {
			return munigis.Wrap(munigis.Unavailable, err, "%s took too long and was stopped", what)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case strings.HasPrefix(pe.Code, "MG"):
		// Raised by munigis's own triggers and functions: written for people.
		msg := pe.Message
		if pe.Hint != "" {
			msg += " (" + pe.Hint + ")"
		}
		return munigis.Wrap(munigis.Invalid, err, "%s", msg)
	case pe.Code == "23505":
		return munigis.Wrap(munigis.Conflict, err, "%s: a record with the same %s already exists", what, uniqueColumn(pe))
	case pe.Code == "23502":
		return munigis.Wrap(munigis.Invalid, err, "%s: %s is required", what, pe.ColumnName)
	case pe.Code == "23514":
		return munigis.Wrap(munigis.Invalid, err, "%s: %s", what, checkMessage(pe.ConstraintName))
	case pe.Code == "23503":
		return munigis.Wrap(munigis.Invalid, err, "%s: it refers to something that does not exist", what)
	case pe.Code == "22P02", pe.Code == "22007", pe.Code == "22008", pe.Code == "22003":
		return munigis.Wrap(munigis.Invalid, err, "%s: a value has the wrong type or is out of range", what)
	case pe.Code == "57014":
		return munigis.Wrap(munigis.Unavailable, err, "%s took too long and was stopped; narrow the request", what)
	case pe.Code == "XX000" && strings.Contains(pe.Message, "parse error"):
		return munigis.Wrap(munigis.Invalid, err, "%s: the geometry cannot be read", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// checkMessage explains a check violation by the suffix that
// munigis_create_layer_table gives its constraint names.
func checkMessage(constraint string) string {
	switch {
	case strings.HasSuffix(constraint, "_cadastral_id"):
		return strings.TrimSuffix(constraint, "_cadastral_id") +
			" is not a valid cadastral identifier (ЕКАТТЕ.район.имот[.сграда[.обект]], with a valid ЕКАТТЕ check digit)"
	case strings.HasSuffix(constraint, "_level"):
		return strings.TrimSuffix(constraint, "_level") + " has the wrong number of fields for this layer"
	case strings.HasSuffix(constraint, "_enum"):
		return strings.TrimSuffix(constraint, "_enum") + " is not one of the allowed values"
	}
	return "a value breaks the rule " + constraint
}

// uniqueColumn pulls the column list out of a unique violation's detail,
// "Key (identifier)=(...) already exists.", without echoing the value.
func uniqueColumn(pe *pgconn.PgError) string {
	if open := strings.Index(pe.Detail, "Key ("); open >= 0 {
		rest := pe.Detail[open+5:]
		if end := strings.Index(rest, ")"); end >= 0 {
			return rest[:end]
		}
	}
	return "key"
}

// IsUndefinedTable reports whether err is PostgreSQL's "relation does not exist".
func IsUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

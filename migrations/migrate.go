// Package migrations holds the database schema as numbered SQL files,
// embedded in the binary, and the runner that applies them.
//
// A file is NNNNNN_verb_object.sql. Each runs in its own transaction and is
// recorded in schema_migrations; files are never edited once they have landed,
// a change is a new file. There are no down migrations: a municipality's data
// is never rolled back by a schema tool.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed *.sql
var files embed.FS

// lockKey serialises concurrent runners (several munigis processes or test
// binaries starting at once) with a transaction-level advisory lock.
const lockKey = 7801_0001

// Migration is one numbered schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// All returns the embedded migrations in version order. It returns an error
// when two files share a number, which happens after a careless merge.
func All() ([]Migration, error) {
	entries, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, name := range entries {
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 6 {
			return nil, fmt.Errorf("migrations: %s: name must be NNNNNN_name.sql", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations: %s and %s share number %d", other, name, v)
		}
		seen[v] = name
		body, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Latest returns the highest embedded migration version.
func Latest() int {
	all, err := All()
	if err != nil || len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Version
}

// Up applies every migration newer than the database's version and returns
// the names of those applied. progress, if not nil, is told about each one.
func Up(ctx context.Context, pool *pgxpool.Pool, progress func(Migration)) ([]string, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT date_trunc('second', now()))`); err != nil {
		return nil, fmt.Errorf("migrations: create schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range all {
		done, err := apply(ctx, pool, m, progress)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, fmt.Sprintf("%06d_%s", m.Version, m.Name))
		}
	}
	return applied, nil
}

func apply(ctx context.Context, pool *pgxpool.Pool, m Migration, progress func(Migration)) (bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrations: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return false, fmt.Errorf("migrations: lock: %w", err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&exists); err != nil {
		return false, fmt.Errorf("migrations: check %d: %w", m.Version, err)
	}
	if exists {
		return false, nil
	}
	if progress != nil {
		progress(m)
	}
	// Simple protocol: a migration file holds several statements.
	if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
		return false, fmt.Errorf("migrations: %06d_%s: %w", m.Version, m.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return false, fmt.Errorf("migrations: record %d: %w", m.Version, err)
	}
	return true, tx.Commit(ctx)
}

// Version returns the highest applied migration, 0 for an empty database.
func Version(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var v int
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P01" {
			return 0, nil
		}
		return 0, fmt.Errorf("migrations: version: %w", err)
	}
	return v, nil
}

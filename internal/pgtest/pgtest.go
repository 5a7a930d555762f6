// Package pgtest gives tests a fresh PostGIS database migrated through the
// production path (package migrations).
//
// It reads MUNIGIS_TEST_DATABASE_URL (set by `make test`, pointing at the
// throwaway cluster's "postgres" database). When that is unset or the server
// cannot be reached, the test fails if MUNIGIS_REQUIRE_DB=1 and is skipped
// otherwise, with a message saying to run `make test`.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis/internal/postgis"
	"munigis/migrations"
)

const template = "munigis_test_template"

// templateLock serialises template migration and cloning across the test
// binaries that `go test ./...` runs in parallel: CREATE DATABASE ... TEMPLATE
// fails while anyone else is connected to the template.
const templateLock = 7801_0002

// DB is a throwaway database for one test.
type DB struct {
	Pool *pgxpool.Pool
	// URL connects to this database (for subprocesses such as ogr2ogr or
	// the munigis binary).
	URL string
	// Name is the database name.
	Name string
}

// New returns a fresh database cloned from the migrated template, dropped
// when the test ends.
func New(t testing.TB) *DB {
	t.Helper()
	base := os.Getenv("MUNIGIS_TEST_DATABASE_URL")
	if base == "" {
		unavailable(t, "MUNIGIS_TEST_DATABASE_URL is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(t, "cannot connect to "+redact(base)+": "+err.Error())
	}
	defer admin.Close(ctx)

	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock($1)`, templateLock); err != nil {
		t.Fatalf("pgtest: lock: %v", err)
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, templateLock)

	if err := ensureTemplate(ctx, admin, base); err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := "t_" + randomHex(8)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template); err != nil {
		t.Fatalf("pgtest: clone: %v", err)
	}
	dbURL := withDatabase(base, name)
	pool, err := postgis.Open(ctx, postgis.Config{URL: dbURL, MaxConns: 8, AppName: "munigis-test"})
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", name, err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return &DB{Pool: pool, URL: dbURL, Name: name}
}

func ensureTemplate(ctx context.Context, admin *pgx.Conn, base string) error {
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, template).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+template); err != nil {
			return err
		}
	}
	pool, err := postgis.Open(ctx, postgis.Config{URL: withDatabase(base, template), MaxConns: 2, AppName: "munigis-test-template"})
	if err != nil {
		return err
	}
	// Close before cloning: the template must have no connections.
	defer pool.Close()
	_, err = migrations.Up(ctx, pool, nil)
	return err
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("MUNIGIS_REQUIRE_DB") == "1" {
		t.Fatalf("PostGIS is required (MUNIGIS_REQUIRE_DB=1) but unavailable: %s", why)
	}
	t.Skipf("no PostGIS for this test (%s); run `make test`, which starts a throwaway cluster", why)
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		// key=value form
		return base + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	if strings.Contains(s, "password") {
		return "(connection string)"
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

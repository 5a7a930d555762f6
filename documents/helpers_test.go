package documents_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/documents"
	"munigis/internal/pgtest"
)

var sofia = func() *time.Location {
	l, err := time.LoadLocation("Europe/Sofia")
	if err != nil {
		panic(err)
	}
	return l
}()

type env struct {
	pool  *pgxpool.Pool
	store *documents.Store
}

func newEnv(t testing.TB, cfg documents.Config) env {
	t.Helper()
	db := pgtest.New(t)
	return env{pool: db.Pool, store: documents.NewStore(db.Pool, cfg)}
}

// clerk is a context acting as user U-000042.
func clerk() context.Context {
	return munigis.WithAddress(munigis.WithActor(context.Background(), "U-000042"), "198.51.100.7")
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// wantErr checks err's code and that its messages contain en and bg.
func wantErr(t testing.TB, err error, code munigis.Code, en, bg string) {
	t.Helper()
	var me *munigis.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T), want *munigis.Error %s", err, err, code)
	}
	if me.Code != code || !strings.Contains(me.Message, en) || !strings.Contains(me.MessageBG, bg) {
		t.Fatalf("error %s %q / %q, want %s containing %q / %q", me.Code, me.Message, me.MessageBG, code, en, bg)
	}
}

// pdf is a small PDF (as far as sniffing goes) with a distinguishing body.
func pdf(body string) []byte {
	return []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Title (" + body + ") >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
}

func upload(name string, b []byte) *documents.Upload {
	return &documents.Upload{FileName: name, Content: bytes.NewReader(b)}
}

func mustCreate(t testing.TB, s *documents.Store, ctx context.Context, nd documents.NewDocument) documents.Document {
	t.Helper()
	d, err := s.Create(ctx, nd)
	if err != nil {
		t.Fatalf("Create(%s): %v", nd.Name, err)
	}
	return d
}

// fixedClock returns a clock stopped at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

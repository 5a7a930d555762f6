package documents_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"munigis"
	"munigis/documents"
	"munigis/internal/pgtest"
	"munigis/internal/postgis"
)

// BenchmarkRegister registers documents from 16 goroutines at once (the
// counter row is the point of contention) and then checks that the year's
// numbers are 1..N without a gap.
//
//	go test -run '^$' -bench Register -benchtime 2000x ./documents/
func BenchmarkRegister(b *testing.B) {
	const goroutines = 16
	db := pgtest.New(b)
	ctx := context.Background()
	// A pool of its own: pgtest's has 8 connections, fewer than the
	// goroutines, which would measure the pool's queue instead.
	pool, err := postgis.Open(ctx, postgis.Config{URL: db.URL, MaxConns: goroutines + 2, AppName: "munigis-bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	s := documents.NewStore(pool, documents.Config{})
	// The documents exist beforehand: only the registration is measured.
	rows, err := pool.Query(ctx, `INSERT INTO documents (name, type_id)
		SELECT 'Заявление ' || g, (SELECT id FROM document_types WHERE code = 'application')
		FROM generate_series(1, $1::int) g RETURNING id`, b.N)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Err() != nil || len(ids) != b.N {
		b.Fatalf("%d documents for %d iterations: %v", len(ids), b.N, rows.Err())
	}
	var next atomic.Int64
	var failed atomic.Value
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((goroutines + procs - 1) / procs)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := munigis.WithActor(context.Background(), "U-000001")
		for pb.Next() {
			id := ids[next.Add(1)-1]
			if _, err := s.Register(ctx, id, "", ""); err != nil {
				failed.Store(err)
				return
			}
		}
	})
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registrations/s")
	// The numbers of the year: exactly 1..b.N. (A run across midnight of
	// 31 December would split them over two years: not checked.)
	year := time.Now().In(sofia).Year()
	c, err := s.Check(ctx, year)
	if err != nil {
		b.Fatal(err)
	}
	if !c.Complete || c.Count != b.N || c.First != 1 || c.Last != b.N {
		b.Fatalf("after %d registrations: %+v", b.N, c)
	}
}

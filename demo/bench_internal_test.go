package demo

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"munigis/internal/pgtest"
)

// BenchmarkLoad times a full load into a fresh database; it is a check run
// by hand, not part of `make test`:
//
//	MUNIGIS_DEMO_PARCELS=200000 go test -run '^$' -bench Load -benchtime 1x ./demo/
//
// It reports parcels/s and total rows/s, the per-layer
// times, and the time a million parcels would take at that rate.
func BenchmarkLoad(b *testing.B) {
	parcels := 200_000
	if v := os.Getenv("MUNIGIS_DEMO_PARCELS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("MUNIGIS_DEMO_PARCELS: %v", err)
		}
		parcels = n
	}

	var elapsed time.Duration
	var rows int64
	for range b.N {
		b.StopTimer()
		db := pgtest.New(b)
		b.StartTimer()
		sum, err := Load(context.Background(), db.Pool, Options{Parcels: parcels}, nil)
		if err != nil {
			b.Fatal(err)
		}
		elapsed += sum.Elapsed
		rows += sum.Total()
		// Printed, not logged: benchmark logs are cut after a few lines.
		fmt.Print(sum.String())
	}
	secs := elapsed.Seconds()
	b.ReportMetric(float64(parcels*b.N)/secs, "parcels/s")
	b.ReportMetric(float64(rows)/secs, "rows/s")
	b.ReportMetric(1e6*secs/float64(parcels*b.N), "s/1M-parcels")
}

package postgis_test

import (
	"context"
	"testing"

	"munigis/internal/pgtest"
	"munigis/internal/postgis"
)

// The server turns parallel query off through Config.Settings; every
// connection of the pool must carry it, not only the first.
func TestSettingsApplyToEveryConnection(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	pool, err := postgis.Open(ctx, postgis.Config{URL: db.URL, MaxConns: 3,
		Settings: map[string]string{"max_parallel_workers_per_gather": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Hold three connections at once so that three are opened.
	var conns []interface{ Release() }
	for i := 0; i < 3; i++ {
		c, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if err := c.QueryRow(ctx, `SHOW max_parallel_workers_per_gather`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "0" {
			t.Errorf("connection %d: max_parallel_workers_per_gather = %s, want 0", i, v)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
}

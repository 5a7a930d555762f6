package casefiles_test

import (
	"context"
	"testing"
	"time"

	"munigis/casefiles"
)

// BenchmarkDue: the due lists over 100,000 open (pending) tasks of 50
// users in 10 units (two directorates with four departments each, five
// users a unit), deadlines spread over four months around today. Target:
// under 100 ms per list.
//
//	go test -run '^$' -bench Due ./casefiles/
func BenchmarkDue(b *testing.B) {
	e := newEnv(b, "2026-11-25")
	ctx := context.Background()
	var top1 int64
	err := e.pool.QueryRow(ctx, `
		WITH tops AS (
			INSERT INTO units (name_bg) SELECT 'Дирекция ' || g FROM generate_series(1, 2) g RETURNING id, name_bg),
		subs AS (
			INSERT INTO units (name_bg, parent_id)
			SELECT t.name_bg || ', отдел ' || g, t.id FROM tops t, generate_series(1, 4) g RETURNING id)
		SELECT min(id) FROM tops`).Scan(&top1)
	if err != nil {
		b.Fatal(err)
	}
	_, err = e.pool.Exec(ctx, `
		INSERT INTO users (first_name, surname, admin_body, job_title, unit_id, username, password_hash, role, created_by)
		SELECT 'Служител', '№ ' || g, 'Кмет', 'експерт', u.id, 'bench' || u.id || '_' || g, '$argon2id$x', 'clerk', 'bench'
		FROM units u, generate_series(1, 5) g
		WHERE u.name_bg LIKE 'Дирекция %'`)
	if err != nil {
		b.Fatal(err)
	}
	_, err = e.pool.Exec(ctx, `
		WITH us AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, unit_id FROM users WHERE created_by = 'bench')
		INSERT INTO tasks (name, executor_user_id, unit_id, planned_start, planned_end, list, state)
		SELECT 'Задача ' || g, us.id, us.unit_id, date '2026-09-01' + ((g / 50) % 30), date '2026-10-01' + ((g / 50) % 120), 'pending', 'not_done'
		FROM generate_series(1, 100000) g JOIN us ON us.k = g % 50`)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `ANALYZE tasks; ANALYZE units; ANALYZE users`); err != nil {
		b.Fatal(err)
	}
	var person string
	if err := e.pool.QueryRow(ctx, `SELECT system_id FROM users WHERE created_by = 'bench' ORDER BY id LIMIT 1`).Scan(&person); err != nil {
		b.Fatal(err)
	}
	if n := count(b, e.pool, `SELECT count(*) FROM tasks WHERE list = 'pending'`); n < 100000 {
		b.Fatalf("%d pending tasks", n)
	}
	for _, bc := range []struct {
		name string
		q    casefiles.DueQuery
	}{
		{"overdue/person", casefiles.DueQuery{Kind: "overdue", ExecutorSystemID: person}},
		{"overdue/unit", casefiles.DueQuery{Kind: "overdue", UnitID: top1}},
		{"week/person", casefiles.DueQuery{Kind: "week", ExecutorSystemID: person}},
		{"week/unit", casefiles.DueQuery{Kind: "week", UnitID: top1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ts, err := e.store.Due(ctx, bc.q)
			if err != nil {
				b.Fatal(err)
			}
			if len(ts) == 0 {
				b.Fatal("no tasks due")
			}
			start := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.store.Due(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}

package demo_test

import (
	"context"
	"io"
	"testing"
	"time"

	"munigis"
	"munigis/access"
	"munigis/accounts"
	"munigis/demo"
	"munigis/documents"
)

// TestCaseFiles opens the demo's case files on a small town and checks
// what a registry clerk and an auditor would: the official register is
// complete and its numbers follow the time of entry; every case opens with
// its registered application first in the official section; a closed case
// has every stage done with a result document; some stages are late (the
// overdue lists need something); and everything was done by the demo's
// staff, not by "db:…".
func TestCaseFiles(t *testing.T) {
	ctx := context.Background()
	db, _ := load(t, demo.Options{Parcels: 1500, Seed: 3})
	store := accounts.NewStore(db.Pool, accounts.Config{})
	ids := map[string]string{}
	for _, role := range []access.Role{access.Clerk, access.Planner, access.Inspector} {
		u, err := store.CreateUser(munigis.WithActor(ctx, "test"), accounts.NewUser{Username: string(role), FirstName: "Демо",
			Surname: string(role), Role: role, AdminBody: "Община", JobTitle: "Служител", Password: "demo-password-1"})
		if err != nil {
			t.Fatal(err)
		}
		ids[string(role)] = u.SystemID
	}
	opt := demo.CaseOptions{Count: 60, Seed: 3, Clerk: ids["clerk"], Planner: ids["planner"], Inspector: ids["inspector"],
		Administration: "Община Троян"}
	c, err := demo.LoadCaseFiles(ctx, db.Pool, opt, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.CaseFiles != 60 || c.Closed == 0 || c.TasksDone == 0 || c.Documents <= c.CaseFiles {
		t.Errorf("counts %+v: want 60 cases, some closed, tasks done and more documents than cases", c)
	}
	one := func(sql string) int64 {
		t.Helper()
		var n int64
		if err := db.Pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	docs := documents.NewStore(db.Pool, documents.Config{})
	for _, y := range []int{time.Now().Year() - 1, time.Now().Year()} {
		chk, err := docs.Check(ctx, y)
		if err != nil || !chk.Complete {
			t.Errorf("register of %d: %+v, %v; want complete", y, chk, err)
		}
	}
	if n := one(`SELECT count(*) FROM (SELECT entered_at < lag(entered_at) OVER (ORDER BY year, sequence) AS back FROM odr_entries) e WHERE back`); n != 0 {
		t.Errorf("%d register numbers were given out of time order", n)
	}
	if n := one(`SELECT count(*) FROM case_files c WHERE NOT EXISTS (SELECT 1 FROM case_file_items i
			WHERE i.case_file_id = c.id AND i.section = 'official' AND i.position = 1 AND i.document_id = c.opening_document_id)`); n != 0 {
		t.Errorf("%d case files do not start with their application in the official section", n)
	}
	if n := one(`SELECT count(*) FROM case_files c WHERE c.status = 'closed' AND EXISTS (SELECT 1 FROM tasks t
			WHERE t.case_file_id = c.id AND (t.list <> 'completed' OR NOT EXISTS (SELECT 1 FROM task_results r WHERE r.task_id = t.id)))`); n != 0 {
		t.Errorf("%d closed case files have a stage not done or without a result", n)
	}
	if n := one(`SELECT count(*) FROM tasks WHERE list = 'pending' AND planned_end < current_date`); n == 0 {
		t.Error("no stage is late: the overdue lists would be empty")
	}
	if n := one(`SELECT count(*) FROM audit_log WHERE (object LIKE 'case_file%' OR object LIKE 'task:%' OR object LIKE 'odr_entry:%') AND actor LIKE 'db:%'`); n != 0 {
		t.Errorf("%d audit rows of the case work name the database role instead of a person", n)
	}
	if _, err := demo.LoadCaseFiles(ctx, db.Pool, opt, io.Discard); munigis.ErrorCode(err) != munigis.Conflict {
		t.Errorf("a second load = %v, want Conflict (case files are never deleted)", err)
	}
}

package casefiles_test

import (
	"context"
	"testing"

	"munigis"
	"munigis/casefiles"
)

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t, "2026-04-22")
	ctx := as(e.subHead)
	c := e.open(t, "Задачи", "T-1").CaseFile
	first, second := c.Tasks[0], c.Tasks[1]
	result := e.doc(t, "Потвърждение", "receipt_confirmation", false)

	// Nothing entered: the message names all three (Art. 110).
	_, err := e.store.CompleteTask(ctx, casefiles.TaskUpdate{ID: first.ID, Version: first.Version, ActualStart: ptr("")})
	wantErr(t, err, munigis.Invalid, "actual_start, actual_end, results", "действително начало")
	// Dates without a result.
	_, err = e.store.CompleteTask(ctx, casefiles.TaskUpdate{ID: first.ID, Version: first.Version,
		ActualStart: ptr("2026-04-22"), ActualEnd: ptr("2026-04-22")})
	wantErr(t, err, munigis.Invalid, "results (at least one result document)", "резултати")
	// An end in the future, an end before the start.
	_, err = e.store.CompleteTask(ctx, casefiles.TaskUpdate{ID: first.ID, Version: first.Version,
		ActualEnd: ptr("2026-04-23"), Results: &[]int64{result.ID}})
	wantErr(t, err, munigis.Invalid, "actual_end: 2026-04-23 is in the future", "в бъдещето")
	_, err = e.store.CompleteTask(ctx, casefiles.TaskUpdate{ID: first.ID, Version: first.Version,
		ActualStart: ptr("2026-04-22"), ActualEnd: ptr("2026-04-21"), Results: &[]int64{result.ID}})
	wantErr(t, err, munigis.Invalid, "actual_end is before actual_start", "преди")
	// Nothing of the refused attempts was kept.
	if got, _ := e.store.Task(context.Background(), first.ID); got.Version != first.Version || len(got.Results) != 0 {
		t.Fatalf("refused completions left %+v", got)
	}
	// A stale version.
	_, err = e.store.CompleteTask(ctx, casefiles.TaskUpdate{ID: first.ID, Version: first.Version + 1})
	wantErr(t, err, munigis.Conflict, "changed by someone else", "променен")

	done, err := e.store.CompleteTask(ctx, casefiles.TaskUpdate{ID: first.ID, Version: first.Version,
		ActualStart: ptr("2026-04-20"), ActualEnd: ptr("2026-04-21"), Results: &[]int64{result.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if done.List != casefiles.Completed || done.State != casefiles.Done || done.ActualStart != "2026-04-20" || done.ActualEnd != "2026-04-21" {
		t.Errorf("completed task %+v", done)
	}
	if len(done.Results) != 1 || done.Results[0] != result.ID {
		t.Errorf("results %v", done.Results)
	}
	// The next stage starts where this one ended (Art. 65(2)).
	next, err := e.store.Task(context.Background(), second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if next.ActualStart != "2026-04-21" || next.State != casefiles.InProgress || next.List != casefiles.Pending {
		t.Errorf("next task %+v", next)
	}

	// Completed → pending again (Art. 66(4)), its end cleared; results stay.
	reopened, err := e.store.ReopenTask(ctx, done.ID, done.Version)
	if err != nil {
		t.Fatal(err)
	}
	if reopened.List != casefiles.Pending || reopened.State != casefiles.InProgress || reopened.ActualEnd != "" || len(reopened.Results) != 1 {
		t.Errorf("reopened %+v", reopened)
	}
	_, err = e.store.ReopenTask(ctx, reopened.ID, reopened.Version)
	wantErr(t, err, munigis.Invalid, "cannot move to pending", "не може да се премести")
	// Results are only added.
	_, err = e.store.UpdateTask(ctx, casefiles.TaskUpdate{ID: reopened.ID, Version: reopened.Version, Results: &[]int64{}})
	wantErr(t, err, munigis.Invalid, "cannot be removed", "не може да се премахне")
	// Cancelled (Art. 65(5)).
	cancelled, err := e.store.CancelTask(ctx, reopened.ID, reopened.Version)
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.List != casefiles.Cancelled || cancelled.State != casefiles.NotDone {
		t.Errorf("cancelled %+v", cancelled)
	}

	// Every inclusion in a list, with who (Art. 65(6)).
	rows, err := e.pool.Query(context.Background(), `SELECT coalesce(from_list, ''), to_list, moved_by FROM task_moves
		WHERE task_id = $1 ORDER BY id`, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	var moves []string
	for rows.Next() {
		var f, to, by string
		if err := rows.Scan(&f, &to, &by); err != nil {
			t.Fatal(err)
		}
		moves = append(moves, f+">"+to+" "+by)
	}
	want := []string{">pending " + e.clerk, "pending>completed " + e.subHead, "completed>pending " + e.subHead, "pending>cancelled " + e.subHead}
	if len(moves) != len(want) {
		t.Fatalf("moves %v, want %v", moves, want)
	}
	for i := range want {
		if moves[i] != want[i] {
			t.Errorf("move %d: %s, want %s", i, moves[i], want[i])
		}
	}

	// The database refuses a completed task without a result, whoever writes it.
	_, err = e.pool.Exec(context.Background(), `UPDATE tasks SET list = 'completed', state = 'done',
		actual_start = '2026-04-20', actual_end = '2026-04-21' WHERE id = $1`, c.Tasks[2].ID)
	if err == nil {
		t.Error("a task was completed in SQL without a result")
	}
}

func TestCloseAndCancel(t *testing.T) {
	e := newEnv(t, "2026-11-25")
	ctx := as(e.parentHead)
	c := e.open(t, "За приключване", "T-1").CaseFile
	_, err := e.store.Close(ctx, c.ID, c.Version, casefiles.Closed)
	wantErr(t, err, munigis.Invalid, "still has 3 pending task(s)", "3 неприключени")
	_, err = e.store.Close(ctx, c.ID, c.Version+1, casefiles.Closed)
	wantErr(t, err, munigis.Conflict, "changed by someone else", "променен")

	// Complete all three; then it closes.
	for _, tk := range c.Tasks {
		cur, err := e.store.Task(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		d := e.doc(t, "Резултат "+tk.Name, "internal_note", false)
		if _, err := e.store.CompleteTask(ctx, casefiles.TaskUpdate{ID: cur.ID, Version: cur.Version,
			ActualStart: ptr("2026-11-25"), ActualEnd: ptr("2026-11-25"), Results: &[]int64{d.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	closed, err := e.store.Close(ctx, c.ID, c.Version, casefiles.Closed)
	if err != nil {
		t.Fatal(err)
	}
	if closed.Status != casefiles.Closed || closed.ClosedAt == nil || closed.Version != c.Version+1 {
		t.Errorf("closed %+v", closed)
	}
	d := e.doc(t, "Късно", "internal_note", false)
	_, err = e.store.AddItem(ctx, c.ID, casefiles.Internal, &d.ID, nil)
	wantErr(t, err, munigis.Invalid, "is closed", "приключена")

	// Cancelling moves the pending tasks to the cancelled list.
	x := e.open(t, "За прекратяване", "T-1").CaseFile
	cancelled, err := e.store.Close(ctx, x.ID, x.Version, casefiles.Cancelled)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range cancelled.Tasks {
		if tk.List != casefiles.Cancelled || tk.State != casefiles.NotDone {
			t.Errorf("task after cancellation %+v", tk)
		}
	}
	_, err = e.store.Close(ctx, x.ID, cancelled.Version, casefiles.Closed)
	wantErr(t, err, munigis.Invalid, "is cancelled", "прекратена")
}

func TestDueLists(t *testing.T) {
	// Wednesday 25 November 2026: the week ends on Sunday 29 November.
	e := newEnv(t, "2026-11-25")
	ctx := as(e.parentHead)
	add := func(name, executor string, unit *int64, end string) casefiles.Task {
		tk, err := e.store.AddTask(ctx, casefiles.Task{Name: name, ExecutorSystemID: executor, UnitID: unit,
			PlannedStart: "2026-11-01", PlannedEnd: end})
		if err != nil {
			t.Fatalf("AddTask(%s): %v", name, err)
		}
		return tk
	}
	// Tasks of the sub-unit's head (unit from the executor), of the parent
	// unit, and of another unit.
	add("просрочена", e.subHead, nil, "2026-11-24")
	add("днес", e.subHead, nil, "2026-11-25")
	add("неделя", e.subHead, nil, "2026-11-29")
	add("следваща седмица", e.subHead, nil, "2026-11-30")
	add("на дирекцията", e.parentHead, nil, "2026-11-20")
	add("другаде", e.clerk, nil, "2026-11-10")
	done := add("изпълнена", e.subHead, nil, "2026-11-02")
	r := e.doc(t, "Р", "internal_note", false)
	if _, err := e.store.CompleteTask(ctx, casefiles.TaskUpdate{ID: done.ID, Version: done.Version,
		ActualStart: ptr("2026-11-02"), ActualEnd: ptr("2026-11-03"), Results: &[]int64{r.ID}}); err != nil {
		t.Fatal(err)
	}

	names := func(q casefiles.DueQuery) []string {
		t.Helper()
		ts, err := e.store.Due(context.Background(), q)
		if err != nil {
			t.Fatalf("Due(%+v): %v", q, err)
		}
		var out []string
		for _, tk := range ts {
			out = append(out, tk.Name)
		}
		return out
	}
	for _, tc := range []struct {
		q    casefiles.DueQuery
		want []string
	}{
		{casefiles.DueQuery{Kind: "overdue", ExecutorSystemID: e.subHead}, []string{"просрочена"}},
		{casefiles.DueQuery{Kind: "week", ExecutorSystemID: e.subHead}, []string{"днес", "неделя"}},
		{casefiles.DueQuery{Kind: "overdue", UnitID: e.sub}, []string{"просрочена"}},
		// The parent unit sees its sub-unit's tasks too.
		{casefiles.DueQuery{Kind: "overdue", UnitID: e.parent}, []string{"на дирекцията", "просрочена"}},
		{casefiles.DueQuery{Kind: "week", UnitID: e.parent}, []string{"днес", "неделя"}},
		{casefiles.DueQuery{Kind: "overdue", UnitID: e.other}, []string{"другаде"}},
	} {
		got := names(tc.q)
		if len(got) != len(tc.want) {
			t.Errorf("%+v: %v, want %v", tc.q, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v: %v, want %v", tc.q, got, tc.want)
				break
			}
		}
	}
	// On Monday 30 November the week is 30 November – 6 December.
	e.store.Now = day("2026-11-30")
	if got := names(casefiles.DueQuery{Kind: "week", ExecutorSystemID: e.subHead}); len(got) != 1 || got[0] != "следваща седмица" {
		t.Errorf("week from Monday: %v", got)
	}
	if got := names(casefiles.DueQuery{Kind: "overdue", ExecutorSystemID: e.subHead}); len(got) != 3 {
		t.Errorf("overdue on Monday: %v", got)
	}
	_, err := e.store.Due(context.Background(), casefiles.DueQuery{Kind: "soon", UnitID: e.sub})
	wantErr(t, err, munigis.Invalid, "kind: overdue or week", "вид")
	_, err = e.store.Due(context.Background(), casefiles.DueQuery{Kind: "week"})
	wantErr(t, err, munigis.Invalid, "exactly one", "точно едно")
}

package casefiles

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
)

const taskColumns = `t.id, t.case_file_id, coalesce(c.number, ''), t.stage_id, t.ordinal, t.name, t.description, t.stage,
	coalesce(u.system_id, ''), coalesce(u.first_name || ' ' || u.surname, ''), t.unit_id,
	coalesce(to_char(t.planned_start, 'YYYY-MM-DD'), ''), coalesce(to_char(t.planned_end, 'YYYY-MM-DD'), ''),
	coalesce(to_char(t.actual_start, 'YYYY-MM-DD'), ''), coalesce(to_char(t.actual_end, 'YYYY-MM-DD'), ''),
	t.list, t.state, ARRAY(SELECT r.document_id FROM task_results r WHERE r.task_id = t.id ORDER BY r.id),
	t.version, t.updated_at, t.updated_by`

const taskFrom = ` FROM tasks t LEFT JOIN case_files c ON c.id = t.case_file_id LEFT JOIN users u ON u.id = t.executor_user_id`

func tasksOf(ctx context.Context, q querier, cond string, args ...any) ([]Task, error) {
	rows, err := q.Query(ctx, `SELECT `+taskColumns+taskFrom+` WHERE `+cond, args...)
	if err != nil {
		return nil, postgis.Translate(err, "casefiles: tasks")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Task, error) {
		var t Task
		err := r.Scan(&t.ID, &t.CaseFileID, &t.CaseNumber, &t.StageID, &t.Ordinal, &t.Name, &t.Description, &t.Stage,
			&t.ExecutorSystemID, &t.ExecutorName, &t.UnitID, &t.PlannedStart, &t.PlannedEnd, &t.ActualStart, &t.ActualEnd,
			&t.List, &t.State, &t.Results, &t.Version, &t.UpdatedAt, &t.UpdatedBy)
		if t.Results == nil {
			t.Results = []int64{}
		}
		return t, err
	})
	if err != nil {
		return nil, postgis.Translate(err, "casefiles: tasks")
	}
	return nonNil(out), nil
}

func getTask(ctx context.Context, q querier, id int64, lock bool) (Task, error) {
	cond := `t.id = $1`
	if lock {
		cond += ` FOR UPDATE OF t`
	}
	ts, err := tasksOf(ctx, q, cond, id)
	if err != nil {
		return Task{}, err
	}
	if len(ts) == 0 {
		return Task{}, taskNotFound(id)
	}
	return ts[0], nil
}

// Task returns the task with id.
func (s *Store) Task(ctx context.Context, id int64) (Task, error) {
	return getTask(ctx, s.pool, id, false)
}

// AddTask adds a pending task (Art. 14), to an open case file or
// standalone (CaseFileID nil, Art. 90). Ordinal 0 puts it after the case's
// last task. Name is required; planned dates are optional.
func (s *Store) AddTask(ctx context.Context, t Task) (Task, error) {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return Task{}, invalid("name is required (enough to tell tasks apart, Art. 14 p. 1)",
			"наименованието е задължително (достатъчно да различи задачите, чл. 14, т. 1)")
	}
	var dates [2]*string
	for i, f := range []struct{ name, v string }{{"planned_start", t.PlannedStart}, {"planned_end", t.PlannedEnd}} {
		if f.v == "" {
			continue
		}
		d, err := parseDate(f.name, f.v)
		if err != nil {
			return Task{}, err
		}
		v := dateString(d)
		dates[i] = &v
	}
	if dates[0] != nil && dates[1] != nil && *dates[1] < *dates[0] {
		return Task{}, invalid("planned_end is before planned_start", "планираният край е преди планираното начало")
	}
	var out Task
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if t.CaseFileID != nil {
			status, _, err := lockCase(ctx, tx, *t.CaseFileID)
			if err != nil {
				if munigis.ErrorCode(err) == munigis.NotFound {
					return invalid(fmt.Sprintf("case_file_id: no case file %d", *t.CaseFileID), fmt.Sprintf("case_file_id: няма преписка № %d", *t.CaseFileID))
				}
				return err
			}
			if status != Open {
				return notOpen(*t.CaseFileID, status)
			}
		}
		var executor *int64
		if strings.TrimSpace(t.ExecutorSystemID) != "" {
			id, err := userID(ctx, tx, t.ExecutorSystemID)
			if err != nil {
				return err
			}
			executor = &id
			if t.UnitID == nil {
				// The executor's unit answers for the task in the unit's
				// due list.
				if err := tx.QueryRow(ctx, `SELECT unit_id FROM users WHERE id = $1`, id).Scan(&t.UnitID); err != nil {
					return postgis.Translate(err, "casefiles: add task")
				}
			}
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO tasks (case_file_id, stage_id, ordinal, name, description, stage,
				executor_user_id, unit_id, planned_start, planned_end, list, state)
			VALUES ($1, $2, CASE WHEN $3 > 0 THEN $3
			                     ELSE (SELECT coalesce(max(ordinal), 0) + 1 FROM tasks WHERE case_file_id = $1) END,
			        $4, $5, $6, $7, $8, $9::date, $10::date, 'pending', 'not_done')
			RETURNING id`,
			t.CaseFileID, t.StageID, t.Ordinal, t.Name, t.Description, t.Stage, executor, t.UnitID, dates[0], dates[1]).Scan(&id)
		if err != nil {
			return postgis.Translate(err, "casefiles: add task")
		}
		out, err = getTask(ctx, tx, id, false)
		return err
	})
	return out, err
}

// applyUpdate writes the fields of u that are set to the locked task cur.
func (s *Store) applyUpdate(ctx context.Context, tx pgx.Tx, cur Task, u TaskUpdate) error {
	if u.ExecutorSystemID != nil {
		var executor *int64
		if strings.TrimSpace(*u.ExecutorSystemID) != "" {
			id, err := userID(ctx, tx, *u.ExecutorSystemID)
			if err != nil {
				return err
			}
			executor = &id
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET executor_user_id = $2 WHERE id = $1`, cur.ID, executor); err != nil {
			return postgis.Translate(err, "casefiles: update task")
		}
	}
	planned, start, end := cur.PlannedEnd, cur.ActualStart, cur.ActualEnd
	for _, f := range []struct {
		field string
		v     *string
		dst   *string
	}{{"planned_end", u.PlannedEnd, &planned}, {"actual_start", u.ActualStart, &start}, {"actual_end", u.ActualEnd, &end}} {
		if f.v == nil {
			continue
		}
		*f.dst = ""
		if strings.TrimSpace(*f.v) == "" {
			continue
		}
		d, err := parseDate(f.field, *f.v)
		if err != nil {
			return err
		}
		if f.field != "planned_end" && d.After(s.today()) {
			return invalid(fmt.Sprintf("%s: %s is in the future", f.field, *f.v), fmt.Sprintf("%s: %s е в бъдещето", f.field, *f.v))
		}
		*f.dst = dateString(d)
	}
	if planned != "" && cur.PlannedStart != "" && planned < cur.PlannedStart {
		return invalid("planned_end is before planned_start", "планираният край е преди планираното начало")
	}
	if start != "" && end != "" && end < start {
		return invalid("actual_end is before actual_start", "действителният край е преди действителното начало")
	}
	if end != "" && start == "" {
		return invalid("actual_end needs actual_start", "действителният край изисква действително начало")
	}
	if planned != cur.PlannedEnd || start != cur.ActualStart || end != cur.ActualEnd {
		// An actual start puts a pending task in progress (Art. 113).
		if _, err := tx.Exec(ctx, `UPDATE tasks SET planned_end = nullif($2, '')::date, actual_start = nullif($3, '')::date,
				actual_end = nullif($4, '')::date,
				state = CASE WHEN list = 'pending' AND $3 <> '' THEN 'in_progress' ELSE state END
			WHERE id = $1`, cur.ID, planned, start, end); err != nil {
			return postgis.Translate(err, "casefiles: update task")
		}
	}
	if u.Results != nil {
		// Results are only added (Art. 104(1)): a list without one already
		// recorded would remove it.
		want := map[int64]bool{}
		for _, d := range *u.Results {
			want[d] = true
		}
		for _, d := range cur.Results {
			if !want[d] {
				return invalid(fmt.Sprintf("results: document %d is a recorded result and cannot be removed", d),
					fmt.Sprintf("резултати: документ № %d е записан резултат и не може да се премахне", d))
			}
		}
		for _, d := range *u.Results {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM documents WHERE id = $1)`, d).Scan(&ok); err != nil {
				return postgis.Translate(err, "casefiles: results")
			}
			if !ok {
				return invalid(fmt.Sprintf("results: no document %d", d), fmt.Sprintf("резултати: няма документ № %d", d))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO task_results (task_id, document_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
				cur.ID, d); err != nil {
				return postgis.Translate(err, "casefiles: results")
			}
		}
	}
	return nil
}

// lockTask locks a task for a change made from version.
func lockTask(ctx context.Context, tx pgx.Tx, id int64, version int) (Task, error) {
	t, err := getTask(ctx, tx, id, true)
	if err != nil {
		return Task{}, err
	}
	if t.Version != version {
		return Task{}, stale("task", id, version)
	}
	return t, nil
}

// UpdateTask changes the executor, planned end, actual dates or results of
// a pending task (results may be added to a completed one too). The actual
// dates may not be in the future; a stale version is a Conflict.
func (s *Store) UpdateTask(ctx context.Context, u TaskUpdate) (Task, error) {
	var out Task
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockTask(ctx, tx, u.ID, u.Version)
		if err != nil {
			return err
		}
		if cur.List != Pending && (u.ExecutorSystemID != nil || u.PlannedEnd != nil || u.ActualStart != nil || u.ActualEnd != nil) {
			return invalid(fmt.Sprintf("task %d is %s: reopen it to change it (Art. 66(4))", u.ID, cur.List),
				fmt.Sprintf("задача № %d не е в списъка на предстоящите: отворете я отново, за да я промените (чл. 66, ал. 4)", u.ID))
		}
		if cur.List == Cancelled && u.Results != nil {
			return invalid(fmt.Sprintf("task %d is cancelled", u.ID), fmt.Sprintf("задача № %d е отменена", u.ID))
		}
		if err := s.applyUpdate(ctx, tx, cur, u); err != nil {
			return err
		}
		out, err = getTask(ctx, tx, u.ID, false)
		return err
	})
	return out, err
}

// CompleteTask applies u and moves the pending task to the completed list
// as done (Art. 65(4)). It needs the actual start, the actual end (not
// before the start, not in the future) and at least one result document
// (Art. 110). The next pending task of the case starts: its actual start
// is this end unless already set, and it is in progress (Art. 65(2)).
func (s *Store) CompleteTask(ctx context.Context, u TaskUpdate) (Task, error) {
	var out Task
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockTask(ctx, tx, u.ID, u.Version)
		if err != nil {
			return err
		}
		if cur.List != Pending {
			return invalid(fmt.Sprintf("task %d is %s, not pending", u.ID, cur.List), fmt.Sprintf("задача № %d не е в списъка на предстоящите", u.ID))
		}
		if err := s.applyUpdate(ctx, tx, cur, u); err != nil {
			return err
		}
		t, err := getTask(ctx, tx, u.ID, false)
		if err != nil {
			return err
		}
		var missing, missingBG []string
		if t.ActualStart == "" {
			missing, missingBG = append(missing, "actual_start"), append(missingBG, "действително начало")
		}
		if t.ActualEnd == "" {
			missing, missingBG = append(missing, "actual_end"), append(missingBG, "действителен край")
		}
		if len(t.Results) == 0 {
			missing, missingBG = append(missing, "results (at least one result document)"), append(missingBG, "резултати (поне един документ)")
		}
		if len(missing) > 0 {
			return invalid(fmt.Sprintf("a task is completed only with its %s (Art. 110)", strings.Join(missing, ", ")),
				fmt.Sprintf("задачата се изпълнява само с въведени %s (чл. 110)", strings.Join(missingBG, ", ")))
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET list = 'completed', state = 'done' WHERE id = $1`, u.ID); err != nil {
			return postgis.Translate(err, "casefiles: complete task")
		}
		if t.CaseFileID != nil {
			if _, err := tx.Exec(ctx, `UPDATE tasks SET actual_start = coalesce(actual_start, $2::date), state = 'in_progress'
				WHERE id = (SELECT id FROM tasks WHERE case_file_id = $1 AND list = 'pending' AND id <> $3
				            ORDER BY ordinal, id LIMIT 1)`, *t.CaseFileID, t.ActualEnd, u.ID); err != nil {
				return postgis.Translate(err, "casefiles: next task")
			}
		}
		out, err = getTask(ctx, tx, u.ID, false)
		return err
	})
	return out, err
}

// CancelTask moves a pending or completed task to the cancelled list
// (Art. 65(5): a task deleted from either list).
func (s *Store) CancelTask(ctx context.Context, id int64, version int) (Task, error) {
	return s.move(ctx, id, version, []string{Pending, Completed}, Cancelled, NotDone)
}

// ReopenTask moves a completed task back to the pending list, in progress
// again, its actual end cleared (Art. 66(4)–(5)); its results stay.
func (s *Store) ReopenTask(ctx context.Context, id int64, version int) (Task, error) {
	return s.move(ctx, id, version, []string{Completed}, Pending, InProgress)
}

func (s *Store) move(ctx context.Context, id int64, version int, from []string, to, state string) (Task, error) {
	var out Task
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := lockTask(ctx, tx, id, version)
		if err != nil {
			return err
		}
		ok := false
		for _, f := range from {
			ok = ok || cur.List == f
		}
		if !ok {
			return invalid(fmt.Sprintf("task %d is %s: it cannot move to %s", id, cur.List, to),
				fmt.Sprintf("задача № %d е в списък %s и не може да се премести в %s", id, cur.List, to))
		}
		if cur.CaseFileID != nil && to == Pending {
			status, _, err := lockCase(ctx, tx, *cur.CaseFileID)
			if err != nil {
				return err
			}
			if status != Open {
				return notOpen(*cur.CaseFileID, status)
			}
		}
		sql := `UPDATE tasks SET list = $2, state = $3 WHERE id = $1`
		if to == Pending {
			sql = `UPDATE tasks SET list = $2, state = $3, actual_end = NULL WHERE id = $1`
		}
		if _, err := tx.Exec(ctx, sql, id, to, state); err != nil {
			return postgis.Translate(err, "casefiles: move task")
		}
		out, err = getTask(ctx, tx, id, false)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Task{}, taskNotFound(id)
	}
	return out, err
}

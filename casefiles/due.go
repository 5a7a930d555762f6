package casefiles

import (
	"context"
	"fmt"
	"strings"

	"munigis/internal/postgis"
)

// Due returns the pending tasks of a person (ExecutorSystemID) or of a unit
// with all its sub-units (UnitID) that are overdue (planned end before
// today, in Sofia) or due this week (planned end from today to this week's
// Sunday), earliest deadline first.
func (s *Store) Due(ctx context.Context, q DueQuery) ([]Task, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 200
	}
	today := s.today()
	var from, to *string
	switch q.Kind {
	case "overdue":
		d := dateString(today)
		to = &d // planned_end < today
	case "week":
		// Monday is the first day of the week in Bulgaria.
		sunday := today.AddDate(0, 0, (7-int(today.Weekday()))%7)
		f, t := dateString(today), dateString(sunday.AddDate(0, 0, 1))
		from, to = &f, &t
	default:
		return nil, invalid("kind: overdue or week", "вид: overdue (просрочени) или week (за седмицата)")
	}
	person := strings.TrimSpace(q.ExecutorSystemID)
	if (person == "") == (q.UnitID == 0) {
		return nil, invalid("executor or unit: give exactly one", "изпълнител или звено: посочете точно едно")
	}
	// Both shapes read only the partial indexes on the pending tasks
	// (tasks_due_executor, tasks_due_unit) in deadline order.
	dates := ` AND t.planned_end < $2::date AND ($3::date IS NULL OR t.planned_end >= $3::date)`
	order := fmt.Sprintf(` ORDER BY t.planned_end, t.id LIMIT %d`, q.Limit)
	if person != "" {
		id, err := userID(ctx, s.pool, person)
		if err != nil {
			return nil, err
		}
		return tasksOf(ctx, s.pool, `t.list = 'pending' AND t.executor_user_id = $1`+dates+order, id, to, from)
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE id = $1)`, q.UnitID).Scan(&exists); err != nil {
		return nil, postgis.Translate(err, "casefiles: due")
	}
	if !exists {
		return nil, invalid(fmt.Sprintf("unit: no unit %d", q.UnitID), fmt.Sprintf("звено: няма звено № %d", q.UnitID))
	}
	// Per unit, the first Limit tasks by deadline straight from the
	// partial index, then the first Limit of those: = ANY over the units
	// would sort every pending task of a directorate (60 ms for 23,000
	// overdue ones; this is a few ms).
	return tasksOf(ctx, s.pool, fmt.Sprintf(`t.id IN (
			WITH RECURSIVE sub (id) AS (SELECT $1::bigint UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)
			SELECT x.id FROM sub, LATERAL (
				SELECT t.id, t.planned_end FROM tasks t
				WHERE t.list = 'pending' AND t.unit_id = sub.id%s
				ORDER BY t.planned_end, t.id LIMIT %d) x
			ORDER BY x.planned_end, x.id LIMIT %d)`, dates, q.Limit, q.Limit)+` ORDER BY t.planned_end, t.id`, q.UnitID, to, from)
}

// Related returns the case files linked to identifier or to anything
// under it (a parcel's buildings and their units), newest first, each with
// the identifier it was found by (the highest one when it has several).
func (s *Store) Related(ctx context.Context, identifier string) ([]Summary, error) {
	ids, err := cleanIdentifiers([]string{identifier})
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, number, name, status, service, identifier, opened_on FROM (
			SELECT DISTINCT ON (c.id) c.id, c.number, c.name, c.status, coalesce(sv.code, '') AS service, o.identifier,
			       to_char(c.created_at AT TIME ZONE 'Europe/Sofia', 'YYYY-MM-DD') AS opened_on, c.created_at
			FROM case_file_objects o
			JOIN case_files c ON c.id = o.case_file_id
			LEFT JOIN services sv ON sv.id = c.service_id
			WHERE o.unlinked_at IS NULL AND (o.identifier = $1 OR o.identifier LIKE $1 || '.%')
			ORDER BY c.id, length(o.identifier), o.identifier) r
		ORDER BY created_at DESC, id DESC`, ids[0])
	if err != nil {
		return nil, postgis.Translate(err, "casefiles: related")
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var v Summary
		if err := rows.Scan(&v.ID, &v.Number, &v.Name, &v.Status, &v.Service, &v.Identifier, &v.OpenedOn); err != nil {
			return nil, postgis.Translate(err, "casefiles: related")
		}
		out = append(out, v)
	}
	return out, postgis.Translate(rows.Err(), "casefiles: related")
}

package casefiles

import (
	"context"
	"fmt"
	"strings"
	"time"

	// Europe/Sofia must resolve without the OS time zone database.
	_ "time/tzdata"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/documents"
	"munigis/internal/postgis"
	"munigis/workdays"
)

// Sofia is the time zone dates are shown and counted in.
var Sofia = mustLoad("Europe/Sofia")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded: cannot happen
	}
	return l
}

// Store keeps case files, services and tasks.
type Store struct {
	pool *pgxpool.Pool
	docs *documents.Store
	cal  *workdays.Calendar
	// Now is the clock: "today" of the due lists, the open date of a case
	// and the check that an actual end is not in the future. Default
	// time.Now; tests set a fixed day.
	Now func() time.Time
	// afterWrite runs after every committed write (see OnWrite).
	afterWrite func(context.Context)
}

// NewStore returns a Store on pool, creating and registering documents
// through docs and counting deadlines with cal (workdays.Bulgaria() when
// nil).
func NewStore(pool *pgxpool.Pool, docs *documents.Store, cal *workdays.Calendar) *Store {
	if cal == nil {
		cal = workdays.Bulgaria()
	}
	return &Store{pool: pool, docs: docs, cal: cal, Now: time.Now}
}

// OnWrite makes fn run after every write that commits (munigis serve
// passes the tile cache's Sync, so the case_files layer is fresh for the
// clerk who has just linked a case). Set it before the store is shared.
func (s *Store) OnWrite(fn func(context.Context)) { s.afterWrite = fn }

func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := postgis.Tx(ctx, s.pool, fn)
	if err == nil && s.afterWrite != nil {
		s.afterWrite(ctx)
	}
	return err
}

// today is the current date in Sofia, at midnight Sofia time.
func (s *Store) today() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	y, m, d := now().In(Sofia).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Sofia)
}

// parseDate reads a YYYY-MM-DD date of field, as a Sofia midnight.
func parseDate(field, v string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(v), Sofia)
	if err != nil {
		return time.Time{}, invalid(fmt.Sprintf("%s: %q is not a date (YYYY-MM-DD)", field, v),
			fmt.Sprintf("%s: %q не е дата (ГГГГ-ММ-ДД)", field, v))
	}
	return t, nil
}

func dateString(t time.Time) string { return t.Format(time.DateOnly) }

func invalid(en, bg string) error {
	return &munigis.Error{Code: munigis.Invalid, Message: en, MessageBG: bg}
}

func notFound(en, bg string) error {
	return &munigis.Error{Code: munigis.NotFound, Message: en, MessageBG: bg}
}

func caseNotFound(id int64) error {
	return notFound(fmt.Sprintf("case file %d does not exist", id), fmt.Sprintf("преписка № %d не съществува", id))
}

func taskNotFound(id int64) error {
	return notFound(fmt.Sprintf("task %d does not exist", id), fmt.Sprintf("задача № %d не съществува", id))
}

func stale(what string, id int64, version int) error {
	return &munigis.Error{Code: munigis.Conflict,
		Message:   fmt.Sprintf("%s %d was changed by someone else since version %d; reload it and try again", what, id, version),
		MessageBG: fmt.Sprintf("%s № %d е променен(а) от друг след версия %d; заредете отново и опитайте пак", bgWhat(what), id, version)}
}

func bgWhat(what string) string {
	switch what {
	case "case file":
		return "преписка"
	case "task":
		return "задача"
	}
	return what
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(context.Context, string, ...any) pgx.Row
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// userID resolves a user's system identifier ("U-000001").
func userID(ctx context.Context, q querier, systemID string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM users WHERE system_id = $1`, strings.TrimSpace(systemID)).Scan(&id)
	if err == pgx.ErrNoRows {
		return 0, invalid(fmt.Sprintf("executor: no user %q", systemID), fmt.Sprintf("изпълнител: няма потребител %q", systemID))
	}
	if err != nil {
		return 0, postgis.Translate(err, "casefiles: user")
	}
	return id, nil
}

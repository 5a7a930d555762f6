package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	// Europe/Sofia must resolve without the OS time zone database.
	_ "time/tzdata"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier is what this package needs of a database: a *pgxpool.Pool, a
// *pgx.Conn or a pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Sofia is the time zone in which times are shown to people.
var Sofia = mustLoad("Europe/Sofia")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded: cannot happen
	}
	return loc
}

// Entry is one row of the trail.
type Entry struct {
	ID      int64
	At      time.Time // UTC, whole seconds
	Actor   string    // system identifier: "U-000001", "cli:root", "db:postgres", "anonymous"
	Action  string    // "sign_in", "grant", "feature.update", "layer.create", ...
	Object  string    // "layer:cadastre_parcels/123", "user:U-000002", ...
	Before  json.RawMessage
	After   json.RawMessage
	Address string
	// PrevHash and Hash are the chain: Hash = SHA-256(PrevHash || Canonical).
	PrevHash []byte
	Hash     []byte
}

// Version1 is the first line of the canonical text.
const Version1 = "munigis-audit-v1"

// Canonical returns the text that the row's hash covers, exactly as the SQL
// function audit_canonical of migration 000004 builds it: the line
// "munigis-audit-v1", then one line per field in the order id, at, actor,
// action, object, before, after, address, each "~" for NULL or
// "<number of UTF-8 bytes>:<value>"; at is written
// YYYY-MM-DDTHH:MM:SS.ffffffZ in UTC, before and after are PostgreSQL's
// text form of the jsonb value. Pointers stand for nullable fields.
func Canonical(id int64, at time.Time, actor, action, object string, before, after, address *string) string {
	var b strings.Builder
	b.WriteString(Version1)
	b.WriteByte('\n')
	field := func(v *string) {
		if v == nil {
			b.WriteString("~\n")
			return
		}
		b.WriteString(strconv.Itoa(len(*v)))
		b.WriteByte(':')
		b.WriteString(*v)
		b.WriteByte('\n')
	}
	ids := strconv.FormatInt(id, 10)
	ats := at.UTC().Format("2006-01-02T15:04:05.000000Z")
	field(&ids)
	field(&ats)
	field(&actor)
	field(&action)
	field(&object)
	field(before)
	field(after)
	field(address)
	return b.String()
}

// Hash returns SHA-256(prev || canonical).
func Hash(prev []byte, canonical string) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write([]byte(canonical))
	return h.Sum(nil)
}

// Genesis is the prev_hash of the first row: 32 zero bytes.
var Genesis = make([]byte, sha256.Size)

// Report is the outcome of Verify.
type Report struct {
	// Rows is the number of rows checked (up to and including the broken
	// one, if any).
	Rows int64
	// LastID and LastHash are the last intact row's; keep LastHash outside
	// the database (print it, file it) to anchor the chain: a later Verify
	// whose chain does not pass through it shows a rewrite of the whole tail.
	LastID   int64
	LastHash []byte
	// Broken is nil when the chain is intact.
	Broken *Break
}

// Break names the first row at which the chain fails.
type Break struct {
	ID     int64
	Reason string
}

func (b *Break) Error() string { return fmt.Sprintf("audit row %d: %s", b.ID, b.Reason) }

// OK reports whether the whole chain verified.
func (r Report) OK() bool { return r.Broken == nil }

// Verify recomputes the chain over every row in id order, streaming (memory
// does not grow with the table), and returns the first row that breaks it:
// a row whose contents no longer give its hash (it was changed), or whose
// prev_hash is not the hash of the row before it (a row before it was
// removed or changed). Finally it checks that the chain's head
// (audit_head) points at the last row, which shows rows removed from the
// end. The error is for a failure to read, not for a broken chain.
func Verify(ctx context.Context, db Querier) (Report, error) {
	var rep Report
	rows, err := db.Query(ctx, `SELECT id, at, actor, action, object, before::text, after::text, address, prev_hash, hash
		FROM audit_log ORDER BY id`)
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	prev := Genesis
	var (
		id                     int64
		at                     time.Time
		actor, action, object  string
		before, after, address *string
		prevHash, hash         []byte
	)
	for rows.Next() {
		if err := rows.Scan(&id, &at, &actor, &action, &object, &before, &after, &address, &prevHash, &hash); err != nil {
			return rep, fmt.Errorf("audit: verify: %w", err)
		}
		rep.Rows++
		if !bytes.Equal(prevHash, prev) {
			what := "its prev_hash is not the hash of the row before it: a row before it was removed or changed"
			if rep.LastID == 0 {
				what = "it is the first row but its prev_hash is not the chain's start: rows before it were removed"
			}
			rep.Broken = &Break{ID: id, Reason: fmt.Sprintf("%s (row %d's hash is %s, this row's prev_hash is %s)",
				what, rep.LastID, short(prev), short(prevHash))}
			return rep, nil
		}
		want := Hash(prevHash, Canonical(id, at, actor, action, object, before, after, address))
		if !bytes.Equal(want, hash) {
			rep.Broken = &Break{ID: id, Reason: fmt.Sprintf(
				"its contents do not match its hash: the row was changed after it was written (stored %s, recomputed %s)",
				short(hash), short(want))}
			return rep, nil
		}
		prev = hash
		rep.LastID, rep.LastHash = id, hash
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	var headID int64
	var headHash []byte
	if err := db.QueryRow(ctx, `SELECT last_id, last_hash FROM audit_head`).Scan(&headID, &headHash); err != nil {
		return rep, fmt.Errorf("audit: verify: read head: %w", err)
	}
	if headID != rep.LastID || !bytes.Equal(headHash, prev) {
		rep.Broken = &Break{ID: headID, Reason: fmt.Sprintf(
			"the chain's head names row %d (hash %s) but the last row is %d (hash %s): rows were removed from the end",
			headID, short(headHash), rep.LastID, short(prev))}
	}
	return rep, nil
}

func short(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// Filter selects rows for List. Zero fields do not filter.
type Filter struct {
	// Object matches the object itself and everything under it:
	// "layer:cadastre_parcels" matches "layer:cadastre_parcels/123" too.
	Object string
	// Actor is a system identifier, matched exactly.
	Actor string
	// From (inclusive) and To (exclusive) bound the time.
	From, To time.Time
	// Limit defaults to DefaultLimit and is capped at MaxLimit.
	Limit, Offset int
}

// Paging bounds.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// List returns the rows that match f, newest first, and how many match in
// all.
func List(ctx context.Context, db Querier, f Filter) ([]Entry, int64, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	if f.Limit > MaxLimit {
		f.Limit = MaxLimit
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Object != "" {
		p := arg(f.Object)
		where = append(where, fmt.Sprintf("(object = %s OR object LIKE %s)", p, arg(likePrefix(f.Object)+"/%")))
	}
	if f.Actor != "" {
		where = append(where, "actor = "+arg(f.Actor))
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(f.To))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int64
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	q := `SELECT id, at, actor, action, object, before, after, coalesce(address, ''), prev_hash, hash FROM audit_log` +
		cond + ` ORDER BY id DESC LIMIT ` + arg(f.Limit) + ` OFFSET ` + arg(f.Offset)
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var before, after []byte
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Object, &before, &after, &e.Address, &e.PrevHash, &e.Hash); err != nil {
			return nil, 0, fmt.Errorf("audit: list: %w", err)
		}
		e.At = e.At.UTC()
		if before != nil {
			e.Before = json.RawMessage(before)
		}
		if after != nil {
			e.After = json.RawMessage(after)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	return out, total, nil
}

// likePrefix escapes LIKE's wildcards (the default escape is \).
func likePrefix(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Record appends one event through the SQL function audit_record, in the
// caller's transaction when db is a pgx.Tx. address may be "". The event
// is chained when its transaction commits (so a long transaction does not
// hold the chain); its id is known only then, so Record returns none.
func Record(ctx context.Context, db Querier, action, object string, before, after any, address string) error {
	var id *int64
	err := db.QueryRow(ctx, `SELECT audit_record($1, $2, $3, $4, nullif($5, ''))`,
		action, object, jsonArg(before), jsonArg(after), address).Scan(&id)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", action, err)
	}
	return nil
}

func jsonArg(v any) any {
	if v == nil {
		return nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

// Log is the trail of one database, for callers that hold it as a value
// (web.Deps.Audit).
type Log struct{ DB Querier }

// NewLog returns the trail of db.
func NewLog(db Querier) Log { return Log{DB: db} }

// List is List on l's database.
func (l Log) List(ctx context.Context, f Filter) ([]Entry, int64, error) { return List(ctx, l.DB, f) }

// Verify is Verify on l's database.
func (l Log) Verify(ctx context.Context) (Report, error) { return Verify(ctx, l.DB) }

package registers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"munigis/internal/postgis"
	"munigis/registers/persons"
	"munigis/spatial"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Query selects register entries. Every condition that is set must hold.
type Query struct {
	// Register limits the search to one register; "" searches every
	// register Visible allows.
	Register string
	// Visible says which registers the caller may search (access.Viewer's
	// CanReadRegister, or "published" for the public); nil allows all. A
	// Register it refuses is answered NotFound, as if it did not exist.
	Visible func(register string) bool
	// Public marks a search by the public: only published registers; Text
	// is matched against the number, the identifiers and the public text
	// fields only, Identifier only in registers whose identifiers are
	// public, and PersonID is refused (each would tell who or what stands
	// in the fields the public does not see).
	Public bool
	// Identifier keeps entries on this cadastral object; with Below also
	// those on every object inside it (a parcel's buildings and their
	// units).
	Identifier string
	Below      bool
	// Number keeps entries whose number starts with it (any case).
	Number string
	// PersonID keeps entries naming this person in any role.
	PersonID int64
	// Text is free text, Cyrillic or Latin: it matches the number,
	// identifiers, text fields and parties' names, directly or through the
	// official transliteration ("Troyan" finds "Троян" and back).
	Text string
	// Status keeps entries with this status.
	Status string
	// DateFrom and DateTo (YYYY-MM-DD, inclusive) bound the entry date.
	DateFrom, DateTo string
	// Limit caps the result (1..MaxLimit, default DefaultLimit; NoLimit
	// streams every match, for exports); Offset skips.
	Limit, Offset int
}

// Paging bounds of Search.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	NoLimit      = -1
)

// sqlArgs collects bind parameters.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// likeEscape escapes the LIKE wildcards of s (the escape character is \).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// where compiles q into a WHERE clause over register_entries e. It needs
// the register types to resolve Visible and, for Public, the public fields.
func (s *Store) where(ctx context.Context, q *Query, args *sqlArgs, types []Type) (string, error) {
	var regs []Type
	for _, t := range types {
		if (q.Register == "" || t.Name == q.Register) && (q.Visible == nil || q.Visible(t.Name)) && (t.Published || !q.Public) {
			regs = append(regs, t)
		}
	}
	if q.Register != "" && len(regs) == 0 {
		return "", typeNotFound(q.Register)
	}
	if q.Public && strings.TrimSpace(q.Identifier) != "" {
		// Finding entries by identifier tells their identifiers: the
		// public searches so only registers whose identifiers are public.
		kept := regs[:0:0]
		for _, t := range regs {
			if f, ok := t.IdentifiersField(); ok && f.Public {
				kept = append(kept, t)
			}
		}
		regs = kept
	}
	if q.Public && q.PersonID != 0 {
		return "", invalid("person: the public cannot search by person", "лице: търсенето по лице не е публично")
	}
	var conds []string
	if q.Register != "" && len(regs) == 1 {
		conds = append(conds, "e.register = "+args.add(q.Register))
	} else if q.Visible != nil || q.Public || q.Register != "" {
		names := make([]string, len(regs))
		for i, t := range regs {
			names[i] = t.Name
		}
		conds = append(conds, "e.register = ANY("+args.add(names)+"::text[])")
	}
	if q.Identifier != "" {
		id, err := spatial.Parse(strings.TrimSpace(q.Identifier))
		if err != nil {
			return "", identifierInvalid(err)
		}
		cond := "o.identifier = " + args.add(id.String())
		if q.Below {
			cond = "(" + cond + " OR o.identifier LIKE " + args.add(likeEscape(id.String())+".%") + ")"
		}
		conds = append(conds, "e.id IN (SELECT o.entry_id FROM entry_objects o WHERE "+cond+")")
	}
	if n := strings.TrimSpace(q.Number); n != "" {
		conds = append(conds, "munigis_fold(e.number) LIKE "+args.add(likeEscape(persons.Fold(n))+"%"))
	}
	if q.PersonID != 0 {
		conds = append(conds, "e.id IN (SELECT p.entry_id FROM entry_parties p WHERE p.person_id = "+args.add(q.PersonID)+")")
	}
	if st := strings.TrimSpace(q.Status); st != "" {
		conds = append(conds, "e.status = "+args.add(st))
	}
	for _, d := range []struct {
		v, op, name string
	}{{q.DateFrom, ">=", "from"}, {q.DateTo, "<=", "to"}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return "", invalid(fmt.Sprintf("%s: %q is not a date (YYYY-MM-DD)", d.name, short(d.v)),
				fmt.Sprintf("%s: %q не е дата (ГГГГ-ММ-ДД)", map[string]string{"from": "от", "to": "до"}[d.name], short(d.v)))
		}
		conds = append(conds, "e.entry_date "+d.op+" "+args.add(d.v)+"::date")
	}
	if text := strings.TrimSpace(q.Text); text != "" {
		if len([]rune(text)) < 2 {
			return "", invalid("q: give at least 2 characters to search for", "търсене: въведете поне 2 знака")
		}
		folded, latin := likeEscape(persons.Fold(text)), likeEscape(persons.Translit(text))
		if !q.Public {
			// search_text holds the folded text and its transliteration:
			// the folded query finds either script as typed, its
			// transliteration finds Cyrillic typed as Latin is stored.
			// Both LIKEs use the trigram index (a BitmapOr).
			cond := "e.search_text LIKE " + args.add("%"+folded+"%")
			if latin != folded {
				cond = "(" + cond + " OR e.search_text LIKE " + args.add("%"+latin+"%") + ")"
			}
			conds = append(conds, cond)
		} else {
			// The public's text: the number, identifiers and public text
			// fields of published registers only, folded and
			// transliterated here (no index: the public registers are
			// small, and search_text holds what the public must not probe).
			var pub []string
			for _, t := range regs {
				parts := []string{"e.number", "array_to_string(e.identifiers, ' ')"}
				for _, f := range t.Fields {
					if f.Public && (f.Type == Text || f.Type == Enum) && f.Name != StatusField {
						parts = append(parts, "(e.data ->> "+args.add(f.Name)+")")
					}
				}
				pub = append(pub, "WHEN "+args.add(t.Name)+" THEN concat_ws(' ', "+strings.Join(parts, ", ")+")")
			}
			if len(pub) == 0 {
				conds = append(conds, "false")
			} else {
				txt := "(CASE e.register " + strings.Join(pub, " ") + " END)"
				pf, pl := args.add("%"+folded+"%"), args.add("%"+latin+"%")
				// The transliteration of the text matches the query's
				// whichever script either is written in; the folded text
				// matches the query as typed.
				conds = append(conds, "(munigis_fold("+txt+") LIKE "+pf+" OR munigis_translit("+txt+") LIKE "+pl+")")
			}
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

func identifierInvalid(err error) error {
	if pe, ok := err.(*spatial.ParseError); ok {
		return invalid("identifier: "+pe.Error(), "идентификатор: "+pe.MessageBG())
	}
	return invalid("identifier: "+err.Error(), "идентификатор: "+err.Error())
}

// Search streams the entries matching q to fn, newest first (by date, then
// id); it stops at the first error fn returns. With Limit NoLimit every
// match streams with flat memory (rows are read as fn consumes them).
// Returns Invalid for a bad query and NotFound for a register that does not
// exist or that Visible refuses.
func (s *Store) Search(ctx context.Context, q Query, fn func(Entry) error) error {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit != NoLimit && (q.Limit < 1 || q.Limit > MaxLimit) {
		return invalid(fmt.Sprintf("limit must be between 1 and %d", MaxLimit), fmt.Sprintf("limit трябва да е между 1 и %d", MaxLimit))
	}
	if q.Offset < 0 {
		return invalid("offset must not be negative", "offset не може да е отрицателен")
	}
	types, err := s.Types(ctx)
	if err != nil {
		return err
	}
	byName := make(map[string]Type, len(types))
	for _, t := range types {
		byName[t.Name] = t
	}
	_, err = s.run(ctx, q, byName, types, planFree, fn)
	return err
}

// How run lets PostgreSQL find a page of free text (see Page).
const (
	planFree    = iota // the planner chooses
	planWindow         // only among the newest textWindow entries
	planTrigram        // through the trigram index, never by walking in order
)

// textWindow is how many of the newest entries a free-text page looks at
// first (see Page). A variable so tests can shrink it.
var textWindow = 2000

// Page runs Search for one page (q.Limit must not be NoLimit) and also
// tells how many entries match in all when that is cheap to know, else -1.
//
// A free-text page is found in one of two ways, because neither is fast for
// every word and the planner cannot tell a common word from a rare one: a
// common word ("Троян" is in most addresses) fills its page at once from
// the register's newest entries walked in order, while a rare one is found
// at once through the trigram index, which for a common word would return
// most of the register to be sorted. So the page first looks among the
// newest textWindow entries; when its matches there fill the page, they are
// the page (the newest matches of all). Otherwise the page is read through
// the trigram index.
//
// A page that is not full tells the total by itself. A full page of a
// search without free text is counted within countBudget (its conditions
// are indexed: identifiers, numbers, persons, dates). A full page of a free
// text search is not counted: counting a common word means reading every
// match through the trigram index (84–120 ms for a word in 12,000–100,000 of
// 200,000 entries, and statement_timeout cannot stop the index part early),
// which would cost more than the page itself.
func (s *Store) Page(ctx context.Context, q Query, countBudget time.Duration, fn func(Entry) error) (int64, error) {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit == NoLimit {
		return -1, invalid("a page needs a limit", "страницата трябва да има граница")
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return -1, invalid(fmt.Sprintf("limit must be between 1 and %d", MaxLimit), fmt.Sprintf("limit трябва да е между 1 и %d", MaxLimit))
	}
	if q.Offset < 0 {
		return -1, invalid("offset must not be negative", "offset не може да е отрицателен")
	}
	types, err := s.Types(ctx)
	if err != nil {
		return -1, err
	}
	byName := make(map[string]Type, len(types))
	for _, t := range types {
		byName[t.Name] = t
	}
	plan := planFree
	if strings.TrimSpace(q.Text) != "" && q.Offset+q.Limit <= textWindow {
		// First among the newest entries: a common word fills its page
		// there at once. Buffered, and handed on only when full.
		var found []Entry
		n, err := s.run(ctx, q, byName, types, planWindow, func(e Entry) error {
			found = append(found, e)
			return nil
		})
		if err != nil {
			return -1, err
		}
		if n == q.Limit {
			for _, e := range found {
				if err := fn(e); err != nil {
					return -1, err
				}
			}
			return -1, nil
		}
		// A rarer word: through the trigram index. The planner, which
		// cannot tell how common a word is, would sometimes walk the
		// whole register in order looking for it (140 ms at p99 on
		// 200,000 entries).
		plan = planTrigram
	}
	n, err := s.run(ctx, q, byName, types, plan, fn)
	if err != nil {
		return -1, err
	}
	if n < q.Limit && (n > 0 || q.Offset == 0) {
		return int64(q.Offset + n), nil
	}
	if strings.TrimSpace(q.Text) != "" {
		return -1, nil
	}
	total, known, err := s.CountWithin(ctx, q, countBudget)
	if err != nil || !known {
		return -1, err
	}
	return total, nil
}

// run runs the search of q with plan and returns how many entries it
// passed to fn.
func (s *Store) run(ctx context.Context, q Query, byName map[string]Type, types []Type, plan int, fn func(Entry) error) (int, error) {
	var args sqlArgs
	where, err := s.where(ctx, &q, &args, types)
	if err != nil {
		return 0, err
	}
	from := `register_entries e`
	if plan == planWindow {
		// A derived table, not "id IN (…)": the conditions cannot be
		// pushed into it, so PostgreSQL walks the newest entries in
		// order and stops as soon as the page is full.
		window := `SELECT * FROM register_entries p`
		if q.Register != "" {
			window += ` WHERE p.register = ` + args.add(q.Register)
		}
		from = `(` + window + ` ORDER BY p.entry_date DESC NULLS LAST, p.id DESC LIMIT ` + args.add(textWindow) + `) e`
	}
	sql := `SELECT ` + entryColumns + ` FROM ` + from + where +
		` ORDER BY e.entry_date DESC NULLS LAST, e.id DESC`
	if q.Limit != NoLimit {
		sql += " LIMIT " + args.add(q.Limit)
	}
	if q.Offset > 0 {
		sql += " OFFSET " + args.add(q.Offset)
	}
	var db interface {
		Query(context.Context, string, ...any) (pgx.Rows, error)
	} = s.pool
	if plan == planTrigram {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return 0, postgis.Translate(err, "registers: search")
		}
		defer tx.Rollback(ctx)
		// Plain index scans off for this query only: the ordered walk
		// is one, while the trigram index is read as a bitmap.
		if _, err := tx.Exec(ctx, `SET LOCAL enable_indexscan = off`); err != nil {
			return 0, postgis.Translate(err, "registers: search")
		}
		db = tx
	}
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return 0, postgis.Translate(err, "registers: search")
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return n, fmt.Errorf("registers: search: %w", err)
		}
		byName[e.Register].typed(e.Data)
		n++
		if err := fn(e); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, postgis.Translate(err, "registers: search")
	}
	return n, nil
}

// Count returns how many entries match q (Limit and Offset do not
// matter). Errors as Search.
func (s *Store) Count(ctx context.Context, q Query) (int64, error) {
	types, err := s.Types(ctx)
	if err != nil {
		return 0, err
	}
	var args sqlArgs
	where, err := s.where(ctx, &q, &args, types)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM register_entries e`+where, args...).Scan(&n); err != nil {
		return 0, postgis.Translate(err, "registers: count")
	}
	return n, nil
}

// CountWithin counts the entries matching q if PostgreSQL can do it within
// budget, and reports known false when it cannot: a search page must stay
// fast (the issue asks p99 under 100 ms for free text) even when its
// matches are too many to count quickly, and an API may then leave the
// total out, as OGC API Features allows. The budget is a statement_timeout
// local to the count's transaction, so the connection stays usable (a
// cancelled context would close it).
func (s *Store) CountWithin(ctx context.Context, q Query, budget time.Duration) (n int64, known bool, err error) {
	types, err := s.Types(ctx)
	if err != nil {
		return 0, false, err
	}
	var args sqlArgs
	where, err := s.where(ctx, &q, &args, types)
	if err != nil {
		return 0, false, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, false, postgis.Translate(err, "registers: count")
	}
	defer tx.Rollback(ctx)
	ms := max(budget.Milliseconds(), 1)
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL statement_timeout = %d`, ms)); err != nil {
		return 0, false, postgis.Translate(err, "registers: count")
	}
	err = tx.QueryRow(ctx, `SELECT count(*) FROM register_entries e`+where, args...).Scan(&n)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "57014" {
		return 0, false, nil // over budget: the total is left unknown
	}
	if err != nil {
		return 0, false, postgis.Translate(err, "registers: count")
	}
	return n, true, nil
}

// CountUpTo counts the entries matching q, but stops at limit: n is exact
// when n < limit, else the count is at least limit. A page of a common
// word is fast (the newest entries are walked until the page is full);
// counting all its matches is not (190 ms for 33,000 of 200,000 entries),
// so a list shows "1000+" instead. Errors as Search.
func (s *Store) CountUpTo(ctx context.Context, q Query, limit int64) (n int64, exact bool, err error) {
	if limit < 1 {
		return 0, false, invalid("count limit must be positive", "границата на броенето трябва да е положителна")
	}
	types, err := s.Types(ctx)
	if err != nil {
		return 0, false, err
	}
	var args sqlArgs
	where, err := s.where(ctx, &q, &args, types)
	if err != nil {
		return 0, false, err
	}
	sql := `SELECT count(*) FROM (SELECT 1 FROM register_entries e` + where + ` LIMIT ` + args.add(limit) + `) _s`
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, false, postgis.Translate(err, "registers: count")
	}
	return n, n < limit, nil
}

// visibleNames returns the names of the registers visible allows.
func (s *Store) visibleNames(ctx context.Context, visible func(string) bool) ([]Type, []string, error) {
	types, err := s.Types(ctx)
	if err != nil {
		return nil, nil, err
	}
	var kept []Type
	var names []string
	for _, t := range types {
		if visible == nil || visible(t.Name) {
			kept = append(kept, t)
			names = append(names, t.Name)
		}
	}
	slices.Sort(names)
	return kept, names, nil
}

// typeMap returns every register type by name.
func (s *Store) typeMap(ctx context.Context) (map[string]Type, error) {
	types, err := s.Types(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Type, len(types))
	for _, t := range types {
		m[t.Name] = t
	}
	return m, nil
}

package registers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
	"munigis/spatial"
)

// RelatedGroup is the entries of one register that hang off a cadastral
// object.
type RelatedGroup struct {
	Register string  `json:"register"`
	TitleBG  string  `json:"title_bg"`
	TitleEN  string  `json:"title_en"`
	Entries  []Entry `json:"entries"`
}

// maxRelated bounds Related: a parcel carries a handful of entries, a
// town's central parcel with hundreds of units perhaps a few hundred.
const maxRelated = 2000

// Related returns the entries on the cadastral object identifier and on
// every object inside it (a parcel's buildings and their units), grouped
// by register in the order of Types, entries newest first, for the
// registers visible allows. Returns Invalid for a malformed identifier.
func (s *Store) Related(ctx context.Context, identifier string, visible func(register string) bool) ([]RelatedGroup, error) {
	id, err := spatial.Parse(identifier)
	if err != nil {
		return nil, identifierInvalid(err)
	}
	types, names, err := s.visibleNames(ctx, visible)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return []RelatedGroup{}, nil
	}
	// entry_objects' text_pattern_ops index answers both the equality and
	// the prefix; the entries are then fetched by primary key.
	rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+` FROM register_entries e
		WHERE e.id IN (SELECT o.entry_id FROM entry_objects o WHERE o.identifier = $1 OR o.identifier LIKE $2)
		  AND e.register = ANY($3::text[])
		ORDER BY e.entry_date DESC NULLS LAST, e.id DESC LIMIT $4`,
		id.String(), likeEscape(id.String())+".%", names, maxRelated)
	if err != nil {
		return nil, postgis.Translate(err, "registers: related")
	}
	defer rows.Close()
	byRegister := map[string][]Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("registers: related: %w", err)
		}
		for _, t := range types {
			if t.Name == e.Register {
				t.typed(e.Data)
			}
		}
		byRegister[e.Register] = append(byRegister[e.Register], e)
	}
	if err := rows.Err(); err != nil {
		return nil, postgis.Translate(err, "registers: related")
	}
	out := []RelatedGroup{}
	for _, t := range types {
		if es := byRegister[t.Name]; len(es) > 0 {
			out = append(out, RelatedGroup{Register: t.Name, TitleBG: t.TitleBG, TitleEN: t.TitleEN, Entries: es})
		}
	}
	return out, nil
}

// UnresolvedEntry is an entry with identifiers that match no cadastral
// object (yet, or any more): Missing lists them.
type UnresolvedEntry struct {
	Entry   Entry    `json:"entry"`
	Missing []string `json:"missing"`
}

// Unresolved returns the entries of register (every register when "")
// with an identifier that matches no object of the cadastre layers, oldest
// entry first, so that they are listed rather than lost.
func (s *Store) Unresolved(ctx context.Context, register string) ([]UnresolvedEntry, error) {
	types, err := s.typeMap(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := types[register]; register != "" && !ok {
		return nil, typeNotFound(register)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+`, m.missing
		FROM (SELECT o.entry_id, array_agg(o.identifier ORDER BY o.identifier) AS missing
		      FROM entry_objects o
		      WHERE NOT EXISTS (SELECT 1 FROM cadastral_objects c WHERE c.identifier = o.identifier)
		      GROUP BY o.entry_id) m
		JOIN register_entries e ON e.id = m.entry_id
		WHERE $1 = '' OR e.register = $1
		ORDER BY e.id`, register)
	if err != nil {
		return nil, postgis.Translate(err, "registers: unresolved")
	}
	defer rows.Close()
	out := []UnresolvedEntry{}
	for rows.Next() {
		var u UnresolvedEntry
		var parties, data []byte
		e := &u.Entry
		if err := rows.Scan(&e.ID, &e.Register, &e.Number, &e.Date, &e.Status, &e.Identifiers, &parties, &data,
			&e.Version, &e.CreatedAt, &e.CreatedBy, &e.UpdatedAt, &e.UpdatedBy, &u.Missing); err != nil {
			return nil, fmt.Errorf("registers: unresolved: %w", err)
		}
		if err := fillJSON(e, parties, data); err != nil {
			return nil, fmt.Errorf("registers: unresolved: %w", err)
		}
		types[e.Register].typed(e.Data)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, postgis.Translate(err, "registers: unresolved")
	}
	return out, nil
}

// Flag says that an entry's cadastral object stopped existing: the parcel
// was split, merged, re-numbered or removed. Suggested are the objects of
// the same level that now cover more than 10 % of the old one's area.
type Flag struct {
	ID         int64     `json:"id"`
	EntryID    int64     `json:"entry_id"`
	Register   string    `json:"register"`
	Number     string    `json:"number"`
	Identifier string    `json:"identifier"`
	Layer      string    `json:"layer"`
	Reason     string    `json:"reason"` // deleted or renumbered
	Suggested  []string  `json:"suggested"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
}

// Flags returns the open flags of the registers visible allows, oldest
// first.
func (s *Store) Flags(ctx context.Context, visible func(register string) bool) ([]Flag, error) {
	_, names, err := s.visibleNames(ctx, visible)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT f.id, f.entry_id, e.register, e.number, f.identifier, f.layer, f.reason,
			f.suggested, f.created_at, f.created_by
		FROM register_flags f JOIN register_entries e ON e.id = f.entry_id
		WHERE f.resolved_at IS NULL AND e.register = ANY($1::text[])
		ORDER BY f.id`, names)
	if err != nil {
		return nil, postgis.Translate(err, "registers: flags")
	}
	defer rows.Close()
	out := []Flag{}
	for rows.Next() {
		var f Flag
		if err := rows.Scan(&f.ID, &f.EntryID, &f.Register, &f.Number, &f.Identifier, &f.Layer, &f.Reason,
			&f.Suggested, &f.CreatedAt, &f.CreatedBy); err != nil {
			return nil, fmt.Errorf("registers: flags: %w", err)
		}
		out = append(out, f)
	}
	return out, postgis.Translate(rows.Err(), "registers: flags")
}

// Resolve closes flag flagID by a person's decision: the entry's old
// identifier is replaced by newIdentifiers (usually some of the
// suggestions; none keeps the entry on the old identifier, which then
// shows as unresolved), written as a new version of the entry, and the
// flag records who resolved it, when and how. Returns NotFound for an
// unknown flag, Conflict for one already resolved, Invalid for a malformed
// identifier. The caller checks that the viewer may edit the register
// (RegisterOfFlag).
func (s *Store) Resolve(ctx context.Context, flagID int64, newIdentifiers []string) (Entry, error) {
	var out Entry
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var entryID int64
		var old string
		var resolved *time.Time
		err := tx.QueryRow(ctx, `SELECT entry_id, identifier, resolved_at FROM register_flags WHERE id = $1 FOR UPDATE`,
			flagID).Scan(&entryID, &old, &resolved)
		if errors.Is(err, pgx.ErrNoRows) {
			return &munigis.Error{Code: munigis.NotFound, Message: fmt.Sprintf("flag %d does not exist", flagID),
				MessageBG: fmt.Sprintf("сигнал № %d не съществува", flagID)}
		}
		if err != nil {
			return postgis.Translate(err, "registers: resolve")
		}
		if resolved != nil {
			return &munigis.Error{Code: munigis.Conflict, Message: fmt.Sprintf("flag %d was already resolved", flagID),
				MessageBG: fmt.Sprintf("сигнал № %d вече е решен", flagID)}
		}
		cur, err := getEntry(ctx, tx, entryID, true)
		if err != nil {
			return err
		}
		next := cur
		next.Identifiers = nil
		for _, id := range cur.Identifiers {
			if id != old {
				next.Identifiers = append(next.Identifiers, id)
			}
		}
		if len(newIdentifiers) == 0 {
			next.Identifiers = cur.Identifiers
		}
		for _, s := range newIdentifiers {
			next.Identifiers = append(next.Identifiers, strings.TrimSpace(s))
		}
		next.Version = 0
		if out, err = update(ctx, tx, cur, next); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE register_flags SET resolved_at = date_trunc('second', now()), resolved_by = munigis_actor(),
				resolution = $2 WHERE id = $1`, flagID, append([]string{}, newIdentifiers...))
		if err != nil {
			return postgis.Translate(err, "registers: resolve")
		}
		_, err = tx.Exec(ctx, `SELECT audit_record('register_flag.resolve', 'register_flag:' || $1::bigint,
				jsonb_build_object('entry_id', $2::bigint, 'identifier', $3::text),
				jsonb_build_object('entry_id', $2::bigint, 'identifiers', to_jsonb($4::text[])))`,
			flagID, entryID, old, out.Identifiers)
		return postgis.Translate(err, "registers: resolve")
	})
	if err != nil {
		return Entry{}, err
	}
	return out, nil
}

// RegisterOfFlag returns the register of the entry flag flagID is about,
// so that the caller can check the viewer's edit right before Resolve.
func (s *Store) RegisterOfFlag(ctx context.Context, flagID int64) (string, error) {
	var reg string
	err := s.pool.QueryRow(ctx, `SELECT e.register FROM register_flags f JOIN register_entries e ON e.id = f.entry_id
		WHERE f.id = $1`, flagID).Scan(&reg)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", &munigis.Error{Code: munigis.NotFound, Message: fmt.Sprintf("flag %d does not exist", flagID),
			MessageBG: fmt.Sprintf("сигнал № %d не съществува", flagID)}
	}
	return reg, postgis.Translate(err, "registers: flag")
}

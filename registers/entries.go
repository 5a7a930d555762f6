package registers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"munigis"
	"munigis/internal/postgis"
)

// Party is a person named in an entry, in the role of one of the type's
// person fields (Role is the field's name: "holder", "tenant",
// "investors"). Name, Kind and EIK are read from the person's record; they
// are ignored when writing.
type Party struct {
	PersonID int64  `json:"person_id"`
	Role     string `json:"role"`
	Name     string `json:"name,omitempty"`
	// Kind is "natural" or "legal" (persons.Kind).
	Kind string `json:"kind,omitempty"`
	// EIK of a legal entity (public in the Commercial Register); a natural
	// person's identifiers are never part of an entry.
	EIK string `json:"eik,omitempty"`
}

// Entry is one entry of a register.
type Entry struct {
	ID       int64  `json:"id"`
	Register string `json:"register"`
	// Number is the act, permit or contract number, unique in the register.
	Number string `json:"number"`
	// Date is the entry's date (of the act, permit, contract), YYYY-MM-DD.
	Date   string `json:"date"`
	Status string `json:"status,omitempty"`
	// Identifiers are the cadastral objects the entry is about (the type's
	// cadastral_ids field).
	Identifiers []string `json:"identifiers"`
	Parties     []Party  `json:"parties"`
	// Data holds the type's other fields by name: string (text, enum,
	// date as YYYY-MM-DD), int64 (integer, reference), float64, bool.
	Data      map[string]any `json:"data"`
	Version   int            `json:"version"`
	CreatedAt time.Time      `json:"created_at"`
	CreatedBy string         `json:"created_by"`
	UpdatedAt time.Time      `json:"updated_at"`
	UpdatedBy string         `json:"updated_by"`
}

// entryColumns reads an entry of alias e, with its parties' names in the
// order of the parties (one query for any number of entries: a search
// streams thousands).
const entryColumns = `e.id, e.register, e.number, coalesce(to_char(e.entry_date, 'YYYY-MM-DD'), ''), coalesce(e.status, ''),
	e.identifiers,
	(SELECT coalesce(jsonb_agg(jsonb_build_object('person_id', (_x ->> 'person_id')::bigint, 'role', _x ->> 'role',
			'name', _p.name, 'kind', _p.kind, 'eik', _p.eik) ORDER BY _n), '[]')
	 FROM jsonb_array_elements(e.parties) WITH ORDINALITY _a(_x, _n)
	 LEFT JOIN persons _p ON _p.id = (_x ->> 'person_id')::bigint),
	e.data, e.version, e.created_at, e.created_by, e.updated_at, e.updated_by`

func scanEntry(row pgx.Row) (Entry, error) {
	var e Entry
	var parties, data []byte
	err := row.Scan(&e.ID, &e.Register, &e.Number, &e.Date, &e.Status, &e.Identifiers, &parties, &data,
		&e.Version, &e.CreatedAt, &e.CreatedBy, &e.UpdatedAt, &e.UpdatedBy)
	if err != nil {
		return e, err
	}
	return e, fillJSON(&e, parties, data)
}

// fillJSON decodes an entry's parties and data as entryColumns reads them.
func fillJSON(e *Entry, parties, data []byte) error {
	if err := json.Unmarshal(parties, &e.Parties); err != nil {
		return fmt.Errorf("parties of entry %d: %w", e.ID, err)
	}
	var err error
	if e.Data, err = decodeData(data); err != nil {
		return fmt.Errorf("data of entry %d: %w", e.ID, err)
	}
	if e.Identifiers == nil {
		e.Identifiers = []string{}
	}
	if e.Parties == nil {
		e.Parties = []Party{}
	}
	return nil
}

// decodeData reads entry data keeping integers integers (json.Number, then
// int64 where the number has no fraction).
func decodeData(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	m := map[string]any{}
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				m[k] = i
			} else if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	return m, nil
}

func entryNotFound(id int64) error {
	return &munigis.Error{Code: munigis.NotFound, Message: fmt.Sprintf("register entry %d does not exist", id),
		MessageBG: fmt.Sprintf("вписване № %d не съществува", id)}
}

// Get returns the entry with id, or NotFound. The caller checks that the
// viewer may read e.Register.
func (s *Store) Get(ctx context.Context, id int64) (Entry, error) {
	return getEntry(ctx, s.pool, id, false)
}

func getEntry(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id int64, lock bool) (Entry, error) {
	sql := `SELECT ` + entryColumns + ` FROM register_entries e WHERE e.id = $1`
	if lock {
		sql += ` FOR UPDATE OF e`
	}
	e, err := scanEntry(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, entryNotFound(id)
	}
	if err != nil {
		return Entry{}, postgis.Translate(err, "registers: get entry")
	}
	t, err := getType(ctx, q, e.Register)
	if err != nil {
		return Entry{}, err
	}
	t.typed(e.Data)
	return e, nil
}

func marshalParties(ps []Party) ([]byte, error) {
	type stored struct {
		PersonID int64  `json:"person_id"`
		Role     string `json:"role"`
	}
	out := make([]stored, len(ps))
	for i, p := range ps {
		out[i] = stored{p.PersonID, p.Role}
	}
	return json.Marshal(out)
}

// translateWrite turns the number's unique violation (two clerks writing
// the same number at once) into the Conflict checkRefs gives.
func translateWrite(err error, t Type, number, what string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "register_entries_number_key" {
		return numberTaken(t, number, 0)
	}
	return postgis.Translate(err, what)
}

// Create validates e against its register's type and stores it as a new
// entry in one transaction, returning it as stored (ID, version 1, stamps,
// parties' names). Returns NotFound for an unknown register, Invalid naming
// the field for bad input (an unknown person, a malformed identifier, dates
// out of order), Conflict for a number or unique value already used.
func (s *Store) Create(ctx context.Context, e Entry) (Entry, error) {
	t, err := s.Type(ctx, e.Register)
	if err != nil {
		return Entry{}, err
	}
	e, err = normalise(t, e)
	if err != nil {
		return Entry{}, err
	}
	e.ID = 0
	var out Entry
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkRefs(ctx, tx, t, &e); err != nil {
			return err
		}
		parties, err := marshalParties(e.Parties)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO register_entries (register, number, entry_date, status, identifiers, parties, data)
			VALUES ($1, $2, $3::date, nullif($4, ''), $5, $6, $7) RETURNING id`,
			t.Name, e.Number, e.Date, e.Status, e.Identifiers, parties, e.Data).Scan(&id)
		if err != nil {
			return translateWrite(err, t, e.Number, "registers: create entry")
		}
		out, err = getEntry(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	return out, nil
}

// Update replaces the entry e.ID with e (every field: one left out is
// cleared), validated like Create, and returns the new version; the
// earlier one goes to the history. The register cannot change. When
// e.Version is set and is not the current version, someone else changed
// the entry meanwhile and Update refuses with Conflict rather than
// overwrite it. Returns NotFound for an unknown entry.
func (s *Store) Update(ctx context.Context, e Entry) (Entry, error) {
	var out Entry
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := getEntry(ctx, tx, e.ID, true)
		if err != nil {
			return err
		}
		var errOut error
		out, errOut = update(ctx, tx, cur, e)
		return errOut
	})
	if err != nil {
		return Entry{}, err
	}
	return out, nil
}

// update writes e over cur (locked by the caller) inside tx.
func update(ctx context.Context, tx pgx.Tx, cur, e Entry) (Entry, error) {
	if e.Register != "" && e.Register != cur.Register {
		return Entry{}, invalid(fmt.Sprintf("register: entry %d belongs to register %s and cannot move to %s", cur.ID, cur.Register, short(e.Register)),
			fmt.Sprintf("регистър: вписване № %d е в регистър %s и не може да се премести", cur.ID, cur.Register))
	}
	if e.Version != 0 && e.Version != cur.Version {
		return Entry{}, &munigis.Error{Code: munigis.Conflict,
			Message: fmt.Sprintf("version: entry %d was changed by %s at %s (version %d, you edited version %d); reload it and apply your change again",
				cur.ID, cur.UpdatedBy, cur.UpdatedAt.UTC().Format(time.RFC3339), cur.Version, e.Version),
			MessageBG: fmt.Sprintf("версия: вписване № %d е променено от %s в %s (версия %d, вие редактирахте версия %d); заредете го отново",
				cur.ID, cur.UpdatedBy, cur.UpdatedAt.UTC().Format(time.RFC3339), cur.Version, e.Version)}
	}
	t, err := getType(ctx, tx, cur.Register)
	if err != nil {
		return Entry{}, err
	}
	e, err = normalise(t, e)
	if err != nil {
		return Entry{}, err
	}
	e.ID = cur.ID
	if err := checkRefs(ctx, tx, t, &e); err != nil {
		return Entry{}, err
	}
	parties, err := marshalParties(e.Parties)
	if err != nil {
		return Entry{}, err
	}
	_, err = tx.Exec(ctx, `UPDATE register_entries SET number = $2, entry_date = $3::date, status = nullif($4, ''),
			identifiers = $5, parties = $6, data = $7
		WHERE id = $1`, e.ID, e.Number, e.Date, e.Status, e.Identifiers, parties, e.Data)
	if err != nil {
		return Entry{}, translateWrite(err, t, e.Number, "registers: update entry")
	}
	return getEntry(ctx, tx, e.ID, false)
}

// Version is an earlier version of an entry, ended by a change or a
// deletion: Entry holds the values it had (Entry.Version its number,
// UpdatedAt/UpdatedBy when and by whom it was written), ValidTo/EndedBy
// when and by whom it was replaced.
type Version struct {
	Entry
	ValidFrom time.Time `json:"valid_from"`
	ValidTo   time.Time `json:"valid_to"`
	EndedBy   string    `json:"ended_by"`
	EndedHow  string    `json:"ended_how"`
}

// History returns the earlier versions of entry id, oldest first; an entry
// never changed has none. Parties carry their persons' current names.
// Returns NotFound when the entry never existed.
func (s *Store) History(ctx context.Context, id int64) ([]Version, error) {
	types, err := s.typeMap(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT e.entry_id, e.register, e.number, coalesce(to_char(e.entry_date, 'YYYY-MM-DD'), ''),
			coalesce(e.status, ''), e.identifiers,
			(SELECT coalesce(jsonb_agg(jsonb_build_object('person_id', (_x ->> 'person_id')::bigint, 'role', _x ->> 'role',
					'name', _p.name, 'kind', _p.kind, 'eik', _p.eik) ORDER BY _n), '[]')
			 FROM jsonb_array_elements(e.parties) WITH ORDINALITY _a(_x, _n)
			 LEFT JOIN persons _p ON _p.id = (_x ->> 'person_id')::bigint),
			e.data, e.version, e.valid_from, e.created_by, e.valid_to, e.ended_by, e.ended_how
		FROM register_entry_versions e WHERE e.entry_id = $1 ORDER BY e.version`, id)
	if err != nil {
		return nil, postgis.Translate(err, "registers: history")
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		var parties, data []byte
		if err := rows.Scan(&v.ID, &v.Register, &v.Number, &v.Date, &v.Status, &v.Identifiers, &parties, &data,
			&v.Entry.Version, &v.ValidFrom, &v.UpdatedBy, &v.ValidTo, &v.EndedBy, &v.EndedHow); err != nil {
			return nil, fmt.Errorf("registers: history: %w", err)
		}
		v.UpdatedAt = v.ValidFrom
		if err := json.Unmarshal(parties, &v.Parties); err != nil {
			return nil, fmt.Errorf("registers: history: %w", err)
		}
		if v.Data, err = decodeData(data); err != nil {
			return nil, fmt.Errorf("registers: history: %w", err)
		}
		if t, ok := types[v.Register]; ok {
			t.typed(v.Data)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, postgis.Translate(err, "registers: history")
	}
	if len(out) == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM register_entries WHERE id = $1)`, id).Scan(&exists); err != nil {
			return nil, postgis.Translate(err, "registers: history")
		}
		if !exists {
			return nil, entryNotFound(id)
		}
	}
	return out, nil
}

package documents

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
)

// The official document register (Art. 23–31). Entries are written once
// and never changed (Art. 29(1)); corrections are separate rows, shown with
// the entry. The sequence runs within a calendar year (Art. 28(6)) from a
// row-locked counter, so it has no gaps: a registration that fails rolls
// its number back with it.

// FormatNumber writes a registration number, <index>-<sequence>-<DD.MM.YYYY>
// (Art. 28(6), without leading zeros). SQL: munigis_odr_number.
func FormatNumber(index string, sequence int, receivedOn time.Time) string {
	return fmt.Sprintf("%s-%d-%s", index, sequence, receivedOn.Format("02.01.2006"))
}

var numberRE = regexp.MustCompile(`^([0-9A-Za-z]{1,20})-([0-9]{1,12})-([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$`)

// ParseNumber reads a registration number, with or without leading zeros
// in the index and the sequence (Art. 28(6) allows both), and returns its
// parts, the index without leading zeros and the date as YYYY-MM-DD.
func ParseNumber(number string) (index string, sequence int, receivedOn string, err error) {
	m := numberRE.FindStringSubmatch(strings.TrimSpace(number))
	bad := invalid(fmt.Sprintf("number: %q is not a registration number (index-sequence-DD.MM.YYYY)", short(number)),
		fmt.Sprintf("номер: %q не е регистрационен номер (индекс-пореден номер-ДД.ММ.ГГГГ)", short(number)))
	if m == nil {
		return "", 0, "", bad
	}
	seq, err := strconv.Atoi(m[2])
	if err != nil || seq <= 0 {
		return "", 0, "", bad
	}
	day, _ := strconv.Atoi(m[3])
	month, _ := strconv.Atoi(m[4])
	year, _ := strconv.Atoi(m[5])
	d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if d.Day() != day || int(d.Month()) != month {
		return "", 0, "", bad
	}
	index = strings.TrimLeft(m[1], "0")
	if index == "" {
		index = "0"
	}
	return index, seq, d.Format(time.DateOnly), nil
}

// receivedOn checks a date of receipt or signing: YYYY-MM-DD, never in the
// future (Europe/Sofia); "" is today.
func (s *Store) receivedOn(v string) (time.Time, error) {
	today, _ := time.Parse(time.DateOnly, s.today())
	if v == "" {
		return today, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, invalid(fmt.Sprintf("received_on: %q is not a date (YYYY-MM-DD)", short(v)),
			fmt.Sprintf("дата на получаване: %q не е дата (ГГГГ-ММ-ДД)", short(v)))
	}
	if d.After(today) {
		return time.Time{}, invalid(fmt.Sprintf("received_on: %s is in the future (today is %s)", v, today.Format(time.DateOnly)),
			fmt.Sprintf("дата на получаване: %s е в бъдещето (днес е %s)", d.Format("02.01.2006"), today.Format("02.01.2006")))
	}
	if d.Year() < 2000 {
		return time.Time{}, invalid(fmt.Sprintf("received_on: %s is before 2000", v),
			fmt.Sprintf("дата на получаване: %s е преди 2000 г.", d.Format("02.01.2006")))
	}
	return d, nil
}

// registeringContext makes the system the actor of a registration made
// without a user (automatic registration, Art. 28(1) p. 2), so that the
// audit trail names the same actor as the entry.
func (s *Store) registeringContext(ctx context.Context) context.Context {
	if munigis.Actor(ctx) == "" {
		return munigis.WithActor(ctx, s.cfg.SystemURI)
	}
	return ctx
}

// Register enters document documentID in the official register with type
// typeCode ("" = the document's own type) and date of receipt receivedOn
// (YYYY-MM-DD, "" = today in Europe/Sofia). The caller checks
// CanRegisterDocuments.
func (s *Store) Register(ctx context.Context, documentID int64, typeCode string, receivedOn string) (Registration, error) {
	ctx = s.registeringContext(ctx)
	var out Registration
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = s.RegisterTx(ctx, tx, documentID, typeCode, receivedOn)
		return err
	})
	return out, err
}

// RegisterTx is Register inside the caller's transaction. Entered by is
// munigis.Actor(ctx), or Config.SystemURI without one. The caller's
// transaction holds the year's counter row from the registration to its
// end: keep what follows short, and register documents the transaction
// created itself (or lock documents in id order), or two transactions
// can deadlock on a document and the counter.
func (s *Store) RegisterTx(ctx context.Context, tx pgx.Tx, documentID int64, typeCode string, receivedOn string) (Registration, error) {
	typeCode = strings.TrimSpace(typeCode)
	received, err := s.receivedOn(strings.TrimSpace(receivedOn))
	if err != nil {
		return Registration{}, err
	}
	st, err := readSettings(ctx, tx, false)
	if err != nil {
		return Registration{}, err
	}
	if st.Status != "active" {
		return Registration{}, conflict(fmt.Sprintf("the %s is archived and takes no new entries (Art. 23(5))", st.Name),
			fmt.Sprintf("%s е архивен и не приема нови вписвания (чл. 23, ал. 5)", st.Name))
	}
	// The document row lock serialises two registrations of one document:
	// the second sees the first's entry once the first commits.
	d, err := getDocument(ctx, tx, documentID, true)
	if err != nil {
		return Registration{}, err
	}
	if d.Registration != nil {
		return Registration{}, conflict(fmt.Sprintf("document %d is already registered as %s", documentID, d.Registration.Number),
			fmt.Sprintf("документ %d вече е регистриран с № %s", documentID, d.Registration.Number))
	}
	if typeCode == "" {
		typeCode = d.TypeCode
	}
	if typeCode == "" {
		return Registration{}, invalid("type: a document is registered with its type (Art. 28(1) p. 5)",
			"вид: документът се регистрира с вида си (чл. 28, ал. 1, т. 5)")
	}
	t, err := typeForInput(ctx, tx, typeCode)
	if err != nil {
		return Registration{}, err
	}
	if typeCode != d.TypeCode {
		// The type given at registration is the document's type.
		if _, err := tx.Exec(ctx, `UPDATE documents SET type_id = $2 WHERE id = $1`, documentID, t.ID); err != nil {
			return Registration{}, postgis.Translate(err, "documents: register")
		}
	}
	enteredAt := s.now()
	year := enteredAt.In(sofia).Year()
	enteredBy := munigis.Actor(ctx)
	if enteredBy == "" {
		enteredBy = s.cfg.SystemURI
	}
	// The counter row lock is taken last, just before the entry, and held
	// to the end of the transaction: registrations of a year queue here,
	// so everything else is done before it.
	var seq int
	if err := tx.QueryRow(ctx, `INSERT INTO odr_counters (year, last) VALUES ($1, 1)
		ON CONFLICT (year) DO UPDATE SET last = odr_counters.last + 1 RETURNING last`, year).Scan(&seq); err != nil {
		return Registration{}, postgis.Translate(err, "documents: register")
	}
	// The answer is built from what is known rather than read back, so
	// that the counter is released (at commit) as early as possible.
	r := Registration{Index: st.Index, Year: year, Sequence: seq, ReceivedOn: received.Format(time.DateOnly),
		DocumentID: documentID, DocumentName: d.Name, TypeCode: t.Code, TypeName: t.Name, RegisteredType: t.Code,
		EnteredBy: enteredBy, Corrections: []Correction{}}
	err = tx.QueryRow(ctx, `INSERT INTO odr_entries (registration_index, year, sequence, received_on, document_id,
			document_type_id, entered_at, entered_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, number, entered_at`,
		st.Index, year, seq, r.ReceivedOn, documentID, t.ID, enteredAt, enteredBy).Scan(&r.ID, &r.Number, &r.EnteredAt)
	if err != nil {
		return Registration{}, postgis.Translate(err, "documents: register")
	}
	return r, nil
}

// registrationSelect reads entries of alias e with the current type (the
// last 'type' correction's, else the registered one) and date of receipt.
const registrationSelect = `SELECT e.id, e.number, e.registration_index, e.year, e.sequence, to_char(e.received_on, 'YYYY-MM-DD'),
	e.document_id, d.name, coalesce(ct.code, rt.code), coalesce(ct.name, rt.name), rt.code,
	coalesce(cr.new_value, ''), cv.void, e.entered_at, e.entered_by, count(*) OVER ()
	FROM odr_entries e
	JOIN documents d ON d.id = e.document_id
	JOIN document_types rt ON rt.id = e.document_type_id
	LEFT JOIN LATERAL (SELECT c.new_value FROM odr_corrections c WHERE c.entry_id = e.id AND c.field = 'type'
	                   ORDER BY c.id DESC LIMIT 1) ctc ON true
	LEFT JOIN document_types ct ON ct.code = ctc.new_value
	LEFT JOIN LATERAL (SELECT c.new_value FROM odr_corrections c WHERE c.entry_id = e.id AND c.field = 'received_on'
	                   ORDER BY c.id DESC LIMIT 1) cr ON true
	CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM odr_corrections c WHERE c.entry_id = e.id AND c.field = 'void') AS void) cv`

func scanRegistrations(ctx context.Context, q querier, where string, args ...any) ([]Registration, int64, error) {
	rows, err := q.Query(ctx, registrationSelect+" "+where, args...)
	if err != nil {
		return nil, 0, postgis.Translate(err, "documents: register entries")
	}
	var total int64
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Registration, error) {
		var g Registration
		err := r.Scan(&g.ID, &g.Number, &g.Index, &g.Year, &g.Sequence, &g.ReceivedOn, &g.DocumentID, &g.DocumentName,
			&g.TypeCode, &g.TypeName, &g.RegisteredType, &g.CorrectedReceivedOn, &g.Void, &g.EnteredAt, &g.EnteredBy, &total)
		return g, err
	})
	if err != nil {
		return nil, 0, postgis.Translate(err, "documents: register entries")
	}
	if len(out) == 0 {
		return []Registration{}, 0, nil
	}
	ids := make([]int64, len(out))
	at := map[int64]int{}
	for i, g := range out {
		ids[i] = g.ID
		at[g.ID] = i
	}
	cs, err := corrections(ctx, q, `WHERE c.entry_id = ANY($1)`, ids)
	if err != nil {
		return nil, 0, err
	}
	for _, c := range cs {
		out[at[c.EntryID]].Corrections = append(out[at[c.EntryID]].Corrections, c)
	}
	return out, total, nil
}

func corrections(ctx context.Context, q querier, where string, args ...any) ([]Correction, error) {
	rows, err := q.Query(ctx, `SELECT c.id, c.entry_id, c.field, c.old_value, c.new_value, c.reason, c.at, c.by
		FROM odr_corrections c `+where+` ORDER BY c.id`, args...)
	if err != nil {
		return nil, postgis.Translate(err, "documents: corrections")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Correction, error) {
		var c Correction
		err := r.Scan(&c.ID, &c.EntryID, &c.Field, &c.OldValue, &c.NewValue, &c.Reason, &c.At, &c.By)
		return c, err
	})
	if err != nil {
		return nil, postgis.Translate(err, "documents: corrections")
	}
	if out == nil {
		out = []Correction{}
	}
	return out, nil
}

func entryNotFound(what string) error {
	return notFound(fmt.Sprintf("register entry %s does not exist", what), fmt.Sprintf("вписване %s не съществува", what))
}

func entryByID(ctx context.Context, q querier, id int64) (Registration, error) {
	rs, _, err := scanRegistrations(ctx, q, `WHERE e.id = $1`, id)
	if err != nil {
		return Registration{}, err
	}
	if len(rs) == 0 {
		return Registration{}, entryNotFound(strconv.FormatInt(id, 10))
	}
	return rs[0], nil
}

// Entry returns the entry with a registration number, written with or
// without leading zeros (1-000567-23.05.2026 is 1-567-23.05.2026).
func (s *Store) Entry(ctx context.Context, number string) (Registration, error) {
	index, seq, received, err := ParseNumber(number)
	if err != nil {
		return Registration{}, err
	}
	rs, _, err := scanRegistrations(ctx, s.pool,
		`WHERE ltrim(e.registration_index, '0') = ltrim($1, '0') AND e.sequence = $2 AND e.received_on = $3::date`,
		index, seq, received)
	if err != nil {
		return Registration{}, err
	}
	if len(rs) == 0 {
		return Registration{}, entryNotFound(strings.TrimSpace(short(number)))
	}
	return rs[0], nil
}

// MaxEntries is the largest page of Entries.
const MaxEntries = 500

// Entries lists the register, newest first, a page at a time, with the
// number of entries matching q.
func (s *Store) Entries(ctx context.Context, q EntryQuery) ([]Registration, int64, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Year != 0 {
		where = append(where, "e.year = "+arg(q.Year))
	}
	for _, b := range []struct {
		v, op, name, nameBG string
	}{{q.From, ">=", "from", "от"}, {q.To, "<=", "to", "до"}} {
		if b.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, b.v); err != nil {
			return nil, 0, invalid(fmt.Sprintf("%s: %q is not a date (YYYY-MM-DD)", b.name, short(b.v)),
				fmt.Sprintf("%s: %q не е дата (ГГГГ-ММ-ДД)", b.nameBG, short(b.v)))
		}
		// The day of entry in Europe/Sofia.
		where = append(where, "(e.entered_at AT TIME ZONE 'Europe/Sofia')::date "+b.op+" "+arg(b.v)+"::date")
	}
	if q.Type = strings.TrimSpace(q.Type); q.Type != "" {
		where = append(where, "coalesce(ct.code, rt.code) = "+arg(q.Type))
	}
	if q.Q = strings.TrimSpace(q.Q); q.Q != "" {
		p := arg("%" + likeEscape(munigisFold(q.Q)) + "%")
		where = append(where, "(e.number ILIKE "+p+" OR munigis_fold(d.name) LIKE "+p+")")
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > MaxEntries {
		q.Limit = MaxEntries
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	whereSQL := ""
	if len(where) > 0 {
		whereSQL = "WHERE " + strings.Join(where, " AND ")
	}
	filterArgs := len(args)
	rs, total, err := scanRegistrations(ctx, s.pool,
		whereSQL+" ORDER BY e.year DESC, e.sequence DESC LIMIT "+arg(q.Limit)+" OFFSET "+arg(q.Offset), args...)
	if err != nil {
		return nil, 0, err
	}
	if len(rs) == 0 && q.Offset > 0 {
		// Past the last page: the window count saw no row, count apart.
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM odr_entries e
			JOIN documents d ON d.id = e.document_id
			JOIN document_types rt ON rt.id = e.document_type_id
			LEFT JOIN LATERAL (SELECT c.new_value FROM odr_corrections c WHERE c.entry_id = e.id AND c.field = 'type'
			                   ORDER BY c.id DESC LIMIT 1) ctc ON true
			LEFT JOIN document_types ct ON ct.code = ctc.new_value `+whereSQL, args[:filterArgs]...).Scan(&total)
		if err != nil {
			return nil, 0, postgis.Translate(err, "documents: count register entries")
		}
	}
	return rs, total, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// munigisFold is SQL's munigis_fold: lower case, Cyrillic included.
func munigisFold(s string) string { return strings.ToLower(s) }

// Correct records a correction of register entry entryID (Art. 29): of its
// type, its date of receipt, or that it was made by mistake (void). The
// entry and its number are never changed (Art. 29(4)); the correction is
// shown with it. A type correction changes the document's type as well.
func (s *Store) Correct(ctx context.Context, entryID int64, c Correction) (Correction, error) {
	c.Field = strings.TrimSpace(c.Field)
	c.NewValue = strings.TrimSpace(c.NewValue)
	c.Reason = strings.Join(strings.Fields(c.Reason), " ")
	if c.Reason == "" {
		return Correction{}, invalid("reason: the reason of a correction is required (Art. 29(2))",
			"основание: основанието за поправката е задължително (чл. 29, ал. 2)")
	}
	switch c.Field {
	case CorrectType, CorrectReceivedOn, CorrectVoid:
	default:
		return Correction{}, invalid(fmt.Sprintf("field: %q is not one of type, received_on, void", short(c.Field)),
			fmt.Sprintf("поле: %q не е от type (вид), received_on (дата на получаване), void (анулиране)", short(c.Field)))
	}
	var out Correction
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var docID int64
		err := tx.QueryRow(ctx, `SELECT document_id FROM odr_entries WHERE id = $1`, entryID).Scan(&docID)
		if noRows(err) {
			return entryNotFound(strconv.FormatInt(entryID, 10))
		}
		if err != nil {
			return postgis.Translate(err, "documents: correct entry")
		}
		// Entries cannot be locked (no UPDATE right on them); the
		// document's row serialises the corrections of its entry.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM documents WHERE id = $1 FOR UPDATE`, docID); err != nil {
			return postgis.Translate(err, "documents: correct entry")
		}
		e, err := entryByID(ctx, tx, entryID)
		if err != nil {
			return err
		}
		if e.Void {
			return conflict(fmt.Sprintf("entry %s is void and is not corrected further", e.Number),
				fmt.Sprintf("вписване %s е анулирано и не се поправя повече", e.Number))
		}
		switch c.Field {
		case CorrectType:
			t, err := typeForInput(ctx, tx, c.NewValue)
			if err != nil {
				return err
			}
			if t.Code == e.TypeCode {
				return invalid(fmt.Sprintf("type: entry %s is already of type %s", e.Number, t.Code),
					fmt.Sprintf("вид: вписване %s вече е от вид %s", e.Number, t.Name))
			}
			c.OldValue = e.TypeCode
			if _, err := tx.Exec(ctx, `UPDATE documents SET type_id = $2 WHERE id = $1`, docID, t.ID); err != nil {
				return postgis.Translate(err, "documents: correct entry")
			}
		case CorrectReceivedOn:
			d, err := s.receivedOn(c.NewValue)
			if err != nil || c.NewValue == "" {
				if err == nil {
					err = invalid("received_on: the corrected date is required", "дата на получаване: поправената дата е задължителна")
				}
				return err
			}
			if entered := e.EnteredAt.In(sofia).Format(time.DateOnly); d.Format(time.DateOnly) > entered {
				return invalid(fmt.Sprintf("received_on: %s is after the registration on %s", c.NewValue, entered),
					fmt.Sprintf("дата на получаване: %s е след регистрацията на %s", d.Format("02.01.2006"), e.EnteredAt.In(sofia).Format("02.01.2006")))
			}
			c.OldValue = e.ReceivedOn
			if e.CorrectedReceivedOn != "" {
				c.OldValue = e.CorrectedReceivedOn
			}
			if c.OldValue == c.NewValue {
				return invalid(fmt.Sprintf("received_on: entry %s already has the date %s", e.Number, c.NewValue),
					fmt.Sprintf("дата на получаване: вписване %s вече е с дата %s", e.Number, d.Format("02.01.2006")))
			}
		case CorrectVoid:
			c.OldValue, c.NewValue = "", "void"
		}
		err = tx.QueryRow(ctx, `INSERT INTO odr_corrections (entry_id, field, old_value, new_value, reason)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, entry_id, field, old_value, new_value, reason, at, by`,
			entryID, c.Field, c.OldValue, c.NewValue, c.Reason).Scan(
			&out.ID, &out.EntryID, &out.Field, &out.OldValue, &out.NewValue, &out.Reason, &out.At, &out.By)
		return postgis.Translate(err, "documents: correct entry")
	})
	return out, err
}

// Check answers whether the register of year is complete (Art. 29(3)):
// every number from 1 to the last one handed out is taken once, and the
// corrections of the year are listed.
func (s *Store) Check(ctx context.Context, year int) (Completeness, error) {
	if year < 2000 || year > 9999 {
		return Completeness{}, invalid(fmt.Sprintf("year: %d is not a year of the register", year),
			fmt.Sprintf("година: %d не е година на регистъра", year))
	}
	out := Completeness{Year: year, Missing: []int{}, Duplicates: []int{}}
	// Last is the greater of the highest sequence and the counter, so a
	// number the counter handed out without an entry shows as missing.
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(min(sequence), 0),
			greatest(coalesce(max(sequence), 0), coalesce((SELECT last FROM odr_counters WHERE year = $1), 0))
		FROM odr_entries WHERE year = $1`, year).Scan(&out.Count, &out.First, &out.Last)
	if err != nil {
		return Completeness{}, postgis.Translate(err, "documents: check register")
	}
	err = s.pool.QueryRow(ctx, `SELECT
			coalesce((SELECT array_agg(g ORDER BY g) FROM generate_series(1, $2::int) g
			          WHERE NOT EXISTS (SELECT 1 FROM odr_entries WHERE year = $1 AND sequence = g)), '{}'),
			coalesce((SELECT array_agg(sequence ORDER BY sequence) FROM
			          (SELECT sequence FROM odr_entries WHERE year = $1 GROUP BY sequence HAVING count(*) > 1) x), '{}')`,
		year, out.Last).Scan(&out.Missing, &out.Duplicates)
	if err != nil {
		return Completeness{}, postgis.Translate(err, "documents: check register")
	}
	out.Corrections, err = corrections(ctx, s.pool, `JOIN odr_entries e ON e.id = c.entry_id WHERE e.year = $1`, year)
	if err != nil {
		return Completeness{}, err
	}
	out.Complete = len(out.Missing) == 0 && len(out.Duplicates) == 0
	return out, nil
}

// Package property keeps the municipal property register's operations
// (АКСТЪР ОБЩИНСКИ ИМОТИ, seed item 5): what happened to a property after
// its act of municipal ownership (sale, right to build, partition, …), the
// timeline of a property and the state derived from it, its rental
// contracts (АКСТЪР НАЕМИ, item 6), and the reports (справки)
// municipalities are asked for.
//
// A property is an entry of the register municipal_property and a rental
// contract an entry of the register rentals, both kept by package registers;
// this package adds the table property_operations (migration 000010) and
// reads the entries. The rule that two live rental contracts on the same
// property never overlap is kept by the database (rental_terms, 000010),
// so it holds however the entry is written.
package property

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/internal/postgis"
)

// The registers this package works on (their types are built in, 000009).
const (
	PropertyRegister = "municipal_property"
	RentalRegister   = "rentals"
	PermitRegister   = "building_permits"
)

// Kind is the kind of a property operation.
type Kind string

// The operations of seed item 5: разпореждане (sale, right to build,
// partition, annexation, exchange), ликвидиране, прекратяване,
// реституция, участие в капитала, картотека на участията.
const (
	Sale                Kind = "sale"
	RightToBuild        Kind = "right_to_build"
	Partition           Kind = "partition"
	Annexation          Kind = "annexation"
	Exchange            Kind = "exchange"
	WriteOff            Kind = "write_off"
	Termination         Kind = "termination"
	Restitution         Kind = "restitution"
	CapitalContribution Kind = "capital_contribution"
	Holding             Kind = "holding"
)

// State is what an operation leaves the property as; the property's current
// state is that of its last operation.
type State string

// States. Owned is also the state of a property with no operation yet.
const (
	// Owned: still municipal property (also after a right to build, an
	// annexation, a holding, or a partition that kept a share).
	Owned State = "owned"
	// Contributed: contributed in kind to a company's capital (апорт).
	Contributed State = "contributed"
	// Removed: no longer municipal (sold, exchanged, written off,
	// restituted); отписан. No further operation can be recorded.
	Removed State = "removed"
)

// KindInfo describes an operation kind: its titles and the states it may
// leave the property in, the first being the default.
type KindInfo struct {
	Kind    Kind    `json:"kind"`
	TitleBG string  `json:"title_bg"`
	TitleEN string  `json:"title_en"`
	States  []State `json:"states"`
}

// Kinds lists the operation kinds. The states per kind are the same as the
// database's property_kind_states() (a test compares them).
var Kinds = []KindInfo{
	{Sale, "Продажба", "Sale", []State{Removed}},
	{RightToBuild, "Учредяване на право на строеж", "Grant of a right to build", []State{Owned}},
	{Partition, "Делба", "Partition", []State{Owned, Removed}},
	{Annexation, "Право на пристрояване/надстрояване", "Annexation (extension of a building)", []State{Owned}},
	{Exchange, "Замяна", "Exchange", []State{Removed}},
	{WriteOff, "Отписване (ликвидиране)", "Write-off", []State{Removed}},
	{Termination, "Прекратяване на съсобственост", "Termination of co-ownership", []State{Removed, Owned}},
	{Restitution, "Реституция", "Restitution", []State{Removed}},
	{CapitalContribution, "Апорт в капитала на търговско дружество", "Contribution to a company's capital", []State{Contributed}},
	{Holding, "Участие в търговско дружество (картотека на участията)", "Holding in a company", []State{Owned}},
}

// Info returns the description of k; ok is false for an unknown kind.
func (k Kind) Info() (KindInfo, bool) {
	for _, i := range Kinds {
		if i.Kind == k {
			return i, true
		}
	}
	return KindInfo{}, false
}

// TitleBG and TitleEN name the state for people.
func (s State) TitleBG() string {
	switch s {
	case Owned:
		return "общинска собственост"
	case Contributed:
		return "апортиран"
	case Removed:
		return "отписан"
	}
	return string(s)
}

// TitleEN names the state in English.
func (s State) TitleEN() string {
	switch s {
	case Owned:
		return "municipal property"
	case Contributed:
		return "contributed to a company"
	case Removed:
		return "written off"
	}
	return string(s)
}

// Party is a person or legal entity taking part in an operation (buyer,
// company, co-owner …). Name is filled when read.
type Party struct {
	PersonID int64  `json:"person_id"`
	Role     string `json:"role"`
	Name     string `json:"name,omitempty"`
}

// Operation is one operation on a property.
type Operation struct {
	ID      int64 `json:"id"`
	EntryID int64 `json:"entry_id"` // the municipal_property entry
	Kind    Kind  `json:"kind"`
	// Date is the day the operation took effect; DocumentDate the date of
	// the order or contract, DocumentNumber its number.
	Date           time.Time `json:"op_date"`
	DocumentNumber string    `json:"document_number"`
	DocumentDate   time.Time `json:"document_date"`
	Parties        []Party   `json:"parties"`
	Description    string    `json:"description"`
	// Share of the property concerned (0 < share ≤ 1), area in m², and the
	// price or value in BGN; nil where they do not apply.
	Share     *float64 `json:"share,omitempty"`
	AreaM2    *float64 `json:"area_m2,omitempty"`
	AmountBGN *float64 `json:"amount_bgn,omitempty"`
	// ResultingStatus is the state the operation leaves the property in;
	// empty in AddOperation means the kind's default.
	ResultingStatus State     `json:"resulting_status"`
	Version         int       `json:"version"`
	CreatedAt       time.Time `json:"created_at"`
	CreatedBy       string    `json:"created_by"`
	UpdatedAt       time.Time `json:"updated_at"`
	UpdatedBy       string    `json:"updated_by"`
}

// Store reads and writes property operations and reads the property and
// rental entries.
type Store struct {
	pool *pgxpool.Pool
	// today is the current day, in the municipality's calendar; a field so
	// that tests can fix it.
	today func() time.Time
}

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, today: func() time.Time { return day(time.Now()) }}
}

// Sofia is the municipality's time zone: "today" and "in the future" are
// decided by the Bulgarian calendar, not the server's.
var Sofia = func() *time.Location {
	l, err := time.LoadLocation("Europe/Sofia")
	if err != nil {
		return time.FixedZone("EET", 2*3600)
	}
	return l
}()

// day returns t's calendar day in Sofia as midnight UTC, the form dates
// are compared and stored in.
func day(t time.Time) time.Time {
	y, m, d := t.In(Sofia).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// invalid is an Invalid error naming field, in English and Bulgarian.
func invalid(field, en, bg string) error {
	return &munigis.Error{Code: munigis.Invalid, Message: field + ": " + en, MessageBG: field + ": " + bg}
}

const dateFmt = "2006-01-02"

// AddOperation validates op and records it, in one transaction: the
// property must exist, be a municipal_property entry and still be municipal
// (not written off, sold …); the date may be neither before the act of
// ownership nor in the future; the document number and date are required,
// the document not dated after the operation; every party must exist; the
// resulting state must be one the kind allows. Bad input is Invalid (the
// message names the field), an unknown property NotFound.
func (s *Store) AddOperation(ctx context.Context, op Operation) (Operation, error) {
	info, ok := op.Kind.Info()
	if !ok {
		names := make([]string, len(Kinds))
		for i, k := range Kinds {
			names[i] = string(k.Kind)
		}
		return Operation{}, invalid("kind", fmt.Sprintf("%q is not an operation kind (one of %s)", op.Kind, strings.Join(names, ", ")),
			fmt.Sprintf("%q не е вид операция (един от %s)", op.Kind, strings.Join(names, ", ")))
	}
	if op.ResultingStatus == "" {
		op.ResultingStatus = info.States[0]
	}
	allowed := false
	for _, st := range info.States {
		allowed = allowed || st == op.ResultingStatus
	}
	if !allowed {
		return Operation{}, invalid("resulting_status", fmt.Sprintf("a %s cannot leave the property %q", op.Kind, op.ResultingStatus),
			fmt.Sprintf("%s не може да остави имота в състояние %q", info.TitleBG, op.ResultingStatus.TitleBG()))
	}
	op.DocumentNumber = strings.TrimSpace(op.DocumentNumber)
	switch {
	case op.Date.IsZero():
		return Operation{}, invalid("op_date", "is required", "е задължителна")
	case op.DocumentNumber == "":
		return Operation{}, invalid("document_number", "the number of the order or contract is required", "номерът на заповедта или договора е задължителен")
	case op.DocumentDate.IsZero():
		return Operation{}, invalid("document_date", "is required", "е задължителна")
	}
	op.Date, op.DocumentDate = day(op.Date), day(op.DocumentDate)
	if today := s.today(); op.Date.After(today) {
		return Operation{}, invalid("op_date", op.Date.Format(dateFmt)+" is in the future", op.Date.Format(dateFmt)+" е в бъдещето")
	}
	if op.DocumentDate.After(op.Date) {
		return Operation{}, invalid("document_date", fmt.Sprintf("%s is after the operation's date %s", op.DocumentDate.Format(dateFmt), op.Date.Format(dateFmt)),
			fmt.Sprintf("%s е след датата на операцията %s", op.DocumentDate.Format(dateFmt), op.Date.Format(dateFmt)))
	}
	if op.Share != nil && (!(*op.Share > 0) || *op.Share > 1) {
		return Operation{}, invalid("share", "must be more than 0 and at most 1 (a half is 0.5)", "трябва да е над 0 и най-много 1 (половин е 0.5)")
	}
	if op.AreaM2 != nil && (!(*op.AreaM2 > 0) || math.IsInf(*op.AreaM2, 0)) {
		return Operation{}, invalid("area_m2", "must be a positive number of square metres", "трябва да е положително число квадратни метри")
	}
	if op.AmountBGN != nil && (!(*op.AmountBGN >= 0) || math.IsInf(*op.AmountBGN, 0)) {
		return Operation{}, invalid("amount_bgn", "must be zero or more", "не може да е отрицателна")
	}
	op.Parties = append([]Party(nil), op.Parties...) // the caller's slice stays as it was
	ids := make([]int64, 0, len(op.Parties))
	for i, p := range op.Parties {
		if p.PersonID <= 0 {
			return Operation{}, invalid(fmt.Sprintf("parties[%d].person_id", i), "is required", "е задължително")
		}
		op.Parties[i].Role = strings.TrimSpace(p.Role)
		if op.Parties[i].Role == "" {
			return Operation{}, invalid(fmt.Sprintf("parties[%d].role", i), "is required (buyer, company, co-owner …)", "е задължителна (купувач, дружество, съсобственик …)")
		}
		ids = append(ids, p.PersonID)
	}
	if op.Parties == nil {
		op.Parties = []Party{}
	}
	if (op.Kind == CapitalContribution || op.Kind == Holding) && len(op.Parties) == 0 {
		return Operation{}, invalid("parties", fmt.Sprintf("a %s needs the company as a party", op.Kind),
			fmt.Sprintf("%s изисква дружеството като страна", info.TitleBG))
	}

	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		// The property row is locked, so that two operations recorded at
		// once cannot both pass the "still municipal" check.
		var register, number string
		var actDate *time.Time
		err := tx.QueryRow(ctx, `SELECT register, number, coalesce(entry_date, (data->>'act_date')::date)
			FROM register_entries WHERE id = $1 FOR UPDATE`, op.EntryID).Scan(&register, &number, &actDate)
		if errors.Is(err, pgx.ErrNoRows) {
			return &munigis.Error{Code: munigis.NotFound,
				Message:   fmt.Sprintf("entry_id: municipal property %d does not exist", op.EntryID),
				MessageBG: fmt.Sprintf("entry_id: общински имот %d не съществува", op.EntryID)}
		}
		if err != nil {
			return postgis.Translate(err, "add operation")
		}
		if register != PropertyRegister {
			return invalid("entry_id", fmt.Sprintf("entry %d is in the register %s, not %s", op.EntryID, register, PropertyRegister),
				fmt.Sprintf("запис %d е от регистър %s, а не %s", op.EntryID, register, PropertyRegister))
		}
		if actDate != nil && op.Date.Before(*actDate) {
			return invalid("op_date", fmt.Sprintf("%s is before the act of municipal ownership № %s of %s", op.Date.Format(dateFmt), number, actDate.Format(dateFmt)),
				fmt.Sprintf("%s е преди акта за общинска собственост № %s от %s", op.Date.Format(dateFmt), number, actDate.Format(dateFmt)))
		}
		var goneKind Kind
		var goneDate time.Time
		var goneDoc string
		err = tx.QueryRow(ctx, `SELECT kind, op_date, document_number FROM property_operations
			WHERE entry_id = $1 AND resulting_status = 'removed' ORDER BY op_date LIMIT 1`, op.EntryID).
			Scan(&goneKind, &goneDate, &goneDoc)
		if err == nil {
			gi, _ := goneKind.Info()
			return &munigis.Error{Code: munigis.Conflict,
				Message: fmt.Sprintf("entry_id: property № %s left municipal ownership on %s (%s, document %s); no further operations can be recorded",
					number, goneDate.Format(dateFmt), gi.TitleEN, goneDoc),
				MessageBG: fmt.Sprintf("entry_id: имот № %s е отписан на %s (%s, документ %s); нови операции не могат да се вписват",
					number, goneDate.Format(dateFmt), strings.ToLower(gi.TitleBG), goneDoc)}
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return postgis.Translate(err, "add operation")
		}
		if len(ids) > 0 {
			var missing []int64
			if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(i ORDER BY i), '{}') FROM unnest($1::bigint[]) i
				WHERE NOT EXISTS (SELECT 1 FROM persons WHERE id = i)`, ids).Scan(&missing); err != nil {
				return postgis.Translate(err, "add operation")
			}
			if len(missing) > 0 {
				return invalid("parties", fmt.Sprintf("person %d does not exist", missing[0]), fmt.Sprintf("лице %d не съществува", missing[0]))
			}
		}
		return tx.QueryRow(ctx, `INSERT INTO property_operations
				(entry_id, kind, op_date, document_number, document_date, parties, description,
				 share, area_m2, amount_bgn, resulting_status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			RETURNING id, version, created_at, created_by, updated_at, updated_by`,
			op.EntryID, op.Kind, op.Date, op.DocumentNumber, op.DocumentDate, partiesJSON(op.Parties), op.Description,
			op.Share, op.AreaM2, op.AmountBGN, op.ResultingStatus).
			Scan(&op.ID, &op.Version, &op.CreatedAt, &op.CreatedBy, &op.UpdatedAt, &op.UpdatedBy)
	})
	if err != nil {
		return Operation{}, postgis.Translate(err, "add operation")
	}
	ops, err := s.Operations(ctx, op.EntryID)
	if err != nil {
		return Operation{}, err
	}
	for _, o := range ops {
		if o.ID == op.ID {
			return o, nil
		}
	}
	return op, nil
}

// partiesJSON is the stored form of parties: person ids and roles only
// (names are read from persons, so a corrected name shows everywhere).
func partiesJSON(ps []Party) []map[string]any {
	out := make([]map[string]any, len(ps))
	for i, p := range ps {
		out[i] = map[string]any{"person_id": p.PersonID, "role": p.Role}
	}
	return out
}

const operationColumns = `o.id, o.entry_id, o.kind, o.op_date, o.document_number, o.document_date,
	coalesce((SELECT jsonb_agg(jsonb_build_object('person_id', (p->>'person_id')::bigint, 'role', p->>'role',
	                                              'name', coalesce(pe.name, '')) ORDER BY n)
	          FROM jsonb_array_elements(o.parties) WITH ORDINALITY AS x(p, n)
	          LEFT JOIN persons pe ON pe.id = (p->>'person_id')::bigint), '[]'),
	o.description, o.share::float8, o.area_m2::float8, o.amount_bgn::float8, o.resulting_status,
	o.version, o.created_at, o.created_by, o.updated_at, o.updated_by`

func scanOperation(row pgx.Row) (Operation, error) {
	var o Operation
	err := row.Scan(&o.ID, &o.EntryID, &o.Kind, &o.Date, &o.DocumentNumber, &o.DocumentDate, &o.Parties,
		&o.Description, &o.Share, &o.AreaM2, &o.AmountBGN, &o.ResultingStatus,
		&o.Version, &o.CreatedAt, &o.CreatedBy, &o.UpdatedAt, &o.UpdatedBy)
	return o, err
}

// Operations returns the operations on a property, by date and then in the
// order they were recorded.
func (s *Store) Operations(ctx context.Context, entryID int64) ([]Operation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+operationColumns+`
		FROM property_operations o WHERE o.entry_id = $1 ORDER BY o.op_date, o.id`, entryID)
	if err != nil {
		return nil, postgis.Translate(err, "property operations")
	}
	defer rows.Close()
	out := []Operation{}
	for rows.Next() {
		o, err := scanOperation(rows)
		if err != nil {
			return nil, postgis.Translate(err, "property operations")
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, postgis.Translate(err, "property operations")
	}
	return out, nil
}

// CurrentState returns the state the property's last operation left it in,
// Owned when it has none: derived from the operations, never stored by hand.
func (s *Store) CurrentState(ctx context.Context, entryID int64) (State, error) {
	var st State
	var register string
	err := s.pool.QueryRow(ctx, `SELECT register, property_state(id) FROM register_entries WHERE id = $1`, entryID).
		Scan(&register, &st)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && register != PropertyRegister) {
		return "", munigis.Errorf(munigis.NotFound, "municipal property %d does not exist", entryID)
	}
	if err != nil {
		return "", postgis.Translate(err, "property state")
	}
	return st, nil
}

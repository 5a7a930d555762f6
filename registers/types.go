package registers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/documents"
	"munigis/internal/postgis"
)

// FieldType is the type of a register field.
type FieldType string

// The field types. Person, Persons and CadastralIDs are not kept in
// Entry.Data: a person field is a party of the entry (Entry.Parties, with
// the field's name as the role), the cadastral_ids field is
// Entry.Identifiers. A field named "status" is Entry.Status.
const (
	Text         FieldType = "text"          // a string
	Integer      FieldType = "integer"       // int64
	Number       FieldType = "number"        // float64
	Date         FieldType = "date"          // "YYYY-MM-DD"
	Boolean      FieldType = "boolean"       // bool
	Enum         FieldType = "enum"          // one of Field.Values
	Person       FieldType = "person"        // one party (a person id)
	Persons      FieldType = "persons"       // one or more parties
	CadastralIDs FieldType = "cadastral_ids" // the entry's identifiers (at most one such field)
	Reference    FieldType = "reference"     // the id (int64) of an entry of Field.Register
	// File is the id (int64) of a document of package documents: a stored
	// file with its SHA-256, size and sniffed media type (dossier.go). The
	// register map layer leaves it out.
	File FieldType = "file"
)

var fieldTypes = []FieldType{Text, Integer, Number, Date, Boolean, Enum, Person, Persons, CadastralIDs, Reference, File}

// EntryDate is the name a Field.NotBefore uses for the entry's own date.
const EntryDate = "entry_date"

// StatusField is the name of the field that describes Entry.Status.
const StatusField = "status"

// Field is one typed field of a register type.
type Field struct {
	Name     string    `json:"name"`
	Type     FieldType `json:"type"`
	TitleBG  string    `json:"title_bg"`
	TitleEN  string    `json:"title_en"`
	Required bool      `json:"required,omitempty"`
	// Unique: no two entries of the register have the same value.
	Unique bool `json:"unique,omitempty"`
	// Values are the allowed values of an enum.
	Values []string `json:"values,omitempty"`
	// Register is the register a reference field points into.
	Register string `json:"register,omitempty"`
	// NotBefore names a date field (or EntryDate) this date may not
	// precede: a rental's end after its start.
	NotBefore string `json:"not_before,omitempty"`
	// Public fields are shown to the public when the register is
	// published; natural persons in them are masked.
	Public bool `json:"public,omitempty"`
}

// Type is a register type: a register and its fields. The built-in ones
// (migration 000009) are municipal_property, rentals, building_permits,
// trade_permits, taxi_permits, condominiums and categorised_sites; a
// municipality adds its own with CreateType.
type Type struct {
	Name    string  `json:"name"`
	TitleBG string  `json:"title_bg"`
	TitleEN string  `json:"title_en"`
	Fields  []Field `json:"fields"`
	// Published registers are shown to the public (seed item 30), with
	// their public fields only.
	Published bool `json:"published"`
	BuiltIn   bool `json:"built_in"`
	// The labels of Entry.Number and Entry.Date ("Акт №", "Дата на акта").
	NumberLabelBG string    `json:"number_label_bg,omitempty"`
	NumberLabelEN string    `json:"number_label_en,omitempty"`
	DateLabelBG   string    `json:"date_label_bg,omitempty"`
	DateLabelEN   string    `json:"date_label_en,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	CreatedBy     string    `json:"created_by"`
	UpdatedAt     time.Time `json:"updated_at"`
	UpdatedBy     string    `json:"updated_by"`
}

// Field returns the field called name.
func (t Type) Field(name string) (Field, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// typed gives the values of number fields in d their Go type, float64:
// JSON does not tell 18000 the number from 18000 the integer.
func (t Type) typed(d map[string]any) {
	for _, f := range t.Fields {
		if i, ok := d[f.Name].(int64); ok && f.Type == Number {
			d[f.Name] = float64(i)
		}
	}
}

// IdentifiersField returns the type's cadastral_ids field, if it has one.
func (t Type) IdentifiersField() (Field, bool) {
	for _, f := range t.Fields {
		if f.Type == CadastralIDs {
			return f, true
		}
	}
	return Field{}, false
}

// LayerName is the name of the register's map layer in the catalog.
func (t Type) LayerName() string { return LayerName(t.Name) }

// LayerName is the name of register's map layer in the catalog.
func LayerName(register string) string { return "reg_" + register }

// RegisterOfLayer returns the register shown by the layer called layer, if
// it is a register layer's name.
func RegisterOfLayer(layer string) (string, bool) {
	r, ok := strings.CutPrefix(layer, "reg_")
	return r, ok && r != ""
}

// Register names have at most 44 characters, so that "reg_<name>" is a
// valid layer name (48).
var (
	typeNameRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,43}$`)
	fieldNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)
)

// reservedFields are the entry's own columns and the register layer's
// columns: a field of the same name would be ambiguous.
var reservedFields = map[string]bool{
	"id": true, "entry_id": true, "register": true, "number": true, "entry_date": true, "date": true,
	"identifier": true, "parties": true, "data": true, "search_text": true, "version": true,
	"created_at": true, "created_by": true, "updated_at": true, "updated_by": true,
	"geom": true, "geom_3857": true,
}

func invalid(en, bg string) *munigis.Error {
	return &munigis.Error{Code: munigis.Invalid, Message: en, MessageBG: bg}
}

// Validate checks a register type and names the first problem (Invalid).
// It does not check that a reference field's register exists; CreateType
// does.
func (t Type) Validate() error {
	if !typeNameRE.MatchString(t.Name) {
		return invalid(fmt.Sprintf("register name %q: use 1–44 lower-case latin letters, digits and _, starting with a letter", short(t.Name)),
			fmt.Sprintf("име на регистър %q: използвайте 1–44 малки латински букви, цифри и _, започващо с буква", short(t.Name)))
	}
	if t.Name == "case_files" {
		// Case files are listed beside the registers under a cadastral
		// object (/related, GetFeatureInfo) under this name.
		return invalid("register name case_files is reserved for the case files", "името case_files е запазено за преписките")
	}
	if strings.TrimSpace(t.TitleBG) == "" || strings.TrimSpace(t.TitleEN) == "" {
		return invalid(fmt.Sprintf("register %s: both title_bg and title_en are required", t.Name),
			fmt.Sprintf("регистър %s: нужни са заглавия на български и английски (title_bg, title_en)", t.Name))
	}
	seen := map[string]bool{}
	ids := 0
	for i, f := range t.Fields {
		where := fmt.Sprintf("register %s: field %d (%s)", t.Name, i+1, short(f.Name))
		whereBG := fmt.Sprintf("регистър %s: поле %d (%s)", t.Name, i+1, short(f.Name))
		switch {
		case !fieldNameRE.MatchString(f.Name):
			return invalid(where+": use lower-case latin letters, digits and _, starting with a letter",
				whereBG+": използвайте малки латински букви, цифри и _, започващо с буква")
		case reservedFields[f.Name]:
			return invalid(where+": the name is reserved for the entry's own columns",
				whereBG+": името е запазено за собствените колони на вписването")
		case seen[f.Name]:
			return invalid(where+": appears twice", whereBG+": повтаря се")
		case !slices.Contains(fieldTypes, f.Type):
			return invalid(fmt.Sprintf("%s: type %q is not one of text, integer, number, date, boolean, enum, person, persons, cadastral_ids, reference, file", where, short(string(f.Type))),
				fmt.Sprintf("%s: типът %q не е от допустимите", whereBG, short(string(f.Type))))
		case strings.TrimSpace(f.TitleBG) == "" || strings.TrimSpace(f.TitleEN) == "":
			return invalid(where+": both title_bg and title_en are required", whereBG+": нужни са заглавия на български и английски")
		case f.Type == Enum && len(f.Values) == 0:
			return invalid(where+": an enum needs values", whereBG+": изброимото поле изисква стойности (values)")
		case f.Type != Enum && len(f.Values) > 0:
			return invalid(where+": only enum fields take values", whereBG+": само изброими полета имат стойности (values)")
		case f.Type == Reference && !typeNameRE.MatchString(f.Register):
			return invalid(where+": a reference field names the register it points into (register)",
				whereBG+": полето-препратка трябва да посочи регистъра (register)")
		case f.Type != Reference && f.Register != "":
			return invalid(where+": only reference fields name a register", whereBG+": само полета-препратки посочват регистър")
		case f.NotBefore != "" && f.Type != Date:
			return invalid(where+": only date fields take not_before", whereBG+": само полета за дата имат not_before")
		case f.Unique && !slices.Contains([]FieldType{Text, Integer, Number, Date, Enum, Reference}, f.Type):
			return invalid(where+": a "+string(f.Type)+" field cannot be unique", whereBG+": поле от този тип не може да е уникално")
		case f.Name == StatusField && f.Type != Text && f.Type != Enum:
			return invalid(where+": the status field is text or enum", whereBG+": полето за състояние е текст или изброимо")
		}
		if f.Type == Enum {
			vs := map[string]bool{}
			for _, v := range f.Values {
				if strings.TrimSpace(v) == "" || vs[v] {
					return invalid(where+": enum values must be distinct and not empty", whereBG+": стойностите трябва да са различни и непразни")
				}
				vs[v] = true
			}
		}
		if f.Type == CadastralIDs {
			ids++
		}
		seen[f.Name] = true
	}
	if ids > 1 {
		return invalid(fmt.Sprintf("register %s: at most one cadastral_ids field", t.Name),
			fmt.Sprintf("регистър %s: допустимо е най-много едно поле с кадастрални идентификатори", t.Name))
	}
	for _, f := range t.Fields {
		if f.NotBefore == "" || f.NotBefore == EntryDate {
			continue
		}
		if o, ok := t.Field(f.NotBefore); !ok || o.Type != Date || o.Name == f.Name {
			return invalid(fmt.Sprintf("register %s: field %s: not_before %q is neither entry_date nor another date field", t.Name, f.Name, short(f.NotBefore)),
				fmt.Sprintf("регистър %s: поле %s: not_before %q не е entry_date или друго поле за дата", t.Name, f.Name, short(f.NotBefore)))
		}
	}
	return nil
}

// Store reads and writes register types and entries.
type Store struct {
	pool *pgxpool.Pool
	// afterWrite runs after every committed write (see OnWrite).
	afterWrite func(context.Context)
	// docs creates dossier documents and reads files (UseDocuments,
	// dossier.go).
	docs *documents.Store
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// OnWrite makes fn run after every write that commits, before the write
// returns: munigis serve passes the tile cache's Sync, so that a clerk who
// has just changed an entry never sees a stale tile of its register layer.
// Set it before the store is shared.
func (s *Store) OnWrite(fn func(context.Context)) { s.afterWrite = fn }

func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := postgis.Tx(ctx, s.pool, fn)
	if err == nil && s.afterWrite != nil {
		s.afterWrite(ctx)
	}
	return err
}

const typeColumns = `name, title_bg, title_en, fields, published, built_in, number_label_bg, number_label_en,
	date_label_bg, date_label_en, created_at, created_by, updated_at, updated_by`

func scanType(row pgx.Row) (Type, error) {
	var t Type
	var fields []byte
	err := row.Scan(&t.Name, &t.TitleBG, &t.TitleEN, &fields, &t.Published, &t.BuiltIn, &t.NumberLabelBG, &t.NumberLabelEN,
		&t.DateLabelBG, &t.DateLabelEN, &t.CreatedAt, &t.CreatedBy, &t.UpdatedAt, &t.UpdatedBy)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(fields, &t.Fields); err != nil {
		return t, fmt.Errorf("registers: fields of %s: %w", t.Name, err)
	}
	return t, nil
}

// Types returns every register type, the built-in ones first.
func (s *Store) Types(ctx context.Context) ([]Type, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+typeColumns+` FROM register_types ORDER BY built_in DESC, name`)
	if err != nil {
		return nil, postgis.Translate(err, "registers: types")
	}
	defer rows.Close()
	var out []Type
	for rows.Next() {
		t, err := scanType(rows)
		if err != nil {
			return nil, fmt.Errorf("registers: types: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func typeNotFound(name string) error {
	return &munigis.Error{Code: munigis.NotFound, Message: fmt.Sprintf("register %q does not exist", short(name)),
		MessageBG: fmt.Sprintf("регистър %q не съществува", short(name))}
}

// Type returns the register type called name, or NotFound.
func (s *Store) Type(ctx context.Context, name string) (Type, error) {
	return getType(ctx, s.pool, name)
}

func getType(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, name string) (Type, error) {
	t, err := scanType(q.QueryRow(ctx, `SELECT `+typeColumns+` FROM register_types WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return Type{}, typeNotFound(name)
	}
	if err != nil {
		return Type{}, postgis.Translate(err, "registers: type "+name)
	}
	return t, nil
}

// defaults fills the labels a type may leave out.
func (t *Type) defaults() {
	if t.NumberLabelBG == "" {
		t.NumberLabelBG = "№"
	}
	if t.NumberLabelEN == "" {
		t.NumberLabelEN = "No."
	}
	if t.DateLabelBG == "" {
		t.DateLabelBG = "Дата"
	}
	if t.DateLabelEN == "" {
		t.DateLabelEN = "Date"
	}
}

// checkReferences verifies, inside tx, that every reference field names an
// existing register (or the type itself).
func checkReferences(ctx context.Context, tx pgx.Tx, t Type) error {
	for _, f := range t.Fields {
		if f.Type != Reference || f.Register == t.Name {
			continue
		}
		if _, err := getType(ctx, tx, f.Register); err != nil {
			if munigis.ErrorCode(err) == munigis.NotFound {
				return invalid(fmt.Sprintf("register %s: field %s: register %q does not exist", t.Name, f.Name, short(f.Register)),
					fmt.Sprintf("регистър %s: поле %s: регистър %q не съществува", t.Name, f.Name, short(f.Register)))
			}
			return err
		}
	}
	return nil
}

// CreateType adds a register type and, by the trigger of migration 000009,
// its map layer "reg_<name>" (internal until the register is published),
// in one transaction. Returns Invalid for a bad definition and Conflict
// when the name is taken.
func (s *Store) CreateType(ctx context.Context, t Type) (Type, error) {
	if err := t.Validate(); err != nil {
		return Type{}, err
	}
	t.defaults()
	fields, err := json.Marshal(t.Fields)
	if err != nil {
		return Type{}, err
	}
	var out Type
	err = s.tx(ctx, func(tx pgx.Tx) error {
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM register_types WHERE name = $1)
			OR EXISTS (SELECT 1 FROM layers WHERE name = $2)`, t.Name, t.LayerName()).Scan(&taken); err != nil {
			return postgis.Translate(err, "registers: create type "+t.Name)
		}
		if taken {
			return &munigis.Error{Code: munigis.Conflict,
				Message:   fmt.Sprintf("register %s already exists (or a layer %s does)", t.Name, t.LayerName()),
				MessageBG: fmt.Sprintf("регистър %s вече съществува (или слой %s)", t.Name, t.LayerName())}
		}
		if err := checkReferences(ctx, tx, t); err != nil {
			return err
		}
		out, err = scanType(tx.QueryRow(ctx, `INSERT INTO register_types (name, title_bg, title_en, fields, published,
				number_label_bg, number_label_en, date_label_bg, date_label_en)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+typeColumns,
			t.Name, strings.TrimSpace(t.TitleBG), strings.TrimSpace(t.TitleEN), fields, t.Published,
			t.NumberLabelBG, t.NumberLabelEN, t.DateLabelBG, t.DateLabelEN))
		return postgis.Translate(err, "registers: create type "+t.Name)
	})
	if err != nil {
		return Type{}, err
	}
	return out, nil
}

// UpdateType changes a register type: titles, labels, publication, the
// fields' titles and public flags, enum values added, new fields. A field
// is never removed, renamed or retyped and an enum value never removed:
// entries hold them (Conflict). The register layer follows in the same
// transaction. Returns NotFound for an unknown register.
func (s *Store) UpdateType(ctx context.Context, t Type) (Type, error) {
	if err := t.Validate(); err != nil {
		return Type{}, err
	}
	t.defaults()
	fields, err := json.Marshal(t.Fields)
	if err != nil {
		return Type{}, err
	}
	var out Type
	err = s.tx(ctx, func(tx pgx.Tx) error {
		old, err := scanType(tx.QueryRow(ctx, `SELECT `+typeColumns+` FROM register_types WHERE name = $1 FOR UPDATE`, t.Name))
		if errors.Is(err, pgx.ErrNoRows) {
			return typeNotFound(t.Name)
		}
		if err != nil {
			return postgis.Translate(err, "registers: update type "+t.Name)
		}
		for _, of := range old.Fields {
			nf, ok := t.Field(of.Name)
			switch {
			case !ok:
				return &munigis.Error{Code: munigis.Conflict,
					Message:   fmt.Sprintf("register %s: field %s cannot be removed: entries hold it", t.Name, of.Name),
					MessageBG: fmt.Sprintf("регистър %s: поле %s не може да се премахне: вписванията го съдържат", t.Name, of.Name)}
			case nf.Type != of.Type || nf.Register != of.Register:
				return &munigis.Error{Code: munigis.Conflict,
					Message:   fmt.Sprintf("register %s: field %s cannot change its type: entries hold it", t.Name, of.Name),
					MessageBG: fmt.Sprintf("регистър %s: поле %s не може да смени типа си: вписванията го съдържат", t.Name, of.Name)}
			}
			for _, v := range of.Values {
				if !slices.Contains(nf.Values, v) {
					return &munigis.Error{Code: munigis.Conflict,
						Message:   fmt.Sprintf("register %s: field %s: the value %q cannot be removed: entries may hold it", t.Name, of.Name, v),
						MessageBG: fmt.Sprintf("регистър %s: поле %s: стойността %q не може да се премахне: вписвания може да я съдържат", t.Name, of.Name, v)}
				}
			}
		}
		if err := checkReferences(ctx, tx, t); err != nil {
			return err
		}
		out, err = scanType(tx.QueryRow(ctx, `UPDATE register_types SET title_bg = $2, title_en = $3, fields = $4, published = $5,
				number_label_bg = $6, number_label_en = $7, date_label_bg = $8, date_label_en = $9,
				updated_at = date_trunc('second', now()), updated_by = munigis_actor()
			WHERE name = $1 RETURNING `+typeColumns,
			t.Name, strings.TrimSpace(t.TitleBG), strings.TrimSpace(t.TitleEN), fields, t.Published,
			t.NumberLabelBG, t.NumberLabelEN, t.DateLabelBG, t.DateLabelEN))
		return postgis.Translate(err, "registers: update type "+t.Name)
	})
	if err != nil {
		return Type{}, err
	}
	return out, nil
}

// short cuts a value echoed in a message, so that messages do not grow
// with whatever a client sends.
func short(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

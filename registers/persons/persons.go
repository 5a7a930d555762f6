// Package persons keeps the natural persons and legal entities that the
// registers refer to (owners, tenants, investors, permit holders): one
// record per person, identified as the Наредба for documents (Art. 15)
// requires — ЕГН or ЛНЧ, or name with date and place of birth, for natural
// persons; ЕИК/БУЛСТАТ for legal entities — so that every register entry of
// a person points at the same record and a person is never typed twice.
//
// The table is persons (migration 000008): stamped, versioned into
// person_versions and audited by triggers, like the features of a layer.
// This package validates in Go first (messages naming the field, in English
// and Bulgarian); the same rules are CHECKs in the database.
package persons

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/internal/postgis"
)

// Kind tells a natural person from a legal entity.
type Kind string

// The kinds of person.
const (
	Natural Kind = "natural"
	Legal   Kind = "legal"
)

// Person is a natural person or a legal entity. Empty strings stand for
// missing values (NULL in the database).
type Person struct {
	ID   int64 `json:"id"`
	Kind Kind  `json:"kind"`
	// Name is the full name of a natural person (every part: given,
	// patronymic, family) or the name of an entity with its legal form.
	Name string `json:"name"`
	EGN  string `json:"egn,omitempty"`
	LNCH string `json:"lnch,omitempty"`
	// BirthDate is YYYY-MM-DD. Filled from the ЕГН when empty.
	BirthDate  string `json:"birth_date,omitempty"`
	BirthPlace string `json:"birth_place,omitempty"`
	// IDDocument is the passport or other identity document of a natural
	// person without ЕГН or ЛНЧ (Art. 15(1)): type, number, issuing country.
	IDDocument string `json:"id_document,omitempty"`
	// EIK is the ЕИК or БУЛСТАТ code of a legal entity, 9 or 13 digits.
	EIK     string `json:"eik,omitempty"`
	Address string `json:"address,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
	// Version counts the changes (1 when created). Update refuses a Person
	// whose Version is set but is not the current one.
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Version is an earlier version of a person, ended by a change or a
// deletion.
type Version struct {
	// Person holds the values the person had in this version; its Version
	// is the version's number and UpdatedAt/UpdatedBy say when and by whom
	// it was made (CreatedAt/CreatedBy are not kept per version).
	Person    Person    `json:"person"`
	ValidFrom time.Time `json:"valid_from"`
	ValidTo   time.Time `json:"valid_to"`
	EndedBy   string    `json:"ended_by"`
	// EndedHow is "update" or "delete".
	EndedHow string `json:"ended_how"`
}

var spaces = regexp.MustCompile(`\s+`)

// normaliseName trims a name and collapses runs of white space, as the
// database's stamp trigger does, so that "Иван  Петров" and "Иван Петров"
// are one name.
func normaliseName(s string) string { return spaces.ReplaceAllString(strings.TrimSpace(s), " ") }

var (
	emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
	phoneRe = regexp.MustCompile(`^\+?[0-9][0-9 ()/.-]{2,39}$`)
)

func fieldError(field, msg, msgBG string) *munigis.Error {
	return &munigis.Error{Code: munigis.Invalid, Message: field + ": " + msg, MessageBG: msgBG}
}

// Normalise tidies p (trims every field, collapses spaces in the name,
// fills the birth date from the ЕГН) and checks it against the rules of
// Art. 15 and the check digits. The error is Invalid and names the field.
func Normalise(p Person) (Person, error) {
	p.Kind = Kind(strings.TrimSpace(string(p.Kind)))
	p.Name = normaliseName(p.Name)
	for _, f := range []*string{&p.EGN, &p.LNCH, &p.BirthDate, &p.BirthPlace, &p.IDDocument, &p.EIK, &p.Address, &p.Email, &p.Phone} {
		*f = strings.TrimSpace(*f)
	}
	if p.Kind != Natural && p.Kind != Legal {
		return p, fieldError("kind", fmt.Sprintf("%q is neither natural nor legal", p.Kind),
			"видът на лицето трябва да е физическо (natural) или юридическо (legal) лице")
	}
	if p.Name == "" {
		return p, fieldError("name", "the name is required", "името е задължително")
	}
	if utf8Len(p.Name) > 500 {
		return p, fieldError("name", "the name is longer than 500 characters", "името е по-дълго от 500 знака")
	}
	if p.EGN != "" {
		if err := ValidateEGN(p.EGN); err != nil {
			return p, err
		}
	}
	if p.LNCH != "" {
		if err := ValidateLNCH(p.LNCH); err != nil {
			return p, err
		}
	}
	if p.EIK != "" {
		if err := ValidateEIK(p.EIK); err != nil {
			return p, err
		}
	}
	if p.BirthDate != "" {
		d, err := time.Parse(time.DateOnly, p.BirthDate)
		if err != nil {
			return p, fieldError("birth_date", fmt.Sprintf("%q is not a date (YYYY-MM-DD)", p.BirthDate),
				fmt.Sprintf("датата на раждане %q не е дата (ГГГГ-ММ-ДД)", p.BirthDate))
		}
		if d.After(time.Now()) {
			return p, fieldError("birth_date", p.BirthDate+" is in the future", "датата на раждане "+p.BirthDate+" е в бъдещето")
		}
	}
	if p.Email != "" && !emailRe.MatchString(p.Email) {
		return p, fieldError("email", fmt.Sprintf("%q is not an e-mail address", p.Email),
			fmt.Sprintf("%q не е адрес на електронна поща", p.Email))
	}
	if p.Phone != "" && !phoneRe.MatchString(p.Phone) {
		return p, fieldError("phone", fmt.Sprintf("%q is not a phone number (digits, spaces, + ( ) / . -)", p.Phone),
			fmt.Sprintf("%q не е телефонен номер (цифри, интервали, + ( ) / . -)", p.Phone))
	}
	switch p.Kind {
	case Natural:
		if p.EIK != "" {
			return p, fieldError("eik", "a natural person has no ЕИК; register a sole trader (ЕТ) as a legal entity",
				"физическо лице няма ЕИК; едноличен търговец (ЕТ) се въвежда като юридическо лице")
		}
		if p.EGN != "" && p.LNCH != "" {
			return p, fieldError("lnch", "a person has either an ЕГН or a ЛНЧ, not both",
				"лицето има или ЕГН, или ЛНЧ, не и двете")
		}
		if p.EGN != "" {
			born, _ := EGNBirthDate(p.EGN)
			if p.BirthDate == "" {
				p.BirthDate = born.Format(time.DateOnly)
			} else if p.BirthDate != born.Format(time.DateOnly) {
				return p, fieldError("birth_date", fmt.Sprintf("%s is not the date of birth in the ЕГН (%s)", p.BirthDate, born.Format(time.DateOnly)),
					fmt.Sprintf("датата на раждане %s не съвпада с датата в ЕГН (%s)", p.BirthDate, born.Format(time.DateOnly)))
			}
		}
		if p.EGN == "" && p.LNCH == "" && p.BirthDate == "" {
			return p, fieldError("egn", "a natural person needs an ЕГН, a ЛНЧ or at least a date of birth",
				"за физическо лице е нужно ЕГН, ЛНЧ или поне дата на раждане")
		}
	case Legal:
		for _, f := range []struct{ name, value, bg string }{
			{"egn", p.EGN, "ЕГН"}, {"lnch", p.LNCH, "ЛНЧ"}, {"birth_date", p.BirthDate, "дата на раждане"}, {"birth_place", p.BirthPlace, "място на раждане"},
			{"id_document", p.IDDocument, "документ за самоличност"},
		} {
			if f.value != "" {
				return p, fieldError(f.name, "a legal entity has no "+f.name, "юридическо лице няма "+f.bg)
			}
		}
	}
	return p, nil
}

func utf8Len(s string) int { return len([]rune(s)) }

// Store reads and changes persons.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const columns = `id, kind, name, coalesce(egn, ''), coalesce(lnch, ''), coalesce(to_char(birth_date, 'YYYY-MM-DD'), ''),
	coalesce(birth_place, ''), coalesce(id_document, ''), coalesce(eik, ''), coalesce(address, ''), coalesce(email, ''),
	coalesce(phone, ''), version, created_at, created_by, updated_at, updated_by`

func scan(row pgx.Row) (Person, error) {
	var p Person
	var kind string
	err := row.Scan(&p.ID, &kind, &p.Name, &p.EGN, &p.LNCH, &p.BirthDate, &p.BirthPlace, &p.IDDocument, &p.EIK, &p.Address,
		&p.Email, &p.Phone, &p.Version, &p.CreatedAt, &p.CreatedBy, &p.UpdatedAt, &p.UpdatedBy)
	p.Kind = Kind(kind)
	return p, err
}

// duplicate looks for a person that p would duplicate, other than p
// itself: one with the same ЕГН, ЛНЧ or ЕИК; or a natural person with the
// same name (in any case) and date of birth where either record has no
// ЕГН/ЛНЧ (two different ЕГН are two people, even with the same name and
// birthday; without one, name and birthday are all there is, and a clerk
// who meets the same person should add the ЕГН to the existing record
// instead of creating another); or a legal entity with the same name where
// either has no ЕИК (a firm's name is unique in the Commercial Register).
// It returns the Conflict naming the existing record, or nil.
func duplicate(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, p Person) error {
	var id int64
	var name, why string
	err := q.QueryRow(ctx, `
		SELECT id, name, CASE WHEN egn = $2 THEN 'egn' WHEN lnch = $3 THEN 'lnch' WHEN eik = $4 THEN 'eik' ELSE 'name' END
		FROM persons
		WHERE id <> $1 AND (egn = $2 OR lnch = $3 OR eik = $4
		   OR ($5 = 'natural' AND kind = 'natural' AND birth_date = $7::date AND munigis_fold(name) = munigis_fold($6)
		       AND ((egn IS NULL AND lnch IS NULL) OR ($2 = '' AND $3 = '')))
		   OR ($5 = 'legal' AND kind = 'legal' AND munigis_fold(name) = munigis_fold($6) AND (eik IS NULL OR $4 = '')))
		ORDER BY id LIMIT 1`,
		p.ID, p.EGN, p.LNCH, p.EIK, string(p.Kind), p.Name, nullIfEmpty(p.BirthDate)).Scan(&id, &name, &why)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return postgis.Translate(err, "persons: duplicate check")
	}
	what := map[string][2]string{
		"egn":  {"the same ЕГН", "със същото ЕГН"},
		"lnch": {"the same ЛНЧ", "със същия ЛНЧ"},
		"eik":  {"the same ЕИК", "със същия ЕИК"},
		"name": {"the same name and date of birth", "със същите име и дата на раждане"},
	}[why]
	if why == "name" && p.Kind == Legal {
		what = [2]string{"the same name", "със същото наименование"}
	}
	// The field named is the one the duplicate was found by ("name" for a
	// name, with or without the date of birth).
	return &munigis.Error{
		Code: munigis.Conflict,
		Message: fmt.Sprintf("%s: person %d (%s) already exists with %s; use that record instead of creating another",
			why, id, name, what[0]),
		MessageBG: fmt.Sprintf("лице № %d (%s) вече е въведено %s; изберете него вместо да въвеждате ново", id, name, what[1]),
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Create validates p and stores it as a new person, returning it as
// stored (ID, birth date from the ЕГН, version 1, stamps). A person that
// already exists (see duplicate) is refused with Conflict naming the
// existing record, so that the clerk picks it: typing a name never
// silently creates or merges anyone.
func (s *Store) Create(ctx context.Context, p Person) (Person, error) {
	p, err := Normalise(p)
	if err != nil {
		return Person{}, err
	}
	p.ID = 0
	var out Person
	err = postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := duplicate(ctx, tx, p); err != nil {
			return err
		}
		var err error
		out, err = scan(tx.QueryRow(ctx, `INSERT INTO persons (kind, name, egn, lnch, birth_date, birth_place, id_document, eik, address, email, phone)
			VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, $9, $10, $11) RETURNING `+columns,
			string(p.Kind), p.Name, nullIfEmpty(p.EGN), nullIfEmpty(p.LNCH), nullIfEmpty(p.BirthDate), nullIfEmpty(p.BirthPlace),
			nullIfEmpty(p.IDDocument), nullIfEmpty(p.EIK), nullIfEmpty(p.Address), nullIfEmpty(p.Email), nullIfEmpty(p.Phone)))
		return err
	})
	if err != nil {
		return Person{}, s.raced(ctx, p, err, "persons: create")
	}
	return out, nil
}

// raced turns a unique violation into the Conflict that duplicate would
// have given: two clerks creating the same person at the same moment both
// pass the check, and the database's unique indexes stop the second.
func (s *Store) raced(ctx context.Context, p Person, err error, what string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		if derr := duplicate(ctx, s.pool, p); derr != nil {
			return derr
		}
	}
	return postgis.Translate(err, what)
}

// Get returns the person with id, or NotFound.
func (s *Store) Get(ctx context.Context, id int64) (Person, error) {
	p, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM persons WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Person{}, notFound(id)
	}
	if err != nil {
		return Person{}, postgis.Translate(err, "persons: get")
	}
	return p, nil
}

func notFound(id int64) error {
	return &munigis.Error{Code: munigis.NotFound, Message: fmt.Sprintf("person %d does not exist", id),
		MessageBG: fmt.Sprintf("лице № %d не съществува", id)}
}

// Update replaces every field of the person p.ID with p's (a field left
// empty is cleared), validated like Create, and returns the new version.
// Corrections of an ЕГН, ЛНЧ or ЕИК are allowed: the earlier version stays
// in the history and the audit trail records both values. When p.Version is
// set and is not the current version, someone else changed the person in
// the meantime and Update refuses with Conflict rather than overwrite it.
func (s *Store) Update(ctx context.Context, p Person) (Person, error) {
	p, err := Normalise(p)
	if err != nil {
		return Person{}, err
	}
	var out Person
	err = postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var current int
		if err := tx.QueryRow(ctx, `SELECT version FROM persons WHERE id = $1 FOR UPDATE`, p.ID).Scan(&current); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound(p.ID)
			}
			return err
		}
		if p.Version != 0 && p.Version != current {
			return &munigis.Error{Code: munigis.Conflict,
				Message:   fmt.Sprintf("version: person %d was changed by someone else (version %d, not %d); reload it and make the change again", p.ID, current, p.Version),
				MessageBG: fmt.Sprintf("лице № %d е променено от друг (версия %d, не %d); заредете го отново и повторете промяната", p.ID, current, p.Version)}
		}
		if err := duplicate(ctx, tx, p); err != nil {
			return err
		}
		var err error
		out, err = scan(tx.QueryRow(ctx, `UPDATE persons SET kind = $2, name = $3, egn = $4, lnch = $5, birth_date = $6::date,
			birth_place = $7, id_document = $8, eik = $9, address = $10, email = $11, phone = $12
			WHERE id = $1 RETURNING `+columns,
			p.ID, string(p.Kind), p.Name, nullIfEmpty(p.EGN), nullIfEmpty(p.LNCH), nullIfEmpty(p.BirthDate), nullIfEmpty(p.BirthPlace),
			nullIfEmpty(p.IDDocument), nullIfEmpty(p.EIK), nullIfEmpty(p.Address), nullIfEmpty(p.Email), nullIfEmpty(p.Phone)))
		return err
	})
	if err != nil {
		return Person{}, s.raced(ctx, p, err, "persons: update")
	}
	return out, nil
}

// Find limits.
const (
	DefaultFindLimit = 20
	MaxFindLimit     = 200
)

// Find returns the persons a clerk means by q: when q is an identifier
// (an ЕГН, ЛНЧ or ЕИК: 9, 10 or 13 digits), the person with exactly that
// identifier; otherwise persons whose name resembles q in Cyrillic or in
// Latin ("Petrov" and "петров" both find Петров: the query is folded and
// transliterated and compared by trigram word similarity with search_text,
// which holds the folded name and its transliteration), most similar first.
// limit 0 means DefaultFindLimit.
func (s *Store) Find(ctx context.Context, q string, limit int) ([]Person, error) {
	q = normaliseName(q)
	if q == "" {
		return nil, fieldError("q", "say what to look for: a name, an ЕГН, a ЛНЧ or an ЕИК",
			"въведете име, ЕГН, ЛНЧ или ЕИК")
	}
	if limit == 0 {
		limit = DefaultFindLimit
	}
	if limit < 1 || limit > MaxFindLimit {
		return nil, fieldError("limit", fmt.Sprintf("must be between 1 and %d", MaxFindLimit),
			fmt.Sprintf("лимитът трябва да е между 1 и %d", MaxFindLimit))
	}
	var out []Person
	collect := func(rows pgx.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	}
	if d, ok := digits(q); ok && (len(d) == 9 || len(d) == 10 || len(d) == 13) {
		err := collect(s.pool.Query(ctx, `SELECT `+columns+` FROM persons WHERE egn = $1 OR lnch = $1 OR eik = $1 ORDER BY id LIMIT $2`, q, limit))
		if err != nil {
			return nil, postgis.Translate(err, "persons: find")
		}
		return out, nil
	}
	// A lower threshold than pg_trgm's 0.6 default, so that a typo or a
	// partly typed name ("Петро", "Petrof") still finds the person; the
	// ordering puts the close matches first anyway.
	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)`); err != nil {
			return err
		}
		return collect(tx.Query(ctx, `
			SELECT `+columns+` FROM persons
			WHERE $1 <% search_text OR $2 <% search_text
			ORDER BY greatest(word_similarity($1, search_text), word_similarity($2, search_text)) DESC, id
			LIMIT $3`, Fold(q), Translit(q), limit))
	})
	if err != nil {
		return nil, postgis.Translate(err, "persons: find")
	}
	return out, nil
}

// History returns the earlier versions of person id, oldest first; the
// current version is Get's. A deleted person's history is still there.
// NotFound when the person never existed.
func (s *Store) History(ctx context.Context, id int64) ([]Version, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT person_id, kind, name, coalesce(egn, ''), coalesce(lnch, ''), coalesce(to_char(birth_date, 'YYYY-MM-DD'), ''),
		       coalesce(birth_place, ''), coalesce(id_document, ''), coalesce(eik, ''), coalesce(address, ''), coalesce(email, ''),
		       coalesce(phone, ''), version, valid_from, created_by, valid_to, ended_by, ended_how
		FROM person_versions WHERE person_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, postgis.Translate(err, "persons: history")
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var kind string
		p := &v.Person
		if err := rows.Scan(&p.ID, &kind, &p.Name, &p.EGN, &p.LNCH, &p.BirthDate, &p.BirthPlace, &p.IDDocument, &p.EIK, &p.Address,
			&p.Email, &p.Phone, &p.Version, &v.ValidFrom, &p.UpdatedBy, &v.ValidTo, &v.EndedBy, &v.EndedHow); err != nil {
			return nil, postgis.Translate(err, "persons: history")
		}
		p.Kind = Kind(kind)
		p.UpdatedAt = v.ValidFrom
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, postgis.Translate(err, "persons: history")
	}
	if len(out) == 0 {
		if _, err := s.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

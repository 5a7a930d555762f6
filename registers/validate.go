package registers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
	"munigis/spatial"
)

// This file is the one place where an entry is checked against its type.
// normalise checks what needs no database (types, required fields, enum
// values, dates and their order, identifiers, parties' roles); checkRefs
// checks, inside the writing transaction, what does (persons, referenced
// entries, unique fields, the number). Every error is Invalid or Conflict
// and names the field, in English and Bulgarian.

func fieldInvalid(t Type, f Field, en, bg string) *munigis.Error {
	return invalid(fmt.Sprintf("%s: %s", f.Name, en), fmt.Sprintf("%s: %s", f.TitleBG, bg))
}

// normalise checks e against t and returns it tidied: number and text
// trimmed, Data values converted to their Go types (int64, float64, bool,
// "YYYY-MM-DD" strings), empty values dropped, identifiers deduplicated.
func normalise(t Type, e Entry) (Entry, error) {
	e.Register = t.Name
	e.Number = strings.TrimSpace(e.Number)
	if e.Number == "" {
		return e, invalid(fmt.Sprintf("number: the %s is required", t.NumberLabelEN),
			fmt.Sprintf("%s: номерът е задължителен", t.NumberLabelBG))
	}
	if len(e.Number) > 200 {
		return e, invalid("number: at most 200 characters", t.NumberLabelBG+": най-много 200 знака")
	}
	e.Date = strings.TrimSpace(e.Date)
	if e.Date == "" {
		return e, invalid(fmt.Sprintf("date: the %s is required", strings.ToLower(t.DateLabelEN)),
			fmt.Sprintf("%s: датата е задължителна", t.DateLabelBG))
	}
	if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
		return e, invalid(fmt.Sprintf("date: %q is not a date (YYYY-MM-DD)", short(e.Date)),
			fmt.Sprintf("%s: %q не е дата (ГГГГ-ММ-ДД)", t.DateLabelBG, short(e.Date)))
	}

	// Status.
	e.Status = strings.TrimSpace(e.Status)
	if sf, ok := t.Field(StatusField); ok {
		switch {
		case e.Status == "" && sf.Required:
			return e, fieldInvalid(t, sf, "is required", "задължително поле")
		case e.Status != "" && sf.Type == Enum && !slices.Contains(sf.Values, e.Status):
			return e, fieldInvalid(t, sf, fmt.Sprintf("%q is not one of %s", short(e.Status), strings.Join(sf.Values, ", ")),
				fmt.Sprintf("%q не е от допустимите стойности: %s", short(e.Status), strings.Join(sf.Values, ", ")))
		}
	} else if e.Status != "" {
		return e, invalid(fmt.Sprintf("status: register %s has no status", t.Name),
			fmt.Sprintf("състояние: регистър %s няма поле за състояние", t.Name))
	}

	// Identifiers.
	idf, hasIDs := t.IdentifiersField()
	if !hasIDs && len(e.Identifiers) > 0 {
		return e, invalid(fmt.Sprintf("identifiers: register %s takes no cadastral identifiers", t.Name),
			fmt.Sprintf("идентификатори: регистър %s не съдържа кадастрални идентификатори", t.Name))
	}
	ids := make([]string, 0, len(e.Identifiers))
	for _, s := range e.Identifiers {
		id, err := spatial.Parse(s)
		if err != nil {
			var pe *spatial.ParseError
			if errors.As(err, &pe) {
				return e, invalid(idf.Name+": "+pe.Error(), idf.TitleBG+": "+pe.MessageBG())
			}
			return e, invalid(idf.Name+": "+err.Error(), idf.TitleBG+": "+err.Error())
		}
		if !slices.Contains(ids, id.String()) {
			ids = append(ids, id.String())
		}
	}
	e.Identifiers = ids
	if hasIDs && idf.Required && len(ids) == 0 {
		return e, fieldInvalid(t, idf, "at least one cadastral identifier is required", "нужен е поне един кадастрален идентификатор")
	}

	// Parties.
	counts := map[string]int{}
	seen := map[Party]bool{}
	for i, p := range e.Parties {
		f, ok := t.Field(p.Role)
		if !ok || (f.Type != Person && f.Type != Persons) {
			return e, invalid(fmt.Sprintf("parties: party %d: role %q is not a person field of register %s", i+1, short(p.Role), t.Name),
				fmt.Sprintf("страни: страна %d: ролята %q не е поле за лице в регистър %s", i+1, short(p.Role), t.Name))
		}
		if p.PersonID <= 0 {
			return e, fieldInvalid(t, f, "say which person (person_id)", "посочете лицето (person_id)")
		}
		key := Party{PersonID: p.PersonID, Role: p.Role}
		if seen[key] {
			return e, fieldInvalid(t, f, fmt.Sprintf("person %d is named twice", p.PersonID), fmt.Sprintf("лице № %d е посочено два пъти", p.PersonID))
		}
		seen[key] = true
		counts[p.Role]++
		e.Parties[i] = Party{PersonID: p.PersonID, Role: p.Role}
	}
	for _, f := range t.Fields {
		switch {
		case f.Type == Person && counts[f.Name] > 1:
			return e, fieldInvalid(t, f, "takes one person", "допуска едно лице")
		case (f.Type == Person || f.Type == Persons) && f.Required && counts[f.Name] == 0:
			return e, fieldInvalid(t, f, "is required", "задължително поле")
		}
	}

	// Data.
	data := make(map[string]any, len(e.Data))
	for k, v := range e.Data {
		f, ok := t.Field(k)
		if !ok {
			return e, invalid(fmt.Sprintf("%s: register %s has no such field", short(k), t.Name),
				fmt.Sprintf("%s: регистър %s няма такова поле", short(k), t.Name))
		}
		switch f.Type {
		case Person, Persons:
			return e, fieldInvalid(t, f, fmt.Sprintf("a person field is given in parties, with role %q", f.Name),
				fmt.Sprintf("лицата се посочват в страни (parties) с роля %q", f.Name))
		case CadastralIDs:
			return e, fieldInvalid(t, f, "cadastral identifiers are given in identifiers", "кадастралните идентификатори се посочват в identifiers")
		}
		if f.Name == StatusField {
			return e, fieldInvalid(t, f, "the status is given in status", "състоянието се посочва в status")
		}
		cv, err := coerce(t, f, v)
		if err != nil {
			return e, err
		}
		if cv != nil {
			data[k] = cv
		}
	}
	for _, f := range t.Fields {
		if f.Required && f.Name != StatusField && f.Type != Person && f.Type != Persons && f.Type != CadastralIDs && data[f.Name] == nil {
			return e, fieldInvalid(t, f, "is required", "задължително поле")
		}
	}
	e.Data = data

	// Dates in order.
	for _, f := range t.Fields {
		if f.NotBefore == "" {
			continue
		}
		d, _ := data[f.Name].(string)
		var other, otherBG string
		if f.NotBefore == EntryDate {
			other, otherBG = e.Date, t.DateLabelBG
		} else {
			other, _ = data[f.NotBefore].(string)
			of, _ := t.Field(f.NotBefore)
			otherBG = of.TitleBG
		}
		if d != "" && other != "" && d < other { // YYYY-MM-DD compares as text
			return e, fieldInvalid(t, f, fmt.Sprintf("%s is before %s (%s)", d, f.NotBefore, other),
				fmt.Sprintf("%s е преди „%s“ (%s)", d, otherBG, other))
		}
	}
	return e, nil
}

// coerce converts v, as it arrives from JSON, a form or a CSV file, to the
// Go type of f; nil and "" are "no value".
func coerce(t Type, f Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		if f.Type != Text {
			s = strings.TrimSpace(s)
		}
		if s == "" || (f.Type == Text && strings.TrimSpace(s) == "") {
			return nil, nil
		}
		v = s
	}
	bad := func(what, whatBG string) (any, error) {
		return nil, fieldInvalid(t, f, fmt.Sprintf("%s is not %s", shortValue(v), what), fmt.Sprintf("%s не е %s", shortValue(v), whatBG))
	}
	switch f.Type {
	case Text:
		s, ok := v.(string)
		if !ok {
			return bad("text", "текст")
		}
		if len(s) > 10000 {
			return nil, fieldInvalid(t, f, "at most 10,000 characters", "най-много 10 000 знака")
		}
		return s, nil
	case Enum:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.Values, s) {
			return nil, fieldInvalid(t, f, fmt.Sprintf("%s is not one of %s", shortValue(v), strings.Join(f.Values, ", ")),
				fmt.Sprintf("%s не е от допустимите стойности: %s", shortValue(v), strings.Join(f.Values, ", ")))
		}
		return s, nil
	case Integer, Reference, File:
		n, ok := toInt(v)
		if !ok && f.Type == File {
			return bad("a document id", "номер на документ")
		}
		if !ok {
			return bad("an integer", "цяло число")
		}
		if f.Type == Reference && n <= 0 {
			return bad("an entry id", "номер на вписване")
		}
		if f.Type == File && n <= 0 {
			return bad("a document id", "номер на документ")
		}
		return n, nil
	case Number:
		x, ok := toFloat(v)
		if !ok {
			return bad("a number", "число")
		}
		return x, nil
	case Date:
		s, ok := v.(string)
		if !ok {
			return bad("a date (YYYY-MM-DD)", "дата (ГГГГ-ММ-ДД)")
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return bad("a date (YYYY-MM-DD)", "дата (ГГГГ-ММ-ДД)")
		}
		return s, nil
	case Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(b) {
			case "true", "1", "да":
				return true, nil
			case "false", "0", "не":
				return false, nil
			}
		}
		return bad("true or false", "да или не")
	}
	return nil, fieldInvalid(t, f, "has an unknown type", "има непознат тип")
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil {
			return toInt(f)
		}
	case string:
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case int:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case float64:
		f = n
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	case string:
		// A decimal comma is how Bulgarian spreadsheets write numbers.
		x, err := strconv.ParseFloat(strings.Replace(n, ",", ".", 1), 64)
		if err != nil {
			return 0, false
		}
		f = x
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func shortValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(short(s))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	return short(string(b))
}

// checkRefs checks, inside tx, what normalise cannot: the persons exist,
// referenced entries exist in their registers, unique fields and the
// number are not taken by another entry (self is e.ID, 0 for a new entry).
// It fills the parties' names and kinds.
func checkRefs(ctx context.Context, tx pgx.Tx, t Type, e *Entry) error {
	// Uniqueness is checked, then written, by concurrent transactions: a
	// lock per register serialises writers of one register (the number's
	// UNIQUE constraint is the last line for the number, see numberTaken).
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('munigis.register:' || $1))`, t.Name); err != nil {
		return postgis.Translate(err, "registers: lock")
	}
	var other int64
	err := tx.QueryRow(ctx, `SELECT id FROM register_entries WHERE register = $1 AND number = $2 AND id <> $3`,
		t.Name, e.Number, e.ID).Scan(&other)
	if err == nil {
		return numberTaken(t, e.Number, other)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return postgis.Translate(err, "registers: number check")
	}

	if len(e.Parties) > 0 {
		ids := make([]int64, len(e.Parties))
		for i, p := range e.Parties {
			ids[i] = p.PersonID
		}
		rows, err := tx.Query(ctx, `SELECT id, name, kind, coalesce(eik, '') FROM persons WHERE id = ANY($1)`, ids)
		if err != nil {
			return postgis.Translate(err, "registers: persons")
		}
		found := map[int64]Party{}
		for rows.Next() {
			var p Party
			var kind string
			if err := rows.Scan(&p.PersonID, &p.Name, &kind, &p.EIK); err != nil {
				rows.Close()
				return err
			}
			p.Kind = kind
			found[p.PersonID] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return postgis.Translate(err, "registers: persons")
		}
		for i, p := range e.Parties {
			fp, ok := found[p.PersonID]
			if !ok {
				f, _ := t.Field(p.Role)
				return fieldInvalid(t, f, fmt.Sprintf("person %d does not exist", p.PersonID), fmt.Sprintf("лице № %d не съществува", p.PersonID))
			}
			e.Parties[i].Name, e.Parties[i].Kind, e.Parties[i].EIK = fp.Name, fp.Kind, fp.EIK
		}
	}

	for _, f := range t.Fields {
		v, ok := e.Data[f.Name]
		if !ok {
			continue
		}
		if f.Type == Reference {
			var reg string
			err := tx.QueryRow(ctx, `SELECT register FROM register_entries WHERE id = $1`, v).Scan(&reg)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && reg != f.Register) {
				target, _ := getType(ctx, tx, f.Register)
				return fieldInvalid(t, f, fmt.Sprintf("entry %v of register %s does not exist", v, f.Register),
					fmt.Sprintf("вписване № %v в регистър „%s“ не съществува", v, target.TitleBG))
			}
			if err != nil {
				return postgis.Translate(err, "registers: reference check")
			}
		}
		if f.Type == File {
			// The document must exist when the entry is written; documents
			// are never deleted (000012), so it stays.
			var contentVersion int
			err := tx.QueryRow(ctx, `SELECT content_version FROM documents WHERE id = $1`, v).Scan(&contentVersion)
			if errors.Is(err, pgx.ErrNoRows) {
				return fieldInvalid(t, f, fmt.Sprintf("document %v does not exist", v), fmt.Sprintf("документ № %v не съществува", v))
			}
			if err != nil {
				return postgis.Translate(err, "registers: file check")
			}
			if contentVersion == 0 {
				return fieldInvalid(t, f, fmt.Sprintf("document %v has no file yet", v), fmt.Sprintf("документ № %v още няма файл", v))
			}
		}
		if f.Unique {
			raw, err := json.Marshal(v)
			if err != nil {
				return err
			}
			var dup string
			err = tx.QueryRow(ctx, `SELECT number FROM register_entries
				WHERE register = $1 AND data -> $2 = $3::jsonb AND id <> $4 LIMIT 1`, t.Name, f.Name, string(raw), e.ID).Scan(&dup)
			if err == nil {
				return &munigis.Error{Code: munigis.Conflict,
					Message:   fmt.Sprintf("%s: %s is already in entry %s %s", f.Name, shortValue(v), t.NumberLabelEN, dup),
					MessageBG: fmt.Sprintf("%s: %s вече е вписано в %s %s", f.TitleBG, shortValue(v), t.NumberLabelBG, dup)}
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return postgis.Translate(err, "registers: unique check")
			}
		}
	}
	return nil
}

// numberTaken is the Conflict of a number already used in the register:
// "Акт № 123 вече е вписан".
func numberTaken(t Type, number string, other int64) error {
	return &munigis.Error{Code: munigis.Conflict,
		Message: fmt.Sprintf("number: %s %s is already registered in %s (entry %d)", t.NumberLabelEN, short(number), t.Name, other),
		MessageBG: fmt.Sprintf("%s %s вече е вписан в регистър „%s“ (вписване %d)",
			t.NumberLabelBG, short(number), t.TitleBG, other)}
}

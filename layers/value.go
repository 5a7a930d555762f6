package layers

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"munigis"
)

// ParseValue turns the text form of a value of attribute a, as protocols
// carry it (a FES literal, a GML property, a query parameter), into the Go
// value the store binds for a.Type: string for text, enum and cadastral_id;
// int64 for integer; float64 for number; bool for boolean (true, false, 1,
// 0); time.Time (midnight UTC) for a date written YYYY-MM-DD. Enum values
// and cadastral identifiers are checked only when written, so that a filter
// may ask for a value that does not (yet) exist. Returns Invalid naming the
// attribute.
func ParseValue(a Attribute, s string) (any, error) {
	switch a.Type {
	case Text, Enum, CadastralID:
		return s, nil
	case Integer:
		t := strings.TrimSpace(s)
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return n, nil
		}
		// "3.0" is an integer written by a client that knows only numbers.
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			if n, ok := integral(f); ok {
				return n, nil
			}
		}
		return nil, munigis.Errorf(munigis.Invalid, "attribute %q: %s is not an integer", a.Name, short(s))
	case Number:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, munigis.Errorf(munigis.Invalid, "attribute %q: %s is not a number", a.Name, short(s))
		}
		return f, nil
	case Date:
		d, err := parseDate(strings.TrimSpace(s))
		if err != nil {
			return nil, munigis.Errorf(munigis.Invalid, "attribute %q: %s is not a date (YYYY-MM-DD)", a.Name, short(s))
		}
		return d, nil
	case Boolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, munigis.Errorf(munigis.Invalid, "attribute %q: %s is not a boolean (true, false, 1 or 0)", a.Name, short(s))
	}
	return nil, munigis.Errorf(munigis.Invalid, "attribute %q has unknown type %q", a.Name, a.Type)
}

// parseDate reads YYYY-MM-DD, also in the other forms clients send for an
// XML Schema date: with a time zone (2024-05-01Z, 2024-05-01+03:00, as
// GML xs:date allows) or as a date-time (2024-05-01T00:00:00Z, from
// clients that have only date-times). The date is taken as written; the
// time and zone are dropped, since the attribute holds a calendar date.
func parseDate(s string) (time.Time, error) {
	if len(s) > len(time.DateOnly) {
		rest := s[len(time.DateOnly):]
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil ||
			rest == "Z" || (len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
			s = s[:len(time.DateOnly)]
		}
	}
	return time.Parse(time.DateOnly, s)
}

// short quotes a value for a message, cut to a readable length: the value
// comes from the client and may be of any size.
func short(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return strconv.Quote(s)
}

// integral returns f as an int64 when it is a whole number in range.
func integral(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// coerce turns a value given for attribute a (a string, or an already typed
// Go value from JSON or a caller) into the value ParseValue would give, or
// nil for nil. Returns Invalid naming the attribute.
func coerce(a Attribute, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return ParseValue(a, x)
	case int:
		return coerce(a, int64(x))
	case int32:
		return coerce(a, int64(x))
	case float32:
		return coerce(a, float64(x))
	case json.Number:
		// From a JSON decoder with UseNumber: its text is exact.
		return ParseValue(a, string(x))
	}
	wrong := func() error {
		return munigis.Errorf(munigis.Invalid, "attribute %q takes %s, not %v (%s)", a.Name, typeWords[a.Type], v, goKind(v))
	}
	switch a.Type {
	case Text, Enum, CadastralID:
		// A number sent for a text field (a JSON client, an identifier
		// typed as a number) is taken as its text.
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
	case Integer:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if n, ok := integral(x); ok {
				return n, nil
			}
		}
	case Number:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				return x, nil
			}
		}
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case Date:
		if t, ok := v.(time.Time); ok {
			return t, nil
		}
	}
	return nil, wrong()
}

var typeWords = map[AttrType]string{
	Text: "text", Enum: "one of its values", CadastralID: "a cadastral identifier",
	Integer: "an integer", Number: "a number", Boolean: "true or false", Date: "a date (YYYY-MM-DD)",
}

func goKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case time.Time:
		return "a time"
	}
	return "an unsupported value"
}

// sqlType is the column type of an attribute type, for casting bind
// parameters so that PostgreSQL never has to guess them.
func sqlType(t AttrType) string {
	switch t {
	case Integer:
		return "bigint"
	case Number:
		return "double precision"
	case Date:
		return "date"
	case Boolean:
		return "boolean"
	}
	return "text"
}

// isText reports whether attributes of type t are stored as text.
func isText(t AttrType) bool { return t == Text || t == Enum || t == CadastralID }

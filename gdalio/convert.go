package gdalio

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"munigis/layers"
)

// errRequired is returned by convert for a missing value of a required
// attribute.
var errRequired = errors.New("a value is required")

// convert turns a source value into the Go value pgx writes to the column of
// attribute a: string (text, cadastral_id, enum), int64 (integer), float64
// (number), time.Time (date) or bool; nil for NULL. Empty text is NULL for
// every type: files cannot tell an empty value from a missing one (a DBF
// pads both with blanks), and a person means "no value" either way.
// decode, when not nil, recodes text read from the file to UTF-8.
func convert(a layers.Attribute, v rawValue, decode func(string) string) (any, error) {
	val, err := convertValue(a.Type, v, decode)
	if err != nil {
		return nil, err
	}
	if val == nil {
		if a.Required {
			return nil, errRequired
		}
		return nil, nil
	}
	if a.Type == layers.Enum {
		s := val.(string)
		for _, allowed := range a.Values {
			if s == allowed {
				return s, nil
			}
		}
		return nil, fmt.Errorf("%q is not one of the allowed values (%s)", s, strings.Join(a.Values, ", "))
	}
	return val, nil
}

func convertValue(t layers.AttrType, v rawValue, decode func(string) string) (any, error) {
	if v.Null {
		return nil, nil
	}
	switch v.Kind {
	case kindInt, kindBool:
		return fromInt(t, v.Int, v.Kind == kindBool)
	case kindReal:
		return fromReal(t, v.Real)
	case kindDate:
		return fromDate(t, v.Date)
	}
	s := v.Str
	if decode != nil {
		s = decode(s)
	}
	return fromString(t, s)
}

func fromInt(t layers.AttrType, n int64, isBool bool) (any, error) {
	switch t {
	case layers.Integer:
		return n, nil
	case layers.Number:
		return float64(n), nil
	case layers.Boolean:
		switch n {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return nil, fmt.Errorf("%d is not true or false (1 or 0)", n)
	case layers.Date:
		return nil, fmt.Errorf("%d is a number, not a date", n)
	}
	if isBool && t == layers.Text {
		return strconv.FormatBool(n != 0), nil
	}
	return strconv.FormatInt(n, 10), nil
}

func fromReal(t layers.AttrType, f float64) (any, error) {
	switch t {
	case layers.Number:
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil
		}
		return f, nil
	case layers.Integer:
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("%s is not a whole number", strconv.FormatFloat(f, 'f', -1, 64))
		}
		return int64(f), nil
	case layers.Boolean:
		switch f {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return nil, fmt.Errorf("%s is not true or false (1 or 0)", strconv.FormatFloat(f, 'f', -1, 64))
	case layers.Date:
		return nil, fmt.Errorf("%s is a number, not a date", strconv.FormatFloat(f, 'f', -1, 64))
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

func fromDate(t layers.AttrType, d time.Time) (any, error) {
	switch t {
	case layers.Date:
		return d, nil
	case layers.Integer, layers.Number, layers.Boolean:
		return nil, fmt.Errorf("%s is a date, not a %s", d.Format(time.DateOnly), typeWord(t))
	}
	return d.Format(time.DateOnly), nil
}

func fromString(t layers.AttrType, s string) (any, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return nil, nil
	}
	switch t {
	case layers.Text:
		return s, nil
	case layers.CadastralID, layers.Enum:
		return trimmed, nil
	case layers.Integer:
		if n, err := strconv.ParseInt(trimmed, 10, 64); err == nil {
			return n, nil
		}
		if f, ok := parseNumber(trimmed); ok && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			return int64(f), nil
		}
		return nil, fmt.Errorf("%q is not a whole number", s)
	case layers.Number:
		if f, ok := parseNumber(trimmed); ok {
			return f, nil
		}
		return nil, fmt.Errorf("%q is not a number", s)
	case layers.Boolean:
		switch strings.ToLower(trimmed) {
		case "true", "t", "yes", "y", "1", "да", "д", "истина":
			return true, nil
		case "false", "f", "no", "n", "0", "не", "н", "лъжа":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", s)
	case layers.Date:
		if d, ok := parseDate(trimmed); ok {
			return d, nil
		}
		return nil, fmt.Errorf("%q is not a date (write YYYY-MM-DD or DD.MM.YYYY)", s)
	}
	return s, nil
}

// parseNumber reads a decimal number, also with a decimal comma (12,5) as
// Bulgarian spreadsheets write it. NaN and infinities are not numbers here.
func parseNumber(s string) (float64, bool) {
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

var dateLayouts = []string{
	time.DateOnly, "2006/01/02", "02.01.2006", "2.1.2006", "02.01.2006 г.", "2.1.2006 г.",
	time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006/01/02 15:04:05",
}

func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if d, err := time.Parse(l, s); err == nil {
			return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), true
		}
	}
	return time.Time{}, false
}

func typeWord(t layers.AttrType) string {
	switch t {
	case layers.Integer:
		return "whole number"
	case layers.Number:
		return "number"
	case layers.Boolean:
		return "true/false value"
	}
	return string(t)
}

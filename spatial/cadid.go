package spatial

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Level is the kind of object a cadastral identifier names. Its value is the
// number of dot-separated fields the identifier has, so a valid identifier is
// always at LevelParcel, LevelBuilding or LevelUnit; the zero Identifier has
// Level 0.
type Level int

// Levels of a cadastral identifier (Наредба РД-02-20-3/2016, Annex 1). The
// settlement and the cadastral area (fields 1 and 2) are not levels of their
// own: no identifier ends with them.
const (
	LevelParcel   Level = 3 // поземлен имот: EKATTE.area.parcel
	LevelBuilding Level = 4 // сграда or technical-infrastructure facility: EKATTE.area.parcel.building
	LevelUnit     Level = 5 // самостоятелен обект в сграда: EKATTE.area.parcel.building.unit
)

// String returns "parcel", "building" or "unit", or "Level(n)" for any other
// value.
func (l Level) String() string {
	switch l {
	case LevelParcel:
		return "parcel"
	case LevelBuilding:
		return "building"
	case LevelUnit:
		return "unit"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// TitleBG returns the Bulgarian name of the level as the ordinance uses it
// ("поземлен имот", "сграда", "самостоятелен обект"), or "" for any other
// value.
func (l Level) TitleBG() string {
	switch l {
	case LevelParcel:
		return "поземлен имот"
	case LevelBuilding:
		return "сграда"
	case LevelUnit:
		return "самостоятелен обект"
	}
	return ""
}

// Identifier is a Bulgarian cadastral identifier (идентификатор на недвижим
// имот), ЕКАТТЕ.район.имот[.сграда[.самостоятелен обект]], as defined by
// Наредба РД-02-20-3/2016. The zero value is the empty identifier; every
// other value comes from Parse or Child and is valid. Identifiers are
// comparable with ==.
//
// The EKATTE code is kept as text because 634 codes start with 0; the other
// fields are unbounded positive integers because the cadastre moves on to
// 10000+ area numbers and 1000+ parcel numbers when the shorter ones run out.
type Identifier struct {
	ekatte   string
	area     uint64
	parcel   uint64
	building uint64 // 0 below LevelBuilding
	unit     uint64 // 0 below LevelUnit
}

// Parse parses a cadastral identifier of 3 to 5 dot-separated fields. Field 1
// must be exactly 5 ASCII digits forming a valid EKATTE code (see
// ValidEKATTE); fields 2 to 5 must be positive integers without leading zeros
// or sign that fit in a uint64. Surrounding whitespace is rejected rather
// than trimmed so that untidy source data is noticed, not silently stored.
// The zero field seen in some CAD examples (51.0.21) is rejected too.
//
// Every error is a *ParseError.
func Parse(s string) (Identifier, error) {
	if s == "" {
		return Identifier{}, errEmpty(s)
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return Identifier{}, &ParseError{
			Input:    s,
			Reason:   "has leading or trailing whitespace",
			ReasonBG: "има интервал в началото или в края",
		}
	}
	// Count before splitting so that a hostile input full of dots costs no
	// allocation.
	if n := strings.Count(s, ".") + 1; n < int(LevelParcel) || n > int(LevelUnit) {
		return Identifier{}, errFieldCount(s, n)
	}
	fields := strings.Split(s, ".")
	if err := checkEKATTEField(s, fields[0]); err != nil {
		return Identifier{}, err
	}
	var nums [4]uint64
	for i, f := range fields[1:] {
		v, err := parsePositive(s, i+2, f)
		if err != nil {
			return Identifier{}, err
		}
		nums[i] = v
	}
	return Identifier{
		ekatte:   fields[0],
		area:     nums[0],
		parcel:   nums[1],
		building: nums[2],
		unit:     nums[3],
	}, nil
}

// MustParse is like Parse but panics on error. It is meant for constants in
// tests and fixtures.
func MustParse(s string) Identifier {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// String returns the identifier in its canonical dotted form, exactly as
// Parse accepted it, or "" for the zero Identifier.
func (id Identifier) String() string {
	b, _ := id.AppendText(make([]byte, 0, 32))
	return string(b)
}

// AppendText appends the String form of id to b. It never fails; the zero
// Identifier appends nothing.
func (id Identifier) AppendText(b []byte) ([]byte, error) {
	if id.IsZero() {
		return b, nil
	}
	b = append(b, id.ekatte...)
	for _, v := range [...]uint64{id.area, id.parcel, id.building, id.unit} {
		if v == 0 {
			break
		}
		b = append(b, '.')
		b = strconv.AppendUint(b, v, 10)
	}
	return b, nil
}

// MarshalText implements encoding.TextMarshaler. The zero Identifier
// marshals to empty text without error so that encoding a struct never fails
// half-way; tag optional fields `json:",omitzero"` so it is left out instead.
func (id Identifier) MarshalText() ([]byte, error) {
	return id.AppendText(nil)
}

// UnmarshalText implements encoding.TextUnmarshaler with the rules of Parse.
// Empty text is an error, since an identifier that is present must be valid;
// a JSON null leaves the Identifier untouched, as for any TextUnmarshaler.
// On error *id is left unchanged.
func (id *Identifier) UnmarshalText(text []byte) error {
	parsed, err := Parse(string(text))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}

// IsZero reports whether id is the empty identifier. It makes the
// `json:",omitzero"` option work.
func (id Identifier) IsZero() bool {
	return id.ekatte == ""
}

// Validate returns nil for an identifier obtained from Parse or Child and a
// *ParseError saying the identifier is empty for the zero value. Domain types
// call it from their own Validate methods.
func (id Identifier) Validate() error {
	if id.IsZero() {
		return errEmpty("")
	}
	_, err := Parse(id.String())
	return err
}

// Level returns LevelParcel, LevelBuilding or LevelUnit, or 0 for the zero
// Identifier.
func (id Identifier) Level() Level {
	switch {
	case id.IsZero():
		return 0
	case id.unit != 0:
		return LevelUnit
	case id.building != 0:
		return LevelBuilding
	}
	return LevelParcel
}

// EKATTE returns field 1, the 5-digit EKATTE code of the settlement (leading
// zeros kept), or "" for the zero Identifier.
func (id Identifier) EKATTE() string { return id.ekatte }

// Area returns field 2, the cadastral area (кадастрален район), or 0 for the
// zero Identifier.
func (id Identifier) Area() uint64 { return id.area }

// Parcel returns field 3, the land parcel (поземлен имот), or 0 for the zero
// Identifier.
func (id Identifier) Parcel() uint64 { return id.parcel }

// Building returns field 4, the building (сграда), or 0 when id names a
// parcel.
func (id Identifier) Building() uint64 { return id.building }

// Unit returns field 5, the independent unit (самостоятелен обект), or 0 when
// id names a parcel or a building.
func (id Identifier) Unit() uint64 { return id.unit }

// Parent returns the identifier of the object that contains id: the building
// of a unit, or the parcel of a building. A parcel lies in a cadastral area,
// which has no identifier of its own, so for a parcel (and for the zero
// Identifier) Parent returns the zero Identifier and false.
func (id Identifier) Parent() (Identifier, bool) {
	switch id.Level() {
	case LevelUnit:
		id.unit = 0
		return id, true
	case LevelBuilding:
		id.building = 0
		return id, true
	}
	return Identifier{}, false
}

// Child returns the identifier of object n inside id: building n of a parcel,
// or unit n of a building. It returns a *ParseError when id is zero, when id
// is a unit (units contain nothing), or when n is 0.
func (id Identifier) Child(n uint64) (Identifier, error) {
	if id.IsZero() {
		return Identifier{}, errEmpty("")
	}
	return Parse(id.String() + "." + strconv.FormatUint(n, 10))
}

// IsAncestorOf reports whether other lies inside id: a parcel is an ancestor
// of its buildings and their units, a building of its units. No identifier is
// its own ancestor, and the zero Identifier is an ancestor of nothing.
func (id Identifier) IsAncestorOf(other Identifier) bool {
	if id.IsZero() || other.Level() <= id.Level() {
		return false
	}
	for other.Level() > id.Level() {
		other, _ = other.Parent()
	}
	return other == id
}

// ParseError describes why a cadastral identifier was rejected. Field is the
// 1-based number of the offending field, or 0 when the problem concerns the
// whole string (empty, whitespace, wrong number of fields). Reason is in
// English for logs and APIs; ReasonBG says the same in Bulgarian for the user
// interface, which is Bulgarian first.
type ParseError struct {
	Input    string
	Field    int
	Reason   string
	ReasonBG string
}

// fieldNames gives the meaning of each field, indexed by field number, as
// {English, Bulgarian}.
var fieldNames = [...][2]string{
	1: {"EKATTE code", "код по ЕКАТТЕ"},
	2: {"cadastral area", "кадастрален район"},
	3: {"parcel", "поземлен имот"},
	4: {"building", "сграда"},
	5: {"unit", "самостоятелен обект"},
}

// Error returns the English message, for example
//
//	cadastral identifier "68134.0.5": field 2 (cadastral area): must be a positive integer without leading zeros
func (e *ParseError) Error() string {
	return e.message("cadastral identifier", "field", 0, e.Reason)
}

// MessageBG returns the Bulgarian message, for example
//
//	кадастрален идентификатор "68134.0.5": поле 2 (кадастрален район): трябва да е цяло положително число без водещи нули
//
// It falls back to Reason when ReasonBG is empty.
func (e *ParseError) MessageBG() string {
	reason := e.ReasonBG
	if reason == "" {
		reason = e.Reason
	}
	return e.message("кадастрален идентификатор", "поле", 1, reason)
}

func (e *ParseError) message(subject, field string, lang int, reason string) string {
	var b strings.Builder
	b.WriteString(subject)
	b.WriteByte(' ')
	b.WriteString(quoteInput(e.Input))
	b.WriteString(": ")
	if e.Field != 0 {
		b.WriteString(field)
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(e.Field))
		if e.Field > 0 && e.Field < len(fieldNames) {
			b.WriteString(" (")
			b.WriteString(fieldNames[e.Field][lang])
			b.WriteByte(')')
		}
		b.WriteString(": ")
	}
	b.WriteString(reason)
	return b.String()
}

// quoteInput quotes s for an error message, cutting it short because
// identifiers often arrive from request parameters and log lines should not
// grow with whatever a client sends.
func quoteInput(s string) string {
	const maxBytes = 64
	if len(s) <= maxBytes {
		return strconv.Quote(s)
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

func errEmpty(s string) *ParseError {
	return &ParseError{Input: s, Reason: "is empty", ReasonBG: "е празен"}
}

func errFieldCount(s string, n int) *ParseError {
	const (
		shape   = " (EKATTE.area.parcel[.building[.unit]])"
		shapeBG = " (ЕКАТТЕ.район.имот[.сграда[.обект]])"
	)
	if n == 1 {
		return &ParseError{
			Input:    s,
			Reason:   "has 1 field, want 3 to 5" + shape,
			ReasonBG: "има 1 поле, а трябва да са от 3 до 5" + shapeBG,
		}
	}
	return &ParseError{
		Input:    s,
		Reason:   fmt.Sprintf("has %d fields, want 3 to 5%s", n, shape),
		ReasonBG: fmt.Sprintf("има %d полета, а трябва да са от 3 до 5%s", n, shapeBG),
	}
}

// checkNonDigit returns a *ParseError naming the first character of f that
// is not an ASCII digit, or nil. The code point is shown as well because the
// usual culprits are look-alikes: Cyrillic О for 0, З for 3, full-width or
// Arabic-Indic digits pasted from documents.
func checkNonDigit(s string, field int, f string) *ParseError {
	for i := 0; i < len(f); i++ {
		if isDigit(f[i]) {
			continue
		}
		r, size := utf8.DecodeRuneInString(f[i:])
		what := strconv.Quote(f[i : i+size])
		multibyte := size > 1 // a valid non-ASCII rune, not a stray byte
		if multibyte {
			what += fmt.Sprintf(" (%U)", r)
		}
		reason := "contains " + what + ", which is not a digit 0-9"
		reasonBG := "съдържа " + what + ", което не е цифра 0-9"
		if multibyte && unicode.IsDigit(r) {
			reason = "contains " + what + ", a non-ASCII digit; only 0-9 are allowed"
			reasonBG = "съдържа " + what + ", цифра извън ASCII; допустими са само 0-9"
		}
		return &ParseError{Input: s, Field: field, Reason: reason, ReasonBG: reasonBG}
	}
	return nil
}

func checkEKATTEField(s, f string) error {
	if f == "" {
		return &ParseError{Input: s, Field: 1, Reason: "is empty", ReasonBG: "е празно"}
	}
	if err := checkNonDigit(s, 1, f); err != nil {
		return err
	}
	if len(f) != 5 {
		return &ParseError{
			Input:    s,
			Field:    1,
			Reason:   fmt.Sprintf("has %d digits, want 5", len(f)),
			ReasonBG: fmt.Sprintf("има %d цифри, а трябва да са 5", len(f)),
		}
	}
	want, _ := EKATTECheckDigit(f[:4])
	if f[4] != want {
		return &ParseError{
			Input:    s,
			Field:    1,
			Reason:   fmt.Sprintf("check digit is %c, want %c", f[4], want),
			ReasonBG: fmt.Sprintf("контролната цифра е %c, а трябва да е %c", f[4], want),
		}
	}
	return nil
}

func parsePositive(s string, field int, f string) (uint64, error) {
	const (
		positive   = "must be a positive integer without leading zeros"
		positiveBG = "трябва да е цяло положително число без водещи нули"
	)
	if f == "" {
		return 0, &ParseError{Input: s, Field: field, Reason: "is empty", ReasonBG: "е празно"}
	}
	if err := checkNonDigit(s, field, f); err != nil {
		return 0, err
	}
	if f == "0" {
		return 0, &ParseError{Input: s, Field: field, Reason: positive, ReasonBG: positiveBG}
	}
	if f[0] == '0' {
		return 0, &ParseError{
			Input:    s,
			Field:    field,
			Reason:   "has a leading zero; " + positive,
			ReasonBG: "започва с нула; " + positiveBG,
		}
	}
	v, err := strconv.ParseUint(f, 10, 64)
	if err != nil {
		// Only a range error is possible after the digit check.
		return 0, &ParseError{
			Input:    s,
			Field:    field,
			Reason:   "is larger than 18446744073709551615, the largest supported number",
			ReasonBG: "е по-голямо от 18446744073709551615, най-голямото допустимо число",
		}
	}
	return v, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// ValidEKATTE reports whether code is 5 ASCII digits whose last digit is the
// mod-11 check digit of the first four (see EKATTECheckDigit). It checks the
// form only, not that the settlement exists. By this rule 00000, the service
// record of the NSI fixed-width file, is valid; callers reading NSI files
// skip it themselves.
func ValidEKATTE(code string) bool {
	if len(code) != 5 || !isDigit(code[4]) {
		return false
	}
	want, err := EKATTECheckDigit(code[:4])
	return err == nil && code[4] == want
}

// EKATTECheckDigit returns the check digit of an EKATTE code, as the ASCII
// character '0'..'9' so that first4 + string(d) is the full code. first4 must
// be exactly 4 ASCII digits d1..d4.
//
// The NSI only says the digit is computed modulo 11; the rule below was
// derived from, and checked against, all 5,256 codes of the 05-2018 release:
// r = (1·d1 + 2·d2 + 3·d3 + 4·d4) mod 11; if r is 10, r = (3·d1 + 4·d2 +
// 5·d3 + 6·d4) mod 11; if r is still 10, r = 0.
func EKATTECheckDigit(first4 string) (byte, error) {
	if len(first4) != 4 {
		return 0, fmt.Errorf("spatial: EKATTE check digit of %s: want 4 digits, got %d bytes", quoteInput(first4), len(first4))
	}
	var d [4]int
	for i := range 4 {
		if !isDigit(first4[i]) {
			return 0, fmt.Errorf("spatial: EKATTE check digit of %s: character %d is not a digit 0-9", quoteInput(first4), i+1)
		}
		d[i] = int(first4[i] - '0')
	}
	r := (1*d[0] + 2*d[1] + 3*d[2] + 4*d[3]) % 11
	if r == 10 {
		r = (3*d[0] + 4*d[1] + 5*d[2] + 6*d[3]) % 11
		if r == 10 {
			r = 0
		}
	}
	return byte('0' + r), nil
}

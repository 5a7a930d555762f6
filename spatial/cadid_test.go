package spatial_test

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"munigis/spatial"
)

func TestEKATTECheckDigit(t *testing.T) {
	tests := []struct {
		first4 string
		want   byte
	}{
		// cadastre-bg.md §2.2 test vectors.
		{"6813", '4'}, // гр. София: 6+16+3+12 = 37 → 4
		{"3791", '4'}, // с. Кокаляне: 3+14+27+4 = 48 → 4
		{"0001", '4'}, // с. Абланица: 4
		{"0251", '1'}, // с. Балша: 0+4+15+4 = 23 → 1
		// The first sum is 10, so the 3,4,5,6 weights apply: 48 → 4 (с. Аврен, 00084).
		{"0008", '4'},
		// Both sums are 10, so the digit is 0 (с. Бата, 02810).
		{"0281", '0'},
		{"0000", '0'},
	}
	for _, tt := range tests {
		got, err := spatial.EKATTECheckDigit(tt.first4)
		if err != nil || got != tt.want {
			t.Errorf("EKATTECheckDigit(%q) = %q, %v, want %q, nil", tt.first4, got, err, tt.want)
		}
	}
}

func TestEKATTECheckDigitErrors(t *testing.T) {
	for _, first4 := range []string{"", "681", "68134", "68a3", " 681", "６８１３", "68.1"} {
		got, err := spatial.EKATTECheckDigit(first4)
		if err == nil {
			t.Errorf("EKATTECheckDigit(%q) = %q, nil, want an error", first4, got)
		}
	}
}

func TestValidEKATTE(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"68134", true},
		{"37914", true},
		{"00014", true},
		{"02511", true},
		{"00084", true},
		{"02810", true},
		{"68135", false}, // wrong check digit
		{"68130", false},
		{"00010", false},
		{"6813", false},
		{"681340", false},
		{"6813a", false},
		{"68 34", false},
		{"", false},
		{"６８１３４", false}, // full-width digits
		{" 68134", false},
	}
	for _, tt := range tests {
		if got := spatial.ValidEKATTE(tt.code); got != tt.want {
			t.Errorf("ValidEKATTE(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

// parseTests is shared by TestParse and the seed corpus of FuzzParse.
var parseTests = []struct {
	name  string
	input string
	// For valid input:
	level                           spatial.Level
	ekatte                          string
	area, parcel, building, unitNum uint64
	// For invalid input, the field the error must name (0 = whole string).
	wantErr   bool
	errField  int
	errReason string // a substring of ParseError.Reason
}{
	// Fixtures of cadastre-bg.md §1.4. All five EKATTE codes were checked
	// against the §2.2 rule (68134 → 4, 44063 → 3, 15285 → 5, 51500 → 0)
	// and all appear in the NSI list, so all fixtures are valid.
	{name: "Sofia parcel", input: "68134.100.5", level: spatial.LevelParcel, ekatte: "68134", area: 100, parcel: 5},
	{name: "Sofia parcel 4-digit", input: "68134.1601.6124", level: spatial.LevelParcel, ekatte: "68134", area: 1601, parcel: 6124},
	{name: "Lozen parcel", input: "44063.6207.271", level: spatial.LevelParcel, ekatte: "44063", area: 6207, parcel: 271},
	{name: "Govedartsi building", input: "15285.13.286.2", level: spatial.LevelBuilding, ekatte: "15285", area: 13, parcel: 286, building: 2},
	{name: "Sofia building", input: "68134.1609.4464.1", level: spatial.LevelBuilding, ekatte: "68134", area: 1609, parcel: 4464, building: 1},
	{name: "Nesebar unit", input: "51500.506.331.1.15", level: spatial.LevelUnit, ekatte: "51500", area: 506, parcel: 331, building: 1, unitNum: 15},
	{name: "Sofia unit", input: "68134.4082.142.1.5", level: spatial.LevelUnit, ekatte: "68134", area: 4082, parcel: 142, building: 1, unitNum: 5},
	{name: "leading-zero EKATTE", input: "00014.1.2", level: spatial.LevelParcel, ekatte: "00014", area: 1, parcel: 2},
	{name: "fallback check digit", input: "02810.3.4", level: spatial.LevelParcel, ekatte: "02810", area: 3, parcel: 4},
	{name: "overflow area and parcel numbers", input: "68134.10000.1000", level: spatial.LevelParcel, ekatte: "68134", area: 10000, parcel: 1000},
	{name: "largest uint64", input: "68134.18446744073709551615.1.1.18446744073709551615", level: spatial.LevelUnit, ekatte: "68134", area: 18446744073709551615, parcel: 1, building: 1, unitNum: 18446744073709551615},

	{name: "empty", input: "", wantErr: true, errField: 0, errReason: "empty"},
	{name: "EKATTE only", input: "68134", wantErr: true, errField: 0, errReason: "has 1 field"},
	{name: "2 fields", input: "68134.100", wantErr: true, errField: 0, errReason: "has 2 fields"},
	{name: "6 fields", input: "68134.1.2.3.4.5", wantErr: true, errField: 0, errReason: "has 6 fields"},
	{name: "only dots", input: "....", wantErr: true, errField: 1, errReason: "empty"},
	{name: "CAD zero field", input: "51.0.21", wantErr: true, errField: 1, errReason: "has 2 digits, want 5"},
	{name: "zero area", input: "68134.0.5", wantErr: true, errField: 2, errReason: "positive integer"},
	{name: "zero parcel", input: "68134.100.0", wantErr: true, errField: 3, errReason: "positive integer"},
	{name: "zero building", input: "68134.100.5.0", wantErr: true, errField: 4, errReason: "positive integer"},
	{name: "zero unit", input: "68134.100.5.1.0", wantErr: true, errField: 5, errReason: "positive integer"},
	{name: "leading zero area", input: "68134.0100.5", wantErr: true, errField: 2, errReason: "leading zero"},
	{name: "leading zero unit", input: "68134.100.5.1.05", wantErr: true, errField: 5, errReason: "leading zero"},
	{name: "empty field", input: "68134..5", wantErr: true, errField: 2, errReason: "empty"},
	{name: "leading dot", input: ".68134.100.5", wantErr: true, errField: 1, errReason: "empty"},
	{name: "trailing dot", input: "68134.100.5.", wantErr: true, errField: 4, errReason: "empty"},
	{name: "trailing dot after unit", input: "68134.100.5.1.2.", wantErr: true, errField: 0, errReason: "has 6 fields"},
	{name: "letters in parcel", input: "68134.100.5a", wantErr: true, errField: 3, errReason: `"a"`},
	{name: "letters in EKATTE", input: "6813A.100.5", wantErr: true, errField: 1, errReason: `"A"`},
	{name: "wrong check digit", input: "68135.100.5", wantErr: true, errField: 1, errReason: "check digit is 5, want 4"},
	{name: "4-digit EKATTE", input: "6813.100.5", wantErr: true, errField: 1, errReason: "has 4 digits"},
	{name: "6-digit EKATTE", input: "681340.100.5", wantErr: true, errField: 1, errReason: "has 6 digits"},
	{name: "Cyrillic O for zero", input: "68134.1О0.5", wantErr: true, errField: 2, errReason: "U+041E"},
	{name: "Cyrillic Z for three", input: "681З4.100.5", wantErr: true, errField: 1, errReason: "U+0417"},
	{name: "full-width digits", input: "６８１３４.100.5", wantErr: true, errField: 1, errReason: "non-ASCII digit"},
	{name: "Arabic-Indic digits", input: "68134.١٠٠.5", wantErr: true, errField: 2, errReason: "non-ASCII digit"},
	{name: "invalid UTF-8", input: "68134.1\xff0.5", wantErr: true, errField: 2, errReason: `"\xff"`},
	{name: "plus sign", input: "68134.+100.5", wantErr: true, errField: 2, errReason: `"+"`},
	{name: "minus sign", input: "68134.100.-5", wantErr: true, errField: 3, errReason: `"-"`},
	{name: "leading space", input: " 68134.100.5", wantErr: true, errField: 0, errReason: "whitespace"},
	{name: "trailing newline", input: "68134.100.5\n", wantErr: true, errField: 0, errReason: "whitespace"},
	{name: "trailing no-break space", input: "68134.100.5\u00a0", wantErr: true, errField: 0, errReason: "whitespace"},
	{name: "inner space", input: "68134. 100.5", wantErr: true, errField: 2, errReason: `" "`},
	{name: "comma separator", input: "68134,100,5", wantErr: true, errField: 0, errReason: "has 1 field"},
	{name: "uint64 overflow", input: "68134.18446744073709551616.5", wantErr: true, errField: 2, errReason: "larger than"},
	{name: "huge number", input: "68134.100." + strings.Repeat("9", 400), wantErr: true, errField: 3, errReason: "larger than"},
	{name: "exponent", input: "68134.1e3.5", wantErr: true, errField: 2, errReason: `"e"`},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := spatial.Parse(tt.input)
			if tt.wantErr {
				var pe *spatial.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("Parse(%q) = %v, %v, want a *ParseError", tt.input, got, err)
				}
				if pe.Field != tt.errField || !strings.Contains(pe.Reason, tt.errReason) {
					t.Errorf("Parse(%q) error = field %d, reason %q, want field %d, reason containing %q",
						tt.input, pe.Field, pe.Reason, tt.errField, tt.errReason)
				}
				if pe.Input != tt.input {
					t.Errorf("Parse(%q) error Input = %q, want the input", tt.input, pe.Input)
				}
				if pe.ReasonBG == "" {
					t.Errorf("Parse(%q) error has no ReasonBG", tt.input)
				}
				if !got.IsZero() {
					t.Errorf("Parse(%q) = %v on error, want the zero Identifier", tt.input, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v, want no error", tt.input, err)
			}
			if got.Level() != tt.level || got.EKATTE() != tt.ekatte || got.Area() != tt.area ||
				got.Parcel() != tt.parcel || got.Building() != tt.building || got.Unit() != tt.unitNum {
				t.Errorf("Parse(%q) = level %v, fields %q %d %d %d %d, want level %v, fields %q %d %d %d %d",
					tt.input, got.Level(), got.EKATTE(), got.Area(), got.Parcel(), got.Building(), got.Unit(),
					tt.level, tt.ekatte, tt.area, tt.parcel, tt.building, tt.unitNum)
			}
			if s := got.String(); s != tt.input {
				t.Errorf("Parse(%q).String() = %q, want the input", tt.input, s)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Parse(%q).Validate() = %v, want nil", tt.input, err)
			}
		})
	}
}

func TestParseErrorMessages(t *testing.T) {
	tests := []struct {
		input  string
		wantEN string
		wantBG string
	}{
		{
			"68134.0.5",
			`cadastral identifier "68134.0.5": field 2 (cadastral area): must be a positive integer without leading zeros`,
			`кадастрален идентификатор "68134.0.5": поле 2 (кадастрален район): трябва да е цяло положително число без водещи нули`,
		},
		{
			"68135.100.5",
			`cadastral identifier "68135.100.5": field 1 (EKATTE code): check digit is 5, want 4`,
			`кадастрален идентификатор "68135.100.5": поле 1 (код по ЕКАТТЕ): контролната цифра е 5, а трябва да е 4`,
		},
		{
			"68134.100.5.1.x",
			`cadastral identifier "68134.100.5.1.x": field 5 (unit): contains "x", which is not a digit 0-9`,
			`кадастрален идентификатор "68134.100.5.1.x": поле 5 (самостоятелен обект): съдържа "x", което не е цифра 0-9`,
		},
		{
			"68134.100.5.01",
			`cadastral identifier "68134.100.5.01": field 4 (building): has a leading zero; must be a positive integer without leading zeros`,
			`кадастрален идентификатор "68134.100.5.01": поле 4 (сграда): започва с нула; трябва да е цяло положително число без водещи нули`,
		},
		{
			"68134.100..",
			`cadastral identifier "68134.100..": field 3 (parcel): is empty`,
			`кадастрален идентификатор "68134.100..": поле 3 (поземлен имот): е празно`,
		},
		{
			"68134.100",
			`cadastral identifier "68134.100": has 2 fields, want 3 to 5 (EKATTE.area.parcel[.building[.unit]])`,
			`кадастрален идентификатор "68134.100": има 2 полета, а трябва да са от 3 до 5 (ЕКАТТЕ.район.имот[.сграда[.обект]])`,
		},
		{
			" 68134.100.5",
			`cadastral identifier " 68134.100.5": has leading or trailing whitespace`,
			`кадастрален идентификатор " 68134.100.5": има интервал в началото или в края`,
		},
		{
			"",
			`cadastral identifier "": is empty`,
			`кадастрален идентификатор "": е празен`,
		},
		{
			"68134.1О0.5", // Cyrillic О
			`cadastral identifier "68134.1О0.5": field 2 (cadastral area): contains "О" (U+041E), which is not a digit 0-9`,
			`кадастрален идентификатор "68134.1О0.5": поле 2 (кадастрален район): съдържа "О" (U+041E), което не е цифра 0-9`,
		},
	}
	for _, tt := range tests {
		_, err := spatial.Parse(tt.input)
		var pe *spatial.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q) error = %v, want a *ParseError", tt.input, err)
		}
		if got := pe.Error(); got != tt.wantEN {
			t.Errorf("Parse(%q) error = %s, want %s", tt.input, got, tt.wantEN)
		}
		if got := pe.MessageBG(); got != tt.wantBG {
			t.Errorf("Parse(%q) MessageBG() = %s, want %s", tt.input, got, tt.wantBG)
		}
	}
}

func TestParseErrorLongInput(t *testing.T) {
	// The odd-length prefix puts the 64-byte cut inside a two-byte rune.
	input := "68134.10." + strings.Repeat("я", 100)
	_, err := spatial.Parse(input)
	if err == nil {
		t.Fatalf("Parse(long input) = nil error, want an error")
	}
	msg := err.Error()
	if len(msg) > 200 || !strings.Contains(msg, `..."`) && !strings.Contains(msg, `"...`) {
		t.Errorf("Parse(long input) error = %q (%d bytes), want the input cut short with ...", msg, len(msg))
	}
	if !utf8.ValidString(msg) {
		t.Errorf("Parse(long input) error = %q, want valid UTF-8", msg)
	}
	var pe *spatial.ParseError
	if errors.As(err, &pe) && pe.Input != input {
		t.Errorf("Parse(long input) error Input was truncated, want the full input kept in the field")
	}
}

func TestParseErrorFallbacks(t *testing.T) {
	pe := &spatial.ParseError{Input: "x", Field: 9, Reason: "odd"}
	if got, want := pe.Error(), `cadastral identifier "x": field 9: odd`; got != want {
		t.Errorf("ParseError.Error() = %q, want %q", got, want)
	}
	if got, want := pe.MessageBG(), `кадастрален идентификатор "x": поле 9: odd`; got != want {
		t.Errorf("ParseError.MessageBG() = %q, want %q", got, want)
	}
}

func TestMustParse(t *testing.T) {
	if got := spatial.MustParse("68134.100.5").String(); got != "68134.100.5" {
		t.Errorf("MustParse(%q).String() = %q, want %q", "68134.100.5", got, "68134.100.5")
	}
	defer func() {
		if recover() == nil {
			t.Errorf("MustParse(%q) did not panic", "68134.0.5")
		}
	}()
	spatial.MustParse("68134.0.5")
}

func TestLevel(t *testing.T) {
	tests := []struct {
		level   spatial.Level
		want    string
		wantBG  string
		nFields int
	}{
		{spatial.LevelParcel, "parcel", "поземлен имот", 3},
		{spatial.LevelBuilding, "building", "сграда", 4},
		{spatial.LevelUnit, "unit", "самостоятелен обект", 5},
		{0, "Level(0)", "", 0},
		{7, "Level(7)", "", 7},
	}
	for _, tt := range tests {
		if got := tt.level.String(); got != tt.want {
			t.Errorf("Level(%d).String() = %q, want %q", int(tt.level), got, tt.want)
		}
		if got := tt.level.TitleBG(); got != tt.wantBG {
			t.Errorf("Level(%d).TitleBG() = %q, want %q", int(tt.level), got, tt.wantBG)
		}
		if int(tt.level) != tt.nFields {
			t.Errorf("int(%v) = %d, want %d fields", tt.level, int(tt.level), tt.nFields)
		}
	}
}

func TestZeroIdentifier(t *testing.T) {
	var id spatial.Identifier
	if !id.IsZero() || id.String() != "" || id.Level() != 0 || id.EKATTE() != "" || id.Area() != 0 {
		t.Errorf("zero Identifier = %q, level %v, want empty", id.String(), id.Level())
	}
	err := id.Validate()
	var pe *spatial.ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "empty") {
		t.Errorf("Identifier{}.Validate() = %v, want a *ParseError saying it is empty", err)
	}
	if p, ok := id.Parent(); ok || !p.IsZero() {
		t.Errorf("Identifier{}.Parent() = %v, %v, want zero, false", p, ok)
	}
	if c, err := id.Child(1); err == nil {
		t.Errorf("Identifier{}.Child(1) = %v, nil, want an error", c)
	}
	if id.IsAncestorOf(spatial.MustParse("68134.100.5")) {
		t.Errorf("Identifier{}.IsAncestorOf(68134.100.5) = true, want false")
	}
}

func TestParent(t *testing.T) {
	tests := []struct {
		id     string
		want   string
		wantOK bool
	}{
		{"51500.506.331.1.15", "51500.506.331.1", true},
		{"51500.506.331.1", "51500.506.331", true},
		{"51500.506.331", "", false},
		{"00014.1.2.3", "00014.1.2", true},
	}
	for _, tt := range tests {
		got, ok := spatial.MustParse(tt.id).Parent()
		if got.String() != tt.want || ok != tt.wantOK {
			t.Errorf("Parent(%v) = %q, %v, want %q, %v", tt.id, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestChild(t *testing.T) {
	tests := []struct {
		id       string
		n        uint64
		want     string
		errField int // -1 when no error is expected
	}{
		{"68134.100.5", 1, "68134.100.5.1", -1},
		{"68134.100.5.1", 15, "68134.100.5.1.15", -1},
		{"68134.100.5", 1000, "68134.100.5.1000", -1},
		{"68134.100.5", 0, "", 4},
		{"68134.100.5.1", 0, "", 5},
		{"68134.100.5.1.15", 1, "", 0}, // a unit contains nothing
	}
	for _, tt := range tests {
		got, err := spatial.MustParse(tt.id).Child(tt.n)
		if tt.errField >= 0 {
			var pe *spatial.ParseError
			if !errors.As(err, &pe) || pe.Field != tt.errField {
				t.Errorf("Child(%v, %d) = %v, %v, want a *ParseError about field %d", tt.id, tt.n, got, err, tt.errField)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("Child(%v, %d) = %v, %v, want %s, nil", tt.id, tt.n, got, err, tt.want)
		}
		if p, ok := got.Parent(); !ok || p != spatial.MustParse(tt.id) {
			t.Errorf("Parent(%v) = %v, %v, want %s, true", got, p, ok, tt.id)
		}
	}
}

func TestIsAncestorOf(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"68134.100.5", "68134.100.5.1", true},
		{"68134.100.5", "68134.100.5.1.2", true},
		{"68134.100.5.1", "68134.100.5.1.2", true},
		{"68134.100.5", "68134.100.5", false},
		{"68134.100.5.1", "68134.100.5", false},
		{"68134.100.5", "68134.100.50.1", false},
		{"68134.100.5", "68134.10.5.1", false},
		{"68134.100.5", "37914.100.5.1", false},
		{"68134.100.5.1", "68134.100.5.2.1", false},
		{"68134.100.5.1", "68134.100.6.1.1", false},
	}
	for _, tt := range tests {
		got := spatial.MustParse(tt.a).IsAncestorOf(spatial.MustParse(tt.b))
		if got != tt.want {
			t.Errorf("IsAncestorOf(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if spatial.MustParse("68134.100.5").IsAncestorOf(spatial.Identifier{}) {
		t.Errorf("IsAncestorOf(68134.100.5, zero) = true, want false")
	}
}

func TestIdentifierComparable(t *testing.T) {
	a := spatial.MustParse("68134.100.5")
	b := spatial.MustParse("68134.100.5")
	if a != b {
		t.Errorf("MustParse(68134.100.5) != MustParse(68134.100.5), want equal values")
	}
	m := map[spatial.Identifier]int{a: 1}
	if m[b] != 1 {
		t.Errorf("map lookup by an equal Identifier failed")
	}
}

func TestIdentifierJSON(t *testing.T) {
	type record struct {
		ID       spatial.Identifier   `json:"id"`
		Parent   spatial.Identifier   `json:"parent,omitzero"`
		Children []spatial.Identifier `json:"children"`
	}
	in := record{
		ID:       spatial.MustParse("00014.1.2.3"),
		Children: []spatial.Identifier{spatial.MustParse("00014.1.2.3.1"), spatial.MustParse("00014.1.2.3.10")},
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("json.Marshal(%+v) = %v", in, err)
	}
	const want = `{"id":"00014.1.2.3","children":["00014.1.2.3.1","00014.1.2.3.10"]}`
	if string(data) != want {
		t.Errorf("json.Marshal(%+v) = %s, want %s", in, data, want)
	}
	var out record
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v", data, err)
	}
	if out.ID != in.ID || len(out.Children) != 2 || out.Children[1] != in.Children[1] || !out.Parent.IsZero() {
		t.Errorf("json.Unmarshal(%s) = %+v, want %+v", data, out, in)
	}

	// Map keys use the text form too.
	keyed := map[spatial.Identifier]int{spatial.MustParse("68134.100.5"): 7}
	data, err = json.Marshal(keyed)
	if err != nil || string(data) != `{"68134.100.5":7}` {
		t.Errorf("json.Marshal(map) = %s, %v, want %s", data, err, `{"68134.100.5":7}`)
	}
	var keyedOut map[spatial.Identifier]int
	if err := json.Unmarshal(data, &keyedOut); err != nil || keyedOut[spatial.MustParse("68134.100.5")] != 7 {
		t.Errorf("json.Unmarshal(%s) = %v, %v, want the key back", data, keyedOut, err)
	}

	// null leaves the value alone; null for a zero value stays zero.
	var nullOut record
	if err := json.Unmarshal([]byte(`{"id":null}`), &nullOut); err != nil || !nullOut.ID.IsZero() {
		t.Errorf("json.Unmarshal(null id) = %+v, %v, want zero, nil", nullOut, err)
	}

	for _, bad := range []string{`{"id":""}`, `{"id":"68134.0.5"}`, `{"id":" 68134.100.5"}`, `{"id":"68135.100.5"}`} {
		var r record
		err := json.Unmarshal([]byte(bad), &r)
		var pe *spatial.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("json.Unmarshal(%s) = %v, want a *ParseError", bad, err)
		}
	}
}

func TestIdentifierTextZero(t *testing.T) {
	var id spatial.Identifier
	text, err := id.MarshalText()
	if err != nil || len(text) != 0 {
		t.Errorf("Identifier{}.MarshalText() = %q, %v, want empty, nil", text, err)
	}
	keep := spatial.MustParse("68134.100.5")
	if err := keep.UnmarshalText([]byte("68134.100.0")); err == nil {
		t.Errorf("UnmarshalText(%q) = nil, want an error", "68134.100.0")
	}
	if keep.String() != "68134.100.5" {
		t.Errorf("UnmarshalText changed the value on error to %v, want it unchanged", keep)
	}
	b, err := keep.AppendText([]byte("ID "))
	if err != nil || string(b) != "ID 68134.100.5" {
		t.Errorf("AppendText(%q) = %q, %v, want %q", "ID ", b, err, "ID 68134.100.5")
	}
}

// ekatteFile locates the NSI settlement list: MUNIGIS_SHARED_DIR names the
// shared folder when set; otherwise CI keeps it beside the repository.
func ekatteFile(t *testing.T) string {
	t.Helper()
	var candidates []string
	if dir := os.Getenv("MUNIGIS_SHARED_DIR"); dir != "" {
		candidates = append(candidates,
			filepath.Join(dir, "data", "ekatte-settlements.csv"),
			filepath.Join(dir, "ekatte-settlements.csv"))
	} else {
		candidates = append(candidates, filepath.Join("..", "..", "shared", "data", "ekatte-settlements.csv"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	t.Fatalf("EKATTE list not found; tried %s. Put the shared folder beside the repository or set MUNIGIS_SHARED_DIR to it",
		strings.Join(candidates, ", "))
	return ""
}

func TestValidEKATTEAllSettlements(t *testing.T) {
	path := ekatteFile(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		t.Fatalf("%s: reading the header: %v", path, err)
	}
	col := -1
	for i, name := range header {
		if strings.TrimPrefix(name, "\ufeff") == "ekatte" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s: no ekatte column in header %q", path, header)
	}
	n := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		code := rec[col]
		if code == "00000" { // the NSI service record, not a settlement
			continue
		}
		n++
		if !spatial.ValidEKATTE(code) {
			t.Errorf("ValidEKATTE(%q) = false, want true (%s)", code, strings.Join(rec, ","))
			continue
		}
		if _, err := spatial.Parse(code + ".1.1"); err != nil {
			t.Errorf("Parse(%q) = %v, want no error", code+".1.1", err)
		}
	}
	if n < 5000 {
		t.Errorf("%s: read %d settlement codes, want the full list (5,256 in the 05-2018 release)", path, n)
	}
	t.Logf("%s: %d codes valid", path, n)
}

func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.input)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := spatial.Parse(s)
		if err != nil {
			var pe *spatial.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error = %T %v, want a *ParseError", s, err, err)
			}
			if pe.Field < 0 || pe.Field > 5 || pe.Reason == "" || pe.ReasonBG == "" || pe.Input != s {
				t.Fatalf("Parse(%q) error = %+v, want field 0-5 with reasons and the input", s, pe)
			}
			_ = pe.Error()
			_ = pe.MessageBG()
			if !id.IsZero() {
				t.Fatalf("Parse(%q) = %v on error, want the zero Identifier", s, id)
			}
			return
		}
		if got := id.String(); got != s {
			t.Fatalf("Parse(%q).String() = %q, want the input", s, got)
		}
		again, err := spatial.Parse(id.String())
		if err != nil || again != id {
			t.Fatalf("Parse(Parse(%q).String()) = %v, %v, want %v, nil", s, again, err, id)
		}
		if l := id.Level(); l < spatial.LevelParcel || l > spatial.LevelUnit {
			t.Fatalf("Parse(%q).Level() = %v, want parcel, building or unit", s, l)
		}
		if !spatial.ValidEKATTE(id.EKATTE()) {
			t.Fatalf("Parse(%q).EKATTE() = %q, not a valid EKATTE code", s, id.EKATTE())
		}
		if err := id.Validate(); err != nil {
			t.Fatalf("Parse(%q).Validate() = %v, want nil", s, err)
		}
		if parent, ok := id.Parent(); ok {
			p, err := spatial.Parse(parent.String())
			if err != nil || p != parent {
				t.Fatalf("Parse(Parent(%q)) = %v, %v, want %v, nil", s, p, err, parent)
			}
			if !parent.IsAncestorOf(id) || id.IsAncestorOf(parent) {
				t.Fatalf("Parent(%q) = %v, want an ancestor of it and not a descendant", s, parent)
			}
			if parent.Level() != id.Level()-1 {
				t.Fatalf("Parent(%q).Level() = %v, want %v", s, parent.Level(), id.Level()-1)
			}
		} else if id.Level() != spatial.LevelParcel {
			t.Fatalf("Parent(%q) = _, false for a %v, want a parent", s, id.Level())
		}
		if id.Level() < spatial.LevelUnit {
			c, err := id.Child(1)
			if err != nil || !id.IsAncestorOf(c) {
				t.Fatalf("Child(%q, 1) = %v, %v, want a descendant", s, c, err)
			}
		}
		text, err := id.MarshalText()
		if err != nil || string(text) != s {
			t.Fatalf("MarshalText(%q) = %q, %v, want the input", s, text, err)
		}
	})
}

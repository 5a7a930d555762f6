package persons

import (
	"fmt"
	"time"

	"munigis"
)

// The check-digit rules below are also in migration 000008 (munigis_egn_valid,
// munigis_lnch_valid, munigis_eik_valid) so that a row written straight in
// SQL obeys them; change both or neither (a test compares them).

// egnWeights are the weights of the first nine digits of an ЕГН.
var egnWeights = [9]int{2, 4, 8, 5, 10, 9, 7, 3, 6}

// lnchWeights are the weights of the first nine digits of a ЛНЧ.
var lnchWeights = [9]int{21, 19, 17, 13, 11, 9, 7, 3, 1}

// invalid builds the *munigis.Error of a bad identifier: field is the JSON
// name of the field, label the identifier's Bulgarian abbreviation.
func invalid(field, label, value, why, whyBG string) *munigis.Error {
	return &munigis.Error{
		Code:      munigis.Invalid,
		Message:   fmt.Sprintf("%s: %s %s: %s", field, label, value, why),
		MessageBG: fmt.Sprintf("%s %s: %s", label, value, whyBG),
	}
}

// digits returns the decimal digits of s, or false when s has anything else.
func digits(s string) ([]int, bool) {
	d := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, false
		}
		d[i] = int(s[i] - '0')
	}
	return d, true
}

func egnCheck(d []int) int {
	s := 0
	for i, w := range egnWeights {
		s += d[i] * w
	}
	return s % 11 % 10
}

// EGNBirthDate returns the date of birth an ЕГН encodes: YYMMDD, the month
// plus 20 for births in the 1800s and plus 40 for the 2000s. ok is false
// when the month is none of these or the date does not exist (31 April,
// 29 February of a common year).
func EGNBirthDate(egn string) (date time.Time, ok bool) {
	d, isDigits := digits(egn)
	if !isDigits || len(d) < 6 {
		return time.Time{}, false
	}
	y, m, day := d[0]*10+d[1], d[2]*10+d[3], d[4]*10+d[5]
	switch {
	case m >= 41 && m <= 52:
		y, m = 2000+y, m-40
	case m >= 21 && m <= 32:
		y, m = 1800+y, m-20
	case m >= 1 && m <= 12:
		y = 1900 + y
	default:
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC)
	// time.Date normalises 31 April to 1 May: the date exists only if it
	// comes back unchanged.
	if day < 1 || t.Month() != time.Month(m) || t.Day() != day {
		return time.Time{}, false
	}
	return t, true
}

// ValidateEGN checks an ЕГН (единен граждански номер): ten digits, a date of
// birth that exists, and the check digit (the first nine digits weighted
// 2,4,8,5,10,9,7,3,6, sum mod 11, 10 counting as 0). The error is Invalid,
// names the field "egn" and says what is wrong, in English and Bulgarian.
func ValidateEGN(egn string) error {
	d, ok := digits(egn)
	if !ok || len(d) != 10 {
		return invalid("egn", "ЕГН", quoteIfOdd(egn), "must be exactly 10 digits", "трябва да е точно 10 цифри")
	}
	if _, ok := EGNBirthDate(egn); !ok {
		return invalid("egn", "ЕГН", egn, "the first six digits are not a date of birth that exists (YYMMDD, month +20 for 1800–1899, +40 for 2000–2099)",
			"първите шест цифри не са съществуваща дата на раждане (ГГММДД, месецът +20 за 1800–1899, +40 за 2000–2099)")
	}
	if c := egnCheck(d); c != d[9] {
		return invalid("egn", "ЕГН", egn, fmt.Sprintf("the check digit should be %d, not %d", c, d[9]),
			fmt.Sprintf("контролната цифра трябва да е %d, а не %d", c, d[9]))
	}
	return nil
}

// ValidateLNCH checks a ЛНЧ (личен номер на чужденец): ten digits whose last
// is the sum of the first nine weighted 21,19,17,13,11,9,7,3,1, mod 10.
func ValidateLNCH(lnch string) error {
	d, ok := digits(lnch)
	if !ok || len(d) != 10 {
		return invalid("lnch", "ЛНЧ", quoteIfOdd(lnch), "must be exactly 10 digits", "трябва да е точно 10 цифри")
	}
	if c := lnchCheck(d); c != d[9] {
		return invalid("lnch", "ЛНЧ", lnch, fmt.Sprintf("the check digit should be %d, not %d", c, d[9]),
			fmt.Sprintf("контролната цифра трябва да е %d, а не %d", c, d[9]))
	}
	return nil
}

func lnchCheck(d []int) int {
	s := 0
	for i, w := range lnchWeights {
		s += d[i] * w
	}
	return s % 10
}

// eikCheck9 is the 9th digit of an ЕИК from the first eight: the digits
// weighted 1..8 mod 11; if that is 10, weighted 3..10 mod 11; 10 again → 0.
func eikCheck9(d []int) int {
	s := 0
	for i := 0; i < 8; i++ {
		s += d[i] * (i + 1)
	}
	if s%11 != 10 {
		return s % 11
	}
	s = 0
	for i := 0; i < 8; i++ {
		s += d[i] * (i + 3)
	}
	return s % 11 % 10
}

// eikCheck13 is the 13th digit of a branch's ЕИК from digits 9..12: weighted
// 2,7,3,5 mod 11; if that is 10, weighted 4,9,5,7 mod 11; 10 again → 0.
func eikCheck13(d []int) int {
	s := 2*d[8] + 7*d[9] + 3*d[10] + 5*d[11]
	if s%11 != 10 {
		return s % 11
	}
	return (4*d[8] + 9*d[9] + 5*d[10] + 7*d[11]) % 11 % 10
}

// ValidateEIK checks an ЕИК/БУЛСТАТ code: 9 digits (an entity) or 13 (a
// branch or unit of one), with the check digits of the Commercial Register
// and БУЛСТАТ rules (see eikCheck9, eikCheck13).
func ValidateEIK(eik string) error {
	d, ok := digits(eik)
	if !ok || (len(d) != 9 && len(d) != 13) {
		return invalid("eik", "ЕИК", quoteIfOdd(eik), "must be 9 or 13 digits", "трябва да е 9 или 13 цифри")
	}
	if c := eikCheck9(d); c != d[8] {
		return invalid("eik", "ЕИК", eik, fmt.Sprintf("the 9th digit (check digit) should be %d, not %d", c, d[8]),
			fmt.Sprintf("деветата (контролна) цифра трябва да е %d, а не %d", c, d[8]))
	}
	if len(d) == 13 {
		if c := eikCheck13(d); c != d[12] {
			return invalid("eik", "ЕИК", eik, fmt.Sprintf("the 13th digit (check digit) should be %d, not %d", c, d[12]),
				fmt.Sprintf("тринадесетата (контролна) цифра трябва да е %d, а не %d", c, d[12]))
		}
	}
	return nil
}

// CompleteEGN returns the ЕГН made of nine given digits and their check
// digit; the demo data and tests generate valid numbers with it. It does not
// check the date (ValidateEGN does).
func CompleteEGN(first9 string) (string, error) {
	d, ok := digits(first9)
	if !ok || len(d) != 9 {
		return "", fmt.Errorf("persons: CompleteEGN wants 9 digits, got %q", first9)
	}
	return first9 + string(rune('0'+egnCheck(d))), nil
}

// CompleteLNCH returns the ЛНЧ made of nine given digits and their check digit.
func CompleteLNCH(first9 string) (string, error) {
	d, ok := digits(first9)
	if !ok || len(d) != 9 {
		return "", fmt.Errorf("persons: CompleteLNCH wants 9 digits, got %q", first9)
	}
	return first9 + string(rune('0'+lnchCheck(d))), nil
}

// CompleteEIK adds the check digits to an ЕИК: 8 digits give the 9-digit
// ЕИК of an entity; 11 digits (the entity's 8 and the branch's 3) give the
// 13-digit ЕИК of a branch, with the 9th and the 13th digit computed.
func CompleteEIK(digitsIn string) (string, error) {
	d, ok := digits(digitsIn)
	if !ok || (len(d) != 8 && len(d) != 11) {
		return "", fmt.Errorf("persons: CompleteEIK wants 8 or 11 digits, got %q", digitsIn)
	}
	c9 := eikCheck9(d)
	out := digitsIn[:8] + string(rune('0'+c9))
	if len(d) == 8 {
		return out, nil
	}
	full := append(append(append([]int{}, d[:8]...), c9), d[8:]...)
	return out + digitsIn[8:] + string(rune('0'+eikCheck13(full))), nil
}

// quoteIfOdd quotes a value that is not plain digits, so that an empty or
// space-padded input is visible in the message.
func quoteIfOdd(s string) string {
	if _, ok := digits(s); ok && s != "" {
		return s
	}
	return fmt.Sprintf("%q", s)
}

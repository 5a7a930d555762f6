package persons

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"munigis"
)

func TestValidateEGN(t *testing.T) {
	// Computed from the algorithm: nine digits + their check digit.
	mustEGN := func(first9 string) string {
		t.Helper()
		e, err := CompleteEGN(first9)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	valid := []string{
		"7501020018",         // the ЕГН used as the example in many Bulgarian forms (2 Jan 1975)
		"8032056031",         // born 5 Dec 1880: month 32 = December of the 1800s
		mustEGN("041231123"), // 31 Dec 1904
		mustEGN("044229456"), // 29 Feb 2004 (leap year): month 42 = February of the 2000s
		mustEGN("995231999"), // 31 Dec 2099
	}
	for _, e := range valid {
		if err := ValidateEGN(e); err != nil {
			t.Errorf("ValidateEGN(%s) = %v, want valid", e, err)
		}
		if !bornOK(e) {
			t.Errorf("EGNBirthDate(%s) not ok", e)
		}
	}
	if d, _ := EGNBirthDate("8032056031"); d.Format("2006-01-02") != "1880-12-05" {
		t.Errorf("EGNBirthDate(8032056031) = %s, want 1880-12-05", d.Format("2006-01-02"))
	}
	if d, _ := EGNBirthDate(mustEGN("044229456")); d.Format("2006-01-02") != "2004-02-29" {
		t.Errorf("EGNBirthDate(0442294...) = %s, want 2004-02-29", d.Format("2006-01-02"))
	}
	cases := []struct {
		egn, want, wantBG string
	}{
		{"7501020019", "egn: ЕГН 7501020019: the check digit should be 8, not 9", "ЕГН 7501020019: контролната цифра трябва да е 8, а не 9"},
		{"750102001", "must be exactly 10 digits", "точно 10 цифри"},
		{"75010200181", "must be exactly 10 digits", "точно 10 цифри"},
		{"75010200I8", "must be exactly 10 digits", "точно 10 цифри"},
		{"", `egn: ЕГН "": must be exactly 10 digits`, "10 цифри"},
		{mustEGN("000229000"), "not a date of birth that exists", "съществуваща дата"}, // 29 Feb 1900
		{mustEGN("750431000"), "not a date of birth that exists", "съществуваща дата"}, // 31 April
		{mustEGN("751301000"), "not a date of birth that exists", "съществуваща дата"}, // month 13
		{mustEGN("756001000"), "not a date of birth that exists", "съществуваща дата"}, // month 60
		{mustEGN("750100000"), "not a date of birth that exists", "съществуваща дата"}, // day 0
	}
	for _, c := range cases {
		err := ValidateEGN(c.egn)
		var me *munigis.Error
		if !errors.As(err, &me) || me.Code != munigis.Invalid {
			t.Errorf("ValidateEGN(%q) = %v, want Invalid", c.egn, err)
			continue
		}
		if !strings.Contains(me.Message, c.want) || !strings.HasPrefix(me.Message, "egn: ") {
			t.Errorf("ValidateEGN(%q) message %q, want it to name egn and contain %q", c.egn, me.Message, c.want)
		}
		if !strings.Contains(me.MessageBG, c.wantBG) {
			t.Errorf("ValidateEGN(%q) MessageBG %q, want %q in it", c.egn, me.MessageBG, c.wantBG)
		}
	}
	// Every single-digit change of a valid ЕГН's check digit is caught.
	for d := '0'; d <= '9'; d++ {
		e := "750102001" + string(d)
		if (ValidateEGN(e) == nil) != (d == '8') {
			t.Errorf("ValidateEGN(%s) valid = %v", e, ValidateEGN(e) == nil)
		}
	}
}

func bornOK(e string) bool { _, ok := EGNBirthDate(e); return ok }

func TestValidateLNCH(t *testing.T) {
	// 1*21+0*19+0*17+1*13+0*11+4*9+5*7+9*3+6*1 = 138 → check digit 8.
	if err := ValidateLNCH("1001045968"); err != nil {
		t.Errorf("ValidateLNCH(1001045968) = %v, want valid", err)
	}
	l, _ := CompleteLNCH("987654321")
	if err := ValidateLNCH(l); err != nil {
		t.Errorf("ValidateLNCH(%s) = %v", l, err)
	}
	err := ValidateLNCH("1001045967")
	if err == nil || !strings.Contains(err.Error(), "lnch: ЛНЧ 1001045967: the check digit should be 8, not 7") {
		t.Errorf("ValidateLNCH(1001045967) = %v", err)
	}
	if err := ValidateLNCH("10010459"); err == nil || !strings.HasPrefix(err.Error(), "lnch: ") {
		t.Errorf("ValidateLNCH(short) = %v", err)
	}
}

func TestValidateEIK(t *testing.T) {
	valid := []string{
		// Столична община (БУЛСТАТ), a published number that needs the second
		// rule: weights 1..8 give 142 = 10 mod 11, weights 3..10 give 194 = 7.
		"000696327",
	}
	// Find 8 digits whose first weighted sum is 10 mod 11, so that the
	// second weights (3..10) decide, once with the second sum not 10 mod 11
	// and once with it 10 as well (check digit 0).
	var secondRule, secondRule10 string
	for n := 0; n < 100000000 && (secondRule == "" || secondRule10 == ""); n += 7 {
		s := pad8(n)
		d, _ := digits(s)
		s1 := 0
		for i := 0; i < 8; i++ {
			s1 += d[i] * (i + 1)
		}
		if s1%11 != 10 {
			continue
		}
		s2 := 0
		for i := 0; i < 8; i++ {
			s2 += d[i] * (i + 3)
		}
		if s2%11 == 10 && secondRule10 == "" {
			secondRule10 = s
		} else if s2%11 != 10 && secondRule == "" {
			secondRule = s
		}
	}
	for _, in := range []string{secondRule, secondRule10, "12345678", "12345678123", "00069632001"} {
		e, err := CompleteEIK(in)
		if err != nil {
			t.Fatal(err)
		}
		valid = append(valid, e)
	}
	if e, _ := CompleteEIK(secondRule10); e[8] != '0' {
		t.Errorf("CompleteEIK(%s) = %s: both sums 10 mod 11 must give 0", secondRule10, e)
	}
	for _, e := range valid {
		if err := ValidateEIK(e); err != nil {
			t.Errorf("ValidateEIK(%s) = %v, want valid", e, err)
		}
	}
	for _, c := range []struct{ eik, want string }{
		{"000696328", "eik: ЕИК 000696328: the 9th digit (check digit) should be 7, not 8"},
		{"00069632", "must be 9 or 13 digits"},
		{"0006963270", "must be 9 or 13 digits"},
		{"BG000696327", "must be 9 or 13 digits"},
		{"0006963260010", "the 9th digit"},
	} {
		if err := ValidateEIK(c.eik); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateEIK(%s) = %v, want %q", c.eik, err, c.want)
		}
	}
	// A 13-digit ЕИК with a wrong 13th digit.
	e13, _ := CompleteEIK("00069632001")
	bad := e13[:12] + string('0'+(e13[12]-'0'+1)%10)
	if err := ValidateEIK(bad); err == nil || !strings.Contains(err.Error(), "the 13th digit") {
		t.Errorf("ValidateEIK(%s) = %v, want a 13th-digit error", bad, err)
	}
}

func pad8(n int) string { return fmt.Sprintf("%08d", n) }

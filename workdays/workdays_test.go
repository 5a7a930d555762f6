package workdays

import (
	"strings"
	"testing"
	"time"
)

func date(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHolidays(t *testing.T) {
	c := Bulgaria()
	for _, tc := range []struct {
		day     string
		workday bool
		name    string // "" = not a holiday
	}{
		// Orthodox Easter 2026 is 12 April.
		{"2026-04-09", true, ""},
		{"2026-04-10", false, "Велики петък"},
		{"2026-04-11", false, "Велика събота"},
		{"2026-04-12", false, "Великден"}, // Easter Sunday
		{"2026-04-13", false, "Великден"},
		{"2026-04-14", true, ""},
		// Orthodox Easter 2027 is 2 May: Good Friday 30 April, Easter
		// Monday 3 May; 1 May is a Saturday next to Easter, so Labour
		// Day is kept on Tuesday 4 May (the first working day after it).
		{"2027-04-30", false, "Велики петък"},
		{"2027-05-01", false, "Ден на труда"},
		{"2027-05-02", false, "Великден"},
		{"2027-05-03", false, "Великден"},
		{"2027-05-04", false, "Ден на труда"},
		{"2027-05-05", true, ""},
		{"2027-05-06", false, "Гергьовден"},
		// 3 March 2024 was a Sunday: Monday 4 March off.
		{"2024-03-03", false, "Ден на Освобождението"},
		{"2024-03-04", false, "Ден на Освобождението"},
		{"2024-03-05", true, ""},
		// Christmas 2022: 24 Sat, 25 Sun, 26 Mon → 26, 27, 28 off.
		{"2022-12-23", true, ""},
		{"2022-12-26", false, "Бъдни вечер"},
		{"2022-12-27", false, "Коледа"},
		{"2022-12-28", false, "Коледа 2"},
		{"2022-12-29", true, ""},
		// 2026: 24 Thu, 25 Fri, 26 Sat → Monday 28 off.
		{"2026-12-24", false, "Бъдни вечер"},
		{"2026-12-25", false, "Коледа"},
		{"2026-12-28", false, "Коледа 2"},
		{"2026-12-29", true, ""},
		// 2027: 24 Fri, 25 Sat, 26 Sun → 27, 28 off.
		{"2027-12-27", false, "Коледа"},
		{"2027-12-28", false, "Коледа 2"},
		{"2027-12-29", true, ""},
		// Ordinary days.
		{"2026-11-28", false, ""}, // Saturday
		{"2026-11-30", true, ""},
	} {
		d := date(t, tc.day)
		if got := c.IsWorkday(d); got != tc.workday {
			t.Errorf("IsWorkday(%s %s) = %v, want %v", tc.day, d.Weekday(), got, tc.workday)
		}
		name, ok := c.Holiday(d)
		if tc.name == "" && ok {
			t.Errorf("Holiday(%s) = %q, want none", tc.day, name)
		}
		if tc.name != "" && (!ok || !strings.HasPrefix(name, tc.name)) {
			t.Errorf("Holiday(%s) = %q, %v, want %q", tc.day, name, ok, tc.name)
		}
	}
}

func TestAddWorkdays(t *testing.T) {
	c := Bulgaria()
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-27", 0, "2026-11-27"}, // n = 0 is the day itself
		{"2026-11-27", 1, "2026-11-30"}, // Friday + 1 → Monday
		{"2026-11-28", 1, "2026-11-30"}, // from a Saturday
		{"2026-11-30", 5, "2026-12-07"},
		// Across Easter 2026: from Wednesday 8 April, 7 working days skip
		// Good Friday 10 and Easter Monday 13: 9, 14, 15, 16, 17, 20, 21.
		{"2026-04-08", 7, "2026-04-21"},
		// Across Easter and 1 and 6 May 2027: from 29 April, 3 working
		// days are 5, 7 and 10 May.
		{"2027-04-29", 3, "2027-05-10"},
		// Across Christmas 2026: from 23 December, 14 working days.
		{"2026-12-23", 14, "2027-01-18"}, // 29–31 Dec, 4–8, 11–15, 18 Jan
		{"2026-04-21", -7, "2026-04-08"},
	} {
		got := c.AddWorkdays(date(t, tc.from), tc.n).Format(time.DateOnly)
		if got != tc.want {
			t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tc.from, tc.n, got, tc.want)
		}
	}
}

func TestAddKinds(t *testing.T) {
	c := Bulgaria()
	// 30 calendar days from 14 March 2026 end on Monday 13 April, Easter
	// Monday: the term moves to Tuesday 14 April.
	if got := c.Add(date(t, "2026-03-14"), 30, KindCalendar).Format(time.DateOnly); got != "2026-04-14" {
		t.Errorf("30 calendar days from 2026-03-14 = %s, want 2026-04-14", got)
	}
	if got := c.Add(date(t, "2026-03-02"), 30, KindCalendar).Format(time.DateOnly); got != "2026-04-01" {
		t.Errorf("30 calendar days from 2026-03-02 = %s, want 2026-04-01", got)
	}
	if got := c.Add(date(t, "2026-04-08"), 7, KindWorking).Format(time.DateOnly); got != "2026-04-21" {
		t.Errorf("7 working days from 2026-04-08 = %s, want 2026-04-21", got)
	}
	if got := c.Add(date(t, "2026-04-11"), 0, KindCalendar); !got.Equal(date(t, "2026-04-11")) {
		t.Errorf("0 calendar days = %s", got)
	}
}

func TestDeclaredDays(t *testing.T) {
	c := Bulgaria()
	// A Council of Ministers decision: Friday 2 January 2026 off, worked
	// on Saturday 17 January.
	c.DayOff(date(t, "2026-01-02"))
	c.WorkingDay(date(t, "2026-01-17"))
	if c.IsWorkday(date(t, "2026-01-02")) {
		t.Error("declared day off is a workday")
	}
	if !c.IsWorkday(date(t, "2026-01-17")) {
		t.Error("declared working Saturday is not a workday")
	}
	// From 31 December: 1 Jan holiday, 2 Jan off, 3–4 weekend → 5 January.
	if got := c.AddWorkdays(date(t, "2025-12-31"), 1).Format(time.DateOnly); got != "2026-01-05" {
		t.Errorf("AddWorkdays over the declared day = %s, want 2026-01-05", got)
	}
	off, working := c.Declared()
	if len(off) != 1 || off[0] != "2026-01-02" || len(working) != 1 || working[0] != "2026-01-17" {
		t.Errorf("Declared = %v, %v", off, working)
	}
	// Declaring the other way replaces the first declaration.
	c.WorkingDay(date(t, "2026-01-02"))
	if !c.IsWorkday(date(t, "2026-01-02")) {
		t.Error("re-declared working day is still off")
	}
	// Another calendar is not affected.
	if Bulgaria().IsWorkday(date(t, "2026-01-17")) {
		t.Error("a fresh calendar sees another's declarations")
	}
}

func TestLocationKept(t *testing.T) {
	sofia, err := time.LoadLocation("Europe/Sofia")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 in Sofia on Thursday 9 April 2026 is 20:30 UTC the same day;
	// the date counted is Sofia's.
	d := time.Date(2026, 4, 9, 23, 30, 0, 0, sofia)
	got := c().AddWorkdays(d, 1)
	if got.Location() != sofia || got.Format("2006-01-02 15:04") != "2026-04-14 23:30" {
		t.Errorf("AddWorkdays kept %s %s", got.Location(), got.Format("2006-01-02 15:04"))
	}
}

func c() *Calendar { return Bulgaria() }

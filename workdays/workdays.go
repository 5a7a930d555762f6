package workdays

import (
	"sort"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/bg"
)

// Kinds of days a term is counted in (see Add).
const (
	KindWorking  = "working"
	KindCalendar = "calendar"
)

// day is a calendar date without time or zone: deadlines count dates, and
// a date must not shift when it is read in another time zone.
type day struct {
	y int
	m time.Month
	d int
}

func dayOf(t time.Time) day {
	y, m, d := t.Date()
	return day{y, m, d}
}

// Calendar is the Bulgarian working-day calendar: Monday to Friday except
// the public holidays of Labour Code Art. 154 as observed (a holiday that
// falls on a Saturday or Sunday moves to the next working day, Art. 154(2);
// rickar/cal/v2/bg computes the moves, Orthodox Easter included), corrected
// by the days a decision of the Council of Ministers declares off or
// working (Art. 154(3)), which change every year and are configured by the
// municipality. Safe for concurrent use.
type Calendar struct {
	mu       sync.RWMutex
	off      map[day]bool
	working  map[day]bool
	holidays map[int]map[day]holiday // per year, computed on first use
}

type holiday struct {
	name string
	// observed is true on the day the holiday is kept off work (the day
	// itself on a weekday, the Monday or Tuesday after it on a weekend).
	observed bool
}

// Bulgaria returns the calendar with the national holidays and no
// declared changes.
func Bulgaria() *Calendar {
	return &Calendar{off: map[day]bool{}, working: map[day]bool{}, holidays: map[int]map[day]holiday{}}
}

// DayOff declares d a day off (a Council of Ministers decision moving a
// working day, or a day off declared for the municipality): IsWorkday is
// false for it whatever the weekday. Undoes a WorkingDay for d.
func (c *Calendar) DayOff(d time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := dayOf(d)
	c.off[k] = true
	delete(c.working, k)
}

// WorkingDay declares d a working day (the Saturday worked off for a
// moved day off): IsWorkday is true for it whatever the weekday or
// holiday. Undoes a DayOff for d.
func (c *Calendar) WorkingDay(d time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := dayOf(d)
	c.working[k] = true
	delete(c.off, k)
}

// Declared returns the declared days off and working days, in date order,
// as YYYY-MM-DD.
func (c *Calendar) Declared() (off, working []string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	f := func(m map[day]bool) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, time.Date(k.y, k.m, k.d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
		}
		sort.Strings(out)
		return out
	}
	return f(c.off), f(c.working)
}

func (c *Calendar) year(y int) map[day]holiday {
	c.mu.RLock()
	m, ok := c.holidays[y]
	c.mu.RUnlock()
	if ok {
		return m
	}
	m = map[day]holiday{}
	add := func(t time.Time, name string, observed bool) {
		if t.IsZero() {
			return
		}
		k := dayOf(t)
		if h, ok := m[k]; ok && (h.observed || !observed) {
			// Keep the first name of a day that is observed; a
			// nominal date never hides an observed one.
			return
		}
		m[k] = holiday{name: name, observed: observed}
	}
	for _, h := range bg.Holidays {
		actual, observed := h.Calc(y)
		add(observed, h.Name, true)
		add(actual, h.Name, false)
		if h.Month != 0 && h.Day != 0 {
			// A fixed date whose function may move it (Labour Day next
			// to Easter, 2027): the nominal date still bears the name.
			add(time.Date(y, h.Month, h.Day, 0, 0, 0, 0, time.UTC), h.Name, false)
		}
	}
	// Labour Code Art. 154(1) keeps Easter from Friday to Monday; bg lists
	// the two weekdays, the weekend days are named here (always off).
	easter := cal.CalcEasterOffset(&cal.Holiday{Julian: true}, y)
	add(easter.AddDate(0, 0, -1), "Велика събота", false)
	add(easter, "Великден", false)
	c.mu.Lock()
	c.holidays[y] = m
	c.mu.Unlock()
	return m
}

// Holiday returns the name of the public holiday on d (its date or the day
// it is observed on), if any.
func (c *Calendar) Holiday(d time.Time) (name string, ok bool) {
	k := dayOf(d)
	h, ok := c.year(k.y)[k]
	return h.name, ok
}

// IsWorkday reports whether d (its calendar date in its own location) is
// a working day.
func (c *Calendar) IsWorkday(d time.Time) bool {
	k := dayOf(d)
	c.mu.RLock()
	off, working := c.off[k], c.working[k]
	c.mu.RUnlock()
	switch {
	case working:
		return true
	case off:
		return false
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	h, ok := c.year(k.y)[k]
	return !(ok && h.observed)
}

// AddWorkdays returns the n-th working day after d (d itself is not
// counted, as a term of days starts the day after the event that opens it);
// n = 0 returns d, a negative n counts back. The time of day and location
// of d are kept.
func (c *Calendar) AddWorkdays(d time.Time, n int) time.Time {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDate(0, 0, step)
		if c.IsWorkday(d) {
			n--
		}
	}
	return d
}

// NextWorkday returns d if it is a working day, else the first working day
// after it.
func (c *Calendar) NextWorkday(d time.Time) time.Time {
	for !c.IsWorkday(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// Add returns the end of a term of n days after d in kind "working"
// (AddWorkdays) or "calendar": n calendar days, and when the last day is
// not a working day the term ends on the next working day (the general
// rule for terms, ГПК Art. 60(6), which APK Art. 144 applies to
// administrative proceedings). Any other kind counts working days; callers
// validate the kind first. n = 0 returns d.
func (c *Calendar) Add(d time.Time, n int, kind string) time.Time {
	if kind == KindCalendar {
		if n == 0 {
			return d
		}
		return c.NextWorkday(d.AddDate(0, 0, n))
	}
	return c.AddWorkdays(d, n)
}

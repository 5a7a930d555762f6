// Package workdays counts deadlines in Bulgarian working days: weekends and
// the official public holidays (Labour Code Art. 154, including the moving
// Orthodox Easter and the days moved to Monday when a holiday falls on a
// weekend, from github.com/rickar/cal/v2/bg), plus days the Council of
// Ministers declares off or working, which a municipality configures.
//
//	Bulgaria() *Calendar
//	(c *Calendar) IsWorkday(d time.Time) bool
//	(c *Calendar) Holiday(d time.Time) (name string, ok bool)
//	(c *Calendar) AddWorkdays(d time.Time, n int) time.Time
//	(c *Calendar) Add(d time.Time, n int, kind string) time.Time  // kind "working" | "calendar"
//	(c *Calendar) DayOff(d time.Time) / (c *Calendar) WorkingDay(d time.Time)  // declared changes
package workdays

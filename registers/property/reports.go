package property

import (
	"context"
	"strings"
	"time"

	"munigis"
	"munigis/internal/postgis"
)

// Column is a report column: Name is the stable key (CSV header, JSON),
// the titles are for people (the XLSX header, the page).
type Column struct {
	Name    string `json:"name"`
	TitleBG string `json:"title_bg"`
	TitleEN string `json:"title_en"`
}

// Table is a report ready for export: Rows hold, per column, a string,
// int64, float64 or nil.
type Table struct {
	Name    string   `json:"name"`
	TitleBG string   `json:"title_bg"`
	TitleEN string   `json:"title_en"`
	Columns []Column `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// ReportInfo names a report and the parameters it reads.
type ReportInfo struct {
	Name    string   `json:"name"`
	TitleBG string   `json:"title_bg"`
	TitleEN string   `json:"title_en"`
	Params  []string `json:"params"` // of "from", "to", "days"
}

// The reports (справки) of issue 6.
const (
	ReportPropertyByKindAndUse = "property_by_kind_and_use"
	ReportOperations           = "operations_in_period"
	ReportPermits              = "permits_by_category_and_month"
	ReportRentalsDue           = "rentals_due"
)

// Reports lists the reports Report runs.
var Reports = []ReportInfo{
	{ReportPropertyByKindAndUse, "Общински имоти по вид и предназначение", "Municipal property by kind and use", nil},
	{ReportOperations, "Операции с общински имоти за период", "Property operations in a period", []string{"from", "to"}},
	{ReportPermits, "Издадени разрешения за строеж по категория и месец", "Building permits issued by category and month", []string{"from", "to"}},
	{ReportRentalsDue, "Договори за наем с изтичащ срок", "Rental contracts due to expire", []string{"days"}},
}

// Params are a report's parameters. A zero From is the 1st of January of
// the current year, a zero To today; Days defaults to 30. Mask hides
// natural persons' names (persons.Mask), for a caller who may not see
// personal data.
type Params struct {
	From time.Time
	To   time.Time
	Days int
	Mask bool
}

func (s *Store) period(p Params) (time.Time, time.Time, error) {
	today := s.today()
	from, to := p.From, p.To
	if from.IsZero() {
		from = time.Date(today.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if to.IsZero() {
		to = today
	}
	from, to = day(from), day(to)
	if to.Before(from) {
		return from, to, &munigis.Error{Code: munigis.Invalid,
			Message:   "to: " + to.Format(dateFmt) + " is before from " + from.Format(dateFmt),
			MessageBG: "to: " + to.Format(dateFmt) + " е преди from " + from.Format(dateFmt)}
	}
	return from, to, nil
}

// Report runs the report name (one of Reports) and returns it as a table.
func (s *Store) Report(ctx context.Context, name string, p Params) (Table, error) {
	var info ReportInfo
	for _, r := range Reports {
		if r.Name == name {
			info = r
		}
	}
	t := Table{Name: info.Name, TitleBG: info.TitleBG, TitleEN: info.TitleEN}
	switch name {
	case ReportPropertyByKindAndUse:
		rows, err := s.PropertyByKindAndUse(ctx)
		if err != nil {
			return Table{}, err
		}
		t.Columns = []Column{{"kind", "Вид собственост", "Kind"}, {"use", "Предназначение", "Use"},
			{"count", "Брой имоти", "Properties"}, {"area_m2", "Обща площ, м²", "Total area, m²"},
			{"book_value_bgn", "Балансова стойност, лв.", "Book value, BGN"}}
		for _, r := range rows {
			t.Rows = append(t.Rows, []any{r.Kind, r.Use, r.Count, r.AreaM2, r.BookValueBGN})
		}
	case ReportOperations:
		from, to, err := s.period(p)
		if err != nil {
			return Table{}, err
		}
		rows, err := s.OperationsInPeriod(ctx, from, to)
		if err != nil {
			return Table{}, err
		}
		t.Columns = []Column{{"kind", "Вид операция (код)", "Kind (code)"}, {"title", "Вид операция", "Kind"},
			{"count", "Брой", "Count"}, {"area_m2", "Площ, м²", "Area, m²"}, {"amount_bgn", "Сума, лв.", "Amount, BGN"}}
		for _, r := range rows {
			t.Rows = append(t.Rows, []any{string(r.Kind), r.TitleBG, r.Count, r.AreaM2, r.AmountBGN})
		}
	case ReportPermits:
		from, to, err := s.period(p)
		if err != nil {
			return Table{}, err
		}
		rows, err := s.PermitsByCategoryAndMonth(ctx, from, to)
		if err != nil {
			return Table{}, err
		}
		t.Columns = []Column{{"month", "Месец", "Month"}, {"category", "Категория", "Category"}, {"count", "Брой разрешения", "Permits"}}
		for _, r := range rows {
			t.Rows = append(t.Rows, []any{r.Month, r.Category, r.Count})
		}
	case ReportRentalsDue:
		days := p.Days
		if days == 0 {
			days = 30
		}
		rs, err := s.Expiring(ctx, days, p.Mask)
		if err != nil {
			return Table{}, err
		}
		today := s.today()
		t.Columns = []Column{{"number", "Договор №", "Contract No"}, {"property", "Имот (АОС №)", "Property (act No)"},
			{"identifiers", "Идентификатори", "Identifiers"}, {"tenant", "Наемател", "Tenant"},
			{"end_date", "Краен срок", "Ends on"}, {"days_left", "Оставащи дни", "Days left"},
			{"rent_bgn", "Месечен наем, лв.", "Monthly rent, BGN"}}
		for _, r := range rs {
			tenant := ""
			if r.Tenant != nil {
				tenant = r.Tenant.Name
			}
			var rent any
			if r.RentBGN != nil {
				rent = *r.RentBGN
			}
			t.Rows = append(t.Rows, []any{r.Number, r.PropertyNumber, strings.Join(r.Identifiers, ", "), tenant,
				r.End.Format(dateFmt), int64(r.DaysLeft(today)), rent})
		}
	default:
		names := make([]string, len(Reports))
		for i, r := range Reports {
			names[i] = r.Name
		}
		return Table{}, &munigis.Error{Code: munigis.NotFound,
			Message:   "report " + name + " does not exist (there are " + strings.Join(names, ", ") + ")",
			MessageBG: "справка " + name + " не съществува (има " + strings.Join(names, ", ") + ")"}
	}
	if t.Rows == nil {
		t.Rows = [][]any{}
	}
	return t, nil
}

// PropertyByKindRow is a row of the report "property by kind and use".
type PropertyByKindRow struct {
	Kind         string  `json:"kind"` // public / private, as the register stores it
	Use          string  `json:"use"`
	Count        int64   `json:"count"`
	AreaM2       float64 `json:"area_m2"`
	BookValueBGN float64 `json:"book_value_bgn"`
}

// num reads a jsonb number field of data, NULL when it is not a number.
func num(field string) string {
	return `CASE WHEN jsonb_typeof(e.data->'` + field + `') = 'number' THEN (e.data->>'` + field + `')::float8 END`
}

// PropertyByKindAndUse counts the properties still held by the municipality
// (owned; not contributed or written off) by kind and use, with their total
// area and book value.
func (s *Store) PropertyByKindAndUse(ctx context.Context) ([]PropertyByKindRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT coalesce(e.data->>'kind', ''), coalesce(e.data->>'use', ''), count(*),
			coalesce(sum(`+num("area_m2")+`), 0), coalesce(sum(`+num("book_value")+`), 0)
		FROM register_entries e
		WHERE e.register = $1 AND property_state(e.id) = 'owned'
		GROUP BY 1, 2 ORDER BY 1, 2`, PropertyRegister)
	if err != nil {
		return nil, postgis.Translate(err, "report")
	}
	defer rows.Close()
	out := []PropertyByKindRow{}
	for rows.Next() {
		var r PropertyByKindRow
		if err := rows.Scan(&r.Kind, &r.Use, &r.Count, &r.AreaM2, &r.BookValueBGN); err != nil {
			return nil, postgis.Translate(err, "report")
		}
		out = append(out, r)
	}
	return out, postgis.Translate(rows.Err(), "report")
}

// OperationsRow is a row of the report "operations in a period".
type OperationsRow struct {
	Kind      Kind    `json:"kind"`
	TitleBG   string  `json:"title_bg"`
	TitleEN   string  `json:"title_en"`
	Count     int64   `json:"count"`
	AreaM2    float64 `json:"area_m2"`
	AmountBGN float64 `json:"amount_bgn"`
}

// OperationsInPeriod counts the operations dated from..to (both included)
// by kind, with their area and amounts, in the order of Kinds; kinds with
// no operation are left out.
func (s *Store) OperationsInPeriod(ctx context.Context, from, to time.Time) ([]OperationsRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, count(*), coalesce(sum(area_m2), 0)::float8, coalesce(sum(amount_bgn), 0)::float8
		FROM property_operations WHERE op_date BETWEEN $1 AND $2 GROUP BY kind`, day(from), day(to))
	if err != nil {
		return nil, postgis.Translate(err, "report")
	}
	defer rows.Close()
	byKind := map[Kind]OperationsRow{}
	for rows.Next() {
		var r OperationsRow
		if err := rows.Scan(&r.Kind, &r.Count, &r.AreaM2, &r.AmountBGN); err != nil {
			return nil, postgis.Translate(err, "report")
		}
		byKind[r.Kind] = r
	}
	if err := rows.Err(); err != nil {
		return nil, postgis.Translate(err, "report")
	}
	out := []OperationsRow{}
	for _, k := range Kinds {
		if r, ok := byKind[k.Kind]; ok {
			r.TitleBG, r.TitleEN = k.TitleBG, k.TitleEN
			out = append(out, r)
		}
	}
	return out, nil
}

// PermitsRow is a row of the report "permits issued by category and month".
type PermitsRow struct {
	Month    string `json:"month"` // YYYY-MM
	Category string `json:"category"`
	Count    int64  `json:"count"`
}

// PermitsByCategoryAndMonth counts the building permits issued (by their
// date) from..to, both included, per month and construction category,
// whatever became of them later (expired, revoked, completed).
func (s *Store) PermitsByCategoryAndMonth(ctx context.Context, from, to time.Time) ([]PermitsRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT to_char(e.entry_date, 'YYYY-MM'), coalesce(e.data->>'category', ''), count(*)
		FROM register_entries e
		WHERE e.register = $1 AND e.entry_date BETWEEN $2 AND $3
		GROUP BY 1, 2 ORDER BY 1, 2`, PermitRegister, day(from), day(to))
	if err != nil {
		return nil, postgis.Translate(err, "report")
	}
	defer rows.Close()
	out := []PermitsRow{}
	for rows.Next() {
		var r PermitsRow
		if err := rows.Scan(&r.Month, &r.Category, &r.Count); err != nil {
			return nil, postgis.Translate(err, "report")
		}
		out = append(out, r)
	}
	return out, postgis.Translate(rows.Err(), "report")
}

package property

import (
	"context"
	"time"

	"munigis"
	"munigis/internal/postgis"
	"munigis/registers/persons"
)

// MaxExpiringDays bounds Expiring's window (ten years).
const MaxExpiringDays = 3660

// rentals reads rental contracts from rental_terms (the contracts tied to a
// property) and their entries. where and order are SQL over rt
// (rental_terms), e (the rental entry), p (the property entry) and t (the
// tenant, persons); args are its parameters. With mask the tenant's name is
// masked for the public (persons.Mask: natural persons as initials).
func (s *Store) rentals(ctx context.Context, where string, args []any, order string, mask bool) ([]Rental, error) {
	rows, err := s.pool.Query(ctx, `SELECT rt.entry_id, e.number, rt.property_id, p.number, p.identifiers,
			t.id, coalesce(t.kind, ''), coalesce(t.name, ''),
			lower(rt.term), upper(rt.term) - 1, (e.data->>'rent_bgn')::float8,
			coalesce(e.status, ''), rt.live
		FROM rental_terms rt
		JOIN register_entries e ON e.id = rt.entry_id
		JOIN register_entries p ON p.id = rt.property_id
		LEFT JOIN persons t ON t.id = (SELECT (x->>'person_id')::bigint FROM jsonb_array_elements(e.parties) x
		                               WHERE x->>'role' = 'tenant' LIMIT 1)
		WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		return nil, postgis.Translate(err, "rentals")
	}
	defer rows.Close()
	out := []Rental{}
	for rows.Next() {
		var r Rental
		var tenantID *int64
		var kind, name string
		if err := rows.Scan(&r.EntryID, &r.Number, &r.PropertyID, &r.PropertyNumber, &r.Identifiers,
			&tenantID, &kind, &name, &r.Start, &r.End, &r.RentBGN, &r.Status, &r.Live); err != nil {
			return nil, postgis.Translate(err, "rentals")
		}
		if tenantID != nil {
			if mask {
				name = persons.Mask(persons.Person{Kind: persons.Kind(kind), Name: name})
			}
			r.Tenant = &Party{PersonID: *tenantID, Role: "tenant", Name: name}
			if mask {
				// The public learns no person ids either: they would link
				// the masked tenant's contracts across registers.
				r.Tenant.PersonID = 0
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, postgis.Translate(err, "rentals")
	}
	return out, nil
}

// Rentals returns the rental contracts on the property entry propertyID,
// by start date.
func (s *Store) Rentals(ctx context.Context, propertyID int64) ([]Rental, error) {
	return s.rentals(ctx, `rt.property_id = $1`, []any{propertyID}, `lower(rt.term), rt.entry_id`, false)
}

// Expiring returns the live rental contracts whose term ends within the
// next days days (today included), soonest first: the list a clerk works
// through to renew or re-let. With mask the tenants' names are masked (for
// a caller who may not see personal data).
func (s *Store) Expiring(ctx context.Context, days int, mask bool) ([]Rental, error) {
	if days < 0 || days > MaxExpiringDays {
		return nil, &munigis.Error{Code: munigis.Invalid,
			Message:   "days: must be between 0 and " + itoa(MaxExpiringDays),
			MessageBG: "days: трябва да е между 0 и " + itoa(MaxExpiringDays)}
	}
	today := s.today()
	// upper(term) is the day after the last day of the contract.
	return s.rentals(ctx, `rt.live AND upper(rt.term) > $1 AND upper(rt.term) <= $2`,
		[]any{today, today.AddDate(0, 0, days+1)}, `upper(rt.term), e.number`, mask)
}

// DaysLeft returns the days from today to the contract's last day (0: it
// ends today), or -1 for a contract without an end.
func (r Rental) DaysLeft(today time.Time) int {
	if r.End == nil {
		return -1
	}
	return int(r.End.Sub(day(today)).Hours() / 24)
}

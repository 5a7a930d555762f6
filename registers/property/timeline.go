package property

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
)

// Act is the property's act of municipal ownership (АОС): its register
// entry as the timeline shows it.
type Act struct {
	EntryID     int64          `json:"entry_id"`
	Number      string         `json:"number"`
	Date        *time.Time     `json:"date,omitempty"`
	Status      string         `json:"status,omitempty"`
	Identifiers []string       `json:"identifiers"`
	Data        map[string]any `json:"data"`
}

// Rental is a rental contract (an entry of the register rentals) on a
// municipal property.
type Rental struct {
	EntryID        int64      `json:"entry_id"`
	Number         string     `json:"number"`
	PropertyID     int64      `json:"property_id"`
	PropertyNumber string     `json:"property_number"`
	Identifiers    []string   `json:"identifiers"` // the property's
	Tenant         *Party     `json:"tenant,omitempty"`
	Start          time.Time  `json:"start_date"`
	End            *time.Time `json:"end_date,omitempty"` // nil: no end
	RentBGN        *float64   `json:"rent_bgn,omitempty"` // monthly
	Status         string     `json:"status,omitempty"`
	// Live is false for a terminated or cancelled contract.
	Live bool `json:"live"`
}

// EventKind says what a timeline event is.
type EventKind string

// Timeline events.
const (
	EventAct         EventKind = "act"
	EventOperation   EventKind = "operation"
	EventRentalStart EventKind = "rental_start"
	EventRentalEnd   EventKind = "rental_end"
)

// Event is one dated step of a property's history. Ref is the operation's
// id or the rental entry's id (the act's entry id for EventAct).
type Event struct {
	Date    time.Time `json:"date"`
	Kind    EventKind `json:"kind"`
	Ref     int64     `json:"ref"`
	TitleBG string    `json:"title_bg"`
	TitleEN string    `json:"title_en"`
	// State is the property's state after this event.
	State State `json:"state"`
}

// Timeline is a property's history: the act, its operations by date, the
// rental contracts on it, all of them merged into Events by date (on one
// day: the act, then operations, then rentals), and the state derived from
// the operations.
type Timeline struct {
	Act        Act         `json:"act"`
	Operations []Operation `json:"operations"`
	Rentals    []Rental    `json:"rentals"`
	Events     []Event     `json:"events"`
	State      State       `json:"state"`
	StateBG    string      `json:"state_bg"`
	StateEN    string      `json:"state_en"`
}

// Timeline returns the history of the property entry propertyID; NotFound
// when there is no such municipal property.
func (s *Store) Timeline(ctx context.Context, propertyID int64) (Timeline, error) {
	var t Timeline
	var register string
	err := s.pool.QueryRow(ctx, `SELECT register, id, number, coalesce(entry_date, (data->>'act_date')::date),
			coalesce(status, ''), identifiers, data
		FROM register_entries WHERE id = $1`, propertyID).
		Scan(&register, &t.Act.EntryID, &t.Act.Number, &t.Act.Date, &t.Act.Status, &t.Act.Identifiers, &t.Act.Data)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && register != PropertyRegister) {
		return Timeline{}, &munigis.Error{Code: munigis.NotFound,
			Message:   "municipal property " + itoa(propertyID) + " does not exist",
			MessageBG: "общински имот " + itoa(propertyID) + " не съществува"}
	}
	if err != nil {
		return Timeline{}, postgis.Translate(err, "property timeline")
	}
	if t.Operations, err = s.Operations(ctx, propertyID); err != nil {
		return Timeline{}, err
	}
	if t.Rentals, err = s.rentals(ctx, `rt.property_id = $1`, []any{propertyID}, `lower(rt.term), rt.entry_id`, false); err != nil {
		return Timeline{}, err
	}

	// The events: by date; on the same day the act first, then the
	// operations in the order they were recorded, then the rentals.
	type keyed struct {
		e     Event
		rank  int
		order int
	}
	var ev []keyed
	if t.Act.Date != nil {
		ev = append(ev, keyed{Event{Date: *t.Act.Date, Kind: EventAct, Ref: t.Act.EntryID,
			TitleBG: "Акт за общинска собственост № " + t.Act.Number,
			TitleEN: "Act of municipal ownership No " + t.Act.Number}, 0, 0})
	}
	for i, o := range t.Operations {
		info, _ := o.Kind.Info()
		ev = append(ev, keyed{Event{Date: o.Date, Kind: EventOperation, Ref: o.ID,
			TitleBG: info.TitleBG + " (" + o.DocumentNumber + ")",
			TitleEN: info.TitleEN + " (" + o.DocumentNumber + ")"}, 1, i})
	}
	for i, r := range t.Rentals {
		ev = append(ev, keyed{Event{Date: r.Start, Kind: EventRentalStart, Ref: r.EntryID,
			TitleBG: "Начало на договор за наем № " + r.Number,
			TitleEN: "Rental contract No " + r.Number + " starts"}, 2, 2 * i})
		if r.End != nil {
			ev = append(ev, keyed{Event{Date: *r.End, Kind: EventRentalEnd, Ref: r.EntryID,
				TitleBG: "Край на договор за наем № " + r.Number,
				TitleEN: "Rental contract No " + r.Number + " ends"}, 2, 2*i + 1})
		}
	}
	sort.SliceStable(ev, func(i, j int) bool {
		a, b := ev[i], ev[j]
		if !a.e.Date.Equal(b.e.Date) {
			return a.e.Date.Before(b.e.Date)
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		return a.order < b.order
	})
	state := Owned
	byID := map[int64]Operation{}
	for _, o := range t.Operations {
		byID[o.ID] = o
	}
	t.Events = make([]Event, len(ev))
	for i, k := range ev {
		if k.e.Kind == EventOperation {
			state = byID[k.e.Ref].ResultingStatus
		}
		k.e.State = state
		t.Events[i] = k.e
	}
	// The current state is the last operation's (by date, then recording
	// order), the same rule as property_state() in the database.
	t.State = Owned
	if n := len(t.Operations); n > 0 {
		t.State = t.Operations[n-1].ResultingStatus
	}
	t.StateBG, t.StateEN = t.State.TitleBG(), t.State.TitleEN()
	return t, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package registers

import (
	"context"
	"time"

	"munigis/access"
)

// Shown is an entry as one viewer may see it: in full (Full: the viewer
// may read the register's internal part) or the public view of a
// published register (PublicView: public fields, natural persons masked,
// no person ids, no staff identifiers, no version). The HTTP API, WMS
// GetFeatureInfo and the map's identify all show entries through Show, so
// the rules live in one place.
type Shown struct {
	Full        bool
	ID          int64
	Register    string
	Number      string
	Date        string
	Status      string
	Identifiers []string
	// Parties: PersonID is 0 in the public view.
	Parties []Party
	Data    map[string]any
	// Version and the stamps are for staff only (zero in the public view).
	Version   int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Show returns entry e of register type t in full when full, else its
// public view (NotFound when t is not published).
func Show(e Entry, t Type, full bool) (Shown, error) {
	if full {
		out := Shown{Full: true, ID: e.ID, Register: e.Register, Number: e.Number, Date: e.Date, Status: e.Status,
			Identifiers: e.Identifiers, Parties: e.Parties, Data: e.Data, Version: e.Version,
			CreatedAt: e.CreatedAt, CreatedBy: e.CreatedBy, UpdatedAt: e.UpdatedAt, UpdatedBy: e.UpdatedBy}
		return out, nil
	}
	p, err := PublicView(e, t)
	if err != nil {
		return Shown{}, err
	}
	out := Shown{ID: p.ID, Register: p.Register, Number: p.Number, Date: p.Date, Status: p.Status,
		Identifiers: p.Identifiers, Data: p.Data}
	for _, pt := range p.Parties {
		out.Parties = append(out.Parties, Party{Role: pt.Role, Name: pt.Name, Kind: string(pt.Kind), EIK: pt.EIK})
	}
	return out, nil
}

// PlacesPublic reports whether the public sees the cadastral identifiers
// of register t: only then may it search by identifier or find the
// register's entries from a parcel, which would tell them otherwise.
func PlacesPublic(t Type) bool {
	f, ok := t.IdentifiersField()
	return ok && f.Public
}

// RelatedView says how a viewer sees a register when looking at a
// cadastral object: ok false when the register's entries must not be
// found from the object at all (neither readable nor published with
// public identifiers), full when the viewer may read its internal part.
func RelatedView(t Type, v access.Viewer) (full, ok bool) {
	full = v.CanReadRegister(t.Name)
	return full, full || (t.Published && PlacesPublic(t))
}

// ShownGroup is the entries of one register on a cadastral object, as a
// viewer may see them.
type ShownGroup struct {
	Register string
	TitleBG  string
	TitleEN  string
	// Type is the register type, its fields in full when Full, else its
	// public fields only (PublicType): a caller lists what it may show.
	Type    Type
	Full    bool
	Entries []Shown
}

// RelatedFor is Related as viewer v may see it: the registers v may read
// in full, and the published registers with public identifiers as the
// public sees them (public fields, masked persons). Grouped by register in
// the order of Types, entries newest first. Returns Invalid for a
// malformed identifier.
func (s *Store) RelatedFor(ctx context.Context, identifier string, v access.Viewer) ([]ShownGroup, error) {
	types, err := s.Types(ctx)
	if err != nil {
		return nil, err
	}
	views, byName := map[string]ShownGroup{}, map[string]Type{}
	for _, t := range types {
		byName[t.Name] = t
		full, ok := RelatedView(t, v)
		if !ok {
			continue
		}
		g := ShownGroup{Register: t.Name, TitleBG: t.TitleBG, TitleEN: t.TitleEN, Type: t, Full: full}
		if !full {
			if g.Type, err = PublicType(t); err != nil {
				return nil, err
			}
		}
		views[t.Name] = g
	}
	groups, err := s.Related(ctx, identifier, func(reg string) bool { _, ok := views[reg]; return ok })
	if err != nil {
		return nil, err
	}
	out := []ShownGroup{}
	for _, g := range groups {
		sg, ok := views[g.Register]
		if !ok {
			continue // the engine was asked not to, but never show it
		}
		t := byName[g.Register]
		sg.Entries = make([]Shown, 0, len(g.Entries))
		for _, e := range g.Entries {
			sh, err := Show(e, t, sg.Full)
			if err != nil {
				return nil, err
			}
			sg.Entries = append(sg.Entries, sh)
		}
		out = append(out, sg)
	}
	return out, nil
}

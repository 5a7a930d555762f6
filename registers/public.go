package registers

import "munigis/registers/persons"

// PublicParty is what the public sees of a party: its role, the masked
// name (persons.Mask: a natural person's initials, an entity in full) and,
// for a legal entity, the ЕИК. No person id: it would let anyone follow the
// same natural person from entry to entry and register to register.
type PublicParty struct {
	Role string       `json:"role"`
	Kind persons.Kind `json:"kind"`
	Name string       `json:"name"`
	EIK  string       `json:"eik,omitempty"`
}

// PublicEntry is what the public sees of an entry of a published register
// (seed item 30): the number and date, the status, identifiers and parties
// when their fields are public, and the public fields of Data.
type PublicEntry struct {
	ID          int64          `json:"id"`
	Register    string         `json:"register"`
	Number      string         `json:"number"`
	Date        string         `json:"date"`
	Status      string         `json:"status,omitempty"`
	Identifiers []string       `json:"identifiers,omitempty"`
	Parties     []PublicParty  `json:"parties,omitempty"`
	Data        map[string]any `json:"data"`
}

// PublicView returns what the public may see of e, an entry of register
// type t. Returns NotFound when t is not published: an unpublished
// register does not exist for the public.
func PublicView(e Entry, t Type) (PublicEntry, error) {
	if !t.Published || e.Register != t.Name {
		return PublicEntry{}, typeNotFound(e.Register)
	}
	out := PublicEntry{ID: e.ID, Register: e.Register, Number: e.Number, Date: e.Date, Data: map[string]any{}}
	if f, ok := t.Field(StatusField); !ok || f.Public {
		out.Status = e.Status
	}
	if f, ok := t.IdentifiersField(); ok && f.Public {
		out.Identifiers = append([]string{}, e.Identifiers...)
	}
	for _, p := range e.Parties {
		f, ok := t.Field(p.Role)
		if !ok || !f.Public {
			continue
		}
		pv := persons.PublicView(persons.Person{Kind: persons.Kind(p.Kind), Name: p.Name, EIK: p.EIK})
		out.Parties = append(out.Parties, PublicParty{Role: p.Role, Kind: pv.Kind, Name: pv.Name, EIK: pv.EIK})
	}
	for k, v := range e.Data {
		// A file field's value is a document id, an internal key: the
		// public sees the file's name and size instead, which the web layer
		// adds ("files") and serves only for a public field.
		if f, ok := t.Field(k); ok && f.Public && f.Type != File {
			out.Data[k] = v
		}
	}
	return out, nil
}

// PublicType returns what the public sees of a register type: its public
// fields only. Returns NotFound when it is not published.
func PublicType(t Type) (Type, error) {
	if !t.Published {
		return Type{}, typeNotFound(t.Name)
	}
	out := t
	out.Fields = nil
	for _, f := range t.Fields {
		if f.Public {
			out.Fields = append(out.Fields, f)
		}
	}
	out.CreatedBy, out.UpdatedBy = "", ""
	return out, nil
}

// Published returns a visibility function that allows the published
// registers among types: the public's Query.Visible.
func Published(types []Type) func(string) bool {
	pub := map[string]bool{}
	for _, t := range types {
		pub[t.Name] = t.Published
	}
	return func(name string) bool { return pub[name] }
}

// PublishedWithPlaces allows the published registers whose identifiers are
// public: the public's visibility for Related, since telling which entries
// stand on a parcel tells their identifiers.
func PublishedWithPlaces(types []Type) func(string) bool {
	pub := map[string]bool{}
	for _, t := range types {
		f, ok := t.IdentifiersField()
		pub[t.Name] = t.Published && ok && f.Public
	}
	return func(name string) bool { return pub[name] }
}

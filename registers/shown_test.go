package registers_test

import (
	"context"
	"slices"
	"testing"

	"munigis/access"
	"munigis/registers"
)

// TestRelatedFor: the entries on a parcel as each viewer may see them, the
// one rule WMS GetFeatureInfo, the map's identify and the HTTP API share.
func TestRelatedFor(t *testing.T) {
	e := newEnv(t)
	parcel := e.parcels[30]
	prop := mustCreate(t, e.store, e.property("АОС-1", parcel)) // holder Иван Петров Иванов, book value 18000
	mustCreate(t, e.store, registers.Entry{Register: "rentals", Number: "НД-1", Date: "2024-01-10", Status: "действащ",
		Identifiers: []string{parcel + ".1"}, Parties: []registers.Party{{PersonID: e.maria.ID, Role: "tenant"}},
		Data: map[string]any{"property": prop.ID, "start_date": "2024-02-01", "end_date": "2029-01-31", "rent_bgn": 240.0}})

	rentalsClerk := access.Viewer{SystemID: "u7", Username: "clerk", Role: access.Clerk,
		Grants: []access.Grant{{ObjectKind: access.KindRegister, Object: "rentals", Permission: access.Read}}}
	admin := access.Viewer{SystemID: "u1", Username: "admin", Role: access.Admin}
	for _, c := range []struct {
		who  string
		v    access.Viewer
		want []string // register:number:full
	}{
		{"public", access.Anonymous, []string{"municipal_property:АОС-1:false"}},
		{"clerk with rentals", rentalsClerk, []string{"municipal_property:АОС-1:false", "rentals:НД-1:true"}},
		{"admin", admin, []string{"municipal_property:АОС-1:true", "rentals:НД-1:true"}},
	} {
		groups, err := e.store.RelatedFor(context.Background(), parcel, c.v)
		if err != nil {
			t.Fatalf("%s: %v", c.who, err)
		}
		var got []string
		for _, g := range groups {
			for _, x := range g.Entries {
				got = append(got, g.Register+":"+x.Number+":"+map[bool]string{true: "true", false: "false"}[x.Full && g.Full])
				if g.Register != "municipal_property" {
					continue
				}
				_, hasBook := x.Data["book_value"]
				if len(x.Parties) != 1 {
					t.Fatalf("%s: parties %+v", c.who, x.Parties)
				}
				p := x.Parties[0]
				if g.Full {
					if !hasBook || p.Name != "Иван Петров Иванов" || p.PersonID != e.ivan.ID || x.Version != 1 || x.CreatedBy == "" {
						t.Errorf("%s sees the act in full as %+v", c.who, x)
					}
				} else {
					if hasBook || p.Name != "И. П. И." || p.PersonID != 0 || x.Version != 0 || x.CreatedBy != "" {
						t.Errorf("%s sees the public act as %+v", c.who, x)
					}
					if _, ok := g.Type.Field("book_value"); ok {
						t.Errorf("%s is given the non-public field book_value in the type", c.who)
					}
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: RelatedFor(%s) = %v, want %v", c.who, parcel, got, c.want)
		}
	}
}

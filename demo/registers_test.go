package demo_test

import (
	"context"
	"testing"

	"munigis/demo"
	"munigis/registers/persons"
)

// TestRegisters loads the default demo's registers on 4,000 parcels and
// checks what a clerk opening them would: about the promised amounts of
// each register, valid ЕГН/ЕИК for every demo person, unresolved entries
// present, rentals never overlapping, and the same data from the same seed.
func TestRegisters(t *testing.T) {
	ctx := context.Background()
	const n = 3000
	db, _ := load(t, demo.Options{Parcels: n, Seed: 7})

	count := func(sql string, args ...any) int64 {
		t.Helper()
		var c int64
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&c); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return c
	}
	byRegister := map[string]int64{}
	rows, err := db.Pool.Query(ctx, `SELECT register, count(*) FROM register_entries GROUP BY register`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		var c int64
		if err := rows.Scan(&r, &c); err != nil {
			t.Fatal(err)
		}
		byRegister[r] = c
	}
	rows.Close()
	t.Logf("entries by register: %v", byRegister)

	within := func(what string, got int64, lo, hi float64) {
		t.Helper()
		if float64(got) < lo || float64(got) > hi {
			t.Errorf("%s = %d, want between %.0f and %.0f", what, got, lo, hi)
		}
	}
	parcelProps := count(`SELECT count(*) FROM register_entries WHERE register = 'municipal_property'
		AND identifiers[1] ~ '^[^.]+\.[^.]+\.[^.]+$'`)
	within("municipal property on parcels", parcelProps, 0.015*n, 0.025*n)
	within("municipal property on buildings and units", count(`SELECT count(*) FROM register_entries
		WHERE register = 'municipal_property' AND identifiers[1] ~ '^[^.]+\.[^.]+\.[^.]+\.'`), 1, 0.01*n)
	within("building permits", byRegister["building_permits"], n/40*0.75, n/40*1.25)
	for _, r := range []string{"rentals", "trade_permits", "taxi_permits", "condominiums", "categorised_sites"} {
		if byRegister[r] == 0 {
			t.Errorf("no %s entries", r)
		}
	}
	props := byRegister["municipal_property"]
	withOps := count(`SELECT count(DISTINCT entry_id) FROM property_operations`)
	within("properties with operations", withOps, 0.13*float64(props), 0.17*float64(props))
	private := count(`SELECT count(*) FROM register_entries WHERE register = 'municipal_property'
		AND data->>'kind' = 'частна' AND status = 'общинска собственост'`)
	rented := count(`SELECT count(DISTINCT property_id) FROM rental_terms`)
	within("rented private properties", rented, 0.27*float64(private), 0.33*float64(private))
	if c := count(`SELECT count(*) FROM rental_terms WHERE live AND upper(term) - 1 BETWEEN current_date AND current_date + 30`); c == 0 {
		t.Error("no rental contract expires within 30 days")
	}
	// The status each property shows is the one its operations derive.
	if c := count(`SELECT count(*) FROM register_entries WHERE register = 'municipal_property'
		AND status IS DISTINCT FROM property_state_title(property_state(id))`); c != 0 {
		t.Errorf("%d properties show a status other than the derived one", c)
	}
	if c := count(`SELECT count(*) FROM rental_terms a JOIN rental_terms b
		ON a.property_id = b.property_id AND a.entry_id < b.entry_id AND a.live AND b.live AND a.term && b.term`); c != 0 {
		t.Errorf("%d pairs of live rental contracts overlap", c)
	}

	t.Run("persons have valid identifiers", func(t *testing.T) {
		rows, err := db.Pool.Query(ctx, `SELECT kind, coalesce(egn, ''), coalesce(lnch, ''), coalesce(eik, '') FROM persons`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var nat, leg int
		for rows.Next() {
			var kind, egn, lnch, eik string
			if err := rows.Scan(&kind, &egn, &lnch, &eik); err != nil {
				t.Fatal(err)
			}
			switch {
			case kind == "legal":
				leg++
				if err := persons.ValidateEIK(eik); err != nil {
					t.Errorf("ЕИК %q: %v", eik, err)
				}
			case egn != "":
				nat++
				if err := persons.ValidateEGN(egn); err != nil {
					t.Errorf("ЕГН %q: %v", egn, err)
				}
			case lnch != "":
				nat++
				if err := persons.ValidateLNCH(lnch); err != nil {
					t.Errorf("ЛНЧ %q: %v", lnch, err)
				}
			default:
				t.Errorf("a demo natural person without ЕГН or ЛНЧ")
			}
		}
		within("natural persons", int64(nat), 40, 300*n/20000*1.5+40)
		within("legal persons", int64(leg), 15, 80*n/20000*1.5+15)
	})

	t.Run("some entries are unresolved", func(t *testing.T) {
		un := count(`SELECT count(DISTINCT o.entry_id) FROM entry_objects o
			WHERE NOT EXISTS (SELECT 1 FROM cadastral_objects c WHERE c.identifier = o.identifier)`)
		all := count(`SELECT count(*) FROM register_entries WHERE identifiers <> '{}'`)
		within("unresolved entries", un, 1, 0.025*float64(all))
	})

	t.Run("a replace gives the same registers again", func(t *testing.T) {
		// The same seed: the same entries, byte for byte (ids and stamps
		// aside: a rental's property is an entry id).
		q := `SELECT count(*), md5(string_agg(register || number || coalesce(entry_date::text, '') || coalesce(status, '')
				|| identifiers::text || (data - 'property')::text, ',' ORDER BY register, number)) FROM register_entries`
		var n1, n2 int64
		var h1, h2 string
		if err := db.Pool.QueryRow(ctx, q).Scan(&n1, &h1); err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: n, Seed: 7, Replace: true}, nil); err != nil {
			t.Fatalf("Load with Replace = %v", err)
		}
		if err := db.Pool.QueryRow(ctx, q).Scan(&n2, &h2); err != nil {
			t.Fatal(err)
		}
		if n1 != n2 || h1 != h2 {
			t.Errorf("after a replace with the same seed: %d entries (hash %s), before %d (%s)", n2, h2, n1, h1)
		}
		if c := count(`SELECT count(*) FROM register_flags`); c != 0 {
			t.Errorf("a replace raised %d flags; the same identifiers came back", c)
		}
	})

	t.Run("no registers on request", func(t *testing.T) {
		db3, _ := load(t, demo.Options{Parcels: 300, RegisterEntries: -1})
		var c int64
		if err := db3.Pool.QueryRow(ctx, `SELECT count(*) FROM register_entries`).Scan(&c); err != nil || c != 0 {
			t.Errorf("RegisterEntries -1 left %d entries (%v)", c, err)
		}
	})
}

package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis/registers/persons"
)

// The registers of the demo municipality (issue 6), drawn on the parcels,
// buildings and units just loaded, in the same transaction:
//
//   - persons (≈ 300 people with valid ЕГН, a few foreigners with ЛНЧ) and
//     companies (≈ 80, valid ЕИК), at 20,000 parcels; more with more parcels;
//   - municipal property (≈ 2 % of the parcels, the municipally owned ones
//     first, plus some buildings and units) with acts over the last 20
//     years, public or private, use, area from the cadastre, book value;
//   - operations on ≈ 15 % of the properties (sales, rights to build, …);
//   - rental contracts on ≈ 30 % of the private properties, some of them
//     expiring within 30 days, some with an earlier expired contract;
//   - building permits on ≈ 1 parcel in 40, categories I–VI weighted to
//     IV–VI, with statuses that follow their age;
//   - a few trade permits, taxi permits, condominiums and categorised sites;
//   - ≈ 1 % of the entries on an identifier that matches no object (an
//     unresolved entry, as real registers have).
//
// Dates count back from the day of the load (so "expiring within 30 days"
// always finds contracts); everything else depends on the seed only.
// Entries are sent with COPY and all the register triggers (stamping,
// search text, objects and parties, rental terms, audit) stay on.

// streamRegisters keys the PCG streams of the register data.
const streamRegisters = 20

// registerActor is the creator of the demo's register data, like its features.
const registerActor = Actor

// RegisterCounts reports what loadRegisters wrote.
type RegisterCounts struct {
	Persons    int64
	Entries    map[string]int64 // by register
	Operations int64
	Unresolved int64 // entries with an identifier that matches no object
}

// Base rates per parcel (at the default scale).
const (
	rateProperty    = 0.02
	ratePermit      = 1.0 / 40
	rateTrade       = 1.0 / 500
	rateTaxi        = 1.0 / 1000
	rateCondominium = 1.0 / 400
	rateSite        = 1.0 / 1000
	rateNatural     = 300.0 / 20000
	rateLegal       = 80.0 / 20000
	shareOperations = 0.15
	shareRented     = 0.30
	shareUnresolved = 0.01
)

// defaultRegisterEntries is roughly how many entries the default rates give
// for parcels; Options.RegisterEntries scales the rates against it.
func defaultRegisterEntries(parcels int) float64 {
	p := float64(parcels)
	props := p * rateProperty * 1.2
	return props + props*0.6*shareRented*1.3 + p*(ratePermit+rateTrade+rateTaxi+rateCondominium+rateSite)
}

type demoParcel struct {
	id, landUse, ownership, address string
	area                            float64
	h1, h2, h3                      int64
}

type demoPerson struct {
	id    int64
	legal bool
}

type regGen struct {
	rng         *rand.Rand
	today       time.Time
	town        string
	naturals    []demoPerson
	legals      []demoPerson
	maxParcel   int64
	nextMissing int64
	withIDs     int
}

func (g *regGen) rngDate(from, to time.Time) time.Time {
	if !to.After(from) {
		return from
	}
	days := int(to.Sub(from).Hours() / 24)
	return from.AddDate(0, 0, g.rng.IntN(days+1))
}

// choose marks exactly round(share × n) of n items, drawn without
// replacement, so that small demos get the promised proportions too.
func (g *regGen) choose(n int, share float64) []bool {
	out := make([]bool, n)
	for _, i := range g.rng.Perm(n)[:int(math.Round(share*float64(n)))] {
		out[i] = true
	}
	return out
}

func (g *regGen) person(legalShare float64) int64 {
	if len(g.legals) > 0 && (len(g.naturals) == 0 || g.rng.Float64() < legalShare) {
		return g.legals[g.rng.IntN(len(g.legals))].id
	}
	return g.naturals[g.rng.IntN(len(g.naturals))].id
}

// ids returns the entry's identifiers, or, for ≈ 1 % of entries, a parcel
// number past the last one of the cadastre: an identifier that matches
// nothing, which the register must list as unresolved.
func (g *regGen) ids(real ...string) []string {
	if len(real) == 0 {
		return real
	}
	// Every 1/shareUnresolved-th entry with identifiers, so that even a
	// small demo has its few unresolved entries.
	g.withIDs++
	if g.withIDs%int(math.Round(1/shareUnresolved)) == 50 {
		g.nextMissing++
		f := strings.SplitN(real[0], ".", 3)
		return []string{f[0] + "." + f[1] + "." + strconv.FormatInt(g.maxParcel+g.nextMissing, 10)}
	}
	return real
}

func party(id int64, role string) map[string]any {
	return map[string]any{"person_id": id, "role": role}
}

func ymd(t time.Time) string { return t.Format("2006-01-02") }

// entryRow is one row for COPY into register_entries.
type entryRow struct {
	register, number string
	date             time.Time
	status           string
	identifiers      []string
	parties          []map[string]any
	data             map[string]any
}

func (r entryRow) values() []any {
	if r.identifiers == nil {
		r.identifiers = []string{}
	}
	if r.parties == nil {
		r.parties = []map[string]any{}
	}
	return []any{r.register, r.number, r.date, nullText(r.status), r.identifiers, r.parties, r.data}
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func copyEntries(ctx context.Context, tx pgx.Tx, rows []entryRow) (int64, error) {
	vals := make([][]any, len(rows))
	for i, r := range rows {
		vals[i] = r.values()
	}
	return tx.CopyFrom(ctx, pgx.Identifier{"register_entries"},
		[]string{"register", "number", "entry_date", "status", "identifiers", "parties", "data"}, pgx.CopyFromRows(vals))
}

// loadRegisters fills the registers; see the comment at the top of the file.
// It first deletes the register data an earlier demo load made (entries and
// operations created by "demo"; persons are kept and reused by their ЕГН
// or ЕИК), so that it can run after the layers were (re)loaded.
func loadRegisters(ctx context.Context, tx pgx.Tx, opt Options, town string, today time.Time) (RegisterCounts, error) {
	c := RegisterCounts{Entries: map[string]int64{}}
	if opt.RegisterEntries < 0 {
		return c, nil
	}
	fail := func(what string, err error) (RegisterCounts, error) {
		return c, fmt.Errorf("demo: registers: %s: %w", what, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM property_operations WHERE entry_id IN
		(SELECT id FROM register_entries WHERE created_by = $1)`, registerActor); err != nil {
		return fail("delete earlier operations", err)
	}
	// Rentals first: their terms refer to the properties.
	if _, err := tx.Exec(ctx, `DELETE FROM register_entries WHERE created_by = $1 AND register = 'rentals'`, registerActor); err != nil {
		return fail("delete earlier entries", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM register_entries WHERE created_by = $1`, registerActor); err != nil {
		return fail("delete earlier entries", err)
	}

	var total, municipal int64
	if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE ownership LIKE 'общинска%')
		FROM features.cadastre_parcels`).Scan(&total, &municipal); err != nil {
		return fail("count parcels", err)
	}
	if total == 0 {
		return c, nil
	}
	scale := 1.0
	if opt.RegisterEntries > 0 {
		scale = float64(opt.RegisterEntries) / defaultRegisterEntries(int(total))
	}
	var pcg rand.PCG
	pcg.Seed(uint64(opt.Seed), key(streamRegisters, 0))
	if town == "" {
		town = "ЕКАТТЕ " + opt.EKATTE
	}
	salt := strconv.FormatInt(opt.Seed, 10)
	g := &regGen{rng: rand.New(&pcg), today: today, town: town}
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(split_part(identifier, '.', 3)::bigint), 0) FROM features.cadastre_parcels`).
		Scan(&g.maxParcel); err != nil {
		return fail("last parcel", err)
	}

	// Persons and companies.
	// With more entries per parcel the same people come back more often
	// (an investor builds again, a tenant rents a second shop): persons
	// grow with the square root of the scale, not with it.
	pscale := math.Sqrt(scale)
	nNat := clampInt(int(math.Round(float64(total)*rateNatural*pscale)), 40, 200000)
	nLeg := clampInt(int(math.Round(float64(total)*rateLegal*pscale)), 15, 50000)
	n, err := g.loadPersons(ctx, tx, nNat, nLeg)
	if err != nil {
		return fail("persons", err)
	}
	c.Persons = n

	// Which parcels carry what: three hashes per parcel, salted with the
	// seed, pick a deterministic sample in SQL so that only the chosen rows
	// come to Go, however many parcels there are.
	const hmod = 1_000_000
	tProp := float64(total) * rateProperty * scale
	pMun := math.Min(1, tProp/math.Max(1, float64(municipal)))
	pOther := math.Max(0, tProp-float64(municipal)) / math.Max(1, float64(total-municipal))
	pPermit := math.Min(1, ratePermit*scale)
	pSite := math.Min(1, (rateTrade+rateSite)*scale)
	rows, err := tx.Query(ctx, `SELECT identifier, coalesce(area_m2, 0), coalesce(land_use, ''), coalesce(ownership, ''),
			coalesce(address, ''), h1, h2, h3
		FROM (SELECT *, abs(hashtext(identifier || ':p' || $1)::bigint) % $2 AS h1,
		             abs(hashtext(identifier || ':b' || $1)::bigint) % $2 AS h2,
		             abs(hashtext(identifier || ':t' || $1)::bigint) % $2 AS h3
		      FROM features.cadastre_parcels) s
		WHERE (ownership LIKE 'общинска%' AND h1 < $3) OR (ownership NOT LIKE 'общинска%' AND h1 < $4)
		   OR h2 < $5 OR h3 < $6
		ORDER BY identifier`, salt, hmod,
		int64(pMun*hmod), int64(pOther*hmod), int64(pPermit*hmod), int64(pSite*hmod))
	if err != nil {
		return fail("sample parcels", err)
	}
	var propParcels, permitParcels, siteParcels []demoParcel
	for rows.Next() {
		var p demoParcel
		if err := rows.Scan(&p.id, &p.area, &p.landUse, &p.ownership, &p.address, &p.h1, &p.h2, &p.h3); err != nil {
			rows.Close()
			return fail("sample parcels", err)
		}
		mun := strings.HasPrefix(p.ownership, "общинска")
		if (mun && p.h1 < int64(pMun*hmod)) || (!mun && p.h1 < int64(pOther*hmod)) {
			propParcels = append(propParcels, p)
		}
		if p.h2 < int64(pPermit*hmod) {
			permitParcels = append(permitParcels, p)
		}
		if p.h3 < int64(pSite*hmod) {
			siteParcels = append(siteParcels, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail("sample parcels", err)
	}

	// Buildings and units held by the municipality, and condominiums.
	// About a tenth as many buildings and a tenth as many units as parcels
	// are municipal property; the buildings stand on municipal parcels.
	var munBuildings, bigBuildings int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE p.ownership LIKE 'общинска%'), count(*) FILTER (WHERE b.units_count >= 4)
		FROM features.cadastre_buildings b
		JOIN features.cadastre_parcels p ON p.identifier = substring(b.identifier from '^[^.]+\.[^.]+\.[^.]+')`).
		Scan(&munBuildings, &bigBuildings); err != nil {
		return fail("count buildings", err)
	}
	pBuild := math.Min(1, tProp*0.1/math.Max(1, float64(munBuildings)))
	pCondo := math.Min(1, float64(total)*rateCondominium*scale/math.Max(1, float64(bigBuildings)))
	type demoObject struct {
		id, purpose, address, ownership string
		area                            float64
		units                           int64
		h1, h2                          int64
	}
	var propBuildings, condoBuildings []demoObject
	rows, err = tx.Query(ctx, `SELECT b.identifier, coalesce(b.purpose, ''), coalesce(b.built_area_m2, 0), coalesce(b.units_count, 0),
			coalesce(p.ownership, ''), coalesce(p.address, ''), b.h1, b.h2
		FROM (SELECT *, abs(hashtext(identifier || ':B' || $1)::bigint) % $2 AS h1,
		             abs(hashtext(identifier || ':C' || $1)::bigint) % $2 AS h2
		      FROM features.cadastre_buildings) b
		JOIN features.cadastre_parcels p ON p.identifier = substring(b.identifier from '^[^.]+\.[^.]+\.[^.]+')
		WHERE (b.h1 < $3 AND p.ownership LIKE 'общинска%') OR (b.h2 < $4 AND b.units_count >= 4)
		ORDER BY b.identifier`, salt, hmod, int64(pBuild*hmod), int64(pCondo*hmod))
	if err != nil {
		return fail("sample buildings", err)
	}
	for rows.Next() {
		var b demoObject
		if err := rows.Scan(&b.id, &b.purpose, &b.area, &b.units, &b.ownership, &b.address, &b.h1, &b.h2); err != nil {
			rows.Close()
			return fail("sample buildings", err)
		}
		if b.h1 < int64(pBuild*hmod) && strings.HasPrefix(b.ownership, "общинска") {
			propBuildings = append(propBuildings, b)
		}
		if b.h2 < int64(pCondo*hmod) && b.units >= 4 {
			condoBuildings = append(condoBuildings, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail("sample buildings", err)
	}
	var unitCount int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM features.cadastre_units`).Scan(&unitCount); err != nil {
		return fail("count units", err)
	}
	pUnit := math.Min(1, tProp*0.1/math.Max(1, float64(unitCount)))
	var propUnits []demoObject
	rows, err = tx.Query(ctx, `SELECT identifier, coalesce(purpose, ''), coalesce(area_m2, 0)
		FROM features.cadastre_units WHERE abs(hashtext(identifier || ':U' || $1)::bigint) % $2 < $3
		ORDER BY identifier`, salt, hmod, int64(pUnit*hmod))
	if err != nil {
		return fail("sample units", err)
	}
	for rows.Next() {
		var u demoObject
		if err := rows.Scan(&u.id, &u.purpose, &u.area); err != nil {
			rows.Close()
			return fail("sample units", err)
		}
		propUnits = append(propUnits, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail("sample units", err)
	}

	// Municipal property: acts over the last 20 years. The state each will
	// end in is decided now, so that the entry's status is written once
	// (the operations' trigger then finds nothing to change).
	type propPlan struct {
		row     entryRow
		private bool
		act     time.Time
		ops     []opPlan
		area    float64
	}
	var props []*propPlan
	seq := map[string]int{}
	actNumber := func(private bool) string {
		prefix := "АПОС"
		if private {
			prefix = "АЧОС"
		}
		seq[prefix]++
		return fmt.Sprintf("%s-%d", prefix, seq[prefix])
	}
	newProp := func(ids []string, area float64, use, address, description string, public bool) *propPlan {
		act := g.rngDate(today.AddDate(-20, 0, 0), today.AddDate(0, 0, -60))
		kind := "частна"
		if public {
			kind = "публична"
		}
		pp := &propPlan{private: !public, act: act, area: area}
		data := map[string]any{
			"kind":        kind,
			"basis":       propertyBases[g.rng.IntN(len(propertyBases))],
			"address":     address,
			"description": description,
			"use":         use,
			"book_value":  math.Round(area * (20 + g.rng.Float64()*180)),
		}
		if area > 0 {
			data["area_m2"] = area
		}
		if g.rng.Float64() < 0.2 {
			data["restrictions"] = restrictions[g.rng.IntN(len(restrictions))]
		}
		pp.row = entryRow{register: "municipal_property", number: actNumber(!public), date: act,
			status: "общинска собственост", identifiers: g.ids(ids...), data: data}
		if public && len(g.legals) > 0 && g.rng.Float64() < 0.5 {
			pp.row.parties = []map[string]any{party(g.person(1), "holder")}
		}
		props = append(props, pp)
		return pp
	}
	for _, p := range propParcels {
		public := p.ownership == "общинска публична" || (p.ownership != "общинска частна" && g.rng.Float64() < 0.3)
		use := parcelUse(p.landUse, public, g.rng)
		newProp([]string{p.id}, p.area, use, addressOr(p.address, g.town), "Поземлен имот, "+p.landUse, public)
	}
	for _, b := range propBuildings {
		public := g.rng.Float64() < 0.5
		newProp([]string{b.id}, b.area, buildingUse(public, g.rng), addressOr(b.address, g.town), "Сграда, "+b.purpose, public)
	}
	for _, u := range propUnits {
		newProp([]string{u.id}, u.area, unitUse(u.purpose), "гр. "+g.town, "Самостоятелен обект, "+u.purpose, false)
	}

	// Operations on 15 % (exactly, rounded): zero or more that keep the
	// property, then perhaps one that ends municipal ownership.
	withOps := g.choose(len(props), shareOperations)
	for i, pp := range props {
		if !withOps[i] {
			continue
		}
		pp.ops = g.planOperations(pp.act, pp.area)
		if n := len(pp.ops); n > 0 {
			switch pp.ops[n-1].state {
			case "removed":
				pp.row.status = "отписан"
			case "contributed":
				pp.row.status = "апортиран"
			}
		}
	}
	propRows := make([]entryRow, len(props))
	for i, pp := range props {
		propRows[i] = pp.row
	}
	if n, err := copyEntries(ctx, tx, propRows); err != nil {
		return fail("municipal property", err)
	} else {
		c.Entries["municipal_property"] = n
	}
	ids := map[string]int64{}
	idRows, err := tx.Query(ctx, `SELECT number, id FROM register_entries WHERE register = 'municipal_property' AND created_by = $1`, registerActor)
	if err != nil {
		return fail("property ids", err)
	}
	for idRows.Next() {
		var num string
		var id int64
		if err := idRows.Scan(&num, &id); err != nil {
			idRows.Close()
			return fail("property ids", err)
		}
		ids[num] = id
	}
	idRows.Close()

	var opVals [][]any
	for _, pp := range props {
		for _, o := range pp.ops {
			var ps []map[string]any
			for _, role := range o.roles {
				legal := 0.3
				if role == "company" || role == "superficiary" {
					legal = 0.9
				}
				ps = append(ps, party(g.person(legal), role))
			}
			if ps == nil {
				ps = []map[string]any{}
			}
			opVals = append(opVals, []any{ids[pp.row.number], o.kind, o.date, o.doc, o.docDate, ps, o.description,
				o.share, o.area, o.amount, o.state})
		}
	}
	if n, err := tx.CopyFrom(ctx, pgx.Identifier{"property_operations"},
		[]string{"entry_id", "kind", "op_date", "document_number", "document_date", "parties", "description",
			"share", "area_m2", "amount_bgn", "resulting_status"}, pgx.CopyFromRows(opVals)); err != nil {
		return fail("property operations", err)
	} else {
		c.Operations = n
	}

	// Rentals on ≈ 30 % of the private properties still held: the current
	// contract (≈ 1 in 8 ending within 30 days, a few terminated), and for
	// a third of them an earlier contract that expired before it began.
	var rentals []entryRow
	rentalNo := map[int]int{}
	rentalNumber := func(d time.Time) string {
		rentalNo[d.Year()]++
		return fmt.Sprintf("Д-%d/%d", rentalNo[d.Year()], d.Year())
	}
	var held []*propPlan
	for _, pp := range props {
		if pp.private && pp.row.status == "общинска собственост" {
			held = append(held, pp)
		}
	}
	rented := g.choose(len(held), shareRented)
	for i, pp := range held {
		if !rented[i] {
			continue
		}
		var end time.Time
		switch r := g.rng.Float64(); {
		case r < 0.125:
			end = today.AddDate(0, 0, g.rng.IntN(31))
		case r < 0.2:
			end = today.AddDate(0, 0, -1-g.rng.IntN(400))
		default:
			end = today.AddDate(0, 1+g.rng.IntN(60), 0)
		}
		years := 1 + g.rng.IntN(10)
		start := end.AddDate(-years, 0, 1)
		if start.Before(pp.act) {
			start = pp.act.AddDate(0, 0, 1+g.rng.IntN(60))
			if !end.After(start) {
				end = start.AddDate(1, 0, 0)
			}
		}
		status := "действащ"
		if end.Before(today) {
			status = "изтекъл"
		} else if g.rng.Float64() < 0.05 {
			status = "прекратен"
		}
		if earlierEnd := start.AddDate(0, 0, -1-g.rng.IntN(90)); g.rng.Float64() < 0.33 && earlierEnd.After(pp.act.AddDate(1, 0, 0)) {
			earlierStart := g.rngDate(pp.act, earlierEnd.AddDate(-1, 0, 0))
			rentals = append(rentals, g.rental(rentalNumber(earlierStart), ids[pp.row.number], pp.row.identifiers,
				earlierStart, earlierEnd, "изтекъл", pp.area))
		}
		rentals = append(rentals, g.rental(rentalNumber(start), ids[pp.row.number], pp.row.identifiers, start, end, status, pp.area))
	}
	if n, err := copyEntries(ctx, tx, rentals); err != nil {
		return fail("rentals", err)
	} else {
		c.Entries["rentals"] = n
	}

	// Building permits, trade permits, categorised sites, taxis, condominiums.
	var other []entryRow
	permitNo := map[int]int{}
	for _, p := range permitParcels {
		other = append(other, g.permit(p, permitNo))
	}
	for i, p := range siteParcels {
		if i%3 == 2 {
			other = append(other, g.site(p, i))
		} else {
			other = append(other, g.trade(p, i))
		}
	}
	nTaxi := int(math.Round(float64(total) * rateTaxi * scale))
	for i := 0; i < nTaxi; i++ {
		other = append(other, g.taxi(i))
	}
	for i, b := range condoBuildings {
		other = append(other, g.condominium(b.id, addressOr(b.address, g.town), b.units, i))
	}
	if _, err := copyEntries(ctx, tx, other); err != nil {
		return fail("permits and other registers", err)
	}
	for _, r := range other {
		c.Entries[r.register]++
	}
	// Entries with an identifier that names no cadastral object (drawn
	// above, and the rentals of such properties).
	if err := tx.QueryRow(ctx, `SELECT count(DISTINCT o.entry_id) FROM entry_objects o
		JOIN register_entries e ON e.id = o.entry_id
		WHERE e.created_by = $1 AND NOT EXISTS (SELECT 1 FROM cadastral_objects c WHERE c.identifier = o.identifier)`,
		registerActor).Scan(&c.Unresolved); err != nil {
		return fail("unresolved", err)
	}
	// The tables' statistics are suddenly all wrong; ANALYZE may run in
	// the transaction (unlike VACUUM), so the first searches are planned well.
	if _, err := tx.Exec(ctx, `ANALYZE persons, register_entries, entry_objects, entry_parties, property_operations, rental_terms`); err != nil {
		return fail("analyze", err)
	}
	return c, nil
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

func addressOr(a, town string) string {
	if a == "" {
		return "гр. " + town
	}
	return "гр. " + town + ", " + a
}

var propertyBases = []string{
	"чл. 2, ал. 1, т. 1 от ЗОС", "чл. 2, ал. 1, т. 2 от ЗОС", "чл. 2, ал. 1, т. 3 от ЗОС",
	"чл. 56 от ЗОС", "§ 42 от ПЗР на ЗИДЗОС", "чл. 25, ал. 1 от ЗСПЗЗ", "чл. 19, ал. 1 от ЗСПЗЗ",
}

var restrictions = []string{
	"сервитут на водопровод", "сервитут на електропровод", "в охранителна зона на паметник на културата",
	"учредено право на ползване", "обременен с договорна ипотека",
}

func parcelUse(landUse string, public bool, rng *rand.Rand) string {
	switch {
	case landUse == "озеленяване":
		return "парк, градина"
	case landUse == "улица":
		return "улица"
	case landUse == "обществено обслужване" && public:
		return []string{"училище", "детска градина", "читалище", "административна сграда", "спортен обект"}[rng.IntN(5)]
	case landUse == "нива" || landUse == "ливада" || landUse == "пасище":
		return "земеделска земя"
	case public:
		return "площад, зелена площ"
	}
	return []string{"незастроен терен", "терен за жилищно строителство", "терен за производство", "терен за търговия"}[rng.IntN(4)]
}

func buildingUse(public bool, rng *rand.Rand) string {
	if public {
		return []string{"училище", "детска градина", "читалище", "административна сграда", "здравна служба"}[rng.IntN(5)]
	}
	return []string{"търговски обект", "склад", "офиси", "гаражи"}[rng.IntN(4)]
}

func unitUse(purpose string) string {
	switch purpose {
	case "жилище":
		return "общинско жилище"
	case "магазин":
		return "търговски обект"
	case "офис":
		return "офис"
	}
	return purpose
}

type opPlan struct {
	kind, doc, description, state string
	date, docDate                 time.Time
	roles                         []string
	share, area, amount           any
}

// planOperations draws the operations of one property after its act:
// zero to two that keep it (right to build, annexation, partition,
// holding), then, for about half, one that ends municipal ownership; at
// least one in all.
func (g *regGen) planOperations(act time.Time, area float64) []opPlan {
	var ops []opPlan
	from := act.AddDate(0, 0, 30)
	if !g.today.After(from) {
		return nil
	}
	keep := g.rng.IntN(3)
	remove := g.rng.Float64() < 0.5
	if keep == 0 && !remove {
		keep = 1
	}
	orders := 0
	order := func(d time.Time) (string, time.Time) {
		orders++
		dd := d.AddDate(0, 0, -g.rng.IntN(45))
		if dd.Before(act) {
			dd = act
		}
		return fmt.Sprintf("РД-%02d-%d/%d", 9+orders, 100+g.rng.IntN(900), dd.Year()), dd
	}
	for i := 0; i < keep; i++ {
		d := g.rngDate(from, g.today)
		doc, dd := order(d)
		op := opPlan{date: d, doc: doc, docDate: dd, state: "owned", share: nil, area: nil, amount: nil}
		switch g.rng.IntN(4) {
		case 0:
			op.kind, op.roles, op.description = "right_to_build", []string{"superficiary"}, "Учредено право на строеж"
			if area > 0 {
				op.area = math.Round(area * (0.2 + 0.5*g.rng.Float64()))
				op.amount = math.Round(area * (10 + 40*g.rng.Float64()))
			}
		case 1:
			op.kind, op.roles, op.description = "annexation", []string{"beneficiary"}, "Право на пристрояване"
			if area > 0 {
				op.area = math.Round(20 + 60*g.rng.Float64())
				op.amount = math.Round(1000 + 9000*g.rng.Float64())
			}
		case 2:
			op.kind, op.roles, op.description = "partition", []string{"co-owner"}, "Делба със съсобственик; общината запазва дял"
			op.share = 0.5
		default:
			op.kind, op.roles, op.description = "holding", []string{"company"}, "Общината е съдружник в дружеството"
			op.amount = math.Round(5000 + 95000*g.rng.Float64())
		}
		ops = append(ops, op)
		from = d
	}
	if remove && g.today.After(from) {
		d := g.rngDate(from, g.today)
		doc, dd := order(d)
		op := opPlan{date: d, doc: doc, docDate: dd, state: "removed"}
		switch r := g.rng.Float64(); {
		case r < 0.5:
			op.kind, op.roles, op.description = "sale", []string{"buyer"}, "Продажба чрез публичен търг"
			op.amount = math.Round(math.Max(area, 50) * (30 + 150*g.rng.Float64()))
		case r < 0.6:
			op.kind, op.roles, op.description = "exchange", []string{"counterparty"}, "Замяна срещу имот на физическо лице"
		case r < 0.72:
			op.kind, op.roles, op.description = "write_off", nil, "Отписан от актовите книги"
		case r < 0.8:
			op.kind, op.roles, op.description = "termination", []string{"co-owner"}, "Прекратена съсобственост чрез изкупуване"
			op.amount = math.Round(math.Max(area, 50) * (20 + 80*g.rng.Float64()))
		case r < 0.88:
			op.kind, op.roles, op.description = "restitution", []string{"heir"}, "Възстановена собственост по ЗВСОНИ"
		default:
			op.kind, op.roles, op.description, op.state = "capital_contribution", []string{"company"}, "Апорт в капитала на общинско дружество", "contributed"
			op.amount = math.Round(math.Max(area, 50) * (40 + 100*g.rng.Float64()))
		}
		ops = append(ops, op)
	}
	// The operations by date: the stamp trigger checks each against the
	// act, and the last one sets the state.
	for i := 1; i < len(ops); i++ {
		if ops[i].date.Before(ops[i-1].date) {
			ops[i].date = ops[i-1].date
		}
	}
	return ops
}

func (g *regGen) rental(number string, property int64, ids []string, start, end time.Time, status string, area float64) entryRow {
	rent := math.Min(20000, math.Round(math.Max(area, 20)*(1+4*g.rng.Float64())))
	return entryRow{register: "rentals", number: number, date: start, status: status,
		identifiers: append([]string(nil), ids...),
		parties:     []map[string]any{party(g.person(0.4), "tenant")},
		data: map[string]any{"property": property, "start_date": ymd(start), "end_date": ymd(end), "rent_bgn": rent,
			"purpose": []string{"търговия", "офис", "склад", "земеделие", "жилище", "заведение"}[g.rng.IntN(6)]}}
}

var permitWorks = map[string][]string{
	"I":   {"Многофункционална сграда с подземен паркинг", "Производствено предприятие"},
	"II":  {"Жилищна сграда с 12 етажа", "Търговски център"},
	"III": {"Многофамилна жилищна сграда", "Хотел"},
	"IV":  {"Жилищна сграда с магазини на партера", "Административна сграда"},
	"V":   {"Еднофамилна жилищна сграда", "Преустройство на жилище в офис", "Гаражи"},
	"VI":  {"Ограда", "Гараж", "Плътна ограда и навес", "Стопанска постройка"},
}

func (g *regGen) permit(p demoParcel, no map[int]int) entryRow {
	date := g.rngDate(g.today.AddDate(-10, 0, 0), g.today)
	no[date.Year()]++
	cat := pickString(g.rng, []float64{0.02, 0.07, 0.17, 0.42, 0.75}, "I", "II", "III", "IV", "V", "VI")
	valid := date.AddDate(3, 0, 0)
	var status string
	age := g.today.Sub(date).Hours() / 24 / 365
	switch r := g.rng.Float64(); {
	case r < 0.03:
		status = "отменено"
	case age < 0.05:
		status = "издадено"
	case age > 3 && r < 0.7:
		status = "завършено"
	case age > 3:
		status = "изтекло"
	default:
		status = "влязло в сила"
	}
	parcelNo := p.id[strings.LastIndex(p.id, ".")+1:]
	inv := []map[string]any{party(g.person(0.35), "investors")}
	if g.rng.Float64() < 0.2 {
		if other := g.person(0.1); other != inv[0]["person_id"] {
			inv = append(inv, party(other, "investors"))
		}
	}
	works := permitWorks[cat]
	return entryRow{register: "building_permits", number: fmt.Sprintf("РС-%d/%d", no[date.Year()], date.Year()),
		date: date, status: status, identifiers: g.ids(p.id), parties: inv,
		data: map[string]any{
			"issued_by":   "Главен архитект на Община " + g.town,
			"upi":         "УПИ " + roman(1+g.rng.IntN(20)) + "-" + parcelNo,
			"quarter":     strconv.Itoa(1 + int(p.h3%200)),
			"category":    cat,
			"description": works[g.rng.IntN(len(works))],
			"design_ref":  fmt.Sprintf("Одобрен на %s", ymd(date.AddDate(0, 0, -10-g.rng.IntN(60)))),
			"phase":       []string{"технически проект", "работен проект", "идеен проект"}[pickIndex(g.rng, 0.4, 0.95)],
			"valid_until": ymd(valid),
		}}
}

func pickIndex(rng *rand.Rand, cum ...float64) int {
	u := rng.Float64()
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum)
}

func pickString(rng *rand.Rand, cum []float64, vals ...string) string {
	return vals[pickIndex(rng, cum...)]
}

func (g *regGen) trade(p demoParcel, i int) entryRow {
	date := g.rngDate(g.today.AddDate(-8, 0, 0), g.today)
	kind := pickString(g.rng, []float64{0.6, 0.9}, "уведомление", "разрешение", "временно разрешение")
	status := "действащо"
	if g.rng.Float64() < 0.15 {
		status = "прекратено"
	}
	data := map[string]any{
		"kind":          kind,
		"site_name":     []string{"Магазин", "Кафе", "Фурна", "Аптека", "Павилион"}[g.rng.IntN(5)] + " „" + shopNames[g.rng.IntN(len(shopNames))] + "“",
		"address":       addressOr(p.address, g.town),
		"activity":      []string{"търговия с хранителни стоки", "заведение за бързо обслужване", "търговия с промишлени стоки", "аптека"}[g.rng.IntN(4)],
		"working_hours": []string{"08:00–20:00", "07:00–22:00", "09:00–18:00"}[g.rng.IntN(3)],
	}
	if kind == "временно разрешение" {
		data["valid_until"] = ymd(date.AddDate(0, 6, 0))
		if date.AddDate(0, 6, 0).Before(g.today) {
			status = "изтекло"
		}
	}
	return entryRow{register: "trade_permits", number: fmt.Sprintf("ТО-%d", i+1), date: date, status: status,
		identifiers: g.ids(p.id), parties: []map[string]any{party(g.person(0.8), "trader")}, data: data}
}

func (g *regGen) site(p demoParcel, i int) entryRow {
	date := g.rngDate(g.today.AddDate(-10, 0, 0), g.today)
	kind := []string{"място за настаняване", "заведение за хранене и развлечения"}[g.rng.IntN(2)]
	status := "категоризиран"
	if g.rng.Float64() < 0.1 {
		status = "прекратена категория"
	}
	return entryRow{register: "categorised_sites", number: fmt.Sprintf("КО-%d", i+1), date: date, status: status,
		identifiers: g.ids(p.id), parties: []map[string]any{party(g.person(0.85), "holder")},
		data: map[string]any{
			"site_name": []string{"Хотел", "Къща за гости", "Ресторант", "Механа"}[g.rng.IntN(4)] + " „" + shopNames[g.rng.IntN(len(shopNames))] + "“",
			"site_kind": kind,
			"category":  []string{"една звезда", "две звезди", "три звезди", "четири звезди"}[g.rng.IntN(4)],
			"capacity":  10 + g.rng.IntN(120),
			"address":   addressOr(p.address, g.town),
		}}
}

func (g *regGen) taxi(i int) entryRow {
	date := g.rngDate(g.today.AddDate(-3, 0, 0), g.today)
	valid := date.AddDate(1, 0, 0)
	status := "действащо"
	if valid.Before(g.today) {
		status = "изтекло"
	}
	letters := "АВЕКМНОРСТУХ"
	lr := []rune(letters)
	reg := fmt.Sprintf("ОВ%04d%c%c", 1000+g.rng.IntN(9000), lr[g.rng.IntN(len(lr))], lr[g.rng.IntN(len(lr))])
	return entryRow{register: "taxi_permits", number: fmt.Sprintf("ТАКСИ-%d", i+1), date: date, status: status,
		parties: []map[string]any{party(g.person(0.6), "carrier")},
		data: map[string]any{
			"vehicle_reg":  reg,
			"vehicle_make": []string{"Skoda Octavia", "Dacia Logan", "Toyota Corolla", "VW Passat"}[g.rng.IntN(4)],
			"valid_until":  ymd(valid),
		}}
}

func (g *regGen) condominium(building, address string, units int64, i int) entryRow {
	date := g.rngDate(g.today.AddDate(-15, 0, 0), g.today)
	ps := []map[string]any{party(g.person(0), "manager")}
	if g.rng.Float64() < 0.5 {
		if c := g.person(0); c != ps[0]["person_id"] {
			ps = append(ps, party(c, "controller"))
		}
	}
	return entryRow{register: "condominiums", number: fmt.Sprintf("ЕС-%d", i+1), date: date, status: "регистрирана",
		identifiers: g.ids(building), parties: ps,
		data: map[string]any{
			"address":     address,
			"form":        []string{"общо събрание", "сдружение"}[pickIndex(g.rng, 0.85)],
			"units_count": units,
		}}
}

var shopNames = []string{"Балкан", "Троянска роза", "Осъм", "Бели Осъм", "Зора", "Явор", "Здравец", "Еделвайс",
	"Стара планина", "Орфей", "Хемус", "Чайка", "Детелина", "Победа"}

// Names for persons: common Bulgarian first names and surnames (the
// surname given in its male form; women get -а).
var (
	maleNames    = []string{"Иван", "Георги", "Димитър", "Петър", "Николай", "Христо", "Стоян", "Тодор", "Васил", "Атанас", "Йордан", "Стефан", "Кирил", "Любомир", "Симеон", "Александър", "Борислав", "Красимир", "Пламен", "Цветан"}
	femaleNames  = []string{"Мария", "Елена", "Иванка", "Йорданка", "Пенка", "Цветана", "Надежда", "Росица", "Десислава", "Гергана", "Милена", "Стефка", "Даниела", "Виктория", "Юлия", "Анна-Мария", "Радка", "Теодора", "Николина", "Петя"}
	patronymics  = []string{"Иванов", "Георгиев", "Димитров", "Петров", "Николаев", "Христов", "Стоянов", "Тодоров", "Василев", "Атанасов", "Йорданов", "Стефанов", "Кирилов", "Любомиров", "Симеонов", "Александров", "Цветанов"}
	surnames     = []string{"Иванов", "Георгиев", "Димитров", "Петров", "Николов", "Христов", "Стоянов", "Тодоров", "Илиев", "Василев", "Атанасов", "Петков", "Ангелов", "Колев", "Йорданов", "Маринов", "Стефанов", "Попов", "Михайлов", "Кръстев", "Щерев", "Цонев", "Бочев", "Троянски"}
	companyWords = []string{"Балкан", "Осъм", "Троян", "Хемус", "Стройинвест", "Агро", "Мебел", "Керамика", "Строител", "Транс", "Инженеринг", "Евро", "Дървообработване", "Плод", "Еко", "Тех"}
	companyForms = []string{"ЕООД", "ООД", "АД", "ЕАД"}
	foreignNames = []string{"John Smith", "Анна Шмидт", "Олег Петренко", "Ahmet Yilmaz", "Maria Rossi"}
)

// loadPersons inserts the demo's persons and companies (those already there
// from an earlier load are kept: ЕГН and ЕИК are unique) and keeps their ids.
func (g *regGen) loadPersons(ctx context.Context, tx pgx.Tx, nNat, nLeg int) (int64, error) {
	kinds := make([]string, 0, nNat+nLeg)
	names := make([]string, 0, nNat+nLeg)
	egns := make([]*string, 0, nNat+nLeg)
	lnchs := make([]*string, 0, nNat+nLeg)
	eiks := make([]*string, 0, nNat+nLeg)
	addrs := make([]string, 0, nNat+nLeg)
	seen := map[string]bool{}
	for len(kinds) < nNat {
		female := g.rng.IntN(2) == 1
		var name string
		patronymic := patronymics[g.rng.IntN(len(patronymics))]
		surname := surnames[g.rng.IntN(len(surnames))]
		if female {
			name = femaleNames[g.rng.IntN(len(femaleNames))] + " " + patronymic + "а " + surname + "а"
			if strings.HasSuffix(surname, "ски") {
				name = strings.TrimSuffix(name, "скиа") + "ска"
			}
		} else {
			name = maleNames[g.rng.IntN(len(maleNames))] + " " + patronymic + " " + surname
		}
		if g.rng.Float64() < 0.02 {
			// A foreigner living in the town: ЛНЧ instead of ЕГН.
			lnch, err := persons.CompleteLNCH(fmt.Sprintf("%09d", g.rng.IntN(1_000_000_000)))
			if err != nil || seen[lnch] {
				continue
			}
			seen[lnch] = true
			kinds, names = append(kinds, "natural"), append(names, foreignNames[g.rng.IntN(len(foreignNames))])
			egns, lnchs, eiks = append(egns, nil), append(lnchs, &lnch), append(eiks, nil)
		} else {
			egn, err := g.egn(female)
			if err != nil || seen[egn] {
				continue
			}
			seen[egn] = true
			kinds, names = append(kinds, "natural"), append(names, name)
			egns, lnchs, eiks = append(egns, &egn), append(lnchs, nil), append(eiks, nil)
		}
		addrs = append(addrs, fmt.Sprintf("гр. %s, ул. %s № %d", g.town, streetNames[g.rng.IntN(40)], 1+g.rng.IntN(80)))
	}
	for len(kinds) < nNat+nLeg {
		eik, err := persons.CompleteEIK(fmt.Sprintf("%d%07d", 1+g.rng.IntN(2), g.rng.IntN(10_000_000)))
		if err != nil || seen[eik] {
			continue
		}
		seen[eik] = true
		w := companyWords[g.rng.IntN(len(companyWords))]
		var name string
		switch r := g.rng.Float64(); {
		case r < 0.15:
			name = "ЕТ „" + maleNames[g.rng.IntN(len(maleNames))] + " " + surnames[g.rng.IntN(len(surnames))] + "“"
		case r < 0.9:
			name = "„" + w + " " + companyWords[g.rng.IntN(len(companyWords))] + "“ " + companyForms[g.rng.IntN(len(companyForms))]
		default:
			name = []string{"ОУ „Христо Ботев“", "ДГ „Слънце“", "НЧ „Наука-1871“", "СУ „Васил Левски“", "Общинско предприятие „Благоустройство“"}[g.rng.IntN(5)] + " " + g.town
		}
		kinds, names = append(kinds, "legal"), append(names, name)
		egns, lnchs, eiks = append(egns, nil), append(lnchs, nil), append(eiks, &eik)
		addrs = append(addrs, fmt.Sprintf("гр. %s, ул. %s № %d", g.town, streetNames[g.rng.IntN(40)], 1+g.rng.IntN(80)))
	}
	_, err := tx.Exec(ctx, `INSERT INTO persons (kind, name, egn, lnch, eik, address)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
		ON CONFLICT DO NOTHING`, kinds, names, egns, lnchs, eiks, addrs)
	if err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT id, kind = 'legal' FROM persons
		WHERE egn = ANY ($1) OR lnch = ANY ($2) OR eik = ANY ($3) ORDER BY id`, egns, lnchs, eiks)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var p demoPerson
		if err := rows.Scan(&p.id, &p.legal); err != nil {
			return 0, err
		}
		if p.legal {
			g.legals = append(g.legals, p)
		} else {
			g.naturals = append(g.naturals, p)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return int64(len(g.legals) + len(g.naturals)), nil
}

// egn draws a valid ЕГН of someone born 1935–2005: the birth date, a
// region-and-order number whose last digit is even for men and odd for
// women, and the check digit.
func (g *regGen) egn(female bool) (string, error) {
	born := time.Date(1935, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.rng.IntN(70*365))
	m := int(born.Month())
	if born.Year() >= 2000 {
		m += 40
	}
	seq := g.rng.IntN(500) * 2
	if female {
		seq++
	}
	return persons.CompleteEGN(fmt.Sprintf("%02d%02d%02d%03d", born.Year()%100, m, born.Day(), seq))
}

// String formats the counts for the command line.
func (c RegisterCounts) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "registers: %d persons, %d operations, %d unresolved entries\n", c.Persons, c.Operations, c.Unresolved)
	for _, r := range []string{"municipal_property", "rentals", "building_permits", "trade_permits", "taxi_permits", "condominiums", "categorised_sites"} {
		fmt.Fprintf(&b, "  %-20s %10d\n", r, c.Entries[r])
	}
	return b.String()
}

// demoToday is the day of the load in Bulgaria, the anchor of the demo's dates.
func demoToday() time.Time {
	loc, err := time.LoadLocation("Europe/Sofia")
	if err != nil {
		loc = time.FixedZone("EET", 2*3600)
	}
	y, m, d := time.Now().In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

package demo

import (
	"math"
	"math/rand/v2"
)

// A quarter is a rectangle between four streets. An ordinary quarter is cut
// by an east–west middle line into two strips of lots, the north strip
// fronting the street to the north and the south strip the street to the
// south, which is how most Bulgarian town quarters are parcelled. Lot
// dividers run from the street to the middle line, a little askew.
//
// Exact tiling: neighbours are built from the very same numbers (a divider's
// end is one float64 used by both lots), and a lot's ring includes every
// divider end of the other strip that lies on its side of the middle line,
// so lots share whole edges and never meet in a T. After the rotation and
// the rounding to millimetres shared vertices are still identical, so lots
// neither overlap nor leave gaps, and their areas add up to the quarter's.

type stripKind uint8

const (
	stripTop   stripKind = iota // fronting the street to the north
	stripBot                    // fronting the street to the south
	stripWhole                  // the quarter is one lot
)

// lot is a land parcel with what stands on it.
type lot struct {
	strip     stripKind
	i         int   // index within its strip, west to east
	num       int32 // parcel number within the cadastral area
	area      float64
	house     int32
	street    *line
	ownership string
	landUse   string
	nb        int
	b         [2]bldg
}

// bldg is a building: a rectangle, or an L where a corner is cut off.
type bldg struct {
	pts                 [6]pt
	n                   int
	x0, y0, x1, y1      float64 // the whole rectangle, cut into units
	floors              int
	purpose             string
	ground, upper       int // units on the ground floor, on each floor above
	groundUse, upperUse string
	area                float64
}

func (b *bldg) ring() []pt { return b.pts[:b.n] }

// units is the number of independent units (самостоятелни обекти).
func (b *bldg) units() int { return b.ground + (b.floors-1)*b.upper }

// plot is a regulated plot (УПИ): one lot, or consecutive lots of a strip.
type plot struct {
	strip stripKind
	i, j  int // lots [i, j) of the strip
}

// publicUse is what a public quarter holds.
type publicUse struct {
	plot, building, owner string
	floorsMin, floorsMax  int
}

var publicUses = [...]publicUse{
	{"за училище", "друга", "общинска публична", 2, 4},
	{"за детска градина", "друга", "общинска публична", 1, 2},
	{"за здравно заведение", "друга", "държавна публична", 2, 5},
	{"за читалище", "друга", "общинска публична", 2, 3},
	{"за църква", "друга", "религиозна", 1, 1},
	{"за административна сграда", "административна сграда", "общинска публична", 3, 5},
	{"за спортна зала", "друга", "общинска публична", 1, 2},
}

// quarterGen regenerates quarters one at a time into reused buffers.
type quarterGen struct {
	t   *town
	pcg rand.PCG
	r   *rand.Rand

	q                  *quarterPlan
	zone               zone
	kind               uint8
	x0, y0, x1, y1, ym float64
	top, topB          []float64 // north strip: divider x at the street and at the middle line
	bot, botB          []float64 // south strip
	mid                []float64 // every divider end on the middle line, sorted, unique
	weights            []float64

	front  float64 // building line: setback from the street, m
	mode   string  // building mode of the development plan
	public int     // index into publicUses

	lots  []lot
	plots []plot
	ring  []pt
}

func newQuarterGen(t *town) *quarterGen {
	g := &quarterGen{t: t}
	g.r = rand.New(&g.pcg)
	return g
}

func (g *quarterGen) cellKey() uint64 {
	return uint64(g.q.col) + uint64(g.q.row)*uint64(g.t.nc)
}

// single reports whether the quarter is one lot.
func (g *quarterGen) single() bool { return len(g.bot) == 0 }

func (g *quarterGen) nTop() int {
	if g.single() {
		return 1
	}
	return len(g.top) - 1
}

func (g *quarterGen) nBot() int {
	if g.single() {
		return 0
	}
	return len(g.bot) - 1
}

func (g *quarterGen) lotCount() int { return g.nTop() + g.nBot() }

// layout sets the quarter's kind and lot dividers: the part of a quarter the
// plan needs to count parcels, drawn from its own stream.
func (g *quarterGen) layout(q *quarterPlan) {
	t := g.t
	g.q = q
	g.zone = t.zoneOf(q)
	g.x0, g.y0, g.x1, g.y1 = t.bounds(int(q.col), int(q.row))
	g.pcg.Seed(t.seed, key(streamLots, g.cellKey()))
	r := g.r

	u := r.Float64()
	g.kind = kindLots
	switch {
	case g.zone == zoneOz:
		g.kind = kindPark
	case g.zone == zonePp:
		if u < 0.02 {
			g.kind = kindPark
		}
	case u < 0.03:
		g.kind = kindPark
	case u < 0.07:
		g.kind = kindPublic
	}
	rule := zoneRules[g.zone]
	meanTop := rule.lotMin + (rule.lotMax-rule.lotMin)*r.Float64()
	meanBot := rule.lotMin + (rule.lotMax-rule.lotMin)*r.Float64()
	g.ym = g.y0 + (g.y1-g.y0)*(0.42+0.16*r.Float64())

	g.top, g.topB, g.bot, g.botB = g.top[:0], g.topB[:0], g.bot[:0], g.botB[:0]
	if g.kind != kindLots || q.cap == 1 {
		g.top = append(g.top, g.x0, g.x1)
		g.topB = append(g.topB, g.x0, g.x1)
		g.mid = append(g.mid[:0], g.x0, g.x1)
		return
	}
	w := g.x1 - g.x0
	nT, nB := max(1, int(w/meanTop)), max(1, int(w/meanBot))
	if int(q.cap) < nT+nB {
		// The last quarter of the town: exactly the parcels still owed.
		nT, nB = (int(q.cap)+1)/2, int(q.cap)/2
	}
	g.top, g.topB = g.strip(g.top, g.topB, nT)
	g.bot, g.botB = g.strip(g.bot, g.botB, nB)

	// Divider ends of the two strips closer than half a metre become one
	// point, so no sliver edges appear on the middle line.
	for k := 1; k < len(g.botB)-1; k++ {
		for _, a := range g.topB[1 : len(g.topB)-1] {
			if math.Abs(g.botB[k]-a) < 0.5 {
				g.botB[k] = a
			}
		}
	}
	g.mid = g.mid[:0]
	i, j := 0, 0
	for i < len(g.topB) || j < len(g.botB) {
		var v float64
		switch {
		case j == len(g.botB) || (i < len(g.topB) && g.topB[i] <= g.botB[j]):
			v = g.topB[i]
			i++
		default:
			v = g.botB[j]
			j++
		}
		if len(g.mid) == 0 || g.mid[len(g.mid)-1] != v {
			g.mid = append(g.mid, v)
		}
	}
}

// strip cuts the quarter's width into n lots of random, similar widths and
// skews each divider by up to 2 m.
func (g *quarterGen) strip(front, back []float64, n int) ([]float64, []float64) {
	r := g.r
	g.weights = g.weights[:0]
	total := 0.0
	for range n {
		v := 0.8 + 0.4*r.Float64()
		g.weights = append(g.weights, v)
		total += v
	}
	w := g.x1 - g.x0
	front = append(front, g.x0)
	acc := 0.0
	for k := range n - 1 {
		acc += g.weights[k]
		front = append(front, g.x0+w*acc/total)
	}
	front = append(front, g.x1)
	back = append(back, g.x0)
	for k := 1; k < n; k++ {
		narrow := min(front[k]-front[k-1], front[k+1]-front[k])
		back = append(back, front[k]+min(2, 0.15*narrow)*(2*r.Float64()-1))
	}
	back = append(back, g.x1)
	return front, back
}

// lotRing returns the ring of lots [i, j) of strip s, counter-clockwise.
func (g *quarterGen) lotRing(s stripKind, i, j int) []pt {
	p := g.ring[:0]
	switch s {
	case stripWhole:
		p = rect(p, g.x0, g.y0, g.x1, g.y1)
	case stripTop:
		p = append(p, pt{g.top[i], g.y1}, pt{g.topB[i], g.ym})
		for _, m := range g.mid {
			if m > g.topB[i] && m < g.topB[j] {
				p = append(p, pt{m, g.ym})
			}
		}
		p = append(p, pt{g.topB[j], g.ym})
		for k := j; k > i; k-- {
			p = append(p, pt{g.top[k], g.y1})
		}
	case stripBot:
		for k := i; k <= j; k++ {
			p = append(p, pt{g.bot[k], g.y0})
		}
		p = append(p, pt{g.botB[j], g.ym})
		for k := len(g.mid) - 1; k >= 0; k-- {
			if m := g.mid[k]; m < g.botB[j] && m > g.botB[i] {
				p = append(p, pt{m, g.ym})
			}
		}
		p = append(p, pt{g.botB[i], g.ym})
	}
	g.ring = p
	return p
}

// quarterRing returns the quarter's ring with every lot corner on it.
func (g *quarterGen) quarterRing() []pt {
	p := g.ring[:0]
	if g.single() {
		p = rect(p, g.x0, g.y0, g.x1, g.y1)
	} else {
		p = append(p, pt{g.x0, g.y0})
		for _, x := range g.bot[1 : len(g.bot)-1] {
			p = append(p, pt{x, g.y0})
		}
		p = append(p, pt{g.x1, g.y0}, pt{g.x1, g.ym}, pt{g.x1, g.y1})
		for k := len(g.top) - 2; k >= 1; k-- {
			p = append(p, pt{g.top[k], g.y1})
		}
		p = append(p, pt{g.x0, g.y1}, pt{g.x0, g.ym})
	}
	g.ring = p
	return p
}

// details draws the quarter's building line and building mode and, with
// lots, its parcels' owners, uses and buildings.
func (g *quarterGen) details(lots bool) {
	t, q := g.t, g.q
	g.pcg.Seed(t.seed, key(streamDetail, g.cellKey()))
	r := g.r
	u := r.Float64()
	g.public = r.IntN(len(publicUses))
	switch g.zone {
	case zoneC:
		g.front, g.mode = 1, "свързано"
	case zoneZs:
		g.front, g.mode = 5+3*u, "свободно"
	case zonePp:
		g.front, g.mode = 6+6*u, "свободно"
	case zoneOz:
		g.front, g.mode = 5, "свободно"
	default:
		g.front, g.mode = 3+3*u, "свободно"
		if u < 0.3 {
			g.mode = "свързано"
		}
	}
	if !lots {
		return
	}
	g.lots = g.lots[:0]
	add := func(s stripKind, i int, street *line, house int32) {
		l := lot{strip: s, i: i, num: q.first + int32(len(g.lots)), street: street, house: house}
		l.area = ringArea(g.lotRing(s, i, i+1))
		g.owner(&l)
		g.build(&l)
		g.lots = append(g.lots, l)
	}
	north, south := &t.hl[q.row+1], &t.hl[q.row]
	if g.single() {
		add(stripWhole, 0, north, q.houseTop)
		return
	}
	for i := range g.nTop() {
		add(stripTop, i, north, q.houseTop+2*int32(i))
	}
	for i := range g.nBot() {
		add(stripBot, i, south, q.houseBot+2*int32(i))
	}
}

// owner sets a lot's ownership and permanent land use.
func (g *quarterGen) owner(l *lot) {
	u, v := g.r.Float64(), g.r.Float64()
	switch {
	case g.kind == kindPark:
		l.ownership, l.landUse = "общинска публична", "озеленяване"
	case g.kind == kindPublic:
		l.ownership, l.landUse = publicUses[g.public].owner, "обществено обслужване"
	case g.zone == zonePp:
		l.landUse = "производствена"
		l.ownership = pick(u, []float64{0.82, 0.9, 0.96}, "частна", "общинска частна", "държавна частна", "смесена")
	default:
		l.landUse = "жилищна"
		if g.zone == zoneC && v < 0.3 {
			l.landUse = "обществено обслужване"
		}
		l.ownership = pick(u, []float64{0.88, 0.93, 0.96, 0.98, 0.995},
			"частна", "общинска частна", "смесена", "държавна частна", "общинска публична", "религиозна")
	}
}

// pick returns the value whose cumulative share u falls in.
func pick(u float64, cum []float64, values ...string) string {
	for i, c := range cum {
		if u < c {
			return values[i]
		}
	}
	return values[len(values)-1]
}

func between(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

func intBetween(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

// build puts up to two buildings on a lot, each at least a metre inside
// every boundary of it: a main building behind the building line and, on
// some lots, a garage, barn or store at the back.
func (g *quarterGen) build(l *lot) {
	r := g.r
	var xl, xr, yF, dir, depth float64
	switch l.strip {
	case stripTop:
		xl, xr = max(g.top[l.i], g.topB[l.i]), min(g.top[l.i+1], g.topB[l.i+1])
		yF, dir, depth = g.y1, -1, g.y1-g.ym
	case stripBot:
		xl, xr = max(g.bot[l.i], g.botB[l.i]), min(g.bot[l.i+1], g.botB[l.i+1])
		yF, dir, depth = g.y0, 1, g.ym-g.y0
	default:
		xl, xr = g.x0, g.x1
		yF, dir, depth = g.y1, -1, g.y1-g.y0
	}
	avail := xr - xl

	type spec struct {
		prob, sideMin, sideMax, wMin, wMax, dMin, dMax, extra float64
	}
	var s spec
	switch {
	case g.kind == kindPark:
		return
	case g.kind == kindPublic:
		s = spec{1, 6, 15, 30, 60, 12, 20, 8}
	case g.zone == zoneZs:
		s = spec{0.95, 3, 6, 24, 40, 11, 14, 2}
	case g.zone == zoneC:
		s = spec{0.93, 1, 1.5, 0, 0, 10, 15, 0}
	case g.zone == zonePp:
		s = spec{0.85, 4, 8, 20, 60, 15, 35, 5}
	default:
		s = spec{0.86, 1, 3.5, 8, 14, 8, 12, 3}
	}
	if r.Float64() >= s.prob {
		return
	}
	left, right := between(r, s.sideMin, s.sideMax), between(r, s.sideMin, s.sideMax)
	w := avail - left - right
	if s.wMax > 0 {
		if limit := between(r, s.wMin, s.wMax); w > limit {
			left += (w - limit) * r.Float64()
			w = limit
		}
	}
	t0 := g.front + s.extra*r.Float64()
	d := between(r, s.dMin, s.dMax)
	if t0+d+2 > depth {
		d = depth - t0 - 2
	}
	if w < 6 || d < 6 {
		return
	}
	b := &l.b[0]
	*b = bldg{}
	g.units(b)
	// An L-shaped house only where units take the whole footprint.
	notch := g.zone == zoneZm && g.kind == kindLots && b.ground <= 1 && b.upper <= 1 && r.Float64() < 0.25
	g.footprint(b, xl+left, xl+left+w, t0, t0+d, yF, dir, notch, r.Float64() < 0.5)
	l.nb = 1

	// An outbuilding behind it.
	var p, w2, d2 float64
	var purpose string
	switch {
	case g.kind != kindLots:
	case g.zone == zoneZm:
		p, w2, d2 = 0.3, between(r, 3.5, 6), between(r, 5, 7)
		purpose = "гараж"
		if r.Float64() < 0.4 {
			purpose = "селскостопанска сграда"
		}
	case g.zone == zonePp:
		p, w2, d2, purpose = 0.4, between(r, 10, 25), between(r, 8, 18), "промишлена сграда"
	case g.zone == zoneC:
		p, w2, d2, purpose = 0.08, between(r, 3.5, 5.5), between(r, 5, 6.5), "гараж"
	}
	if r.Float64() >= p {
		return
	}
	back := depth - 1.5
	if back-d2 < t0+d+1 || w2+2 > avail {
		return
	}
	x0 := xl + 1
	if r.Float64() < 0.5 {
		x0 = xr - 1 - w2
	}
	b2 := &l.b[1]
	*b2 = bldg{floors: 1, purpose: purpose, ground: 1, groundUse: "гараж"}
	if purpose == "промишлена сграда" {
		b2.groundUse = "склад"
		b2.floors = intBetween(r, 1, 2)
	}
	g.footprint(b2, x0, x0+w2, back-d2, back, yF, dir, false, false)
	l.nb = 2
}

// footprint sets b's ring from a rectangle given across the lot (x) and by
// distance from the street (t), optionally with a back corner cut off.
func (g *quarterGen) footprint(b *bldg, x0, x1, t0, t1, yF, dir float64, notch, notchLeft bool) {
	ya, yb := yF+dir*t0, yF+dir*t1
	b.x0, b.x1, b.y0, b.y1 = x0, x1, min(ya, yb), max(ya, yb)
	y := func(t float64) float64 { return yF + dir*t }
	if !notch {
		copy(b.pts[:], rect(b.pts[:0], b.x0, b.y0, b.x1, b.y1))
		b.n = 4
	} else {
		nw, nd := (x1-x0)*between(g.r, 0.35, 0.5), (t1-t0)*between(g.r, 0.35, 0.5)
		if notchLeft {
			b.pts = [6]pt{{x0, y(t0)}, {x1, y(t0)}, {x1, y(t1)}, {x0 + nw, y(t1)}, {x0 + nw, y(t1 - nd)}, {x0, y(t1 - nd)}}
		} else {
			b.pts = [6]pt{{x0, y(t0)}, {x1, y(t0)}, {x1, y(t1 - nd)}, {x1 - nw, y(t1 - nd)}, {x1 - nw, y(t1)}, {x0, y(t1)}}
		}
		b.n = 6
	}
	a := ringArea(b.ring())
	if a < 0 {
		for i, j := 0, b.n-1; i < j; i, j = i+1, j-1 {
			b.pts[i], b.pts[j] = b.pts[j], b.pts[i]
		}
		a = -a
	}
	b.area = a
}

// units sets a main building's floors, purpose and units by zone.
func (g *quarterGen) units(b *bldg) {
	r := g.r
	u := r.Float64()
	switch {
	case g.kind == kindPublic:
		pu := publicUses[g.public]
		b.floors, b.purpose = intBetween(r, pu.floorsMin, pu.floorsMax), pu.building
		b.ground, b.groundUse = 1, "друг"
	case g.zone == zoneZs:
		b.floors, b.purpose = intBetween(r, 4, 7), "жилищна сграда"
		b.upper, b.upperUse = intBetween(r, 2, 3), "жилище"
		b.ground, b.groundUse = b.upper, "жилище"
		if u < 0.25 {
			b.ground, b.groundUse = intBetween(r, 1, 2), "магазин"
		}
	case g.zone == zoneC:
		b.floors = intBetween(r, 3, 6)
		switch {
		case u < 0.7:
			b.purpose = "сграда със смесено предназначение"
			b.ground, b.groundUse = intBetween(r, 1, 3), []string{"магазин", "офис", "ателие"}[r.IntN(3)]
			b.upper, b.upperUse = intBetween(r, 2, 3), "жилище"
		case u < 0.85:
			b.purpose = "търговска сграда"
			b.ground, b.groundUse = intBetween(r, 1, 2), "магазин"
			b.upper, b.upperUse = 1, "офис"
		default:
			b.purpose = "административна сграда"
			b.ground, b.groundUse = 1, "офис"
			b.upper, b.upperUse = intBetween(r, 1, 2), "офис"
		}
	case g.zone == zonePp:
		b.floors, b.purpose = intBetween(r, 1, 2), "промишлена сграда"
		b.ground, b.groundUse = intBetween(r, 1, 3), "склад"
		if b.floors > 1 {
			b.upper, b.upperUse = 1, "офис"
		}
	default:
		b.floors = pickInt(u, []float64{0.25, 0.8}, 1, 2, 3)
		b.purpose, b.ground, b.groundUse = "жилищна сграда", 1, "жилище"
		v := r.Float64()
		switch {
		case v < 0.05:
			b.purpose, b.groundUse = "сграда със смесено предназначение", "магазин"
			b.upper, b.upperUse = 1, "жилище"
		case v < 0.22 && b.floors > 1:
			// A house with a flat on each floor, common in Bulgarian towns.
			b.upper, b.upperUse = 1, "жилище"
		}
	}
}

func pickInt(u float64, cum []float64, values ...int) int {
	for i, c := range cum {
		if u < c {
			return values[i]
		}
	}
	return values[len(values)-1]
}

// makePlots groups the lots into УПИ, numbered around the quarter (north
// strip west to east, then south strip east to west); a few take two lots.
func (g *quarterGen) makePlots() {
	g.pcg.Seed(g.t.seed, key(streamPlots, g.cellKey()))
	g.plots = g.plots[:0]
	if g.single() {
		g.plots = append(g.plots, plot{stripWhole, 0, 1})
		return
	}
	p := 0.06
	if g.zone == zonePp {
		p = 0.1
	}
	nT, nB := g.nTop(), g.nBot()
	for i := 0; i < nT; {
		n := 1
		if i+1 < nT && g.r.Float64() < p {
			n = 2
		}
		g.plots = append(g.plots, plot{stripTop, i, i + n})
		i += n
	}
	for j := nB; j > 0; {
		n := 1
		if j-1 > 0 && g.r.Float64() < p {
			n = 2
		}
		g.plots = append(g.plots, plot{stripBot, j - n, j})
		j -= n
	}
}

// lotIndex is the position of lot i of strip s in the quarter's lot order.
func (g *quarterGen) lotIndex(s stripKind, i int) int {
	if s == stripBot {
		return g.nTop() + i
	}
	return i
}

// plotPurpose is the designation (отреждане) of the quarter's plots.
func (g *quarterGen) plotPurpose() string {
	switch {
	case g.kind == kindPark:
		return "за озеленяване"
	case g.kind == kindPublic:
		return publicUses[g.public].plot
	}
	switch g.zone {
	case zoneZs:
		return "за многофамилно жилищно строителство"
	case zoneC:
		return "за смесено предназначение"
	case zonePp:
		return "за производствени и складови дейности"
	}
	return "за жилищно строителство"
}

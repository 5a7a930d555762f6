package demo

import (
	"math"
	"math/rand/v2"
)

// seg is a street segment: a grid line between two crossings.
type seg struct {
	vertical       bool // north–south
	line, idx      int  // the grid line, and the row (or column) it runs along
	x0, y0, x1, y1 float64
	q              *quarterPlan // a quarter beside it
}

// segment returns the segment of line k along row (vertical) or column i;
// ok is false when no quarter lies beside it, so the street is not built.
func (t *town) segment(vertical bool, k, i int) (s seg, ok bool) {
	s = seg{vertical: vertical, line: k, idx: i}
	if vertical && (k < 0 || k > t.nc || i < 0 || i >= t.nr) ||
		!vertical && (k < 0 || k > t.nr || i < 0 || i >= t.nc) {
		return s, false
	}
	if vertical {
		s.q = t.quarterAt(k-1, i)
		if s.q == nil {
			s.q = t.quarterAt(k, i)
		}
		s.x0, s.y0, s.x1, s.y1 = t.vx[k], t.hy[i], t.vx[k], t.hy[i+1]
	} else {
		s.q = t.quarterAt(i, k-1)
		if s.q == nil {
			s.q = t.quarterAt(i, k)
		}
		s.x0, s.y0, s.x1, s.y1 = t.vx[i], t.hy[k], t.vx[i+1], t.hy[k]
	}
	return s, s.q != nil
}

func (s seg) key() uint64 {
	v := uint64(0)
	if s.vertical {
		v = 1
	}
	return v<<50 | uint64(s.line)<<25 | uint64(s.idx)
}

func (s seg) length() float64 { return math.Hypot(s.x1-s.x0, s.y1-s.y0) }

// eachSegment visits every built segment, north–south lines first.
func (t *town) eachSegment(e *emitter, fn func(s seg) bool) {
	lines := len(t.vx) + len(t.hy)
	done := 0
	for k := range t.vx {
		for i := range t.nr {
			if s, ok := t.segment(true, k, i); ok && !fn(s) {
				return
			}
		}
		done++
		e.progressTo(done, lines)
	}
	for k := range t.hy {
		for i := range t.nc {
			if s, ok := t.segment(false, k, i); ok && !fn(s) {
				return
			}
		}
		done++
		e.progressTo(done, lines)
	}
}

func (t *town) streetRows(e *emitter) {
	var pcg rand.PCG
	r := rand.New(&pcg)
	t.eachSegment(e, func(s seg) bool {
		pcg.Seed(t.seed, key(streamStreet, s.key()))
		l := &t.hl[s.line]
		if s.vertical {
			l = &t.vl[s.line]
		}
		class, z := l.class, t.zoneOf(s.q)
		if s.vertical && s.line == t.pedLine && z == zoneC {
			class = classPedestrian
		}
		u := r.Float64()
		var surface string
		switch {
		case class == classPedestrian:
			surface = "паваж"
		case class != classService:
			surface = pick(u, []float64{0.97}, "асфалт", "бетон")
		case z == zoneC:
			surface = pick(u, []float64{0.4}, "паваж", "асфалт")
		case math.Hypot((s.x0+s.x1)/2, (s.y0+s.y1)/2) > 0.8*t.radius:
			surface = pick(u, []float64{0.55, 0.8, 0.92}, "асфалт", "трошен камък", "без настилка", "бетон")
		default:
			surface = pick(u, []float64{0.85, 0.92}, "асфалт", "паваж", "бетон")
		}
		e.s.reset(multiLineString)
		e.s.add(s.x0, s.y0)
		e.s.add(s.x1, s.y1)
		e.s.end()
		return e.emit(l.name, class, l.width, surface, l.oneWay && class == classService)
	})
}

// network is an underground network and where it runs: off metres to the
// east (north–south streets) or north (east–west streets) of the street's
// centre line. Lines of one network therefore meet at the points
// (crossing + off, crossing + off), where its manholes stand.
type network struct {
	name     string
	off      float64
	operator string
	// chance of a manhole at a crossing the network passes
	nodeManhole float64
	depthMin    float64
	depthMax    float64
}

var networks = [...]network{
	{"water", 2.5, "ВиК ЕООД", 0.3, 1.2, 1.8},
	{"sewer", 0, "ВиК ЕООД", 1, 1.8, 4.0},
	{"power", 4, "Електроразпределителни мрежи Запад", 0.2, 0.8, 1.2},
	{"gas", -2, "Ситигаз България", 0, 0.8, 1.2},
	{"telecom", -4, "", 0.4, 0.6, 0.9},
	{"heating", 1.2, "Топлофикация ЕАД", 0.8, 1.0, 1.6},
}

const (
	netWater = iota
	netSewer
	netPower
	netGas
	netTelecom
	netHeating
)

var telecomOperators = [...]string{"Виваком", "А1 България", "Йеттел България"}

// utility is one network's line under one segment.
type utility struct {
	present  bool
	material string
	diameter int64 // 0: not recorded
	depth    float64
	operator string
}

// utilities draws which networks lie under segment s and their lines.
func (t *town) utilities(pcg *rand.PCG, r *rand.Rand, s seg, out *[len(networks)]utility) {
	pcg.Seed(t.seed, key(streamUtility, s.key()))
	z := t.zoneOf(s.q)
	l := &t.hl[s.line]
	if s.vertical {
		l = &t.vl[s.line]
	}
	main := l.class == classPrimary || l.class == classSecondary
	dense := z == zoneC || z == zoneZs
	periphery := math.Hypot((s.x0+s.x1)/2, (s.y0+s.y1)/2) > 0.8*t.radius
	// Low-voltage power and telecom run mostly overhead in Bulgarian towns,
	// underground only in the centre and along main streets.
	chance := [len(networks)]float64{1, 0.97, 0.4, 0.35, 0.45, 0}
	if periphery {
		chance[netSewer] = 0.7
	}
	if dense || main {
		chance[netPower], chance[netTelecom] = 0.85, 0.8
	}
	if dense {
		chance[netGas], chance[netHeating] = 0.7, 0.45
	}
	if z == zonePp {
		chance[netGas] = 0.6
	}
	sizes := func(mainSizes, other []int64) int64 {
		if main {
			return mainSizes[r.IntN(len(mainSizes))]
		}
		return other[r.IntN(len(other))]
	}
	for n := range networks {
		u := &out[n]
		*u = utility{present: r.Float64() < chance[n], operator: networks[n].operator}
		if !u.present {
			continue
		}
		u.depth = round(between(r, networks[n].depthMin, networks[n].depthMax), 2)
		v := r.Float64()
		switch n {
		case netWater:
			u.material = pick(v, []float64{0.55, 0.8, 0.92}, "ПЕВП", "етернит", "стомана", "чугун")
			u.diameter = sizes([]int64{200, 250, 315}, []int64{90, 110, 160})
		case netSewer:
			u.material = pick(v, []float64{0.45, 0.7, 0.9}, "бетон", "PVC", "PP", "керамика")
			u.diameter = sizes([]int64{500, 600, 800, 1000}, []int64{300, 400})
		case netPower:
			u.material = "кабел НН 1 kV"
			if main {
				u.material = "кабел СрН 20 kV"
			}
		case netGas:
			u.material = "ПЕВП"
			u.diameter = sizes([]int64{160, 200}, []int64{63, 90, 110})
		case netTelecom:
			u.material = pick(v, []float64{0.7}, "оптичен кабел в ПЕ тръба", "меден кабел")
			u.diameter = sizes([]int64{110}, []int64{40, 50})
			u.operator = telecomOperators[r.IntN(len(telecomOperators))]
		case netHeating:
			u.material = "предизолирана стомана"
			u.diameter = sizes([]int64{200, 300}, []int64{100, 150})
		}
	}
}

// sewerStops is the number of manholes along a sewer between crossings: one
// at least every 60 m, as sewers need for cleaning.
func sewerStops(s seg) int { return int(math.Ceil(s.length()/60)) - 1 }

// sewerStop returns stop j (1-based) along s, on the sewer's line.
func sewerStop(s seg, j, stops int) (float64, float64) {
	f := float64(j) / float64(stops+1)
	return s.x0 + (s.x1-s.x0)*f, s.y0 + (s.y1-s.y0)*f
}

func (t *town) utilityLineRows(e *emitter) {
	var pcg rand.PCG
	r := rand.New(&pcg)
	var us [len(networks)]utility
	t.eachSegment(e, func(s seg) bool {
		t.utilities(&pcg, r, s, &us)
		for n := range networks {
			u := &us[n]
			if !u.present {
				continue
			}
			off := networks[n].off
			e.s.reset(multiLineString)
			e.s.add(s.x0+off, s.y0+off)
			if n == netSewer {
				stops := sewerStops(s)
				for j := 1; j <= stops; j++ {
					x, y := sewerStop(s, j, stops)
					e.s.add(x+off, y+off)
				}
			}
			e.s.add(s.x1+off, s.y1+off)
			e.s.end()
			var diameter any
			if u.diameter > 0 {
				diameter = u.diameter
			}
			if !e.emit(networks[n].name, u.material, diameter, u.depth, u.operator) {
				return false
			}
		}
		return true
	})
}

// manholeRows puts manholes at the crossings each network passes and along
// the sewers between them, crossing by crossing, south to north.
func (t *town) manholeRows(e *emitter) {
	var pcg, node rand.PCG
	r, nr := rand.New(&pcg), rand.New(&node)
	var us [len(networks)]utility
	for kh := range t.hy {
		for kv := range t.vx {
			var present [len(networks)]bool
			var operator [len(networks)]string
			var around [4]seg
			var built [4]bool
			around[0], built[0] = t.segment(true, kv, kh-1)
			around[1], built[1] = t.segment(true, kv, kh)
			around[2], built[2] = t.segment(false, kh, kv-1)
			around[3], built[3] = t.segment(false, kh, kv)
			for i, s := range around {
				if !built[i] {
					continue
				}
				t.utilities(&pcg, r, s, &us)
				for n := range networks {
					if us[n].present && !present[n] {
						present[n], operator[n] = true, us[n].operator
					}
				}
			}
			node.Seed(t.seed, key(streamNode, uint64(kv)<<25|uint64(kh)))
			for n, nw := range networks {
				if !present[n] || nr.Float64() >= nw.nodeManhole {
					continue
				}
				e.s.reset(point)
				e.s.add(t.vx[kv]+nw.off, t.hy[kh]+nw.off)
				if !e.emit(nw.name, round(between(nr, nw.depthMin, nw.depthMax), 2), operator[n]) {
					return
				}
			}
			// Sewer manholes along the segments leaving this crossing to
			// the north and to the east.
			for _, i := range [...]int{1, 3} {
				s := around[i]
				if !built[i] {
					continue
				}
				t.utilities(&pcg, r, s, &us)
				if !us[netSewer].present {
					continue
				}
				stops := sewerStops(s)
				for j := 1; j <= stops; j++ {
					x, y := sewerStop(s, j, stops)
					e.s.reset(point)
					e.s.add(x, y)
					nw := networks[netSewer]
					if !e.emit(nw.name, round(between(nr, nw.depthMin, nw.depthMax), 2), nw.operator) {
						return
					}
				}
			}
		}
		e.progressTo(kh+1, len(t.hy))
	}
}

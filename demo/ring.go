package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// The land around the town is a ring of bands cut into sectors — physical
// blocks of farmland, pasture and forest. Every arc is sampled at the same
// n angles around the circle, and sector edges fall on those angles, so
// neighbouring blocks share their vertices exactly, as the lots do.

type ringPlan struct {
	n      int       // vertices around the full circle
	radii  []float64 // band edges, inner to outer
	offset []int     // per band, the angle index its first sector starts at
	forest float64   // direction (radians) the forest lies in
}

// cell is a physical block: band b, angle indices [i0, i1].
type cell struct {
	band, sector int
	i0, i1       int
	kind         cellKind
	num          int // physical block number
	u            [4]float64
}

type cellKind uint8

const (
	cellNone cellKind = iota // a village, a road, a quarry: left empty
	cellArable
	cellGrass
	cellForest
)

func (t *town) ringPlan() ringPlan {
	var pcg rand.PCG
	pcg.Seed(t.seed, key(streamRing, 0))
	r := rand.New(&pcg)
	rp := ringPlan{forest: r.Float64() * 2 * math.Pi}
	rIn := t.radius + 150
	rOut := rIn + max(1500, 0.3*t.radius)
	rp.n = int(math.Ceil(2 * math.Pi * rOut / 40))
	for rr := rIn; ; rr += between(r, 350, 550) {
		rp.radii = append(rp.radii, math.Round(rr))
		if rr >= rOut {
			break
		}
	}
	for b := range len(rp.radii) - 1 {
		rp.offset = append(rp.offset, r.IntN(rp.n/rp.sectors(b)))
	}
	return rp
}

// sectors is the number of blocks in band b, each about 650 m along the arc.
func (rp *ringPlan) sectors(b int) int {
	rm := (rp.radii[b] + rp.radii[b+1]) / 2
	return max(6, int(math.Round(2*math.Pi*rm/650)))
}

// at returns the local point at radius rad and angle index i (any integer).
func (rp *ringPlan) at(rad float64, i int) pt {
	i = ((i % rp.n) + rp.n) % rp.n
	s, c := math.Sincos(2 * math.Pi * float64(i) / float64(rp.n))
	return pt{rad * c, rad * s}
}

// piece returns the ring of band b between angle indices i0 and i1.
func (rp *ringPlan) piece(dst []pt, b, i0, i1 int) []pt {
	dst = dst[:0]
	for i := i0; i <= i1; i++ {
		dst = append(dst, rp.at(rp.radii[b+1], i))
	}
	for i := i1; i >= i0; i-- {
		dst = append(dst, rp.at(rp.radii[b], i))
	}
	return dst
}

// eachCell visits the blocks band by band, classifying each the same way
// for every layer: forest towards one side and farther out, pasture at its
// edge, fields elsewhere.
func (t *town) eachCell(e *emitter, fn func(rp *ringPlan, c *cell, r *rand.Rand) bool) {
	rp := t.ringPlan()
	var pcg rand.PCG
	r := rand.New(&pcg)
	bands := len(rp.radii) - 1
	num := 0
	for b := range bands {
		ns := rp.sectors(b)
		for s := range ns {
			c := cell{band: b, sector: s,
				i0: rp.offset[b] + s*rp.n/ns, i1: rp.offset[b] + (s+1)*rp.n/ns}
			pcg.Seed(t.seed, key(streamRing, uint64(b+1)<<20|uint64(s)))
			for k := range c.u {
				c.u[k] = r.Float64()
			}
			angle := 2 * math.Pi * (float64(c.i0+c.i1) / 2) / float64(rp.n)
			score := math.Cos(angle-rp.forest) + 0.5*float64(b)/float64(bands) + 0.6*(c.u[0]-0.5)
			switch {
			case c.u[2] < 0.04:
				c.kind = cellNone
			case score > 0.5:
				c.kind = cellForest
			case score > 0.05 || c.u[1] < 0.15:
				c.kind = cellGrass
			default:
				c.kind = cellArable
			}
			num++
			c.num = num
			if !fn(&rp, &c, r) {
				return
			}
		}
		e.progressTo(b+1, bands)
	}
}

func (t *town) blockCode(c *cell) string { return t.ekatte + "-" + strconv.Itoa(c.num) }

func (t *town) grasslandRows(e *emitter) {
	var ring []pt
	t.eachCell(e, func(rp *ringPlan, c *cell, r *rand.Rand) bool {
		if c.kind != cellGrass {
			return true
		}
		ring = rp.piece(ring, c.band, c.i0, c.i1)
		e.polygon(ring)
		kind := pick(r.Float64(), []float64{0.5, 0.85}, "пасище", "ливада", "мера")
		return e.emit(t.blockCode(c), kind, round(ringArea(ring)/1e4, 2))
	})
}

// subsidyRows marks fields and half of the pastures as eligible for direct
// payments, each a little smaller than its block (hedges, tracks, bushes).
func (t *town) subsidyRows(e *emitter) {
	var ring []pt
	t.eachCell(e, func(rp *ringPlan, c *cell, r *rand.Rand) bool {
		var scheme string
		switch {
		case c.kind == cellArable:
			scheme = pick(r.Float64(), []float64{0.5, 0.85}, "ОПДУ", "ОПДУ, ДПП", "ОПДУ, ДПП, екосхеми")
		case c.kind == cellGrass && c.u[3] < 0.5:
			scheme = pick(r.Float64(), []float64{0.6}, "ОПДУ", "ОПДУ, екосхеми")
		default:
			return true
		}
		ring = rp.piece(ring, c.band, c.i0, c.i1)
		e.polygon(ring)
		return e.emit(t.blockCode(c), scheme, int64(2025), round(ringArea(ring)/1e4*between(r, 0.85, 0.99), 2))
	})
}

// forestRows cuts each forest block into one to three sub-compartments of a
// compartment (отдел), numbered in order.
func (t *town) forestRows(e *emitter) {
	var ring []pt
	compartment := 0
	t.eachCell(e, func(rp *ringPlan, c *cell, r *rand.Rand) bool {
		if c.kind != cellForest {
			return true
		}
		compartment++
		parts := min(intBetween(r, 1, 3), (c.i1-c.i0)/2)
		for p := range parts {
			a := c.i0 + p*(c.i1-c.i0)/parts
			b := c.i0 + (p+1)*(c.i1-c.i0)/parts
			ring = rp.piece(ring, c.band, a, b)
			e.polygon(ring)
			k := r.IntN(len(forestKinds))
			species := forestSpecies[k][r.IntN(len(forestSpecies[k]))]
			age := int64(intBetween(r, 15, 120))
			if !e.emit(strconv.Itoa(compartment), subcompartments[p], species, age, forestKinds[k]) {
				return false
			}
		}
		return true
	})
}

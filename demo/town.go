package demo

import (
	"math"
	"math/rand/v2"
	"slices"
)

// blockSide is the number of quarters along each side of a cadastral area.
// 36 quarters hold a few hundred parcels, about what an urban cadastral
// area of a Bulgarian town holds.
const blockSide = 6

// firstArea is the number of the central cadastral area: urban areas of
// Bulgarian towns are numbered from 501 (e.g. 73198.501.1234), rural ones
// from 1.
const firstArea = 501

// Random streams. Every piece of the town draws from its own PCG stream,
// keyed by what it is (a quarter's cell, a street segment), so any layer can
// regenerate any piece alone and get the same result: that is what lets each
// COPY walk the town again instead of keeping it in memory.
const (
	streamGrid    = 1
	streamLots    = 2 // a quarter's kind and lot layout: all the plan needs
	streamDetail  = 3 // a quarter's setbacks, owners, buildings
	streamPlots   = 4 // a quarter's УПИ merges
	streamStreet  = 5
	streamUtility = 6
	streamNode    = 7
	streamRing    = 8
	streamBlock   = 9
)

func key(stream, n uint64) uint64 { return stream<<56 | n }

// zone is a general-plan (ОУП) zone.
type zone uint8

const (
	zoneZm zone = iota // Жм: low-rise housing
	zoneZs             // Жс: mid-rise housing
	zoneC              // Ц: centre, mixed use
	zonePp             // Пп: mainly production
	zoneOz             // Оз: parks and gardens
)

// zoneRule holds a zone's name and the limits Наредба № 7 sets for it.
type zoneRule struct {
	code, name                        string
	height, density, intensity, green float64
	lotMin, lotMax                    float64 // mean lot frontage, m
}

var zoneRules = [...]zoneRule{
	zoneZm: {"Жм", "Жилищна зона с преобладаващо застрояване с малка височина", 10, 60, 1.2, 40, 15, 22},
	zoneZs: {"Жс", "Жилищна зона с преобладаващо застрояване със средна височина", 15, 50, 1.5, 40, 28, 42},
	zoneC:  {"Ц", "Централна градска зона", 21, 80, 3.0, 20, 14, 22},
	zonePp: {"Пп", "Предимно производствена зона", 15, 80, 2.5, 20, 40, 70},
	zoneOz: {"Оз", "Зона за озеленяване, паркове и градини", 7, 2, 0.02, 90, 0, 0},
}

// Street classes, as the street_segments enum spells them.
const (
	classPrimary    = "първостепенна"
	classSecondary  = "второстепенна"
	classService    = "обслужваща"
	classPedestrian = "пешеходна"
)

// line is a street: one grid line of the town, crossing it end to end.
type line struct {
	name   string
	class  string
	width  float64
	oneWay bool
}

// quarterPlan is what the plan keeps per quarter: enough to regenerate it
// and to number its parcels and houses without looking at other quarters.
type quarterPlan struct {
	col, row           int32
	block              int32 // index into town.blocks
	num                int32 // quarter number, 1-based
	first              int32 // parcel number of its first lot within its area
	cap                int32 // parcels still to make when it was planned
	nTop, nBot         int32 // lots fronting the north and the south street
	houseTop, houseBot int32 // first house number on each of those streets
	kind               uint8
}

// Quarter kinds.
const (
	kindLots   uint8 = iota // an ordinary quarter split into lots
	kindPark                // one municipal green parcel
	kindPublic              // one parcel with a school, clinic, church…
)

type blockPlan struct {
	bx, by   int32
	area     int32 // cadastral area number
	zone     zone
	quarters int32 // blockSide² except in the town's last area
}

// town is the plan of the whole municipality: the street grid, which
// quarters exist and how they are numbered. It is O(quarters) in memory
// (about 40 bytes each); features are generated from it on demand.
type town struct {
	seed    uint64
	ekatte  string
	parcels int
	fr      frame

	nc, nr   int       // quarter columns and rows of the grid
	nbx, nby int       // cadastral-area blocks of the grid
	vx, vw   []float64 // north–south streets: centre x and width (nc+1)
	hy, hw   []float64 // east–west streets: centre y and width (nr+1)
	vl, hl   []line
	pedLine  int // the north–south line that is pedestrian in the centre

	cell     []int32 // quarter index per grid cell (col + row*nc), -1 if none
	quarters []quarterPlan
	blocks   []blockPlan
	radius   float64 // farthest quarter corner from the centre, m

	industry float64 // direction (radians) of the industrial quarter
}

// newTown plans a town of exactly parcels parcels around fr's centre.
func newTown(seed int64, ekatte string, parcels int, fr frame) *town {
	// Quarters hold about 11 parcels on average; size the grid for a disc
	// comfortably larger than needed and grow it if the estimate falls short.
	est := max(1, (parcels+10)/11)
	estBlocks := max(1, (est+blockSide*blockSide-1)/(blockSide*blockSide))
	for grow := 1.3; ; grow *= 1.25 {
		t := &town{seed: uint64(seed), ekatte: ekatte, parcels: parcels, fr: fr}
		if t.plan(estBlocks, grow) {
			return t
		}
	}
}

// plan lays out the grid and walks its blocks from the centre outwards,
// making quarters until the parcel budget is spent. It returns false when
// the grid ran out of blocks first.
func (t *town) plan(estBlocks int, grow float64) bool {
	const bw, bh = blockSide * 131.0, blockSide * 84.0 // mean block size
	r := math.Sqrt(float64(estBlocks)*bw*bh/math.Pi) * grow
	t.nbx = 2*int(math.Ceil(r/bw)) + 1
	t.nby = 2*int(math.Ceil(r/bh)) + 1
	t.nc, t.nr = t.nbx*blockSide, t.nby*blockSide

	var pcg rand.PCG
	pcg.Seed(t.seed, key(streamGrid, 0))
	rng := rand.New(&pcg)
	t.industry = rng.Float64() * 2 * math.Pi
	t.vx, t.vw, t.vl = t.streets(rng, t.nc, 90, 150)
	t.hy, t.hw, t.hl = t.streets(rng, t.nr, 56, 90)
	t.nameStreets()

	// Blocks by distance of their centre from the town centre.
	type cand struct {
		bx, by int32
		d, a   float64
	}
	cands := make([]cand, 0, t.nbx*t.nby)
	for by := range t.nby {
		for bx := range t.nbx {
			cx := (t.vx[bx*blockSide] + t.vx[(bx+1)*blockSide]) / 2
			cy := (t.hy[by*blockSide] + t.hy[(by+1)*blockSide]) / 2
			cands = append(cands, cand{int32(bx), int32(by), math.Hypot(cx, cy), math.Atan2(cy, cx)})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})

	t.cell = make([]int32, t.nc*t.nr)
	for i := range t.cell {
		t.cell[i] = -1
	}
	t.quarters = t.quarters[:0]
	t.blocks = t.blocks[:0]
	nCentre := max(1, int(math.Round(0.04*float64(estBlocks))))
	nMid := max(nCentre+1, int(math.Round(0.12*float64(estBlocks))))
	g := newQuarterGen(t)
	left := t.parcels
	for rank, c := range cands {
		if left == 0 {
			break
		}
		var bp blockPlan
		bp.bx, bp.by, bp.area = c.bx, c.by, int32(firstArea+rank)
		pcg.Seed(t.seed, key(streamBlock, uint64(c.bx)+uint64(c.by)*uint64(t.nbx)))
		u := rng.Float64()
		switch {
		case rank < nCentre:
			bp.zone = zoneC
		case rank < nMid:
			bp.zone = zoneZs
		case u < 0.04 && rank > nMid:
			bp.zone = zoneOz
		case rank > int(0.35*float64(estBlocks)) && angleDiff(c.a, t.industry) < 0.45:
			bp.zone = zonePp
		default:
			bp.zone = zoneZm
		}
		t.blocks = append(t.blocks, bp)
		parcel := int32(1)
		// Quarters in reading order: north to south, west to east.
		for rr := blockSide - 1; rr >= 0 && left > 0; rr-- {
			for cc := 0; cc < blockSide && left > 0; cc++ {
				col, row := int(c.bx)*blockSide+cc, int(c.by)*blockSide+rr
				qp := quarterPlan{
					col: int32(col), row: int32(row), block: int32(len(t.blocks) - 1),
					num: int32(len(t.quarters) + 1), first: parcel, cap: int32(min(left, math.MaxInt32)),
				}
				g.layout(&qp)
				qp.kind, qp.nTop, qp.nBot = g.kind, int32(g.nTop()), int32(g.nBot())
				n := g.lotCount()
				parcel += int32(n)
				left -= n
				t.cell[col+row*t.nc] = int32(len(t.quarters))
				t.quarters = append(t.quarters, qp)
				t.blocks[len(t.blocks)-1].quarters++
				for _, p := range [...]pt{{g.x0, g.y0}, {g.x1, g.y0}, {g.x0, g.y1}, {g.x1, g.y1}} {
					t.radius = max(t.radius, math.Hypot(p.x, p.y))
				}
			}
		}
	}
	if left > 0 {
		return false
	}
	t.numberHouses()
	return true
}

// streets draws n quarter widths between wMin and wMax and the n+1 streets
// around them, centred on 0. Every blockSide-th street bounds a cadastral
// area and is wider; every third of those is a boulevard.
func (t *town) streets(rng *rand.Rand, n int, wMin, wMax float64) (pos, width []float64, lines []line) {
	quarter := make([]float64, n)
	width = make([]float64, n+1)
	lines = make([]line, n+1)
	mid := n / blockSide / 2 // the block boundary line nearest the centre
	for k := range n + 1 {
		if k < n {
			quarter[k] = math.Round((wMin+(wMax-wMin)*rng.Float64())*2) / 2
		}
		switch {
		case k%blockSide == 0 && (k/blockSide-mid)%3 == 0:
			lines[k] = line{class: classPrimary, width: math.Round(18 + 6*rng.Float64())}
		case k%blockSide == 0:
			lines[k] = line{class: classSecondary, width: math.Round(14 + 3*rng.Float64())}
		default:
			lines[k] = line{class: classService, width: math.Round((9+3*rng.Float64())*2) / 2, oneWay: rng.Float64() < 0.2}
		}
		width[k] = lines[k].width
	}
	total := 0.0
	for k := range n {
		total += quarter[k] + width[k]
	}
	total += width[n]
	pos = make([]float64, n+1)
	x := -total / 2
	for k := range n + 1 {
		pos[k] = x + width[k]/2
		if k < n {
			x += width[k] + quarter[k]
		}
	}
	return pos, width, lines
}

// nameStreets names the lines, boulevards first, then by distance from the
// centre, so the centre gets the best-known names.
func (t *town) nameStreets() {
	type ref struct {
		l    *line
		prio int
		d    float64
	}
	refs := make([]ref, 0, len(t.vl)+len(t.hl))
	prio := func(l line) int {
		switch l.class {
		case classPrimary:
			return 0
		case classSecondary:
			return 1
		}
		return 2
	}
	for k := range t.vl {
		refs = append(refs, ref{&t.vl[k], prio(t.vl[k]), math.Abs(t.vx[k])})
	}
	for k := range t.hl {
		refs = append(refs, ref{&t.hl[k], prio(t.hl[k]), math.Abs(t.hy[k])})
	}
	slices.SortStableFunc(refs, func(a, b ref) int {
		if a.prio != b.prio {
			return a.prio - b.prio
		}
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})
	for i, r := range refs {
		r.l.name = lineName(i, r.l.class == classPrimary)
	}
	// The service street just east of the central north–south boulevard is
	// the pedestrian high street where it crosses the centre.
	best := math.Inf(1)
	for k := range t.vl {
		if t.vl[k].class == classPrimary && math.Abs(t.vx[k]) < best {
			best, t.pedLine = math.Abs(t.vx[k]), k+1
		}
	}
}

// numberHouses gives each street side its house numbers, west to east: odd
// on the south side of a street, even on the north side, as Bulgarian
// addresses alternate.
func (t *town) numberHouses() {
	odd := make([]int32, t.nr+1)
	even := make([]int32, t.nr+1)
	for row := range t.nr {
		for col := range t.nc {
			qi := t.cell[col+row*t.nc]
			if qi < 0 {
				continue
			}
			q := &t.quarters[qi]
			q.houseTop = 2*odd[row+1] + 1
			odd[row+1] += q.nTop
			q.houseBot = 2*even[row] + 2
			even[row] += q.nBot
		}
	}
}

// quarterAt returns the quarter at a grid cell, or nil.
func (t *town) quarterAt(col, row int) *quarterPlan {
	if col < 0 || row < 0 || col >= t.nc || row >= t.nr {
		return nil
	}
	if qi := t.cell[col+row*t.nc]; qi >= 0 {
		return &t.quarters[qi]
	}
	return nil
}

// bounds returns a quarter's rectangle in local metres.
func (t *town) bounds(col, row int) (x0, y0, x1, y1 float64) {
	return t.vx[col] + t.vw[col]/2, t.hy[row] + t.hw[row]/2,
		t.vx[col+1] - t.vw[col+1]/2, t.hy[row+1] - t.hw[row+1]/2
}

func (t *town) zoneOf(q *quarterPlan) zone { return t.blocks[q.block].zone }

func angleDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 2*math.Pi)
	return min(d, 2*math.Pi-d)
}

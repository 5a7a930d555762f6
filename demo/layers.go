package demo

import (
	"math"
	"strconv"
	"strings"
)

// colType is the PostgreSQL type of a feature-table column, as the binary
// COPY format needs to know it.
type colType uint8

const (
	colGeom  colType = iota // geometry(…, 7801)
	colText                 // text (also enum and cadastral_id attributes)
	colFloat                // double precision (number)
	colInt                  // bigint (integer)
	colBool                 // boolean
)

type column struct {
	name string
	typ  colType
}

// layerDef is one built-in layer the demo fills: its columns (geometry
// first) and the generator of its rows.
type layerDef struct {
	name string
	cols []column
	rows func(t *town, e *emitter)
}

func cols(spec ...any) []column {
	out := []column{{"geom", colGeom}}
	for i := 0; i < len(spec); i += 2 {
		out = append(out, column{spec[i].(string), spec[i+1].(colType)})
	}
	return out
}

// layerDefs are loaded in this order; the column lists follow
// migrations/000003_builtin_layers.sql.
var layerDefs = []layerDef{
	{"cadastre_parcels", cols("identifier", colText, "area_m2", colFloat, "land_use", colText, "ownership", colText, "address", colText), (*town).parcelRows},
	{"cadastre_buildings", cols("identifier", colText, "floors", colInt, "purpose", colText, "units_count", colInt, "built_area_m2", colFloat), (*town).buildingRows},
	{"cadastre_units", cols("identifier", colText, "floor", colInt, "purpose", colText, "area_m2", colFloat), (*town).unitRows},
	{"regulation_quarters", cols("quarter_number", colText, "area_m2", colFloat), (*town).quarterRows},
	{"regulation_plots", cols("plot_number", colText, "quarter_number", colText, "purpose", colText, "parcel_ids", colText, "area_m2", colFloat), (*town).plotRows},
	{"regulation_lines", cols("line_kind", colText), (*town).regulationLineRows},
	{"development_plan", cols("zone_code", colText, "building_mode", colText, "max_height_m", colFloat, "density_pct", colFloat, "intensity", colFloat, "green_pct", colFloat), (*town).developmentRows},
	{"general_plan_zones", cols("zone_code", colText, "zone_name", colText, "max_density_pct", colFloat, "max_intensity", colFloat, "min_green_pct", colFloat), (*town).generalPlanRows},
	{"street_segments", cols("street_name", colText, "street_class", colText, "width_m", colFloat, "surface", colText, "one_way", colBool), (*town).streetRows},
	{"utility_lines", cols("network", colText, "material", colText, "diameter_mm", colInt, "depth_m", colFloat, "operator", colText), (*town).utilityLineRows},
	{"utility_manholes", cols("network", colText, "depth_m", colFloat, "operator", colText), (*town).manholeRows},
	{"grassland", cols("block_code", colText, "grass_kind", colText, "area_ha", colFloat), (*town).grasslandRows},
	{"forestry_plan", cols("compartment", colText, "subcompartment", colText, "species", colText, "age_years", colInt, "forest_kind", colText), (*town).forestRows},
	{"subsidy_areas", cols("block_code", colText, "scheme", colText, "campaign_year", colInt, "eligible_ha", colFloat), (*town).subsidyRows},
}

// emitter hands generated rows to a COPY. Row values are the shape (the
// geometry column) followed by the attributes as string, float64, int64,
// bool or nil for NULL. progress counts parcels (or their equivalent) done.
type emitter struct {
	s       shape
	row     []any
	yield   func([]any) bool
	stopped bool
	sb      strings.Builder // scratch

	// Progress, in parcels: parcel-based layers count the parcels of the
	// quarters done, the others the share of their work done.
	parcels int
	done    int64
	report  func(done int64)
}

func (e *emitter) progress(n int) {
	e.done += int64(n)
	if e.report != nil {
		e.report(e.done)
	}
}

func (e *emitter) progressTo(done, total int) {
	e.done = int64(e.parcels) * int64(done) / int64(max(total, 1))
	if e.report != nil {
		e.report(e.done)
	}
}

// emit sends the current shape with vals; it returns false once the
// consumer has stopped, and generators then return.
func (e *emitter) emit(vals ...any) bool {
	if e.stopped {
		return false
	}
	e.row = append(e.row[:0], &e.s)
	e.row = append(e.row, vals...)
	if !e.yield(e.row) {
		e.stopped = true
	}
	return !e.stopped
}

func (e *emitter) polygon(pts []pt) { e.s.ring(pts) }

// round rounds to d decimals, as areas are recorded.
func round(v float64, d int) float64 {
	p := math.Pow10(d)
	return math.Round(v*p) / p
}

func (t *town) parcelID(q *quarterPlan, num int32) string {
	return t.ekatte + "." + strconv.Itoa(int(t.blocks[q.block].area)) + "." + strconv.Itoa(int(num))
}

// eachQuarter regenerates every quarter in number order; the progress is
// counted in parcels.
func (t *town) eachQuarter(e *emitter, fn func(g *quarterGen) bool) {
	g := newQuarterGen(t)
	for i := range t.quarters {
		q := &t.quarters[i]
		g.layout(q)
		if !fn(g) {
			return
		}
		e.progress(g.lotCount())
	}
}

func (t *town) parcelRows(e *emitter) {
	t.eachQuarter(e, func(g *quarterGen) bool {
		g.details(true)
		for k := range g.lots {
			l := &g.lots[k]
			e.polygon(g.lotRing(l.strip, l.i, l.i+1))
			addr := l.street.name + " № " + strconv.Itoa(int(l.house))
			if !e.emit(t.parcelID(g.q, l.num), math.Round(l.area), l.landUse, l.ownership, addr) {
				return false
			}
		}
		return true
	})
}

func (t *town) buildingRows(e *emitter) {
	t.eachQuarter(e, func(g *quarterGen) bool {
		g.details(true)
		for k := range g.lots {
			l := &g.lots[k]
			id := t.parcelID(g.q, l.num)
			for n := range l.nb {
				b := &l.b[n]
				e.polygon(b.ring())
				if !e.emit(id+"."+strconv.Itoa(n+1), int64(b.floors), b.purpose, int64(b.units()), round(b.area, 1)) {
					return false
				}
			}
		}
		return true
	})
}

// unitRows gives every building with two or more units its units, floor by
// floor: a floor with one unit takes the whole footprint, a floor with
// several is cut across into equal slices.
func (t *town) unitRows(e *emitter) {
	var slice [4]pt
	t.eachQuarter(e, func(g *quarterGen) bool {
		g.details(true)
		for k := range g.lots {
			l := &g.lots[k]
			for n := range l.nb {
				b := &l.b[n]
				if b.units() < 2 {
					continue
				}
				id := t.parcelID(g.q, l.num) + "." + strconv.Itoa(n+1) + "."
				unit := 0
				for floor := 1; floor <= b.floors; floor++ {
					count, use := b.ground, b.groundUse
					if floor > 1 {
						count, use = b.upper, b.upperUse
					}
					for s := range count {
						unit++
						area := b.area
						if count == 1 {
							e.polygon(b.ring())
						} else {
							w := (b.x1 - b.x0) / float64(count)
							x0 := b.x0 + w*float64(s)
							x1 := x0 + w
							if s == count-1 {
								x1 = b.x1
							}
							e.polygon(rect(slice[:0], x0, b.y0, x1, b.y1))
							area = (x1 - x0) * (b.y1 - b.y0)
						}
						// Net floor area: walls and common parts take about 15 %.
						if !e.emit(id+strconv.Itoa(unit), int64(floor), use, round(area*0.85, 2)) {
							return false
						}
					}
				}
			}
		}
		return true
	})
}

func (t *town) quarterRows(e *emitter) {
	t.eachQuarter(e, func(g *quarterGen) bool {
		ring := g.quarterRing()
		e.polygon(ring)
		return e.emit(strconv.Itoa(int(g.q.num)), math.Round(ringArea(ring)))
	})
}

func (t *town) plotRows(e *emitter) {
	t.eachQuarter(e, func(g *quarterGen) bool {
		g.details(false)
		g.makePlots()
		purpose := g.plotPurpose()
		qnum := strconv.Itoa(int(g.q.num))
		for k, p := range g.plots {
			ring := g.lotRing(p.strip, p.i, p.j)
			e.polygon(ring)
			// УПИ III-142 is designated for parcel 142; a plot on two
			// parcels names both (III-142,143).
			e.sb.Reset()
			e.sb.WriteString(roman(k + 1))
			e.sb.WriteByte('-')
			ids := ""
			for i := p.i; i < p.j; i++ {
				num := g.q.first + int32(g.lotIndex(p.strip, i))
				if i > p.i {
					e.sb.WriteByte(',')
					ids += ", "
				}
				e.sb.WriteString(strconv.Itoa(int(num)))
				ids += t.parcelID(g.q, num)
			}
			if !e.emit(e.sb.String(), qnum, purpose, ids, math.Round(ringArea(ring))) {
				return false
			}
		}
		return true
	})
}

// regulationLineRows draws per quarter its street regulation line (the
// quarter's outline), its building line and the boundaries between its
// plots.
func (t *town) regulationLineRows(e *emitter) {
	t.eachQuarter(e, func(g *quarterGen) bool {
		g.details(false)
		s := &e.s
		s.reset(multiLineString)
		for _, p := range g.quarterRing() {
			s.add(p.x, p.y)
		}
		s.add(g.ring[0].x, g.ring[0].y)
		s.end()
		if !e.emit("улична регулация") {
			return false
		}

		f := g.front
		if 2*f+4 < g.y1-g.y0 && 2*f+4 < g.x1-g.x0 {
			kind := "ограничителна строителна"
			if g.zone == zoneC {
				kind = "задължителна строителна"
			}
			s.reset(multiLineString)
			for _, p := range rect(g.ring[:0], g.x0+f, g.y0+f, g.x1-f, g.y1-f) {
				s.add(p.x, p.y)
			}
			s.add(g.x0+f, g.y0+f)
			s.end()
			if !e.emit(kind) {
				return false
			}
		}

		if g.single() {
			return true
		}
		g.makePlots()
		s.reset(multiLineString)
		s.add(g.x0, g.ym)
		s.add(g.x1, g.ym)
		s.end()
		for _, p := range g.plots {
			if p.i == 0 {
				continue
			}
			if p.strip == stripTop {
				s.add(g.top[p.i], g.y1)
				s.add(g.topB[p.i], g.ym)
			} else {
				s.add(g.bot[p.i], g.y0)
				s.add(g.botB[p.i], g.ym)
			}
			s.end()
		}
		return e.emit("регулационна")
	})
}

func (t *town) developmentRows(e *emitter) {
	t.eachQuarter(e, func(g *quarterGen) bool {
		g.details(false)
		z := g.zone
		if g.kind == kindPark {
			z = zoneOz
		}
		rule := zoneRules[z]
		code := rule.code
		height, density, intensity := rule.height, rule.density, rule.intensity
		if z != zoneOz {
			// Sub-zones: 1 detached, 2 terraced, with a lower density.
			if g.mode == "свързано" {
				code += "2"
			} else {
				code += "1"
				density -= 10
				intensity = round(intensity*0.8, 2)
			}
		}
		e.polygon(g.quarterRing())
		return e.emit(code, g.mode, height, density, intensity, rule.green)
	})
}

// generalPlanRows draws one ОУП zone per cadastral area, out to the middle
// of its boundary streets, so the zones tile the town. The last area may be
// partly built: its zone covers its quarters only (full rows from the north,
// then part of a row), an L or a rectangle.
func (t *town) generalPlanRows(e *emitter) {
	var ring [6]pt
	for i := range t.blocks {
		b := &t.blocks[i]
		c0, r0 := int(b.bx)*blockSide, int(b.by)*blockSide
		rows, part := int(b.quarters)/blockSide, int(b.quarters)%blockSide
		xl, xr, top := t.vx[c0], t.vx[c0+blockSide], t.hy[r0+blockSide]
		full := t.hy[r0+blockSide-rows]
		switch {
		case part == 0:
			e.polygon(rect(ring[:0], xl, full, xr, top))
		case rows == 0:
			e.polygon(rect(ring[:0], xl, t.hy[r0+blockSide-1], t.vx[c0+part], top))
		default:
			xk, bottom := t.vx[c0+part], t.hy[r0+blockSide-rows-1]
			e.polygon(append(ring[:0], pt{xl, bottom}, pt{xk, bottom}, pt{xk, full}, pt{xr, full}, pt{xr, top}, pt{xl, top}))
		}
		rule := zoneRules[b.zone]
		if !e.emit(rule.code, rule.name, rule.density, rule.intensity, rule.green) {
			return
		}
	}
	e.progress(t.parcels)
}

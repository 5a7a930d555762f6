package demo

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/twpayne/go-geom/encoding/ewkb"

	"munigis/spatial"
)

// generate runs every layer's generator without a database and returns
// the row count per layer and a hash of all rows (geometries as EWKB).
func generate(t *testing.T, seed int64, parcels int) (map[string]int, [32]byte) {
	t.Helper()
	tw := newTown(seed, DefaultEKATTE, parcels, newFrame(seed, 431000, 4751000))
	counts := map[string]int{}
	h := sha256.New()
	for i := range layerDefs {
		def := &layerDefs[i]
		e := &emitter{parcels: parcels}
		e.s.f = &tw.fr
		for row := range rowSeq(tw, def, e) {
			b, err := ewkb.Marshal(row[0].(*shape).geomT(), binary.LittleEndian)
			if err != nil {
				t.Fatalf("%s: %v", def.name, err)
			}
			h.Write(b)
			fmt.Fprintln(h, row[1:]...)
			counts[def.name]++
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return counts, sum
}

func TestParcelCountIsExact(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 100, 2000, 20001} {
		counts, _ := generate(t, 1, n)
		if counts["cadastre_parcels"] != n {
			t.Errorf("Parcels %d: generated %d parcels", n, counts["cadastre_parcels"])
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	_, a := generate(t, 7, 3000)
	_, b := generate(t, 7, 3000)
	_, c := generate(t, 8, 3000)
	if a != b {
		t.Error("the same seed gave different rows")
	}
	if a == c {
		t.Error("different seeds gave the same rows")
	}
}

// TestLotsTileQuarters checks in local metres that a quarter's lots add up
// to the quarter and that buildings keep a metre from the lot's dividers.
func TestLotsTileQuarters(t *testing.T) {
	tw := newTown(3, DefaultEKATTE, 5000, newFrame(3, 431000, 4751000))
	g := newQuarterGen(tw)
	for i := range tw.quarters {
		g.layout(&tw.quarters[i])
		g.details(true)
		qa := ringArea(g.quarterRing())
		sum := 0.0
		for k := range g.lots {
			l := &g.lots[k]
			if l.area <= 0 {
				t.Fatalf("quarter %d lot %d: area %v", g.q.num, k, l.area)
			}
			sum += l.area
			for n := range l.nb {
				b := &l.b[n]
				if b.area < 15 || b.floors < 1 || b.units() < 1 {
					t.Fatalf("quarter %d lot %d building %d: %+v", g.q.num, k, n, *b)
				}
				if !insideLot(g, l, b) {
					t.Fatalf("quarter %d lot %d building %d is not inside its lot", g.q.num, k, n)
				}
			}
		}
		if math.Abs(sum-qa) > 1e-6*qa {
			t.Fatalf("quarter %d: lots %v m², quarter %v m²", g.q.num, sum, qa)
		}
		g.makePlots()
		lots := 0
		for _, p := range g.plots {
			lots += p.j - p.i
		}
		if lots != g.lotCount() {
			t.Fatalf("quarter %d: plots cover %d lots of %d", g.q.num, lots, g.lotCount())
		}
	}
}

// insideLot checks every building corner against the lot's dividers (as
// lines) and its front and back, with a 0.99 m margin.
func insideLot(g *quarterGen, l *lot, b *bldg) bool {
	const m = 0.99
	var left, right func(y float64) float64
	var ylo, yhi float64
	interp := func(xf, xb, yf, yb float64) func(float64) float64 {
		return func(y float64) float64 { return xf + (xb-xf)*(y-yf)/(yb-yf) }
	}
	switch l.strip {
	case stripTop:
		left, right = interp(g.top[l.i], g.topB[l.i], g.y1, g.ym), interp(g.top[l.i+1], g.topB[l.i+1], g.y1, g.ym)
		ylo, yhi = g.ym, g.y1
	case stripBot:
		left, right = interp(g.bot[l.i], g.botB[l.i], g.y0, g.ym), interp(g.bot[l.i+1], g.botB[l.i+1], g.y0, g.ym)
		ylo, yhi = g.y0, g.ym
	default:
		left = func(float64) float64 { return g.x0 }
		right = func(float64) float64 { return g.x1 }
		ylo, yhi = g.y0, g.y1
	}
	for _, p := range b.ring() {
		if p.y < ylo+m || p.y > yhi-m || p.x < left(p.y)+m || p.x > right(p.y)-m {
			return false
		}
	}
	return true
}

func TestPlacesHaveValidCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range places {
		if !spatial.ValidEKATTE(p.ekatte) || seen[p.ekatte] {
			t.Errorf("place %s %s: invalid or repeated code", p.ekatte, p.name)
		}
		seen[p.ekatte] = true
	}
	if p := locate("00014"); p.name != "" || p.lat < 42 || p.lat > 43.5 || p.lon < 23.5 || p.lon > 26.7 {
		t.Errorf("locate(00014) = %+v, want an unnamed spot in central Bulgaria", p)
	}
}

func TestRoman(t *testing.T) {
	for n, want := range map[int]string{1: "I", 4: "IV", 9: "IX", 14: "XIV", 40: "XL", 99: "XCIX", 1994: "MCMXCIV"} {
		if got := roman(n); got != want {
			t.Errorf("roman(%d) = %q, want %q", n, got, want)
		}
	}
}

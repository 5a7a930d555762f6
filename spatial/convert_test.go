package spatial_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
	"github.com/twpayne/go-geom/encoding/wkt"

	"munigis/spatial"
)

func mustWKT(t *testing.T, s string) geom.T {
	t.Helper()
	g, err := wkt.Unmarshal(s)
	if err != nil {
		t.Fatalf("wkt.Unmarshal(%q) = %v", s, err)
	}
	return g
}

func toWKT(t *testing.T, g geom.T) string {
	t.Helper()
	s, err := wkt.Marshal(g)
	if err != nil {
		t.Fatalf("wkt.Marshal(%#v) = %v", g, err)
	}
	return s
}

var (
	square = orb.Ring{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	hole   = orb.Ring{{2, 2}, {2, 4}, {4, 4}, {2, 2}}
	tri    = orb.Ring{{20, 20}, {21, 20}, {21, 21}, {20, 20}}
)

func TestToOrbRoundTrip(t *testing.T) {
	tests := []struct {
		wkt  string
		want orb.Geometry
	}{
		{"POINT (490177.508 4735953.349)", orb.Point{490177.508, 4735953.349}},
		{"LINESTRING (0 0, 1 1, 2 0)", orb.LineString{{0, 0}, {1, 1}, {2, 0}}},
		{"LINESTRING EMPTY", orb.LineString(nil)},
		{"POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 2 2))", orb.Polygon{square, hole}},
		{"POLYGON EMPTY", orb.Polygon(nil)},
		{"MULTIPOINT ((1 2), (3 4))", orb.MultiPoint{{1, 2}, {3, 4}}},
		{"MULTIPOINT EMPTY", orb.MultiPoint{}},
		{"MULTILINESTRING ((0 0, 1 1), (2 2, 3 3, 4 2))", orb.MultiLineString{{{0, 0}, {1, 1}}, {{2, 2}, {3, 3}, {4, 2}}}},
		{"MULTILINESTRING EMPTY", orb.MultiLineString{}},
		{
			"MULTIPOLYGON (((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 2 2)), ((20 20, 21 20, 21 21, 20 20)))",
			orb.MultiPolygon{{square, hole}, {tri}},
		},
		{"MULTIPOLYGON EMPTY", orb.MultiPolygon{}},
		{
			"GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1), GEOMETRYCOLLECTION (POLYGON ((20 20, 21 20, 21 21, 20 20))))",
			orb.Collection{orb.Point{1, 2}, orb.LineString{{0, 0}, {1, 1}}, orb.Collection{orb.Polygon{tri}}},
		},
		{"GEOMETRYCOLLECTION EMPTY", orb.Collection{}},
	}
	for _, tt := range tests {
		t.Run(tt.wkt, func(t *testing.T) {
			g, err := geom.SetSRID(mustWKT(t, tt.wkt), spatial.StorageSRID)
			if err != nil {
				t.Fatal(err)
			}
			o, err := spatial.ToOrb(g)
			if err != nil {
				t.Fatalf("ToOrb(%s) = %v", tt.wkt, err)
			}
			if !orb.Equal(o, tt.want) {
				t.Errorf("ToOrb(%s) = %#v, want %#v", tt.wkt, o, tt.want)
			}
			back, err := spatial.FromOrb(o, spatial.StorageSRID)
			if err != nil {
				t.Fatalf("FromOrb(ToOrb(%s)) = %v", tt.wkt, err)
			}
			if got, want := toWKT(t, back), toWKT(t, g); got != want {
				t.Errorf("FromOrb(ToOrb(%s)) = %s, want %s", tt.wkt, got, want)
			}
			if back.SRID() != spatial.StorageSRID || back.Layout() != geom.XY {
				t.Errorf("FromOrb(ToOrb(%s)) SRID, layout = %d, %v, want %d, XY", tt.wkt, back.SRID(), back.Layout(), spatial.StorageSRID)
			}
			// The result must be writable to PostGIS and read back the same.
			data, err := ewkb.Marshal(back, binary.LittleEndian)
			if err != nil {
				t.Fatalf("ewkb.Marshal(FromOrb(ToOrb(%s))) = %v", tt.wkt, err)
			}
			read, err := ewkb.Unmarshal(data)
			if err != nil {
				t.Fatalf("ewkb.Unmarshal = %v", err)
			}
			if got, want := toWKT(t, read), toWKT(t, g); got != want || read.SRID() != spatial.StorageSRID {
				t.Errorf("EWKB round trip of %s = %s SRID %d, want %s SRID %d", tt.wkt, got, read.SRID(), want, spatial.StorageSRID)
			}
		})
	}
}

func TestToOrbDropsZM(t *testing.T) {
	tests := []struct {
		wkt  string
		want orb.Geometry
	}{
		{"POINT Z (1 2 3)", orb.Point{1, 2}},
		{"POINT M (1 2 3)", orb.Point{1, 2}},
		{"POINT ZM (1 2 3 4)", orb.Point{1, 2}},
		{"LINESTRING Z (0 0 5, 1 1 6)", orb.LineString{{0, 0}, {1, 1}}},
		{"POLYGON Z ((20 20 1, 21 20 1, 21 21 1, 20 20 1))", orb.Polygon{tri}},
		{"MULTIPOINT ZM ((1 2 3 4), (5 6 7 8))", orb.MultiPoint{{1, 2}, {5, 6}}},
		{"MULTILINESTRING M ((0 0 9, 1 1 9), (2 2 9, 3 3 9))", orb.MultiLineString{{{0, 0}, {1, 1}}, {{2, 2}, {3, 3}}}},
		{"MULTIPOLYGON Z (((20 20 1, 21 20 1, 21 21 1, 20 20 1)))", orb.MultiPolygon{{tri}}},
		{"GEOMETRYCOLLECTION Z (POINT Z (1 2 3))", orb.Collection{orb.Point{1, 2}}},
	}
	for _, tt := range tests {
		o, err := spatial.ToOrb(mustWKT(t, tt.wkt))
		if err != nil || !orb.Equal(o, tt.want) {
			t.Errorf("ToOrb(%s) = %#v, %v, want %#v, nil", tt.wkt, o, err, tt.want)
		}
	}
}

func TestToOrbEmptyPolygonInMultiPolygon(t *testing.T) {
	// MULTIPOLYGON (EMPTY, ((20 20, 21 20, 21 21, 20 20))): the first
	// polygon has no rings, so the second's ends must be rebased.
	flat := []float64{20, 20, 21, 20, 21, 21, 20, 20}
	g := geom.NewMultiPolygonFlat(geom.XY, flat, [][]int{{}, {8}})
	o, err := spatial.ToOrb(g)
	want := orb.MultiPolygon{nil, {tri}}
	if err != nil || !orb.Equal(o, want) {
		t.Errorf("ToOrb(MULTIPOLYGON (EMPTY, ...)) = %#v, %v, want %#v", o, err, want)
	}
}

func TestToOrbLinearRing(t *testing.T) {
	lr := geom.NewLinearRingFlat(geom.XY, []float64{20, 20, 21, 20, 21, 21, 20, 20})
	o, err := spatial.ToOrb(lr)
	if err != nil || !orb.Equal(o, tri) {
		t.Errorf("ToOrb(LinearRing) = %#v, %v, want %#v", o, err, tri)
	}
}

// otherGeom is a geom.T that ToOrb does not know.
type otherGeom struct{ *geom.Point }

func TestToOrbErrors(t *testing.T) {
	emptyInside := geom.NewMultiPointFlat(geom.XY, []float64{1, 2}, geom.NewMultiPointFlatOptionWithEnds([]int{0, 2}))
	tests := []struct {
		name string
		g    geom.T
		want string
	}{
		{"nil", nil, "nil geometry"},
		{"nil point", (*geom.Point)(nil), "nil *geom.Point"},
		{"nil line", (*geom.LineString)(nil), "nil *geom.LineString"},
		{"nil ring", (*geom.LinearRing)(nil), "nil *geom.LinearRing"},
		{"nil polygon", (*geom.Polygon)(nil), "nil *geom.Polygon"},
		{"nil multipoint", (*geom.MultiPoint)(nil), "nil *geom.MultiPoint"},
		{"nil multiline", (*geom.MultiLineString)(nil), "nil *geom.MultiLineString"},
		{"nil multipolygon", (*geom.MultiPolygon)(nil), "nil *geom.MultiPolygon"},
		{"nil collection", (*geom.GeometryCollection)(nil), "nil *geom.GeometryCollection"},
		{"empty point", geom.NewPointEmpty(geom.XY), "empty point"},
		{"empty point in multipoint", emptyInside, "multipoint element 0: empty point"},
		{"empty point in collection", geom.NewGeometryCollection().MustPush(geom.NewPointFlat(geom.XY, []float64{1, 2}), geom.NewPointEmpty(geom.XY)), "collection element 1"},
		{"unknown type", otherGeom{geom.NewPointFlat(geom.XY, []float64{1, 2})}, "unsupported geometry type spatial_test.otherGeom"},
		{"no layout", geom.NewLineStringFlat(geom.NoLayout, []float64{1, 2}), "stride"},
	}
	for _, tt := range tests {
		o, err := spatial.ToOrb(tt.g)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ToOrb(%s) = %#v, %v, want an error containing %q", tt.name, o, err, tt.want)
		}
	}
}

func TestToOrbDoesNotAlias(t *testing.T) {
	g := mustWKT(t, "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))")
	o, err := spatial.ToOrb(g)
	if err != nil {
		t.Fatal(err)
	}
	o.(orb.Polygon)[0][1][0] = 99
	if got := toWKT(t, g); got != "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))" {
		t.Errorf("changing ToOrb's result changed the input to %s", got)
	}
}

func TestFromOrb(t *testing.T) {
	tests := []struct {
		name string
		g    orb.Geometry
		want string
	}{
		{"point", orb.Point{23.32, 42.69}, "POINT (23.32 42.69)"},
		{"open polygon ring is closed", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}}}, "POLYGON ((0 0, 1 0, 1 1, 0 0))"},
		{"ring becomes polygon", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}, "POLYGON ((0 0, 1 0, 1 1, 0 0))"},
		{"open ring becomes closed polygon", orb.Ring{{0, 0}, {1, 0}, {1, 1}}, "POLYGON ((0 0, 1 0, 1 1, 0 0))"},
		{"bound becomes rectangle", orb.Bound{Min: orb.Point{1, 2}, Max: orb.Point{3, 4}}, "POLYGON ((1 2, 3 2, 3 4, 1 4, 1 2))"},
		{"open multipolygon rings are closed", orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}}}, {tri}}, "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((20 20, 21 20, 21 21, 20 20)))"},
		{"nested collection", orb.Collection{orb.Collection{orb.Point{1, 2}}, orb.MultiPoint{{3, 4}}}, "GEOMETRYCOLLECTION (GEOMETRYCOLLECTION (POINT (1 2)), MULTIPOINT (3 4))"},
		{"nil line", orb.LineString(nil), "LINESTRING EMPTY"},
	}
	for _, tt := range tests {
		g, err := spatial.FromOrb(tt.g, spatial.SRIDWGS84)
		if err != nil {
			t.Errorf("FromOrb(%s) = %v", tt.name, err)
			continue
		}
		if got := toWKT(t, g); got != tt.want || g.SRID() != spatial.SRIDWGS84 {
			t.Errorf("FromOrb(%s) = %s SRID %d, want %s SRID %d", tt.name, got, g.SRID(), tt.want, spatial.SRIDWGS84)
		}
	}
}

func TestFromOrbCollectionSRID(t *testing.T) {
	g, err := spatial.FromOrb(orb.Collection{orb.Point{1, 2}, orb.Collection{orb.Point{3, 4}}}, spatial.StorageSRID)
	if err != nil {
		t.Fatal(err)
	}
	gc := g.(*geom.GeometryCollection)
	if gc.SRID() != spatial.StorageSRID {
		t.Errorf("FromOrb(collection).SRID() = %d, want %d", gc.SRID(), spatial.StorageSRID)
	}
	for i, child := range gc.Geoms() {
		if child.SRID() != 0 {
			t.Errorf("FromOrb(collection) element %d SRID = %d, want 0 (the collection carries it)", i, child.SRID())
		}
	}
}

func TestFromOrbErrors(t *testing.T) {
	tests := []struct {
		name string
		g    orb.Geometry
		want string
	}{
		{"nil", nil, "nil geometry"},
		{"nil in collection", orb.Collection{orb.Point{1, 2}, nil}, "collection element 1: spatial: from orb: nil geometry"},
	}
	for _, tt := range tests {
		g, err := spatial.FromOrb(tt.g, 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FromOrb(%s) = %v, %v, want an error containing %q", tt.name, g, err, tt.want)
		}
	}
}

func TestFromOrbDoesNotAlias(t *testing.T) {
	in := orb.LineString{{0, 0}, {1, 1}}
	g, err := spatial.FromOrb(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	in[0][0] = 99
	if got := toWKT(t, g); got != "LINESTRING (0 0, 1 1)" {
		t.Errorf("changing FromOrb's input changed the result to %s", got)
	}
}

// TestOrbRoundTrip checks orb -> go-geom -> orb for every type orb.AllGeometries
// lists that FromOrb maps onto itself.
func TestOrbRoundTrip(t *testing.T) {
	for _, g := range []orb.Geometry{
		orb.Point{1, 2},
		orb.MultiPoint{{1, 2}, {3, 4}},
		orb.LineString{{1, 2}, {3, 4}},
		orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}},
		orb.Polygon{square, hole},
		orb.MultiPolygon{{square, hole}, {tri}},
		orb.Collection{orb.Point{1, 2}, orb.MultiPolygon{{tri}}, orb.Collection{}},
	} {
		gg, err := spatial.FromOrb(g, spatial.StorageSRID)
		if err != nil {
			t.Fatalf("FromOrb(%#v) = %v", g, err)
		}
		back, err := spatial.ToOrb(gg)
		if err != nil || !orb.Equal(back, g) {
			t.Errorf("ToOrb(FromOrb(%#v)) = %#v, %v, want the input", g, back, err)
		}
	}
}

func TestPromote(t *testing.T) {
	tests := []struct {
		wkt  string
		want string
	}{
		{"POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 2 2))", "MULTIPOLYGON (((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 2 2)))"},
		{"POLYGON Z ((20 20 1, 21 20 1, 21 21 1, 20 20 1))", "MULTIPOLYGON Z (((20 20 1, 21 20 1, 21 21 1, 20 20 1)))"},
		{"POLYGON EMPTY", "MULTIPOLYGON EMPTY"},
		{"LINESTRING (0 0, 1 1)", "MULTILINESTRING ((0 0, 1 1))"},
		{"LINESTRING M (0 0 3, 1 1 4)", "MULTILINESTRING M ((0 0 3, 1 1 4))"},
		{"LINESTRING EMPTY", "MULTILINESTRING EMPTY"},
		{"POINT (1 2)", "POINT (1 2)"},
		{"MULTIPOLYGON (((20 20, 21 20, 21 21, 20 20)))", "MULTIPOLYGON (((20 20, 21 20, 21 21, 20 20)))"},
		{"MULTILINESTRING ((0 0, 1 1))", "MULTILINESTRING ((0 0, 1 1))"},
		{"MULTIPOINT ((1 2))", "MULTIPOINT (1 2)"},
		{"GEOMETRYCOLLECTION (POLYGON ((20 20, 21 20, 21 21, 20 20)))", "GEOMETRYCOLLECTION (POLYGON ((20 20, 21 20, 21 21, 20 20)))"},
	}
	for _, tt := range tests {
		g, err := geom.SetSRID(mustWKT(t, tt.wkt), spatial.StorageSRID)
		if err != nil {
			t.Fatal(err)
		}
		got := spatial.Promote(g)
		if s := toWKT(t, got); s != tt.want || got.SRID() != spatial.StorageSRID {
			t.Errorf("Promote(%s) = %s SRID %d, want %s SRID %d", tt.wkt, s, got.SRID(), tt.want, spatial.StorageSRID)
		}
		if _, err := ewkb.Marshal(got, binary.LittleEndian); err != nil {
			t.Errorf("ewkb.Marshal(Promote(%s)) = %v", tt.wkt, err)
		}
	}
}

func TestPromoteIdentityAndAliasing(t *testing.T) {
	p := geom.NewPointFlat(geom.XY, []float64{1, 2})
	if got := spatial.Promote(p); got != geom.T(p) {
		t.Errorf("Promote(point) = %v, want the same point", got)
	}
	if got := spatial.Promote(nil); got != nil {
		t.Errorf("Promote(nil) = %v, want nil", got)
	}
	var nilPoly *geom.Polygon
	if got := spatial.Promote(nilPoly); got != geom.T(nilPoly) {
		t.Errorf("Promote((*geom.Polygon)(nil)) = %v, want it back", got)
	}
	var nilLine *geom.LineString
	if got := spatial.Promote(nilLine); got != geom.T(nilLine) {
		t.Errorf("Promote((*geom.LineString)(nil)) = %v, want it back", got)
	}

	poly := mustWKT(t, "POLYGON ((0 0, 1 0, 1 1, 0 0))")
	mp := spatial.Promote(poly).(*geom.MultiPolygon)
	mp.FlatCoords()[0] = 99
	mp.Endss()[0][0] = 2
	if got := toWKT(t, poly); got != "POLYGON ((0 0, 1 0, 1 1, 0 0))" {
		t.Errorf("changing Promote's result changed the input polygon to %s", got)
	}
	line := mustWKT(t, "LINESTRING (0 0, 1 1)")
	ml := spatial.Promote(line).(*geom.MultiLineString)
	ml.FlatCoords()[0] = 99
	if got := toWKT(t, line); got != "LINESTRING (0 0, 1 1)" {
		t.Errorf("changing Promote's result changed the input line to %s", got)
	}
}

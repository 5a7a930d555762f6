package spatial

import (
	"errors"
	"fmt"
	"slices"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
)

// ToOrb converts a go-geom geometry, as read from PostGIS, to the orb
// geometry used for tiles and GeoJSON. It handles Point, LineString,
// LinearRing (to orb.Ring), Polygon, MultiPoint, MultiLineString,
// MultiPolygon and GeometryCollection, recursively.
//
// orb is two-dimensional, so Z and M values are dropped rather than refused:
// web output (GeoJSON, MVT) draws in 2D, and refusing would make every 3D
// survey import unviewable. orb has no SRID either; the caller keeps it.
// Coordinates are copied, so the result does not alias g.
//
// ToOrb returns an error for nil, for an empty Point (orb has no empty point;
// orb.Point{} is 0,0), for a MultiPoint containing an empty point, and for
// other geometry types.
func ToOrb(g geom.T) (orb.Geometry, error) {
	switch g := g.(type) {
	case nil:
		return nil, errors.New("spatial: to orb: nil geometry")
	case *geom.Point:
		if g == nil {
			return nil, errors.New("spatial: to orb: nil *geom.Point")
		}
		if g.Empty() {
			return nil, errors.New("spatial: to orb: empty point has no orb equivalent")
		}
		pts, err := orbPoints(g.FlatCoords(), g.Stride())
		if err != nil {
			return nil, err
		}
		return pts[0], nil
	case *geom.LineString:
		if g == nil {
			return nil, errors.New("spatial: to orb: nil *geom.LineString")
		}
		pts, err := orbPoints(g.FlatCoords(), g.Stride())
		return orb.LineString(pts), err
	case *geom.LinearRing:
		if g == nil {
			return nil, errors.New("spatial: to orb: nil *geom.LinearRing")
		}
		pts, err := orbPoints(g.FlatCoords(), g.Stride())
		return orb.Ring(pts), err
	case *geom.Polygon:
		if g == nil {
			return nil, errors.New("spatial: to orb: nil *geom.Polygon")
		}
		return orbPolygon(g.FlatCoords(), g.Ends(), g.Stride())
	case *geom.MultiPoint:
		if g == nil {
			return nil, errors.New("spatial: to orb: nil *geom.MultiPoint")
		}
		out := make(orb.MultiPoint, g.NumPoints())
		for i := range out {
			p := g.Point(i)
			if p.Empty() {
				return nil, fmt.Errorf("spatial: to orb: multipoint element %d: empty point has no orb equivalent", i)
			}
			pts, err := orbPoints(p.FlatCoords(), g.Stride())
			if err != nil {
				return nil, err
			}
			out[i] = pts[0]
		}
		return out, nil
	case *geom.MultiLineString:
		if g == nil {
			return nil, errors.New("spatial: to orb: nil *geom.MultiLineString")
		}
		flat, stride := g.FlatCoords(), g.Stride()
		out := make(orb.MultiLineString, 0, len(g.Ends()))
		start := 0
		for _, end := range g.Ends() {
			pts, err := orbPoints(flat[start:end], stride)
			if err != nil {
				return nil, err
			}
			out = append(out, orb.LineString(pts))
			start = end
		}
		return out, nil
	case *geom.MultiPolygon:
		if g == nil {
			return nil, errors.New("spatial: to orb: nil *geom.MultiPolygon")
		}
		out := make(orb.MultiPolygon, g.NumPolygons())
		for i := range out {
			// Polygon(i) rebases the ends, which may skip empty polygons.
			p := g.Polygon(i)
			poly, err := orbPolygon(p.FlatCoords(), p.Ends(), g.Stride())
			if err != nil {
				return nil, err
			}
			out[i] = poly
		}
		return out, nil
	case *geom.GeometryCollection:
		if g == nil {
			return nil, errors.New("spatial: to orb: nil *geom.GeometryCollection")
		}
		out := make(orb.Collection, g.NumGeoms())
		for i, child := range g.Geoms() {
			c, err := ToOrb(child)
			if err != nil {
				return nil, fmt.Errorf("spatial: to orb: collection element %d: %w", i, err)
			}
			out[i] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("spatial: to orb: unsupported geometry type %T", g)
}

// orbPoints copies flat coordinates of any layout into orb points, keeping X
// and Y only.
func orbPoints(flat []float64, stride int) ([]orb.Point, error) {
	if len(flat) == 0 {
		return nil, nil
	}
	if stride < 2 || len(flat)%stride != 0 {
		return nil, fmt.Errorf("spatial: to orb: %d coordinates do not fit stride %d", len(flat), stride)
	}
	pts := make([]orb.Point, len(flat)/stride)
	for i := range pts {
		pts[i] = orb.Point{flat[i*stride], flat[i*stride+1]}
	}
	return pts, nil
}

func orbPolygon(flat []float64, ends []int, stride int) (orb.Polygon, error) {
	if len(ends) == 0 {
		return nil, nil
	}
	out := make(orb.Polygon, 0, len(ends))
	start := 0
	for _, end := range ends {
		pts, err := orbPoints(flat[start:end], stride)
		if err != nil {
			return nil, err
		}
		out = append(out, orb.Ring(pts))
		start = end
	}
	return out, nil
}

// FromOrb converts an orb geometry to a 2D (geom.XY) go-geom geometry with
// the given SRID, ready to be written to PostGIS. It handles Point,
// MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon and
// Collection; an orb.Ring becomes a one-ring Polygon and an orb.Bound its
// rectangle Polygon, since neither is a type PostGIS stores.
//
// Rings that are not closed are closed by repeating their first point:
// orb tolerates open rings but PostGIS rejects them. Elements of a
// GeometryCollection get SRID 0 and the collection carries srid, the way
// PostGIS writes EWKB. Coordinates are copied, so the result does not alias g.
//
// FromOrb returns an error for nil and for geometry types it does not know.
func FromOrb(g orb.Geometry, srid int) (geom.T, error) {
	switch g := g.(type) {
	case nil:
		return nil, errors.New("spatial: from orb: nil geometry")
	case orb.Point:
		return geom.NewPointFlat(geom.XY, []float64{g[0], g[1]}).SetSRID(srid), nil
	case orb.MultiPoint:
		return geom.NewMultiPointFlat(geom.XY, flatPoints(nil, g)).SetSRID(srid), nil
	case orb.LineString:
		return geom.NewLineStringFlat(geom.XY, flatPoints(nil, g)).SetSRID(srid), nil
	case orb.MultiLineString:
		var flat []float64
		var ends []int
		for _, ls := range g {
			flat = flatPoints(flat, ls)
			ends = append(ends, len(flat))
		}
		return geom.NewMultiLineStringFlat(geom.XY, flat, ends).SetSRID(srid), nil
	case orb.Ring:
		return fromOrbPolygon(orb.Polygon{g}, srid), nil
	case orb.Bound:
		return fromOrbPolygon(g.ToPolygon(), srid), nil
	case orb.Polygon:
		return fromOrbPolygon(g, srid), nil
	case orb.MultiPolygon:
		var flat []float64
		var endss [][]int
		for _, p := range g {
			var ends []int
			flat, ends = flatRings(flat, p)
			endss = append(endss, ends)
		}
		return geom.NewMultiPolygonFlat(geom.XY, flat, endss).SetSRID(srid), nil
	case orb.Collection:
		// The layout is set even when empty so that EWKB encoding of
		// GEOMETRYCOLLECTION EMPTY works.
		gc := geom.NewGeometryCollection().MustSetLayout(geom.XY)
		for i, child := range g {
			c, err := FromOrb(child, 0)
			if err != nil {
				return nil, fmt.Errorf("spatial: from orb: collection element %d: %w", i, err)
			}
			if err := gc.Push(c); err != nil {
				return nil, fmt.Errorf("spatial: from orb: collection element %d: %w", i, err)
			}
		}
		return gc.SetSRID(srid), nil
	}
	return nil, fmt.Errorf("spatial: from orb: unsupported geometry type %T", g)
}

func flatPoints(flat []float64, pts []orb.Point) []float64 {
	flat = slices.Grow(flat, 2*len(pts))
	for _, p := range pts {
		flat = append(flat, p[0], p[1])
	}
	return flat
}

// flatRings appends the rings of p to flat, closing open rings, and returns
// the ends of the rings as offsets into flat.
func flatRings(flat []float64, p orb.Polygon) ([]float64, []int) {
	ends := make([]int, 0, len(p))
	for _, r := range p {
		flat = flatPoints(flat, r)
		if len(r) > 0 && !r.Closed() {
			flat = append(flat, r[0][0], r[0][1])
		}
		ends = append(ends, len(flat))
	}
	return flat, ends
}

func fromOrbPolygon(p orb.Polygon, srid int) *geom.Polygon {
	flat, ends := flatRings(nil, p)
	return geom.NewPolygonFlat(geom.XY, flat, ends).SetSRID(srid)
}

// Promote turns a Polygon into a one-polygon MultiPolygon and a LineString
// into a one-line MultiLineString, keeping layout and SRID, so that imported
// single geometries fit MULTI* columns. An empty Polygon or LineString
// becomes an empty multi-geometry. Points stay points, and every other value,
// nil included, is returned as it is; a promoted result does not alias g.
func Promote(g geom.T) geom.T {
	switch g := g.(type) {
	case *geom.Polygon:
		if g == nil {
			return g
		}
		var endss [][]int
		if g.NumLinearRings() > 0 {
			endss = [][]int{slices.Clone(g.Ends())}
		}
		return geom.NewMultiPolygonFlat(g.Layout(), slices.Clone(g.FlatCoords()), endss).SetSRID(g.SRID())
	case *geom.LineString:
		if g == nil {
			return g
		}
		var ends []int
		if !g.Empty() {
			ends = []int{len(g.FlatCoords())}
		}
		return geom.NewMultiLineStringFlat(g.Layout(), slices.Clone(g.FlatCoords()), ends).SetSRID(g.SRID())
	}
	return g
}

package gdalio

import (
	"fmt"

	"github.com/twpayne/go-geom"
)

// storageSRID is the SRID of every feature table's geom column (EPSG:7801,
// stored x = easting, y = northing).
const storageSRID = 7801

// Plausible bounds of municipal data in EPSG:7801, x = easting: the
// longitude/latitude box 21.0–29.5°E, 40.5–45.0°N (Bulgaria with some 50 km
// to spare) transformed with PROJ. Coordinates outside it after the
// transformation mean the source CRS is wrong or missing: northing and
// easting swapped, a local system, degrees labelled as metres, and so on.
const (
	minEasting  = 110000
	maxEasting  = 850000
	minNorthing = 4480000
	maxNorthing = 5000000
)

// inBulgaria reports whether the whole of g lies within the plausible bounds.
func inBulgaria(g geom.T) bool {
	b := g.Bounds()
	return b.Min(0) >= minEasting && b.Max(0) <= maxEasting &&
		b.Min(1) >= minNorthing && b.Max(1) <= maxNorthing
}

// fitGeometry turns g (already in EPSG:7801) into a value for a geometry
// column of type target: drops Z and M (feature columns are 2D), wraps a
// single geometry into its Multi kind, unwraps a one-part Multi for a
// single column, and takes a GeometryCollection apart when all its members
// are of the right kind. It sets the SRID. The error says what does not fit,
// for a message that names the feature.
func fitGeometry(g geom.T, target string) (geom.T, error) {
	g = force2D(g)
	var out geom.T
	switch target {
	case "Point":
		switch v := g.(type) {
		case *geom.Point:
			out = v
		case *geom.MultiPoint:
			if v.NumPoints() != 1 {
				return nil, partsError(g, v.NumPoints(), target)
			}
			out = v.Point(0)
		}
	case "LineString":
		switch v := g.(type) {
		case *geom.LineString:
			out = v
		case *geom.MultiLineString:
			if v.NumLineStrings() != 1 {
				return nil, partsError(g, v.NumLineStrings(), target)
			}
			out = v.LineString(0)
		}
	case "Polygon":
		switch v := g.(type) {
		case *geom.Polygon:
			out = v
		case *geom.MultiPolygon:
			if v.NumPolygons() != 1 {
				return nil, partsError(g, v.NumPolygons(), target)
			}
			out = v.Polygon(0)
		}
	case "MultiPoint":
		mp := geom.NewMultiPoint(geom.XY)
		if collect(g, func(p geom.T) bool {
			switch v := p.(type) {
			case *geom.Point:
				return mp.Push(v) == nil
			case *geom.MultiPoint:
				for i := 0; i < v.NumPoints(); i++ {
					if mp.Push(v.Point(i)) != nil {
						return false
					}
				}
				return true
			}
			return false
		}) {
			out = mp
		}
	case "MultiLineString":
		ml := geom.NewMultiLineString(geom.XY)
		if collect(g, func(p geom.T) bool {
			switch v := p.(type) {
			case *geom.LineString:
				return ml.Push(v) == nil
			case *geom.MultiLineString:
				for i := 0; i < v.NumLineStrings(); i++ {
					if ml.Push(v.LineString(i)) != nil {
						return false
					}
				}
				return true
			}
			return false
		}) {
			out = ml
		}
	case "MultiPolygon":
		mp := geom.NewMultiPolygon(geom.XY)
		if collect(g, func(p geom.T) bool {
			switch v := p.(type) {
			case *geom.Polygon:
				return mp.Push(v) == nil
			case *geom.MultiPolygon:
				for i := 0; i < v.NumPolygons(); i++ {
					if mp.Push(v.Polygon(i)) != nil {
						return false
					}
				}
				return true
			}
			return false
		}) {
			out = mp
		}
	default:
		return nil, fmt.Errorf("the layer's geometry type %s is not supported", target)
	}
	if out == nil {
		return nil, fmt.Errorf("a %s does not fit this layer, which holds %s geometries", typeName(g), target)
	}
	if out.Empty() {
		return nil, fmt.Errorf("the geometry is empty")
	}
	return geom.SetSRID(out, storageSRID)
}

// collect feeds g, or each member of a GeometryCollection, to push and
// reports whether all were accepted.
func collect(g geom.T, push func(geom.T) bool) bool {
	gc, ok := g.(*geom.GeometryCollection)
	if !ok {
		return push(g)
	}
	for _, m := range gc.Geoms() {
		if !push(force2D(m)) {
			return false
		}
	}
	return true
}

func partsError(g geom.T, n int, target string) error {
	return fmt.Errorf("a %s with %d parts does not fit this layer, which holds single %s geometries", typeName(g), n, target)
}

func typeName(g geom.T) string {
	switch g.(type) {
	case *geom.Point:
		return "Point"
	case *geom.LineString:
		return "LineString"
	case *geom.Polygon:
		return "Polygon"
	case *geom.MultiPoint:
		return "MultiPoint"
	case *geom.MultiLineString:
		return "MultiLineString"
	case *geom.MultiPolygon:
		return "MultiPolygon"
	case *geom.GeometryCollection:
		return "GeometryCollection"
	}
	return fmt.Sprintf("%T", g)
}

// force2D drops Z and M: feature columns are 2D, and PostGIS refuses a 3D
// geometry in a 2D column (KML, DXF and many GeoJSON files carry heights).
func force2D(g geom.T) geom.T {
	if g.Layout() == geom.XY || g.Layout() == geom.NoLayout {
		return g
	}
	if gc, ok := g.(*geom.GeometryCollection); ok {
		out := geom.NewGeometryCollection()
		for _, m := range gc.Geoms() {
			_ = out.Push(force2D(m))
		}
		return out
	}
	stride := g.Stride()
	flat := g.FlatCoords()
	xy := make([]float64, 0, len(flat)/stride*2)
	for i := 0; i+1 < len(flat); i += stride {
		xy = append(xy, flat[i], flat[i+1])
	}
	scale := func(ends []int) []int {
		out := make([]int, len(ends))
		for i, e := range ends {
			out[i] = e / stride * 2
		}
		return out
	}
	switch v := g.(type) {
	case *geom.Point:
		return geom.NewPointFlat(geom.XY, xy)
	case *geom.LineString:
		return geom.NewLineStringFlat(geom.XY, xy)
	case *geom.Polygon:
		return geom.NewPolygonFlat(geom.XY, xy, scale(v.Ends()))
	case *geom.MultiPoint:
		return geom.NewMultiPointFlat(geom.XY, xy, geom.NewMultiPointFlatOptionWithEnds(scale(v.Ends())))
	case *geom.MultiLineString:
		return geom.NewMultiLineStringFlat(geom.XY, xy, scale(v.Ends()))
	case *geom.MultiPolygon:
		endss := make([][]int, len(v.Endss()))
		for i, ends := range v.Endss() {
			endss[i] = scale(ends)
		}
		return geom.NewMultiPolygonFlat(geom.XY, xy, endss)
	}
	return g
}

package layers

import (
	"github.com/twpayne/go-geom"
)

// Filter selects features by their attributes, geometry or ids. It is the
// one filter model of the feature store: WFS turns FES 2.0 / Filter 1.1 XML
// into it, OGC API Features its query parameters, and later the planner's
// search its own form. The store compiles it to SQL with bind parameters,
// checking every property name against the attributes the caller may see
// (Query.Attributes), so a filter can neither inject SQL nor probe a field
// the caller may not read.
//
// The concrete filters are the types below; the interface is sealed.
type Filter interface{ isFilter() }

// CompareOp is a comparison operator of Compare.
type CompareOp string

// Comparison operators (FES 2.0 names in the comments).
const (
	Eq CompareOp = "="  // PropertyIsEqualTo
	Ne CompareOp = "<>" // PropertyIsNotEqualTo
	Lt CompareOp = "<"  // PropertyIsLessThan
	Le CompareOp = "<=" // PropertyIsLessThanOrEqualTo
	Gt CompareOp = ">"  // PropertyIsGreaterThan
	Ge CompareOp = ">=" // PropertyIsGreaterThanOrEqualTo
)

// Compare compares an attribute with a literal. Value may be a string (it is
// then parsed by the attribute's type, see ParseValue), int64, float64 or
// bool. MatchCase false compares text case-insensitively.
type Compare struct {
	Property  string
	Op        CompareOp
	Value     any
	MatchCase bool
}

// Between keeps features whose attribute lies in [Lower, Upper].
type Between struct {
	Property     string
	Lower, Upper any
}

// Like matches a text attribute against Pattern, in which Wildcard matches
// any run of characters, SingleChar one character and Escape makes the next
// character literal (FES PropertyIsLike; defaults '*', '.', '!' when zero).
// On a property that is not text, the value's text form is matched.
type Like struct {
	Property                     string
	Pattern                      string
	Wildcard, SingleChar, Escape rune
	MatchCase                    bool
}

// IsNull keeps features whose attribute is NULL.
type IsNull struct{ Property string }

// And keeps features matching every filter; an empty And matches all.
type And []Filter

// Or keeps features matching any filter; an empty Or matches none.
type Or []Filter

// Not keeps features not matching F, including those for which F is
// unknown because an attribute it compares is NULL (SQL's plain NOT would
// drop them).
type Not struct{ F Filter }

// IDs keeps the features with these ids (FES ResourceId).
type IDs []int64

// SpatialOp is a spatial operator of Spatial.
type SpatialOp string

// Spatial operators (FES 2.0 names).
const (
	BBoxOp     SpatialOp = "BBOX" // the feature's box meets the geometry's box
	Intersects SpatialOp = "Intersects"
	Within     SpatialOp = "Within" // the feature lies within the geometry
	Contains   SpatialOp = "Contains"
	Disjoint   SpatialOp = "Disjoint"
	Touches    SpatialOp = "Touches"
	Crosses    SpatialOp = "Crosses"
	Overlaps   SpatialOp = "Overlaps"
	Equals     SpatialOp = "Equals"
	DWithin    SpatialOp = "DWithin" // within Distance metres
	Beyond     SpatialOp = "Beyond"  // farther than Distance metres
)

// Spatial relates each feature's geometry to Geometry, whose SRID
// (geom.T.SRID()) must be set to one of spatial.SupportedCRS; coordinates
// are x = easting/longitude whatever the CRS's axis order (protocols swap
// them on the way in). Distance, in metres, is for DWithin and Beyond.
type Spatial struct {
	Op       SpatialOp
	Geometry geom.T
	Distance float64
}

// Sort orders features by an attribute (or "id").
type Sort struct {
	Property string
	Desc     bool
}

func (Compare) isFilter() {}
func (Between) isFilter() {}
func (Like) isFilter()    {}
func (IsNull) isFilter()  {}
func (And) isFilter()     {}
func (Or) isFilter()      {}
func (Not) isFilter()     {}
func (IDs) isFilter()     {}
func (Spatial) isFilter() {}

package spatial

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// SRIDs of the coordinate reference systems munigis accepts. They are EPSG
// codes and equal the PostGIS SRIDs.
const (
	SRIDWGS84          = 4326  // WGS 84, geographic; EPSG axis order lat, lon
	SRIDWebMercator    = 3857  // WGS 84 / Pseudo-Mercator; easting first
	SRIDCCS2005        = 7801  // BGS2005 / CCS2005, the cadastral system; EPSG order northing, easting
	SRIDBGS2005UTM34NE = 7799  // BGS2005 / UTM zone 34N (N-E); northing first
	SRIDBGS2005UTM35NE = 7800  // BGS2005 / UTM zone 35N (N-E); northing first
	SRIDWGS84UTM35N    = 32635 // WGS 84 / UTM zone 35N; easting first
	SRIDBGS2005UTM35N  = 9391  // BGS2005 / UTM zone 35N (E-N); replaces the deprecated 7804; absent from PostGIS 3.3
)

// StorageSRID is the SRID of every geometry column in the database. Stored
// geometries have x = easting and y = northing although EPSG defines 7801
// northing first: PostGIS ignores the EPSG axis order.
const StorageSRID = SRIDCCS2005

// Notation is the way a CRS was written. It matters for axis order: the OGC
// URN and http URI notations always mean the EPSG axis order, while a short
// code such as EPSG:4326 means it only where the protocol says so.
type Notation int

const (
	NotationCode Notation = iota // EPSG:7801, epsg:7801, 7801, CRS:84, OGC:CRS84
	NotationURN                  // urn:ogc:def:crs:EPSG::7801, urn:ogc:def:crs:OGC:1.3:CRS84
	NotationURI                  // http://www.opengis.net/def/crs/EPSG/0/7801 and the https form
)

// String returns "code", "URN" or "URI".
func (n Notation) String() string {
	switch n {
	case NotationCode:
		return "code"
	case NotationURN:
		return "URN"
	case NotationURI:
		return "URI"
	}
	return "Notation(" + strconv.Itoa(int(n)) + ")"
}

// CRS is a coordinate reference system munigis accepts, as returned by
// ParseCRS or SupportedCRS.
type CRS struct {
	// SRID is the EPSG code, which is also the PostGIS SRID. OGC CRS84 has
	// SRID 4326: it is the same datum with the axes the other way round.
	SRID int
	// NorthingFirst tells whether the authority (EPSG, or OGC for CRS84)
	// defines the first axis as northing or latitude. Whether a given
	// request actually sends northing first depends on the protocol; see
	// AxisNorthingFirst.
	NorthingFirst bool
	// Name is the EPSG name, e.g. "BGS2005 / CCS2005".
	Name string
	// CRS84 marks OGC CRS84: WGS 84 with longitude first everywhere.
	CRS84 bool
	// Notation records how the CRS was written; SupportedCRS returns
	// NotationCode.
	Notation Notation
}

// supported lists the accepted systems in the order error messages and
// SupportedCRS give them.
var supported = []CRS{
	{SRID: SRIDWGS84, NorthingFirst: true, Name: "WGS 84"},
	{SRID: SRIDWGS84, Name: "WGS 84 (CRS84)", CRS84: true},
	{SRID: SRIDWebMercator, Name: "WGS 84 / Pseudo-Mercator"},
	{SRID: SRIDCCS2005, NorthingFirst: true, Name: "BGS2005 / CCS2005"},
	{SRID: SRIDBGS2005UTM34NE, NorthingFirst: true, Name: "BGS2005 / UTM zone 34N (N-E)"},
	{SRID: SRIDBGS2005UTM35NE, NorthingFirst: true, Name: "BGS2005 / UTM zone 35N (N-E)"},
	{SRID: SRIDWGS84UTM35N, Name: "WGS 84 / UTM zone 35N"},
	{SRID: SRIDBGS2005UTM35N, Name: "BGS2005 / UTM zone 35N"},
}

// SupportedCRS returns the systems ParseCRS accepts, in NotationCode. The
// caller may modify the returned slice.
func SupportedCRS() []CRS {
	out := make([]CRS, len(supported))
	copy(out, supported)
	return out
}

// String returns the short code, "EPSG:7801" or "CRS:84", or "" for the zero
// CRS.
func (c CRS) String() string {
	switch {
	case c.CRS84:
		return "CRS:84"
	case c.SRID == 0:
		return ""
	}
	return "EPSG:" + strconv.Itoa(c.SRID)
}

// URI returns the OGC http URI, e.g.
// "http://www.opengis.net/def/crs/EPSG/0/7801" or
// "http://www.opengis.net/def/crs/OGC/1.3/CRS84", as OGC API Features uses
// it. It returns "" for the zero CRS.
func (c CRS) URI() string {
	switch {
	case c.CRS84:
		return "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	case c.SRID == 0:
		return ""
	}
	return "http://www.opengis.net/def/crs/EPSG/0/" + strconv.Itoa(c.SRID)
}

// URN returns the OGC URN, e.g. "urn:ogc:def:crs:EPSG::7801" or
// "urn:ogc:def:crs:OGC:1.3:CRS84", as WFS 2.0 uses it in srsName. It returns
// "" for the zero CRS.
func (c CRS) URN() string {
	switch {
	case c.CRS84:
		return "urn:ogc:def:crs:OGC:1.3:CRS84"
	case c.SRID == 0:
		return ""
	}
	return "urn:ogc:def:crs:EPSG::" + strconv.Itoa(c.SRID)
}

// AxisNorthingFirst reports whether coordinates given in c put northing (or
// latitude) first. ogcStrict tells whether the protocol follows the authority
// axis order for short codes: true for WMS 1.3.0, WFS 2.0 and OGC API
// bbox-crs/crs parameters; false for WMS 1.1.1, WFS 1.0, GeoJSON, MVT and
// PostGIS, which are always easting first.
//
// The URN and http URI notations follow the authority order whatever
// ogcStrict says, because OGC defined them to remove the ambiguity. So in
// strict contexts EPSG:4326, 7801, 7799 and 7800 are northing first, and
// CRS:84, 3857, 32635 and 9391 are always easting first.
func (c CRS) AxisNorthingFirst(ogcStrict bool) bool {
	if !c.NorthingFirst {
		return false
	}
	return ogcStrict || c.Notation == NotationURN || c.Notation == NotationURI
}

// UnsupportedCRSError is returned by ParseCRS for a CRS it cannot read or
// does not support.
type UnsupportedCRSError struct {
	Input string
}

// Error names the input and lists the supported systems.
func (e *UnsupportedCRSError) Error() string {
	names := make([]string, len(supported))
	for i, c := range supported {
		names[i] = c.String()
	}
	return fmt.Sprintf("unsupported CRS %q: supported are %s", e.Input, strings.Join(names, ", "))
}

// ParseCRS reads a CRS written in any of the notations OGC services meet:
//
//	EPSG:7801, epsg:7801, 7801
//	urn:ogc:def:crs:EPSG::7801, urn:ogc:def:crs:EPSG:6.3:7801, urn:x-ogc:def:crs:EPSG:7801
//	http://www.opengis.net/def/crs/EPSG/0/7801 (also https)
//	CRS:84, OGC:CRS84, urn:ogc:def:crs:OGC:1.3:CRS84,
//	http://www.opengis.net/def/crs/OGC/1.3/CRS84
//
// Matching ignores case and surrounding whitespace, since clients vary. Only
// the systems of SupportedCRS are accepted; anything else returns an
// *UnsupportedCRSError naming the input and listing the supported systems.
func ParseCRS(s string) (CRS, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	unsupported := &UnsupportedCRSError{Input: s}

	if l == "crs:84" || l == "ogc:crs84" {
		return crs84(NotationCode), nil
	}
	if code, ok := strings.CutPrefix(l, "epsg:"); ok {
		return lookupEPSG(code, NotationCode, unsupported)
	}
	if isDigits(l) {
		return lookupEPSG(l, NotationCode, unsupported)
	}

	// urn:ogc:def:crs:{authority}:{version}:{code}, version possibly empty.
	// The older urn:x-ogc form and a missing version field are both still
	// sent by clients, so both are read.
	for _, prefix := range []string{"urn:ogc:def:crs:", "urn:x-ogc:def:crs:"} {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rest, ":")
		if len(parts) == 2 {
			parts = []string{parts[0], "", parts[1]}
		}
		if len(parts) != 3 || !isVersion(parts[1]) {
			return CRS{}, unsupported
		}
		return lookupAuthority(parts[0], parts[2], NotationURN, unsupported)
	}

	// http://www.opengis.net/def/crs/{authority}/{version}/{code}
	for _, prefix := range []string{"http://www.opengis.net/def/crs/", "https://www.opengis.net/def/crs/"} {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rest, "/")
		if len(parts) != 3 || parts[1] == "" || !isVersion(parts[1]) {
			return CRS{}, unsupported
		}
		return lookupAuthority(parts[0], parts[2], NotationURI, unsupported)
	}
	return CRS{}, unsupported
}

func lookupAuthority(authority, code string, n Notation, unsupported error) (CRS, error) {
	switch authority {
	case "epsg":
		return lookupEPSG(code, n, unsupported)
	case "ogc":
		if code == "crs84" {
			return crs84(n), nil
		}
	}
	return CRS{}, unsupported
}

func lookupEPSG(code string, n Notation, unsupported error) (CRS, error) {
	if !isDigits(code) || len(code) > 9 {
		return CRS{}, unsupported
	}
	srid, _ := strconv.Atoi(code)
	for _, c := range supported {
		if c.SRID == srid && !c.CRS84 {
			c.Notation = n
			return c, nil
		}
	}
	return CRS{}, unsupported
}

func crs84(n Notation) CRS {
	for _, c := range supported {
		if c.CRS84 {
			c.Notation = n
			return c
		}
	}
	panic("spatial: CRS84 missing from the supported list")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func notDecimal(r rune) bool {
	return !('0' <= r && r <= '9') && r != '.' && r != '-' && r != '+' && r != 'e' && r != 'E'
}

// isVersion accepts an EPSG or OGC version such as "", "0", "6.3" or "1.3".
func isVersion(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

// BBox is an axis-aligned bounding box with X = easting or longitude and
// Y = northing or latitude, whatever order it arrived in. CRS is the system
// the numbers are in. A box may be degenerate (Min == Max) but never
// inverted.
type BBox struct {
	MinX, MinY, MaxX, MaxY float64
	CRS                    CRS
}

// Bound returns b as an orb.Bound (X = easting, Y = northing).
func (b BBox) Bound() orb.Bound {
	return orb.Bound{Min: orb.Point{b.MinX, b.MinY}, Max: orb.Point{b.MaxX, b.MaxY}}
}

// ParseBBox parses the bbox request parameter "a,b,c,d": two corners as
// minimum then maximum. When northingFirst is true the input is
// "minN,minE,maxN,maxE" (WMS 1.3.0 with EPSG:7801 or EPSG:4326, for example;
// use crs.AxisNorthingFirst) and the axes are swapped so that the BBox is
// always easting first. Spaces around the numbers are allowed.
//
// A fifth element, as WFS 1.1 and 2.0 allow, names the CRS of the box. It is
// parsed with ParseCRS, replaces crs in the result, and decides the axis
// order under OGC rules (its AxisNorthingFirst(true)) instead of
// northingFirst, because a client that writes the CRS into the box follows
// the EPSG axis order of that CRS.
//
// ParseBBox returns an error when there are not 4 numbers, when an element is
// not a finite number, when a minimum exceeds its maximum (boxes crossing the
// antimeridian are not supported), or when the fifth element is not a
// supported CRS.
func ParseBBox(s string, crs CRS, northingFirst bool) (BBox, error) {
	parts := strings.Split(s, ",")
	if len(parts) == 5 {
		c, err := ParseCRS(parts[4])
		if err != nil {
			return BBox{}, fmt.Errorf("bbox %s: element 5: %w", quoteInput(s), err)
		}
		crs = c
		northingFirst = c.AxisNorthingFirst(true)
		parts = parts[:4]
	}
	if len(parts) != 4 {
		elements := "elements"
		if len(parts) == 1 {
			elements = "element"
		}
		return BBox{}, fmt.Errorf("bbox %s: has %d %s, want 4 numbers (minimum and maximum corner), optionally followed by a CRS",
			quoteInput(s), len(parts), elements)
	}
	var v [4]float64
	for i, p := range parts {
		p = strings.TrimSpace(p)
		f, err := strconv.ParseFloat(p, 64)
		switch {
		case p == "":
			return BBox{}, fmt.Errorf("bbox %s: element %d is empty, want a number", quoteInput(s), i+1)
		case errors.Is(err, strconv.ErrRange):
			return BBox{}, fmt.Errorf("bbox %s: element %d (%s) is out of range", quoteInput(s), i+1, quoteInput(p))
		case err != nil:
			return BBox{}, fmt.Errorf("bbox %s: element %d (%s) is not a number", quoteInput(s), i+1, quoteInput(p))
		case math.IsNaN(f) || math.IsInf(f, 0):
			return BBox{}, fmt.Errorf("bbox %s: element %d (%s) is not a finite number", quoteInput(s), i+1, quoteInput(p))
		case strings.ContainsFunc(p, notDecimal):
			// ParseFloat also takes hex floats and digit underscores, which
			// no OGC client sends; refusing them keeps the syntax that of
			// the standards.
			return BBox{}, fmt.Errorf("bbox %s: element %d (%s) is not a decimal number", quoteInput(s), i+1, quoteInput(p))
		}
		v[i] = f
	}

	b := BBox{MinX: v[0], MinY: v[1], MaxX: v[2], MaxY: v[3], CRS: crs}
	xAt, yAt := 1, 2 // element numbers of the first X and Y values, for messages
	if northingFirst {
		b = BBox{MinX: v[1], MinY: v[0], MaxX: v[3], MaxY: v[2], CRS: crs}
		xAt, yAt = 2, 1
	}
	xName, yName := "easting", "northing"
	if crs.SRID == SRIDWGS84 {
		xName, yName = "longitude", "latitude"
	}
	if b.MinX > b.MaxX {
		return BBox{}, fmt.Errorf("bbox %s: minimum %s %v (element %d) is greater than maximum %s %v (element %d)",
			quoteInput(s), xName, b.MinX, xAt, xName, b.MaxX, xAt+2)
	}
	if b.MinY > b.MaxY {
		return BBox{}, fmt.Errorf("bbox %s: minimum %s %v (element %d) is greater than maximum %s %v (element %d)",
			quoteInput(s), yName, b.MinY, yAt, yName, b.MaxY, yAt+2)
	}
	return b, nil
}

// Package spatial holds the small, dependency-free spatial vocabulary that
// every other munigis package shares: the Bulgarian cadastral identifier and
// EKATTE code, the coordinate reference systems munigis accepts with their
// axis order, bounding-box parsing, and the conversion between the two
// geometry models used in the code base.
//
// # Cadastral identifiers
//
// [Identifier] is the identifier of a real property defined by Наредба
// РД-02-20-3/2016: an EKATTE settlement code followed by two to four
// dot-separated numbers, ЕКАТТЕ.район.имот[.сграда[.самостоятелен обект]].
// [Parse] applies the project rule: the EKATTE code must carry a valid
// mod-11 check digit ([ValidEKATTE]) and every further field must be a
// positive integer without leading zeros. Field widths are not capped,
// because the cadastre moves to 10000+ area and 1000+ parcel numbers when the
// shorter ones run out. Identifiers are stored as text, never as numbers.
//
// # Coordinate reference systems and axis order
//
// Geometries are stored in [StorageSRID] (EPSG:7801, BGS2005 / CCS2005) with
// x = easting and y = northing, whatever the EPSG axis order says. The EPSG
// definitions of 4326, 7801, 7799 and 7800 put northing (latitude) first, and
// OGC protocols that follow the EPSG order (WMS 1.3.0, WFS 2.0, URN and
// http URI notations) therefore send northing first. [ParseCRS] records how a
// CRS was written so that [CRS.AxisNorthingFirst] can tell which order a
// request uses, and [ParseBBox] swaps axes at that boundary so that nothing
// behind it has to.
//
// # Geometry models
//
// go-geom ([github.com/twpayne/go-geom]) is used at the database boundary,
// orb ([github.com/paulmach/orb]) for tiles and GeoJSON. [ToOrb], [FromOrb]
// and [Promote] in convert.go are the only place where the two meet.
//
// This package imports no other munigis package.
package spatial

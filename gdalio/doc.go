// Package gdalio imports and exports layer data through GDAL (godal).
//
// # Import
//
// Import reads a file GDAL opens as vector data (a shapefile with its .prj
// and .cpg, GeoJSON, GeoPackage, KML, DXF, CSV with a WKT column) and
// appends its features to a local munigis layer:
//
//   - One pass, one transaction. A goroutine locked to one OS thread reads
//     the file with GDAL and hands rows in batches of 512 to pgx.CopyFrom,
//     which streams them into features.<layer> inside a transaction that
//     carries the actor (set_config('munigis.actor', …, true)). Nothing is
//     committed unless every feature was read, converted and accepted by
//     the database's triggers and constraints, and memory stays flat: a
//     million parcels import in well under 100 MB.
//   - Coordinates. Every geometry is transformed by GDAL from the file's
//     CRS (or --srs) to EPSG:7801 with x = easting on both sides: godal
//     builds spatial references with OAMS_TRADITIONAL_GIS_ORDER, and the
//     file's own CRS is rebuilt from its WKT so that godal sets it too.
//     EPSG defines 7801 northing first; PostGIS and every file format
//     store easting first. A geometry that lands outside Bulgaria (with
//     some 50 km to spare) is refused with a message saying the CRS is
//     wrong, and whether the coordinates look swapped or like degrees.
//   - Geometry kinds. Curves are linearised, Z and M dropped, a Polygon
//     becomes a one-part MultiPolygon for a MultiPolygon layer (and so on),
//     a one-part Multi fits a single layer; anything else names the
//     feature and both kinds. With MakeValid, geometries that GEOS finds
//     invalid are repaired by PostGIS's ST_MakeValid on a second
//     connection before they are copied; without it the layer's trigger
//     rejects them (SQLSTATE MG001) and the COPY line becomes the feature
//     number of the message.
//   - Attributes. Layer attributes take the source field of the same name
//     (exact, then ignoring case, then the 10-character shapefile name
//     that Export writes), or the field given in ImportOptions.Map. Values
//     are converted in Go by the attribute's type, so "abc" in a number
//     field is reported with the file, feature and field, and empty text
//     is NULL. Enumerations and required attributes are checked in Go too;
//     cadastral identifiers and uniqueness are left to the database, whose
//     errors are mapped back to the feature.
//   - Encodings. A shapefile's .cpg is honoured; one that declares no
//     encoding (no .cpg, language driver 0 or 87) is read as CP1251, the
//     encoding of Bulgarian Windows desktop GIS. --encoding overrides it,
//     and also recodes CSV text and sets DXF_ENCODING.
//
// Every error meant for a person is a *munigis.Error with code Invalid
// whose message starts with the file's name, e.g.
//
//	parcels.shp: feature 1234: field area_m2: "abc" is not a number
//	parcels.shp: feature 17: cannot be read: Error in fread() …; the file is damaged or incomplete
//	parcels.geojson: feature 3: invalid geometry: Self-intersection at POINT(…)
//
// # Export
//
// Export streams a layer's rows (id order) from PostGIS into a new
// GeoPackage, GeoJSON (EPSG:4326 by default), shapefile or CSV (geometry as
// WKT, with .csvt and .prj) file, one field per attribute typed from the
// layer type. The file appears only when complete, and an existing one is
// replaced only with Overwrite. A DBF holds field names of at most 10
// characters: Export shortens longer attribute names itself,
// deterministically (built_area_m2 → built_area; a clash ends in _1, _2),
// and Import falls back to the same short names, so an exported shapefile
// imports back without --map. Shapefile text is written as UTF-8 with a
// .cpg (ExportOptions.Encoding for CP1251), 254 bytes wide.
//
// # godal
//
// godal v0.0.18 lacks a few things this package needs: it reads a null
// field as 0 or "", has no layer schema, reports no error from
// NextFeature, and creates layers without creation options. The first
// three are reached through the C handles of godal's Layer and Feature
// (read with unsafe; see gdal.go, checked on every open and by the tests),
// the last by building the empty layer in memory and copying it with
// GDAL's ogr2ogr (VectorTranslate), which takes -lco.
package gdalio

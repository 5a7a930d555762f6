// Package ogcapi serves OGC API – Features at /ogc: Part 1 Core (OGC
// 17-069r4) with GeoJSON, HTML and an OpenAPI 3.0 definition, Part 2
// Coordinate Reference Systems by Reference (OGC 18-058r1), and the Part 4
// draft's create, replace, update (PATCH) and delete of single features.
//
// It is a thin HTTP layer over layers.Store, in the manner of pg_featureserv,
// pygeoapi and GeoServer's OGC API module: a collection is a local layer the
// caller may read (access.Viewer decides; a layer the caller may not read
// answers exactly like a missing one), items are the layer's features with
// the attributes the caller may see, and every edit goes through
// layers.Store.Edit, so that versions and audit come from the database
// triggers exactly as for every other way of editing.
//
// Axis order follows Part 2: coordinates, bbox values and request bodies are
// in the axis order of their CRS, so EPSG:4326 is latitude first and the
// default CRS84 longitude first. spatial.CRS.AxisNorthingFirst(true) decides.
package ogcapi

// Package layers owns the layer catalog (layer types with their typed
// attribute schemas, and the layers built on them) and the feature store:
// one PostGIS table features.<layer> per local layer, in the storage CRS
// EPSG:7801, with an indexed EPSG:3857 copy for tiles. Stamping (who, when,
// version), geometry validation and the history of earlier versions are
// database triggers (migrations/000002), so edits made straight in PostGIS are
// kept as faithfully as edits made through munigis.
package layers

// Package tiles builds Mapbox Vector Tiles straight from PostGIS, caches
// them in memory and drops cached tiles when the database announces an edit.
//
// # Building
//
// One SQL statement per tile, one round trip, however many layers the tile
// holds: SELECT (SELECT ST_AsMVT(...) FROM (...)) || (SELECT ...). Each
// layer's subquery filters with geom_3857 && ST_TileEnvelope(z, x, y,
// margin => buffer/extent), which the GiST index on geom_3857 answers, and
// passes the geometry through ST_AsMVTGeom (extent 4096, buffer 64 by
// default, clipping on). Only the attributes the caller passes (those the
// viewer may see, from package access) are selected; the feature id is the
// MVT feature id. The SQL text depends only on the layer set, the
// attribute set and the zoom class (generalised or not), so pgx caches its
// description once per connection (QueryExecModeCacheDescribe) and a tile
// costs one round trip; it runs as an unnamed statement, planned for its
// own z/x/y, because a generic plan of a named prepared statement cannot
// suit both a z9 tile over a whole municipality and a z16 tile over a
// street (measured: 150 ms became 2.6 s, and worse).
//
// # Generalisation
//
// Below a layer's detail zoom (Config.DetailZoom, default 14) lines and
// polygons are simplified with ST_Simplify at half a pixel, features whose
// bounding box is smaller than one pixel in both directions are dropped, and
// the features kept are the biggest (larger side of the bounding box) up to
// Config.MaxFeatures (5,000). That size is munigis_geom_size(geom_3857),
// which migration 000006 indexes on every line and polygon layer, so a
// low-zoom tile reads only the few big features rather than every feature
// under it. A "pixel" is 1/512 of the tile width: MapLibre draws a
// vector tile 512 CSS pixels wide. At and above the detail zoom nothing is
// simplified or dropped; Config.DetailMaxFeatures (50,000) still applies, as
// a safety.
//
// A layer's min_zoom/max_zoom are honoured: outside them a layer contributes
// nothing, and a tile with no feature at all is returned as empty bytes
// (the web layer answers it with 204 No Content, which MapLibre and QGIS
// treat as an empty tile).
//
// Each tile query runs under a context deadline of Config.Timeout (default
// 5 s; pgx cancels the statement in the server when it expires), and at most
// Config.MaxConcurrent tile queries run at once, so that a storm of slow
// tiles cannot take every pooled connection from the rest of munigis; of
// those, at most Config.MaxConcurrentGeneral are generalised low-zoom
// queries, so that a few heavy tiles at a time finish inside the deadline
// rather than many sharing the CPU and all missing it.
// Concurrent requests for the same uncached tile share one query.
//
// # Caching and invalidation
//
// Cache holds raw and gzipped tiles, bounded in bytes (least recently used
// go first), keyed by the layer set with each layer's visible attribute
// set, z/x/y. Keys are indexed by layer and zoom, so invalidating an extent
// looks only at the cached tiles of that layer that can intersect it.
//
// Migration 000006 makes every statement that changes features send, at
// commit, NOTIFY munigis_tiles '{"layer": ..., "bbox": [minx, miny, maxx,
// maxy]}' (EPSG:3857, old and new geometries), and every catalog change
// '{"all": true}'. Listen keeps a dedicated connection (not from the pool)
// listening on that channel and drops the cached tiles, at every zoom, that
// the extent touches (with the tile buffer). After a reconnect it drops
// everything, since notifications may have been missed. A tile whose query
// overlapped an invalidation of one of its layers is served but not cached,
// so a tile read before a commit is never cached after that commit's
// notification.
package tiles

// Package render draws WMS map images of munigis layers in Go, from
// PostGIS: a style model of its own (an SLD 1.0 subset: rules with
// equality filters and scale ranges, polygon, line, point and text
// symbolizers), built-in named styles per built-in layer type in the
// palette of the MapLibre styles (web/handle_styles.go), SLD parsing,
// the per-layer SQL, rasterising, labels, legends and PNG/JPEG encoding.
//
// Drawing is built for throughput: one SQL statement per layer selects
// the rows whose geometry box meets the map's envelope, transformed once
// to the storage CRS so the GiST index is used; geometries come back as
// WKB already transformed to the map's CRS and, at small scales,
// simplified to about half a pixel, and are decoded straight into pixel
// coordinates. Each rule's fills and strokes of a layer are gathered into
// one path and rasterised with one anti-aliased pass of
// golang.org/x/image/vector (chosen over fogleman/gg and tdewolff/canvas:
// it has an SIMD accumulator and a fast path for a uniform colour over
// *image.RGBA, and needs no other dependency), so a map costs a few
// full-image passes per layer however many features it holds.
//
// The package speaks no HTTP: web/wms parses the protocol and calls a
// Renderer through an interface.
package render

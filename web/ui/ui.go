// Package ui holds the browser assets that munigis serves under /ui/:
// MapLibre GL JS and its CSS (from the npm registry) and the SDF glyphs for
// map labels, all built into dist/ by `make ui` (npm ci, then build.mjs) and
// embedded in the binary, so the map page works offline, without a CDN.
//
// dist/ is generated, not committed: go:embed needs it at compile time, so
// every make target that compiles (build, run, test) runs `make ui` first.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// FS is the content of dist/: maplibre-gl.js, maplibre-gl.css,
// maplibre-gl.LICENSE.txt and glyphs/{fontstack}/{start}-{end}.pbf.
var FS fs.FS

// Fontstack is the font of the glyphs in FS, for a style's text-font.
const Fontstack = "DejaVu Sans"

func init() {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err)
	}
	FS = sub
}

package gdalio

import (
	"strconv"
	"strings"

	"munigis/layers"
)

// maxShapefileName is the longest field name a DBF holds.
const maxShapefileName = 10

// shapefileNames returns the DBF field name of each attribute of t: the
// name itself when it fits in 10 characters, else its first 10, and on a
// clash the first 10-len(suffix) characters with _1, _2, ... appended.
// Export writes these names, so GDAL truncates nothing itself; import
// falls back to them when a layer attribute has no field of its full name,
// so an exported shapefile maps back without --map. The result depends only
// on the attribute list, which is why both sides agree.
func shapefileNames(t layers.Type) map[string]string {
	out := make(map[string]string, len(t.Attributes))
	taken := map[string]bool{}
	// Names that fit keep them, whatever their position, so that a long
	// name never takes a short name's slot.
	for _, a := range t.Attributes {
		if len(a.Name) <= maxShapefileName {
			out[a.Name] = a.Name
			taken[strings.ToLower(a.Name)] = true
		}
	}
	for _, a := range t.Attributes {
		if len(a.Name) <= maxShapefileName {
			continue
		}
		name := a.Name[:maxShapefileName]
		for i := 1; taken[strings.ToLower(name)]; i++ {
			suffix := "_" + strconv.Itoa(i)
			name = a.Name[:maxShapefileName-len(suffix)] + suffix
		}
		out[a.Name] = name
		taken[strings.ToLower(name)] = true
	}
	return out
}

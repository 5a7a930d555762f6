package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/paulmach/orb/geojson"

	"munigis/layers"
	"munigis/spatial"
)

// featureJSON turns a stored feature into a GeoJSON feature. Properties
// are the attributes the caller may see (the store returned only those)
// plus the bookkeeping every feature has.
func featureJSON(f layers.Feature) (*geojson.Feature, error) {
	g, err := spatial.ToOrb(f.Geometry)
	if err != nil {
		return nil, fmt.Errorf("web: feature %d: %w", f.ID, err)
	}
	out := geojson.NewFeature(g)
	out.ID = f.ID
	for k, v := range f.Properties {
		out.Properties[k] = v
	}
	out.Properties["version"] = f.Version
	out.Properties["created_at"] = f.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")
	out.Properties["updated_at"] = f.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z")
	return out, nil
}

// crsMember is the (pre-RFC 7946) GeoJSON "crs" member, written when
// coordinates are not WGS84 longitude/latitude; GDAL and QGIS read it.
func crsMember(srid int) map[string]any {
	if srid == spatial.SRIDWGS84 {
		return nil
	}
	return map[string]any{"type": "name", "properties": map[string]string{
		"name": "urn:ogc:def:crs:EPSG::" + strconv.Itoa(srid)}}
}

// writeGeoJSON writes v (a feature or collection) as application/geo+json.
func writeGeoJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("web: encode GeoJSON: %w", err)
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, err = w.Write(b)
	return err
}

type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

func withQuery(u *url.URL, set map[string]string) string {
	q := u.Query()
	for k, v := range set {
		q.Set(k, v)
	}
	c := *u
	c.RawQuery = q.Encode()
	return c.RequestURI()
}

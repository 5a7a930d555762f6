package remote

import (
	"context"
	"encoding/json"
	"image"
	"net/url"
	"strconv"
	"strings"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/geojson"

	"munigis"
	"munigis/layers"
	"munigis/render"
	"munigis/spatial"
)

// A layer whose Source is "wfs" is drawn here from another server's
// features: one GetFeature per map image (or tile) for the features in
// its box, as GeoJSON in the map's CRS, drawn with the default style of
// the layer's type by render.DrawFeatures. It goes through the same
// timeout, size cap, cache, shared fetch and remembered failure as a
// remote WMS image, and a failure gives the same error tile.

// marginPx widens the GetFeature box by this many pixels on every side,
// as the local renderer widens its query, so that the strokes and markers
// of features just outside a tile still reach into it.
const marginPx = 16

// featureMap is Map for a remote WFS layer; the arguments are checked.
func (c *Client) featureMap(ctx context.Context, l layers.Layer, crs spatial.CRS,
	minx, miny, maxx, maxy float64, width, height int) (image.Image, error) {
	// Outside the layer's zoom range nothing is drawn and the remote is
	// not asked; a min_zoom is also what keeps a layer of many features
	// within MaxFeatures a map.
	if !render.Visible(l, render.ScaleDenominator(crs, minx, miny, maxx, maxy, width)) {
		return image.NewRGBA(image.Rect(0, 0, width, height)), nil
	}
	mx := marginPx * (maxx - minx) / float64(width)
	my := marginPx * (maxy - miny) / float64(height)
	u, err := GetFeatureURL(l.SourceURL, l.SourceLayer, crs, minx-mx, miny-my, maxx+mx, maxy+my, c.cfg.MaxFeatures)
	if err != nil {
		return nil, err
	}
	// The URL holds the widened box; with the size it determines the map,
	// so the two make the cache key.
	key := "wfs " + strconv.Itoa(width) + "x" + strconv.Itoa(height) + " " + u
	return c.cached(ctx, l, key, width, height, func(ctx context.Context) (image.Image, error) {
		feats, err := c.getFeatures(ctx, l, u, crs, [4]float64{minx - mx, miny - my, maxx + mx, maxy + my})
		if err != nil {
			return nil, err
		}
		img, err := render.DrawFeatures(l, crs, minx, miny, maxx, maxy, width, height, feats)
		if err != nil {
			return nil, failure(l, u, err, "the remote's features cannot be drawn")
		}
		return img, nil
	})
}

// getFeatures makes one GetFeature request and reads the GeoJSON answer
// into features with x = easting, whatever order the remote wrote.
func (c *Client) getFeatures(ctx context.Context, l layers.Layer, u string, crs spatial.CRS, box [4]float64) ([]layers.Feature, error) {
	body, _, err := c.get(ctx, l, u, "application/json, application/geo+json;q=0.9, */*;q=0.1", isJSON, "GeoJSON")
	if err != nil {
		return nil, err
	}
	// The body is within MaxBytes, and encoding/json bounds its own
	// nesting depth, so decoding it whole is bounded too.
	var fc geojson.FeatureCollection
	if err := json.Unmarshal(body, &fc); err != nil {
		return nil, failure(l, u, err, "the answer is not a GeoJSON feature collection")
	}
	feats := make([]layers.Feature, 0, len(fc.Features))
	for _, f := range fc.Features {
		if f == nil || f.Geometry == nil {
			continue
		}
		feats = append(feats, layers.Feature{ID: featureID(f.ID), Geometry: f.Geometry, Properties: f.Properties})
	}
	if crs.NorthingFirst && northingFirstAnswer(feats, box) {
		for _, f := range feats {
			swapXY(f.Geometry)
		}
	}
	return feats, nil
}

// northingFirstAnswer tells whether a remote wrote the coordinates of a
// northing-first CRS (EPSG:4326, 7801, ...) northing first. RFC 7946 and
// munigis write GeoJSON x (easting) first whatever the CRS, but some
// servers follow the axis order of a urn: srsName in GeoJSON as in GML.
// The remote answered what lies in the box it was given, so: when no
// feature meets the box read x first and some do read y first, the answer
// is y first. When both readings meet it (a box almost symmetric about
// the diagonal) x first, the standard, wins.
func northingFirstAnswer(feats []layers.Feature, box [4]float64) bool {
	inXY, inYX := 0, 0
	for _, f := range feats {
		b := f.Geometry.Bounds()
		if b == nil || b.IsEmpty() {
			continue
		}
		if overlaps(b.Min(0), b.Min(1), b.Max(0), b.Max(1), box) {
			inXY++
		}
		if overlaps(b.Min(1), b.Min(0), b.Max(1), b.Max(0), box) {
			inYX++
		}
	}
	return inXY == 0 && inYX > 0
}

func overlaps(minx, miny, maxx, maxy float64, box [4]float64) bool {
	return minx <= box[2] && maxx >= box[0] && miny <= box[3] && maxy >= box[1]
}

// swapXY swaps the first two ordinates of every coordinate of g in place.
func swapXY(g geom.T) {
	if gc, ok := g.(*geom.GeometryCollection); ok {
		for _, c := range gc.Geoms() {
			swapXY(c)
		}
		return
	}
	flat, stride := g.FlatCoords(), g.Stride()
	for i := 0; i+1 < len(flat); i += stride {
		flat[i], flat[i+1] = flat[i+1], flat[i]
	}
}

// featureID reads the number of a GeoJSON feature id, "layer.12" as
// munigis, GeoServer and MapServer write them, or "12"; 0 when there is
// none. It only serves the "id" property of a style.
func featureID(s string) int64 {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// isJSON accepts the media types WFS servers give GeoJSON:
// application/json (munigis, GeoServer, MapServer),
// application/geo+json, application/vnd.geo+json, text/json.
func isJSON(ctype string) bool {
	return ctype == "application/json" || ctype == "text/json" || strings.HasSuffix(ctype, "+json")
}

// GetFeatureURL builds the GetFeature request for the features of
// typeName in the box on the WFS at base, as GeoJSON in crs, at most count
// of them. The box is given with x = easting/longitude. base may carry
// parameters of its own (MapServer's MAP=…, an API key), which are kept;
// WFS parameters in it are replaced, except VERSION: VERSION=1.1.0 (or
// 1.0.0) in base selects WFS 1.1.0 (QGIS Server has no 2.0), anything
// else WFS 2.0.0.
//
// The box carries its CRS as a URN, whose axis order is the authority's
// in both versions (so EPSG:4326 and the Bulgarian EPSG:7801/7799/7800 go
// northing first), and SRSNAME is the same URN: the remote then needs no
// guess about what a bare code means.
func GetFeatureURL(base, typeName string, crs spatial.CRS, minx, miny, maxx, maxy float64, count int) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", munigis.Errorf(munigis.Invalid, "remote WFS URL %q is not an http(s) URL", base)
	}
	if typeName == "" {
		return "", munigis.Errorf(munigis.Invalid, "remote WFS %s: the layer has no source_layer (the remote's TYPENAMES name)", u.Host)
	}
	if crs.SRID == 0 {
		return "", munigis.Errorf(munigis.Invalid, "remote WFS %s: no CRS given", u.Host)
	}
	q := u.Query()
	version := "2.0.0"
	for k, vs := range q {
		if strings.EqualFold(k, "VERSION") && len(vs) > 0 {
			switch strings.TrimSpace(vs[0]) {
			case "1.1.0", "1.0.0":
				version = "1.1.0"
			}
		}
	}
	for k := range q {
		switch strings.ToUpper(k) {
		case "SERVICE", "REQUEST", "VERSION", "TYPENAMES", "TYPENAME", "BBOX", "SRSNAME", "OUTPUTFORMAT",
			"COUNT", "MAXFEATURES", "STARTINDEX", "RESULTTYPE", "FILTER", "RESOURCEID", "FEATUREID",
			"PROPERTYNAME", "SORTBY", "STOREDQUERY_ID", "EXCEPTIONS":
			delete(q, k)
		}
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	bbox := []string{f(minx), f(miny), f(maxx), f(maxy)}
	// crs.URN() is what is sent, so its axis order is the URN's.
	if crs.AxisNorthingFirst(true) {
		bbox = []string{f(miny), f(minx), f(maxy), f(maxx)}
	}
	q.Set("SERVICE", "WFS")
	q.Set("REQUEST", "GetFeature")
	q.Set("VERSION", version)
	if version == "2.0.0" {
		q.Set("TYPENAMES", typeName)
		q.Set("COUNT", strconv.Itoa(count))
	} else {
		q.Set("TYPENAME", typeName)
		q.Set("MAXFEATURES", strconv.Itoa(count))
	}
	q.Set("BBOX", strings.Join(bbox, ",")+","+crs.URN())
	q.Set("SRSNAME", crs.URN())
	q.Set("OUTPUTFORMAT", "application/json")
	// Encode sorts the keys: the same request is always the same URL, the
	// cache key.
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

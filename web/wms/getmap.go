package wms

import (
	"bytes"
	"context"
	"image/color"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"munigis/access"
	"munigis/layers"
	"munigis/render"
	"munigis/spatial"
)

// offeredCRS are the systems capabilities list and GetMap accepts, in
// capabilities order. EPSG:9391, which spatial also knows, is left out:
// PostGIS 3.3 cannot transform to it.
var offeredCRS = []string{"EPSG:7801", "EPSG:3857", "EPSG:4326", "CRS:84", "EPSG:32635", "EPSG:7799", "EPSG:7800"}

// parseCRS reads the CRS (1.3.0) or SRS (1.1.1) parameter; either name is
// accepted in both versions, as clients mix them up.
func parseCRS(q *request) (spatial.CRS, error) {
	name, param := "CRS", q.get("CRS")
	if q.version == v111 || param == "" {
		if v := q.get("SRS"); v != "" {
			name, param = "SRS", v
		}
	}
	if param == "" {
		if q.version == v111 {
			name = "SRS"
		}
		return spatial.CRS{}, fail(codeMissing, name, name+" is missing: use one of "+strings.Join(offeredCRS, ", "))
	}
	c, err := spatial.ParseCRS(param)
	if err == nil {
		for _, o := range offeredCRS {
			if c.String() == o {
				return c, nil
			}
		}
	}
	return spatial.CRS{}, fail(codeInvalidCRS, name, name+" "+quote(param)+" is not supported: use one of "+strings.Join(offeredCRS, ", "))
}

// parseFormat maps a FORMAT value to an image format; clients spell PNG8
// several ways.
func parseFormat(f string) (render.Format, bool) {
	switch strings.ToLower(strings.ReplaceAll(f, " ", "")) {
	case "image/png", "png":
		return render.PNG, true
	case "image/png;mode=8bit", "image/png8", "png8", "image/png;mode=8-bit":
		return render.PNG8, true
	case "image/jpeg", "image/jpg", "jpeg", "jpg":
		return render.JPEG, true
	}
	return "", false
}

func contentType(f render.Format) string {
	if f == render.JPEG {
		return "image/jpeg"
	}
	return "image/png"
}

// size reads WIDTH or HEIGHT: a whole number from 1 to the maximum.
func (s *Service) size(q *request, name string, maxV int) (int, error) {
	v := q.get(name)
	if v == "" {
		return 0, fail(codeMissing, name, name+" is missing")
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > maxV {
		return 0, fail(codeInvalid, name, name+" "+quote(v)+" must be a whole number from 1 to "+strconv.Itoa(maxV))
	}
	return n, nil
}

// background reads BGCOLOR (0xRRGGBB, default white) and TRANSPARENT.
func background(q *request) (color.NRGBA, bool, error) {
	bg := color.NRGBA{R: 255, G: 255, B: 255, A: 255}
	if v := q.get("BGCOLOR"); v != "" {
		h := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(v), "0x"), "#")
		n, err := strconv.ParseUint(h, 16, 32)
		if err != nil || len(h) != 6 {
			return bg, false, fail(codeInvalid, "BGCOLOR", "BGCOLOR "+quote(v)+" must be 0xRRGGBB")
		}
		bg = color.NRGBA{R: uint8(n >> 16), G: uint8(n >> 8), B: uint8(n), A: 255}
	}
	transparent := false
	switch strings.ToUpper(q.get("TRANSPARENT")) {
	case "", "FALSE":
	case "TRUE":
		transparent = true
	default:
		return bg, false, fail(codeInvalid, "TRANSPARENT", "TRANSPARENT "+quote(q.get("TRANSPARENT"))+" must be TRUE or FALSE")
	}
	return bg, transparent, nil
}

// mapView is the part of a GetMap that GetFeatureInfo repeats: the layers
// with their styles, the CRS, the box and the size.
type mapView struct {
	layers        []render.MapLayer
	crs           spatial.CRS
	bbox          spatial.BBox
	width, height int
}

// parseView reads LAYERS, STYLES, SLD_BODY, CRS/SRS, BBOX, WIDTH and
// HEIGHT, checking each and naming the first at fault.
func (s *Service) parseView(ctx context.Context, q *request) (*mapView, error) {
	var sld []render.NamedLayer
	if body := q.get("SLD_BODY"); body != "" {
		var err error
		if sld, err = render.ParseSLD(strings.NewReader(body)); err != nil {
			return nil, fail(codeInvalid, "SLD_BODY", errText(err))
		}
	} else if q.get("SLD") != "" {
		return nil, fail(codeInvalid, "SLD", "SLD by reference is not supported: send the document in SLD_BODY")
	}
	names := splitList(q.get("LAYERS"))
	if len(names) == 0 && len(sld) > 0 {
		for _, nl := range sld {
			names = append(names, nl.Layer)
		}
	}
	if len(names) == 0 {
		return nil, fail(codeMissing, "LAYERS", "LAYERS is missing: name at least one layer (see GetCapabilities)")
	}
	styles := splitList(q.get("STYLES"))
	if len(styles) > 0 && len(styles) != len(names) && !(len(styles) == 1 && styles[0] == "") {
		return nil, fail(codeStyleNotDefined, "STYLES", "STYLES names "+strconv.Itoa(len(styles))+" styles for "+strconv.Itoa(len(names))+" layers: give one per layer, or none")
	}
	ls, err := s.readable(ctx, q.viewer)
	if err != nil {
		return nil, err
	}
	crs, err := parseCRS(q)
	if err != nil {
		return nil, err
	}
	v := &mapView{crs: crs}
	for i, name := range names {
		l, err := layerNamed(ls, name, "LAYERS")
		if err != nil {
			return nil, err
		}
		styleName := ""
		if i < len(styles) {
			styleName = styles[i]
		}
		st, err := pickStyle(l, styleName, sld)
		if err != nil {
			return nil, err
		}
		ml := render.MapLayer{Layer: l, Style: st, Attributes: q.viewer.Attributes(l)}
		if st != nil {
			// A style may read only the fields the caller may see, or its
			// colours and labels would reveal the hidden ones.
			if err := st.Check(l, ml.Attributes); err != nil {
				if len(sld) > 0 {
					return nil, fail(codeInvalid, "SLD_BODY", errText(err))
				}
				return nil, fail(codeStyleNotDefined, "STYLES", errText(err))
			}
		}
		v.layers = append(v.layers, ml)
	}
	if v.width, err = s.size(q, "WIDTH", s.d.MaxWidth); err != nil {
		return nil, err
	}
	if v.height, err = s.size(q, "HEIGHT", s.d.MaxHeight); err != nil {
		return nil, err
	}
	bbox := q.get("BBOX")
	if bbox == "" {
		return nil, fail(codeMissing, "BBOX", "BBOX is missing")
	}
	northingFirst := crs.AxisNorthingFirst(q.version == v130)
	b, err := spatial.ParseBBox(bbox, crs, northingFirst)
	if err != nil {
		return nil, fail(codeInvalid, "BBOX", err.Error())
	}
	if b.CRS.SRID != crs.SRID || b.CRS.CRS84 != crs.CRS84 {
		return nil, fail(codeInvalid, "BBOX", "BBOX names a CRS other than the request's")
	}
	if !(b.MaxX > b.MinX) || !(b.MaxY > b.MinY) {
		return nil, fail(codeInvalid, "BBOX", "BBOX "+quote(bbox)+" is empty: each minimum must be below its maximum")
	}
	v.bbox = b
	return v, nil
}

// pickStyle resolves a layer's style: its UserStyle (or NamedStyle) in
// SLD_BODY, else the STYLES entry among its named styles, else its
// default.
func pickStyle(l layers.Layer, name string, sld []render.NamedLayer) (*render.Style, error) {
	for _, nl := range sld {
		if nl.Layer != l.Name {
			continue
		}
		for _, st := range nl.Styles {
			if name == "" || strings.EqualFold(st.Name, name) {
				return st, nil
			}
		}
		if nl.NamedStyle != "" && name == "" {
			name = nl.NamedStyle
		}
	}
	if !l.Local() {
		return nil, nil
	}
	st, ok := render.StyleFor(l, name)
	if !ok {
		return nil, fail(codeStyleNotDefined, "STYLES", "style "+quote(name)+" is not defined for layer "+l.Name+" (see its Style list in GetCapabilities)")
	}
	return st, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// errText is the safe message of an error of package render or spatial.
func errText(err error) string {
	if we := asWMS(err); we.cause == nil {
		return we.msg
	}
	return "invalid value"
}

func (s *Service) getMap(w http.ResponseWriter, r *http.Request, q *request) error {
	fv := q.get("FORMAT")
	if fv == "" {
		return fail(codeMissing, "FORMAT", "FORMAT is missing: use image/png, image/png; mode=8bit or image/jpeg")
	}
	format, ok := parseFormat(fv)
	if !ok {
		return fail(codeInvalidFormat, "FORMAT", "FORMAT "+quote(fv)+" is not supported: use image/png, image/png; mode=8bit or image/jpeg")
	}
	bg, transparent, err := background(q)
	if err != nil {
		return err
	}
	v, err := s.parseView(r.Context(), q)
	if err != nil {
		return err
	}
	if err := s.remoteImages(r.Context(), v); err != nil {
		return err
	}
	req := render.MapRequest{Layers: v.layers, CRS: v.crs, MinX: v.bbox.MinX, MinY: v.bbox.MinY,
		MaxX: v.bbox.MaxX, MaxY: v.bbox.MaxY, Width: v.width, Height: v.height, Background: bg}
	if transparent && format != render.JPEG {
		req.Background.A = 0
	}
	img, err := s.d.Renderer.Map(r.Context(), req)
	if err != nil {
		return err
	}
	buf := mapBuffers.Get().(*bytes.Buffer)
	defer putMapBuffer(buf)
	buf.Reset()
	err = render.Encode(buf, img, format, color.RGBA{R: bg.R, G: bg.G, B: bg.B, A: 255})
	render.Release(img)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType(format))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	privateOrPublic(w, q.viewer, v.layers)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	return nil
}

// mapBuffers keep encoded maps' buffers between requests: a map is
// encoded whole before it is sent (for Content-Length, and so that a
// failure can still answer with an exception), and growing a fresh buffer
// to a few hundred kB per request cost copies and garbage.
var mapBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putMapBuffer keeps buf for the next map unless it grew unusually big
// (a huge JPEG or PNG), which would otherwise stay held.
func putMapBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 4<<20 {
		mapBuffers.Put(buf)
	}
}

// privateOrPublic marks a map private when it shows anything the public
// may not see, so that shared caches keep only public maps.
func privateOrPublic(w http.ResponseWriter, v access.Viewer, ls []render.MapLayer) {
	public := true
	for _, ml := range ls {
		if ml.Layer.Visibility != layers.Public || len(v.Attributes(ml.Layer)) != len(access.Anonymous.Attributes(ml.Layer)) {
			public = false
		}
	}
	if public {
		w.Header().Set("Cache-Control", "public, max-age=60")
	} else {
		w.Header().Set("Cache-Control", "private, no-cache")
	}
	w.Header().Set("Vary", "Cookie, Authorization")
}

// remoteImages fetches the images of layers served by another WMS. A
// missing Remote or a failure leaves the layer out, logged.
func (s *Service) remoteImages(ctx context.Context, v *mapView) error {
	for i := range v.layers {
		l := v.layers[i].Layer
		if l.Source != "wms" && l.Source != "wfs" {
			continue
		}
		if s.d.Remote == nil {
			s.d.Log.Warn("wms: no remote map client; layer left out", "layer", l.Name)
			continue
		}
		img, err := s.d.Remote.Map(ctx, l, v.crs, v.bbox.MinX, v.bbox.MinY, v.bbox.MaxX, v.bbox.MaxY, v.width, v.height)
		if err != nil {
			s.d.Log.Warn("wms: remote layer failed", "layer", l.Name, "source", l.SourceURL, "err", err.Error())
		}
		if img == nil {
			continue // only for arguments the remote client refuses
		}
		// On failure this is the error tile, so the map says the layer
		// is missing instead of showing a gap.
		v.layers[i].Image = img
	}
	return nil
}

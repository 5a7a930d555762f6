package render

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/layers"
	"munigis/spatial"
)

// Config tunes the renderer. The zero value of each field takes the
// default named beside it.
type Config struct {
	// Timeout bounds the queries of one map (20 s).
	Timeout time.Duration
	// ExtentMaxAge is how long a layer's extent is kept in memory (60 s).
	ExtentMaxAge time.Duration
	// MaxConcurrent caps the maps drawn at once (twice GOMAXPROCS): more
	// would not finish sooner, only hold more memory.
	MaxConcurrent int
}

// Renderer draws maps of munigis layers. It is safe for concurrent use.
type Renderer struct {
	pool  *pgxpool.Pool
	store *layers.Store
	cfg   Config
	sem   chan struct{}

	extMu   sync.Mutex
	extents map[string]extentEntry
}

type extentEntry struct {
	at    time.Time
	boxes map[int][4]float64
	ok    bool
}

// New returns a Renderer reading features through pool.
func New(pool *pgxpool.Pool, store *layers.Store, cfg Config) *Renderer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.ExtentMaxAge <= 0 {
		cfg.ExtentMaxAge = time.Minute
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	return &Renderer{pool: pool, store: store, cfg: cfg, extents: map[string]extentEntry{},
		sem: make(chan struct{}, cfg.MaxConcurrent)}
}

// MapLayer is one layer of a map, with what the caller may see of it.
type MapLayer struct {
	Layer layers.Layer
	// Attributes are the attributes the caller may see
	// (access.Viewer.Attributes); the style may read only these.
	Attributes []layers.Attribute
	Style      *Style
	// Image, for a layer from another server, is drawn instead of
	// features; it must have the map's size.
	Image image.Image
}

// MapRequest asks for one map image.
type MapRequest struct {
	Layers []MapLayer
	CRS    spatial.CRS
	// MinX..MaxY is the map's box in CRS, x = easting or longitude.
	MinX, MinY, MaxX, MaxY float64
	Width, Height          int
	// Background fills the image first; alpha 0 gives a transparent map.
	Background color.NRGBA
}

// metresPerUnit returns roughly how many metres one unit of c is at
// latitude lat (degrees): geographic systems shrink with the cosine.
func metresPerUnit(c spatial.CRS, lat float64) float64 {
	if c.SRID == spatial.SRIDWGS84 {
		return 111319.49079327357 * math.Cos(lat*math.Pi/180)
	}
	return 1
}

// ScaleDenominator returns the map's scale under the OGC convention of
// 0.28 mm pixels. Web Mercator units are taken as metres, as MapServer and
// GeoServer do, so its scales match the zoom levels of web maps.
func ScaleDenominator(c spatial.CRS, minX, minY, maxX, maxY float64, width int) float64 {
	mid := (minY + maxY) / 2
	return (maxX - minX) * metresPerUnit(c, mid) / (float64(width) * 0.00028)
}

// zoomScale is the scale denominator of MapLibre zoom z (512-pixel tiles),
// so that a layer's min_zoom and max_zoom apply to WMS maps too.
func zoomScale(z int) float64 { return 559082264.028717 / math.Pow(2, float64(z+1)) }

// Visible reports whether layer l is drawn at scale denominator s: between
// the scales of its max_zoom and min_zoom, with half a zoom level to spare
// so that a map a little wider than a browser view still shows it.
func Visible(l layers.Layer, s float64) bool {
	if l.MinZoom > 0 && s > zoomScale(l.MinZoom)*math.Sqrt2 {
		return false
	}
	if l.MaxZoom > 0 && l.MaxZoom < 24 && s < zoomScale(l.MaxZoom+1)/math.Sqrt2 {
		return false
	}
	return true
}

// Map draws the map r asks for. Errors are munigis.Invalid for a style
// that reads a property the caller may not see, Unavailable when the
// queries run out of time, or internal.
func (rd *Renderer) Map(ctx context.Context, r MapRequest) (*image.RGBA, error) {
	if r.Width <= 0 || r.Height <= 0 || !(r.MaxX > r.MinX) || !(r.MaxY > r.MinY) {
		return nil, munigis.Errorf(munigis.Invalid, "the map needs a positive size and a non-empty box")
	}
	ctx, cancel := context.WithTimeout(ctx, rd.cfg.Timeout)
	defer cancel()
	// Drawing is CPU work and holds a few bytes per pixel: at most
	// MaxConcurrent maps are drawn at once, the others wait their turn.
	select {
	case rd.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, munigis.Wrap(munigis.Unavailable, ctx.Err(), "the server is busy drawing maps; try again")
	}
	defer func() { <-rd.sem }()
	cv := newCanvas(r.Width, r.Height)
	defer cv.release()
	if r.Background.A > 0 {
		draw.Draw(cv.img, cv.img.Bounds(), image.NewUniform(premultiply(r.Background)), image.Point{}, draw.Src)
	}
	scale := ScaleDenominator(r.CRS, r.MinX, r.MinY, r.MaxX, r.MaxY, r.Width)
	t := transform{minX: r.MinX, maxY: r.MaxY, sx: float64(r.Width) / (r.MaxX - r.MinX), sy: float64(r.Height) / (r.MaxY - r.MinY)}
	lb := &labeller{faces: faces{}}
	var labels []placedLabel
	for _, ml := range r.Layers {
		if ml.Image != nil {
			draw.Draw(cv.img, cv.img.Bounds(), ml.Image, ml.Image.Bounds().Min, draw.Over)
			continue
		}
		if !ml.Layer.Local() || !Visible(ml.Layer, scale) {
			continue
		}
		ls, err := rd.drawLayer(ctx, cv, r, t, scale, ml)
		if err != nil {
			return nil, err
		}
		labels = append(labels, ls...)
	}
	for _, l := range labels {
		lb.draw(cv.img, l)
	}
	img := cv.img
	cv.img = nil // the caller's now; see Release
	return img, nil
}

// Release gives back an image that Map returned, once it is encoded and
// no longer used, so that the next map reuses its memory instead of the
// garbage collector reclaiming a fresh one per request.
func Release(img *image.RGBA) {
	if img != nil {
		imagePool.Put(img)
	}
}

// ruleState is what one active rule gathers while a layer's rows stream.
type ruleState struct {
	rule          *Rule
	fill, stroke  path
	markFill      path
	markStroke    path
	prop          int // column of the filter's property, or -1
	labelProp     int // column of the label's property, or -1
	filtered      bool
	markR         float32
	markOutlinePt []float32
}

func (rd *Renderer) drawLayer(ctx context.Context, cv *canvas, r MapRequest, t transform, scale float64, ml MapLayer) ([]placedLabel, error) {
	l := ml.Layer
	st := ml.Style
	if st == nil {
		st, _ = StyleFor(l, "")
	}
	if err := st.Check(l, ml.Attributes); err != nil {
		return nil, err
	}
	var rules []*ruleState
	props := []string{}
	col := func(p string) int {
		for i, q := range props {
			if q == p {
				return i
			}
		}
		props = append(props, p)
		return len(props) - 1
	}
	wantLabels := false
	for i := range st.Rules {
		ru := &st.Rules[i]
		if !ru.active(scale) {
			continue
		}
		rs := &ruleState{rule: ru, prop: -1, labelProp: -1}
		if ru.Filter != nil {
			rs.prop = col(ru.Filter.Property)
			rs.filtered = true
		}
		if ru.Label != nil {
			rs.labelProp = col(ru.Label.Property)
			wantLabels = true
		}
		for _, p := range []*path{&rs.fill, &rs.stroke, &rs.markFill, &rs.markStroke} {
			p.reset()
		}
		rules = append(rules, rs)
	}
	if len(rules) == 0 {
		return nil, nil
	}
	kind := geometryKind(l.Type.GeometryType)
	pixel := (r.MaxX - r.MinX) / float64(r.Width) // request units
	sql, args := layerSQL(l, r, props, kind, wantLabels, pixel)
	// A named prepared statement per connection: parsing, analysing and
	// planning the statement again for every map cost PostgreSQL about
	// as much as running it for a small map (pgbench on a 200-parcel box:
	// 1.07 ms unnamed against 0.57 ms prepared). After five runs
	// PostgreSQL keeps a generic plan, an index scan on the box.
	args = append([]any{pgx.QueryExecModeCacheStatement}, args...)
	rows, err := rd.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, rd.queryError(ctx, l, err)
	}
	defer rows.Close()
	var sh, lsh shape
	var labels []placedLabel
	for rows.Next() {
		raw := rows.RawValues()
		if len(raw[0]) == 0 {
			continue // collapsed by simplification: smaller than a pixel
		}
		if err := sh.decode(raw[0], t); err != nil {
			return nil, fmt.Errorf("render: %s: %w", l.Name, err)
		}
		propsAt := raw[len(raw)-len(props):]
		matched := false
		for pass := 0; pass < 2; pass++ {
			for _, rs := range rules {
				if (pass == 0) == rs.rule.Else {
					continue
				}
				if pass == 1 && matched {
					break
				}
				if rs.filtered && !rs.rule.Filter.match(string(propsAt[rs.prop])) {
					continue
				}
				if rs.filtered {
					matched = true
				}
				applyRule(cv, rs, &sh)
				if rs.rule.Label != nil {
					text := string(propsAt[rs.labelProp])
					x, y := (sh.minX+sh.maxX)/2, (sh.minY+sh.maxY)/2
					if wantLabels && len(raw[1]) > 0 {
						if err := lsh.decode(raw[1], t); err == nil && len(lsh.points) >= 2 {
							x, y = lsh.points[0], lsh.points[1]
						}
					}
					labels = append(labels, placedLabel{text: text, x: x, y: y, style: rs.rule.Label})
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, rd.queryError(ctx, l, err)
	}
	for _, rs := range rules {
		if rs.rule.Fill != nil {
			cv.fillPath(&rs.fill, rs.rule.Fill.Color)
		}
	}
	for _, rs := range rules {
		if rs.rule.Stroke != nil {
			cv.fillPath(&rs.stroke, rs.rule.Stroke.Color)
		}
	}
	for _, rs := range rules {
		if m := rs.rule.Mark; m != nil {
			if m.Fill != nil {
				cv.fillPath(&rs.markFill, m.Fill.Color)
			}
			if m.Stroke != nil {
				cv.fillPath(&rs.markStroke, m.Stroke.Color)
			}
		}
	}
	return labels, nil
}

// applyRule adds a feature's shape to what a rule draws.
func applyRule(cv *canvas, rs *ruleState, sh *shape) {
	ru := rs.rule
	if ru.Fill != nil {
		for _, ring := range sh.rings {
			cv.addRing(&rs.fill, ring)
		}
	}
	if ru.Stroke != nil {
		for _, ring := range sh.rings {
			cv.addStroke(&rs.stroke, ring, true, ru.Stroke)
		}
		for _, line := range sh.lines {
			cv.addStroke(&rs.stroke, line, false, ru.Stroke)
		}
	}
	if m := ru.Mark; m != nil {
		r := float32(m.Size / 2)
		for i := 0; i+1 < len(sh.points); i += 2 {
			x, y := sh.points[i], sh.points[i+1]
			if x < -r || y < -r || x > float32(cv.w)+r || y > float32(cv.h)+r {
				continue
			}
			if m.Fill != nil {
				if m.Shape == "square" {
					square(&rs.markFill, x, y, r)
				} else {
					disc(&rs.markFill, x, y, r, 16)
				}
			}
			if m.Stroke != nil {
				rs.markOutlinePt = markOutline(rs.markOutlinePt[:0], m.Shape, x, y, r)
				cv.addStroke(&rs.markStroke, rs.markOutlinePt, true, m.Stroke)
			}
		}
	}
}

func markOutline(dst []float32, shape string, x, y, r float32) []float32 {
	if shape == "square" {
		return append(dst, x-r, y-r, x-r, y+r, x+r, y+r, x+r, y-r)
	}
	for i := 0; i < 16; i++ {
		a := -2 * math.Pi * float64(i) / 16
		dst = append(dst, x+r*float32(math.Cos(a)), y+r*float32(math.Sin(a)))
	}
	return dst
}

func (rd *Renderer) queryError(ctx context.Context, l layers.Layer, err error) error {
	if munigis.ClientGone(ctx) {
		return munigis.Wrap(munigis.Unavailable, err, "drawing layer %s was stopped: the client closed the request", l.Name)
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return munigis.Wrap(munigis.Unavailable, err, "drawing layer %s took longer than %s and was stopped; ask for a smaller area", l.Name, rd.cfg.Timeout)
	}
	return fmt.Errorf("render: %s: %w", l.Name, err)
}

// marginPx widens the query box so that strokes, markers and labels of
// features just outside the map are still drawn where they reach in.
const marginPx = 16

// layerSQL is the one statement that reads a layer for a map: $1..$4 the
// box widened by marginPx, $5 the map's SRID, $6 the simplification
// tolerance in the units of the geometry simplified. The text depends only
// on the layer, the map's CRS kind, the properties and whether it
// simplifies, so pgx prepares it once per connection.
//
//   - The box is transformed once to the column's CRS and compared with
//     && so the GiST index is used; EPSG:3857 maps read the generated,
//     indexed geom_3857 column and transform nothing.
//   - At scales where a pixel is half a metre or more, geometries are
//     simplified to half a pixel before they are transformed, and
//     those that collapse (smaller than a pixel) come back NULL and are
//     skipped.
//   - Rings are not reoriented here (ST_ForcePolygonCCW copied every
//     geometry again); the WKB decoder winds them for the fill (orient).
func layerSQL(l layers.Layer, r MapRequest, props []string, kind geomKind, labels bool, pixel float64) (string, []any) {
	m := marginPx * pixel
	args := []any{r.MinX - m, r.MinY - m, r.MaxX + m, r.MaxY + m, r.CRS.SRID}
	mpp := pixel * metresPerUnit(r.CRS, (r.MinY+r.MaxY)/2)
	var column, where string
	srid := r.CRS.SRID
	switch srid {
	case spatial.SRIDWebMercator:
		column = "geom_3857"
		where = "geom_3857 && ST_MakeEnvelope($1, $2, $3, $4, 3857)"
	case spatial.StorageSRID:
		column = "geom"
		where = "geom && ST_MakeEnvelope($1, $2, $3, $4, " + strconv.Itoa(spatial.StorageSRID) + ")"
	default:
		column = "geom"
		// Segmentised so that the transformed box covers the curved edges
		// of the map's box.
		where = "geom && ST_Transform(ST_Segmentize(ST_MakeEnvelope($1, $2, $3, $4, $5::int), ($3 - $1) / 8), " + strconv.Itoa(spatial.StorageSRID) + ")"
	}
	g := column
	if kind != kindPoint && mpp >= 0.5 {
		tol := mpp / 2
		if column == "geom_3857" {
			tol = pixel / 2
		}
		args = append(args, tol)
		g = "ST_Simplify(" + g + ", $6::float8, false)"
	}
	if column == "geom" && srid != spatial.StorageSRID {
		g = "ST_Transform(" + g + ", $5::int)"
	}
	var b strings.Builder
	b.WriteString("SELECT ST_AsBinary(")
	b.WriteString(g)
	b.WriteString(")")
	if labels {
		lp := "ST_PointOnSurface(" + column + ")"
		if kind == kindPoint {
			lp = column
		}
		if column == "geom" && srid != spatial.StorageSRID {
			lp = "ST_Transform(" + lp + ", $5::int)"
		}
		b.WriteString(", ST_AsBinary(" + lp + ")")
	}
	for _, p := range props {
		b.WriteString(", coalesce(")
		b.WriteString(pgx.Identifier{p}.Sanitize())
		b.WriteString("::text, '')")
	}
	b.WriteString(" FROM ")
	b.WriteString(l.Table())
	b.WriteString(" WHERE ")
	b.WriteString(where)
	// $5 must be used in every statement for its type to be known.
	if srid == spatial.SRIDWebMercator || srid == spatial.StorageSRID {
		b.WriteString(" AND $5::int = $5::int")
	}
	// No ORDER BY: a rule's features are filled as one path, so their
	// order changes nothing but the priority of labels.
	return b.String(), args
}

// InfoRequest asks which features of a layer lie at a point of a map.
type InfoRequest struct {
	Layer      layers.Layer
	Attributes []layers.Attribute
	CRS        spatial.CRS
	// X, Y is the point in CRS (x = easting); Tolerance is the search
	// radius in CRS units.
	X, Y, Tolerance float64
	Limit           int
}

// FeatureInfo returns up to q.Limit features of q.Layer within q.Tolerance
// of the point, nearest first, with the given attributes and geometries
// in q.CRS.
func (rd *Renderer) FeatureInfo(ctx context.Context, q InfoRequest) ([]layers.Feature, error) {
	l := q.Layer
	if !l.Local() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, rd.cfg.Timeout)
	defer cancel()
	var cols strings.Builder
	for _, a := range q.Attributes {
		cols.WriteString(", ")
		cols.WriteString(pgx.Identifier{a.Name}.Sanitize())
	}
	sql := `WITH p AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), $3::int), ` + strconv.Itoa(spatial.StorageSRID) + `) AS pt,
			ST_Transform(ST_MakeEnvelope($1 - $4::float8, $2 - $4::float8, $1 + $4::float8, $2 + $4::float8, $3::int), ` + strconv.Itoa(spatial.StorageSRID) + `) AS box)
		SELECT id, ST_Transform(geom, $3::int)` + cols.String() + ` FROM ` + l.Table() + `, p
		WHERE geom && p.box AND ST_Intersects(geom, p.box)
		ORDER BY ST_Distance(geom, p.pt), id LIMIT $5`
	rows, err := rd.pool.Query(ctx, sql, q.X, q.Y, q.CRS.SRID, q.Tolerance, q.Limit)
	if err != nil {
		return nil, rd.queryError(ctx, l, err)
	}
	defer rows.Close()
	var out []layers.Feature
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, fmt.Errorf("render: info %s: %w", l.Name, err)
		}
		f := layers.Feature{Properties: map[string]any{}}
		f.ID, _ = vals[0].(int64)
		f.Geometry, _ = vals[1].(geom.T)
		for i, a := range q.Attributes {
			v := vals[2+i]
			if tm, ok := v.(time.Time); ok && a.Type == layers.Date {
				v = tm.Format(time.DateOnly)
			}
			f.Properties[a.Name] = v
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, rd.queryError(ctx, l, err)
	}
	return out, nil
}

// Extent returns the box of l's features in each of srids (x = easting),
// and false when the layer has no features. Extents are kept for
// Config.ExtentMaxAge: capabilities are asked for often and an exact
// extent reads the whole table.
func (rd *Renderer) Extent(ctx context.Context, l layers.Layer, srids []int) (map[int][4]float64, bool, error) {
	if !l.Local() {
		return nil, false, nil
	}
	rd.extMu.Lock()
	e, ok := rd.extents[l.Name]
	rd.extMu.Unlock()
	if ok && time.Since(e.at) < rd.cfg.ExtentMaxAge && hasAll(e.boxes, srids) {
		return e.boxes, e.ok, nil
	}
	ctx, cancel := context.WithTimeout(ctx, rd.cfg.Timeout)
	defer cancel()
	rows, err := rd.pool.Query(ctx, `WITH e AS (SELECT ST_SetSRID(ST_Extent(geom)::geometry, `+strconv.Itoa(spatial.StorageSRID)+`) AS g FROM `+l.Table()+`)
		SELECT s, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
		FROM e, unnest($1::int[]) AS s,
		LATERAL (SELECT ST_Transform(ST_Segmentize(g, greatest(ST_XMax(g) - ST_XMin(g), ST_YMax(g) - ST_YMin(g), 1) / 16), s)::box2d AS b) x
		WHERE g IS NOT NULL`, srids)
	if err != nil {
		return nil, false, rd.queryError(ctx, l, err)
	}
	boxes := map[int][4]float64{}
	for rows.Next() {
		var s int
		var b [4]float64
		if err := rows.Scan(&s, &b[0], &b[1], &b[2], &b[3]); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("render: extent %s: %w", l.Name, err)
		}
		boxes[s] = b
	}
	if err := rows.Err(); err != nil {
		return nil, false, rd.queryError(ctx, l, err)
	}
	e = extentEntry{at: time.Now(), boxes: boxes, ok: len(boxes) > 0}
	rd.extMu.Lock()
	rd.extents[l.Name] = e
	rd.extMu.Unlock()
	return e.boxes, e.ok, nil
}

func hasAll(m map[int][4]float64, srids []int) bool {
	if len(m) == 0 {
		return true // an empty layer: nothing to add
	}
	for _, s := range srids {
		if _, ok := m[s]; !ok {
			return false
		}
	}
	return true
}

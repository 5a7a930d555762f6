package layers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/internal/postgis"
	"munigis/spatial"
)

// Feature is one feature of a layer as read from the store.
type Feature struct {
	ID       int64
	Geometry geom.T
	// Properties holds the layer type's attributes by name: string, int64,
	// float64, bool, "YYYY-MM-DD" strings for dates, or nil.
	Properties map[string]any
	Version    int
	CreatedAt  time.Time
	CreatedBy  string
	UpdatedAt  time.Time
	UpdatedBy  string
}

// Query selects features of one layer.
type Query struct {
	// BBox, when set, keeps features whose geometry's box meets it. It is in
	// BBoxSRID (default 4326), x = easting/longitude.
	BBox     *spatial.BBox
	BBoxSRID int
	// SRID of the returned geometries; default 4326.
	SRID int
	// Limit caps the result (1..MaxLimit; default DefaultLimit); Offset skips.
	Limit  int
	Offset int
	// IDs, when set, keeps only these feature ids.
	IDs []int64
	// Attributes lists the attributes to return, usually those the caller
	// may see (package access). nil returns none, so a caller that forgets
	// the access rules leaks nothing. Filter and SortBy may name only these.
	Attributes []Attribute
	// Filter, when set, keeps the features it matches (see Filter).
	Filter Filter
	// SortBy orders the result; default by id. Ties are broken by id, so
	// paging is stable.
	SortBy []Sort
}

// Paging bounds of Features. NoLimit, for streaming callers (WFS, export),
// returns every match; the JSON API never passes it.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
	NoLimit      = -1
)

func (q *Query) normalise() error {
	if q.SRID == 0 {
		q.SRID = spatial.SRIDWGS84
	}
	if q.BBoxSRID == 0 {
		q.BBoxSRID = spatial.SRIDWGS84
	}
	if !supportedSRID(q.SRID) {
		return munigis.Errorf(munigis.Invalid, "EPSG:%d is not a CRS munigis supports", q.SRID)
	}
	if !supportedSRID(q.BBoxSRID) {
		return munigis.Errorf(munigis.Invalid, "the bounding box's EPSG:%d is not a CRS munigis supports", q.BBoxSRID)
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit != NoLimit && (q.Limit < 1 || q.Limit > MaxLimit) {
		return munigis.Errorf(munigis.Invalid, "limit must be between 1 and %d", MaxLimit)
	}
	if q.Offset < 0 {
		return munigis.Errorf(munigis.Invalid, "offset must not be negative")
	}
	return nil
}

// where compiles the selection of q (BBox, IDs, Filter) into b, returning
// a WHERE clause (possibly empty). Limit, Offset and SortBy are not part
// of it, so Features and Count share it.
func (q *Query) where(b *sqlBuilder) (string, error) {
	var where []string
	if q.BBox != nil {
		b.bySpace = true
		// Transform the envelope, not the column, so the GiST index on geom
		// is used.
		where = append(where, fmt.Sprintf("geom && ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, %s), %d)",
			b.arg(q.BBox.MinX), b.arg(q.BBox.MinY), b.arg(q.BBox.MaxX), b.arg(q.BBox.MaxY), b.arg(q.BBoxSRID), spatial.StorageSRID))
	}
	if q.IDs != nil {
		where = append(where, "id = ANY("+b.arg(q.IDs)+"::bigint[])")
	}
	if q.Filter != nil {
		f, err := b.where(q.Filter)
		if err != nil {
			return "", err
		}
		where = append(where, f)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), nil
}

// attributeList returns the quoted columns of attrs.
func attributeList(attrs []Attribute) string {
	var b strings.Builder
	for _, a := range attrs {
		b.WriteString(", ")
		b.WriteString(pgx.Identifier{a.Name}.Sanitize())
	}
	return b.String()
}

// Features streams the features of a local layer matching q to fn, in
// q.SortBy order (by id by default, ties always broken by id); it stops at
// the first error fn returns. With Limit NoLimit every match streams with
// flat memory: rows are read from the connection as fn consumes them.
// Returns Invalid for a bad query (naming an unknown property, a bad value
// or limit) and NotFound for a layer without local features.
func (s *Store) Features(ctx context.Context, l Layer, q Query, fn func(Feature) error) error {
	if !l.Local() {
		return munigis.Errorf(munigis.NotFound, "layer %q is served by %s, not stored here", l.Name, l.SourceURL)
	}
	if err := q.normalise(); err != nil {
		return err
	}
	sql, args, err := q.selectSQL(l)
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return postgis.Translate(err, "read layer "+l.Name)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanFeature(rows, q.Attributes)
		if err != nil {
			return fmt.Errorf("layers: features %s: %w", l.Name, err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return postgis.Translate(err, "read layer "+l.Name)
	}
	return nil
}

// selectSQL is the statement reading q's features of l, and its arguments.
func (q *Query) selectSQL(l Layer) (string, []any, error) {
	b := &sqlBuilder{args: []any{q.SRID}, attrs: q.Attributes}
	where, err := q.where(b)
	if err != nil {
		return "", nil, err
	}
	order, err := b.orderBy(q.SortBy)
	if err != nil {
		return "", nil, err
	}
	from := l.Table() + where + order
	if q.Limit != NoLimit {
		from += " LIMIT " + b.arg(q.Limit)
	}
	if q.Offset > 0 {
		// The page is picked first and only its rows are transformed:
		// PostgreSQL computes the select list also for the rows OFFSET
		// skips, so page 2,000 of a big layer took 330 ms of ST_Transform.
		from = "(SELECT * FROM " + from + " OFFSET " + b.arg(q.Offset) + ") AS _page" + order
	}
	return `SELECT id, ST_Transform(geom, $1::int), version, created_at, created_by, updated_at, updated_by` +
		attributeList(q.Attributes) + ` FROM ` + from, b.args, nil
}

// Count returns how many features of a local layer match q (its BBox, IDs
// and Filter; Limit, Offset and SortBy do not matter). Errors as Features.
func (s *Store) Count(ctx context.Context, l Layer, q Query) (int64, error) {
	if !l.Local() {
		return 0, munigis.Errorf(munigis.NotFound, "layer %q is served by %s, not stored here", l.Name, l.SourceURL)
	}
	q.Limit, q.Offset = NoLimit, 0
	if err := q.normalise(); err != nil {
		return 0, err
	}
	b := &sqlBuilder{attrs: q.Attributes}
	where, err := q.where(b)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+l.Table()+where, b.args...).Scan(&n); err != nil {
		return 0, postgis.Translate(err, "count layer "+l.Name)
	}
	return n, nil
}

// Extent returns the box of a local layer's features in srid (default
// 4326), x = easting/longitude whatever the CRS's axis order; ok is false
// for an empty layer. Layers of exactStatsBelow features or more answer
// from the planner's statistics (ST_EstimatedExtent, kept fresh by ANALYZE),
// falling back to a full ST_Extent when there are none. The storage box is
// densified before it is transformed, so that the result still covers the
// layer where the box's edges curve in the target CRS.
func (s *Store) Extent(ctx context.Context, l Layer, srid int) (minx, miny, maxx, maxy float64, ok bool, err error) {
	if !l.Local() {
		return 0, 0, 0, 0, false, munigis.Errorf(munigis.NotFound, "layer %q is served by %s, not stored here", l.Name, l.SourceURL)
	}
	if srid == 0 {
		srid = spatial.SRIDWGS84
	}
	if !supportedSRID(srid) {
		return 0, 0, 0, 0, false, munigis.Errorf(munigis.Invalid, "EPSG:%d is not a CRS munigis supports", srid)
	}
	var estimate float64
	if err := s.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`, l.Table()).Scan(&estimate); err != nil {
		return 0, 0, 0, 0, false, fmt.Errorf("layers: extent %s: %w", l.Name, err)
	}
	estimated, args := "NULL::box2d", []any{srid}
	if estimate >= exactStatsBelow {
		estimated, args = "ST_EstimatedExtent('features', $2, 'geom')", append(args, l.Name)
	}
	// The scalar subquery is an InitPlan, run only when coalesce needs it.
	// MATERIALIZED: an inlined CTE would copy the expression into each
	// ST_XMin(…) and run the full scan once per copy.
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`WITH e AS MATERIALIZED (
			SELECT coalesce(%s, (SELECT ST_Extent(geom) FROM %s)) AS b),
		g AS MATERIALIZED (
			SELECT ST_Transform(ST_Segmentize(ST_MakeEnvelope(ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b), %d),
				greatest(ST_XMax(b) - ST_XMin(b), ST_YMax(b) - ST_YMin(b), 1) / 16), $1::int) AS g
			FROM e WHERE b IS NOT NULL)
		SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM g`, estimated, l.Table(), spatial.StorageSRID), args...)
	if err != nil {
		return 0, 0, 0, 0, false, postgis.Translate(err, "extent of layer "+l.Name)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&minx, &miny, &maxx, &maxy); err != nil {
			return 0, 0, 0, 0, false, fmt.Errorf("layers: extent %s: %w", l.Name, err)
		}
		ok = true
	}
	if err := rows.Err(); err != nil {
		return 0, 0, 0, 0, false, postgis.Translate(err, "extent of layer "+l.Name)
	}
	return minx, miny, maxx, maxy, ok, nil
}

func scanFeature(rows pgx.Rows, attrs []Attribute) (Feature, error) {
	vals, err := rows.Values()
	if err != nil {
		return Feature{}, err
	}
	f := Feature{Properties: make(map[string]any, len(attrs))}
	var ok bool
	if f.ID, ok = vals[0].(int64); !ok {
		return f, fmt.Errorf("id is %T", vals[0])
	}
	if f.Geometry, ok = vals[1].(geom.T); !ok {
		return f, fmt.Errorf("geometry is %T; is the pgx-geom codec registered?", vals[1])
	}
	v, _ := vals[2].(int32)
	f.Version = int(v)
	f.CreatedAt, _ = vals[3].(time.Time)
	f.CreatedBy, _ = vals[4].(string)
	f.UpdatedAt, _ = vals[5].(time.Time)
	f.UpdatedBy, _ = vals[6].(string)
	for i, a := range attrs {
		val := vals[7+i]
		if t, isTime := val.(time.Time); isTime && a.Type == Date {
			val = t.Format(time.DateOnly)
		}
		f.Properties[a.Name] = val
	}
	return f, nil
}

// Feature returns one feature of a local layer with its geometry in srid
// and the given attributes. Returns NotFound if there is no such feature.
func (s *Store) Feature(ctx context.Context, l Layer, id int64, srid int, attrs []Attribute) (Feature, error) {
	var found *Feature
	err := s.Features(ctx, l, Query{IDs: []int64{id}, SRID: srid, Limit: 1, Attributes: attrs}, func(f Feature) error {
		found = &f
		return nil
	})
	if err != nil {
		return Feature{}, err
	}
	if found == nil {
		return Feature{}, munigis.Errorf(munigis.NotFound, "layer %s has no feature %d", l.Name, id)
	}
	return *found, nil
}

// Version is an earlier state of a feature, kept when it was changed or
// deleted.
type Version struct {
	Version    int            `json:"version"`
	Properties map[string]any `json:"properties"`
	Geometry   geom.T         `json:"-"`
	ValidFrom  time.Time      `json:"valid_from"`
	CreatedBy  string         `json:"created_by"`
	ValidTo    time.Time      `json:"valid_to"`
	EndedBy    string         `json:"ended_by"`
	EndedHow   string         `json:"ended_how"`
}

// History returns the earlier versions of a feature, oldest first, with
// geometries in srid. A feature never changed has none.
func (s *Store) History(ctx context.Context, l Layer, id int64, srid int) ([]Version, error) {
	if srid == 0 {
		srid = spatial.SRIDWGS84
	}
	rows, err := s.pool.Query(ctx, `SELECT version, attributes, ST_Transform(geom, $3::int), valid_from, created_by, valid_to, ended_by, ended_how
		FROM feature_versions WHERE layer = $1 AND feature_id = $2 ORDER BY version`, l.Name, id, srid)
	if err != nil {
		return nil, fmt.Errorf("layers: history %s/%d: %w", l.Name, id, err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.Version, &v.Properties, &v.Geometry, &v.ValidFrom, &v.CreatedBy, &v.ValidTo, &v.EndedBy, &v.EndedHow); err != nil {
			return nil, fmt.Errorf("layers: history %s/%d: %w", l.Name, id, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

package layers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twpayne/go-geom"

	"munigis"
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
	// the access rules leaks nothing.
	Attributes []Attribute
}

// Paging bounds of Features.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

func (q *Query) normalise() error {
	if q.SRID == 0 {
		q.SRID = spatial.SRIDWGS84
	}
	if q.BBoxSRID == 0 {
		q.BBoxSRID = spatial.SRIDWGS84
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return munigis.Errorf(munigis.Invalid, "limit must be between 1 and %d", MaxLimit)
	}
	if q.Offset < 0 {
		return munigis.Errorf(munigis.Invalid, "offset must not be negative")
	}
	return nil
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

// Features streams the features of a local layer matching q, ordered by id,
// to fn; it stops at the first error fn returns. Returns Invalid for a bad
// query and NotFound for a layer without local features.
func (s *Store) Features(ctx context.Context, l Layer, q Query, fn func(Feature) error) error {
	if !l.Local() {
		return munigis.Errorf(munigis.NotFound, "layer %q is served by %s, not stored here", l.Name, l.SourceURL)
	}
	if err := q.normalise(); err != nil {
		return err
	}
	args := []any{q.SRID}
	var where []string
	if q.BBox != nil {
		args = append(args, q.BBox.MinX, q.BBox.MinY, q.BBox.MaxX, q.BBox.MaxY, q.BBoxSRID)
		// Transform the envelope, not the column, so the GiST index on geom
		// is used.
		where = append(where, fmt.Sprintf("geom && ST_Transform(ST_MakeEnvelope($%d, $%d, $%d, $%d, $%d), %d)",
			len(args)-4, len(args)-3, len(args)-2, len(args)-1, len(args), spatial.StorageSRID))
	}
	if q.IDs != nil {
		args = append(args, q.IDs)
		where = append(where, fmt.Sprintf("id = ANY($%d)", len(args)))
	}
	sql := `SELECT id, ST_Transform(geom, $1::int), version, created_at, created_by, updated_at, updated_by` +
		attributeList(q.Attributes) + ` FROM ` + l.Table()
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, q.Limit, q.Offset)
	sql += fmt.Sprintf(" ORDER BY id LIMIT $%d OFFSET $%d", len(args)-1, len(args))

	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("layers: features %s: %w", l.Name, err)
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
		return fmt.Errorf("layers: features %s: %w", l.Name, err)
	}
	return nil
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

package layers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/internal/postgis"
)

// AttrType is the type of a layer attribute; it decides the column type.
type AttrType string

// Attribute types and the PostgreSQL column each becomes.
const (
	Text        AttrType = "text"         // text
	Integer     AttrType = "integer"      // bigint
	Number      AttrType = "number"       // double precision
	Date        AttrType = "date"         // date (YYYY-MM-DD)
	Boolean     AttrType = "boolean"      // boolean
	CadastralID AttrType = "cadastral_id" // text, checked as a cadastral identifier
	Enum        AttrType = "enum"         // text, one of Values
)

var attrTypes = map[AttrType]bool{Text: true, Integer: true, Number: true, Date: true, Boolean: true, CadastralID: true, Enum: true}

// Attribute is one typed field of a layer type.
type Attribute struct {
	Name     string   `json:"name"`
	Type     AttrType `json:"type"`
	TitleBG  string   `json:"title_bg"`
	TitleEN  string   `json:"title_en"`
	Required bool     `json:"required,omitempty"`
	Unique   bool     `json:"unique,omitempty"`
	// Internal fields are never shown to the public.
	Internal bool     `json:"internal,omitempty"`
	Values   []string `json:"values,omitempty"`
}

// Geometry types a layer type may have (OGC names, as PostGIS uses them).
var geometryTypes = map[string]bool{
	"Point": true, "MultiPoint": true, "LineString": true, "MultiLineString": true,
	"Polygon": true, "MultiPolygon": true,
}

// Type is a layer type: a geometry type and an attribute schema. The seed's
// types are built in; a municipality adds its own.
type Type struct {
	Name         string      `json:"name"`
	TitleBG      string      `json:"title_bg"`
	TitleEN      string      `json:"title_en"`
	GeometryType string      `json:"geometry_type"`
	Attributes   []Attribute `json:"attributes"`
	// CadastralLevel is 3, 4 or 5 for cadastral object types (their
	// "identifier" attribute has that many fields), else 0.
	CadastralLevel int    `json:"cadastral_level,omitempty"`
	BuiltIn        bool   `json:"built_in"`
	DefaultStyle   string `json:"default_style,omitempty"`
}

// Attribute returns the attribute called name.
func (t Type) Attribute(name string) (Attribute, bool) {
	for _, a := range t.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Visibility says who may see a layer.
type Visibility string

// Public layers are seen by everyone; internal ones by signed-in staff only.
const (
	Public   Visibility = "public"
	Internal Visibility = "internal"
)

// Layer is an entry of the catalog.
type Layer struct {
	Name        string     `json:"name"`
	TypeName    string     `json:"type"`
	TitleBG     string     `json:"title_bg"`
	TitleEN     string     `json:"title_en"`
	AbstractBG  string     `json:"abstract_bg,omitempty"`
	AbstractEN  string     `json:"abstract_en,omitempty"`
	Visibility  Visibility `json:"visibility"`
	MinZoom     int        `json:"min_zoom"`
	MaxZoom     int        `json:"max_zoom"`
	Style       string     `json:"style,omitempty"`
	Source      string     `json:"source"` // local, wms, wfs or register
	SourceURL   string     `json:"source_url,omitempty"`
	SourceLayer string     `json:"source_layer,omitempty"`
	SortOrder   int        `json:"-"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// Type is the layer's type, resolved.
	Type Type `json:"-"`
}

// Local reports whether the layer's features live in this database: a
// local layer's own table, or the view of a derived layer.
func (l Layer) Local() bool { return l.Source == "local" || l.Derived() }

// Derived reports whether the layer is a read-only view of records kept
// elsewhere in munigis: a register layer (source "register", SourceLayer
// the register: its entries drawn on their cadastral objects, migration
// 000009) or the case files layer (source "case_files", migration 000013).
// Its records change through their register or case file, never as
// features.
func (l Layer) Derived() bool { return l.Source == "register" || l.Source == "case_files" }

// DerivedFrom says, for a person, where a derived layer's records are
// changed.
func (l Layer) DerivedFrom() string {
	if l.Source == "case_files" {
		return "the case files (/api/case-files)"
	}
	return "the register " + l.SourceLayer
}

// Editable reports whether the layer's features may be changed as
// features (Edit, import): only a local layer's. A register layer shows
// register entries, which change through the register.
func (l Layer) Editable() bool { return l.Source == "local" }

// Table is the layer's feature table, quoted for SQL.
func (l Layer) Table() string { return pgx.Identifier{"features", l.Name}.Sanitize() }

// Store reads and changes the catalog and the features of its layers.
type Store struct {
	pool *pgxpool.Pool
	// afterEdit runs after every committed Edit (see OnEdit).
	afterEdit func(context.Context)
	// cat is the catalog kept in memory (catalog_cache.go).
	cat catalogCache
}

// OnEdit makes fn run after every Edit that commits, before Edit returns.
// munigis serve passes the tile cache's Sync, so that a client who has
// just changed a feature never gets a stale tile of it afterwards. Set it
// before the store is shared.
func (s *Store) OnEdit(fn func(context.Context)) { s.afterEdit = fn }

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool returns the store's pool, for packages that stream into feature
// tables (import, demo).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

const layerColumns = `l.name, l.layer_type, l.title_bg, l.title_en, l.abstract_bg, l.abstract_en,
	l.visibility, l.min_zoom, l.max_zoom, l.style, l.source, coalesce(l.source_url, ''),
	coalesce(l.source_layer, ''), l.sort_order, l.updated_at,
	t.name, t.title_bg, t.title_en, t.geometry_type, t.attributes, coalesce(t.cadastral_level, 0),
	t.built_in, t.default_style`

func scanLayer(row pgx.Row) (Layer, error) {
	var l Layer
	var attrs []byte
	err := row.Scan(&l.Name, &l.TypeName, &l.TitleBG, &l.TitleEN, &l.AbstractBG, &l.AbstractEN,
		&l.Visibility, &l.MinZoom, &l.MaxZoom, &l.Style, &l.Source, &l.SourceURL,
		&l.SourceLayer, &l.SortOrder, &l.UpdatedAt,
		&l.Type.Name, &l.Type.TitleBG, &l.Type.TitleEN, &l.Type.GeometryType, &attrs, &l.Type.CadastralLevel,
		&l.Type.BuiltIn, &l.Type.DefaultStyle)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(attrs, &l.Type.Attributes); err != nil {
		return l, fmt.Errorf("layers: attributes of type %s: %w", l.TypeName, err)
	}
	return l, nil
}

// Layers returns the whole catalog in display order.
func (s *Store) Layers(ctx context.Context) ([]Layer, error) {
	return s.cat.layers(ctx, s.loadLayers)
}

// loadLayers reads the catalog from the database.
func (s *Store) loadLayers(ctx context.Context) ([]Layer, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+layerColumns+`
		FROM layers l JOIN layer_types t ON t.name = l.layer_type
		ORDER BY l.sort_order, l.name`)
	if err != nil {
		return nil, fmt.Errorf("layers: list: %w", err)
	}
	defer rows.Close()
	var out []Layer
	for rows.Next() {
		l, err := scanLayer(rows)
		if err != nil {
			return nil, fmt.Errorf("layers: list: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Layer returns the layer called name. Returns NotFound if there is none.
func (s *Store) Layer(ctx context.Context, name string) (Layer, error) {
	l, err := scanLayer(s.pool.QueryRow(ctx, `SELECT `+layerColumns+`
		FROM layers l JOIN layer_types t ON t.name = l.layer_type
		WHERE l.name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return Layer{}, munigis.Errorf(munigis.NotFound, "layer %q does not exist", name)
	}
	if err != nil {
		return Layer{}, fmt.Errorf("layers: layer %s: %w", name, err)
	}
	return l, nil
}

// Types returns every layer type.
func (s *Store) Types(ctx context.Context) ([]Type, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, title_bg, title_en, geometry_type, attributes,
		coalesce(cadastral_level, 0), built_in, default_style FROM layer_types ORDER BY built_in DESC, name`)
	if err != nil {
		return nil, fmt.Errorf("layers: types: %w", err)
	}
	defer rows.Close()
	var out []Type
	for rows.Next() {
		var t Type
		var attrs []byte
		if err := rows.Scan(&t.Name, &t.TitleBG, &t.TitleEN, &t.GeometryType, &attrs, &t.CadastralLevel, &t.BuiltIn, &t.DefaultStyle); err != nil {
			return nil, fmt.Errorf("layers: types: %w", err)
		}
		if err := json.Unmarshal(attrs, &t.Attributes); err != nil {
			return nil, fmt.Errorf("layers: types: %s: %w", t.Name, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

var reserved = map[string]bool{"id": true, "geom": true, "geom_3857": true, "version": true,
	"created_at": true, "created_by": true, "updated_at": true, "updated_by": true}

// Validate checks a layer type a user defines and names the first problem.
// Returns Invalid.
func (t Type) Validate() error {
	if !nameRE.MatchString(t.Name) {
		return munigis.Errorf(munigis.Invalid, "type name %q: use 1–48 lower-case latin letters, digits and _, starting with a letter", t.Name)
	}
	if t.TitleBG == "" || t.TitleEN == "" {
		return munigis.Errorf(munigis.Invalid, "type %s: both title_bg and title_en are required", t.Name)
	}
	if !geometryTypes[t.GeometryType] {
		return munigis.Errorf(munigis.Invalid, "type %s: geometry_type %q is not one of Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon", t.Name, t.GeometryType)
	}
	if t.CadastralLevel != 0 && (t.CadastralLevel < 3 || t.CadastralLevel > 5) {
		return munigis.Errorf(munigis.Invalid, "type %s: cadastral_level must be 3, 4 or 5", t.Name)
	}
	seen := map[string]bool{}
	for i, a := range t.Attributes {
		switch {
		case !nameRE.MatchString(a.Name):
			return munigis.Errorf(munigis.Invalid, "type %s: attribute %d: name %q: use lower-case latin letters, digits and _, starting with a letter", t.Name, i+1, a.Name)
		case reserved[a.Name]:
			return munigis.Errorf(munigis.Invalid, "type %s: attribute %q is a reserved column name", t.Name, a.Name)
		case seen[a.Name]:
			return munigis.Errorf(munigis.Invalid, "type %s: attribute %q appears twice", t.Name, a.Name)
		case !attrTypes[a.Type]:
			return munigis.Errorf(munigis.Invalid, "type %s: attribute %q: type %q is not one of text, integer, number, date, boolean, cadastral_id, enum", t.Name, a.Name, a.Type)
		case a.Type == Enum && len(a.Values) == 0:
			return munigis.Errorf(munigis.Invalid, "type %s: attribute %q: an enum needs values", t.Name, a.Name)
		case a.Type != Enum && len(a.Values) > 0:
			return munigis.Errorf(munigis.Invalid, "type %s: attribute %q: only enum attributes take values", t.Name, a.Name)
		}
		seen[a.Name] = true
	}
	if t.CadastralLevel != 0 {
		a, ok := t.Attribute("identifier")
		if !ok || a.Type != CadastralID {
			return munigis.Errorf(munigis.Invalid, "type %s: a cadastral type needs an attribute \"identifier\" of type cadastral_id", t.Name)
		}
	}
	return nil
}

// CreateType adds a layer type. Returns Invalid for a bad definition and
// Conflict when the name is taken.
func (s *Store) CreateType(ctx context.Context, t Type) error {
	defer s.cat.invalidate()
	if err := t.Validate(); err != nil {
		return err
	}
	attrs, err := json.Marshal(t.Attributes)
	if err != nil {
		return err
	}
	return postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO layer_types (name, title_bg, title_en, geometry_type, attributes, cadastral_level, default_style)
			VALUES ($1, $2, $3, $4, $5, nullif($6, 0), $7)`,
			t.Name, t.TitleBG, t.TitleEN, t.GeometryType, attrs, t.CadastralLevel, t.DefaultStyle)
		return postgis.Translate(err, "create layer type "+t.Name)
	})
}

// CreateLayer adds a layer of an existing type and, for a local layer, its
// feature table, in one transaction. Returns Invalid, or Conflict when the
// name is taken.
func (s *Store) CreateLayer(ctx context.Context, l Layer) error {
	defer s.cat.invalidate()
	if !nameRE.MatchString(l.Name) {
		return munigis.Errorf(munigis.Invalid, "layer name %q: use 1–48 lower-case latin letters, digits and _, starting with a letter", l.Name)
	}
	if l.TitleBG == "" || l.TitleEN == "" {
		return munigis.Errorf(munigis.Invalid, "layer %s: both title_bg and title_en are required", l.Name)
	}
	if l.Visibility == "" {
		l.Visibility = Internal
	}
	if l.Visibility != Public && l.Visibility != Internal {
		return munigis.Errorf(munigis.Invalid, "layer %s: visibility must be public or internal", l.Name)
	}
	if l.Source == "" {
		l.Source = "local"
	}
	if l.Derived() {
		// Its type, layer and view are made together by the register
		// engine (munigis_create_register_layer) or migration 000013,
		// never by hand.
		return munigis.Errorf(munigis.Invalid, "layer %s: a layer of source %s is made by munigis with %s, not by hand", l.Name, l.Source, l.DerivedFrom())
	}
	if l.MaxZoom == 0 {
		l.MaxZoom = 22
	}
	if l.MinZoom < 0 || l.MaxZoom > 24 || l.MinZoom > l.MaxZoom {
		return munigis.Errorf(munigis.Invalid, "layer %s: zooms must satisfy 0 ≤ min_zoom ≤ max_zoom ≤ 24", l.Name)
	}
	if (l.Source == "local") != (l.SourceURL == "") {
		return munigis.Errorf(munigis.Invalid, "layer %s: a local layer has no source_url; a wms/wfs layer needs one", l.Name)
	}
	return postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM layer_types WHERE name = $1)`, l.TypeName).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return munigis.Errorf(munigis.Invalid, "layer %s: layer type %q does not exist", l.Name, l.TypeName)
		}
		_, err := tx.Exec(ctx, `INSERT INTO layers (name, layer_type, title_bg, title_en, abstract_bg, abstract_en,
				visibility, min_zoom, max_zoom, style, source, source_url, source_layer)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, nullif($12, ''), nullif($13, ''))`,
			l.Name, l.TypeName, l.TitleBG, l.TitleEN, l.AbstractBG, l.AbstractEN,
			l.Visibility, l.MinZoom, l.MaxZoom, l.Style, l.Source, l.SourceURL, l.SourceLayer)
		if err != nil {
			return postgis.Translate(err, "create layer "+l.Name)
		}
		if !l.Local() {
			return nil // another server holds its features: no table here
		}
		_, err = tx.Exec(ctx, `SELECT munigis_create_layer_table($1)`, l.Name)
		return postgis.Translate(err, "create layer "+l.Name)
	})
}

// Stats are the size and extent of a local layer.
type Stats struct {
	Features int64 `json:"features"`
	// Extent in EPSG:4326 as [minLon, minLat, maxLon, maxLat]; nil when empty.
	Extent []float64 `json:"extent,omitempty"`
	// Estimated is true when Features and Extent are planner estimates.
	Estimated bool `json:"estimated,omitempty"`
}

// exactStatsBelow is the size under which Stats counts and measures a layer
// exactly; above it, PostgreSQL's planner statistics answer in a few
// milliseconds instead of a full scan (kept fresh by autovacuum and by the
// ANALYZE that import and demo run).
const exactStatsBelow = 200_000

// Stats counts a local layer's features and finds their extent; for large
// layers both are the planner's estimates (Stats.Estimated).
func (s *Store) Stats(ctx context.Context, l Layer) (Stats, error) {
	var st Stats
	if !l.Local() {
		return st, nil
	}
	var estimate float64
	if err := s.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`, l.Table()).Scan(&estimate); err != nil {
		return st, fmt.Errorf("layers: stats %s: %w", l.Name, err)
	}
	var minx, miny, maxx, maxy *float64
	var err error
	if estimate >= exactStatsBelow {
		st.Features, st.Estimated = int64(estimate), true
		err = s.pool.QueryRow(ctx, `WITH e AS (SELECT ST_Transform(ST_SetSRID(ST_EstimatedExtent('features', $1, 'geom')::geometry, 7801), 4326) AS b)
			SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM e`, l.Name).Scan(&minx, &miny, &maxx, &maxy)
	} else {
		err = s.pool.QueryRow(ctx, `WITH e AS (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, 7801), 4326) AS b, count(*) AS n FROM `+l.Table()+`)
			SELECT n, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM e`).Scan(&st.Features, &minx, &miny, &maxx, &maxy)
	}
	if err != nil {
		return st, fmt.Errorf("layers: stats %s: %w", l.Name, err)
	}
	if minx != nil {
		st.Extent = []float64{*minx, *miny, *maxx, *maxy}
	}
	return st, nil
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

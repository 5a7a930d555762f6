package layers

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/twpayne/go-geom"

	"munigis"
	"munigis/internal/postgis"
	"munigis/spatial"
)

// Edit changes features inside one transaction opened by Store.Edit. Its
// methods check geometries and attributes against the layer's type and
// return Invalid, NotFound or Conflict with messages fit for a person;
// feature versions, the audit trail and tile-cache invalidation are the
// database triggers' work.
type Edit struct {
	tx pgx.Tx
}

// Edit runs fn in one transaction attributed to munigis.Actor(ctx): it
// commits when fn returns nil and rolls everything back when fn, or any
// change it made, fails (a WFS Transaction is all or nothing).
// After a commit it runs the store's OnEdit hook (the tile cache's sync),
// so the caller's next read sees no stale tile.
func (s *Store) Edit(ctx context.Context, fn func(ctx context.Context, e *Edit) error) error {
	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(ctx, &Edit{tx: tx})
	})
	if err == nil && s.afterEdit != nil {
		s.afterEdit(ctx)
	}
	return err
}

// Insert adds a feature with geometry g (its SRID set; a single Polygon,
// LineString or Point is accepted for the Multi- type) and the attributes
// in props (strings are parsed as ParseValue does; nil is NULL). Returns
// the new feature's id.
func (e *Edit) Insert(ctx context.Context, l Layer, g geom.T, props map[string]any) (int64, error) {
	if err := local(l); err != nil {
		return 0, err
	}
	b := &sqlBuilder{}
	gexpr, err := b.geometry(l, g)
	if err != nil {
		return 0, err
	}
	cols, vals, err := b.values(l, props, true)
	if err != nil {
		return 0, err
	}
	sql := fmt.Sprintf(`INSERT INTO %s (geom%s) VALUES (%s%s) RETURNING id`,
		l.Table(), prefixed(cols), gexpr, prefixed(vals))
	var id int64
	if err := e.tx.QueryRow(ctx, sql, b.args...).Scan(&id); err != nil {
		return 0, postgis.Translate(err, "insert into layer "+l.Name)
	}
	return id, nil
}

// Update sets the attributes in props (nil clears one) and, when g is not
// nil, the geometry of every feature of l that f matches, and returns how
// many it changed. f may name any attribute of the layer; And{} matches
// every feature, a nil f is refused so that no caller changes a whole layer
// by omission.
func (e *Edit) Update(ctx context.Context, l Layer, f Filter, g geom.T, props map[string]any) (int64, error) {
	if err := local(l); err != nil {
		return 0, err
	}
	if f == nil {
		return 0, munigis.Errorf(munigis.Invalid, "an update of layer %s needs a filter", l.Name)
	}
	if g == nil && len(props) == 0 {
		return 0, munigis.Errorf(munigis.Invalid, "an update of layer %s changes nothing: give a geometry or attributes", l.Name)
	}
	b := &sqlBuilder{attrs: l.Type.Attributes}
	var set []string
	if g != nil {
		gexpr, err := b.geometry(l, g)
		if err != nil {
			return 0, err
		}
		set = append(set, "geom = "+gexpr)
	}
	cols, vals, err := b.values(l, props, false)
	if err != nil {
		return 0, err
	}
	for i := range cols {
		set = append(set, cols[i]+" = "+vals[i])
	}
	where, err := b.where(f)
	if err != nil {
		return 0, err
	}
	tag, err := e.tx.Exec(ctx, `UPDATE `+l.Table()+` SET `+strings.Join(set, ", ")+` WHERE `+where, b.args...)
	if err != nil {
		return 0, postgis.Translate(err, "update layer "+l.Name)
	}
	return tag.RowsAffected(), nil
}

// Replace gives feature id of l geometry g and exactly the attributes in
// props: attributes left out become NULL (and a required one is refused).
// Returns NotFound when the layer has no such feature.
func (e *Edit) Replace(ctx context.Context, l Layer, id int64, g geom.T, props map[string]any) error {
	if err := local(l); err != nil {
		return err
	}
	b := &sqlBuilder{}
	gexpr, err := b.geometry(l, g)
	if err != nil {
		return err
	}
	full := make(map[string]any, len(l.Type.Attributes))
	for _, a := range l.Type.Attributes {
		full[a.Name] = nil
	}
	for k, v := range props {
		full[k] = v
	}
	cols, vals, err := b.values(l, full, true)
	if err != nil {
		return err
	}
	set := []string{"geom = " + gexpr}
	for i := range cols {
		set = append(set, cols[i]+" = "+vals[i])
	}
	tag, err := e.tx.Exec(ctx, `UPDATE `+l.Table()+` SET `+strings.Join(set, ", ")+` WHERE id = `+b.arg(id), b.args...)
	if err != nil {
		return postgis.Translate(err, "replace feature of layer "+l.Name)
	}
	if tag.RowsAffected() == 0 {
		return munigis.Errorf(munigis.NotFound, "layer %s has no feature %d", l.Name, id)
	}
	return nil
}

// Delete removes every feature of l that f matches and returns how many;
// their last versions stay in the history. A nil f is refused, And{}
// deletes every feature.
func (e *Edit) Delete(ctx context.Context, l Layer, f Filter) (int64, error) {
	if err := local(l); err != nil {
		return 0, err
	}
	if f == nil {
		return 0, munigis.Errorf(munigis.Invalid, "a delete from layer %s needs a filter", l.Name)
	}
	b := &sqlBuilder{attrs: l.Type.Attributes}
	where, err := b.where(f)
	if err != nil {
		return 0, err
	}
	tag, err := e.tx.Exec(ctx, `DELETE FROM `+l.Table()+` WHERE `+where, b.args...)
	if err != nil {
		return 0, postgis.Translate(err, "delete from layer "+l.Name)
	}
	return tag.RowsAffected(), nil
}

func local(l Layer) error {
	if l.Derived() {
		return munigis.Errorf(munigis.Invalid, "layer %s shows records of %s; change them there instead", l.Name, l.DerivedFrom())
	}
	if !l.Editable() {
		return munigis.Errorf(munigis.Invalid, "layer %s is served by %s and cannot be edited here", l.Name, l.SourceURL)
	}
	return nil
}

// multiOf maps a layer geometry type to the single type it accepts and
// promotes, so that a client drawing one polygon can add it to a
// MultiPolygon layer.
var multiOf = map[string]string{"MultiPolygon": "Polygon", "MultiLineString": "LineString", "MultiPoint": "Point"}

// geometryType is the OGC name of g's type.
func geometryType(g geom.T) string {
	switch g.(type) {
	case *geom.Point:
		return "Point"
	case *geom.MultiPoint:
		return "MultiPoint"
	case *geom.LineString:
		return "LineString"
	case *geom.MultiLineString:
		return "MultiLineString"
	case *geom.Polygon:
		return "Polygon"
	case *geom.MultiPolygon:
		return "MultiPolygon"
	case *geom.GeometryCollection:
		return "GeometryCollection"
	}
	return fmt.Sprintf("%T", g)
}

// geometry checks g against l's geometry type and binds it, returning the
// SQL expression that stores it: promoted to Multi- when needed, flattened
// to 2D (the columns are 2D) and transformed to the storage CRS.
func (b *sqlBuilder) geometry(l Layer, g geom.T) (string, error) {
	if _, err := checkGeometry(g, "the geometry"); err != nil {
		return "", err
	}
	want, got := l.Type.GeometryType, geometryType(g)
	expr := b.arg(g) + "::geometry"
	switch {
	case got == want:
	case multiOf[want] == got:
		expr = "ST_Multi(" + expr + ")"
	default:
		accepted := want
		if single := multiOf[want]; single != "" {
			accepted += " or " + single
		}
		return "", munigis.Errorf(munigis.Invalid, "layer %s takes %s geometries, not %s", l.Name, accepted, got)
	}
	return fmt.Sprintf("ST_Transform(ST_Force2D(%s), %d)", expr, spatial.StorageSRID), nil
}

// values checks props against l's attributes and binds them, returning
// quoted columns and their placeholders in attribute-name order (stable
// SQL text for the statement cache). With full, a required attribute must
// be present and not nil; otherwise only those present are checked.
func (b *sqlBuilder) values(l Layer, props map[string]any, full bool) (cols, vals []string, err error) {
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		a, ok := l.Type.Attribute(name)
		if !ok {
			return nil, nil, munigis.Errorf(munigis.Invalid, "layer %s has no attribute %s", l.Name, short(name))
		}
		v, err := coerce(a, props[name])
		if err != nil {
			return nil, nil, err
		}
		if v == nil && a.Required {
			return nil, nil, munigis.Errorf(munigis.Invalid, "attribute %q of layer %s is required", a.Name, l.Name)
		}
		if s, isString := v.(string); isString && a.Type == Enum && !slices.Contains(a.Values, s) {
			return nil, nil, munigis.Errorf(munigis.Invalid, "attribute %q of layer %s: %s is not one of %s",
				a.Name, l.Name, short(s), strings.Join(a.Values, ", "))
		}
		cols = append(cols, pgx.Identifier{a.Name}.Sanitize())
		vals = append(vals, b.typedArg(v, a.Type))
	}
	if full {
		for _, a := range l.Type.Attributes {
			if _, ok := props[a.Name]; a.Required && !ok {
				return nil, nil, munigis.Errorf(munigis.Invalid, "attribute %q of layer %s is required", a.Name, l.Name)
			}
		}
	}
	return cols, vals, nil
}

func prefixed(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return ", " + strings.Join(list, ", ")
}

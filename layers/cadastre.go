package layers

import (
	"context"
	"fmt"

	"munigis"
	"munigis/spatial"
)

// CadastralRef points at a cadastral object held in a layer.
type CadastralRef struct {
	Identifier string `json:"identifier"`
	Level      string `json:"level"`
	Layer      string `json:"layer"`
	ID         int64  `json:"id"`
}

// CadastralObject is a parcel, building or unit with its place in the
// hierarchy: the object it belongs to and the objects it holds.
type CadastralObject struct {
	Identifier spatial.Identifier
	Layer      Layer
	Feature    Feature
	// Parent is the building of a unit or the parcel of a building; nil for
	// a parcel, or when the parent is not (yet) in any layer.
	Parent   *CadastralRef
	Children []CadastralRef
}

// cadastralLayers returns the local layers whose type holds cadastral
// objects of the given level (3 parcel, 4 building, 5 unit).
func cadastralLayers(all []Layer, level int) []Layer {
	var out []Layer
	for _, l := range all {
		if l.Local() && l.Type.CadastralLevel == level {
			out = append(out, l)
		}
	}
	return out
}

// Cadastral finds the object with the given identifier in the cadastral
// layers that visible allows, with its geometry in srid and the attributes
// that attrs allows for its layer (see Query.Attributes). Returns NotFound
// if no allowed layer holds it.
func (s *Store) Cadastral(ctx context.Context, id spatial.Identifier, srid int, visible func(Layer) bool, attrs func(Layer) []Attribute) (CadastralObject, error) {
	all, err := s.Layers(ctx)
	if err != nil {
		return CadastralObject{}, err
	}
	kept := all[:0]
	for _, l := range all {
		if visible(l) {
			kept = append(kept, l)
		}
	}
	all = kept
	level := int(id.Level())
	for _, l := range cadastralLayers(all, level) {
		var fid int64
		err := s.pool.QueryRow(ctx, `SELECT id FROM `+l.Table()+` WHERE identifier = $1`, id.String()).Scan(&fid)
		if err != nil {
			if isNoRows(err) {
				continue
			}
			return CadastralObject{}, fmt.Errorf("layers: cadastral %s: %w", id, err)
		}
		f, err := s.Feature(ctx, l, fid, srid, attrs(l))
		if err != nil {
			return CadastralObject{}, err
		}
		obj := CadastralObject{Identifier: id, Layer: l, Feature: f}
		if parent, ok := id.Parent(); ok {
			refs, err := s.cadastralRefs(ctx, cadastralLayers(all, level-1), `identifier = $1`, parent.String())
			if err != nil {
				return CadastralObject{}, err
			}
			if len(refs) > 0 {
				obj.Parent = &refs[0]
			}
		}
		// The child layers hold only identifiers one level down, so a prefix
		// match finds exactly the direct children, through the
		// text_pattern_ops index.
		obj.Children, err = s.cadastralRefs(ctx, cadastralLayers(all, level+1), `identifier LIKE $1 || '.%'`, id.String())
		if err != nil {
			return CadastralObject{}, err
		}
		return obj, nil
	}
	return CadastralObject{}, munigis.Errorf(munigis.NotFound, "no cadastral object %s is registered", id)
}

func (s *Store) cadastralRefs(ctx context.Context, in []Layer, cond, arg string) ([]CadastralRef, error) {
	var out []CadastralRef
	for _, l := range in {
		rows, err := s.pool.Query(ctx, `SELECT id, identifier FROM `+l.Table()+` WHERE `+cond+`
			ORDER BY length(identifier), identifier`, arg)
		if err != nil {
			return nil, fmt.Errorf("layers: cadastral refs %s: %w", l.Name, err)
		}
		for rows.Next() {
			var r CadastralRef
			if err := rows.Scan(&r.ID, &r.Identifier); err != nil {
				rows.Close()
				return nil, err
			}
			r.Layer = l.Name
			if cid, err := spatial.Parse(r.Identifier); err == nil {
				r.Level = cid.Level().String()
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

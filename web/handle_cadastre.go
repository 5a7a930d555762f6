package web

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb/geojson"

	"munigis"
	"munigis/access"
	"munigis/layers"
	"munigis/spatial"
)

// handleCadastre answers GET /api/cadastre/{identifier} with the cadastral
// object as a GeoJSON Feature, its parent and its children. A malformed
// identifier is 400 with a message naming the field; an unknown one 404.
func (s *Server) handleCadastre(w http.ResponseWriter, r *http.Request) error {
	raw := mux.Vars(r)["identifier"]
	id, err := spatial.Parse(raw)
	if err != nil {
		e := munigis.Wrap(munigis.Invalid, err, "%s", err.Error())
		var pe *spatial.ParseError
		if errors.As(err, &pe) {
			e.MessageBG = pe.MessageBG()
		}
		return e
	}
	srid, err := crsParam(r.URL.Query().Get("crs"), "crs")
	if err != nil {
		return err
	}
	v := access.FromContext(r.Context())
	obj, err := s.layers.Cadastral(r.Context(), id, srid, v.CanRead, v.Attributes)
	if err != nil {
		return err
	}
	gf, err := featureJSON(obj.Feature)
	if err != nil {
		return err
	}
	gf.ID = id.String()
	gf.Properties["feature_id"] = obj.Feature.ID
	gf.Properties["layer"] = obj.Layer.Name
	gf.Properties["level"] = id.Level().String()
	gf.Properties["level_bg"] = id.Level().TitleBG()
	children := obj.Children
	if children == nil {
		children = []layers.CadastralRef{}
	}
	gf.ExtraMembers = geojson.Properties{"parent": obj.Parent, "children": children}
	if c := crsMember(srid); c != nil {
		gf.ExtraMembers["crs"] = c
	}
	return writeGeoJSON(w, gf)
}

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

// handleCadastreRelated answers GET /api/cadastre/{identifier}/related:
// the register entries on that object and on everything below it, grouped
// by register (the public sees published registers only, their public
// fields, masked: the rules are registers.RelatedFor's), and, for a viewer
// who may read case files, a group "case_files" with the open and closed
// case files linked to it (issue 7). The public never sees case files
// here: citizens follow their own case at /track (Art. 123).
func (s *Server) handleCadastreRelated(w http.ResponseWriter, r *http.Request) error {
	id, err := parseIdentifier(mux.Vars(r)["identifier"], "identifier")
	if err != nil {
		return err
	}
	type group struct {
		Register string      `json:"register"`
		TitleBG  string      `json:"title_bg"`
		TitleEN  string      `json:"title_en"`
		Entries  []entryJSON `json:"entries"`
	}
	out := []any{}
	if s.registers != nil {
		groups, err := s.registers.RelatedFor(r.Context(), id.String(), access.FromContext(r.Context()))
		if err != nil {
			return err
		}
		for _, g := range groups {
			gj := group{Register: g.Register, TitleBG: g.TitleBG, TitleEN: g.TitleEN, Entries: []entryJSON{}}
			for _, e := range g.Entries {
				gj.Entries = append(gj.Entries, shownOut(e))
			}
			out = append(out, gj)
		}
	}
	cases, err := s.caseFilesGroup(r, id.String())
	if err != nil {
		return err
	}
	if cases != nil {
		out = append(out, cases)
	}
	writeJSON(w, http.StatusOK, map[string]any{"identifier": id.String(), "registers": out})
	return nil
}

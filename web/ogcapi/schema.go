package ogcapi

import (
	"net/http"
	"net/url"

	"munigis/access"
	"munigis/layers"
)

const mtSchema = "application/schema+json"

// handleSchema serves the JSON Schema of the collection's features as
// GeoJSON (the "describedby" link of Part 1): the attributes the caller may
// see with their types, so that clients such as GDAL type the fields from
// the schema instead of guessing from a sample page (an area of 1601 read as
// an integer), plus the read-only bookkeeping munigis adds.
func (s *Service) handleSchema(w http.ResponseWriter, r *http.Request, l layers.Layer) error {
	if err := noParams(r); err != nil {
		return err
	}
	v := access.FromContext(r.Context())
	props := attributeSchemas(v.Attributes(l))
	props["version"] = obj{"type": "integer", "readOnly": true, "title": "Версия (version)"}
	props["created_at"] = obj{"type": "string", "format": "date-time", "readOnly": true, "title": "Създаден на (created at)"}
	props["updated_at"] = obj{"type": "string", "format": "date-time", "readOnly": true, "title": "Променен на (updated at)"}
	geomType := l.Type.GeometryType
	writeJSON(w, http.StatusOK, mtSchema, obj{
		"$schema":  "https://json-schema.org/draft/2019-09/schema",
		"$id":      baseURL(r) + "/collections/" + url.PathEscape(l.Name) + "/schema",
		"title":    l.TitleBG + " (" + l.TitleEN + ")",
		"type":     "object",
		"required": []string{"type", "geometry", "properties"},
		"properties": obj{
			"type":     obj{"type": "string", "enum": []string{"Feature"}},
			"id":       obj{"type": "integer", "readOnly": true},
			"geometry": obj{"type": "object", "title": geomType, "x-ogc-role": "primary-geometry"},
			"properties": obj{"type": "object", "properties": props,
				"additionalProperties": false},
		},
	})
	return nil
}

// handleQueryables lists the properties /items filters on (attr=value),
// as OGC API Features Part 3 publishes them; GDAL sends its attribute
// filters to the server for the properties named here.
func (s *Service) handleQueryables(w http.ResponseWriter, r *http.Request, l layers.Layer) error {
	if err := noParams(r); err != nil {
		return err
	}
	v := access.FromContext(r.Context())
	writeJSON(w, http.StatusOK, mtSchema, obj{
		"$schema":              "https://json-schema.org/draft/2019-09/schema",
		"$id":                  baseURL(r) + "/collections/" + url.PathEscape(l.Name) + "/queryables",
		"title":                l.TitleBG + " (" + l.TitleEN + ")",
		"type":                 "object",
		"properties":           attributeSchemas(v.Attributes(l)),
		"additionalProperties": false,
	})
	return nil
}

func attributeSchemas(attrs []layers.Attribute) obj {
	props := obj{}
	for _, a := range attrs {
		sc := attrSchema(a)
		sc["title"] = a.TitleBG + " (" + a.TitleEN + ")"
		props[a.Name] = sc
	}
	return props
}

package ogcapi

import (
	"net/http"

	"munigis/access"
	"munigis/layers"
)

// handleAPI serves the OpenAPI 3.0 definition (conformance class oas30),
// generated for the caller: the collections they may read, each with its
// items path listing the property filters it takes, so the definition is
// exactly what the server accepts (/req/core/query-param-unknown refuses
// the rest). GDAL reads the limit maximum from here to size its pages.
func (s *Service) handleAPI(w http.ResponseWriter, r *http.Request) error {
	for k, v := range r.URL.Query() {
		if k != "f" || (v[0] != "json" && v[0] != "") {
			return errInvalidf("the API definition takes only f=json")
		}
	}
	ctx := r.Context()
	v := access.FromContext(ctx)
	all, err := s.d.Layers.Layers(ctx)
	if err != nil {
		return err
	}
	var visible []layers.Layer
	names := []string{}
	for _, l := range all {
		if v.CanRead(l) && l.Local() {
			visible = append(visible, l)
			names = append(names, l.Name)
		}
	}
	writeJSON(w, http.StatusOK, mtOpenAPI, openAPI(baseURL(r), visible, names, v))
	return nil
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": name} }

func jsonContent(mt, schemaRef string) obj {
	return obj{mt: obj{"schema": ref(schemaRef)}}
}

func resp(desc string, content obj) obj {
	o := obj{"description": desc}
	if content != nil {
		o["content"] = content
	}
	return o
}

var errorResponses = obj{
	"400": ref("#/components/responses/Error"),
	"404": ref("#/components/responses/Error"),
	"500": ref("#/components/responses/Error"),
}

func responses(ok obj, extra ...string) obj {
	out := obj{}
	for k, v := range errorResponses {
		out[k] = v
	}
	for k, v := range ok {
		out[k] = v
	}
	for _, code := range extra {
		out[code] = ref("#/components/responses/Error")
	}
	return out
}

func openAPI(base string, visible []layers.Layer, names []string, v access.Viewer) obj {
	p := func(name string) obj { return ref("#/components/parameters/" + name) }
	itemParams := []any{p("collectionId"), p("bbox"), p("bbox-crs"), p("crs"), p("limit"), p("offset"), p("datetime"), p("f")}
	featureBody := obj{"required": true, "content": obj{
		mtGeoJSON: obj{"schema": ref("#/components/schemas/Feature")},
		mtJSON:    obj{"schema": ref("#/components/schemas/Feature")},
	}}
	editHeaders := []any{p("collectionId"), p("featureId"), p("Content-Crs")}
	paths := obj{
		"/": obj{"get": obj{"tags": []string{"Capabilities"}, "summary": "Landing page", "operationId": "getLandingPage",
			"parameters": []any{p("f")},
			"responses":  responses(obj{"200": resp("The landing page", jsonContent(mtJSON, "#/components/schemas/Object"))})}},
		"/api": obj{"get": obj{"tags": []string{"Capabilities"}, "summary": "This API definition", "operationId": "getAPI",
			"responses": responses(obj{"200": resp("The OpenAPI 3.0 definition", jsonContent(mtOpenAPI, "#/components/schemas/Object"))})}},
		"/conformance": obj{"get": obj{"tags": []string{"Capabilities"}, "summary": "Conformance classes", "operationId": "getConformance",
			"parameters": []any{p("f")},
			"responses":  responses(obj{"200": resp("The conformance classes", jsonContent(mtJSON, "#/components/schemas/Object"))})}},
		"/collections": obj{"get": obj{"tags": []string{"Capabilities"}, "summary": "The collections (map layers)", "operationId": "getCollections",
			"parameters": []any{p("f")},
			"responses":  responses(obj{"200": resp("The collections", jsonContent(mtJSON, "#/components/schemas/Object"))})}},
		"/collections/{collectionId}": obj{"get": obj{"tags": []string{"Capabilities"}, "summary": "One collection", "operationId": "describeCollection",
			"parameters": []any{p("collectionId"), p("f")},
			"responses":  responses(obj{"200": resp("The collection", jsonContent(mtJSON, "#/components/schemas/Object"))})}},
		"/collections/{collectionId}/schema": obj{"get": obj{"tags": []string{"Capabilities"}, "summary": "The JSON Schema of the features", "operationId": "getSchema",
			"parameters": []any{p("collectionId")},
			"responses":  responses(obj{"200": resp("The schema", jsonContent(mtSchema, "#/components/schemas/Object"))})}},
		"/collections/{collectionId}/queryables": obj{"get": obj{"tags": []string{"Capabilities"}, "summary": "The properties items can be filtered by", "operationId": "getQueryables",
			"parameters": []any{p("collectionId")},
			"responses":  responses(obj{"200": resp("The queryables", jsonContent(mtSchema, "#/components/schemas/Object"))})}},
		"/collections/{collectionId}/items": obj{
			"get": obj{"tags": []string{"Data"}, "summary": "Features of a collection", "operationId": "getFeatures",
				"parameters": itemParams,
				"responses":  responses(obj{"200": resp("A page of features", jsonContent(mtGeoJSON, "#/components/schemas/FeatureCollection"))})},
			"post": obj{"tags": []string{"Data"}, "summary": "Create a feature (Part 4; needs an edit grant)", "operationId": "createFeature",
				"parameters":  []any{p("collectionId"), p("Content-Crs")},
				"requestBody": featureBody,
				"responses": responses(obj{"201": obj{"description": "Created; Location names the new feature",
					"headers": obj{"Location": obj{"schema": obj{"type": "string", "format": "uri"}}}}}, "401", "403", "413", "415")},
		},
		"/collections/{collectionId}/items/{featureId}": obj{
			"get": obj{"tags": []string{"Data"}, "summary": "One feature", "operationId": "getFeature",
				"parameters": []any{p("collectionId"), p("featureId"), p("crs"), p("f")},
				"responses":  responses(obj{"200": resp("The feature", jsonContent(mtGeoJSON, "#/components/schemas/Feature"))})},
			"put": obj{"tags": []string{"Data"}, "summary": "Replace a feature (Part 4)", "operationId": "replaceFeature",
				"parameters": editHeaders, "requestBody": featureBody,
				"responses": responses(obj{"204": resp("Replaced", nil)}, "401", "403", "413", "415")},
			"patch": obj{"tags": []string{"Data"}, "summary": "Update a feature with a JSON Merge Patch (Part 4)", "operationId": "updateFeature",
				"parameters": editHeaders,
				"requestBody": obj{"required": true, "content": obj{
					"application/merge-patch+json": obj{"schema": ref("#/components/schemas/Object")},
					mtJSON:                         obj{"schema": ref("#/components/schemas/Object")},
				}},
				"responses": responses(obj{"204": resp("Updated", nil)}, "401", "403", "413", "415")},
			"delete": obj{"tags": []string{"Data"}, "summary": "Delete a feature (Part 4)", "operationId": "deleteFeature",
				"parameters": []any{p("collectionId"), p("featureId")},
				"responses":  responses(obj{"204": resp("Deleted", nil)}, "401", "403")},
		},
	}
	// One concrete items path per collection with its property filters;
	// OpenAPI matches concrete paths before templated ones.
	for _, l := range visible {
		params := []any{p("bbox"), p("bbox-crs"), p("crs"), p("limit"), p("offset"), p("datetime"), p("f")}
		for _, a := range v.Attributes(l) {
			params = append(params, obj{"name": a.Name, "in": "query", "required": false, "style": "form", "explode": false,
				"description": a.TitleBG + " (" + a.TitleEN + "): only features with this value",
				"schema":      attrSchema(a)})
		}
		paths["/collections/"+l.Name+"/items"] = obj{"get": obj{"tags": []string{"Data"},
			"summary": l.TitleBG + " (" + l.TitleEN + ")", "operationId": "getFeatures_" + l.Name,
			"parameters": params,
			"responses":  responses(obj{"200": resp("A page of features", jsonContent(mtGeoJSON, "#/components/schemas/FeatureCollection"))})}}
	}
	crsEnum := crsList()
	collectionID := obj{"type": "string"}
	if len(names) > 0 {
		// OpenAPI wants an enum to have at least one value.
		collectionID["enum"] = names
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": serviceTitleBG, "version": "1.0.0",
			"description": serviceTitleEN + ": OGC API – Features Part 1 (Core), Part 2 (CRS by reference) and Part 4 (create, replace, update, delete).",
			"license":     obj{"name": "see the municipality's terms of use"}},
		"servers": []obj{{"url": base}},
		"tags":    []obj{{"name": "Capabilities"}, {"name": "Data"}},
		"paths":   paths,
		"components": obj{
			"parameters": obj{
				"collectionId": obj{"name": "collectionId", "in": "path", "required": true, "description": "the collection (layer) name",
					"schema": collectionID},
				"featureId": obj{"name": "featureId", "in": "path", "required": true, "description": "the feature id",
					"schema": obj{"type": "integer", "minimum": 1}},
				"bbox": obj{"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "minimum and maximum corner in the axis order of bbox-crs (CRS84: lon,lat); 4 numbers, or 6 with heights",
					"schema":      obj{"type": "array", "minItems": 4, "maxItems": 6, "items": obj{"type": "number"}}},
				"bbox-crs": obj{"name": "bbox-crs", "in": "query", "required": false, "style": "form", "explode": false,
					"schema": obj{"type": "string", "format": "uri", "enum": crsEnum, "default": crs84URI}},
				"crs": obj{"name": "crs", "in": "query", "required": false, "style": "form", "explode": false,
					"schema": obj{"type": "string", "format": "uri", "enum": crsEnum, "default": crs84URI}},
				"limit": obj{"name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "features per page; larger values are capped at the maximum",
					"schema":      obj{"type": "integer", "minimum": 1, "maximum": maxLimit, "default": defaultLimit}},
				"offset": obj{"name": "offset", "in": "query", "required": false, "style": "form", "explode": false,
					"schema": obj{"type": "integer", "minimum": 0, "default": 0}},
				"datetime": obj{"name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
					"description": "an RFC 3339 date-time or interval (.. for an open end); applies to the collection's first date attribute, features without a date match",
					"schema":      obj{"type": "string"}},
				"f": obj{"name": "f", "in": "query", "required": false, "style": "form", "explode": false,
					"schema": obj{"type": "string", "enum": []string{"json", "html"}, "default": "json"}},
				"Content-Crs": obj{"name": "Content-Crs", "in": "header", "required": false,
					"description": "the CRS of the body's coordinates, as <URI>; default CRS84",
					"schema":      obj{"type": "string"}},
			},
			"schemas": obj{
				"Object": obj{"type": "object"},
				"Exception": obj{"type": "object", "required": []string{"code"},
					"properties": obj{"code": obj{"type": "string"}, "description": obj{"type": "string"}}},
				"Feature": obj{"type": "object", "required": []string{"type", "geometry", "properties"},
					"properties": obj{"type": obj{"type": "string", "enum": []string{"Feature"}},
						"id":         obj{"type": "integer"},
						"geometry":   obj{"type": "object"},
						"properties": obj{"type": "object", "nullable": true}}},
				"FeatureCollection": obj{"type": "object", "required": []string{"type", "features"},
					"properties": obj{"type": obj{"type": "string", "enum": []string{"FeatureCollection"}},
						"features":       obj{"type": "array", "items": ref("#/components/schemas/Feature")},
						"numberMatched":  obj{"type": "integer", "minimum": 0},
						"numberReturned": obj{"type": "integer", "minimum": 0},
						"timeStamp":      obj{"type": "string", "format": "date-time"},
						"links":          obj{"type": "array", "items": obj{"type": "object"}}}},
			},
			"responses": obj{
				"Error": resp("An error: code and description", jsonContent(mtJSON, "#/components/schemas/Exception")),
			},
		},
	}
}

// attrSchema is the JSON schema of an attribute's values.
func attrSchema(a layers.Attribute) obj {
	switch a.Type {
	case layers.Integer:
		return obj{"type": "integer"}
	case layers.Number:
		return obj{"type": "number"}
	case layers.Boolean:
		return obj{"type": "boolean"}
	case layers.Date:
		return obj{"type": "string", "format": "date"}
	case layers.Enum:
		return obj{"type": "string", "enum": a.Values}
	}
	return obj{"type": "string"}
}

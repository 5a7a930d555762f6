package wfs

import (
	"net/http"
	"strings"

	"munigis/layers"
)

// xsdTypes maps attribute types to XML Schema types. Cadastral ids and
// enums are text.
var xsdTypes = map[layers.AttrType]string{
	layers.Text: "xsd:string", layers.Integer: "xsd:long", layers.Number: "xsd:double",
	layers.Date: "xsd:date", layers.Boolean: "xsd:boolean", layers.CadastralID: "xsd:string",
	layers.Enum: "xsd:string",
}

// gmlPropertyTypes maps geometry types to the GML property types (the same
// names exist in GML 3.1.1 and 3.2).
var gmlPropertyTypes = map[string]string{
	"Point": "gml:PointPropertyType", "LineString": "gml:CurvePropertyType", "Polygon": "gml:SurfacePropertyType",
	"MultiPoint": "gml:MultiPointPropertyType", "MultiLineString": "gml:MultiCurvePropertyType",
	"MultiPolygon": "gml:MultiSurfacePropertyType",
}

func (s *Service) describeFeatureType(w http.ResponseWriter, req *request) error {
	ctx := req.r.Context()
	var names []string
	if req.xml != nil {
		for _, c := range req.xml.all("TypeName") {
			names = append(names, strings.TrimSpace(c.text))
		}
	} else {
		tn := req.kvp["typenames"]
		if tn == "" {
			tn = req.kvp["typename"]
		}
		for _, n := range strings.Split(tn, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if f := req.kvp["outputformat"]; f != "" {
		if _, ok := parseGMLFormat(f); !ok {
			return invalidParam("outputFormat", "outputFormat "+f+" is not supported for DescribeFeatureType: use application/gml+xml; version=3.2 or text/xml; subtype=gml/3.1.1")
		}
	}
	var ls []layers.Layer
	if len(names) == 0 {
		all, err := s.readableLayers(ctx, req.viewer)
		if err != nil {
			return err
		}
		ls = all
	}
	for _, n := range names {
		l, err := s.visibleLayer(ctx, req, n, "typeName")
		if err != nil {
			return err
		}
		ls = append(ls, l)
	}
	gv := gml32
	if req.version == v110 {
		gv = gml311
	}
	if f := req.kvp["outputformat"]; f != "" {
		gv, _ = parseGMLFormat(f)
	}
	var b strings.Builder
	b.WriteString(xmlHeader)
	gmlNS, gmlLoc, subst := nsGML32, "http://schemas.opengis.net/gml/3.2.1/gml.xsd", "gml:AbstractFeature"
	ct := "application/gml+xml; version=3.2"
	if gv == gml311 {
		gmlNS, gmlLoc, subst = nsGML311, "http://schemas.opengis.net/gml/3.1.1/base/gml.xsd", "gml:_Feature"
		ct = "text/xml; subtype=gml/3.1.1"
	}
	b.WriteString(`<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:gml="` + gmlNS + `" xmlns:` + Prefix + `="` + NamespaceURI + `" targetNamespace="` + NamespaceURI + `" elementFormDefault="qualified" attributeFormDefault="unqualified" version="1.0">`)
	b.WriteString(`<xsd:import namespace="` + gmlNS + `" schemaLocation="` + gmlLoc + `"/>`)
	for _, l := range ls {
		b.WriteString(`<xsd:complexType name="` + esc(l.Name) + `Type"><xsd:complexContent><xsd:extension base="gml:AbstractFeatureType"><xsd:sequence>`)
		gt := gmlPropertyTypes[l.Type.GeometryType]
		if gt == "" {
			gt = "gml:GeometryPropertyType"
		}
		b.WriteString(`<xsd:element name="` + geomProperty + `" type="` + gt + `" minOccurs="0" maxOccurs="1" nillable="true"/>`)
		for _, a := range req.viewer.Attributes(l) {
			t := xsdTypes[a.Type]
			if t == "" {
				t = "xsd:string"
			}
			b.WriteString(`<xsd:element name="` + esc(a.Name) + `" type="` + t + `" minOccurs="0" maxOccurs="1" nillable="true">`)
			b.WriteString(`<xsd:annotation><xsd:documentation xml:lang="bg">` + esc(a.TitleBG) + `</xsd:documentation><xsd:documentation xml:lang="en">` + esc(a.TitleEN) + `</xsd:documentation></xsd:annotation></xsd:element>`)
		}
		b.WriteString(`</xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>`)
		b.WriteString(`<xsd:element name="` + esc(l.Name) + `" type="` + Prefix + `:` + esc(l.Name) + `Type" substitutionGroup="` + subst + `"/>`)
	}
	b.WriteString(`</xsd:schema>` + "\n")
	w.Header().Set("Content-Type", ct)
	if req.r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write([]byte(b.String()))
	return err
}

// storedQueryByID is the one stored query every WFS 2.0 server has.
const storedQueryByID = "urn:ogc:def:query:OGC-WFS::GetFeatureById"

func (s *Service) listStoredQueries(w http.ResponseWriter, req *request) error {
	ls, err := s.readableLayers(req.r.Context(), req.viewer)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(xmlHeader)
	b.WriteString(`<wfs:ListStoredQueriesResponse xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:` + Prefix + `="` + NamespaceURI + `">`)
	b.WriteString(`<wfs:StoredQuery id="` + storedQueryByID + `"><wfs:Title>Get feature by identifier</wfs:Title>`)
	for _, l := range ls {
		b.WriteString(`<wfs:ReturnFeatureType>` + Prefix + `:` + esc(l.Name) + `</wfs:ReturnFeatureType>`)
	}
	b.WriteString(`</wfs:StoredQuery></wfs:ListStoredQueriesResponse>` + "\n")
	return writeXML(w, req, b.String())
}

func (s *Service) describeStoredQueries(w http.ResponseWriter, req *request) error {
	ids := req.kvp["storedquery_id"]
	if req.xml != nil {
		var l []string
		for _, c := range req.xml.all("StoredQueryId") {
			l = append(l, strings.TrimSpace(c.text))
		}
		ids = strings.Join(l, ",")
	}
	for _, id := range strings.Split(ids, ",") {
		if id = strings.TrimSpace(id); id != "" && id != storedQueryByID {
			return invalidParam("STOREDQUERY_ID", "stored query "+id+" does not exist; the only one is "+storedQueryByID)
		}
	}
	ls, err := s.readableLayers(req.r.Context(), req.viewer)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(xmlHeader)
	b.WriteString(`<wfs:DescribeStoredQueriesResponse xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:` + Prefix + `="` + NamespaceURI + `">`)
	b.WriteString(`<wfs:StoredQueryDescription id="` + storedQueryByID + `"><wfs:Title>Get feature by identifier</wfs:Title>`)
	b.WriteString(`<wfs:Abstract>Returns the single feature whose gml:id (layer.id) is the value of the ID parameter.</wfs:Abstract>`)
	b.WriteString(`<wfs:Parameter name="ID" type="xsd:string"/>`)
	b.WriteString(`<wfs:QueryExpressionText isPrivate="true" language="urn:ogc:def:queryLanguage:OGC-WFS::WFS_QueryExpression" returnFeatureTypes="`)
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Prefix + ":" + esc(l.Name))
	}
	b.WriteString(`"/></wfs:StoredQueryDescription></wfs:DescribeStoredQueriesResponse>` + "\n")
	return writeXML(w, req, b.String())
}

func writeXML(w http.ResponseWriter, req *request, doc string) error {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	if req.r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write([]byte(doc))
	return err
}

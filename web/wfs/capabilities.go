package wfs

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"munigis/layers"
	"munigis/spatial"
)

// otherCRS are offered besides the storage CRS, EPSG:7801.
var otherCRS = []int{spatial.SRIDWGS84, spatial.SRIDWebMercator, spatial.SRIDWGS84UTM35N, spatial.SRIDBGS2005UTM34NE, spatial.SRIDBGS2005UTM35NE}

// bulgaria is the WGS 84 box given for a layer without features yet.
var bulgaria = [4]float64{22.35, 41.23, 28.61, 44.22}

// outputFormats lists the GetFeature formats per version, default first.
func outputFormats(v version) []string {
	if v == v110 {
		return []string{"text/xml; subtype=gml/3.1.1", "application/gml+xml; version=3.2", "application/json"}
	}
	return []string{"application/gml+xml; version=3.2", "text/xml; subtype=gml/3.1.1", "application/json"}
}

func (s *Service) getCapabilities(w http.ResponseWriter, req *request) error {
	ctx := req.r.Context()
	ls, err := s.readableLayers(ctx, req.viewer)
	if err != nil {
		return err
	}
	boxes := make([][4]float64, len(ls))
	for i, l := range ls {
		minx, miny, maxx, maxy, ok, err := s.d.Layers.Extent(ctx, l, spatial.SRIDWGS84)
		if err != nil {
			return err
		}
		boxes[i] = bulgaria
		if ok {
			boxes[i] = [4]float64{minx, miny, maxx, maxy}
		}
	}
	var b strings.Builder
	b.WriteString(xmlHeader)
	if req.version == v110 {
		capabilities110(&b, req, ls, boxes)
	} else {
		capabilities200(&b, req, ls, boxes)
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	if req.r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write([]byte(b.String()))
	return err
}

func title(l layers.Layer) string {
	if l.TitleEN != "" && l.TitleEN != l.TitleBG {
		return l.TitleBG + " / " + l.TitleEN
	}
	return l.TitleBG
}

func abstract(l layers.Layer) string {
	var parts []string
	for _, s := range []string{l.AbstractBG, l.AbstractEN} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return l.Type.TitleBG + " / " + l.Type.TitleEN + " (" + l.Type.GeometryType + ")"
	}
	return strings.Join(parts, " / ")
}

func f64(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func serviceIdentification(b *strings.Builder, versions ...string) {
	b.WriteString(`<ows:ServiceIdentification><ows:Title>munigis WFS</ows:Title>`)
	b.WriteString(`<ows:Abstract>Слоевете на общинската ГИС (кадастър, регулация, устройствени планове, мрежи) / The municipal GIS layers (cadastre, regulation, spatial plans, utilities)</ows:Abstract>`)
	b.WriteString(`<ows:Keywords><ows:Keyword>WFS</ows:Keyword><ows:Keyword>кадастър</ows:Keyword><ows:Keyword>cadastre</ows:Keyword></ows:Keywords>`)
	b.WriteString(`<ows:ServiceType>WFS</ows:ServiceType>`)
	for _, v := range versions {
		b.WriteString(`<ows:ServiceTypeVersion>` + v + `</ows:ServiceTypeVersion>`)
	}
	b.WriteString(`<ows:Fees>NONE</ows:Fees><ows:AccessConstraints>NONE</ows:AccessConstraints></ows:ServiceIdentification>`)
	b.WriteString(`<ows:ServiceProvider><ows:ProviderName>munigis</ows:ProviderName><ows:ServiceContact><ows:IndividualName/></ows:ServiceContact></ows:ServiceProvider>`)
}

func operation(b *strings.Builder, base, name string, post bool, params ...[]string) {
	b.WriteString(`<ows:Operation name="` + name + `"><ows:DCP><ows:HTTP><ows:Get xlink:href="` + esc(base) + `?"/>`)
	if post {
		b.WriteString(`<ows:Post xlink:href="` + esc(base) + `"/>`)
	}
	b.WriteString(`</ows:HTTP></ows:DCP>`)
	for _, p := range params {
		allowed(b, "Parameter", p[0], p[1:]...)
	}
	b.WriteString(`</ows:Operation>`)
}

// allowed writes an ows:Parameter or ows:Constraint; in OWS 1.1 values sit
// in ows:AllowedValues, in OWS 1.0 directly (see allowed10).
func allowed(b *strings.Builder, elem, name string, values ...string) {
	b.WriteString(`<ows:` + elem + ` name="` + name + `"><ows:AllowedValues>`)
	for _, v := range values {
		b.WriteString(`<ows:Value>` + esc(v) + `</ows:Value>`)
	}
	b.WriteString(`</ows:AllowedValues></ows:` + elem + `>`)
}

func constraint(b *strings.Builder, name, value string) {
	b.WriteString(`<ows:Constraint name="` + name + `"><ows:NoValues/><ows:DefaultValue>` + value + `</ows:DefaultValue></ows:Constraint>`)
}

func capabilities200(b *strings.Builder, req *request, ls []layers.Layer, boxes [][4]float64) {
	b.WriteString(`<wfs:WFS_Capabilities version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:` + Prefix + `="` + NamespaceURI + `" xsi:schemaLocation="http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd">`)
	serviceIdentification(b, "2.0.0", "1.1.0")
	base := req.base
	b.WriteString(`<ows:OperationsMetadata>`)
	operation(b, base, "GetCapabilities", true, []string{"AcceptVersions", "2.0.0", "1.1.0"}, []string{"AcceptFormats", "text/xml"}, []string{"Sections", "ServiceIdentification", "ServiceProvider", "OperationsMetadata", "FeatureTypeList", "Filter_Capabilities"})
	operation(b, base, "DescribeFeatureType", true, []string{"outputFormat", "application/gml+xml; version=3.2", "text/xml; subtype=gml/3.2"})
	operation(b, base, "ListStoredQueries", true)
	operation(b, base, "DescribeStoredQueries", true)
	operation(b, base, "GetFeature", true, append([]string{"outputFormat"}, outputFormats(v200)...), []string{"resultType", "results", "hits"})
	operation(b, base, "GetPropertyValue", true, []string{"outputFormat", "application/gml+xml; version=3.2"}, []string{"resolve", "none"})
	operation(b, base, "Transaction", true, []string{"inputFormat", "application/gml+xml; version=3.2", "text/xml; subtype=gml/3.1.1"}, []string{"releaseAction", "ALL"})
	allowed(b, "Parameter", "version", "2.0.0", "1.1.0")
	for _, c := range [][2]string{
		{"ImplementsBasicWFS", "TRUE"}, {"ImplementsTransactionalWFS", "TRUE"}, {"ImplementsLockingWFS", "FALSE"},
		{"KVPEncoding", "TRUE"}, {"XMLEncoding", "TRUE"}, {"SOAPEncoding", "FALSE"},
		{"ImplementsInheritance", "FALSE"}, {"ImplementsRemoteResolve", "FALSE"}, {"ImplementsResultPaging", "TRUE"},
		{"ImplementsStandardJoins", "FALSE"}, {"ImplementsSpatialJoins", "FALSE"}, {"ImplementsTemporalJoins", "FALSE"},
		{"ImplementsFeatureVersioning", "FALSE"}, {"ManageStoredQueries", "FALSE"},
		{"CountDefault", strconv.Itoa(CountDefault)},
	} {
		constraint(b, c[0], c[1])
	}
	allowed(b, "Constraint", "QueryExpressions", "wfs:Query", "wfs:StoredQuery")
	b.WriteString(`</ows:OperationsMetadata>`)

	b.WriteString(`<wfs:FeatureTypeList>`)
	for i, l := range ls {
		b.WriteString(`<wfs:FeatureType><wfs:Name>` + Prefix + `:` + esc(l.Name) + `</wfs:Name>`)
		b.WriteString(`<wfs:Title xml:lang="bg">` + esc(l.TitleBG) + `</wfs:Title>`)
		if l.TitleEN != "" {
			b.WriteString(`<wfs:Title xml:lang="en">` + esc(l.TitleEN) + `</wfs:Title>`)
		}
		b.WriteString(`<wfs:Abstract>` + esc(abstract(l)) + `</wfs:Abstract>`)
		b.WriteString(`<ows:Keywords><ows:Keyword>` + esc(l.Type.Name) + `</ows:Keyword></ows:Keywords>`)
		b.WriteString(`<wfs:DefaultCRS>urn:ogc:def:crs:EPSG::` + strconv.Itoa(spatial.StorageSRID) + `</wfs:DefaultCRS>`)
		for _, c := range otherCRS {
			b.WriteString(`<wfs:OtherCRS>urn:ogc:def:crs:EPSG::` + strconv.Itoa(c) + `</wfs:OtherCRS>`)
		}
		b.WriteString(`<wfs:OutputFormats>`)
		for _, f := range outputFormats(v200) {
			b.WriteString(`<wfs:Format>` + esc(f) + `</wfs:Format>`)
		}
		b.WriteString(`</wfs:OutputFormats>`)
		bx := boxes[i]
		fmt.Fprintf(b, `<ows:WGS84BoundingBox><ows:LowerCorner>%s %s</ows:LowerCorner><ows:UpperCorner>%s %s</ows:UpperCorner></ows:WGS84BoundingBox>`, f64(bx[0]), f64(bx[1]), f64(bx[2]), f64(bx[3]))
		b.WriteString(`</wfs:FeatureType>`)
	}
	b.WriteString(`</wfs:FeatureTypeList>`)

	b.WriteString(`<fes:Filter_Capabilities><fes:Conformance>`)
	for _, c := range [][2]string{
		{"ImplementsQuery", "TRUE"}, {"ImplementsAdHocQuery", "TRUE"}, {"ImplementsFunctions", "FALSE"},
		{"ImplementsResourceId", "TRUE"}, {"ImplementsMinStandardFilter", "TRUE"}, {"ImplementsStandardFilter", "TRUE"},
		{"ImplementsMinSpatialFilter", "TRUE"}, {"ImplementsSpatialFilter", "TRUE"},
		{"ImplementsMinTemporalFilter", "FALSE"}, {"ImplementsTemporalFilter", "FALSE"},
		{"ImplementsVersionNav", "FALSE"}, {"ImplementsSorting", "TRUE"}, {"ImplementsExtendedOperators", "FALSE"},
		{"ImplementsMinimumXPath", "TRUE"}, {"ImplementsSchemaElementFunc", "FALSE"},
	} {
		b.WriteString(`<fes:Constraint name="` + c[0] + `"><ows:NoValues/><ows:DefaultValue>` + c[1] + `</ows:DefaultValue></fes:Constraint>`)
	}
	b.WriteString(`</fes:Conformance>`)
	b.WriteString(`<fes:Id_Capabilities><fes:ResourceIdentifier name="fes:ResourceId"/></fes:Id_Capabilities>`)
	b.WriteString(`<fes:Scalar_Capabilities><fes:LogicalOperators/><fes:ComparisonOperators>`)
	for _, op := range []string{"PropertyIsEqualTo", "PropertyIsNotEqualTo", "PropertyIsLessThan", "PropertyIsGreaterThan",
		"PropertyIsLessThanOrEqualTo", "PropertyIsGreaterThanOrEqualTo", "PropertyIsLike", "PropertyIsNull", "PropertyIsBetween"} {
		b.WriteString(`<fes:ComparisonOperator name="` + op + `"/>`)
	}
	b.WriteString(`</fes:ComparisonOperators></fes:Scalar_Capabilities>`)
	b.WriteString(`<fes:Spatial_Capabilities><fes:GeometryOperands>`)
	for _, g := range []string{"gml:Envelope", "gml:Point", "gml:LineString", "gml:Polygon", "gml:MultiPoint", "gml:MultiCurve", "gml:MultiSurface"} {
		b.WriteString(`<fes:GeometryOperand name="` + g + `"/>`)
	}
	b.WriteString(`</fes:GeometryOperands><fes:SpatialOperators>`)
	for _, op := range []string{"BBOX", "Equals", "Disjoint", "Intersects", "Touches", "Crosses", "Within", "Contains", "Overlaps", "Beyond", "DWithin"} {
		b.WriteString(`<fes:SpatialOperator name="` + op + `"/>`)
	}
	b.WriteString(`</fes:SpatialOperators></fes:Spatial_Capabilities></fes:Filter_Capabilities>`)
	b.WriteString(`</wfs:WFS_Capabilities>` + "\n")
}

func capabilities110(b *strings.Builder, req *request, ls []layers.Layer, boxes [][4]float64) {
	b.WriteString(`<wfs:WFS_Capabilities version="1.1.0" xmlns:wfs="http://www.opengis.net/wfs" xmlns:ows="http://www.opengis.net/ows" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:` + Prefix + `="` + NamespaceURI + `" xsi:schemaLocation="http://www.opengis.net/wfs http://schemas.opengis.net/wfs/1.1.0/wfs.xsd">`)
	serviceIdentification(b, "1.1.0")
	base := req.base
	b.WriteString(`<ows:OperationsMetadata>`)
	op := func(name string, params ...[]string) {
		b.WriteString(`<ows:Operation name="` + name + `"><ows:DCP><ows:HTTP><ows:Get xlink:href="` + esc(base) + `?"/><ows:Post xlink:href="` + esc(base) + `"/></ows:HTTP></ows:DCP>`)
		for _, p := range params {
			b.WriteString(`<ows:Parameter name="` + p[0] + `">`)
			for _, v := range p[1:] {
				b.WriteString(`<ows:Value>` + esc(v) + `</ows:Value>`)
			}
			b.WriteString(`</ows:Parameter>`)
		}
		b.WriteString(`</ows:Operation>`)
	}
	op("GetCapabilities", []string{"AcceptVersions", "1.1.0", "2.0.0"}, []string{"AcceptFormats", "text/xml"})
	op("DescribeFeatureType", []string{"outputFormat", "text/xml; subtype=gml/3.1.1"})
	op("GetFeature", append([]string{"outputFormat"}, outputFormats(v110)...), []string{"resultType", "results", "hits"})
	op("Transaction", []string{"inputFormat", "text/xml; subtype=gml/3.1.1"}, []string{"idgen", "GenerateNew"}, []string{"releaseAction", "ALL"})
	b.WriteString(`<ows:Constraint name="DefaultMaxFeatures"><ows:Value>` + strconv.Itoa(CountDefault) + `</ows:Value></ows:Constraint>`)
	b.WriteString(`</ows:OperationsMetadata>`)
	b.WriteString(`<wfs:FeatureTypeList><wfs:Operations><wfs:Operation>Query</wfs:Operation><wfs:Operation>Insert</wfs:Operation><wfs:Operation>Update</wfs:Operation><wfs:Operation>Delete</wfs:Operation></wfs:Operations>`)
	for i, l := range ls {
		b.WriteString(`<wfs:FeatureType><wfs:Name>` + Prefix + `:` + esc(l.Name) + `</wfs:Name>`)
		b.WriteString(`<wfs:Title>` + esc(title(l)) + `</wfs:Title><wfs:Abstract>` + esc(abstract(l)) + `</wfs:Abstract>`)
		b.WriteString(`<ows:Keywords><ows:Keyword>` + esc(l.Type.Name) + `</ows:Keyword></ows:Keywords>`)
		b.WriteString(`<wfs:DefaultSRS>urn:ogc:def:crs:EPSG::` + strconv.Itoa(spatial.StorageSRID) + `</wfs:DefaultSRS>`)
		for _, c := range otherCRS {
			b.WriteString(`<wfs:OtherSRS>urn:ogc:def:crs:EPSG::` + strconv.Itoa(c) + `</wfs:OtherSRS>`)
		}
		b.WriteString(`<wfs:OutputFormats>`)
		for _, f := range outputFormats(v110) {
			b.WriteString(`<wfs:Format>` + esc(f) + `</wfs:Format>`)
		}
		b.WriteString(`</wfs:OutputFormats>`)
		bx := boxes[i]
		fmt.Fprintf(b, `<ows:WGS84BoundingBox><ows:LowerCorner>%s %s</ows:LowerCorner><ows:UpperCorner>%s %s</ows:UpperCorner></ows:WGS84BoundingBox>`, f64(bx[0]), f64(bx[1]), f64(bx[2]), f64(bx[3]))
		b.WriteString(`</wfs:FeatureType>`)
	}
	b.WriteString(`</wfs:FeatureTypeList>`)
	b.WriteString(`<ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:GeometryOperands>`)
	for _, g := range []string{"gml:Envelope", "gml:Point", "gml:LineString", "gml:Polygon"} {
		b.WriteString(`<ogc:GeometryOperand>` + g + `</ogc:GeometryOperand>`)
	}
	b.WriteString(`</ogc:GeometryOperands><ogc:SpatialOperators>`)
	for _, op := range []string{"BBOX", "Equals", "Disjoint", "Intersects", "Touches", "Crosses", "Within", "Contains", "Overlaps", "Beyond", "DWithin"} {
		b.WriteString(`<ogc:SpatialOperator name="` + op + `"/>`)
	}
	b.WriteString(`</ogc:SpatialOperators></ogc:Spatial_Capabilities>`)
	b.WriteString(`<ogc:Scalar_Capabilities><ogc:LogicalOperators/><ogc:ComparisonOperators>`)
	for _, op := range []string{"LessThan", "GreaterThan", "LessThanEqualTo", "GreaterThanEqualTo", "EqualTo", "NotEqualTo", "Like", "Between", "NullCheck"} {
		b.WriteString(`<ogc:ComparisonOperator>` + op + `</ogc:ComparisonOperator>`)
	}
	b.WriteString(`</ogc:ComparisonOperators></ogc:Scalar_Capabilities>`)
	b.WriteString(`<ogc:Id_Capabilities><ogc:FID/></ogc:Id_Capabilities></ogc:Filter_Capabilities>`)
	b.WriteString(`</wfs:WFS_Capabilities>` + "\n")
}

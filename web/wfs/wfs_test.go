package wfs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"munigis/access"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/web/wfs"
)

// The test server puts the viewer named by the X-Test-Viewer header in the
// context, as web's middleware does for a session or token.
var viewers = map[string]access.Viewer{
	"":      access.Anonymous,
	"admin": {SystemID: "u-admin", Username: "admin", Role: access.Admin},
	"planner": {SystemID: "u-planner", Username: "planner", Role: access.Planner,
		Grants: []access.Grant{{ObjectKind: access.KindLayer, Object: access.All, Permission: access.Edit}}},
	"clerk": {SystemID: "u-clerk", Username: "clerk", Role: access.Clerk,
		Grants: []access.Grant{{ObjectKind: access.KindLayer, Object: access.All, Permission: access.Read}}},
}

type env struct {
	db  *pgtest.DB
	srv *httptest.Server
}

func newEnv(t *testing.T, parcels int) *env {
	t.Helper()
	db := pgtest.New(t)
	if parcels > 0 {
		if _, err := demo.Load(context.Background(), db.Pool, demo.Options{Parcels: parcels}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	svc := wfs.New(wfs.Deps{Layers: layers.NewStore(db.Pool)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := viewers[r.Header.Get("X-Test-Viewer")]
		if !ok {
			t.Errorf("unknown test viewer %q", r.Header.Get("X-Test-Viewer"))
		}
		svc.ServeHTTP(w, r.WithContext(access.WithViewer(r.Context(), v)))
	}))
	t.Cleanup(srv.Close)
	return &env{db: db, srv: srv}
}

func (e *env) do(t *testing.T, method, viewer, query string, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/wfs?"+query, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test-Viewer", viewer)
	if body != "" {
		req.Header.Set("Content-Type", "application/xml")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func (e *env) get(t *testing.T, viewer, query string) (int, string) {
	t.Helper()
	code, body, _ := e.do(t, http.MethodGet, viewer, query, "")
	return code, body
}

func (e *env) post(t *testing.T, viewer, body string) (int, string) {
	t.Helper()
	code, b, _ := e.do(t, http.MethodPost, viewer, "", body)
	return code, b
}

func (e *env) sqlInt(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// elem is a parsed XML element, for assertions.
type elem struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []elem     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func parse(t *testing.T, body string) elem {
	t.Helper()
	var e elem
	if err := xml.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("response is not XML: %v\n%.2000s", err, body)
	}
	return e
}

func (e elem) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// find returns every descendant (or self) with local name local.
func (e elem) find(local string) []elem {
	var out []elem
	if e.XMLName.Local == local {
		out = append(out, e)
	}
	for _, c := range e.Children {
		out = append(out, c.find(local)...)
	}
	return out
}

func (e elem) texts(local string) []string {
	var out []string
	for _, x := range e.find(local) {
		out = append(out, strings.TrimSpace(x.Text))
	}
	return out
}

// exception asserts an ows:ExceptionReport with code and status.
func exception(t *testing.T, status int, body string, wantStatus int, wantCode string) elem {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
	}
	doc := parse(t, body)
	if doc.XMLName.Local != "ExceptionReport" {
		t.Fatalf("not an ExceptionReport: %s", body)
	}
	ex := doc.find("Exception")
	if len(ex) != 1 || ex[0].attr("exceptionCode") != wantCode {
		t.Fatalf("want exceptionCode %s: %s", wantCode, body)
	}
	return ex[0]
}

func matched(t *testing.T, body string) int64 {
	t.Helper()
	doc := parse(t, body)
	s := doc.attr("numberMatched")
	if s == "" {
		s = doc.attr("numberOfFeatures")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("numberMatched %q: %s", s, body)
	}
	return n
}

func hits(t *testing.T, e *env, viewer, query string) int64 {
	t.Helper()
	code, body := e.get(t, viewer, "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&RESULTTYPE=hits&"+query)
	if code != 200 {
		t.Fatalf("%s: %d %s", query, code, body)
	}
	return matched(t, body)
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 50)
	code, body := e.get(t, "admin", "service=wfs&request=GetCapabilities")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	doc := parse(t, body)
	if doc.XMLName.Local != "WFS_Capabilities" || doc.attr("version") != "2.0.0" {
		t.Fatalf("root %v version %s", doc.XMLName, doc.attr("version"))
	}
	names := doc.texts("Name")
	has := func(ns []string, n string) bool {
		for _, x := range ns {
			if x == n {
				return true
			}
		}
		return false
	}
	for _, n := range []string{"munigis:cadastre_parcels", "munigis:utility_lines", "munigis:cadastre_units"} {
		if !has(names, n) {
			t.Errorf("admin's capabilities lack %s: %v", n, names)
		}
	}
	if all := e.sqlInt(t, `SELECT count(*) FROM layers WHERE source IN ('local', 'register', 'case_files')`); int64(len(names)) != all {
		t.Errorf("admin sees %d feature types, want every layer with features here (%d)", len(names), all)
	}
	var parcels elem
	for _, ft := range doc.find("FeatureType") {
		if ft.texts("Name")[0] == "munigis:cadastre_parcels" {
			parcels = ft
		}
	}
	if got := parcels.texts("DefaultCRS"); len(got) != 1 || got[0] != "urn:ogc:def:crs:EPSG::7801" {
		t.Errorf("DefaultCRS %v", got)
	}
	other := strings.Join(parcels.texts("OtherCRS"), " ")
	for _, c := range []string{"EPSG::4326", "EPSG::3857", "EPSG::32635", "EPSG::7799", "EPSG::7800"} {
		if !strings.Contains(other, c) {
			t.Errorf("OtherCRS %s lacks %s", other, c)
		}
	}
	if titles := parcels.texts("Title"); len(titles) < 2 || !strings.Contains(titles[0], "Кадастър") {
		t.Errorf("titles %v: want Bulgarian first, then English", titles)
	}
	// The box must hold the demo town near Троян (24.7 E, 42.9 N).
	lower := strings.Fields(parcels.texts("LowerCorner")[0])
	upper := strings.Fields(parcels.texts("UpperCorner")[0])
	lon0, _ := strconv.ParseFloat(lower[0], 64)
	lat0, _ := strconv.ParseFloat(lower[1], 64)
	lon1, _ := strconv.ParseFloat(upper[0], 64)
	lat1, _ := strconv.ParseFloat(upper[1], 64)
	if !(lon0 < lon1 && lat0 < lat1 && lon0 > 24 && lon1 < 25.5 && lat0 > 42.5 && lat1 < 43.3) {
		t.Errorf("WGS84BoundingBox %v %v is not around Троян", lower, upper)
	}
	for _, want := range []string{`name="ImplementsResultPaging"`, `name="CountDefault"`, `<ows:DefaultValue>1000000</ows:DefaultValue>`,
		`name="ImplementsTransactionalWFS"`, `fes:Filter_Capabilities`, `name="PropertyIsLike"`, `name="DWithin"`,
		`fes:ResourceIdentifier name="fes:ResourceId"`, `xmlns:munigis="https://munigis.bg/ns"`, `<ows:Get xlink:href="` + e.srv.URL + `/wfs?"/>`} {
		if !strings.Contains(body, want) {
			t.Errorf("capabilities lack %s", want)
		}
	}

	// The public sees neither the internal layers nor a hint of them.
	_, pub := e.get(t, "", "SERVICE=WFS&REQUEST=GetCapabilities")
	pubNames := parse(t, pub).texts("Name")
	if has(pubNames, "munigis:utility_lines") || has(pubNames, "munigis:cadastre_units") ||
		int64(len(pubNames)) != e.sqlInt(t, `SELECT count(*) FROM layers WHERE source IN ('local', 'register') AND visibility = 'public'`) {
		t.Errorf("public capabilities list %v", pubNames)
	}
	if strings.Contains(pub, "utility_lines") {
		t.Error("public capabilities mention utility_lines")
	}

	// Version negotiation.
	_, b11 := e.get(t, "", "SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=1.1.0,2.0.0")
	d11 := parse(t, b11)
	if d11.attr("version") != "1.1.0" || len(d11.find("DefaultSRS")) == 0 || len(d11.find("Filter_Capabilities")) != 1 {
		t.Errorf("1.1.0 capabilities: %.500s", b11)
	}
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=3.0.0")
	exception(t, code, body, 400, "VersionNegotiationFailed")

	// Capabilities URLs follow a proxy's forwarded host and scheme.
	req, _ := http.NewRequest("GET", e.srv.URL+"/wfs?SERVICE=WFS&REQUEST=GetCapabilities", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "gis.troyan.bg")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(fb), `xlink:href="https://gis.troyan.bg/wfs?"`) {
		t.Error("capabilities ignore X-Forwarded-Proto/Host")
	}
}

func TestExceptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	code, body := e.get(t, "", "SERVICE=WFS&VERSION=2.0.0")
	ex := exception(t, code, body, 400, "MissingParameterValue")
	if ex.attr("locator") != "request" {
		t.Errorf("locator %q", ex.attr("locator"))
	}
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=LockFeature")
	exception(t, code, body, 501, "OperationNotSupported")
	code, body = e.get(t, "", "SERVICE=WFS&VERSION=3.1&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels")
	ex = exception(t, code, body, 400, "InvalidParameterValue")
	if ex.attr("locator") != "version" {
		t.Errorf("locator %q", ex.attr("locator"))
	}
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:nope")
	ex = exception(t, code, body, 400, "InvalidParameterValue")
	if ex.attr("locator") != "typeNames" || !strings.Contains(body, "munigis:nope") {
		t.Errorf("unknown type: %s", body)
	}
	// An internal layer answers the public exactly like a missing one.
	_, hidden := e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:utility_lines")
	_, missing := e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:utility_linez")
	if strings.ReplaceAll(hidden, "utility_lines", "X") != strings.ReplaceAll(missing, "utility_linez", "X") {
		t.Errorf("hidden and missing layers answer differently:\n%s\n%s", hidden, missing)
	}
	_, hidden = e.get(t, "", "SERVICE=WFS&REQUEST=DescribeFeatureType&TYPENAMES=munigis:utility_lines")
	if !strings.Contains(hidden, "InvalidParameterValue") {
		t.Errorf("DescribeFeatureType of a hidden layer: %s", hidden)
	}
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&COUNT=-1")
	exception(t, code, body, 400, "InvalidParameterValue")
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&SRSNAME=EPSG:2154")
	exception(t, code, body, 400, "InvalidParameterValue")
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&OUTPUTFORMAT=image/png")
	exception(t, code, body, 400, "InvalidParameterValue")
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&SORTBY=area_m2+SIDEWAYS")
	exception(t, code, body, 400, "InvalidParameterValue")
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&PROPERTYNAME=secret")
	exception(t, code, body, 400, "InvalidParameterValue")
	// A filter on a field the caller may not see is refused like an unknown one.
	code, body = e.get(t, "clerk", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&FILTER="+
		url.QueryEscape(`<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo><fes:ValueReference>nosuch</fes:ValueReference><fes:Literal>1</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>`))
	exception(t, code, body, 400, "InvalidParameterValue")
	if !strings.Contains(body, "nosuch") {
		t.Errorf("message does not name the property: %s", body)
	}
	// 1.1.0 reports in OWS 1.0.
	_, body = e.get(t, "", "SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature")
	if !strings.Contains(body, `xmlns:ows="http://www.opengis.net/ows"`) || !strings.Contains(body, "MissingParameterValue") {
		t.Errorf("1.1.0 exception: %s", body)
	}
}

func TestSafeXML(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	evil := `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		`<wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0"><wfs:Query typeNames="munigis:cadastre_parcels"/></wfs:GetFeature>`
	code, body := e.post(t, "", evil)
	ex := exception(t, code, body, 400, "OperationParsingFailed")
	if !strings.Contains(ex.find("ExceptionText")[0].Text, "DOCTYPE") {
		t.Errorf("message does not say why: %s", body)
	}
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&FILTER="+url.QueryEscape(`<!DOCTYPE x [<!ENTITY a "b">]><Filter/>`))
	exception(t, code, body, 400, "OperationParsingFailed")
	deep := strings.Repeat("<And>", 100) + strings.Repeat("</And>", 100)
	code, body = e.post(t, "", `<GetFeature service="WFS" version="2.0.0"><Query typeNames="cadastre_parcels"><Filter>`+deep+`</Filter></Query></GetFeature>`)
	exception(t, code, body, 400, "OperationParsingFailed")
	code, body = e.post(t, "", `<GetFeature service="WFS" version="2.0.0"><Query`)
	exception(t, code, body, 400, "OperationParsingFailed")
	// 1 MB for queries, 16 MB for transactions.
	big := `<GetFeature service="WFS" version="2.0.0"><!--` + strings.Repeat("x", 2<<20) + `--></GetFeature>`
	code, body = e.post(t, "", big)
	exception(t, code, body, 413, "OperationParsingFailed")
	big = tx20 + `<!--` + strings.Repeat("x", 2<<20) + `--><wfs:Delete typeName="munigis:cadastre_parcels"><fes:Filter><fes:ResourceId rid="cadastre_parcels.999999"/></fes:Filter></wfs:Delete>` + txEnd
	code, body = e.post(t, "planner", big)
	if code != 200 || !strings.Contains(body, "<wfs:totalDeleted>0</wfs:totalDeleted>") {
		t.Errorf("a 2 MB transaction: %d %.300s", code, body)
	}
	big = tx20 + `<!--` + strings.Repeat("x", 17<<20) + `-->` + txEnd
	code, body = e.post(t, "planner", big)
	exception(t, code, body, 413, "OperationParsingFailed")
}

// TestInternalFields checks that the public never sees an internal field of
// a public layer, in any operation, while staff do.
func TestInternalFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	ctx := context.Background()
	store := layers.NewStore(e.db.Pool)
	typ := layers.Type{Name: "permits_pts", TitleBG: "Разрешения", TitleEN: "Permits", GeometryType: "Point",
		Attributes: []layers.Attribute{{Name: "title", Type: layers.Text, TitleBG: "Име", TitleEN: "Title"},
			{Name: "owner_egn", Type: layers.Text, TitleBG: "ЕГН", TitleEN: "Personal number", Internal: true},
			{Name: "issued", Type: layers.Date, TitleBG: "Издадено", TitleEN: "Issued"},
			{Name: "active", Type: layers.Boolean, TitleBG: "Действащо", TitleEN: "Active"}}}
	if err := store.CreateType(ctx, typ); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateLayer(ctx, layers.Layer{Name: "permits_pts", TypeName: "permits_pts", TitleBG: "Разрешения", TitleEN: "Permits", Visibility: layers.Public}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(ctx, `INSERT INTO features.permits_pts (geom, title, owner_egn, issued, active)
		VALUES (ST_SetSRID(ST_MakePoint(435700, 4751500), 7801), 'Навес', '7501010010', '2024-05-01', true)`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"REQUEST=GetFeature&TYPENAMES=munigis:permits_pts",
		"REQUEST=GetFeature&TYPENAMES=munigis:permits_pts&OUTPUTFORMAT=json",
		"REQUEST=GetFeature&VERSION=1.1.0&TYPENAME=munigis:permits_pts",
		"REQUEST=DescribeFeatureType&TYPENAMES=munigis:permits_pts",
	} {
		_, pub := e.get(t, "", "SERVICE=WFS&"+q)
		_, staff := e.get(t, "clerk", "SERVICE=WFS&"+q)
		if strings.Contains(pub, "owner_egn") || strings.Contains(pub, "7501010010") {
			t.Errorf("%s shows the public an internal field: %s", q, pub)
		}
		if !strings.Contains(staff, "owner_egn") || !strings.Contains(pub, "title") {
			t.Errorf("%s: staff should see owner_egn and everyone title:\n%s\n%s", q, staff, pub)
		}
	}
	for _, q := range []string{
		"PROPERTYNAME=owner_egn",
		"SORTBY=owner_egn",
		"FILTER=" + url.QueryEscape(`<Filter><PropertyIsEqualTo><ValueReference>owner_egn</ValueReference><Literal>7501010010</Literal></PropertyIsEqualTo></Filter>`),
	} {
		code, body := e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:permits_pts&"+q)
		exception(t, code, body, 400, "InvalidParameterValue")
		code, _ = e.get(t, "clerk", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:permits_pts&"+q)
		if code != 200 {
			t.Errorf("staff %s: %d", q, code)
		}
	}
	code, body := e.get(t, "", "SERVICE=WFS&REQUEST=GetPropertyValue&TYPENAMES=munigis:permits_pts&VALUEREFERENCE=owner_egn")
	exception(t, code, body, 400, "InvalidParameterValue")

	// Dates and booleans: their schema types and values.
	_, body = e.get(t, "", "SERVICE=WFS&REQUEST=DescribeFeatureType&TYPENAMES=munigis:permits_pts")
	types := map[string]string{}
	for _, el := range parse(t, body).find("element") {
		types[el.attr("name")] = el.attr("type")
	}
	if types["issued"] != "xsd:date" || types["active"] != "xsd:boolean" || types["title"] != "xsd:string" || types["geom"] != "gml:PointPropertyType" {
		t.Errorf("schema types %v", types)
	}
	_, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:permits_pts")
	doc := parse(t, body)
	if doc.texts("issued")[0] != "2024-05-01" || doc.texts("active")[0] != "true" || doc.texts("title")[0] != "Навес" {
		t.Errorf("values: %s", body)
	}
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&RESULTTYPE=hits&TYPENAMES=munigis:permits_pts&FILTER="+
		url.QueryEscape(`<Filter><And><PropertyIsGreaterThan><ValueReference>issued</ValueReference><Literal>2024-01-01</Literal></PropertyIsGreaterThan><PropertyIsEqualTo><ValueReference>active</ValueReference><Literal>true</Literal></PropertyIsEqualTo></And></Filter>`))
	if code != 200 || matched(t, body) != 1 {
		t.Errorf("date and boolean filter: %d %s", code, body)
	}
}

func TestDescribeAndStoredQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 30)
	code, body := e.get(t, "", "SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=munigis:cadastre_parcels,munigis:cadastre_buildings")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	doc := parse(t, body)
	if doc.XMLName.Local != "schema" || doc.attr("targetNamespace") != wfs.NamespaceURI {
		t.Fatalf("not a schema for the namespace: %.300s", body)
	}
	types := map[string]string{}
	for _, el := range doc.find("element") {
		types[el.attr("name")] = el.attr("type")
	}
	for name, want := range map[string]string{"geom": "gml:MultiSurfacePropertyType", "identifier": "xsd:string",
		"area_m2": "xsd:double", "floors": "xsd:long", "cadastre_parcels": "munigis:cadastre_parcelsType"} {
		if types[name] != want {
			t.Errorf("element %s has type %q, want %q", name, types[name], want)
		}
	}
	if !strings.Contains(body, `namespace="http://www.opengis.net/gml/3.2"`) || !strings.Contains(body, `substitutionGroup="gml:AbstractFeature"`) {
		t.Errorf("2.0 schema does not import GML 3.2")
	}
	_, body = e.get(t, "", "SERVICE=WFS&VERSION=1.1.0&REQUEST=DescribeFeatureType&TYPENAME=munigis:utility_manholes")
	if !strings.Contains(body, "InvalidParameterValue") {
		t.Errorf("public DescribeFeatureType of an internal layer: %s", body)
	}
	_, body = e.get(t, "admin", "SERVICE=WFS&VERSION=1.1.0&REQUEST=DescribeFeatureType&TYPENAME=munigis:utility_manholes")
	if !strings.Contains(body, `namespace="http://www.opengis.net/gml"`) || !strings.Contains(body, `type="gml:PointPropertyType"`) ||
		!strings.Contains(body, `substitutionGroup="gml:_Feature"`) {
		t.Errorf("1.1.0 schema: %s", body)
	}

	_, body = e.get(t, "", "SERVICE=WFS&VERSION=2.0.0&REQUEST=ListStoredQueries")
	if !strings.Contains(body, `id="urn:ogc:def:query:OGC-WFS::GetFeatureById"`) {
		t.Errorf("ListStoredQueries: %s", body)
	}
	_, body = e.get(t, "", "SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeStoredQueries&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById")
	if !strings.Contains(body, `<wfs:Parameter name="ID" type="xsd:string"/>`) {
		t.Errorf("DescribeStoredQueries: %s", body)
	}

	id := e.sqlInt(t, `SELECT min(id) FROM features.cadastre_parcels`)
	var ident string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT identifier FROM features.cadastre_parcels WHERE id = $1`, id).Scan(&ident); err != nil {
		t.Fatal(err)
	}
	rid := "cadastre_parcels." + strconv.FormatInt(id, 10)
	code, body = e.get(t, "", "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID="+rid)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	f := parse(t, body)
	if f.XMLName.Local != "cadastre_parcels" || f.attr("id") != rid || f.texts("identifier")[0] != ident {
		t.Errorf("GetFeatureById gave %.500s", body)
	}
	code, body = e.get(t, "", "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=cadastre_parcels.999999999")
	exception(t, code, body, 404, "NotFound")
	// A hidden layer's feature is not found either.
	uid := e.sqlInt(t, `SELECT min(id) FROM features.utility_lines`)
	code, body = e.get(t, "", "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=utility_lines."+strconv.FormatInt(uid, 10))
	exception(t, code, body, 404, "NotFound")
	code, _ = e.get(t, "admin", "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=utility_lines."+strconv.FormatInt(uid, 10))
	if code != 200 {
		t.Errorf("admin GetFeatureById of an internal layer: %d", code)
	}
}

// firstPos returns the first two numbers of the first posList or pos.
func firstPos(t *testing.T, body string) (float64, float64) {
	t.Helper()
	doc := parse(t, body)
	lists := append(doc.texts("posList"), doc.texts("pos")...)
	if len(lists) == 0 {
		t.Fatalf("no coordinates in %.1000s", body)
	}
	f := strings.Fields(lists[0])
	a, _ := strconv.ParseFloat(f[0], 64)
	b, _ := strconv.ParseFloat(f[1], 64)
	return a, b
}

func TestGetFeatureAxisOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 30)
	id := e.sqlInt(t, `SELECT min(id) FROM features.cadastre_parcels`)
	point := func(srid int) (x, y float64) {
		err := e.db.Pool.QueryRow(context.Background(), `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(ST_Transform(geom, $2::int), 1)), 1) AS p
			FROM features.cadastre_parcels WHERE id = $1) s`, id, srid).Scan(&x, &y)
		if err != nil {
			t.Fatal(err)
		}
		return x, y
	}
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
	rid := "&RESOURCEID=cadastre_parcels." + strconv.FormatInt(id, 10)
	for _, c := range []struct {
		name, params   string
		srid           int
		northingFirst  bool
		tol            float64
		wantSRSNameSub string
	}{
		{"default 7801 is northing first", "VERSION=2.0.0", 7801, true, 1e-6, "EPSG::7801"},
		{"EPSG:4326 is lat,lon in 2.0", "VERSION=2.0.0&SRSNAME=EPSG:4326", 4326, true, 1e-9, "EPSG::4326"},
		{"urn 4326 is lat,lon", "VERSION=2.0.0&SRSNAME=urn:ogc:def:crs:EPSG::4326", 4326, true, 1e-9, "EPSG::4326"},
		{"CRS84 is lon,lat", "VERSION=2.0.0&SRSNAME=urn:ogc:def:crs:OGC:1.3:CRS84", 4326, false, 1e-9, "CRS84"},
		{"3857 is x,y", "VERSION=2.0.0&SRSNAME=EPSG:3857", 3857, false, 1e-3, "EPSG::3857"},
		{"32635 is x,y", "VERSION=2.0.0&SRSNAME=EPSG:32635", 32635, false, 1e-3, "EPSG::32635"},
		{"7800 is northing first", "VERSION=2.0.0&SRSNAME=EPSG:7800", 7800, true, 1e-3, "EPSG::7800"},
		{"1.1.0 GML 3.1.1 EPSG:4326 is lat,lon", "VERSION=1.1.0&SRSNAME=EPSG:4326", 4326, true, 1e-9, "EPSG::4326"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&"+c.params+rid)
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			if !strings.Contains(body, `srsName="urn:ogc:def:crs:`) || !strings.Contains(body, c.wantSRSNameSub) {
				t.Errorf("srsName missing or wrong: %.600s", body)
			}
			a, b := firstPos(t, body)
			x, y := point(c.srid)
			if c.northingFirst {
				a, b = b, a
			}
			if !near(a, x, c.tol) || !near(b, y, c.tol) {
				t.Errorf("first position %v %v, SQL easting/northing %v %v", a, b, x, y)
			}
		})
	}
	// GeoJSON is always easting first.
	code, body := e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&OUTPUTFORMAT=application/json&SRSNAME=EPSG:4326"+rid)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var fc struct {
		NumberMatched int
		Features      []struct {
			ID         string
			Geometry   struct{ Coordinates [][][][]float64 }
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(body), &fc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	x, y := point(4326)
	if len(fc.Features) != 1 || fc.NumberMatched != 1 {
		t.Fatalf("GeoJSON: %s", body)
	}
	p := fc.Features[0].Geometry.Coordinates[0][0][0]
	if !near(p[0], x, 1e-9) || !near(p[1], y, 1e-9) || fc.Features[0].ID != "cadastre_parcels."+strconv.FormatInt(id, 10) {
		t.Errorf("GeoJSON first position %v, SQL lon/lat %v %v", p, x, y)
	}
	if _, ok := fc.Features[0].Properties["identifier"]; !ok {
		t.Errorf("GeoJSON properties %v", fc.Features[0].Properties)
	}
}

func TestGetFeatureFiltersMatchSQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 200)
	fes := func(inner string) string {
		return "TYPENAMES=munigis:cadastre_parcels&FILTER=" + url.QueryEscape(`<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">`+inner+`</fes:Filter>`)
	}
	// A box around the middle of the town, in CCS2005 easting/northing.
	var cx, cy float64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) c FROM features.cadastre_parcels) s`).Scan(&cx, &cy); err != nil {
		t.Fatal(err)
	}
	var lon, lat float64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 7801), 4326) p) s`, cx, cy).Scan(&lon, &lat); err != nil {
		t.Fatal(err)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	ids := []int64{}
	rows, _ := e.db.Pool.Query(context.Background(), `SELECT id FROM features.cadastre_parcels ORDER BY id LIMIT 3`)
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	envSQL := `geom && ST_MakeEnvelope($1 - 150, $2 - 150, $1 + 150, $2 + 150, 7801)`
	for _, c := range []struct {
		name, query, sql string
		args             []any
	}{
		{"all", "TYPENAMES=munigis:cadastre_parcels", `true`, nil},
		{"equal", fes(`<fes:PropertyIsEqualTo><fes:ValueReference>land_use</fes:ValueReference><fes:Literal>жилищна</fes:Literal></fes:PropertyIsEqualTo>`), `land_use = 'жилищна'`, nil},
		{"greater", fes(`<fes:PropertyIsGreaterThan><fes:ValueReference>munigis:area_m2</fes:ValueReference><fes:Literal>500</fes:Literal></fes:PropertyIsGreaterThan>`), `area_m2 > 500`, nil},
		{"between", fes(`<fes:PropertyIsBetween><fes:ValueReference>area_m2</fes:ValueReference><fes:LowerBoundary><fes:Literal>300</fes:Literal></fes:LowerBoundary><fes:UpperBoundary><fes:Literal>700</fes:Literal></fes:UpperBoundary></fes:PropertyIsBetween>`), `area_m2 BETWEEN 300 AND 700`, nil},
		{"like", fes(`<fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="!"><fes:ValueReference>identifier</fes:ValueReference><fes:Literal>*!.1*</fes:Literal></fes:PropertyIsLike>`), `identifier LIKE '%.1%'`, nil},
		{"null", fes(`<fes:PropertyIsNull><fes:ValueReference>address</fes:ValueReference></fes:PropertyIsNull>`), `address IS NULL`, nil},
		{"and/or/not", fes(`<fes:And><fes:Or><fes:PropertyIsEqualTo><fes:ValueReference>ownership</fes:ValueReference><fes:Literal>частна</fes:Literal></fes:PropertyIsEqualTo><fes:PropertyIsLessThan><fes:ValueReference>area_m2</fes:ValueReference><fes:Literal>400</fes:Literal></fes:PropertyIsLessThan></fes:Or><fes:Not><fes:PropertyIsNull><fes:ValueReference>land_use</fes:ValueReference></fes:PropertyIsNull></fes:Not></fes:And>`),
			`(ownership = 'частна' OR area_m2 < 400) AND land_use IS NOT NULL`, nil},
		{"resource ids", fes(`<fes:ResourceId rid="cadastre_parcels.` + strconv.FormatInt(ids[0], 10) + `"/><fes:ResourceId rid="cadastre_parcels.` + strconv.FormatInt(ids[2], 10) + `"/>`),
			`id IN ($1, $2)`, []any{ids[0], ids[2]}},
		{"RESOURCEID", "RESOURCEID=cadastre_parcels." + strconv.FormatInt(ids[1], 10), `id = $1`, []any{ids[1]}},
		{"BBOX filter in 7801 (northing first)", fes(`<fes:BBOX><fes:ValueReference>geom</fes:ValueReference><gml:Envelope srsName="urn:ogc:def:crs:EPSG::7801"><gml:lowerCorner>` + f(cy-150) + " " + f(cx-150) + `</gml:lowerCorner><gml:upperCorner>` + f(cy+150) + " " + f(cx+150) + `</gml:upperCorner></gml:Envelope></fes:BBOX>`),
			envSQL, []any{cx, cy}},
		{"BBOX KVP with 7801 URN", "TYPENAMES=munigis:cadastre_parcels&BBOX=" + f(cy-150) + "," + f(cx-150) + "," + f(cy+150) + "," + f(cx+150) + ",urn:ogc:def:crs:EPSG::7801", envSQL, []any{cx, cy}},
		{"BBOX KVP in CRS84", "TYPENAMES=munigis:cadastre_parcels&BBOX=" + f(lon-0.002) + "," + f(lat-0.002) + "," + f(lon+0.002) + "," + f(lat+0.002) + ",urn:ogc:def:crs:OGC:1.3:CRS84",
			`geom && ST_Transform(ST_MakeEnvelope($1 - 0.002, $2 - 0.002, $1 + 0.002, $2 + 0.002, 4326), 7801)`, []any{lon, lat}},
		{"Intersects polygon in 4326 (lat,lon)", fes(`<fes:Intersects><fes:ValueReference>geom</fes:ValueReference><gml:Polygon gml:id="p1" srsName="urn:ogc:def:crs:EPSG::4326"><gml:exterior><gml:LinearRing><gml:posList>` +
			f(lat-0.001) + " " + f(lon-0.001) + " " + f(lat-0.001) + " " + f(lon+0.001) + " " + f(lat+0.001) + " " + f(lon+0.001) + " " + f(lat-0.001) + " " + f(lon-0.001) +
			`</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></fes:Intersects>`),
			`ST_Intersects(geom, ST_Transform(ST_SetSRID(ST_MakePolygon(ST_MakeLine(ARRAY[ST_MakePoint($1 - 0.001, $2 - 0.001), ST_MakePoint($1 + 0.001, $2 - 0.001), ST_MakePoint($1 + 0.001, $2 + 0.001), ST_MakePoint($1 - 0.001, $2 - 0.001)])), 4326), 7801))`, []any{lon, lat}},
		{"DWithin point 7801", fes(`<fes:DWithin><fes:ValueReference>geom</fes:ValueReference><gml:Point gml:id="p2" srsName="urn:ogc:def:crs:EPSG::7801"><gml:pos>` + f(cy) + " " + f(cx) + `</gml:pos></gml:Point><fes:Distance uom="m">120</fes:Distance></fes:DWithin>`),
			`ST_DWithin(geom, ST_SetSRID(ST_MakePoint($1, $2), 7801), 120)`, []any{cx, cy}},
		{"Within envelope", fes(`<fes:Within><fes:ValueReference>geom</fes:ValueReference><gml:Envelope srsName="urn:ogc:def:crs:EPSG::7801"><gml:lowerCorner>` + f(cy-300) + " " + f(cx-300) + `</gml:lowerCorner><gml:upperCorner>` + f(cy+300) + " " + f(cx+300) + `</gml:upperCorner></gml:Envelope></fes:Within>`),
			`ST_Within(geom, ST_MakeEnvelope($1 - 300, $2 - 300, $1 + 300, $2 + 300, 7801))`, []any{cx, cy}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels WHERE `+c.sql, c.args...)
			got := hits(t, e, "", c.query)
			if got != want {
				t.Errorf("numberMatched %d, SQL count %d", got, want)
			}
			if want == 0 && c.name != "null" {
				t.Logf("note: %s matches nothing in the demo data", c.name)
			}
			// The features returned agree with the count.
			code, body := e.get(t, "", "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&"+c.query)
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			if n := int64(len(parse(t, body).find("member"))); n != want {
				t.Errorf("%d members, SQL count %d", n, want)
			}
		})
	}

	// The same filter in OGC Filter 1.1 through WFS 1.1.0.
	want := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels WHERE area_m2 >= 500`)
	code, body := e.get(t, "", "SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=munigis:cadastre_parcels&RESULTTYPE=hits&FILTER="+
		url.QueryEscape(`<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><ogc:PropertyIsGreaterThanOrEqualTo><ogc:PropertyName>area_m2</ogc:PropertyName><ogc:Literal>500</ogc:Literal></ogc:PropertyIsGreaterThanOrEqualTo></ogc:Filter>`))
	if code != 200 || matched(t, body) != want {
		t.Errorf("1.1.0 filter: %d numberOfFeatures %s, want %d", code, parse(t, body).attr("numberOfFeatures"), want)
	}

	// XML POST with a filter, a sort and a property list.
	code, body = e.post(t, "", `<wfs:GetFeature service="WFS" version="2.0.0" count="5" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0">
		<wfs:Query typeNames="munigis:cadastre_parcels" srsName="urn:ogc:def:crs:EPSG::4326">
		<wfs:PropertyName>area_m2</wfs:PropertyName>
		<fes:Filter><fes:PropertyIsGreaterThan><fes:ValueReference>area_m2</fes:ValueReference><fes:Literal>500</fes:Literal></fes:PropertyIsGreaterThan></fes:Filter>
		<fes:SortBy><fes:SortProperty><fes:ValueReference>area_m2</fes:ValueReference><fes:SortOrder>DESC</fes:SortOrder></fes:SortProperty></fes:SortBy>
		</wfs:Query></wfs:GetFeature>`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	doc := parse(t, body)
	areas := doc.texts("area_m2")
	if len(areas) != 5 || len(doc.find("identifier")) != 0 || len(doc.find("posList")) != 0 {
		t.Fatalf("POST with PropertyName: %.1000s", body)
	}
	var maxArea float64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT max(area_m2) FROM features.cadastre_parcels`).Scan(&maxArea); err != nil {
		t.Fatal(err)
	}
	prev := math.Inf(1)
	for i, a := range areas {
		v, _ := strconv.ParseFloat(a, 64)
		if v > prev {
			t.Errorf("not sorted descending: %v", areas)
		}
		if i == 0 && v != maxArea {
			t.Errorf("first area %v, SQL max %v", v, maxArea)
		}
		prev = v
	}
	if doc.attr("numberMatched") != strconv.FormatInt(e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels WHERE area_m2 > 500`), 10) {
		t.Errorf("numberMatched %s", doc.attr("numberMatched"))
	}

	// GetPropertyValue.
	code, body = e.get(t, "", "SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=munigis:cadastre_parcels&VALUEREFERENCE=identifier&COUNT=7&SORTBY=identifier")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	vals := parse(t, body).texts("member")
	var first string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT min(identifier) FROM features.cadastre_parcels`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if len(vals) != 7 || vals[0] != first {
		t.Errorf("GetPropertyValue gave %v, want 7 starting at %s", vals, first)
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 60)
	total := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels`)
	seen := map[string]bool{}
	next := e.srv.URL + "/wfs?service=WFS&version=2.0.0&request=GetFeature&typeNames=munigis:cadastre_parcels&count=25&propertyName=identifier"
	pages := 0
	for next != "" {
		u, _ := url.Parse(next)
		code, body := e.get(t, "", u.RawQuery)
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		doc := parse(t, body)
		if doc.attr("numberMatched") != strconv.FormatInt(total, 10) {
			t.Errorf("numberMatched %s, want %d", doc.attr("numberMatched"), total)
		}
		members := doc.find("member")
		if len(doc.find("posList")) != 0 || len(doc.find("area_m2")) != 0 || len(doc.find("identifier")) != len(members) {
			t.Error("PROPERTYNAME=identifier did not limit the properties to identifier")
		}
		if strconv.Itoa(len(members)) != doc.attr("numberReturned") {
			t.Errorf("numberReturned %s but %d members", doc.attr("numberReturned"), len(members))
		}
		for _, m := range members {
			id := m.Children[0].attr("id")
			if seen[id] {
				t.Errorf("%s on two pages", id)
			}
			seen[id] = true
		}
		if pages > 0 && doc.attr("previous") == "" {
			t.Error("page after the first has no previous link")
		}
		next = doc.attr("next")
		if next != "" && !strings.HasPrefix(next, e.srv.URL+"/wfs?") {
			t.Errorf("next link %s", next)
		}
		pages++
		if pages > 20 {
			t.Fatal("paging does not end")
		}
	}
	if int64(len(seen)) != total || pages != int((total+24)/25) {
		t.Errorf("paging gave %d features in %d pages, want %d", len(seen), pages, total)
	}
	// SORTBY in KVP, descending.
	code, body := e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&COUNT=3&SORTBY=munigis:area_m2%20DESC,identifier")
	var top float64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT max(area_m2) FROM features.cadastre_parcels`).Scan(&top); err != nil {
		t.Fatal(err)
	}
	if areas := parse(t, body).texts("area_m2"); code != 200 || len(areas) != 3 || areas[0] != strconv.FormatFloat(top, 'f', -1, 64) {
		t.Errorf("SORTBY area_m2 DESC gave %v, want %v first", areas, top)
	}

	// Hits, and the 1.1.0 MAXFEATURES spelling.
	if n := hits(t, e, "", "TYPENAMES=munigis:cadastre_parcels"); n != total {
		t.Errorf("hits %d, want %d", n, total)
	}
	code, body = e.get(t, "", "SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=munigis:cadastre_parcels&MAXFEATURES=3")
	doc := parse(t, body)
	if code != 200 || len(doc.find("featureMember")) != 3 || doc.attr("numberOfFeatures") != "3" || !strings.Contains(body, `xmlns:gml="http://www.opengis.net/gml"`) {
		t.Errorf("1.1.0 GetFeature: %.800s", body)
	}
	// Several types in one request.
	nb := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_buildings`)
	if n := hits(t, e, "", "TYPENAMES=munigis:cadastre_parcels,munigis:cadastre_buildings"); n != total+nb {
		t.Errorf("two types: %d, want %d", n, total+nb)
	}
	code, body = e.get(t, "", "SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels,munigis:cadastre_buildings&STARTINDEX="+strconv.FormatInt(total-2, 10)+"&COUNT=5")
	doc = parse(t, body)
	if code != 200 || len(doc.find("cadastre_parcels")) != 2 || len(doc.find("cadastre_buildings")) != 3 {
		t.Errorf("window across two types: %.800s", body)
	}
}

func TestHeadAndPostForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	code, body, h := e.do(t, http.MethodHead, "", "SERVICE=WFS&REQUEST=GetCapabilities", "")
	if code != 200 || body != "" || !strings.HasPrefix(h.Get("Content-Type"), "application/xml") {
		t.Errorf("HEAD: %d %q %v", code, body, h)
	}
	resp, err := http.PostForm(e.srv.URL+"/wfs", url.Values{"SERVICE": {"WFS"}, "REQUEST": {"GetFeature"}, "TYPENAMES": {"munigis:cadastre_parcels"}, "RESULTTYPE": {"hits"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || matched(t, string(b)) != 0 {
		t.Errorf("form POST: %d %s", resp.StatusCode, b)
	}
}

const (
	tx20  = `<wfs:Transaction service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:munigis="https://munigis.bg/ns">`
	txEnd = `</wfs:Transaction>`
)

// square is a closed ring of four corners around (a, b), in the order given.
func square(a, b, d float64) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return strings.Join([]string{f(a - d), f(b - d), f(a - d), f(b + d), f(a + d), f(b + d), f(a + d), f(b - d), f(a - d), f(b - d)}, " ")
}

func TestTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 30)
	ctx := context.Background()
	before := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels`)
	const lat, lon = 42.8950, 24.7150
	insert := tx20 + `<wfs:Insert handle="two parcels">
		<munigis:cadastre_parcels><munigis:geom><gml:Polygon gml:id="a" srsName="urn:ogc:def:crs:EPSG::4326"><gml:exterior><gml:LinearRing><gml:posList>` + square(lat, lon, 0.0002) + `</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></munigis:geom>
		<munigis:identifier>73198.999.1</munigis:identifier><munigis:area_m2>1234.5</munigis:area_m2><munigis:land_use>нива</munigis:land_use></munigis:cadastre_parcels>
		<munigis:cadastre_parcels><munigis:geom><gml:MultiSurface gml:id="b"><gml:surfaceMember><gml:Polygon gml:id="b1"><gml:exterior><gml:LinearRing><gml:posList>` + square(4750000, 8650000, 10) + `</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></munigis:geom>
		<munigis:identifier>73198.999.2</munigis:identifier></munigis:cadastre_parcels>
		</wfs:Insert>` + txEnd

	// The public and a reader may not; nothing changes.
	for _, who := range []string{"", "clerk"} {
		code, body := e.post(t, who, insert)
		exception(t, code, body, 403, "OperationProcessingFailed")
	}
	if n := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels`); n != before {
		t.Fatalf("a refused transaction changed the layer: %d → %d", before, n)
	}

	code, body := e.post(t, "planner", insert)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	doc := parse(t, body)
	if doc.texts("totalInserted")[0] != "2" {
		t.Fatalf("totalInserted: %s", body)
	}
	var rids []string
	for _, r := range doc.find("ResourceId") {
		rids = append(rids, r.attr("rid"))
	}
	if len(rids) != 2 || doc.find("Feature")[0].attr("handle") != "two parcels" {
		t.Fatalf("InsertResults: %s", body)
	}
	id1, _ := strconv.ParseInt(strings.TrimPrefix(rids[0], "cadastre_parcels."), 10, 64)
	id2, _ := strconv.ParseInt(strings.TrimPrefix(rids[1], "cadastre_parcels."), 10, 64)
	var ident, createdBy string
	var cLon, cLat, area float64
	err := e.db.Pool.QueryRow(ctx, `SELECT identifier, created_by, area_m2, ST_X(c), ST_Y(c) FROM (SELECT *, ST_Transform(ST_Centroid(geom), 4326) c
		FROM features.cadastre_parcels WHERE id = $1) s`, id1).Scan(&ident, &createdBy, &area, &cLon, &cLat)
	if err != nil {
		t.Fatal(err)
	}
	if ident != "73198.999.1" || createdBy != "u-planner" || area != 1234.5 {
		t.Errorf("inserted row: %s %s %v", ident, createdBy, area)
	}
	// The lat,lon order of EPSG:4326 in the request was honoured.
	if math.Abs(cLon-lon) > 1e-6 || math.Abs(cLat-lat) > 1e-6 {
		t.Errorf("inserted centroid lon/lat %v %v, want %v %v", cLon, cLat, lon, lat)
	}
	var x, y float64
	if err := e.db.Pool.QueryRow(ctx, `SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM features.cadastre_parcels WHERE id = $1`, id2).Scan(&x, &y); err != nil {
		t.Fatal(err)
	}
	if math.Abs(x-8650000) > 1e-6 || math.Abs(y-4750000) > 1e-6 {
		t.Errorf("7801 (northing first) insert stored at x=%v y=%v", x, y)
	}

	// Update, then Replace and Delete in one transaction.
	code, body = e.post(t, "planner", tx20+`<wfs:Update typeName="munigis:cadastre_parcels" handle="addr">
		<wfs:Property><wfs:ValueReference>address</wfs:ValueReference><wfs:Value>ул. Васил Левски 1</wfs:Value></wfs:Property>
		<wfs:Property><wfs:ValueReference>area_m2</wfs:ValueReference><wfs:Value>99</wfs:Value></wfs:Property>
		<fes:Filter><fes:ResourceId rid="`+rids[0]+`"/></fes:Filter></wfs:Update>
		<wfs:Replace><munigis:cadastre_parcels gml:id="`+rids[1]+`"><munigis:geom><gml:Polygon gml:id="c"><gml:exterior><gml:LinearRing><gml:posList>`+square(4750000, 8650000, 20)+`</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></munigis:geom>
		<munigis:identifier>73198.999.2</munigis:identifier><munigis:ownership>частна</munigis:ownership></munigis:cadastre_parcels>
		<fes:Filter><fes:ResourceId rid="`+rids[1]+`"/></fes:Filter></wfs:Replace>
		`+txEnd)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	doc = parse(t, body)
	if doc.texts("totalUpdated")[0] != "1" || doc.texts("totalReplaced")[0] != "1" {
		t.Errorf("update/replace summary: %s", body)
	}
	var addr, updatedBy string
	if err := e.db.Pool.QueryRow(ctx, `SELECT address, area_m2, updated_by FROM features.cadastre_parcels WHERE id = $1`, id1).Scan(&addr, &area, &updatedBy); err != nil {
		t.Fatal(err)
	}
	if addr != "ул. Васил Левски 1" || area != 99 || updatedBy != "u-planner" {
		t.Errorf("updated row: %q %v %s", addr, area, updatedBy)
	}
	if n := e.sqlInt(t, `SELECT count(*) FROM feature_versions WHERE layer = 'cadastre_parcels' AND feature_id = $1 AND ended_how = 'update' AND ended_by = 'u-planner'`, id1); n != 1 {
		t.Errorf("%d versions of the updated feature", n)
	}
	if n := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels WHERE id = $1 AND ownership = 'частна' AND abs(ST_Area(geom) - 1600) < 1e-6`, id2); n != 1 {
		t.Error("replace did not change the feature")
	}

	code, body = e.post(t, "planner", tx20+`<wfs:Delete typeName="munigis:cadastre_parcels"><fes:Filter><fes:ResourceId rid="`+rids[1]+`"/></fes:Filter></wfs:Delete>`+txEnd)
	if code != 200 || parse(t, body).texts("totalDeleted")[0] != "1" {
		t.Fatalf("%d %s", code, body)
	}
	if n := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels WHERE id = $1`, id2); n != 0 {
		t.Error("deleted feature still there")
	}
	if n := e.sqlInt(t, `SELECT count(*) FROM feature_versions WHERE layer = 'cadastre_parcels' AND feature_id = $1 AND ended_how = 'delete' AND ended_by = 'u-planner'`, id2); n != 1 {
		t.Error("the deleted feature's last version is not kept")
	}

	// All or nothing: the second action fails in the database (a duplicate
	// identifier), so the first insert is rolled back.
	count := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels`)
	code, body = e.post(t, "planner", tx20+`<wfs:Insert><munigis:cadastre_parcels><munigis:geom><gml:Polygon gml:id="d"><gml:exterior><gml:LinearRing><gml:posList>`+square(4750100, 8650100, 5)+`</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></munigis:geom>
		<munigis:identifier>73198.999.3</munigis:identifier></munigis:cadastre_parcels></wfs:Insert>
		<wfs:Insert handle="dup"><munigis:cadastre_parcels><munigis:geom><gml:Polygon gml:id="e"><gml:exterior><gml:LinearRing><gml:posList>`+square(4750200, 8650200, 5)+`</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></munigis:geom>
		<munigis:identifier>73198.999.1</munigis:identifier></munigis:cadastre_parcels></wfs:Insert>`+txEnd)
	ex := exception(t, code, body, 400, "InvalidParameterValue")
	if ex.attr("locator") != "dup" {
		t.Errorf("locator %q, want the failing action's handle: %s", ex.attr("locator"), body)
	}
	if n := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels`); n != count {
		t.Errorf("a failed transaction left %d features, had %d", n, count)
	}
	if strings.Contains(strings.ToLower(body), "duplicate key") || strings.Contains(body, "SQLSTATE") {
		t.Errorf("database text reached the client: %s", body)
	}

	// Bad input is refused before anything is written, naming what is wrong.
	for _, c := range []struct{ body, want string }{
		{`<wfs:Update typeName="munigis:cadastre_parcels"><wfs:Property><wfs:ValueReference>area_m2</wfs:ValueReference><wfs:Value>abc</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid="` + rids[0] + `"/></fes:Filter></wfs:Update>`, "area_m2"},
		{`<wfs:Update typeName="munigis:cadastre_parcels"><wfs:Property><wfs:ValueReference>colour</wfs:ValueReference><wfs:Value>red</wfs:Value></wfs:Property></wfs:Update>`, "colour"},
		{`<wfs:Delete typeName="munigis:cadastre_parcels"/>`, "Filter"},
		{`<wfs:Insert><munigis:nosuchlayer/></wfs:Insert>`, "nosuchlayer"},
	} {
		code, body := e.post(t, "planner", tx20+c.body+txEnd)
		if code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s", c.want, code, body)
		}
	}

	// WFS 1.1.0: GML 3.1.1 and wfs:Name.
	code, body = e.post(t, "planner", `<wfs:Transaction service="WFS" version="1.1.0" xmlns:wfs="http://www.opengis.net/wfs" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml" xmlns:munigis="https://munigis.bg/ns">
		<wfs:Insert><munigis:cadastre_parcels><munigis:geom><gml:Polygon srsName="EPSG:7801"><gml:exterior><gml:LinearRing><gml:posList>`+square(4750300, 8650300, 5)+`</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></munigis:geom>
		<munigis:identifier>73198.999.4</munigis:identifier></munigis:cadastre_parcels></wfs:Insert>
		<wfs:Update typeName="munigis:cadastre_parcels"><wfs:Property><wfs:Name>address</wfs:Name><wfs:Value>пл. Възраждане</wfs:Value></wfs:Property>
		<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>identifier</ogc:PropertyName><ogc:Literal>73198.999.1</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter></wfs:Update>
		</wfs:Transaction>`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	doc = parse(t, body)
	if doc.texts("totalInserted")[0] != "1" || doc.texts("totalUpdated")[0] != "1" || len(doc.find("FeatureId")) != 1 {
		t.Errorf("1.1.0 response: %s", body)
	}
	if n := e.sqlInt(t, `SELECT count(*) FROM features.cadastre_parcels WHERE identifier = '73198.999.1' AND address = 'пл. Възраждане'`); n != 1 {
		t.Error("1.1.0 update not applied")
	}
}

// TestStreamingMemory sends 100,000 features through GetFeature and checks
// that the heap does not grow with the result. It is the one test not run
// in parallel, so that Go runs it alone and the heap it measures is its own.
func TestStreamingMemory(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	store := layers.NewStore(e.db.Pool)
	typ := layers.Type{Name: "stream_points", TitleBG: "Точки", TitleEN: "Points", GeometryType: "Point",
		Attributes: []layers.Attribute{{Name: "num", Type: layers.Integer, TitleBG: "Номер", TitleEN: "Number"},
			{Name: "label", Type: layers.Text, TitleBG: "Надпис", TitleEN: "Label"}}}
	if err := store.CreateType(ctx, typ); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateLayer(ctx, layers.Layer{Name: "stream_points", TypeName: "stream_points", TitleBG: "Точки", TitleEN: "Points", Visibility: layers.Public}); err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	load := time.Now()
	// The features are loaded with the history and audit triggers off
	// (session_replication_role), which this test does not exercise, so
	// that loading takes a second, not ten.
	tx, err := e.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO features.stream_points (geom, num, label)
		SELECT ST_SetSRID(ST_MakePoint(8650000 + (i % 1000) * 3, 4750000 + (i / 1000) * 3), 7801), i, 'точка ' || i
		FROM generate_series(1, $1) i`, n); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d features in %v", n, time.Since(load).Round(time.Millisecond))
	for _, format := range []string{"application/gml%2Bxml;%20version=3.2", "application/json"} {
		t.Run(format, func(t *testing.T) {
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak uint64
			done := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var m runtime.MemStats
				for {
					select {
					case <-done:
						return
					case <-time.After(20 * time.Millisecond):
					}
					runtime.ReadMemStats(&m)
					peak = max(peak, m.HeapInuse)
				}
			}()
			start := time.Now()
			resp, err := http.Get(e.srv.URL + "/wfs?SERVICE=WFS&REQUEST=GetFeature&TYPENAMES=munigis:stream_points&SRSNAME=EPSG:4326&OUTPUTFORMAT=" + format)
			if err != nil {
				t.Fatal(err)
			}
			cw := &countingWriter{marker: []byte("<wfs:member>")}
			if strings.Contains(format, "json") {
				cw.marker = []byte(`{"type":"Feature",`)
			}
			if _, err := io.Copy(cw, resp.Body); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			close(done)
			<-sampled
			growth := int64(peak) - int64(base.HeapInuse)
			t.Logf("%s: %d features, %.1f MB in %v; heap in use grew by at most %.1f MB",
				format, cw.features, float64(cw.bytes)/(1<<20), time.Since(start).Round(time.Millisecond), float64(growth)/(1<<20))
			if resp.StatusCode != 200 || cw.features != n {
				t.Fatalf("status %d, %d features, want %d", resp.StatusCode, cw.features, n)
			}
			if growth > 50<<20 {
				t.Errorf("heap grew by %d MB while streaming %d features", growth>>20, n)
			}
		})
	}
}

// countingWriter counts bytes and features (occurrences of marker: a GML
// member or a GeoJSON feature) without keeping them.
type countingWriter struct {
	marker          []byte
	bytes, features int64
	tail            []byte
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	buf := append(c.tail, p...)
	c.features += int64(bytes.Count(buf, c.marker))
	// Keep a tail one byte shorter than the marker, so that a marker split
	// across writes is found once and a whole one never twice.
	keep := min(len(buf), len(c.marker)-1)
	c.tail = append(c.tail[:0:0], buf[len(buf)-keep:]...)
	return len(p), nil
}

// TestOGRTransaction inserts a parcel with GDAL's WFS driver (ogr2ogr
// -update -append) through WFS 1.1.0 and 2.0.0. GDAL 3.6 posts WFS 1.1
// documents even in 2.0 mode and reads the answer as 1.1, which the service
// honours by answering in the request's namespace.
func TestOGRTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10)
	ctx := context.Background()
	in := t.TempDir() + "/parcel.geojson"
	const gj = `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"identifier":"73198.888.1","area_m2":77},
		"geometry":{"type":"MultiPolygon","coordinates":[[[[24.71,42.89],[24.7102,42.89],[24.7102,42.8902],[24.71,42.8902],[24.71,42.89]]]]}}]}`
	if err := os.WriteFile(in, []byte(gj), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ver := range []string{"1.1.0", "2.0.0"} {
		out, err := exec.Command("ogr2ogr", "-update", "-append", "-nln", "munigis:cadastre_parcels", "-t_srs", "EPSG:7801",
			"--config", "GDAL_HTTP_HEADERS", "X-Test-Viewer: planner", "WFS:"+e.srv.URL+"/wfs?VERSION="+ver, in).CombinedOutput()
		if err != nil {
			t.Fatalf("ogr2ogr WFS %s: %v\n%s", ver, err, out)
		}
		var lon, lat, area float64
		var by string
		err = e.db.Pool.QueryRow(ctx, `SELECT ST_X(c), ST_Y(c), area_m2, created_by FROM (SELECT ST_Transform(ST_Centroid(geom), 4326) c, area_m2, created_by
			FROM features.cadastre_parcels WHERE identifier = '73198.888.1') s`).Scan(&lon, &lat, &area, &by)
		if err != nil {
			t.Fatalf("WFS %s: the inserted parcel is not there: %v", ver, err)
		}
		if math.Abs(lon-24.7101) > 1e-7 || math.Abs(lat-42.8901) > 1e-7 || area != 77 || by != "u-planner" {
			t.Errorf("WFS %s inserted lon %v lat %v area %v by %s", ver, lon, lat, area, by)
		}
		if _, err := e.db.Pool.Exec(ctx, `DELETE FROM features.cadastre_parcels WHERE identifier = '73198.888.1'`); err != nil {
			t.Fatal(err)
		}
	}
}

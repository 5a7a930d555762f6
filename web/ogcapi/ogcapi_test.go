package ogcapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"munigis/access"
	"munigis/demo"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/web/ogcapi"
)

// The callers of these tests.
var (
	public = access.Anonymous
	// planner may edit every layer.
	planner = access.Viewer{SystemID: "U-000002", Username: "planner", Role: access.Planner, Via: "token",
		Grants: []access.Grant{{ObjectKind: access.KindLayer, Object: access.All, Permission: access.Edit}}}
	// clerk may read every layer, internal ones and fields included, but edit none.
	clerk = access.Viewer{SystemID: "U-000003", Username: "clerk", Role: access.Clerk, Via: "token",
		Grants: []access.Grant{{ObjectKind: access.KindLayer, Object: access.All, Permission: access.Read}}}
)

// benchesType is a public point layer with a date and an internal field,
// which no built-in layer has.
var benchesType = layers.Type{Name: "benches", TitleBG: "Пейки", TitleEN: "Benches", GeometryType: "Point",
	Attributes: []layers.Attribute{
		{Name: "material", Type: layers.Enum, TitleBG: "Материал", TitleEN: "Material", Values: []string{"дърво", "метал"}},
		{Name: "installed", Type: layers.Date, TitleBG: "Поставена на", TitleEN: "Installed on"},
		{Name: "seats", Type: layers.Integer, TitleBG: "Места", TitleEN: "Seats"},
		{Name: "note", Type: layers.Text, TitleBG: "Бележка", TitleEN: "Note", Internal: true},
	}}

const benchRows = `INSERT INTO features.park_benches (geom, material, installed, seats, note) VALUES
	(ST_Transform('SRID=4326;POINT(24.71 42.89)'::geometry, 7801), 'дърво', '2023-04-01', 3, 'боя <b>скоро</b>'),
	(ST_Transform('SRID=4326;POINT(24.72 42.895)'::geometry, 7801), 'метал', '2024-06-15', 4, NULL),
	(ST_Transform('SRID=4326;POINT(24.73 42.90)'::geometry, 7801), 'метал', NULL, 2, NULL)`

type env struct {
	t   *testing.T
	db  *pgtest.DB
	svc *ogcapi.Service
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := demo.Load(ctx, db.Pool, demo.Options{Parcels: 300}, io.Discard); err != nil {
		t.Fatalf("demo.Load: %v", err)
	}
	store := layers.NewStore(db.Pool)
	if err := store.CreateType(ctx, benchesType); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateLayer(ctx, layers.Layer{Name: "park_benches", TypeName: "benches", TitleBG: "Пейки",
		TitleEN: "Benches", Visibility: layers.Public}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, benchRows); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, svc: ogcapi.New(ogcapi.Deps{Layers: store})}
}

// do sends a request as v; headers come in pairs.
func (e *env) do(v access.Viewer, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	r = r.WithContext(access.WithViewer(r.Context(), v))
	w := httptest.NewRecorder()
	e.svc.ServeHTTP(w, r)
	return w
}

// get answers GET target as v and decodes the JSON body; the status must
// be want.
func (e *env) get(v access.Viewer, target string, want int) map[string]any {
	e.t.Helper()
	w := e.do(v, http.MethodGet, target, "")
	if w.Code != want {
		e.t.Fatalf("GET %s = %d %s; want %d", target, w.Code, w.Body.String(), want)
	}
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		e.t.Fatalf("GET %s: body is not JSON: %v\n%s", target, err, w.Body.String())
	}
	return out
}

func (e *env) count(sql string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// linkHref returns the href of the first link with rel (and type, if
// given) from a links array, "" if none.
func linkHref(doc map[string]any, rel, typ string) string {
	links, _ := doc["links"].([]any)
	for _, l := range links {
		m := l.(map[string]any)
		if m["rel"] == rel && (typ == "" || m["type"] == typ) {
			return m["href"].(string)
		}
	}
	return ""
}

// local turns an absolute link of the service into a request target.
func local(t *testing.T, href string) string {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil || u.Host != "example.com" || u.Scheme != "http" {
		t.Fatalf("link %q is not an absolute link to this server (http://example.com)", href)
	}
	return u.RequestURI()
}

func featureIDs(fc map[string]any) []int64 {
	var ids []int64
	for _, f := range fc["features"].([]any) {
		ids = append(ids, int64(f.(map[string]any)["id"].(float64)))
	}
	return ids
}

func TestOGCAPI(t *testing.T) {
	e := setup(t)
	parcels := e.count(`SELECT count(*) FROM features.cadastre_parcels`)

	t.Run("landing page links", func(t *testing.T) {
		doc := e.get(public, "/ogc", 200)
		for _, rel := range []string{"self", "alternate", "service-desc", "conformance", "data"} {
			if linkHref(doc, rel, "") == "" {
				t.Errorf("landing page has no %q link: %v", rel, doc["links"])
			}
		}
		if got := linkHref(doc, "data", ""); got != "http://example.com/ogc/collections" {
			t.Errorf("data link = %q", got)
		}
		if got := linkHref(doc, "service-desc", ""); local(t, got) != "/ogc/api" {
			t.Errorf("service-desc link = %q", got)
		}
		// Behind a TLS proxy the links keep the client's scheme.
		w := e.do(public, "GET", "/ogc/", "", "X-Forwarded-Proto", "https")
		if !strings.Contains(w.Body.String(), `"https://example.com/ogc/collections"`) {
			t.Errorf("behind X-Forwarded-Proto: https the links are not https: %s", w.Body.String())
		}
	})

	t.Run("conformance", func(t *testing.T) {
		doc := e.get(public, "/ogc/conformance", 200)
		var got []string
		for _, c := range doc["conformsTo"].([]any) {
			got = append(got, c.(string))
		}
		for _, want := range []string{
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
			"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
			"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
		} {
			if !slices.Contains(got, want) {
				t.Errorf("conformsTo lacks %s", want)
			}
		}
	})

	t.Run("collections as the public and as staff", func(t *testing.T) {
		ids := func(v access.Viewer) []string {
			doc := e.get(v, "/ogc/collections", 200)
			var out []string
			for _, c := range doc["collections"].([]any) {
				out = append(out, c.(map[string]any)["id"].(string))
			}
			return out
		}
		pub, staff := ids(public), ids(clerk)
		if !slices.Contains(pub, "cadastre_parcels") || !slices.Contains(pub, "park_benches") {
			t.Errorf("public collections %v lack cadastre_parcels or park_benches", pub)
		}
		for _, hidden := range []string{"utility_lines", "utility_manholes", "cadastre_units"} {
			if slices.Contains(pub, hidden) {
				t.Errorf("the public sees internal layer %s", hidden)
			}
			if !slices.Contains(staff, hidden) {
				t.Errorf("a clerk with a read grant does not see %s", hidden)
			}
		}
		// The clerk holds layer grants, not register grants: register layers
		// follow the register's grants (access.CanRead).
		internal := int(e.count(`SELECT count(*) FROM layers WHERE visibility = 'internal' AND source = 'local'`))
		if len(staff) != len(pub)+internal {
			t.Errorf("staff see %d collections, the public %d; want %d more", len(staff), len(pub), internal)
		}
	})

	t.Run("collection extent and CRS", func(t *testing.T) {
		c := e.get(public, "/ogc/collections/cadastre_parcels", 200)
		if c["id"] != "cadastre_parcels" || c["itemType"] != "feature" {
			t.Errorf("id, itemType = %v, %v", c["id"], c["itemType"])
		}
		crs := c["crs"].([]any)
		if crs[0] != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" {
			t.Errorf("crs[0] = %v; want CRS84 first", crs[0])
		}
		if !slices.Contains(crs, any("http://www.opengis.net/def/crs/EPSG/0/4326")) || !slices.Contains(crs, any("http://www.opengis.net/def/crs/EPSG/0/7801")) {
			t.Errorf("crs %v lacks EPSG 4326 or 7801", crs)
		}
		if c["storageCrs"] != "http://www.opengis.net/def/crs/EPSG/0/7801" {
			t.Errorf("storageCrs = %v", c["storageCrs"])
		}
		sp := c["extent"].(map[string]any)["spatial"].(map[string]any)
		bbox := sp["bbox"].([]any)[0].([]any)
		var want [4]float64
		if err := e.db.Pool.QueryRow(context.Background(), `WITH b AS (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, 7801), 4326) AS b FROM features.cadastre_parcels)
			SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM b`).Scan(&want[0], &want[1], &want[2], &want[3]); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			// An estimated extent may be a little larger, never smaller.
			got := bbox[i].(float64)
			if math.Abs(got-want[i]) > 0.01 || (i < 2 && got > want[i]+1e-9) || (i >= 2 && got < want[i]-1e-9) {
				t.Errorf("extent bbox = %v; want about %v (lon/lat) containing it", bbox, want)
				break
			}
		}
		if sp["crs"] != "http://www.opengis.net/def/crs/OGC/1.3/CRS84" {
			t.Errorf("extent crs = %v", sp["crs"])
		}
	})

	t.Run("links for GDAL, schema and queryables", func(t *testing.T) {
		c := e.get(public, "/ogc/collections/cadastre_parcels", 200)
		// GDAL appends /{featureId} and ?limit= to the items href as it is.
		items := linkHref(c, "items", "application/geo+json")
		if items != "http://example.com/ogc/collections/cadastre_parcels/items" {
			t.Errorf("items link = %q; want it without a query", items)
		}
		e.get(public, local(t, items)+"/1", 200)
		schema := e.get(public, local(t, linkHref(c, "describedby", "application/schema+json")), 200)
		props := schema["properties"].(map[string]any)["properties"].(map[string]any)["properties"].(map[string]any)
		if props["area_m2"].(map[string]any)["type"] != "number" || props["identifier"].(map[string]any)["type"] != "string" {
			t.Errorf("schema properties = %v; want area_m2 number, identifier string", props)
		}
		q := e.get(public, "/ogc/collections/park_benches/queryables", 200)["properties"].(map[string]any)
		if q["seats"].(map[string]any)["type"] != "integer" || q["installed"].(map[string]any)["format"] != "date" || q["note"] != nil {
			t.Errorf("public queryables of park_benches = %v; want seats integer, installed date, no note", q)
		}
		if q := e.get(clerk, "/ogc/collections/park_benches/queryables", 200)["properties"].(map[string]any); q["note"] == nil {
			t.Errorf("a clerk's queryables lack the internal field note: %v", q)
		}
		e.get(public, "/ogc/collections/utility_lines/schema", 404)
	})

	t.Run("OpenAPI definition", func(t *testing.T) {
		w := e.do(public, "GET", "/ogc/api", "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/vnd.oai.openapi+json") {
			t.Fatalf("GET /ogc/api = %d %s", w.Code, w.Header().Get("Content-Type"))
		}
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["openapi"] != "3.0.3" {
			t.Errorf("openapi = %v", doc["openapi"])
		}
		paths := doc["paths"].(map[string]any)
		for _, p := range []string{"/", "/conformance", "/collections", "/collections/{collectionId}",
			"/collections/{collectionId}/items", "/collections/{collectionId}/items/{featureId}", "/collections/cadastre_parcels/items"} {
			if paths[p] == nil {
				t.Errorf("paths lack %s", p)
			}
		}
		if paths["/collections/utility_lines/items"] != nil || strings.Contains(w.Body.String(), "utility_lines") {
			t.Errorf("the public's API definition names the internal layer utility_lines")
		}
		limit := doc["components"].(map[string]any)["parameters"].(map[string]any)["limit"].(map[string]any)["schema"].(map[string]any)
		if limit["maximum"] != float64(10000) || limit["default"] != float64(10) {
			t.Errorf("limit schema = %v; want default 10, maximum 10000", limit)
		}
	})

	t.Run("items paging and numberMatched", func(t *testing.T) {
		w := e.do(public, "GET", "/ogc/collections/cadastre_parcels/items?limit=7", "")
		if ct := w.Header().Get("Content-Type"); ct != "application/geo+json" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cc := w.Header().Get("Content-Crs"); cc != "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" {
			t.Errorf("Content-Crs = %q", cc)
		}
		fc := e.get(public, "/ogc/collections/cadastre_parcels/items?limit=7", 200)
		if fc["type"] != "FeatureCollection" || fc["numberReturned"] != float64(7) || fc["numberMatched"] != float64(parcels) {
			t.Fatalf("type %v, numberReturned %v, numberMatched %v; want FeatureCollection, 7, %d", fc["type"], fc["numberReturned"], fc["numberMatched"], parcels)
		}
		if _, err := timeParse(fc["timeStamp"]); err != nil {
			t.Errorf("timeStamp %v: %v", fc["timeStamp"], err)
		}
		if linkHref(fc, "prev", "") != "" {
			t.Errorf("the first page has a prev link")
		}
		// Walk every page by the next links: every parcel once, in id order.
		var all []int64
		next := "/ogc/collections/cadastre_parcels/items?limit=70"
		pages := 0
		for next != "" {
			page := e.get(public, next, 200)
			all = append(all, featureIDs(page)...)
			pages++
			if pages > 1 && linkHref(page, "prev", "") == "" {
				t.Errorf("page %d has no prev link", pages)
			}
			next = linkHref(page, "next", "")
			if next != "" {
				next = local(t, next)
			}
		}
		if int64(len(all)) != parcels || !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != len(all) {
			t.Errorf("walking the next links gave %d features (sorted %v); want %d distinct, in id order", len(all), slices.IsSorted(all), parcels)
		}
		if want := int((parcels + 69) / 70); pages != want {
			t.Errorf("%d pages; want %d", pages, want)
		}
		// Default 10, above the maximum capped, bad values refused.
		if fc := e.get(public, "/ogc/collections/cadastre_parcels/items", 200); fc["numberReturned"] != float64(10) {
			t.Errorf("default page has %v features; want 10", fc["numberReturned"])
		}
		if fc := e.get(public, "/ogc/collections/cadastre_parcels/items?limit=20000", 200); fc["numberReturned"] != float64(parcels) {
			t.Errorf("limit=20000 gave %v features; want all %d (capped at 10000)", fc["numberReturned"], parcels)
		}
		for _, q := range []string{"limit=0", "limit=abc", "offset=-1"} {
			doc := e.get(public, "/ogc/collections/cadastre_parcels/items?"+q, 400)
			if doc["code"] != "InvalidParameterValue" || !strings.Contains(doc["description"].(string), strings.Split(q, "=")[0]) {
				t.Errorf("%s: %v; want InvalidParameterValue naming the parameter", q, doc)
			}
		}
	})

	t.Run("bbox and bbox-crs", func(t *testing.T) {
		const lon0, lat0, lon1, lat1 = 24.70, 42.88, 24.715, 42.895
		// Part 1: the geometry intersects the box (not just its own box).
		want := e.count(`SELECT count(*) FROM features.cadastre_parcels WHERE ST_Intersects(geom, ST_Transform(ST_Segmentize(ST_MakeEnvelope($1, $2, $3, $4, 4326), 0.0001), 7801))`, lon0, lat0, lon1, lat1)
		loose := e.count(`SELECT count(*) FROM features.cadastre_parcels WHERE geom && ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 4326), 7801)`, lon0, lat0, lon1, lat1)
		t.Logf("box: %d parcels intersect, %d by bounding box", want, loose)
		if want == 0 || want == parcels {
			t.Fatalf("the test box holds %d of %d parcels; pick a box that holds some", want, parcels)
		}
		fc := e.get(public, fmt.Sprintf("/ogc/collections/cadastre_parcels/items?limit=1000&bbox=%v,%v,%v,%v", lon0, lat0, lon1, lat1), 200)
		if fc["numberMatched"] != float64(want) || fc["numberReturned"] != float64(want) {
			t.Errorf("CRS84 bbox: matched %v returned %v; want %d", fc["numberMatched"], fc["numberReturned"], want)
		}
		// The same box as EPSG:4326 by URI is latitude first (Part 2).
		fc = e.get(public, fmt.Sprintf("/ogc/collections/cadastre_parcels/items?limit=1000&bbox=%v,%v,%v,%v&bbox-crs=%s",
			lat0, lon0, lat1, lon1, url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4326")), 200)
		if fc["numberMatched"] != float64(want) {
			t.Errorf("EPSG:4326 bbox (lat,lon): matched %v; want %d", fc["numberMatched"], want)
		}
		// In the storage CRS, EPSG:7801 is northing first too.
		var e0, n0, e1, n1 float64
		if err := e.db.Pool.QueryRow(context.Background(), `WITH b AS (SELECT ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 4326), 7801) AS b)
			SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM b`, lon0, lat0, lon1, lat1).Scan(&e0, &n0, &e1, &n1); err != nil {
			t.Fatal(err)
		}
		want7801 := e.count(`SELECT count(*) FROM features.cadastre_parcels WHERE ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 7801))`, e0, n0, e1, n1)
		fc = e.get(public, fmt.Sprintf("/ogc/collections/cadastre_parcels/items?limit=1000&bbox=%f,%f,%f,%f&bbox-crs=%s",
			n0, e0, n1, e1, url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/7801")), 200)
		if fc["numberMatched"] != float64(want7801) {
			t.Errorf("EPSG:7801 bbox (N,E): matched %v; want %d", fc["numberMatched"], want7801)
		}
		for _, q := range []string{"bbox=1,2,3", "bbox=3,2,1,4", "bbox=1,2,3,4&bbox-crs=EPSG:2100", "bbox-crs=EPSG:2100"} {
			doc := e.get(public, "/ogc/collections/cadastre_parcels/items?"+q, 400)
			if !strings.Contains(doc["description"].(string), "bbox") && !strings.Contains(doc["description"].(string), "CRS") {
				t.Errorf("%s: %v; want a message about the bbox", q, doc)
			}
		}
	})

	t.Run("crs EPSG:4326 is latitude first", func(t *testing.T) {
		var id int64
		var lon, lat float64
		if err := e.db.Pool.QueryRow(context.Background(), `SELECT id, ST_X(p), ST_Y(p) FROM (
			SELECT id, ST_PointN(ST_ExteriorRing(ST_GeometryN(ST_Transform(geom, 4326), 1)), 1) AS p
			FROM features.cadastre_parcels ORDER BY id LIMIT 1) s`).Scan(&id, &lon, &lat); err != nil {
			t.Fatal(err)
		}
		first := func(f map[string]any) (float64, float64) {
			c := f["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any)[0].([]any)
			return c[0].(float64), c[1].(float64)
		}
		target := fmt.Sprintf("/ogc/collections/cadastre_parcels/items/%d", id)
		x, y := first(e.get(public, target, 200))
		if math.Abs(x-lon) > 1e-7 || math.Abs(y-lat) > 1e-7 {
			t.Errorf("CRS84: first position %v,%v; want lon,lat %v,%v", x, y, lon, lat)
		}
		uri := "http://www.opengis.net/def/crs/EPSG/0/4326"
		w := e.do(public, "GET", target+"?crs="+url.QueryEscape(uri), "")
		if w.Header().Get("Content-Crs") != "<"+uri+">" {
			t.Errorf("Content-Crs = %q", w.Header().Get("Content-Crs"))
		}
		x, y = first(e.get(public, target+"?crs="+url.QueryEscape(uri), 200))
		if math.Abs(x-lat) > 1e-7 || math.Abs(y-lon) > 1e-7 {
			t.Errorf("EPSG:4326: first position %v,%v; want lat,lon %v,%v", x, y, lat, lon)
		}
		// The items list does the same.
		fc := e.get(public, "/ogc/collections/cadastre_parcels/items?limit=1&crs="+url.QueryEscape(uri), 200)
		x, _ = first(fc["features"].([]any)[0].(map[string]any))
		if math.Abs(x-lat) > 1e-7 {
			t.Errorf("items in EPSG:4326: first ordinate %v; want latitude %v", x, lat)
		}
		doc := e.get(public, target+"?crs=EPSG:2100", 400)
		if !strings.Contains(doc["description"].(string), "crs") {
			t.Errorf("unsupported crs: %v", doc)
		}
	})

	t.Run("property filters", func(t *testing.T) {
		var use string
		var want int64
		if err := e.db.Pool.QueryRow(context.Background(), `SELECT land_use, count(*) FROM features.cadastre_parcels
			GROUP BY 1 ORDER BY 2 LIMIT 1`).Scan(&use, &want); err != nil {
			t.Fatal(err)
		}
		if want == 0 || want == parcels {
			t.Fatalf("land_use %s has %d of %d parcels; the test needs a value some have", use, want, parcels)
		}
		fc := e.get(public, "/ogc/collections/cadastre_parcels/items?limit=1000&land_use="+url.QueryEscape(use), 200)
		if fc["numberMatched"] != float64(want) || fc["numberReturned"] != float64(want) {
			t.Errorf("land_use=%s matched %v, returned %v; want %d", use, fc["numberMatched"], fc["numberReturned"], want)
		}
		for _, f := range fc["features"].([]any) {
			if p := f.(map[string]any)["properties"].(map[string]any); p["land_use"] != use {
				t.Errorf("feature with land_use %v in land_use=%s", p["land_use"], use)
			}
		}
		doc := e.get(public, "/ogc/collections/cadastre_parcels/items?colour=red", 400)
		if !strings.Contains(doc["description"].(string), `"colour"`) {
			t.Errorf("unknown parameter: %v; want it named", doc)
		}
		doc = e.get(public, "/ogc/collections/park_benches/items?seats=many", 400)
		if !strings.Contains(doc["description"].(string), "seats") {
			t.Errorf("seats=many: %v; want the attribute named", doc)
		}
		if fc := e.get(public, "/ogc/collections/park_benches/items?seats=4", 200); fc["numberMatched"] != float64(1) {
			t.Errorf("seats=4 matched %v; want 1", fc["numberMatched"])
		}
	})

	t.Run("datetime", func(t *testing.T) {
		// A date attribute: features of the interval, and those without a date.
		fc := e.get(public, "/ogc/collections/park_benches/items?datetime=2024-01-01T00:00:00Z/..", 200)
		if fc["numberMatched"] != float64(2) {
			t.Errorf("datetime=2024-01-01T00:00:00Z/.. matched %v; want 2 (one from 2024, one undated)", fc["numberMatched"])
		}
		if fc := e.get(public, "/ogc/collections/park_benches/items?datetime=2023-04-01T10:00:00Z", 200); fc["numberMatched"] != float64(2) {
			t.Errorf("an instant on 2023-04-01 matched %v; want 2 (that day's and the undated)", fc["numberMatched"])
		}
		// A layer without time: everything matches (Part 1 fc-time-response C).
		if fc := e.get(public, "/ogc/collections/cadastre_parcels/items?datetime=2020-01-01T00:00:00Z/2020-12-31T00:00:00Z", 200); fc["numberMatched"] != float64(parcels) {
			t.Errorf("datetime on a layer without time matched %v; want all %d", fc["numberMatched"], parcels)
		}
		for _, bad := range []string{"yesterday", "2024-13-01T00:00:00Z", "2024-02-01T00:00:00Z/2024-01-01T00:00:00Z", "../.."} {
			if bad == "../.." {
				continue // fully open is valid
			}
			doc := e.get(public, "/ogc/collections/cadastre_parcels/items?datetime="+url.QueryEscape(bad), 400)
			if !strings.Contains(doc["description"].(string), "datetime") {
				t.Errorf("datetime=%s: %v", bad, doc)
			}
		}
	})

	t.Run("internal layers and fields", func(t *testing.T) {
		missing := e.get(public, "/ogc/collections/no_such_layer", 404)
		hidden := e.get(public, "/ogc/collections/utility_lines", 404)
		if strings.ReplaceAll(fmt.Sprint(hidden), "utility_lines", "X") != strings.ReplaceAll(fmt.Sprint(missing), "no_such_layer", "X") {
			t.Errorf("a hidden layer answers %v, a missing one %v; want the same", hidden, missing)
		}
		e.get(public, "/ogc/collections/utility_lines/items", 404)
		e.get(public, "/ogc/collections/utility_manholes/items/1", 404)
		e.get(clerk, "/ogc/collections/utility_lines/items?limit=1", 200)
		// The internal field: absent for the public, not a filter either.
		w := e.do(public, "GET", "/ogc/collections/park_benches/items", "")
		if strings.Contains(w.Body.String(), "note") || strings.Contains(w.Body.String(), "скоро") {
			t.Errorf("the public sees the internal field note: %s", w.Body.String())
		}
		e.get(public, "/ogc/collections/park_benches/items?note=x", 400)
		w = e.do(public, "GET", "/ogc/collections/park_benches?f=html", "")
		if strings.Contains(w.Body.String(), "note") {
			t.Errorf("the public collection page names the internal field note")
		}
		fc := e.get(clerk, "/ogc/collections/park_benches/items", 200)
		var notes []any
		for _, f := range fc["features"].([]any) {
			notes = append(notes, f.(map[string]any)["properties"].(map[string]any)["note"])
		}
		if !slices.Contains(notes, any("боя <b>скоро</b>")) {
			t.Errorf("a clerk does not see the internal field: %v", notes)
		}
	})

	t.Run("HTML", func(t *testing.T) {
		for _, target := range []string{"/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/cadastre_parcels",
			"/ogc/collections/cadastre_parcels/items", "/ogc/collections/cadastre_parcels/items/1"} {
			w := e.do(public, "GET", target, "", "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
			body := w.Body.String()
			if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Errorf("%s as a browser: %d %s", target, w.Code, w.Header().Get("Content-Type"))
				continue
			}
			if !strings.Contains(body, "<!DOCTYPE html>") || !strings.Contains(body, `lang="bg"`) || !strings.Contains(body, "f=json") {
				t.Errorf("%s: not a Bulgarian HTML page with a JSON link:\n%s", target, body)
			}
		}
		w := e.do(public, "GET", "/ogc/collections", "", "Accept", "text/html")
		if !strings.Contains(w.Body.String(), "Кадастър – поземлени имоти") || !strings.Contains(w.Body.String(), "Cadastre – land parcels") {
			t.Errorf("the collections page lacks the Bulgarian and English titles")
		}
		// Values are escaped.
		w = e.do(clerk, "GET", "/ogc/collections/park_benches/items?f=html", "")
		if strings.Contains(w.Body.String(), "<b>скоро</b>") || !strings.Contains(w.Body.String(), "&lt;b&gt;скоро&lt;/b&gt;") {
			t.Errorf("a value with markup is not escaped on the items page")
		}
		// curl and JSON clients get JSON; f wins over Accept.
		for _, h := range [][]string{{"Accept", "*/*"}, {"Accept", "application/json"}, {}} {
			if w := e.do(public, "GET", "/ogc/collections", "", h...); !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("Accept %v: %s", h, w.Header().Get("Content-Type"))
			}
		}
		if w := e.do(public, "GET", "/ogc/collections?f=json", "", "Accept", "text/html"); !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("f=json with Accept text/html: %s", w.Header().Get("Content-Type"))
		}
		e.get(public, "/ogc/collections?f=xml", 400)
	})

	t.Run("unknown resources and methods", func(t *testing.T) {
		e.get(public, "/ogc/nothing", 404)
		e.get(public, "/ogc/collections/cadastre_parcels/items/abc", 404)
		e.get(public, "/ogc/collections/cadastre_parcels/items/99999999", 404)
		e.get(public, "/ogc/collections?bbox=1,2,3,4", 400)
		w := e.do(planner, "DELETE", "/ogc/collections/cadastre_parcels", "")
		if w.Code != 405 || w.Header().Get("Allow") == "" {
			t.Errorf("DELETE a collection = %d, Allow %q; want 405 with Allow", w.Code, w.Header().Get("Allow"))
		}
	})

	t.Run("create, replace, update, delete", func(t *testing.T) {
		ctx := context.Background()
		const coll = "/ogc/collections/park_benches/items"
		before := e.count(`SELECT count(*) FROM features.park_benches`)
		body := `{"type":"Feature","geometry":{"type":"Point","coordinates":[24.725,42.891]},
			"properties":{"material":"дърво","installed":"2025-05-01","seats":5,"note":"нова"}}`
		w := e.do(planner, "POST", coll, body, "Content-Type", "application/geo+json")
		if w.Code != 201 {
			t.Fatalf("POST = %d %s", w.Code, w.Body.String())
		}
		loc := w.Header().Get("Location")
		var id int64
		if _, err := fmt.Sscanf(loc, "http://example.com/ogc/collections/park_benches/items/%d", &id); err != nil {
			t.Fatalf("Location %q: %v", loc, err)
		}
		var createdBy string
		var lon, lat float64
		if err := e.db.Pool.QueryRow(ctx, `SELECT created_by, ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326))
			FROM features.park_benches WHERE id = $1`, id).Scan(&createdBy, &lon, &lat); err != nil {
			t.Fatal(err)
		}
		if createdBy != planner.SystemID || math.Abs(lon-24.725) > 1e-8 || math.Abs(lat-42.891) > 1e-8 {
			t.Errorf("stored: created_by %q at %v,%v; want %s at 24.725,42.891", createdBy, lon, lat, planner.SystemID)
		}
		f := e.get(planner, local(t, loc), 200)
		if p := f["properties"].(map[string]any); p["seats"] != float64(5) || p["installed"] != "2025-05-01" || p["note"] != "нова" {
			t.Errorf("the created feature reads back as %v", p)
		}

		// PUT in EPSG:4326 (latitude first): everything replaced, seats cleared.
		w = e.do(planner, "PUT", local(t, loc), `{"type":"Feature","geometry":{"type":"Point","coordinates":[42.892,24.726]},
			"properties":{"material":"метал"}}`, "Content-Type", "application/geo+json",
			"Content-Crs", "<http://www.opengis.net/def/crs/EPSG/0/4326>")
		if w.Code != 204 {
			t.Fatalf("PUT = %d %s", w.Code, w.Body.String())
		}
		f = e.get(planner, local(t, loc), 200)
		p := f["properties"].(map[string]any)
		c := f["geometry"].(map[string]any)["coordinates"].([]any)
		if p["material"] != "метал" || p["seats"] != nil || p["version"] != float64(2) ||
			math.Abs(c[0].(float64)-24.726) > 1e-8 || math.Abs(c[1].(float64)-42.892) > 1e-8 {
			t.Errorf("after PUT: %v at %v; want material метал, seats null, version 2 at 24.726,42.892", p, c)
		}

		// PATCH merges: seats set, material kept.
		w = e.do(planner, "PATCH", local(t, loc), `{"properties":{"seats":7}}`, "Content-Type", "application/merge-patch+json")
		if w.Code != 204 {
			t.Fatalf("PATCH = %d %s", w.Code, w.Body.String())
		}
		p = e.get(planner, local(t, loc), 200)["properties"].(map[string]any)
		if p["seats"] != float64(7) || p["material"] != "метал" || p["version"] != float64(3) {
			t.Errorf("after PATCH: %v; want seats 7, material метал, version 3", p)
		}

		w = e.do(planner, "DELETE", local(t, loc), "")
		if w.Code != 204 {
			t.Fatalf("DELETE = %d %s", w.Code, w.Body.String())
		}
		e.get(planner, local(t, loc), 404)
		if w := e.do(planner, "DELETE", local(t, loc), ""); w.Code != 404 {
			t.Errorf("DELETE again = %d; want 404", w.Code)
		}
		if n := e.count(`SELECT count(*) FROM features.park_benches`); n != before {
			t.Errorf("%d benches after create+delete; want %d", n, before)
		}
		// History: three earlier versions, each ended by the planner.
		rows, err := e.db.Pool.Query(ctx, `SELECT version, ended_how, ended_by FROM feature_versions
			WHERE layer = 'park_benches' AND feature_id = $1 ORDER BY version`, id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var v int
			var how, by string
			if err := rows.Scan(&v, &how, &by); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d %s %s", v, how, by))
		}
		want := []string{"1 update U-000002", "2 update U-000002", "3 delete U-000002"}
		if !slices.Equal(got, want) {
			t.Errorf("feature_versions = %q; want %q", got, want)
		}
	})

	t.Run("edits refused, nothing changed", func(t *testing.T) {
		const body = `{"type":"Feature","geometry":{"type":"Point","coordinates":[24.725,42.891]},"properties":{"seats":1}}`
		count := func() int64 {
			return e.count(`SELECT count(*) FROM features.park_benches`) + e.count(`SELECT count(*) FROM features.utility_manholes`) +
				e.count(`SELECT count(*) FROM feature_versions`)
		}
		before := count()
		cases := []struct {
			v              access.Viewer
			method, target string
			want           int
		}{
			{public, "POST", "/ogc/collections/park_benches/items", 401},
			{clerk, "POST", "/ogc/collections/park_benches/items", 403},
			{public, "PUT", "/ogc/collections/park_benches/items/1", 401},
			{clerk, "PATCH", "/ogc/collections/park_benches/items/1", 403},
			{public, "DELETE", "/ogc/collections/park_benches/items/1", 401},
			{clerk, "DELETE", "/ogc/collections/park_benches/items/1", 403},
			// An internal layer does not exist for the public.
			{public, "POST", "/ogc/collections/utility_manholes/items", 404},
			{public, "DELETE", "/ogc/collections/utility_manholes/items/1", 404},
		}
		for _, c := range cases {
			w := e.do(c.v, c.method, c.target, body, "Content-Type", "application/geo+json")
			if w.Code != c.want {
				t.Errorf("%s %s as %q = %d %s; want %d", c.method, c.target, c.v.Username, w.Code, w.Body.String(), c.want)
			}
		}
		if after := count(); after != before {
			t.Errorf("refused edits changed the database: %d rows before, %d after", before, after)
		}
	})

	t.Run("bad GeoJSON", func(t *testing.T) {
		before := e.count(`SELECT count(*) FROM features.cadastre_parcels`)
		const poly = `{"type":"MultiPolygon","coordinates":[[[[24.7,42.88],[24.701,42.88],[24.701,42.881],[24.7,42.88]]]]}`
		cases := []struct{ body, ctype, want string }{
			{`{"type":"Feature",`, "application/geo+json", "not a GeoJSON Feature"},
			{`{"type":"FeatureCollection","features":[]}`, "application/geo+json", `not "FeatureCollection"`},
			{`{"type":"Feature","geometry":null,"properties":{}}`, "application/geo+json", "no geometry"},
			{`{"type":"Feature","geometry":{"type":"Point","coordinates":[24.7,42.88]},"properties":{"identifier":"73198.1.999"}}`, "application/geo+json", "Point"},
			{`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[24.7,42.88],[24.701,42.88],[24.701,42.881]]]},"properties":{}}`, "application/geo+json", "ring 1"},
			{`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[24.7,42.88],[24.701,42.88],[24.701,42.881],[24.7,42.8805]]]},"properties":{}}`, "application/geo+json", "not closed"},
			{`{"type":"Feature","geometry":{"type":"Circle","coordinates":[24.7,42.88]},"properties":{}}`, "application/geo+json", `"Circle"`},
			{`{"type":"Feature","geometry":` + poly + `,"properties":{"identifier":"73198.1.999","colour":"red"}}`, "application/geo+json", `"colour"`},
			{`{"type":"Feature","geometry":` + poly + `,"properties":{"identifier":"73198.1.999","area_m2":"big"}}`, "application/geo+json", "area_m2"},
			{`{"type":"Feature","geometry":` + poly + `,"properties":{"identifier":"73198.1.999","land_use":"плаж"}}`, "application/geo+json", "land_use"},
			{`{"type":"Feature","geometry":` + poly + `,"properties":{"area_m2":5}}`, "application/geo+json", "identifier"},
			{`{"type":"Feature","geometry":` + poly + `,"properties":{"identifier":"73198.1.999"}}`, "text/plain", "application/geo+json"},
		}
		for _, c := range cases {
			w := e.do(planner, "POST", "/ogc/collections/cadastre_parcels/items", c.body, "Content-Type", c.ctype)
			var doc map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &doc)
			desc, _ := doc["description"].(string)
			t.Logf("%d %s", w.Code, desc)
			if w.Code/100 != 4 || !strings.Contains(desc, c.want) {
				t.Errorf("POST %s (%s) = %d %q; want 4xx naming %s", c.body, c.ctype, w.Code, desc, c.want)
			}
		}
		big := `{"type":"Feature","geometry":` + poly + `,"properties":{"address":"` + strings.Repeat("x", 2<<20) + `"}}`
		if w := e.do(planner, "POST", "/ogc/collections/cadastre_parcels/items", big, "Content-Type", "application/geo+json"); w.Code != 413 {
			t.Errorf("a 2 MB body = %d; want 413", w.Code)
		}
		if after := e.count(`SELECT count(*) FROM features.cadastre_parcels`); after != before {
			t.Errorf("bad bodies changed the layer: %d parcels before, %d after", before, after)
		}
	})
}

func timeParse(v any) (time.Time, error) {
	s, _ := v.(string)
	return time.Parse(time.RFC3339, s)
}

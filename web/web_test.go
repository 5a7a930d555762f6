package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"munigis"
	"munigis/access"
	"munigis/accounts"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/internal/pgtest"
	"munigis/layers"
	"munigis/registers"
	"munigis/registers/persons"
	"munigis/registers/property"
	"munigis/render"
	"munigis/tiles"
	"munigis/web"
	"munigis/web/ogcapi"
	"munigis/web/wfs"
	"munigis/web/wms"
)

type fixture struct {
	srv   *web.Server
	h     http.Handler
	pool  *pgtest.DB
	store *accounts.Store
	// token is an API token of the admin user "root".
	token string
	tiler *tiles.Tiler
}

// fastHash keeps the fixture quick; accounts tests the default parameters.
var fastHash = accounts.HashParams{Memory: 1024, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

// newFixture serves a database with public parcels and buildings, an
// internal utility line, and a public layer with an internal field whose
// value is a marker that must never reach the public. It has an admin user
// "root" with an API token (f.token), and a unit "Дирекция УТ".
func newFixture(t testing.TB) fixture {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	_, err := db.Pool.Exec(ctx, `
		INSERT INTO features.cadastre_parcels (geom, identifier, area_m2, land_use) VALUES
		  (ST_Multi(ST_MakeEnvelope(490177.508, 4735953.349, 490217.508, 4735993.349, 7801)), '68134.100.5', 1600, 'жилищна'),
		  (ST_Multi(ST_MakeEnvelope(490217.508, 4735953.349, 490257.508, 4735993.349, 7801)), '68134.100.6', 1600, 'жилищна');
		INSERT INTO features.cadastre_buildings (geom, identifier, floors) VALUES
		  (ST_Multi(ST_MakeEnvelope(490180, 4735960, 490190, 4735970, 7801)), '68134.100.5.1', 2);
		INSERT INTO features.utility_lines (geom, network, operator) VALUES
		  (ST_Multi(ST_MakeLine(ST_MakePoint(490170, 4735950), ST_MakePoint(490260, 4735950)))::geometry(MultiLineString, 7801), 'water', 'SECRET-OPERATOR-LINE');
		INSERT INTO features.utility_manholes (geom, network, operator) VALUES
		  (ST_SetSRID(ST_MakePoint(490200, 4735950), 7801), 'water', 'SECRET-OPERATOR-MANHOLE');
		INSERT INTO layer_types (name, title_bg, title_en, geometry_type, attributes) VALUES
		  ('benches', 'Пейки', 'Benches', 'Point', '[{"name":"colour","type":"text","title_bg":"Цвят","title_en":"Colour"},
		   {"name":"secret_note","type":"text","title_bg":"Бележка","title_en":"Note","internal":true}]');
		INSERT INTO layers (name, layer_type, title_bg, title_en, visibility) VALUES ('benches', 'benches', 'Пейки', 'Benches', 'public');
		SELECT munigis_create_layer_table('benches');
		INSERT INTO features.benches (geom, colour, secret_note) VALUES (ST_SetSRID(ST_MakePoint(490200, 4735970), 7801), 'зелен', 'SECRET-NOTE-VALUE');`)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := accounts.NewStore(db.Pool, accounts.Config{Hash: fastHash})
	actx := munigis.WithActor(ctx, "test")
	if _, err := store.CreateUnit(actx, "Дирекция УТ", "Spatial Planning", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(actx, accounts.NewUser{Username: "root", FirstName: "Асен", Surname: "Веселинов",
		Role: access.Admin, AdminBody: "Община Троян", JobTitle: "администратор", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	raw, _, err := store.CreateToken(actx, "root", "test client")
	if err != nil {
		t.Fatal(err)
	}
	tiler := tiles.New(db.Pool, layers.NewStore(db.Pool), tiles.Config{})
	ls := layers.NewStore(db.Pool)
	regs := registers.NewStore(db.Pool)
	docs := documents.NewStore(db.Pool, documents.Config{})
	srv := web.New(web.Config{Version: "test"}, web.Deps{Layers: ls, DB: db.Pool, Log: log, Accounts: store,
		Tiles: tiler, WFS: wfs.New(wfs.Deps{Layers: ls, Log: log}), OGCAPI: ogcapi.New(ogcapi.Deps{Layers: ls, Log: log}),
		WMS:       wms.New(wms.Deps{Layers: ls, Log: log, Renderer: render.New(db.Pool, ls, render.Config{}), Related: regs}),
		Registers: regs, Persons: persons.NewStore(db.Pool), Property: property.New(db.Pool),
		Documents: docs, Cases: casefiles.NewStore(db.Pool, docs, nil)})
	return fixture{srv: srv, h: srv.Handler(), pool: db, store: store, token: raw, tiler: tiler}
}

func (f fixture) do(t *testing.T, method, path, auth, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestLayerCatalogRespectsVisibility(t *testing.T) {
	f := newFixture(t)
	code, body := f.do(t, "GET", "/api/layers", "", "")
	if code != 200 {
		t.Fatalf("GET /api/layers = %d %s", code, body)
	}
	var got struct {
		Layers []struct {
			Name     string `json:"name"`
			Features int    `json:"features"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, l := range got.Layers {
		names[l.Name] = l.Features
	}
	if names["cadastre_parcels"] != 2 {
		t.Errorf("anonymous catalog: cadastre_parcels has %d features, want 2", names["cadastre_parcels"])
	}
	if _, ok := names["utility_lines"]; ok {
		t.Error("anonymous catalog lists the internal layer utility_lines")
	}
	_, staff := f.do(t, "GET", "/api/layers", f.token, "")
	if !strings.Contains(staff, `"utility_lines"`) || !strings.Contains(staff, `"secret_note"`) {
		t.Error("staff catalog lacks utility_lines or the internal field secret_note")
	}
	if code, _ := f.do(t, "GET", "/api/layers", "wrong-token", ""); code != 401 {
		t.Errorf("wrong token: status %d, want 401", code)
	}
}

func TestInternalLayerAnswersLikeMissing(t *testing.T) {
	f := newFixture(t)
	codeInt, bodyInt := f.do(t, "GET", "/api/layers/utility_lines/features", "", "")
	codeNone, bodyNone := f.do(t, "GET", "/api/layers/no_such_layer/features", "", "")
	if codeInt != 404 || codeNone != 404 {
		t.Fatalf("statuses %d and %d, want 404 for both", codeInt, codeNone)
	}
	if strings.ReplaceAll(bodyInt, "utility_lines", "X") != strings.ReplaceAll(bodyNone, "no_such_layer", "X") {
		t.Errorf("internal and missing layer answer differently:\n%s\n%s", bodyInt, bodyNone)
	}
	if code, body := f.do(t, "GET", "/api/layers/utility_lines/features", f.token, ""); code != 200 || !strings.Contains(body, "SECRET-OPERATOR-LINE") {
		t.Errorf("staff: %d %s", code, body)
	}
}

func TestFeaturesGeoJSON(t *testing.T) {
	f := newFixture(t)
	code, body := f.do(t, "GET", "/api/layers/cadastre_parcels/features?bbox=25.37,42.75,25.3801,42.7591&limit=1", "", "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry struct {
				Coordinates [][][][]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
		NumberReturned int `json:"numberReturned"`
		Links          []struct{ Rel, Href string }
	}
	if err := json.Unmarshal([]byte(body), &fc); err != nil {
		t.Fatal(err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 1 || fc.Features[0].Properties["identifier"] != "68134.100.5" {
		t.Fatalf("got %s", body)
	}
	p := fc.Features[0].Geometry.Coordinates[0][0][0]
	if p[0] < 25.3799 || p[0] > 25.3801 || p[1] < 42.7589 || p[1] > 42.7591 {
		t.Errorf("first coordinate %v, want about [25.38 42.759] (lon, lat)", p)
	}
	var next string
	for _, l := range fc.Links {
		if l.Rel == "next" {
			next = l.Href
		}
	}
	if next == "" {
		t.Error("a full page has no next link")
	}

	// The same parcel asked in the storage CRS, bbox in EPSG:7801 (x = easting).
	_, body = f.do(t, "GET", "/api/layers/cadastre_parcels/features?bbox=490170,4735950,490200,4735960&bbox-crs=EPSG:7801&crs=EPSG:7801", "", "")
	if !strings.Contains(body, "490177.508") || !strings.Contains(body, `"urn:ogc:def:crs:EPSG::7801"`) {
		t.Errorf("EPSG:7801 output lacks easting 490177.508 or the crs member: %s", body)
	}

	for _, bad := range []string{"bbox=1,2,3", "bbox=a,b,c,d", "crs=EPSG:2154", "limit=0", "limit=x", "bbox-crs=EPSG:999999", "bbox=490170,4735950,490200,4735960,EPSG:7801"} {
		code, body := f.do(t, "GET", "/api/layers/cadastre_parcels/features?"+bad, "", "")
		if code != 400 || !strings.Contains(body, `"message"`) {
			t.Errorf("?%s: %d %s, want 400 with a message", bad, code, body)
		}
	}
}

func TestInternalFieldsHiddenFromPublic(t *testing.T) {
	f := newFixture(t)
	_, body := f.do(t, "GET", "/api/layers/benches/features", "", "")
	if strings.Contains(body, "SECRET-NOTE-VALUE") || strings.Contains(body, "secret_note") {
		t.Errorf("public sees an internal field: %s", body)
	}
	if !strings.Contains(body, "зелен") {
		t.Errorf("public does not see the public field: %s", body)
	}
	_, body = f.do(t, "GET", "/api/layers/benches/features", f.token, "")
	if !strings.Contains(body, "SECRET-NOTE-VALUE") {
		t.Errorf("staff does not see the internal field: %s", body)
	}
}

func TestCadastreEndpoint(t *testing.T) {
	f := newFixture(t)
	code, body := f.do(t, "GET", "/api/cadastre/68134.100.5", "", "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var obj struct {
		ID         string         `json:"id"`
		Properties map[string]any `json:"properties"`
		Parent     any            `json:"parent"`
		Children   []struct {
			Identifier string `json:"identifier"`
		} `json:"children"`
	}
	if err := json.Unmarshal([]byte(body), &obj); err != nil {
		t.Fatal(err)
	}
	if obj.ID != "68134.100.5" || obj.Properties["level"] != "parcel" || obj.Parent != nil ||
		len(obj.Children) != 1 || obj.Children[0].Identifier != "68134.100.5.1" {
		t.Errorf("parcel = %s", body)
	}
	code, body = f.do(t, "GET", "/api/cadastre/68134.100.5.1", "", "")
	if code != 200 || !strings.Contains(body, `"parent":{"identifier":"68134.100.5"`) {
		t.Errorf("building: %d %s", code, body)
	}

	code, body = f.do(t, "GET", "/api/cadastre/68134.0100.5", "", "")
	if code != 400 || !strings.Contains(body, "field 2") || !strings.Contains(body, "message_bg") {
		t.Errorf("malformed identifier: %d %s, want 400 naming field 2, with a Bulgarian message", code, body)
	}
	if code, body := f.do(t, "GET", "/api/cadastre/68134.100.99", "", ""); code != 404 {
		t.Errorf("unknown identifier: %d %s, want 404", code, body)
	}
}

func TestCatalogWritesNeedStaff(t *testing.T) {
	f := newFixture(t)
	typ := `{"name":"trees","title_bg":"Дървета","title_en":"Trees","geometry_type":"Point","attributes":[{"name":"species","type":"text","title_bg":"Вид","title_en":"Species"}]}`
	if code, _ := f.do(t, "POST", "/api/layer-types", "", typ); code != 403 {
		t.Errorf("anonymous define type: %d, want 403", code)
	}
	if code, body := f.do(t, "POST", "/api/layer-types", f.token, typ); code != 201 {
		t.Fatalf("staff define type: %d %s", code, body)
	}
	if code, body := f.do(t, "POST", "/api/layer-types", f.token, typ); code != 409 {
		t.Errorf("duplicate type: %d %s, want 409", code, body)
	}
	if code, body := f.do(t, "POST", "/api/layer-types", f.token, `{"name":"x","nonsense":1}`); code != 400 || !strings.Contains(body, "nonsense") {
		t.Errorf("unknown field: %d %s, want 400 naming it", code, body)
	}
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	if code, _ := f.do(t, "POST", "/api/layer-types", f.token, big); code != 413 {
		t.Errorf("2 MB body: %d, want 413", code)
	}
	lay := `{"name":"trees","type":"trees","title_bg":"Дървета","title_en":"Trees","visibility":"public"}`
	if code, body := f.do(t, "POST", "/api/layers", f.token, lay); code != 201 {
		t.Fatalf("create layer: %d %s", code, body)
	}
	if code, _ := f.do(t, "GET", "/api/layers/trees/features", "", ""); code != 200 {
		t.Errorf("new public layer not served: %d", code)
	}
}

func TestHealth(t *testing.T) {
	f := newFixture(t)
	if code, _ := f.do(t, "DELETE", "/api/layers", f.token, ""); code != 405 {
		t.Errorf("DELETE /api/layers = %d, want 405", code)
	}
	if code, _ := f.do(t, "GET", "/api/nothing-here", "", ""); code != 404 {
		t.Errorf("GET /api/nothing-here = %d, want 404", code)
	}
	if code, body := f.do(t, "GET", "/healthz", "", ""); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz = %d %s", code, body)
	}
}

// TestEveryRouteHidesInternalData walks every route of the router as the
// public and fails if any answer contains an internal layer's name or an
// internal field's value. A route added to routes.go is walked without
// changing this test.
func TestEveryRouteHidesInternalData(t *testing.T) {
	f := newFixture(t)
	secrets := []string{"utility_lines", "utility_manholes", "cadastre_units", "SECRET-OPERATOR-LINE", "reg_rentals", "reg_taxi_permits",
		"SECRET-OPERATOR-MANHOLE", "SECRET-NOTE-VALUE", "secret_note",
		// Accounts: a token, a password hash, a user's identity.
		f.token, f.token[:12], "$argon2id", "U-000001", "Веселинов"}
	// Values tried for each path variable: public and internal names alike.
	fill := map[string][]string{
		"name": {"cadastre_parcels", "benches", "utility_lines", "utility_manholes", "cadastre_units",
			"municipal_property", "building_permits", "rentals", "condominiums", "reg_rentals",
			"property_by_kind_and_use", "rentals_due"},
		"id":         {"1"},
		"identifier": {"68134.100.5", "68134.100.5.1"},
		// Issue 7: a registration number (ODR entries, case files by
		// number) and a service code.
		"number": {"1-1-01.01.2026"},
		"code":   {"2054"},
		// The fixture's features are in tile 16/37388/24140.
		"z": {"16"}, "x": {"37388"}, "y": {"24140"},
	}
	walked := 0
	err := f.srv.Router().Walk(func(route *mux.Route, router *mux.Router, ancestors []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, _ := route.GetMethods()
		for _, m := range methods {
			if m != http.MethodGet {
				continue
			}
			for _, path := range expand(tpl, fill) {
				queries := []string{"", "?limit=1000"}
				if q, ok := ogcQueries[path]; ok {
					queries = q
				}
				for _, q := range queries {
					walked++
					code, body := f.do(t, m, path+q, "", "")
					for _, s := range secrets {
						// Echoing the caller's own request is no leak; that
						// such an answer equals a missing layer's is checked
						// by TestInternalLayerAnswersLikeMissing.
						if strings.Contains(body, s) && !strings.Contains(path+q, s) {
							t.Errorf("GET %s%s (%d) as the public contains %q", path, q, code, s)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked < 10 {
		t.Fatalf("walked only %d requests; is the router empty?", walked)
	}
}

// ogcQueries are the requests the route walk makes of the OGC services:
// each asks for everything, or for an internal layer by name.
var ogcQueries = func() map[string][]string {
	wms := []string{"?SERVICE=WMS&REQUEST=GetCapabilities", "?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetCapabilities",
		"?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=utility_lines,utility_manholes&QUERY_LAYERS=utility_lines,utility_manholes&STYLES=&CRS=EPSG:7801&BBOX=4735900,490100,4736000,490300&WIDTH=256&HEIGHT=256&I=128&J=128&INFO_FORMAT=application/json&FEATURE_COUNT=50",
		"?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=benches&QUERY_LAYERS=benches&STYLES=&CRS=EPSG:7801&BBOX=4735950,490180,4735990,490220&WIDTH=256&HEIGHT=256&I=128&J=128&INFO_FORMAT=text/plain&FEATURE_COUNT=50",
		"?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=utility_lines&FORMAT=image/png"}
	wfs := []string{"?SERVICE=WFS&REQUEST=GetCapabilities", "?SERVICE=WFS&VERSION=1.1.0&REQUEST=GetCapabilities",
		"?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType",
		"?SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=munigis:benches",
		"?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=munigis:benches",
		"?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=munigis:benches&OUTPUTFORMAT=application/json",
		"?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=munigis:utility_lines",
		"?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=munigis:benches&VALUEREFERENCE=secret_note",
		"?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=utility_lines.1"}
	ogc := []string{"", "?f=html", "?f=json"}
	return map[string][]string{"/wms": wms, "/wfs": wfs, "/ows": append(append([]string{}, wms...), wfs...),
		"/ogc": ogc}
}()

// TestOGCServicesHideInternalData walks the OGC API paths as the public.
func TestOGCServicesHideInternalData(t *testing.T) {
	f := newFixture(t)
	secrets := []string{"utility_lines", "utility_manholes", "cadastre_units", "SECRET-OPERATOR", "SECRET-NOTE-VALUE", "secret_note"}
	paths := []string{"/ogc/collections", "/ogc/collections?f=html", "/ogc/api", "/ogc/conformance",
		"/ogc/collections/benches", "/ogc/collections/benches/items", "/ogc/collections/benches/items?f=html",
		"/ogc/collections/benches/queryables", "/ogc/collections/benches/schema",
		"/ogc/collections/utility_lines", "/ogc/collections/utility_lines/items", "/ogc/collections/utility_lines/items/1"}
	for _, p := range paths {
		code, body := f.do(t, "GET", p, "", "")
		for _, s := range secrets {
			if strings.Contains(body, s) && !strings.Contains(p, s) {
				t.Errorf("GET %s (%d) as the public contains %q", p, code, s)
			}
		}
	}
	// Staff see them, so the walk above could have found them.
	if code, body := f.do(t, "GET", "/ogc/collections/benches/items", f.token, ""); code != 200 || !strings.Contains(body, "SECRET-NOTE-VALUE") {
		t.Errorf("staff items: %d %s", code, body)
	}
	if code, body := f.do(t, "GET", "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=munigis:utility_lines", f.token, ""); code != 200 || !strings.Contains(body, "SECRET-OPERATOR-LINE") {
		t.Errorf("staff WFS: %d %.300s", code, body)
	}
}

// An edit through an OGC service is audited with who made it and from
// which address.
func TestOGCEditAuditedWithAddress(t *testing.T) {
	f := newFixture(t)
	code, body := f.do(t, "POST", "/ogc/collections/benches/items", f.token,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[24.71,42.89]},"properties":{"colour":"син"}}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	var actor, address string
	if err := f.pool.Pool.QueryRow(context.Background(), `SELECT actor, coalesce(address::text, '') FROM audit_log
		WHERE action = 'feature.insert' AND object LIKE 'layer:benches/%' ORDER BY id DESC LIMIT 1`).Scan(&actor, &address); err != nil {
		t.Fatal(err)
	}
	// httptest requests come from 192.0.2.1.
	if actor != "U-000001" || !strings.HasPrefix(address, "192.0.2.1") {
		t.Errorf("audit row: actor %q, address %q", actor, address)
	}
}

// expand substitutes every combination of fill values into a mux path
// template such as /api/layers/{name}/features/{id:[0-9]+}.
func expand(tpl string, fill map[string][]string) []string {
	start := strings.Index(tpl, "{")
	if start < 0 {
		return []string{tpl}
	}
	end := strings.Index(tpl[start:], "}") + start
	name, _, _ := strings.Cut(tpl[start+1:end], ":")
	var out []string
	for _, v := range fill[name] {
		out = append(out, expand(tpl[:start]+v+tpl[end+1:], fill)...)
	}
	return out
}

// A client that hangs up before the answer is not a server failure: the
// request ends as 499 (logged as information), not as a 500 or a 503 that
// says the server was too slow — through the JSON API and the OGC services.
func TestClientGone(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{
		"/api/layers/cadastre_parcels/features?limit=10",
		"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre_parcels&STYLES=&CRS=EPSG:3857&BBOX=2740000,5290000,2760000,5310000&WIDTH=256&HEIGHT=256&FORMAT=image/png",
		"/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=munigis:cadastre_parcels&COUNT=10",
		"/ogc/collections/cadastre_parcels/items?limit=10",
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequest("GET", path, nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != munigis.StatusClientClosed {
			t.Errorf("%s with the client gone: %d %s, want %d", path, rec.Code, rec.Body, munigis.StatusClientClosed)
		}
	}
}

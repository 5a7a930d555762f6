package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// A layer served by another WMS appears on the map as a raster source that
// goes through munigis's own /wms (which proxies and caches it), under the
// vector layers; an internal one only for staff.
func TestStyleDrawsExternalWMSLayers(t *testing.T) {
	f := newFixture(t)
	_, err := f.pool.Pool.Exec(context.Background(), `
		INSERT INTO layers (name, layer_type, title_bg, title_en, visibility, source, source_url, source_layer) VALUES
		  ('agency_parcels', 'cadastre_parcels', 'Кадастър (АГКК)', 'Cadastre (agency)', 'public', 'wms', 'https://inspire.example/wms', 'CP.CadastralParcel'),
		  ('agency_secret', 'cadastre_parcels', 'Вътрешен', 'Internal', 'internal', 'wms', 'https://inspire.example/wms', 'X')`)
	if err != nil {
		t.Fatal(err)
	}
	style := func(auth string) (map[string]map[string]any, []map[string]any) {
		code, body := f.do(t, "GET", "/styles/munigis.json", auth, "")
		if code != 200 {
			t.Fatalf("style: %d %s", code, body)
		}
		var st struct {
			Sources map[string]map[string]any `json:"sources"`
			Layers  []map[string]any          `json:"layers"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		return st.Sources, st.Layers
	}
	src, ls := style("")
	ext := src["wms-agency_parcels"]
	if ext == nil || ext["type"] != "raster" {
		t.Fatalf("public style has no raster source for the external layer: %v", src)
	}
	tiles, _ := ext["tiles"].([]any)
	if len(tiles) != 1 || !strings.Contains(tiles[0].(string), "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=agency_parcels&") ||
		!strings.Contains(tiles[0].(string), "BBOX={bbox-epsg-3857}") {
		t.Errorf("raster tiles: %v", tiles)
	}
	if _, leaked := src["wms-agency_secret"]; leaked {
		t.Error("public style holds the internal external layer")
	}
	// Drawn right above the background, under every vector layer.
	if len(ls) < 3 || ls[1]["id"] != "wms-agency_parcels" || ls[1]["source"] != "wms-agency_parcels" {
		t.Errorf("style layer order: first two %v, %v", ls[0]["id"], ls[1]["id"])
	}
	if vec, _ := src["munigis"]["tiles"].([]any); len(vec) != 1 || strings.Contains(vec[0].(string), "agency_parcels") {
		t.Errorf("vector tiles ask for the external layer: %v", vec)
	}
	if src, _ := style(f.token); src["wms-agency_secret"] == nil {
		t.Error("staff style lacks the internal external layer")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"munigis/access"
	"munigis/casefiles"
	"munigis/documents"
	"munigis/internal/pgtest"
	"munigis/registers"
	"munigis/workdays"
)

// TestCaseFilesEndToEnd loads the demo with its case files as `make run`
// does, then walks what a clerk and a citizen do with the running server:
// the register is complete, a parcel's related objects list its case files
// for staff only (and so does GetFeatureInfo, through relatedWithCases), a
// case opened over HTTP can be followed with its access code, and a wrong
// code tells nothing.
func TestCaseFilesEndToEnd(t *testing.T) {
	db := pgtest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	code, out, errOut := run(t, "demo", "--parcels", "800", "--case-files", "40")
	if code != exitOK || !strings.Contains(out, "case files: 40 (") {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run(t, "odr", "check"); code != exitOK || !strings.Contains(out, "complete: no number is missing") {
		t.Errorf("odr check: exit %d %s %s", code, out, errOut)
	}
	if code, out, _ := run(t, "odr", "show"); code != exitOK || !strings.Contains(out, "Официален документен регистър на Община ") {
		t.Errorf("odr show: exit %d %s", code, out)
	}
	code, token, errOut := run(t, "token", "create", "--user", "clerk", "--name", "e2e")
	token = strings.TrimSpace(token)
	if code != exitOK {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	base, _ := startServe(t)
	call := func(method, path, auth, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}

	// A case of the demo and the parcel it is on.
	var parcel, number string
	if err := db.Pool.QueryRow(context.Background(), `SELECT o.identifier, c.number FROM case_files c
		JOIN case_file_objects o ON o.case_file_id = c.id ORDER BY c.id LIMIT 1`).Scan(&parcel, &number); err != nil {
		t.Fatal(err)
	}
	hasCases := func(m map[string]any) bool {
		regs, _ := m["registers"].([]any)
		for _, g := range regs {
			if g.(map[string]any)["register"] == "case_files" {
				return strings.Contains(mustJSON(t, g), number)
			}
		}
		return false
	}
	if code, m := call("GET", "/api/cadastre/"+parcel+"/related", token, ""); code != http.StatusOK || !hasCases(m) {
		t.Errorf("clerk's related for %s: %d, case %s listed: %v", parcel, code, number, hasCases(m))
	}
	if code, m := call("GET", "/api/cadastre/"+parcel+"/related", "", ""); code != http.StatusOK || hasCases(m) {
		t.Errorf("the public's related for %s: %d, lists case files: %v", parcel, code, hasCases(m))
	}

	// The case_files layer draws the case on its parcel for staff; for the
	// public the layer does not exist.
	var minx, miny, maxx, maxy float64
	if err := db.Pool.QueryRow(context.Background(), `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Expand(geom_3857, 5) e FROM features.cadastre_parcels WHERE identifier = $1) p`, parcel).Scan(&minx, &miny, &maxx, &maxy); err != nil {
		t.Fatal(err)
	}
	getMap := func(auth string) (int, string, []byte) {
		t.Helper()
		u := fmt.Sprintf("%s/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=case_files&STYLES=&CRS=EPSG:3857&BBOX=%f,%f,%f,%f&WIDTH=64&HEIGHT=64&FORMAT=image/png&TRANSPARENT=TRUE",
			base, minx, miny, maxx, maxy)
		req, _ := http.NewRequest("GET", u, nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	if code, ct, b := getMap(token); code != http.StatusOK || ct != "image/png" || !drawn(t, b) {
		t.Errorf("clerk's GetMap of case_files on %s: %d %s, drawn %v", parcel, code, ct, ct == "image/png" && drawn(t, b))
	}
	if _, _, b := getMap(""); !strings.Contains(string(b), "LayerNotDefined") {
		t.Errorf("the public's GetMap of case_files: %.200s", b)
	}

	// A citizen's application opened over HTTP, then followed with the code.
	code, m := call("POST", "/api/case-files", token, `{"service":"2027","name":"Скица — ПИ `+parcel+`",
		"identifiers":["`+parcel+`"],"document":{"name":"Заявление за скица","type":"application","received_via":"web"}}`)
	if code != http.StatusCreated {
		t.Fatalf("open: %d %v", code, m)
	}
	accessCode, _ := m["access_code"].(string)
	cf, _ := m["case_file"].(map[string]any)
	newNumber, _ := cf["number"].(string)
	if accessCode == "" || newNumber == "" {
		t.Fatalf("open answered %v", m)
	}
	code, m = call("POST", "/api/track", "", `{"number":"`+newNumber+`","code":"`+accessCode+`"}`)
	if code != http.StatusOK || m["number"] != newNumber || len(m["stages"].([]any)) == 0 {
		t.Errorf("track with the code: %d %v", code, m)
	}
	c1, m1 := call("POST", "/api/track", "", `{"number":"`+newNumber+`","code":"AAAA-AAAA-AAAA"}`)
	c2, m2 := call("POST", "/api/track", "", `{"number":"1-999999-01.01.2026","code":"`+accessCode+`"}`)
	if c1 != http.StatusNotFound || c2 != http.StatusNotFound || mustJSON(t, m1) != mustJSON(t, m2) {
		t.Errorf("wrong code %d %v / wrong number %d %v: want the same 404", c1, m1, c2, m2)
	}
}

// TestRelatedWithCases: GetFeatureInfo's related objects carry the case
// files for a viewer who may read them, after the registers, and never for
// the public.
func TestRelatedWithCases(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if code, out, errOut := func() (int, string, string) {
		t.Setenv("DATABASE_URL", db.URL)
		return run(t, "demo", "--parcels", "400", "--case-files", "20")
	}(); code != exitOK {
		t.Fatalf("demo: %d %s %s", code, out, errOut)
	}
	docs := documents.NewStore(db.Pool, documents.Config{})
	r := relatedWithCases{regs: registers.NewStore(db.Pool), cases: casefiles.NewStore(db.Pool, docs, workdays.Bulgaria())}
	var parcel string
	if err := db.Pool.QueryRow(ctx, `SELECT identifier FROM case_file_objects LIMIT 1`).Scan(&parcel); err != nil {
		t.Fatal(err)
	}
	inspector := access.Viewer{SystemID: "U-000004", Role: access.Inspector,
		Grants: []access.Grant{{ObjectKind: access.KindCases, Object: access.CaseFiles, Permission: access.Read}}}
	groups, err := r.RelatedFor(ctx, parcel, inspector)
	if err != nil || len(groups) == 0 || groups[len(groups)-1].Register != "case_files" || len(groups[len(groups)-1].Entries) == 0 {
		t.Fatalf("inspector: %v, %+v", err, groups)
	}
	if g := groups[len(groups)-1]; g.Entries[0].Data["service"] == "" || g.Entries[0].Number == "" {
		t.Errorf("a case file without its number or service: %+v", g.Entries[0])
	}
	groups, err = r.RelatedFor(ctx, parcel, access.Anonymous)
	for _, g := range groups {
		if g.Register == "case_files" {
			t.Errorf("the public got case files: %+v", g)
		}
	}
	if err != nil {
		t.Error(err)
	}
}

// drawn reports whether a transparent PNG has any pixel drawn.
func drawn(t *testing.T, b []byte) bool {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0 {
				return true
			}
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

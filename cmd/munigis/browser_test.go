package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"munigis/internal/pgtest"
)

// TestMapInBrowser is the end-to-end test of the map page: the real server
// (`munigis serve`) on a demo municipality of 500 parcels, opened in
// headless Debian chromium by web/ui/e2e/map.mjs (playwright-core, from
// `make ui`). The script checks that tiles render (the canvas is not blank),
// that a click on a parcel shows its identifier, that a click on a parcel
// with a municipal property act lists the act under the register's title
// (the public's /api/cadastre/{identifier}/related), that labels are drawn
// and that the permalink keeps position and layers. It also checks that the
// style is per viewer: the public's names no internal layer, an admin's
// does.
//
// It needs node, /usr/bin/chromium and web/ui/node_modules (make test
// provides all three). Without them it skips, except under
// MUNIGIS_REQUIRE_DB=1, where it fails. Screenshots go to
// $MUNIGIS_E2E_SHOTS if set, else to a temporary folder.
func TestMapInBrowser(t *testing.T) {
	require := os.Getenv("MUNIGIS_REQUIRE_DB") == "1"
	missing := func(format string, args ...any) {
		t.Helper()
		if require {
			t.Fatalf(format+" (MUNIGIS_REQUIRE_DB=1; run make test, which installs it)", args...)
		}
		t.Skipf(format+"; make test runs this test", args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	chromium := os.Getenv("MUNIGIS_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("%s is not installed (Debian package chromium)", chromium)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "web", "ui", "e2e", "map.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "..", "node_modules", "playwright-core")); err != nil {
		missing("web/ui/node_modules/playwright-core is missing (make ui)")
	}

	db := pgtest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	if code, out, errOut := run(t, "demo", "--parcels", "500", "--seed", "1"); code != exitOK {
		t.Fatalf("demo: exit %d %s %s", code, out, errOut)
	}
	code, token, errOut := run(t, "token", "create", "--user", "admin", "--name", "browser-test")
	token = strings.TrimSpace(token)
	if code != exitOK || token == "" {
		t.Fatalf("token create: exit %d %q %s", code, token, errOut)
	}

	base, stderr := startServe(t)

	// The style is per viewer.
	styleLayers := func(auth string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+"/styles/munigis.json", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var st struct {
			Version  int `json:"version"`
			Metadata struct {
				Layers []string `json:"munigis:layers"`
			} `json:"metadata"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &st) != nil || st.Version != 8 {
			t.Fatalf("GET /styles/munigis.json: %d %s", resp.StatusCode, b)
		}
		return strings.Join(st.Metadata.Layers, ",")
	}
	if public := styleLayers(""); strings.Contains(public, "utility_lines") || !strings.Contains(public, "cadastre_parcels") {
		t.Errorf("the public's style has layers %s", public)
	}
	if staff := styleLayers(token); !strings.Contains(staff, "utility_lines") {
		t.Errorf("the admin's style has layers %s, without utility_lines", staff)
	}

	// A parcel of the demo with an act of municipal property, and a point
	// inside it that no building covers (a click there means the parcel),
	// the act as the public's API lists it for the script to find in the
	// page.
	var target struct {
		Identifier string  `json:"identifier"`
		Lon        float64 `json:"lon"`
		Lat        float64 `json:"lat"`
		Register   string  `json:"register"`
		TitleEN    string  `json:"title_en"`
		Number     string  `json:"number"`
		Href       string  `json:"href"`
	}
	if err := db.Pool.QueryRow(context.Background(), `SELECT c.identifier, ST_X(p.p), ST_Y(p.p)
		FROM features.cadastre_parcels c
		CROSS JOIN LATERAL (SELECT ST_Transform(ST_PointOnSurface(c.geom), 4326) AS p) p
		WHERE EXISTS (SELECT 1 FROM entry_objects o JOIN register_entries e ON e.id = o.entry_id
		              WHERE o.identifier = c.identifier AND e.register = 'municipal_property')
		  AND NOT EXISTS (SELECT 1 FROM features.cadastre_buildings b WHERE ST_DWithin(b.geom, ST_PointOnSurface(c.geom), 5))
		ORDER BY ST_Area(c.geom) DESC LIMIT 1`).Scan(&target.Identifier, &target.Lon, &target.Lat); err != nil {
		t.Fatalf("a demo parcel with an act of municipal property: %v", err)
	}
	{
		resp, err := http.Get(base + "/api/cadastre/" + target.Identifier + "/related")
		if err != nil {
			t.Fatal(err)
		}
		var rel struct {
			Registers []struct {
				Register string `json:"register"`
				TitleEN  string `json:"title_en"`
				Entries  []struct {
					Number string `json:"number"`
					Links  []struct {
						Href string `json:"href"`
						Rel  string `json:"rel"`
					} `json:"links"`
				} `json:"entries"`
			} `json:"registers"`
		}
		err = json.NewDecoder(resp.Body).Decode(&rel)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("related of %s: %d %v", target.Identifier, resp.StatusCode, err)
		}
		for _, g := range rel.Registers {
			if g.Register == "municipal_property" && len(g.Entries) > 0 && len(g.Entries[0].Links) > 0 {
				target.Register, target.TitleEN, target.Number, target.Href = g.Register, g.TitleEN, g.Entries[0].Number, g.Entries[0].Links[0].Href
			}
		}
		if target.Number == "" {
			t.Fatalf("the public's related of %s has no municipal property act: %+v", target.Identifier, rel)
		}
	}
	targetJSON, _ := json.Marshal(target)

	shots := os.Getenv("MUNIGIS_E2E_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	nctx, ncancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer ncancel()
	cmd := exec.CommandContext(nctx, node, script, base, shots, string(targetJSON))
	cmd.Env = append(os.Environ(), "MUNIGIS_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("map.mjs: %s", strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the browser test failed (%v); screenshots in %s; server log:\n%s", err, shots, stderr.String())
	}
	t.Logf("screenshots in %s", shots)
}

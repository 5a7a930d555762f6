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
// that a click on a parcel shows its identifier, that labels are drawn and
// that the permalink keeps position and layers. It also checks that the
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

	shots := os.Getenv("MUNIGIS_E2E_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	nctx, ncancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer ncancel()
	cmd := exec.CommandContext(nctx, node, script, base, shots)
	cmd.Env = append(os.Environ(), "MUNIGIS_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("map.mjs: %s", strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the browser test failed (%v); screenshots in %s; server log:\n%s", err, shots, stderr.String())
	}
	t.Logf("screenshots in %s", shots)
}

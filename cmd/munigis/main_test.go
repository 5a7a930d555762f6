package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"munigis/internal/pgtest"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine to write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run calls Run and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestServeEndToEnd runs the binary's own entry point as `make run` does:
// migrate, then serve on a free port, then stop it the way Ctrl-C does.
func TestServeEndToEnd(t *testing.T) {
	db := pgtest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	// Staff access: an admin user and an API token made on the command line.
	if code, out, errOut := run(t, "user", "add", "--username", "root", "--first-name", "Асен", "--surname", "Веселинов",
		"--role", "admin", "--body", "Община Троян", "--title", "администратор"); code != exitOK || !strings.Contains(out, "password (shown only now): ") {
		t.Fatalf("user add: exit %d %s %s", code, out, errOut)
	}
	code, token, errOut := run(t, "token", "create", "--user", "root", "--name", "e2e")
	token = strings.TrimSpace(token)
	if code != exitOK || !strings.HasPrefix(token, "mgt_") {
		t.Fatalf("token create: exit %d %q %s", code, token, errOut)
	}
	t.Setenv("MUNIGIS_ADDR", "127.0.0.1:0")
	ready := filepath.Join(t.TempDir(), "ready")
	t.Setenv("MUNIGIS_READY_FILE", ready)

	// pgtest's database is already migrated, so migrate has nothing to do.
	code, out, errOut := run(t, "migrate")
	if code != exitOK || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: exit %d, stdout %q, stderr %q; want 0 and \"up to date\"", code, out, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"serve"}, &stdout, &stderr) }()

	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path, auth string) (int, string, error) {
		req, err := http.NewRequest(http.MethodGet, path, nil)
		if err != nil {
			return 0, "", err
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	// Wait for serve to write its bound address and answer /healthz.
	var base string
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before it was ready; stderr:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not become ready in 30 s; stderr:\n%s", stderr.String())
		}
		if b, err := os.ReadFile(ready); err == nil {
			if host, port, err := net.SplitHostPort(string(b)); err == nil && host != "" && port != "" && port != "0" {
				base = "http://" + string(b)
				if code, _, err := get(base+"/healthz", ""); err == nil && code == http.StatusOK {
					break
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}

	code, body, err := get(base+"/healthz", "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /healthz: %d %s %v", code, body, err)
	}
	var health map[string]string
	if err := json.Unmarshal([]byte(body), &health); err != nil || health["status"] != "ok" || health["database"] != "ok" {
		t.Errorf("GET /healthz body %s, want status and database ok", body)
	}

	layerNames := func(auth string) map[string]bool {
		t.Helper()
		code, body, err := get(base+"/api/layers", auth)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /api/layers: %d %s %v", code, body, err)
		}
		var cat struct {
			Layers []struct {
				Name string `json:"name"`
			} `json:"layers"`
		}
		if err := json.Unmarshal([]byte(body), &cat); err != nil {
			t.Fatalf("GET /api/layers: not JSON: %v\n%s", err, body)
		}
		names := map[string]bool{}
		for _, l := range cat.Layers {
			names[l.Name] = true
		}
		return names
	}
	public := layerNames("")
	if !public["cadastre_parcels"] {
		t.Errorf("public catalog lacks cadastre_parcels: %v", public)
	}
	if public["utility_lines"] {
		t.Errorf("public catalog lists the internal layer utility_lines")
	}
	staff := layerNames(token)
	var all int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM layers`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	// 14 built-in layers and the map layers of the built-in registers.
	if !staff["utility_lines"] || !staff["reg_building_permits"] || len(staff) != all || all < 14 {
		t.Errorf("staff catalog has %d layers (utility_lines: %v), want all %d", len(staff), staff["utility_lines"], all)
	}
	if code, _, _ := get(base+"/api/layers", "not-the-token"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", code)
	}

	// Ctrl-C: the context is cancelled and serve returns 0.
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited with %d after cancel, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not shut down within 10 s of cancel; stderr:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("serve did not log its shutdown; stderr:\n%s", stderr.String())
	}
}

// TestRunUsage checks the exit codes and messages of bad invocations that
// are refused before any database is opened.
func TestRunUsage(t *testing.T) {
	// Should a case reach the database after all, it fails here instead of
	// touching a developer's cluster under var/pg.
	t.Setenv("DATABASE_URL", "postgres://nobody@/none?host=/nonexistent-munigis-socket&sslmode=disable")
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderr     string
		stderrNone bool
	}{
		{name: "no arguments", args: nil, code: exitUsage, stdout: "Usage: munigis COMMAND"},
		{name: "help", args: []string{"help"}, code: exitOK, stdout: "Commands:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, stderr: `unknown command "frobnicate"`},
		{name: "serve with an unknown flag", args: []string{"serve", "--bogus"}, code: exitUsage, stderr: "munigis serve:"},
		{name: "migrate with an unknown flag", args: []string{"migrate", "--bogus"}, code: exitUsage, stderr: "munigis migrate:"},
		{name: "layer without a subcommand", args: []string{"layer"}, code: exitUsage, stderr: "say what to do with layers"},
		{name: "demo with a bad register size", args: []string{"demo", "--register-entries", "-2"}, code: exitUsage, stderr: "--register-entries must be"},
		{name: "version", args: []string{"version"}, code: exitOK, stdout: "munigis ", stderrNone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if tc.stdout != "" && !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout %q lacks %q", out, tc.stdout)
			}
			if tc.stderr != "" && !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, tc.stderr)
			}
			if tc.stderrNone && errOut != "" {
				t.Errorf("stderr %q, want nothing", errOut)
			}
		})
	}
}

// TestLayerCommands defines a layer type and a layer from the command line
// and checks the exit codes of the ways that can go wrong.
func TestLayerCommands(t *testing.T) {
	db := pgtest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	benches := write("benches.json", `{
  "name": "benches",
  "title_bg": "Пейки",
  "title_en": "Benches",
  "geometry_type": "Point",
  "attributes": [
    {"name": "material", "type": "enum", "title_bg": "Материал", "title_en": "Material", "values": ["дърво", "метал", "бетон"]},
    {"name": "installed", "type": "date", "title_bg": "Поставена на", "title_en": "Installed on"},
    {"name": "parcel", "type": "cadastral_id", "title_bg": "Поземлен имот", "title_en": "Land parcel"},
    {"name": "note", "type": "text", "title_bg": "Бележка", "title_en": "Note", "internal": true}
  ]
}`)
	unknownField := write("typo.json", `{"name": "x", "titel_bg": "X"}`)
	badGeometry := write("bad.json", `{"name": "blobs", "title_bg": "Петна", "title_en": "Blobs", "geometry_type": "Circle"}`)

	create := []string{"layer", "create", "--name", "park_benches", "--type", "benches",
		"--title-bg", "Пейки в парковете", "--title-en", "Park benches", "--visibility", "public"}
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "create without a name", args: []string{"layer", "create", "--type", "benches"}, code: exitUsage, stderr: `layer name ""`},
		{name: "create with an unknown flag", args: []string{"layer", "create", "--colour", "red"}, code: exitUsage, stderr: "munigis layer:"},
		{name: "unknown layer command", args: []string{"layer", "frobnicate"}, code: exitUsage, stderr: `unknown layer command "frobnicate"`},
		{name: "define-type without a file", args: []string{"layer", "define-type"}, code: exitUsage, stderr: "define-type takes one FILE.json"},
		{name: "define-type with an unknown field", args: []string{"layer", "define-type", unknownField}, code: exitUsage, stderr: "titel_bg"},
		{name: "define-type with a bad geometry type", args: []string{"layer", "define-type", badGeometry}, code: exitUsage, stderr: `geometry_type "Circle"`},
		{name: "create before the type exists", args: create, code: exitUsage, stderr: `layer type "benches" does not exist`},
		{name: "define-type", args: []string{"layer", "define-type", benches}, code: exitOK, stdout: "layer type benches defined"},
		{name: "define-type twice", args: []string{"layer", "define-type", benches}, code: exitUsage, stderr: "already exists"},
		{name: "types lists it", args: []string{"layer", "types"}, code: exitOK, stdout: `"name": "benches"`},
		{name: "create", args: create, code: exitOK, stdout: "layer park_benches created"},
		{name: "create twice", args: create, code: exitUsage, stderr: "already exists"},
		{name: "list", args: []string{"layer", "list"}, code: exitOK, stdout: "park_benches"},
	}
	for _, st := range steps {
		code, out, errOut := run(t, st.args...)
		if code != st.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", st.name, code, st.code, out, errOut)
		}
		if st.stdout != "" && !strings.Contains(out, st.stdout) {
			t.Errorf("%s: stdout %q lacks %q", st.name, out, st.stdout)
		}
		if st.stderr != "" && !strings.Contains(errOut, st.stderr) {
			t.Errorf("%s: stderr %q lacks %q", st.name, errOut, st.stderr)
		}
	}

	// The new layer is a feature table with history triggers, like the
	// built-in ones, and lists as public with its type.
	_, out, _ := run(t, "layer", "list")
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "park_benches ") {
			line = l
		}
	}
	if f := strings.Fields(line); len(f) < 4 || f[1] != "benches" || f[2] != "public" || f[3] != "0" {
		t.Errorf("layer list row %q, want park_benches benches public 0 ...", line)
	}
	var createdBy string
	if err := db.Pool.QueryRow(context.Background(), `SELECT created_by FROM layers WHERE name = 'park_benches'`).Scan(&createdBy); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(createdBy, "cli:") {
		t.Errorf("layer created_by = %q, want cli:<os user>", createdBy)
	}
}

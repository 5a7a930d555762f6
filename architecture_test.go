package munigis_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the dependency rules of README's architecture
// section true: a rule broken by a change fails here, not in review.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "munigis/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	// forbidden[pkg] lists import-path prefixes pkg must not import.
	forbidden := map[string][]string{
		"munigis":                  {"munigis/"},
		"munigis/spatial":          {"munigis/", "net/http", "github.com/jackc/"},
		"munigis/migrations":       {"munigis/"},
		"munigis/internal/postgis": {"munigis/layers", "munigis/web", "net/http"},
		"munigis/layers":           {"munigis/web", "munigis/access", "munigis/gdalio", "munigis/demo", "net/http"},
		"munigis/access":           {"munigis/web", "munigis/accounts", "net/http", "github.com/jackc/"},
		"munigis/accounts":         {"munigis/web", "munigis/layers", "net/http"},
		"munigis/gdalio":           {"munigis/web", "net/http"},
		"munigis/demo":             {"munigis/web", "net/http"},
		"munigis/workdays":         {"munigis/"},
		"munigis/documents":        {"munigis/web", "munigis/layers", "munigis/access", "munigis/casefiles", "munigis/registers", "munigis/tiles", "net/http"},
		"munigis/casefiles":        {"munigis/web", "munigis/layers", "munigis/access", "munigis/registers", "munigis/tiles", "net/http"},
		"munigis/web":              {"github.com/jackc/", "munigis/internal/postgis", "munigis/gdalio", "munigis/demo", "munigis/migrations"},
	}
	// The OGC services under web/ follow web's rules.
	for pkg := range imports {
		if strings.HasPrefix(pkg, "munigis/web/") {
			forbidden[pkg] = forbidden["munigis/web"]
		}
	}
	for pkg, bad := range forbidden {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("package %s not found by go list", pkg)
			continue
		}
		for _, imp := range imports[pkg] {
			for _, b := range bad {
				if imp == strings.TrimSuffix(b, "/") || strings.HasPrefix(imp, b) {
					t.Errorf("%s imports %s, which the architecture rules forbid", pkg, imp)
				}
			}
		}
	}
	// Only the web package and those under it speak HTTP (tests and cmd aside).
	for pkg, imps := range imports {
		if pkg == "munigis/web" || strings.HasPrefix(pkg, "munigis/web/") || strings.HasPrefix(pkg, "munigis/cmd/") {
			continue
		}
		for _, imp := range imps {
			if imp == "net/http" || imp == "github.com/gorilla/mux" {
				t.Errorf("%s imports %s; only munigis/web speaks HTTP", pkg, imp)
			}
		}
	}
}

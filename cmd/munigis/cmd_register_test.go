package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"munigis"
	"munigis/internal/pgtest"
	"munigis/registers"
)

func TestRegisterCommands(t *testing.T) {
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
	markets := write("markets.json", `{
  "name": "market_stalls",
  "title_bg": "Места на пазара",
  "title_en": "Market stalls",
  "published": true,
  "number_label_bg": "Място №",
  "number_label_en": "Stall No",
  "fields": [
    {"name": "trader_name", "type": "text", "title_bg": "Търговец", "title_en": "Trader", "public": true},
    {"name": "goods", "type": "enum", "title_bg": "Стоки", "title_en": "Goods", "values": ["плодове", "зеленчуци"], "public": true},
    {"name": "identifiers", "type": "cadastral_ids", "title_bg": "Имот", "title_en": "Parcel", "public": true}
  ]
}`)
	typo := write("typo.json", `{"name": "x", "titel_bg": "X"}`)
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "no subcommand", args: []string{"register"}, code: exitUsage, stderr: "say what to do with registers"},
		{name: "unknown subcommand", args: []string{"register", "frobnicate"}, code: exitUsage, stderr: `unknown register command "frobnicate"`},
		{name: "types lists the built-in ones", args: []string{"register", "types"}, code: exitOK, stdout: "municipal_property"},
		{name: "define-type without a file", args: []string{"register", "define-type"}, code: exitUsage, stderr: "define-type takes one --file FILE.json"},
		{name: "define-type with an unknown field", args: []string{"register", "define-type", "--file", typo}, code: exitUsage, stderr: "titel_bg"},
		{name: "define-type", args: []string{"register", "define-type", "--file", markets}, code: exitOK, stdout: "register market_stalls defined"},
		{name: "define-type twice", args: []string{"register", "define-type", markets}, code: exitUsage, stderr: "already exists"},
		{name: "list an unknown register", args: []string{"register", "list", "no_such"}, code: exitUsage, stderr: `register "no_such" does not exist`},
		{name: "list without a name", args: []string{"register", "list"}, code: exitUsage, stderr: "list takes the register's NAME"},
		{name: "export without a format", args: []string{"register", "export", "market_stalls"}, code: exitUsage, stderr: "--format csv"},
		{name: "list with a bad date", args: []string{"register", "list", "market_stalls", "--from", "2025-02-30"}, code: exitUsage, stderr: "--from"},
		{name: "list with a bad identifier", args: []string{"register", "list", "market_stalls", "--identifier", "73198.1"}, code: exitUsage, stderr: "--identifier"},
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

	store := registers.NewStore(db.Pool)
	ctx := munigis.WithActor(context.Background(), "test")
	for i, e := range []registers.Entry{
		{Number: "П-1", Date: "2025-04-01", Data: map[string]any{"trader_name": "Петър Стоянов", "goods": "плодове"}},
		{Number: "П-2", Date: "2025-04-02", Data: map[string]any{"trader_name": "Мария Колева", "goods": "зеленчуци"}},
		{Number: "П-3", Date: "2025-04-03", Data: map[string]any{"trader_name": "Стоян Петров", "goods": "плодове"}},
	} {
		e.Register = "market_stalls"
		if _, err := store.Create(ctx, e); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	code, out, errOut := run(t, "register", "list", "market_stalls", "--q", "koleva")
	if code != exitOK || !strings.Contains(out, "П-2") || strings.Contains(out, "П-1") || !strings.Contains(out, "1 of 1 entries") {
		t.Errorf("list --q koleva (Latin for Колева): %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, "register", "list", "--limit", "2", "market_stalls")
	if code != exitOK || !strings.Contains(out, "2 of 3 entries") || !strings.Contains(out, "П-3") {
		t.Errorf("list --limit 2: %d\n%s", code, out)
	}

	code, out, errOut = run(t, "register", "export", "market_stalls", "--format", "csv")
	if code != exitOK || !strings.HasPrefix(out, "\uFEFF") {
		t.Fatalf("export csv: %d %q %s", code, out[:min(len(out), 40)], errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][1] != "Място №" || rows[1][1] != "П-3" || !strings.Contains(strings.Join(rows[3], ","), "Петър Стоянов") {
		t.Errorf("CSV rows: %q", rows)
	}
	code, out, errOut = run(t, "register", "export", "market_stalls", "--format", "xlsx", "--lang", "en", "--q", "плодове")
	if code != exitOK {
		t.Fatalf("export xlsx: %d %s", code, errOut)
	}
	book, err := excelize.OpenReader(bytes.NewReader([]byte(out)))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	xrows, err := book.GetRows(book.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(xrows) != 3 || xrows[0][1] != "Stall No" || book.GetSheetName(0) != "Market stalls" {
		t.Errorf("XLSX sheet %q rows %q, want a header and the two fruit stalls", book.GetSheetName(0), xrows)
	}
}

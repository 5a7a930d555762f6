package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"munigis/accounts"
	"munigis/internal/pgtest"
)

// TestUserAndTokenCommands adds units, users and tokens from the command
// line and checks that they work and that mistakes exit 2 with a reason.
func TestUserAndTokenCommands(t *testing.T) {
	db := pgtest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	withStdin := func(s string) { stdin = strings.NewReader(s) }
	t.Cleanup(func() { withStdin("") })

	steps := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "unit add", args: []string{"unit", "add", "--name-bg", "Дирекция УТ", "--name-en", "Spatial Planning"}, code: exitOK, stdout: "Дирекция УТ created"},
		{name: "sub-unit", args: []string{"unit", "add", "--name-bg", "Отдел ВиК", "--parent", "Дирекция УТ"}, code: exitOK},
		{name: "user add with stdin password", stdin: "a long secret password\n", args: []string{"user", "add", "--username", "Petya",
			"--first-name", "Петя", "--patronymic", "Иванова", "--surname", "Стоянова", "--role", "planner", "--unit", "Дирекция УТ",
			"--body", "Община Троян", "--title", "Главен архитект", "--password-stdin"}, code: exitOK, stdout: "system identifier U-"},
		{name: "user add, civil contract, generated password", args: []string{"user", "add", "--username", "gps7", "--first-name", "Иван",
			"--surname", "Петров", "--role", "inspector", "--civil-contract", "--unit", "Отдел ВиК"}, code: exitOK, stdout: "password (shown only now): "},
		{name: "user add with everything wrong", args: []string{"user", "add", "--username", "x y", "--role", "mayor"}, code: exitUsage,
			stderr: "first name is required"},
		{name: "user add taken (other case)", stdin: "another long password\n", args: []string{"user", "add", "--username", "PETYA", "--first-name", "Петя",
			"--surname", "Петрова", "--role", "clerk", "--civil-contract", "--password-stdin"}, code: exitUsage, stderr: "taken"},
		{name: "unit head", args: []string{"unit", "head", "Дирекция УТ", "petya"}, code: exitOK},
		{name: "unit list", args: []string{"unit", "list"}, code: exitOK, stdout: "Petya"},
		{name: "user list", args: []string{"user", "list"}, code: exitOK, stdout: "civil contract"},
		{name: "passwd", stdin: "a newer long password\n", args: []string{"user", "passwd", "petya"}, code: exitOK, stdout: "changed"},
		{name: "passwd too short", stdin: "short\n", args: []string{"user", "passwd", "petya"}, code: exitUsage, stderr: "at least 10"},
		{name: "passwd unknown", stdin: "a newer long password\n", args: []string{"user", "passwd", "nobody"}, code: exitUsage, stderr: "does not exist"},
		{name: "token create without --name", args: []string{"token", "create", "--user", "gps7"}, code: exitUsage, stderr: "--name"},
		{name: "token create", args: []string{"token", "create", "--user", "gps7", "--name", "GPS unit 7"}, code: exitOK, stdout: "mgt_"},
		{name: "token list", args: []string{"token", "list"}, code: exitOK, stdout: "GPS unit 7"},
		{name: "token revoke bad id", args: []string{"token", "revoke", "x"}, code: exitUsage, stderr: "not a number"},
		{name: "token revoke", args: []string{"token", "revoke", "1"}, code: exitOK, stdout: "revoked"},
		{name: "token revoke again", args: []string{"token", "revoke", "1"}, code: exitUsage, stderr: "already revoked"},
		{name: "user disable", args: []string{"user", "disable", "gps7"}, code: exitOK},
		{name: "unknown user command", args: []string{"user", "frobnicate"}, code: exitUsage, stderr: `unknown user command`},
	}
	var gpsToken string
	for _, st := range steps {
		withStdin(st.stdin)
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
		if st.name == "token create" {
			gpsToken = strings.TrimSpace(out)
		}
		if st.name == "user add with everything wrong" {
			for _, want := range []string{"username", "surname is required", `role "mayor"`, "position"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("the refusal %q does not name %q", errOut, want)
				}
			}
		}
	}
	ctx := context.Background()
	store := accounts.NewStore(db.Pool, accounts.Config{})
	u, err := store.Authenticate(ctx, "petya", "a newer long password", "")
	if err != nil || u.Role != "planner" || u.Unit != "Дирекция УТ" || u.Patronymic != "Иванова" {
		t.Errorf("petya after passwd: %+v %v", u, err)
	}
	if _, _, err := store.LookupToken(ctx, gpsToken); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked CLI token: %v", err)
	}
	var createdBy string
	if err := db.Pool.QueryRow(ctx, `SELECT created_by FROM users WHERE username = 'Petya'`).Scan(&createdBy); err != nil || !strings.HasPrefix(createdBy, "cli:") {
		t.Errorf("created_by %q %v, want cli:<os user>", createdBy, err)
	}
}

func TestDemoAccounts(t *testing.T) {
	db := pgtest.New(t)
	var out bytes.Buffer
	if err := demoAccounts(context.Background(), db.Pool, &out); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"admin", "planner", "clerk", "inspector"} {
		if !strings.Contains(out.String(), role) {
			t.Errorf("demo accounts output lacks %s:\n%s", role, out.String())
		}
	}
	// The printed password works.
	var password string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "clerk" {
			password = f[2]
		}
	}
	store := accounts.NewStore(db.Pool, accounts.Config{})
	if _, err := store.Authenticate(context.Background(), "clerk", password, ""); err != nil {
		t.Errorf("printed clerk password: %v", err)
	}
	// The planner heads Дирекция УТ and so sees what the inspector of its
	// sub-unit sees.
	units, _ := store.Units(context.Background())
	if len(units) != 3 || units[0].Head != "planner" {
		t.Errorf("units %+v", units)
	}
	out.Reset()
	if err := demoAccounts(context.Background(), db.Pool, &out); err != nil || out.Len() != 0 {
		t.Errorf("second run: %v, printed %q; want nothing (accounts exist)", err, out.String())
	}
}

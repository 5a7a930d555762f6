package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"munigis"
	"munigis/access"
	"munigis/accounts"
	"munigis/internal/pgtest"
	"munigis/layers"
)

// fastHash keeps the tests quick; the default parameters are checked by
// TestPasswordHash.
var fastHash = accounts.HashParams{Memory: 1024, Time: 1, Threads: 1}

func newStore(t *testing.T) (*accounts.Store, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	return accounts.NewStore(db.Pool, accounts.Config{Hash: fastHash}), db
}

var ctx = munigis.WithActor(context.Background(), "test")

func mkUser(t *testing.T, s *accounts.Store, username string, role access.Role, unit string) accounts.User {
	t.Helper()
	u, err := s.CreateUser(ctx, accounts.NewUser{Username: username, FirstName: "Иван", Patronymic: "Петров", Surname: "Иванов",
		Role: role, AdminBody: "Община Троян", JobTitle: "специалист", Unit: unit, Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return u
}

func TestPasswordHash(t *testing.T) {
	h, err := accounts.HashPassword("correct horse battery", accounts.DefaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") || strings.Contains(h, "correct horse") {
		t.Errorf("hash %q is not an argon2id PHC string with the default parameters", h)
	}
	if !accounts.VerifyPassword(h, "correct horse battery") || accounts.VerifyPassword(h, "correct horse batterY") {
		t.Error("verify disagrees with the password")
	}
	h2, _ := accounts.HashPassword("correct horse battery", accounts.DefaultHashParams)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt?")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=65536,t=2,p=2$AAAA$AAAA", "$argon2id$v=19$m=0,t=2,p=2$AAAA$AAAA"} {
		if accounts.VerifyPassword(bad, "") {
			t.Errorf("malformed hash %q verified", bad)
		}
	}
}

func TestCreateUserValidates(t *testing.T) {
	s, db := newStore(t)
	_, err := s.CreateUser(ctx, accounts.NewUser{Username: "a b", Role: "boss", Password: "short"})
	if munigis.ErrorCode(err) != munigis.Invalid {
		t.Fatalf("err = %v, want invalid", err)
	}
	for _, want := range []string{"username", "first name is required", "surname is required", `role "boss"`, "position", "at least 10"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	u := mkUser(t, s, "Ivan.Ivanov", access.Clerk, "")
	if !strings.HasPrefix(u.SystemID, "U-") || len(u.SystemID) != 8 {
		t.Errorf("system id %q, want U-NNNNNN", u.SystemID)
	}
	var hash string
	if err := db.Pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || hash == "correct horse battery" {
		t.Errorf("stored hash %q", hash)
	}
	_, err = s.CreateUser(ctx, accounts.NewUser{Username: "IVAN.IVANOV", FirstName: "И", Surname: "И", Role: access.Clerk,
		CivilContract: true, Password: "correct horse battery"})
	if munigis.ErrorCode(err) != munigis.Conflict {
		t.Errorf("same username in other case: %v, want conflict", err)
	}
	_, err = s.CreateUser(ctx, accounts.NewUser{Username: "contractor", FirstName: "Мария", Surname: "Петрова", Role: access.Inspector,
		CivilContract: true, Password: "correct horse battery", Unit: "no such unit"})
	if munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("unknown unit: %v", err)
	}
	var audits int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'user.create' AND after::text NOT LIKE '%argon2%'`).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if audits != 1 {
		t.Errorf("%d user.create audit rows without a hash, want 1", audits)
	}
}

func TestAuthenticate(t *testing.T) {
	s, db := newStore(t)
	mkUser(t, s, "maria", access.Planner, "")
	mkUser(t, s, "gone", access.Clerk, "")
	if err := s.Disable(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "MARIA", "correct horse battery", "10.0.0.1"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	_, errWrong := s.Authenticate(ctx, "maria", "wrong password!", "10.0.0.1")
	_, errUnknown := s.Authenticate(ctx, "nobody", "wrong password!", "10.0.0.1")
	if munigis.ErrorCode(errWrong) != munigis.Unauthorized || munigis.ErrorMessage(errWrong) != munigis.ErrorMessage(errUnknown) {
		t.Errorf("wrong password %v and unknown user %v must be the same 401", errWrong, errUnknown)
	}
	_, err := s.Authenticate(ctx, "gone", "correct horse battery", "10.0.0.2")
	if munigis.ErrorCode(err) != munigis.Unauthorized || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("disabled: %v", err)
	}
	_, err = s.Authenticate(ctx, "gone", "wrong password!", "10.0.0.2")
	if strings.Contains(err.Error(), "disabled") {
		t.Errorf("a wrong password reveals that the account is disabled: %v", err)
	}
	var failed int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'sign_in_failed' AND actor = 'anonymous'`).Scan(&failed); err != nil {
		t.Fatal(err)
	}
	if failed != 4 {
		t.Errorf("%d sign_in_failed audit rows, want 4", failed)
	}
}

func TestRateLimit(t *testing.T) {
	s, _ := newStore(t)
	mkUser(t, s, "maria", access.Planner, "")
	for i := 0; i < 5; i++ {
		if _, err := s.Authenticate(ctx, "maria", "wrong password!", "10.0.0.9"); munigis.ErrorCode(err) != munigis.Unauthorized {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := s.Authenticate(ctx, "maria", "correct horse battery", "10.0.0.8")
	if munigis.ErrorCode(err) != accounts.TooManyRequests || !strings.Contains(err.Error(), "try again in") {
		t.Fatalf("6th attempt: %v, want too_many_requests saying when", err)
	}
	var rle *accounts.RateLimited
	if !errors.As(err, &rle) || rle.Wait <= 0 {
		t.Errorf("no RetryAfter in %v", err)
	}
	// Another user from another address is not affected.
	mkUser(t, s, "petar", access.Clerk, "")
	if _, err := s.Authenticate(ctx, "petar", "correct horse battery", "10.0.0.7"); err != nil {
		t.Errorf("another user: %v", err)
	}
}

func TestSessions(t *testing.T) {
	s, db := newStore(t)
	mkUser(t, s, "maria", access.Planner, "")
	ns, err := s.SignIn(ctx, "maria", "correct horse battery", "10.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id = sha256(convert_to($1, 'UTF8'))`, ns.Cookie).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("session not stored by its SHA-256: %d %v", stored, err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE encode(id, 'escape') LIKE '%' || $1 || '%' OR csrf_token = $1`, ns.Cookie).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("raw cookie stored: %d %v", stored, err)
	}
	sess, u, err := s.LookupSession(ctx, ns.Cookie)
	if err != nil || u.Username != "maria" || sess.CSRFToken != ns.Session.CSRFToken {
		t.Fatalf("lookup: %v %v", u, err)
	}
	if _, _, err := s.LookupSession(ctx, "made-up"); munigis.ErrorCode(err) != munigis.Unauthorized {
		t.Errorf("made-up cookie: %v", err)
	}
	// Idle for 9 hours: expired.
	if _, err := db.Pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - interval '9 hours'`); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.LookupSession(ctx, ns.Cookie)
	if !errors.Is(err, accounts.ErrSessionExpired) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("idle session: %v, want expired", err)
	}
	// Past the absolute lifetime even though used.
	ns, _ = s.SignIn(ctx, "maria", "correct horse battery", "10.0.0.1", "test")
	if _, err := db.Pool.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupSession(ctx, ns.Cookie); !errors.Is(err, accounts.ErrSessionExpired) {
		t.Errorf("old session: %v, want expired", err)
	}
	ns, _ = s.SignIn(ctx, "maria", "correct horse battery", "10.0.0.1", "test")
	if err := s.SignOut(ctx, ns.Cookie, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupSession(ctx, ns.Cookie); munigis.ErrorCode(err) != munigis.Unauthorized {
		t.Errorf("after sign-out: %v", err)
	}
	// A password change ends sessions.
	ns, _ = s.SignIn(ctx, "maria", "correct horse battery", "10.0.0.1", "test")
	if err := s.SetPassword(ctx, "maria", "a new long password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupSession(ctx, ns.Cookie); munigis.ErrorCode(err) != munigis.Unauthorized {
		t.Errorf("after password change: %v", err)
	}
	if _, err := s.Authenticate(ctx, "maria", "a new long password", ""); err != nil {
		t.Errorf("new password: %v", err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE (before::text || after::text) LIKE '%argon2%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d audit rows hold a hash (%v)", n, err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('sign_in', 'sign_out', 'user.update')`).Scan(&n); err != nil || n != 6 {
		t.Errorf("%d sign_in/sign_out/user.update audit rows, want 6 (%v)", n, err)
	}
}

func TestTokens(t *testing.T) {
	s, db := newStore(t)
	mkUser(t, s, "gps7", access.Inspector, "")
	raw, tok, err := s.CreateToken(ctx, "gps7", "GPS unit 7")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, "mgt_") || len(raw) != 47 || !strings.HasPrefix(raw, tok.Prefix) {
		t.Errorf("token %q prefix %q", raw, tok.Prefix)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, raw).Scan(&n); err != nil || n != 1 {
		t.Errorf("token not stored by its hash: %d %v", n, err)
	}
	_, u, err := s.LookupToken(ctx, raw)
	if err != nil || u.Username != "gps7" {
		t.Fatalf("lookup: %v %v", u, err)
	}
	list, err := s.Tokens(ctx, "gps7")
	if err != nil || len(list) != 1 || list[0].LastUsedAt == nil {
		t.Errorf("list: %+v %v, want one token with last_used_at", list, err)
	}
	if _, err := s.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupToken(ctx, raw); munigis.ErrorCode(err) != munigis.Unauthorized || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked token: %v", err)
	}
	if _, err := s.RevokeToken(ctx, tok.ID); munigis.ErrorCode(err) != munigis.Conflict {
		t.Errorf("revoke twice: %v", err)
	}
	if _, _, err := s.LookupToken(ctx, "mgt_nonsense"); munigis.ErrorCode(err) != munigis.Unauthorized {
		t.Errorf("unknown token: %v", err)
	}
}

func layer(name string, vis layers.Visibility) layers.Layer {
	return layers.Layer{Name: name, Visibility: vis, Source: "local"}
}

func TestGrantsAndUnitHeads(t *testing.T) {
	s, _ := newStore(t)
	dir, err := s.CreateUnit(ctx, "Дирекция УТ", "Spatial Planning Directorate", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUnit(ctx, "Отдел ВиК", "Water department", "Дирекция УТ"); err != nil {
		t.Fatal(err)
	}
	head := mkUser(t, s, "head", access.Clerk, "Дирекция УТ")
	staff := mkUser(t, s, "staff", access.Inspector, "Отдел ВиК")
	other := mkUser(t, s, "other", access.Clerk, "")
	planner := mkUser(t, s, "planner", access.Planner, "")
	admin := mkUser(t, s, "admin", access.Admin, "")
	if err := s.SetUnitHead(ctx, "Дирекция УТ", "head"); err != nil {
		t.Fatal(err)
	}
	utility := layer("utility_lines", layers.Internal)
	units := layer("cadastre_units", layers.Internal)
	parcels := layer("cadastre_parcels", layers.Public)
	viewer := func(u accounts.User) access.Viewer {
		v, err := s.ViewerFor(ctx, u, "session")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Default role grants: clerk and inspector read all layers, planner edits.
	if v := viewer(other); !v.CanRead(utility) || v.CanEdit(utility) {
		t.Errorf("clerk: read %v edit %v, want read only", v.CanRead(utility), v.CanEdit(utility))
	}
	if v := viewer(planner); !v.CanEdit(utility) || v.CanEditCatalog() {
		t.Error("planner cannot edit layers, or may edit the catalog")
	}
	if v := viewer(admin); !v.CanEdit(utility) || !v.CanEditCatalog() || !v.IsAdmin() {
		t.Error("admin lacks rights")
	}
	if access.Anonymous.CanRead(utility) || !access.Anonymous.CanRead(parcels) {
		t.Error("the public reads internal layers or not public ones")
	}

	// Take the default clerk and inspector reads away; grant by unit and user.
	gs, _ := s.Grants(ctx, false)
	for _, g := range gs {
		if g.SubjectKind == "role" && (g.Subject == "clerk" || g.Subject == "inspector") {
			if _, err := s.RevokeGrant(ctx, g.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if v := viewer(other); v.CanRead(utility) || !v.CanRead(parcels) {
		t.Error("after revoking, the clerk still reads internal layers (or lost public ones)")
	}
	if _, err := s.Grant(ctx, accounts.Grant{SubjectKind: "unit", Subject: "Отдел ВиК", ObjectKind: "layer", Object: "utility_lines", Permission: access.Edit}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Grant(ctx, accounts.Grant{SubjectKind: "user", Subject: "staff", ObjectKind: "layer", Object: "cadastre_units", Permission: access.Read}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Grant(ctx, accounts.Grant{SubjectKind: "role", Subject: "clerk", ObjectKind: "register", Object: "permits", Permission: access.Read}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Grant(ctx, accounts.Grant{SubjectKind: "unit", Subject: "Отдел ВиК", ObjectKind: "layer", Object: "utility_lines", Permission: access.Edit}); munigis.ErrorCode(err) != munigis.Conflict {
		t.Errorf("duplicate grant: %v", err)
	}
	if _, err := s.Grant(ctx, accounts.Grant{SubjectKind: "role", Subject: "mayor", ObjectKind: "layer", Object: "nope nope", Permission: "own"}); munigis.ErrorCode(err) != munigis.Invalid ||
		!strings.Contains(err.Error(), "mayor") || !strings.Contains(err.Error(), "own") {
		t.Errorf("bad grant: %v", err)
	}
	if _, err := s.Grant(ctx, accounts.Grant{SubjectKind: "role", Subject: "clerk", ObjectKind: "layer", Object: "no_such_layer", Permission: access.Read}); munigis.ErrorCode(err) != munigis.NotFound {
		t.Errorf("grant on a missing layer: %v", err)
	}
	vs := viewer(staff)
	if !vs.CanEdit(utility) || !vs.CanRead(units) || vs.CanEdit(units) {
		t.Errorf("staff: unit grant or user grant not applied: %+v", vs.Grants)
	}
	// The head of the parent unit sees what the sub-unit's staff see (Art. 40).
	vh := viewer(head)
	if !vh.CanEdit(utility) || !vh.CanRead(units) || !vh.CanReadRegister("permits") {
		t.Errorf("unit head does not inherit staff access: %+v", vh.Grants)
	}
	if vo := viewer(other); vo.CanRead(utility) || vo.CanRead(units) || !vo.CanReadRegister("permits") {
		t.Errorf("an unrelated clerk: %+v", vo.Grants)
	}
	// A disabled staff member no longer lends access to the head.
	if err := s.Disable(ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	if vh := viewer(head); vh.CanRead(units) || !vh.CanEdit(utility) {
		t.Errorf("after disabling staff, head: %+v want the sub-unit's grant kept, the staff member's own grant gone", vh.Grants)
	}
	_ = dir
}

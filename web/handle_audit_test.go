package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"munigis/access"
	"munigis/audit"
	"munigis/internal/pgtest"
)

func TestAuditList(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	// Migrations may audit rows of their own (built-in registers); count
	// from what is there.
	var before, beforeDB float64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE actor = 'db:postgres') FROM audit_log`).Scan(&before, &beforeDB); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO features.cadastre_parcels (geom, identifier, area_m2) VALUES
		  (ST_Multi(ST_MakeEnvelope(490177.508, 4735953.349, 490217.508, 4735993.349, 7801)), '68134.100.5', 1600);
		SELECT audit_record('sign_in', 'user:U-000001', NULL, NULL, '192.0.2.7');`); err != nil {
		t.Fatal(err)
	}
	s := &Server{audit: audit.NewLog(db.Pool), log: slog.Default()}
	h := s.handle(s.handleAuditList)
	get := func(v access.Viewer, query string) (*httptest.ResponseRecorder, map[string]any) {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "/api/audit"+query, nil)
		r = r.WithContext(access.WithViewer(r.Context(), v))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %v", w.Body, err)
		}
		return w, body
	}
	admin := access.Viewer{SystemID: "U-000001", Username: "admin", Role: access.Admin}
	clerk := access.Viewer{SystemID: "U-000002", Username: "clerk", Role: access.Clerk}

	for _, v := range []access.Viewer{access.Anonymous, clerk} {
		if w, _ := get(v, ""); w.Code != http.StatusForbidden {
			t.Errorf("%q: status %d, want 403", v.Username, w.Code)
		}
	}
	w, body := get(admin, "")
	if w.Code != http.StatusOK || body["total"] != before+2 {
		t.Fatalf("admin: %d %s", w.Code, w.Body)
	}
	w, body = get(admin, "?object=layer:cadastre_parcels&user=db:postgres&from=2020-01-01&to="+time.Now().UTC().Format(time.DateOnly))
	if w.Code != http.StatusOK || body["total"] != 1.0 {
		t.Fatalf("filtered: %d %s", w.Code, w.Body)
	}
	e := body["entries"].([]any)[0].(map[string]any)
	at, err := time.Parse(time.RFC3339, e["at"].(string))
	if err != nil || e["action"] != "feature.insert" || e["after"] == nil {
		t.Fatalf("entry %v (%v)", e, err)
	}
	sofia, err := time.Parse(time.RFC3339, e["at_sofia"].(string))
	if err != nil || !sofia.Equal(at) || e["at"].(string)[19:] != "Z" || e["at_sofia"].(string)[19:] == "Z" {
		t.Errorf("at %v, at_sofia %v", e["at"], e["at_sofia"])
	}
	if w, body := get(admin, "?user=db:postgres&limit=1"); w.Code != http.StatusOK || body["total"] != beforeDB+2 || len(body["entries"].([]any)) != 1 {
		t.Errorf("user filter: %d %s", w.Code, w.Body)
	}
	if w, body := get(admin, "?user=U-000009"); w.Code != http.StatusOK || body["total"] != 0.0 {
		t.Errorf("unknown user: %d %s", w.Code, w.Body)
	}
	for _, q := range []string{"?from=yesterday", "?limit=0", "?limit=5000", "?offset=-1", "?to=2026-13-01"} {
		if w, _ := get(admin, q); w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, w.Code)
		}
	}
}

package web

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"munigis"
	"munigis/access"
	"munigis/audit"
)

// auditEntry is one row of the trail as the API shows it: at in UTC
// (RFC 3339), at_sofia the same instant in Europe/Sofia.
type auditEntry struct {
	ID       int64           `json:"id"`
	At       string          `json:"at"`
	AtSofia  string          `json:"at_sofia"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Object   string          `json:"object"`
	Before   json.RawMessage `json:"before"`
	After    json.RawMessage `json:"after"`
	Address  string          `json:"address,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// handleAuditList answers GET /api/audit?object=&user=&from=&to=&limit=&offset=
// for admins: the trail, newest first. object matches the object and
// everything under it (layer:x matches layer:x/12); user is a system
// identifier; from (inclusive) and to are RFC 3339 times or dates
// (YYYY-MM-DD, days in Europe/Sofia, to including its whole day).
func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) error {
	if !access.FromContext(r.Context()).CanEditCatalog() || s.audit == nil {
		return munigis.Errorf(munigis.Forbidden, "only administrators may read the audit trail")
	}
	q := r.URL.Query()
	f := audit.Filter{Object: q.Get("object"), Actor: q.Get("user")}
	var err error
	if f.From, err = auditTime(q.Get("from"), "from", false); err != nil {
		return err
	}
	if f.To, err = auditTime(q.Get("to"), "to", true); err != nil {
		return err
	}
	if f.Limit, err = intParam(q.Get("limit"), "limit", audit.DefaultLimit); err != nil {
		return err
	}
	if f.Limit < 1 || f.Limit > audit.MaxLimit {
		return munigis.Errorf(munigis.Invalid, "limit must be between 1 and %d", audit.MaxLimit)
	}
	if f.Offset, err = intParam(q.Get("offset"), "offset", 0); err != nil {
		return err
	}
	if f.Offset < 0 {
		return munigis.Errorf(munigis.Invalid, "offset must not be negative")
	}
	entries, total, err := s.audit.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]auditEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, auditEntry{
			ID: e.ID, At: e.At.UTC().Format(time.RFC3339), AtSofia: e.At.In(audit.Sofia).Format(time.RFC3339),
			Actor: e.Actor, Action: e.Action, Object: e.Object, Before: e.Before, After: e.After,
			Address: e.Address, PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"entries": out, "total": total, "limit": f.Limit, "offset": f.Offset,
	})
	return nil
}

// auditTime parses an RFC 3339 time or a date (a day in Europe/Sofia; as
// an upper bound, the end of that day).
func auditTime(v, name string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, audit.Sofia)
	if err != nil {
		return time.Time{}, munigis.Errorf(munigis.Invalid, "%s: %q is neither an RFC 3339 time (2026-03-01T09:30:00Z) nor a date (2026-03-01)", name, v)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

package web

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"munigis"
	"munigis/access"
	"munigis/accounts"
)

// signedIn returns the caller's viewer, or errNotSignedIn for the public.
func (s *Server) signedIn(r *http.Request) (access.Viewer, error) {
	v := access.FromContext(r.Context())
	if !v.SignedIn() {
		return v, errNotSignedIn
	}
	if s.accounts == nil {
		return v, s.noAccounts()
	}
	return v, nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		return 0, munigis.Errorf(munigis.NotFound, "no such id")
	}
	return id, nil
}

// handleTokenList: GET /api/tokens lists the caller's API tokens;
// ?user=USERNAME someone else's and ?all=true everyone's (admins).
func (s *Server) handleTokenList(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedIn(r)
	if err != nil {
		return err
	}
	who := v.SystemID
	q := r.URL.Query()
	switch {
	case q.Get("all") == "true" || q.Get("all") == "1":
		if !v.IsAdmin() {
			return errAdminOnly
		}
		who = ""
	case q.Get("user") != "":
		u, err := s.accounts.User(r.Context(), q.Get("user"))
		if err != nil || !v.CanManageTokensOf(u.SystemID) {
			if !v.IsAdmin() {
				return errAdminOnly
			}
			return err
		}
		who = u.SystemID
	}
	list, err := s.accounts.Tokens(r.Context(), who)
	if err != nil {
		return err
	}
	if list == nil {
		list = []accounts.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
	return nil
}

// handleTokenCreate: POST /api/tokens {name, user?} creates an API token
// for the caller (or, for an admin, for user) and shows it once.
func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedIn(r)
	if err != nil {
		return err
	}
	var in struct {
		Name string `json:"name"`
		User string `json:"user"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	who := v.SystemID
	if in.User != "" {
		if !v.IsAdmin() {
			u, err := s.accounts.User(r.Context(), in.User)
			if err != nil || !v.CanManageTokensOf(u.SystemID) {
				return errAdminOnly
			}
		}
		who = in.User
	}
	raw, t, err := s.accounts.CreateToken(r.Context(), who, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": raw, "details": t,
		"note": "this is the only time the token is shown; keep it secret and send it as Authorization: Bearer <token>"})
	return nil
}

// handleTokenRevoke: DELETE /api/tokens/{id} revokes one of the caller's
// tokens (any token, for an admin). Someone else's token answers 404.
func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) error {
	v, err := s.signedIn(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	t, err := s.accounts.Token(r.Context(), id)
	if err == nil && !v.CanManageTokensOf(t.SystemID) {
		err = munigis.Errorf(munigis.NotFound, "API token %d does not exist", id)
	}
	if err != nil {
		return err
	}
	t, err = s.accounts.RevokeToken(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// The grant endpoints are for administrators (access.CanManageAccess).

func (s *Server) manager(r *http.Request) error {
	v, err := s.signedIn(r)
	if err != nil {
		return err
	}
	if !v.CanManageAccess() {
		return errAdminOnly
	}
	return nil
}

// handleGrantList: GET /api/grants lists live grants; ?all=true adds the
// revoked ones.
func (s *Server) handleGrantList(w http.ResponseWriter, r *http.Request) error {
	if err := s.manager(r); err != nil {
		return err
	}
	all := r.URL.Query().Get("all")
	list, err := s.accounts.Grants(r.Context(), all == "true" || all == "1")
	if err != nil {
		return err
	}
	if list == nil {
		list = []accounts.Grant{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"grants": list})
	return nil
}

// handleGrantCreate: POST /api/grants {subject_kind, subject, object_kind,
// object, permission}.
func (s *Server) handleGrantCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.manager(r); err != nil {
		return err
	}
	var in struct {
		SubjectKind string            `json:"subject_kind"`
		Subject     string            `json:"subject"`
		ObjectKind  string            `json:"object_kind"`
		Object      string            `json:"object"`
		Permission  access.Permission `json:"permission"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	g, err := s.accounts.Grant(r.Context(), accounts.Grant{SubjectKind: in.SubjectKind, Subject: in.Subject,
		ObjectKind: in.ObjectKind, Object: in.Object, Permission: in.Permission})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

// handleGrantRevoke: DELETE /api/grants/{id}; the grant stays on record,
// stamped revoked.
func (s *Server) handleGrantRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := s.manager(r); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	g, err := s.accounts.RevokeGrant(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

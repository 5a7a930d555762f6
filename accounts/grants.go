package accounts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/access"
	"munigis/internal/postgis"
)

// Grant is one access grant: Subject (a role name, a unit id, or a user's
// system identifier, by SubjectKind) may Permission the object of
// ObjectKind named Object ('*' for all).
type Grant struct {
	ID          int64             `json:"id"`
	SubjectKind string            `json:"subject_kind"`
	Subject     string            `json:"subject"`
	ObjectKind  string            `json:"object_kind"`
	Object      string            `json:"object"`
	Permission  access.Permission `json:"permission"`
	GrantedBy   string            `json:"granted_by"`
	GrantedAt   time.Time         `json:"granted_at"`
	RevokedAt   *time.Time        `json:"revoked_at,omitempty"`
	RevokedBy   string            `json:"revoked_by,omitempty"`
}

const grantCols = `id, subject_kind, subject, object_kind, object, permission, granted_by, granted_at, revoked_at, coalesce(revoked_by, '')`

func scanGrant(row pgx.Row) (Grant, error) {
	var g Grant
	err := row.Scan(&g.ID, &g.SubjectKind, &g.Subject, &g.ObjectKind, &g.Object, &g.Permission, &g.GrantedBy,
		&g.GrantedAt, &g.RevokedAt, &g.RevokedBy)
	return g, err
}

var objectRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// Grant records g: the subject may be given as a role name, a unit's id or
// name, or a user's username or system identifier; it is stored as role
// name, unit id and system identifier. A layer must exist (or be '*'). The
// grantor is the actor of ctx.
func (s *Store) Grant(ctx context.Context, g Grant) (Grant, error) {
	var bad []string
	switch g.SubjectKind {
	case "role", "unit", "user":
	default:
		bad = append(bad, fmt.Sprintf("subject_kind %q is not role, unit or user", g.SubjectKind))
	}
	if strings.TrimSpace(g.Subject) == "" {
		bad = append(bad, "subject is required")
	}
	switch g.ObjectKind {
	case access.KindLayer, access.KindRegister:
	case access.KindCases:
		if g.Object != access.All && !slices.Contains(access.CaseObjects, g.Object) {
			bad = append(bad, fmt.Sprintf("object %q of kind cases is not '*' or one of %s", g.Object, strings.Join(access.CaseObjects, ", ")))
		}
	default:
		bad = append(bad, fmt.Sprintf("object_kind %q is not layer, register or cases", g.ObjectKind))
	}
	if g.Object != access.All && !objectRE.MatchString(g.Object) {
		bad = append(bad, fmt.Sprintf("object %q is not '*' or a layer or register name", g.Object))
	}
	if g.Permission != access.Read && g.Permission != access.Edit {
		bad = append(bad, fmt.Sprintf("permission %q is not read or edit", g.Permission))
	}
	if g.SubjectKind == "role" && g.Subject == string(access.Admin) {
		bad = append(bad, "admin may already do everything; grant to another role, a unit or a user")
	} else if g.SubjectKind == "role" && !access.ValidRole(access.Role(g.Subject)) {
		bad = append(bad, fmt.Sprintf("role %q is not one of admin, planner, clerk, inspector", g.Subject))
	}
	if len(bad) > 0 {
		return Grant{}, munigis.Errorf(munigis.Invalid, "the grant is not valid: %s", strings.Join(bad, "; "))
	}
	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		switch g.SubjectKind {
		case "unit":
			id, err := unitID(ctx, tx, g.Subject)
			if err != nil {
				return err
			}
			g.Subject = strconv.FormatInt(id, 10)
		case "user":
			u, err := s.user(ctx, tx, g.Subject)
			if err != nil {
				return err
			}
			g.Subject = u.SystemID
		}
		if g.ObjectKind == access.KindLayer && g.Object != access.All {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM layers WHERE name = $1)`, g.Object).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return munigis.Errorf(munigis.NotFound, "layer %q does not exist", g.Object)
			}
		}
		var dup int64
		err := tx.QueryRow(ctx, `SELECT id FROM grants WHERE revoked_at IS NULL AND subject_kind = $1 AND subject = $2
			AND object_kind = $3 AND object = $4 AND permission = $5`, g.SubjectKind, g.Subject, g.ObjectKind, g.Object, g.Permission).Scan(&dup)
		if err == nil {
			return munigis.Errorf(munigis.Conflict, "the same grant already exists (id %d)", dup)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		g, err = scanGrant(tx.QueryRow(ctx, `INSERT INTO grants (subject_kind, subject, object_kind, object, permission, granted_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+grantCols, g.SubjectKind, g.Subject, g.ObjectKind, g.Object, g.Permission, actor(ctx)))
		if err != nil {
			return postgis.Translate(err, "grant")
		}
		return audit(ctx, tx, "grant", "grant:"+strconv.FormatInt(g.ID, 10), nil, g, "")
	})
	return g, err
}

// RevokeGrant ends the grant with id. The row stays, stamped revoked.
func (s *Store) RevokeGrant(ctx context.Context, id int64) (Grant, error) {
	var g Grant
	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		g, err = scanGrant(tx.QueryRow(ctx, `SELECT `+grantCols+` FROM grants WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return munigis.Errorf(munigis.NotFound, "grant %d does not exist", id)
		}
		if err != nil {
			return err
		}
		if g.RevokedAt != nil {
			return munigis.Errorf(munigis.Conflict, "grant %d is already revoked", id)
		}
		before := g
		if err := tx.QueryRow(ctx, `UPDATE grants SET revoked_at = date_trunc('second', now()), revoked_by = $2 WHERE id = $1
			RETURNING revoked_at, revoked_by`, id, actor(ctx)).Scan(&g.RevokedAt, &g.RevokedBy); err != nil {
			return err
		}
		return audit(ctx, tx, "revoke", "grant:"+strconv.FormatInt(id, 10), before, g, "")
	})
	return g, err
}

// Grants lists the live grants, and the revoked ones too when all is true.
func (s *Store) Grants(ctx context.Context, all bool) ([]Grant, error) {
	q := `SELECT ` + grantCols + ` FROM grants`
	if !all {
		q += ` WHERE revoked_at IS NULL`
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) { return scanGrant(r) })
}

// EffectiveGrants returns what u may read or edit: the live grants to u's
// role, to u, to u's unit and every unit above it; and, when u heads units,
// the grants of those units and all their sub-units and of every active
// member of them (Art. 40: a unit head sees what the unit's staff see). Admin
// rights are not grants; package access gives them.
func (s *Store) EffectiveGrants(ctx context.Context, u User) ([]access.Grant, error) {
	rows, err := s.pool.Query(ctx, `
		WITH RECURSIVE headed AS (
			SELECT id FROM units WHERE head_user_id = $1
			UNION
			SELECT c.id FROM units c JOIN headed h ON c.parent_id = h.id
		), people AS (
			SELECT id, system_id, role, unit_id FROM users WHERE id = $1
			UNION
			SELECT id, system_id, role, unit_id FROM users WHERE unit_id IN (SELECT id FROM headed) AND disabled_at IS NULL
		), person_units AS (
			SELECT unit_id AS uid FROM people WHERE unit_id IS NOT NULL
			UNION
			SELECT id FROM headed
			UNION
			SELECT n.parent_id FROM person_units pu JOIN units n ON n.id = pu.uid WHERE n.parent_id IS NOT NULL
		)
		SELECT DISTINCT g.object_kind, g.object, g.permission FROM grants g
		WHERE g.revoked_at IS NULL AND (
			(g.subject_kind = 'role' AND g.subject IN (SELECT role FROM people)) OR
			(g.subject_kind = 'user' AND g.subject IN (SELECT system_id FROM people)) OR
			(g.subject_kind = 'unit' AND g.subject IN (SELECT uid::text FROM person_units)))
		ORDER BY 1, 2, 3`, u.ID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (access.Grant, error) {
		var g access.Grant
		err := r.Scan(&g.ObjectKind, &g.Object, &g.Permission)
		return g, err
	})
}

// ViewerFor builds the access.Viewer of u, who authenticated via "session"
// or "token".
func (s *Store) ViewerFor(ctx context.Context, u User, via string) (access.Viewer, error) {
	gs, err := s.EffectiveGrants(ctx, u)
	if err != nil {
		return access.Viewer{}, err
	}
	return access.Viewer{SystemID: u.SystemID, Username: u.Username, Role: u.Role, Grants: gs, Via: via}, nil
}

package accounts

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
)

// TokenPrefix starts every API token, so that a leaked one is recognisable.
const TokenPrefix = "mgt_"

// Token is an API token's record; the raw token is shown only by CreateToken.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"-"`
	Username   string     `json:"username"`
	SystemID   string     `json:"system_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
}

const tokenCols = `t.id, t.user_id, u.username, u.system_id, t.name, t.prefix, t.created_at, t.created_by, t.last_used_at,
	t.revoked_at, coalesce(t.revoked_by, '')`

func scanToken(row pgx.Row) (Token, error) {
	var t Token
	err := row.Scan(&t.ID, &t.UserID, &t.Username, &t.SystemID, &t.Name, &t.Prefix, &t.CreatedAt, &t.CreatedBy,
		&t.LastUsedAt, &t.RevokedAt, &t.RevokedBy)
	return t, err
}

// CreateToken creates an API token named name for the user who (username or
// system identifier) and returns the raw token, which is never shown again.
func (s *Store) CreateToken(ctx context.Context, who, name string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", Token{}, munigis.Errorf(munigis.Invalid, "the token needs a name of 1–200 characters saying what uses it (e.g. \"GPS unit 7\")")
	}
	raw := TokenPrefix + randomToken(32)
	var t Token
	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		u, err := s.user(ctx, tx, who)
		if err != nil {
			return err
		}
		if u.DisabledAt != nil {
			return munigis.Errorf(munigis.Invalid, "user %q is disabled", u.Username)
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			u.ID, name, hashToken(raw), raw[:len(TokenPrefix)+8], actor(ctx)).Scan(&id); err != nil {
			return postgis.Translate(err, "create token")
		}
		if t, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`, id)); err != nil {
			return err
		}
		return audit(ctx, tx, "token.create", "token:"+strconv.FormatInt(id, 10), nil, t, "")
	})
	if err != nil {
		return "", Token{}, err
	}
	return raw, t, nil
}

// Tokens lists the tokens of the user who (username or system identifier),
// or of everyone when who is "", revoked ones included.
func (s *Store) Tokens(ctx context.Context, who string) ([]Token, error) {
	q := `SELECT ` + tokenCols + ` FROM api_tokens t JOIN users u ON u.id = t.user_id`
	var args []any
	if who != "" {
		u, err := s.User(ctx, who)
		if err != nil {
			return nil, err
		}
		q += ` WHERE t.user_id = $1`
		args = append(args, u.ID)
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY t.id`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) { return scanToken(r) })
}

// Token returns the token with id.
func (s *Store) Token(ctx context.Context, id int64) (Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, munigis.Errorf(munigis.NotFound, "API token %d does not exist", id)
	}
	return t, err
}

// RevokeToken revokes the token with id; it stops working at once.
func (s *Store) RevokeToken(ctx context.Context, id int64) (Token, error) {
	var t Token
	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1 FOR UPDATE OF t`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return munigis.Errorf(munigis.NotFound, "API token %d does not exist", id)
		}
		if err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return munigis.Errorf(munigis.Conflict, "API token %d is already revoked", id)
		}
		before := t
		if err := tx.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = date_trunc('second', now()), revoked_by = $2 WHERE id = $1
			RETURNING revoked_at, revoked_by`, id, actor(ctx)).Scan(&t.RevokedAt, &t.RevokedBy); err != nil {
			return err
		}
		return audit(ctx, tx, "token.revoke", "token:"+strconv.FormatInt(id, 10), before, t, "")
	})
	return t, err
}

// LookupToken finds the token raw and its user, and notes its use. A
// revoked token, an unknown one and one of a disabled user are Unauthorized.
func (s *Store) LookupToken(ctx context.Context, raw string) (Token, User, error) {
	invalid := munigis.Errorf(munigis.Unauthorized, "the bearer token is not valid")
	if !strings.HasPrefix(raw, TokenPrefix) || len(raw) > 100 {
		return Token{}, User{}, invalid
	}
	var t Token
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+`, t.id, t.name, t.prefix, t.last_used_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN units un ON un.id = u.unit_id WHERE t.token_hash = $1`, hashToken(raw)),
		&t.ID, &t.Name, &t.Prefix, &t.LastUsedAt, &t.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, User{}, invalid
	}
	if err != nil {
		return Token{}, User{}, err
	}
	t.UserID, t.Username, t.SystemID = u.ID, u.Username, u.SystemID
	if t.RevokedAt != nil {
		return Token{}, User{}, munigis.Errorf(munigis.Unauthorized, "this API token was revoked on %s; create a new one", t.RevokedAt.UTC().Format(time.DateOnly))
	}
	if u.DisabledAt != nil {
		return Token{}, User{}, errDisabled()
	}
	if _, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now()
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, t.ID); err != nil {
		return Token{}, User{}, err
	}
	return t, u, nil
}

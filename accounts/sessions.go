package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"munigis"
	"munigis/internal/postgis"
)

var errBadCredentials = &munigis.Error{Code: munigis.Unauthorized,
	Message:   "wrong username or password",
	MessageBG: "Грешно потребителско име или парола"}

func errDisabled() error {
	return &munigis.Error{Code: munigis.Unauthorized,
		Message:   "this account is disabled; ask an administrator",
		MessageBG: "Профилът е спрян; обърнете се към администратор"}
}

// ErrSessionExpired is the cause of the error for a session that has run
// out of time.
var ErrSessionExpired = errors.New("session expired")

func (s *Store) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = HashPassword(randomToken(16), s.cfg.Hash)
	})
	return s.dummy
}

// Authenticate checks username and password. An unknown user and a wrong
// password take the same time (a dummy hash is verified) and get the same
// error; a disabled user is told so only after the right password. Failed
// attempts are counted per username and per address and recorded in the
// audit trail (sign_in_failed, actor "anonymous").
func (s *Store) Authenticate(ctx context.Context, username, password, address string) (User, error) {
	if err := s.limiter.Check(username, address); err != nil {
		return User{}, err
	}
	var hash string
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+`, u.password_hash`+userFrom+`WHERE lower(u.username) = lower($1)`,
		username), &hash)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, err
	}
	if !found {
		hash = s.dummyHash()
	}
	ok := VerifyPassword(hash, password) && found && len(password) <= 256
	if !ok || u.DisabledAt != nil {
		s.limiter.Fail(username, address)
		reason := "wrong username or password"
		if ok {
			reason = "account disabled"
		}
		fctx := munigis.WithActor(ctx, "anonymous")
		if err := postgis.Tx(fctx, s.pool, func(tx pgx.Tx) error {
			return audit(fctx, tx, "sign_in_failed", "user:"+truncate(username, 64), nil, map[string]any{"reason": reason}, address)
		}); err != nil {
			return User{}, err
		}
		if ok {
			return User{}, errDisabled()
		}
		return User{}, errBadCredentials
	}
	return u, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Session is a browser session. The raw cookie value is not kept.
type Session struct {
	ID         []byte
	UserID     int64
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
	Address    string
	UserAgent  string
}

// NewSession is a session just opened: Cookie is the raw cookie value,
// given to the browser once.
type NewSession struct {
	User    User
	Cookie  string
	Session Session
}

// SignIn authenticates and opens a session, recording sign_in.
func (s *Store) SignIn(ctx context.Context, username, password, address, userAgent string) (NewSession, error) {
	u, err := s.Authenticate(ctx, username, password, address)
	if err != nil {
		return NewSession{}, err
	}
	ns, err := s.CreateSession(ctx, u, address, userAgent)
	return ns, err
}

// CreateSession opens a session for u (already authenticated) and records
// sign_in.
func (s *Store) CreateSession(ctx context.Context, u User, address, userAgent string) (NewSession, error) {
	raw := randomToken(32)
	sess := Session{ID: hashToken(raw), UserID: u.ID, CSRFToken: randomToken(32), Address: address, UserAgent: truncate(userAgent, 500)}
	ctx = munigis.WithActor(ctx, u.SystemID)
	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		// Sweep sessions that ran out (each sign-in cleans up after the others).
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => $1)`,
			s.cfg.SessionIdle.Seconds()); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO sessions (id, user_id, csrf_token, expires_at, address, user_agent)
			VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5, $6) RETURNING created_at, expires_at, last_seen_at`,
			sess.ID, u.ID, sess.CSRFToken, s.cfg.SessionMax.Seconds(), address, sess.UserAgent).
			Scan(&sess.CreatedAt, &sess.ExpiresAt, &sess.LastSeenAt); err != nil {
			return err
		}
		return audit(ctx, tx, "sign_in", "user:"+u.Username, nil, map[string]any{"via": "password"}, address)
	})
	if err != nil {
		return NewSession{}, err
	}
	return NewSession{User: u, Cookie: raw, Session: sess}, nil
}

// LookupSession finds the session of a raw cookie value. An expired
// session is deleted and answered Unauthorized with ErrSessionExpired as
// its cause; so is a session of a disabled user.
func (s *Store) LookupSession(ctx context.Context, raw string) (Session, User, error) {
	var sess Session
	var expired bool
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+`, s.id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at,
			s.address, s.user_agent, now() > s.expires_at OR now() > s.last_seen_at + make_interval(secs => $2)
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN units un ON un.id = u.unit_id WHERE s.id = $1`,
		hashToken(raw), s.cfg.SessionIdle.Seconds()),
		&sess.ID, &sess.CSRFToken, &sess.CreatedAt, &sess.ExpiresAt, &sess.LastSeenAt, &sess.Address, &sess.UserAgent, &expired)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, User{}, &munigis.Error{Code: munigis.Unauthorized,
			Message:   "the session is not valid (signed out, or ended by a password change); sign in again",
			MessageBG: "Сесията не е валидна; влезте отново"}
	}
	if err != nil {
		return Session{}, User{}, err
	}
	sess.UserID = u.ID
	if expired || u.DisabledAt != nil {
		if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, sess.ID); err != nil {
			return Session{}, User{}, err
		}
		if u.DisabledAt != nil {
			return Session{}, User{}, errDisabled()
		}
		return Session{}, User{}, &munigis.Error{Code: munigis.Unauthorized, Err: ErrSessionExpired,
			Message:   "your session has expired; sign in again",
			MessageBG: "Сесията ви изтече; влезте отново"}
	}
	return sess, u, nil
}

// TouchSession marks the session as used now, which extends its idle
// time. It writes at most once a minute per session.
func (s *Store) TouchSession(ctx context.Context, sess Session) error {
	_, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now() WHERE id = $1 AND last_seen_at < now() - interval '1 minute'`, sess.ID)
	return err
}

// SignOut deletes the session of a raw cookie value and records sign_out.
func (s *Store) SignOut(ctx context.Context, raw, address string) error {
	return postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var username, systemID string
		err := tx.QueryRow(ctx, `DELETE FROM sessions s USING users u WHERE s.id = $1 AND u.id = s.user_id RETURNING u.username, u.system_id`,
			hashToken(raw)).Scan(&username, &systemID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if munigis.Actor(ctx) == "" {
			if _, err := tx.Exec(ctx, `SELECT set_config('munigis.actor', $1, true)`, systemID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, "sign_out", "user:"+username, nil, nil, address)
	})
}

package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/access"
	"munigis/internal/postgis"
)

// Config tunes a Store. Zero fields take the defaults.
type Config struct {
	// SessionIdle ends a session not used for this long (default 8 h).
	SessionIdle time.Duration
	// SessionMax ends a session this long after sign-in (default 24 h).
	SessionMax time.Duration
	// Hash are the argon2id parameters for new hashes.
	Hash HashParams
	// Limits bound failed sign-in attempts.
	Limits LimitConfig
}

// Store keeps accounts in PostGIS.
type Store struct {
	pool    *pgxpool.Pool
	cfg     Config
	limiter *Limiter

	dummyOnce sync.Once
	dummy     string
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool, cfg Config) *Store {
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 8 * time.Hour
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 24 * time.Hour
	}
	if cfg.Hash.Memory == 0 || cfg.Hash.Time == 0 || cfg.Hash.Threads == 0 {
		cfg.Hash = DefaultHashParams
	}
	return &Store{pool: pool, cfg: cfg, limiter: NewLimiter(cfg.Limits)}
}

// actor is who is acting, for created_by and similar columns.
func actor(ctx context.Context) string {
	if a := munigis.Actor(ctx); a != "" {
		return a
	}
	return "system"
}

// audit records action on object through audit_record (migration
// 000004_audit.sql), in tx. before and after are marshalled to JSON; nil
// becomes SQL NULL.
func audit(ctx context.Context, tx pgx.Tx, action, object string, before, after any, address string) error {
	enc := func(v any) ([]byte, error) {
		if v == nil {
			return nil, nil
		}
		return json.Marshal(v)
	}
	b, err := enc(before)
	if err != nil {
		return err
	}
	a, err := enc(after)
	if err != nil {
		return err
	}
	var addr *string
	if address != "" {
		addr = &address
	}
	if _, err := tx.Exec(ctx, `SELECT audit_record($1, $2, $3::jsonb, $4::jsonb, $5)`, action, object, b, a, addr); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, object, err)
	}
	return nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("accounts: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// User is a person who signs in (Art. 12). The password hash never leaves
// this package.
type User struct {
	ID            int64       `json:"-"`
	SystemID      string      `json:"system_id"`
	Username      string      `json:"username"`
	FirstName     string      `json:"first_name"`
	Patronymic    string      `json:"patronymic"`
	Surname       string      `json:"surname"`
	AdminBody     string      `json:"administrative_body,omitempty"`
	JobTitle      string      `json:"job_title,omitempty"`
	UnitID        int64       `json:"unit_id,omitempty"`
	Unit          string      `json:"unit,omitempty"`
	CivilContract bool        `json:"civil_contract"`
	Role          access.Role `json:"role"`
	DisabledAt    *time.Time  `json:"disabled_at,omitempty"`
	CreatedAt     time.Time   `json:"created_at"`
	CreatedBy     string      `json:"created_by"`
}

// Name is the user's full name.
func (u User) Name() string {
	return strings.Join(strings.Fields(u.FirstName+" "+u.Patronymic+" "+u.Surname), " ")
}

const userCols = `u.id, u.system_id, u.username, u.first_name, u.patronymic, u.surname, u.admin_body, u.job_title,
	coalesce(u.unit_id, 0), coalesce(un.name_bg, ''), u.civil_contract, u.role, u.disabled_at, u.created_at, u.created_by`

const userFrom = ` FROM users u LEFT JOIN units un ON un.id = u.unit_id `

func scanUser(row pgx.Row, extra ...any) (User, error) {
	var u User
	dest := append([]any{&u.ID, &u.SystemID, &u.Username, &u.FirstName, &u.Patronymic, &u.Surname, &u.AdminBody,
		&u.JobTitle, &u.UnitID, &u.Unit, &u.CivilContract, &u.Role, &u.DisabledAt, &u.CreatedAt, &u.CreatedBy}, extra...)
	err := row.Scan(dest...)
	return u, err
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username   string
	FirstName  string
	Patronymic string
	Surname    string
	Role       access.Role
	// AdminBody and JobTitle give the position; or CivilContract.
	AdminBody     string
	JobTitle      string
	CivilContract bool
	// Unit is a unit's id or its Bulgarian or English name; optional.
	Unit     string
	Password string
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$`)

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 10

func checkPassword(p string) string {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLen:
		return fmt.Sprintf("the password must have at least %d characters", MinPasswordLen)
	case len(p) > 256:
		return "the password must be at most 256 bytes"
	}
	return ""
}

func checkName(field, s string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return field + " is required"
		}
		return ""
	}
	if utf8.RuneCountInString(s) > 100 {
		return field + " is longer than 100 characters"
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && r != ' ' && r != '-' && r != '\'' && r != '.' {
			return fmt.Sprintf("%s %q may hold only letters, spaces, hyphens and apostrophes", field, s)
		}
	}
	return ""
}

func (nu NewUser) validate() error {
	var bad []string
	add := func(s string) {
		if s != "" {
			bad = append(bad, s)
		}
	}
	if !usernameRE.MatchString(nu.Username) {
		add(fmt.Sprintf("username %q must be 2–64 latin letters, digits, '.', '_' or '-', starting with a letter or digit", nu.Username))
	}
	add(checkName("first name", nu.FirstName, true))
	add(checkName("patronymic", nu.Patronymic, false))
	add(checkName("surname", nu.Surname, true))
	if !access.ValidRole(nu.Role) {
		add(fmt.Sprintf("role %q is not one of admin, planner, clerk, inspector", nu.Role))
	}
	body, title := strings.TrimSpace(nu.AdminBody), strings.TrimSpace(nu.JobTitle)
	switch {
	case nu.CivilContract && title != "":
		add("give either a job title (employment) or the civil-contract flag, not both")
	case !nu.CivilContract && (body == "" || title == ""):
		add("the position needs the administrative body and the job title, or the civil-contract flag")
	}
	if utf8.RuneCountInString(body) > 200 || utf8.RuneCountInString(title) > 200 {
		add("the administrative body and job title must be at most 200 characters")
	}
	add(checkPassword(nu.Password))
	if len(bad) > 0 {
		return munigis.Errorf(munigis.Invalid, "the user is not valid: %s", strings.Join(bad, "; "))
	}
	return nil
}

func unitID(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, unit string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM units WHERE id::text = $1 OR lower(name_bg) = lower($1) OR lower(name_en) = lower($1)
		ORDER BY id LIMIT 1`, strings.TrimSpace(unit)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, munigis.Errorf(munigis.NotFound, "unit %q does not exist", unit)
	}
	return id, err
}

// CreateUser validates nu, naming every field that is wrong, and creates
// the user with a generated system identifier.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	nu.Username = strings.TrimSpace(nu.Username)
	if err := nu.validate(); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(nu.Password, s.cfg.Hash)
	if err != nil {
		return User{}, err
	}
	var u User
	err = postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var unit *int64
		if strings.TrimSpace(nu.Unit) != "" {
			id, err := unitID(ctx, tx, nu.Unit)
			if err != nil {
				return err
			}
			unit = &id
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1))`, nu.Username).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return munigis.Errorf(munigis.Conflict, "the username %q is taken", nu.Username)
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO users (username, first_name, patronymic, surname, admin_body, job_title,
				unit_id, civil_contract, password_hash, role, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			nu.Username, strings.TrimSpace(nu.FirstName), strings.TrimSpace(nu.Patronymic), strings.TrimSpace(nu.Surname),
			strings.TrimSpace(nu.AdminBody), strings.TrimSpace(nu.JobTitle), unit, nu.CivilContract, hash,
			string(nu.Role), actor(ctx)).Scan(&id); err != nil {
			return postgis.Translate(err, "create user")
		}
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userCols+userFrom+`WHERE u.id = $1`, id))
		if err != nil {
			return err
		}
		return audit(ctx, tx, "user.create", "user:"+u.Username, nil, u, "")
	})
	return u, err
}

// User returns the user with the given username (any case) or system identifier.
func (s *Store) User(ctx context.Context, who string) (User, error) {
	return s.user(ctx, s.pool, who)
}

func (s *Store) user(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, who string) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userCols+userFrom+`WHERE lower(u.username) = lower($1) OR u.system_id = $1`, strings.TrimSpace(who)))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, munigis.Errorf(munigis.NotFound, "user %q does not exist", who)
	}
	return u, err
}

// Users lists every user, by system identifier.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userCols+userFrom+`ORDER BY u.system_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetPassword changes who's password and ends their sessions.
func (s *Store) SetPassword(ctx context.Context, who, password string) error {
	if msg := checkPassword(password); msg != "" {
		return munigis.Errorf(munigis.Invalid, "%s", msg)
	}
	hash, err := HashPassword(password, s.cfg.Hash)
	if err != nil {
		return err
	}
	return postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		u, err := s.user(ctx, tx, who)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now(), updated_by = $3 WHERE id = $1`,
			u.ID, hash, actor(ctx)); err != nil {
			return err
		}
		n, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID)
		if err != nil {
			return err
		}
		return audit(ctx, tx, "user.update", "user:"+u.Username, map[string]any{"password": "(old)"},
			map[string]any{"password": "(changed)", "sessions_ended": n.RowsAffected()}, "")
	})
}

// Disable stops who from signing in, ends their sessions and stops their
// API tokens from working. The user record stays (history names it).
func (s *Store) Disable(ctx context.Context, who string) error {
	return postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		u, err := s.user(ctx, tx, who)
		if err != nil {
			return err
		}
		if u.DisabledAt != nil {
			return munigis.Errorf(munigis.Conflict, "user %q is already disabled", u.Username)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET disabled_at = now(), disabled_by = $2, updated_at = now(), updated_by = $2 WHERE id = $1`,
			u.ID, actor(ctx)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		return audit(ctx, tx, "user.disable", "user:"+u.Username, map[string]any{"disabled": false}, map[string]any{"disabled": true}, "")
	})
}

// Unit is an administrative unit.
type Unit struct {
	ID       int64  `json:"id"`
	NameBG   string `json:"name_bg"`
	NameEN   string `json:"name_en"`
	ParentID int64  `json:"parent_id,omitempty"`
	// Head is the unit head's username, "" when there is none.
	Head string `json:"head,omitempty"`
}

// CreateUnit creates a unit; parent, when not "", is the parent unit's id or name.
func (s *Store) CreateUnit(ctx context.Context, nameBG, nameEN, parent string) (Unit, error) {
	u := Unit{NameBG: strings.TrimSpace(nameBG), NameEN: strings.TrimSpace(nameEN)}
	if u.NameBG == "" {
		return u, munigis.Errorf(munigis.Invalid, "the unit needs a Bulgarian name")
	}
	err := postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var pid *int64
		if parent != "" {
			id, err := unitID(ctx, tx, parent)
			if err != nil {
				return err
			}
			pid, u.ParentID = &id, id
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE lower(name_bg) = lower($1))`, u.NameBG).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return munigis.Errorf(munigis.Conflict, "a unit named %q already exists", u.NameBG)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO units (name_bg, name_en, parent_id, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
			u.NameBG, u.NameEN, pid, actor(ctx)).Scan(&u.ID); err != nil {
			return postgis.Translate(err, "create unit")
		}
		return audit(ctx, tx, "unit.create", "unit:"+strconv.FormatInt(u.ID, 10), nil, u, "")
	})
	return u, err
}

// SetUnitHead makes the user who the head of unit (id or name).
func (s *Store) SetUnitHead(ctx context.Context, unit, who string) error {
	return postgis.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := unitID(ctx, tx, unit)
		if err != nil {
			return err
		}
		u, err := s.user(ctx, tx, who)
		if err != nil {
			return err
		}
		var before *string
		if err := tx.QueryRow(ctx, `SELECT (SELECT system_id FROM users WHERE id = units.head_user_id) FROM units WHERE id = $1`, id).Scan(&before); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE units SET head_user_id = $2 WHERE id = $1`, id, u.ID); err != nil {
			return err
		}
		return audit(ctx, tx, "unit.update", "unit:"+strconv.FormatInt(id, 10),
			map[string]any{"head": before}, map[string]any{"head": u.SystemID}, "")
	})
}

// Units lists the units.
func (s *Store) Units(ctx context.Context) ([]Unit, error) {
	rows, err := s.pool.Query(ctx, `SELECT n.id, n.name_bg, n.name_en, coalesce(n.parent_id, 0), coalesce(h.username, '')
		FROM units n LEFT JOIN users h ON h.id = n.head_user_id ORDER BY n.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Unit, error) {
		var u Unit
		err := r.Scan(&u.ID, &u.NameBG, &u.NameEN, &u.ParentID, &u.Head)
		return u, err
	})
}

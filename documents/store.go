package documents

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"munigis"
	"munigis/internal/postgis"
)

// DefaultMaxFileBytes is the default size limit of one file (20 MiB).
const DefaultMaxFileBytes = 20 << 20

// DefaultSystemURI is "entered by" of an automatic registration when the
// context carries no user (Art. 28(1) p. 2).
const DefaultSystemURI = "system:munigis"

// DefaultAllowedTypes are the media types accepted by default, as
// gabriel-vasile/mimetype names them: the formats an administration can
// keep for 20 years and open without special software (PDF, images, plain
// text and XML, Office Open XML and OpenDocument text and spreadsheets) and
// detached signatures (p7s). Executables, HTML (scripts) and archives are
// not among them.
var DefaultAllowedTypes = []string{
	"application/pdf",
	"image/jpeg",
	"image/png",
	"image/tiff",
	"text/plain",
	"text/xml",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.oasis.opendocument.text",
	"application/vnd.oasis.opendocument.spreadsheet",
	"application/pkcs7-signature",
}

// sofia is the time zone of dates shown and computed (the registration
// year, "today" for the date of receipt).
var sofia = mustZone("Europe/Sofia")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("documents: time zone " + name + ": " + err.Error())
	}
	return loc
}

// Store keeps documents, files, document types and the official document
// register in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	cfg  Config
}

// NewStore returns a store on pool; zero fields of cfg take the defaults.
func NewStore(pool *pgxpool.Pool, cfg Config) *Store {
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if len(cfg.AllowedTypes) == 0 {
		cfg.AllowedTypes = DefaultAllowedTypes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SystemURI == "" {
		cfg.SystemURI = DefaultSystemURI
	}
	return &Store{pool: pool, cfg: cfg}
}

// Config returns the store's configuration with its defaults filled in.
func (s *Store) Config() Config { return s.cfg }

// now is the store's clock to the second (Art. 20 p. 2: times to the
// second).
func (s *Store) now() time.Time { return s.cfg.Now().Truncate(time.Second) }

// today is the current date in Europe/Sofia.
func (s *Store) today() string { return s.cfg.Now().In(sofia).Format(time.DateOnly) }

func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return postgis.Tx(ctx, s.pool, fn)
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func invalid(en, bg string) *munigis.Error {
	return &munigis.Error{Code: munigis.Invalid, Message: en, MessageBG: bg}
}

func conflict(en, bg string) *munigis.Error {
	return &munigis.Error{Code: munigis.Conflict, Message: en, MessageBG: bg}
}

func notFound(en, bg string) *munigis.Error {
	return &munigis.Error{Code: munigis.NotFound, Message: en, MessageBG: bg}
}

func documentNotFound(id int64) error {
	return notFound(fmt.Sprintf("document %d does not exist", id), fmt.Sprintf("документ %d не съществува", id))
}

func typeNotFound(code string) error {
	return notFound(fmt.Sprintf("type: document type %q does not exist in the nomenclature", short(code)),
		fmt.Sprintf("вид: вид документ %q не съществува в номенклатурата", short(code)))
}

// short cuts a value echoed in a message.
func short(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

// ---- Settings of the register --------------------------------------------

var indexRE = regexp.MustCompile(`^[0-9A-Za-z]{1,20}$`)

// Settings returns the settings of the official document register.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	return readSettings(ctx, s.pool, false)
}

func readSettings(ctx context.Context, q querier, lock bool) (Settings, error) {
	sql := `SELECT registration_index, administration, name, status FROM odr_settings WHERE id = 1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var st Settings
	err := q.QueryRow(ctx, sql).Scan(&st.Index, &st.Administration, &st.Name, &st.Status)
	if err != nil {
		return st, postgis.Translate(err, "documents: register settings")
	}
	return st, nil
}

// SetSettings changes the registration index, the administration's name and
// the status. Name is derived (Art. 27) and ignored. An archived register
// is never reopened (Art. 23(5): archived when the administration is
// closed down).
func (s *Store) SetSettings(ctx context.Context, st Settings) (Settings, error) {
	st.Index = strings.TrimSpace(st.Index)
	st.Administration = strings.Join(strings.Fields(st.Administration), " ")
	st.Status = strings.TrimSpace(st.Status)
	if !indexRE.MatchString(st.Index) {
		return Settings{}, invalid(fmt.Sprintf("index: %q is not a registration index (1 to 20 Latin letters or digits, the register's number in the register of registers)", short(st.Index)),
			fmt.Sprintf("индекс: %q не е регистрационен индекс (от 1 до 20 латински букви или цифри, номерът на регистъра в регистъра на регистрите)", short(st.Index)))
	}
	if st.Administration == "" {
		return Settings{}, invalid("administration: the name of the administration is required",
			"администрация: наименованието на администрацията е задължително")
	}
	if st.Status == "" {
		st.Status = "active"
	}
	if st.Status != "active" && st.Status != "archived" {
		return Settings{}, invalid(fmt.Sprintf("status: %q is not one of active, archived", short(st.Status)),
			fmt.Sprintf("статус: %q не е от active, archived", short(st.Status)))
	}
	var out Settings
	err := s.tx(ctx, func(tx pgx.Tx) error {
		old, err := readSettings(ctx, tx, true)
		if err != nil {
			return err
		}
		if old.Status == "archived" && st.Status != "archived" {
			return conflict("status: the register is archived and is never reopened (Art. 23(5))",
				"статус: регистърът е архивен и не се възобновява (чл. 23, ал. 5)")
		}
		_, err = tx.Exec(ctx, `UPDATE odr_settings SET registration_index = $1, administration = $2, status = $3 WHERE id = 1`,
			st.Index, st.Administration, st.Status)
		if err != nil {
			return postgis.Translate(err, "documents: save register settings")
		}
		out, err = readSettings(ctx, tx, false)
		return err
	})
	return out, err
}

// noRows reports a missing row.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

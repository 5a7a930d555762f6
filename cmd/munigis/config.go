package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"munigis/accounts"
	"munigis/internal/postgis"
	"munigis/workdays"
)

// Config is every setting munigis reads, from MUNIGIS_* variables and
// DATABASE_URL. It is built here and passed down as values; no other
// package reads the environment.
type Config struct {
	DatabaseURL    string
	Addr           string
	RequestTimeout time.Duration
	DBMaxConns     int32
	// DBParallelWorkers is max_parallel_workers_per_gather for the
	// server's connections (0: parallel query off).
	DBParallelWorkers int
	SecureCookies     bool
	SessionIdle       time.Duration
	SessionMax        time.Duration
	// TileCacheMB bounds the tile cache; 0 turns it off.
	TileCacheMB int
	// TileMaxAge is the Cache-Control max-age of public tiles.
	TileMaxAge time.Duration
	// MaxFileMB is the largest document file accepted (Art. 69(3) p. 4(б):
	// the limit "set by the authority").
	MaxFileMB int
	// TrackPerMinute limits the citizen-tracking requests per address.
	TrackPerMinute int
	// DaysOff and WorkingDays are the days the Council of Ministers (or
	// the mayor) declares off or working, beyond the public holidays:
	// deadlines in working days count them.
	DaysOff, WorkingDays []time.Time
	LogFormat            string
	LogLevel             slog.Level
}

func loadConfig() (Config, error) {
	c := Config{
		Addr:           env("MUNIGIS_ADDR", ":8080"),
		RequestTimeout: 30 * time.Second,
		DBMaxConns:     16,
		SessionIdle:    8 * time.Hour,
		SessionMax:     24 * time.Hour,
		TileCacheMB:    256,
		TileMaxAge:     time.Minute,
		MaxFileMB:      20,
		TrackPerMinute: 10,
		LogFormat:      env("MUNIGIS_LOG_FORMAT", "text"),
	}
	if s := os.Getenv("MUNIGIS_MAX_FILE_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1024 {
			return c, fmt.Errorf("MUNIGIS_MAX_FILE_MB=%q: give the largest document file in MB, from 1 to 1024", s)
		}
		c.MaxFileMB = n
	}
	for _, v := range []struct {
		name string
		to   *[]time.Time
	}{{"MUNIGIS_DAYS_OFF", &c.DaysOff}, {"MUNIGIS_WORKING_DAYS", &c.WorkingDays}} {
		for _, f := range strings.FieldsFunc(os.Getenv(v.name), func(r rune) bool { return r == ',' || r == ' ' }) {
			d, err := time.Parse(time.DateOnly, f)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a date; give dates as YYYY-MM-DD separated by commas, such as 2026-12-28,2026-12-29", v.name, f)
			}
			*v.to = append(*v.to, d)
		}
	}
	if s := os.Getenv("MUNIGIS_TRACK_PER_MINUTE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 10000 {
			return c, fmt.Errorf("MUNIGIS_TRACK_PER_MINUTE=%q: give how many case-tracking requests one address may make a minute (1 to 10000)", s)
		}
		c.TrackPerMinute = n
	}
	if s := os.Getenv("MUNIGIS_TILE_CACHE_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1<<20 {
			return c, fmt.Errorf("MUNIGIS_TILE_CACHE_MB=%q: give the tile cache size in MB (0 turns it off)", s)
		}
		c.TileCacheMB = n
	}
	if s := os.Getenv("MUNIGIS_TILE_MAX_AGE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second {
			return c, fmt.Errorf("MUNIGIS_TILE_MAX_AGE=%q: give a duration of at least 1s, such as 60s", s)
		}
		c.TileMaxAge = d
	}
	if s := os.Getenv("MUNIGIS_REQUEST_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("MUNIGIS_REQUEST_TIMEOUT=%q: give a duration such as 30s", s)
		}
		c.RequestTimeout = d
	}
	if s := os.Getenv("MUNIGIS_DB_MAX_CONNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 90 {
			return c, fmt.Errorf("MUNIGIS_DB_MAX_CONNS=%q: give a number from 1 to 90 (below PostgreSQL's max_connections)", s)
		}
		c.DBMaxConns = int32(n)
	}
	if s := os.Getenv("MUNIGIS_DB_PARALLEL_WORKERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 64 {
			return c, fmt.Errorf("MUNIGIS_DB_PARALLEL_WORKERS=%q: give a number from 0 (parallel query off, the default) to 64", s)
		}
		c.DBParallelWorkers = n
	}
	switch s := os.Getenv("MUNIGIS_SECURE_COOKIES"); s {
	case "", "0", "false":
	case "1", "true":
		c.SecureCookies = true
	default:
		return c, fmt.Errorf("MUNIGIS_SECURE_COOKIES=%q: use true or false", s)
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"MUNIGIS_SESSION_IDLE", &c.SessionIdle}, {"MUNIGIS_SESSION_MAX", &c.SessionMax}} {
		if s := os.Getenv(d.name); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil || v < time.Minute {
				return c, fmt.Errorf("%s=%q: give a duration of at least 1m, such as 8h", d.name, s)
			}
			*d.dst = v
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("MUNIGIS_LOG_FORMAT=%q: use text or json", c.LogFormat)
	}
	if s := os.Getenv("MUNIGIS_LOG_LEVEL"); s != "" {
		if err := c.LogLevel.UnmarshalText([]byte(s)); err != nil {
			return c, fmt.Errorf("MUNIGIS_LOG_LEVEL=%q: use debug, info, warn or error", s)
		}
	}
	u, err := postgis.ResolveURL()
	if err != nil {
		return c, err
	}
	c.DatabaseURL = u
	return c, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// calendar is the working-day calendar: the public holidays and the days
// declared off or working.
func (c Config) calendar() *workdays.Calendar {
	cal := workdays.Bulgaria()
	for _, d := range c.DaysOff {
		cal.DayOff(d)
	}
	for _, d := range c.WorkingDays {
		cal.WorkingDay(d)
	}
	return cal
}

func (c Config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// open connects to the configured database. Commands that run long
// statements (import, demo) pass statementTimeout 0.
func (c Config) open(ctx context.Context, statementTimeout time.Duration) (*pgxpool.Pool, error) {
	return postgis.Open(ctx, postgis.Config{URL: c.DatabaseURL, StatementTimeout: statementTimeout,
		MaxConns: c.DBMaxConns, AppName: "munigis"})
}

// connect loads the configuration and opens the database for a command
// that may run long statements (import, demo, migrate): no statement
// timeout.
func connect(ctx context.Context) (*pgxpool.Pool, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	return cfg.open(ctx, 0)
}

// accounts returns the account store with the configured session lifetimes.
func (c Config) accounts(pool *pgxpool.Pool) *accounts.Store {
	return accounts.NewStore(pool, accounts.Config{SessionIdle: c.SessionIdle, SessionMax: c.SessionMax})
}

func version() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = s.Value[:12]
			}
		}
	}
	return v
}

package demo

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"

	"munigis"
	"munigis/spatial"
)

// Defaults and limits of Options.
const (
	DefaultParcels = 20000
	DefaultSeed    = 1
	// MaxParcels bounds a load to what fits a demo database (about 60 M
	// rows and a few tens of GB at the limit).
	MaxParcels = 10_000_000
)

// Actor is the munigis.actor the demo's features are created by; it is also
// how Load tells its own data from anyone else's.
const Actor = "demo"

// Options says what municipality to generate.
type Options struct {
	// Parcels is the exact number of land parcels; 0 means DefaultParcels.
	// Everything else (quarters, streets, networks, the land around the
	// town) grows with it.
	Parcels int
	// Seed picks the town; 0 means DefaultSeed. The same options give the
	// same data, byte for byte (feature ids and timestamps aside).
	Seed int64
	// EKATTE is the settlement code that starts every cadastral identifier;
	// "" means DefaultEKATTE. It must have a valid check digit. For the
	// province centres and a few more towns the demo is put where the town
	// is; any other code gets a stable spot in central Bulgaria.
	EKATTE string
	// Progress draws a progress bar per layer, counted in parcels, on out.
	Progress bool
	// Replace deletes an earlier demo load first. Without it Load refuses
	// when the built-in layers hold any features, so a mistyped command
	// cannot wipe anything; with it Load still refuses when they hold
	// features the demo did not create.
	Replace bool
	// RegisterEntries sizes the register data (demo/registers.go): 0 gives
	// the default rates (≈ 2 % of the parcels municipal property, a
	// building permit per 40 parcels, …), N > 0 scales them to about N
	// entries in all (the benchmark asks for 200,000), -1 loads none.
	RegisterEntries int
}

func (o Options) withDefaults() (Options, error) {
	if o.Parcels == 0 {
		o.Parcels = DefaultParcels
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.EKATTE == "" {
		o.EKATTE = DefaultEKATTE
	}
	if o.Parcels < 0 || o.Parcels > MaxParcels {
		return o, munigis.Errorf(munigis.Invalid, "demo: the number of parcels must be between 1 and %d", MaxParcels)
	}
	if !spatial.ValidEKATTE(o.EKATTE) {
		return o, munigis.Errorf(munigis.Invalid, "demo: %q is not a valid EKATTE code (5 digits, the last a check digit)", o.EKATTE)
	}
	return o, nil
}

// LayerCount is the number of features loaded into one layer.
type LayerCount struct {
	Layer   string
	Count   int64
	Elapsed time.Duration // generating and inserting them
}

// Summary reports a load.
type Summary struct {
	EKATTE string
	// Town is the settlement's name, "" when the demo does not know it.
	Town   string
	Seed   int64
	Layers []LayerCount // in load order
	// Registers counts the register data (none with RegisterEntries -1).
	Registers RegisterCounts
	Elapsed   time.Duration
}

// Count returns the features loaded into layer.
func (s Summary) Count(layer string) int64 {
	for _, l := range s.Layers {
		if l.Layer == layer {
			return l.Count
		}
	}
	return 0
}

// Total returns the features loaded into all layers.
func (s Summary) Total() int64 {
	var n int64
	for _, l := range s.Layers {
		n += l.Count
	}
	return n
}

// String is a small table for the command line.
func (s Summary) String() string {
	var b strings.Builder
	name := s.Town
	if name == "" {
		name = "ЕКАТТЕ " + s.EKATTE
	}
	fmt.Fprintf(&b, "demo municipality %s (%s), seed %d, in %s\n", name, s.EKATTE, s.Seed, s.Elapsed.Round(time.Millisecond))
	for _, l := range s.Layers {
		fmt.Fprintf(&b, "  %-20s %10d  %8s\n", l.Layer, l.Count, l.Elapsed.Round(10*time.Millisecond))
	}
	fmt.Fprintf(&b, "  %-20s %10d\n", "total", s.Total())
	return b.String()
}

// Layers returns the names of the built-in layers Load fills, in order.
func Layers() []string {
	out := make([]string, len(layerDefs))
	for i, d := range layerDefs {
		out[i] = d.name
	}
	return out
}

// Load generates the synthetic municipality opt describes and loads it into
// the built-in layers in one transaction, so a failed or cancelled load
// leaves the database as it was. Features are created by the actor "demo".
// Rows are generated while they are sent, one COPY per layer, so memory
// stays flat however many parcels are asked for. After the commit the
// tables are analysed, since their statistics are suddenly all wrong.
//
// Load returns Invalid for bad options and Conflict when the layers already
// hold features (see Options.Replace).
func Load(ctx context.Context, pool *pgxpool.Pool, opt Options, out io.Writer) (Summary, error) {
	start := time.Now()
	opt, err := opt.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	pl := locate(opt.EKATTE)
	sum := Summary{EKATTE: opt.EKATTE, Town: pl.name, Seed: opt.Seed}

	tx, err := pool.Begin(ctx)
	if err != nil {
		return sum, fmt.Errorf("demo: load: %w", err)
	}
	defer tx.Rollback(context.Background())
	// Local to the transaction: created_by is "demo", and a pool made for
	// serving (with a statement timeout) may still run a long load.
	if _, err := tx.Exec(ctx, `SELECT set_config('munigis.actor', $1, true), set_config('statement_timeout', '0', true)`, Actor); err != nil {
		return sum, fmt.Errorf("demo: load: %w", err)
	}
	deleted, err := prepare(ctx, tx, opt.Replace)
	if err != nil {
		return sum, err
	}

	var e0, n0 float64
	if err := tx.QueryRow(ctx, `SELECT ST_X(p), ST_Y(p)
		FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 7801) AS p) c`,
		pl.lon, pl.lat).Scan(&e0, &n0); err != nil {
		return sum, fmt.Errorf("demo: load: centre: %w", err)
	}
	t := newTown(opt.Seed, opt.EKATTE, opt.Parcels, newFrame(opt.Seed, e0, n0))

	for i := range layerDefs {
		def := &layerDefs[i]
		e := &emitter{parcels: opt.Parcels}
		e.s.f = &t.fr
		var bar *progressbar.ProgressBar
		if opt.Progress && out != nil {
			bar = progressbar.NewOptions64(int64(opt.Parcels),
				progressbar.OptionSetWriter(out),
				progressbar.OptionSetDescription(fmt.Sprintf("[%2d/%d] %-19s", i+1, len(layerDefs), def.name)),
				progressbar.OptionSetItsString("parcels"),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }))
			e.report = func(n int64) { _ = bar.Set64(n) }
		}
		began := time.Now()
		n, err := copyLayer(ctx, tx, def, rowSeq(t, def, e))
		if bar != nil {
			if err == nil {
				_ = bar.Finish()
			} else {
				fmt.Fprintln(out)
			}
		}
		if err != nil {
			return sum, fmt.Errorf("demo: load: %s: %w", def.name, err)
		}
		sum.Layers = append(sum.Layers, LayerCount{def.name, n, time.Since(began)})
	}
	if sum.Registers, err = loadRegisters(ctx, tx, opt, pl.name, demoToday()); err != nil {
		return sum, err
	}
	if err := tx.Commit(ctx); err != nil {
		return sum, fmt.Errorf("demo: load: commit: %w", err)
	}

	tables := make([]string, 0, len(layerDefs)+1)
	for _, d := range layerDefs {
		tables = append(tables, pgx.Identifier{"features", d.name}.Sanitize())
	}
	if deleted {
		tables = append(tables, "feature_versions")
	}
	if _, err := pool.Exec(ctx, "ANALYZE "+strings.Join(tables, ", ")); err != nil {
		return sum, fmt.Errorf("demo: load: analyze: %w", err)
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// prepare checks the layers before a load and, with replace, deletes the
// previous demo features (their history triggers keep them as versions).
// It reports whether it deleted anything.
func prepare(ctx context.Context, tx pgx.Tx, replace bool) (bool, error) {
	parts := make([]string, len(layerDefs))
	for i, d := range layerDefs {
		tbl := pgx.Identifier{"features", d.name}.Sanitize()
		parts[i] = fmt.Sprintf(`SELECT %d AS i, EXISTS (SELECT 1 FROM %s) AS has,
			EXISTS (SELECT 1 FROM %s WHERE created_by <> $1) AS foreign`, i, tbl, tbl)
	}
	rows, err := tx.Query(ctx, strings.Join(parts, " UNION ALL ")+" ORDER BY i", Actor)
	if err != nil {
		return false, fmt.Errorf("demo: load: check layers: %w", err)
	}
	var loaded []string
	var foreign string
	for rows.Next() {
		var i int
		var has, other bool
		if err := rows.Scan(&i, &has, &other); err != nil {
			return false, fmt.Errorf("demo: load: check layers: %w", err)
		}
		if has {
			loaded = append(loaded, layerDefs[i].name)
		}
		if other && foreign == "" {
			foreign = layerDefs[i].name
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("demo: load: check layers: %w", err)
	}
	switch {
	case foreign != "":
		return false, munigis.Errorf(munigis.Conflict,
			"demo: layer %s holds features the demo did not create; the demo only ever replaces its own data", foreign)
	case len(loaded) > 0 && !replace:
		return false, munigis.Errorf(munigis.Conflict,
			"demo: the built-in layers already hold the demo municipality (%s); replace it explicitly to load it again", strings.Join(loaded, ", "))
	}
	for _, name := range loaded {
		if _, err := tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{"features", name}.Sanitize()); err != nil {
			return false, fmt.Errorf("demo: load: delete %s: %w", name, err)
		}
	}
	return len(loaded) > 0, nil
}

// Empty reports whether the parcel layer has no features: `munigis demo
// --if-empty` loads the demo only then.
func Empty(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var has bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM features.cadastre_parcels)`).Scan(&has); err != nil {
		return false, fmt.Errorf("demo: empty: %w", err)
	}
	return !has, nil
}

// newFrame centres the town on (e0, n0), rounded to the metre so that small
// differences between PROJ versions do not move it, and turns its street
// grid by up to 25° either way: real towns are rarely north-up.
func newFrame(seed int64, e0, n0 float64) frame {
	var pcg rand.PCG
	pcg.Seed(uint64(seed), key(streamGrid, 1))
	angle := (rand.New(&pcg).Float64()*50 - 25) * math.Pi / 180
	s, c := math.Sincos(angle)
	return frame{e0: math.Round(e0), n0: math.Round(n0), cos: c, sin: s}
}

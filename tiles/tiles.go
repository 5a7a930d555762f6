package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/maptile"

	"munigis"
	"munigis/layers"
)

// Config tunes tile building and caching. The zero value of each field
// takes the default named beside it.
type Config struct {
	// Extent is the tile's coordinate extent (4096).
	Extent int
	// Buffer is the margin drawn around the tile, in extent units (64).
	Buffer int
	// MaxFeatures caps the features of one layer in a generalised tile
	// (below the detail zoom), keeping the biggest (5,000: about 420 KB of
	// parcels with all their attributes).
	MaxFeatures int
	// DetailMaxFeatures caps them at and above the detail zoom, where
	// nothing is dropped by size, as a safety (50,000).
	DetailMaxFeatures int
	// DetailZoom is the zoom from which layers are served at full detail
	// (14); below it they are generalised. LayerDetailZoom overrides it
	// per layer name.
	DetailZoom      int
	LayerDetailZoom map[string]int
	// Timeout bounds one tile query (5 s).
	Timeout time.Duration
	// QueueTimeout bounds the wait for one of the MaxConcurrent query
	// slots (20 s). The wait is cheap (no connection is held), so a burst
	// of slow low-zoom tiles queues instead of failing; only a backlog
	// longer than this answers "busy".
	QueueTimeout time.Duration
	// MaxConcurrent caps the tile queries running at once (3/4 of the
	// pool's connections, at least 1).
	MaxConcurrent int
	// MaxConcurrentGeneral caps, within MaxConcurrent, the generalised
	// (below the detail zoom) queries running at once (a quarter of
	// MaxConcurrent, at least 1). One low-zoom tile of a big layer costs
	// a hundred detail tiles; a dozen of them sharing two cores each ran
	// past Timeout under load, where a few at a time finish well inside
	// it and the rest wait (QueueTimeout) without holding a connection.
	MaxConcurrentGeneral int
	// CacheBytes bounds the tile cache (256 MB); negative disables it.
	CacheBytes int64
	// CatalogMaxAge bounds how long the layer catalog is kept in memory
	// when no catalog notification arrives (10 s).
	CatalogMaxAge time.Duration
}

func (c *Config) defaults(pool *pgxpool.Pool) {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Extent, 4096)
	if c.Buffer < 0 {
		c.Buffer = 0
	} else if c.Buffer == 0 {
		c.Buffer = 64
	}
	def(&c.MaxFeatures, 5000)
	def(&c.DetailMaxFeatures, 50000)
	def(&c.DetailZoom, 14)
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = 20 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = max(1, int(pool.Config().MaxConns)*3/4)
	}
	if c.MaxConcurrentGeneral <= 0 {
		c.MaxConcurrentGeneral = max(1, c.MaxConcurrent/4)
	}
	c.MaxConcurrentGeneral = min(c.MaxConcurrentGeneral, c.MaxConcurrent)
	if c.CacheBytes == 0 {
		c.CacheBytes = 256 << 20
	}
	if c.CatalogMaxAge <= 0 {
		c.CatalogMaxAge = 10 * time.Second
	}
}

// LayerSpec is one layer of a tile with the attributes to include (those
// the viewer may see: access.Viewer.Attributes).
type LayerSpec struct {
	Layer      layers.Layer
	Attributes []layers.Attribute
}

// Request asks for one tile of one or more layers.
type Request struct {
	Layers []LayerSpec
	Tile   maptile.Tile
}

// Tile is an encoded vector tile. Data is empty when the tile holds no
// feature.
type Tile struct {
	Data []byte
	// ETag and GzipETag are strong entity tags (quoted) of Data and of
	// Data gzipped.
	ETag, GzipETag string
	// Cached is true when the tile came from the cache.
	Cached bool
	// gz compresses Data on first use (Gzipped): with the cache off, a
	// client that does not ask for gzip costs no compression at all — on 2
	// cores gzipping every z16 tile took a fifth of the CPU that PostgreSQL
	// needed for building it. Copies of a Tile share it.
	gz *lazyGzip
}

type lazyGzip struct {
	once sync.Once
	data []byte
}

// Gzipped returns Data gzipped, compressing it once per tile however many
// requests share it.
func (t Tile) Gzipped() []byte {
	if t.gz == nil || len(t.Data) == 0 {
		return nil
	}
	t.gz.once.Do(func() {
		var buf bytes.Buffer
		w := gzipPool.Get().(*gzip.Writer)
		w.Reset(&buf)
		w.Write(t.Data)
		w.Close()
		gzipPool.Put(w)
		t.gz.data = buf.Bytes()
	})
	return t.gz.data
}

// Tiler builds and caches tiles. It is safe for concurrent use.
type Tiler struct {
	pool  *pgxpool.Pool
	store *layers.Store
	cfg   Config
	cache *Cache
	sem   chan struct{}
	// semGeneral holds the generalised queries' slots, taken before sem.
	semGeneral chan struct{}

	flightMu sync.Mutex
	flight   map[string]*call

	catMu sync.RWMutex
	cat   map[string]layers.Layer
	catAt time.Time

	// Sync's markers: syncID tells this process's markers from another's
	// on the shared channel.
	syncMu    sync.Mutex
	syncID    string
	syncSeq   uint64
	syncWait  map[string]chan struct{}
	listening bool
}

type call struct {
	done chan struct{}
	tile Tile
	err  error
}

// New returns a Tiler reading features through pool and the catalog
// through store.
func New(pool *pgxpool.Pool, store *layers.Store, cfg Config) *Tiler {
	cfg.defaults(pool)
	var c *Cache
	if cfg.CacheBytes > 0 {
		c = NewCache(cfg.CacheBytes)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return &Tiler{pool: pool, store: store, cfg: cfg, cache: c,
		sem: make(chan struct{}, cfg.MaxConcurrent), semGeneral: make(chan struct{}, cfg.MaxConcurrentGeneral),
		flight: map[string]*call{},
		syncID: hex.EncodeToString(id)}
}

// Cache returns the tiler's cache (nil when disabled).
func (t *Tiler) Cache() *Cache { return t.cache }

// InvalidateAll drops every cached tile and the cached catalog (the
// tiler's and its store's).
func (t *Tiler) InvalidateAll() {
	if t.cache != nil {
		t.cache.InvalidateAll()
	}
	// The store keeps the catalog in memory too; a catalog notification
	// arrives here, so it is dropped with the tiles.
	t.store.InvalidateCatalog()
	t.catMu.Lock()
	t.cat = nil
	t.catMu.Unlock()
}

// Layer returns the catalog entry called name from an in-memory copy of
// the catalog, refreshed on catalog notifications (see Listen) and at least
// every Config.CatalogMaxAge. A missing layer is munigis.NotFound.
func (t *Tiler) Layer(ctx context.Context, name string) (layers.Layer, error) {
	// Every tile request reads the catalog: readers share the lock, and
	// only a reload takes it alone.
	t.catMu.RLock()
	cat := t.cat
	if cat != nil && time.Since(t.catAt) > t.cfg.CatalogMaxAge {
		cat = nil
	}
	t.catMu.RUnlock()
	if cat == nil {
		t.catMu.Lock()
		if t.cat == nil || time.Since(t.catAt) > t.cfg.CatalogMaxAge {
			all, err := t.store.Layers(ctx)
			if err != nil {
				t.catMu.Unlock()
				return layers.Layer{}, err
			}
			t.cat = make(map[string]layers.Layer, len(all))
			for _, l := range all {
				t.cat[l.Name] = l
			}
			t.catAt = time.Now()
		}
		cat = t.cat
		t.catMu.Unlock()
	}
	l, ok := cat[name]
	if !ok {
		return layers.Layer{}, munigis.Errorf(munigis.NotFound, "layer %q does not exist", name)
	}
	return l, nil
}

// ParseTile checks z/x/y as they come in a URL: z from 0 to 24, x and y
// from 0 to 2^z-1. Anything else is munigis.Invalid.
func ParseTile(zs, xs, ys string) (maptile.Tile, error) {
	z, err := strconv.ParseUint(zs, 10, 8)
	if err != nil || z > maxZoom {
		return maptile.Tile{}, munigis.Errorf(munigis.Invalid, "zoom %q must be a whole number from 0 to %d", zs, maxZoom)
	}
	n := uint64(1) << z
	x, errx := strconv.ParseUint(xs, 10, 32)
	y, erry := strconv.ParseUint(ys, 10, 32)
	if errx != nil || erry != nil || x >= n || y >= n {
		return maptile.Tile{}, munigis.Errorf(munigis.Invalid, "tile %s/%s/%s does not exist: x and y must be whole numbers from 0 to %d at zoom %d", zs, xs, ys, n-1, z)
	}
	return maptile.New(uint32(x), uint32(y), maptile.Zoom(z)), nil
}

// key is the cache key of r: the tile, then each layer with its attributes.
func (r Request) key() string {
	// Appended by hand: this runs for every tile request, cached or not.
	b := make([]byte, 0, 64)
	b = strconv.AppendUint(b, uint64(r.Tile.Z), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(r.Tile.X), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(r.Tile.Y), 10)
	for _, s := range r.Layers {
		b = append(b, '|')
		b = append(b, s.Layer.Name...)
		b = append(b, ':')
		for i, a := range s.Attributes {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, a.Name...)
		}
	}
	return string(b)
}

// Tile returns the tile r asks for, from the cache or built in PostGIS.
func (t *Tiler) Tile(ctx context.Context, r Request) (Tile, error) {
	if len(r.Layers) == 0 {
		return Tile{}, munigis.Errorf(munigis.Invalid, "a tile needs at least one layer")
	}
	key := r.key()
	if tile, ok := t.cache.Get(key); ok {
		tile.Cached = true
		return tile, nil
	}
	t.flightMu.Lock()
	if c, ok := t.flight[key]; ok {
		t.flightMu.Unlock()
		select {
		case <-c.done:
			return c.tile, c.err
		case <-ctx.Done():
			return Tile{}, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	t.flight[key] = c
	t.flightMu.Unlock()
	defer func() {
		t.flightMu.Lock()
		delete(t.flight, key)
		t.flightMu.Unlock()
		close(c.done)
	}()
	// Detached from the caller's cancellation: others may be waiting for
	// this tile, and a finished tile is worth caching even if the client
	// who asked first has gone. Config.Timeout still bounds it.
	c.tile, c.err = t.build(context.WithoutCancel(ctx), r, key)
	return c.tile, c.err
}

func (t *Tiler) build(ctx context.Context, r Request, key string) (Tile, error) {
	names := make([]string, len(r.Layers))
	for i, s := range r.Layers {
		names[i] = s.Layer.Name
	}
	var st stamp
	if t.cache != nil {
		st = t.cache.stamp(names)
	}
	data, err := t.Render(ctx, r)
	if err != nil {
		return Tile{}, err
	}
	tile := encode(data)
	if t.cache != nil {
		t.cache.put(key, names, uint32(r.Tile.Z), r.Tile.X, r.Tile.Y, tile, st)
	}
	return tile, nil
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

func encode(data []byte) Tile {
	sum := sha256.Sum256(data)
	tag := hex.EncodeToString(sum[:16])
	return Tile{Data: data, ETag: `"` + tag + `"`, GzipETag: `"` + tag + `-gz"`, gz: &lazyGzip{}}
}

// Render builds the tile in PostGIS, bypassing the cache.
func (t *Tiler) Render(ctx context.Context, r Request) ([]byte, error) {
	q, args, general := t.sql(r)
	if q == "" {
		return nil, nil
	}
	wait, cancelWait := context.WithTimeout(ctx, t.cfg.QueueTimeout)
	defer cancelWait()
	busy := func() error {
		return munigis.Wrap(munigis.Unavailable, wait.Err(), "the server is busy building tiles; try again")
	}
	if general {
		select {
		case t.semGeneral <- struct{}{}:
		case <-wait.Done():
			return nil, busy()
		}
		defer func() { <-t.semGeneral }()
	}
	select {
	case t.sem <- struct{}{}:
	case <-wait.Done():
		return nil, busy()
	}
	defer func() { <-t.sem }()
	// The query's own deadline starts once it has a slot.
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	// An unnamed statement with a cached description: one round trip, and
	// PostgreSQL plans it for these very z/x/y. A named prepared statement
	// would switch to a generic plan after five runs, and no one plan suits
	// every zoom: on 1,000,000 parcels a generic plan took a z11 tile from
	// 150 ms to 2.6 s and a z9 tile past the 5 s timeout.
	args = append([]any{pgx.QueryExecModeCacheDescribe}, args...)
	var data []byte
	if err := t.pool.QueryRow(ctx, q, args...).Scan(&data); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, munigis.Wrap(munigis.Unavailable, err, "the tile took longer than %s to build and was stopped", t.cfg.Timeout)
		}
		return nil, fmt.Errorf("tiles: %s: %w", r.key(), err)
	}
	return data, nil
}

// pixel is the width of one pixel at zoom z in EPSG:3857 metres: a tile
// drawn 512 pixels wide, as MapLibre draws vector tiles.
func pixel(z maptile.Zoom) float64 {
	return 2 * worldHalf / float64(uint64(1)<<z) / 512
}

// SQL returns the statement building r and its arguments; "" when no layer
// of r is shown at r's zoom. The text depends only on the layers, their
// attributes and whether each is generalised at this zoom, so that pgx's
// statement cache prepares it once.
func (t *Tiler) SQL(r Request) (string, []any) {
	q, args, _ := t.sql(r)
	return q, args
}

// sql is SQL, also telling whether a layer is generalised at r's zoom.
func (t *Tiler) sql(r Request) (string, []any, bool) {
	z := int(r.Tile.Z)
	var parts []string
	general := false
	for _, s := range r.Layers {
		l := s.Layer
		if !l.Local() || z < l.MinZoom || z > l.MaxZoom {
			continue
		}
		dz := t.cfg.DetailZoom
		if v, ok := t.cfg.LayerDetailZoom[l.Name]; ok {
			dz = v
		}
		g := z < dz
		general = general || g
		parts = append(parts, t.layerSQL(l, s.Attributes, g))
	}
	if len(parts) == 0 {
		return "", nil, false
	}
	args := []any{z, int64(r.Tile.X), int64(r.Tile.Y)}
	if general {
		args = append(args, pixel(r.Tile.Z))
	}
	return "SELECT " + strings.Join(parts, "\n || "), args, general
}

// layerSQL is one layer's part of the tile statement: $1, $2, $3 are z, x,
// y and $4 the pixel size (only when general).
func (t *Tiler) layerSQL(l layers.Layer, attrs []layers.Attribute, general bool) string {
	const env = `ST_TileEnvelope($1::int, $2::int, $3::int)`
	margin := strconv.FormatFloat(float64(t.cfg.Buffer)/float64(t.cfg.Extent), 'g', -1, 64)
	ext, buf := strconv.Itoa(t.cfg.Extent), strconv.Itoa(t.cfg.Buffer)
	points := strings.HasSuffix(l.Type.GeometryType, "Point")

	geom := "geom_3857"
	if general && !points {
		geom = "ST_Simplify(geom_3857, $4::float8 / 2, true)"
	}
	var cols strings.Builder
	for _, a := range attrs {
		id := pgx.Identifier{a.Name}.Sanitize()
		cols.WriteString(", ")
		cols.WriteString(id)
		if a.Type == layers.Date {
			cols.WriteString("::text")
		}
		cols.WriteString(" AS ")
		cols.WriteString(id)
	}
	where := "geom_3857 && ST_TileEnvelope($1::int, $2::int, $3::int, margin => " + margin + ")"
	order, limit := "", t.cfg.DetailMaxFeatures
	if general {
		limit = t.cfg.MaxFeatures
	}
	if general && !points {
		// munigis_geom_size (migration 000006) is indexed: a low-zoom
		// tile reads only the features of at least a pixel, biggest first.
		where += "\n\t\t\tAND public.munigis_geom_size(geom_3857) >= $4::float8"
		order = "\n\t\tORDER BY public.munigis_geom_size(geom_3857) DESC"
	}
	name := strings.ReplaceAll(l.Name, "'", "''")
	return fmt.Sprintf(`(SELECT coalesce(ST_AsMVT(t, '%s', %s, '_geom', '_id'), ''::bytea) FROM (
		SELECT id AS _id, ST_AsMVTGeom(%s, %s, %s, %s, true) AS _geom%s
		FROM %s
		WHERE %s%s
		LIMIT %d) t WHERE t._geom IS NOT NULL)`,
		name, ext, geom, env, ext, buf, cols.String(), l.Table(), where, order, limit)
}

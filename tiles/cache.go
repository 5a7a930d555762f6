package tiles

import (
	"container/list"
	"math"
	"sync"
)

// Cache is an in-memory tile cache bounded in bytes. It is safe for
// concurrent use.
type Cache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	lru     *list.List // of *entry, most recent first
	entries map[string]*entry
	// byLayer indexes entries by layer name, zoom and tile.
	byLayer map[string]*layerIndex
	// gen counts invalidations per layer; all counts InvalidateAll calls.
	gen map[string]uint64
	all uint64
}

type tileXY struct{ x, y uint32 }

type layerIndex struct {
	n   int
	byZ [maxZoom + 1]map[tileXY][]*entry
}

type entry struct {
	key     string
	layers  []string
	z, x, y uint32
	tile    Tile
	size    int64
	elem    *list.Element
}

// entryOverhead approximates the bookkeeping bytes of an entry.
const entryOverhead = 256

// NewCache returns a cache holding at most maxBytes of tiles.
func NewCache(maxBytes int64) *Cache {
	return &Cache{max: maxBytes, lru: list.New(), entries: map[string]*entry{},
		byLayer: map[string]*layerIndex{}, gen: map[string]uint64{}}
}

// Get returns the cached tile for key.
func (c *Cache) Get(key string) (Tile, bool) {
	if c == nil {
		return Tile{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return Tile{}, false
	}
	c.lru.MoveToFront(e.elem)
	return e.tile, true
}

// stamp is the invalidation state of a set of layers at one moment.
type stamp struct {
	all  uint64
	gens []uint64
}

func (c *Cache) stamp(names []string) stamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := stamp{all: c.all, gens: make([]uint64, len(names))}
	for i, n := range names {
		s.gens[i] = c.gen[n]
	}
	return s
}

// put stores t unless one of its layers was invalidated since s was taken.
func (c *Cache) put(key string, names []string, z, x, y uint32, t Tile, s stamp) {
	if c == nil || c.max <= 0 {
		return
	}
	// A cached tile is gzipped now, once, outside the lock: browsers ask
	// for gzip, and its size counts against the bound.
	size := int64(len(t.Data)+len(t.Gzipped())+len(key)) + entryOverhead
	if size > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.all != s.all {
		return
	}
	for i, n := range names {
		if c.gen[n] != s.gens[i] {
			return
		}
	}
	if old, ok := c.entries[key]; ok {
		c.remove(old)
	}
	e := &entry{key: key, layers: names, z: z, x: x, y: y, tile: t, size: size}
	e.elem = c.lru.PushFront(e)
	c.entries[key] = e
	c.size += size
	for _, n := range names {
		li := c.byLayer[n]
		if li == nil {
			li = &layerIndex{}
			c.byLayer[n] = li
		}
		if li.byZ[z] == nil {
			li.byZ[z] = map[tileXY][]*entry{}
		}
		li.byZ[z][tileXY{x, y}] = append(li.byZ[z][tileXY{x, y}], e)
		li.n++
	}
	for c.size > c.max {
		c.remove(c.lru.Back().Value.(*entry))
	}
}

// remove drops e; c.mu is held.
func (c *Cache) remove(e *entry) {
	c.lru.Remove(e.elem)
	delete(c.entries, e.key)
	c.size -= e.size
	for _, n := range e.layers {
		li := c.byLayer[n]
		if li == nil {
			continue
		}
		k := tileXY{e.x, e.y}
		list := li.byZ[e.z][k]
		for i, o := range list {
			if o == e {
				list = append(list[:i], list[i+1:]...)
				li.n--
				break
			}
		}
		if len(list) == 0 {
			delete(li.byZ[e.z], k)
		} else {
			li.byZ[e.z][k] = list
		}
		if li.n == 0 {
			delete(c.byLayer, n)
		}
	}
}

// Stats reports the number of cached tiles and their size in bytes.
func (c *Cache) Stats() (tiles int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.size
}

// InvalidateAll drops every cached tile (after a catalog change, or when
// notifications may have been missed).
func (c *Cache) InvalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all++
	c.lru.Init()
	c.entries = map[string]*entry{}
	c.byLayer = map[string]*layerIndex{}
	c.size = 0
}

// Invalidate drops the cached tiles containing layer that the EPSG:3857
// box [minx, miny, maxx, maxy] touches at any zoom, counting the tile
// buffer of buffer/extent of a tile's width on every side. It returns how
// many tiles it dropped.
func (c *Cache) Invalidate(layer string, minx, miny, maxx, maxy, bufferRatio float64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen[layer]++
	li := c.byLayer[layer]
	if li == nil {
		return 0
	}
	var doomed []*entry
	for z := 0; z <= maxZoom; z++ {
		m := li.byZ[z]
		if len(m) == 0 {
			continue
		}
		x0, y0, x1, y1 := tileRange(z, minx, miny, maxx, maxy, bufferRatio)
		if n := float64(x1-x0+1) * float64(y1-y0+1); n <= float64(len(m)) {
			for x := x0; x <= x1; x++ {
				for y := y0; y <= y1; y++ {
					doomed = append(doomed, m[tileXY{x, y}]...)
				}
			}
			continue
		}
		for k, es := range m {
			if k.x >= x0 && k.x <= x1 && k.y >= y0 && k.y <= y1 {
				doomed = append(doomed, es...)
			}
		}
	}
	n := 0
	for _, e := range doomed {
		if _, ok := c.entries[e.key]; ok {
			c.remove(e)
			n++
		}
	}
	return n
}

// Web Mercator constants.
const (
	worldHalf = 20037508.342789244
	maxZoom   = 24
)

// tileRange returns the tiles of zoom z whose buffered envelope touches the
// box, clamped to the grid.
func tileRange(z int, minx, miny, maxx, maxy, bufferRatio float64) (x0, y0, x1, y1 uint32) {
	n := math.Exp2(float64(z))
	w := 2 * worldHalf / n
	m := w * bufferRatio
	clamp := func(v float64) uint32 {
		if v < 0 || math.IsNaN(v) {
			return 0
		}
		if v > n-1 {
			return uint32(n - 1)
		}
		return uint32(v)
	}
	x0 = clamp(math.Floor((minx - m + worldHalf) / w))
	x1 = clamp(math.Floor((maxx + m + worldHalf) / w))
	y0 = clamp(math.Floor((worldHalf - (maxy + m)) / w))
	y1 = clamp(math.Floor((worldHalf - (miny - m)) / w))
	return
}

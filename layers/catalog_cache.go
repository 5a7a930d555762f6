package layers

import (
	"context"
	"slices"
	"sync"
	"time"
)

// catalogMaxAge bounds how long the in-memory catalog is trusted without a
// change notification.
const catalogMaxAge = 10 * time.Second

// catalogCache keeps the layer catalog in memory: every WMS, WFS and OGC API
// request starts by listing the layers the caller may read, and reading
// them (with their attribute schemas, as JSON) from the database cost a
// small map more than drawing it. The catalog changes rarely; this
// process's own changes drop the copy at once (CreateType, CreateLayer),
// and others' arrive as a notification (munigis serve wires the tile
// listener's catalog notification to InvalidateCatalog); without one the
// copy is read again after catalogMaxAge.
type catalogCache struct {
	mu  sync.Mutex
	ls  []Layer
	at  time.Time
	gen uint64
}

func (c *catalogCache) layers(ctx context.Context, load func(context.Context) ([]Layer, error)) ([]Layer, error) {
	c.mu.Lock()
	if c.ls != nil && time.Since(c.at) < catalogMaxAge {
		out := slices.Clone(c.ls)
		c.mu.Unlock()
		return out, nil
	}
	gen := c.gen
	c.mu.Unlock()
	ls, err := load(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// Keep it only if nothing changed while it was being read.
	if c.gen == gen {
		c.ls, c.at = ls, time.Now()
	}
	c.mu.Unlock()
	// Callers may filter the slice in place: never hand out the cached one.
	return slices.Clone(ls), nil
}

func (c *catalogCache) invalidate() {
	c.mu.Lock()
	c.ls = nil
	c.gen++
	c.mu.Unlock()
}

// InvalidateCatalog drops the in-memory catalog; the next Layers reads it
// from the database. Called when the database announces a catalog change.
func (s *Store) InvalidateCatalog() { s.cat.invalidate() }

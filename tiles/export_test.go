package tiles

import "github.com/paulmach/orb/maptile"

// PutForTest caches data for the tile of layers.
func PutForTest(c *Cache, layers []string, t maptile.Tile, data []byte) {
	key := Request{Tile: t}.key()
	for _, l := range layers {
		key += "|" + l
	}
	c.put(key, layers, uint32(t.Z), t.X, t.Y, encode(data), c.stamp(layers))
}

// HoldSlotsForTest takes every query slot of t, as slow tiles would, until
// release is called.
func HoldSlotsForTest(t *Tiler) (release func()) { return hold(t.sem) }

// HoldGeneralSlotsForTest takes every generalised-query slot of t, as slow
// low-zoom tiles would, until release is called.
func HoldGeneralSlotsForTest(t *Tiler) (release func()) { return hold(t.semGeneral) }

func hold(slots chan struct{}) (release func()) {
	for i := 0; i < cap(slots); i++ {
		slots <- struct{}{}
	}
	return func() {
		for i := 0; i < cap(slots); i++ {
			<-slots
		}
	}
}

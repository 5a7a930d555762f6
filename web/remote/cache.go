package remote

import (
	"container/list"
	"image"
	"sync"
	"time"
)

// cache is a least-recently-used map from a GetMap URL to its decoded image
// (or its failure), bounded by the bytes of the images it holds, each entry
// with its own expiry. Written here rather than taken from golang-lru,
// whose caches bound the number of entries, not their size: a 1024×768
// image weighs 12 times a 256×256 tile.
type cache struct {
	mu    sync.Mutex
	max   int64 // negative: off
	size  int64
	ll    *list.List // front = most recently used
	items map[string]*list.Element
}

type entry struct {
	key     string
	img     image.Image
	err     error // a remembered failure; img is nil
	bytes   int64
	expires time.Time
}

func newCache(max int64) *cache {
	return &cache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

// get returns the entry for key if it has not expired at now.
func (c *cache) get(key string, now time.Time) (image.Image, error, bool) {
	if c.max < 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, nil, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		c.remove(el)
		return nil, nil, false
	}
	c.ll.MoveToFront(el)
	return e.img, e.err, true
}

// put stores an image (err nil) or a failure (img nil) until expires,
// evicting the least recently used entries to stay within max. An entry
// bigger than the whole cache is not stored.
func (c *cache) put(key string, img image.Image, err error, bytes int64, expires time.Time) {
	if c.max < 0 || bytes > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	c.items[key] = c.ll.PushFront(&entry{key: key, img: img, err: err, bytes: bytes, expires: expires})
	c.size += bytes
	for c.size > c.max {
		c.remove(c.ll.Back())
	}
}

func (c *cache) remove(el *list.Element) {
	e := el.Value.(*entry)
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.size -= e.bytes
}

// len returns the number of entries, for tests.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

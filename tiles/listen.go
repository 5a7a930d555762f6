package tiles

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is the NOTIFY channel of migration 000006.
const Channel = "munigis_tiles"

// Listener follows the database's change notifications for a Tiler.
type Listener struct {
	ready     chan struct{}
	readyOnce sync.Once
	done      chan struct{}
	// Reconnects counts the connections made after the first.
	mu         sync.Mutex
	reconnects int
}

// Ready is closed once the listener first listens.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Done is closed when the listener has stopped (its context ended).
func (l *Listener) Done() <-chan struct{} { return l.done }

// Listen starts following NOTIFY munigis_tiles on a dedicated connection
// made from cfg (not taken from the pool; pool.Config().ConnConfig is
// fine), until ctx ends. Every (re)connection drops the whole cache first,
// since notifications sent while it was away are lost; a lost connection is
// retried with backoff up to 5 s.
func (t *Tiler) Listen(ctx context.Context, cfg *pgx.ConnConfig, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	l := &Listener{ready: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		backoff := 100 * time.Millisecond
		first := true
		for ctx.Err() == nil {
			err := t.listenOnce(ctx, cfg, l, first, log)
			if ctx.Err() != nil {
				return
			}
			first = false
			log.Warn("tile cache: lost the database notification connection; reconnecting", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}()
	return l
}

func (t *Tiler) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, l *Listener, first bool, log *slog.Logger) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	// Anything cached before now may have missed its notification.
	t.InvalidateAll()
	if !first {
		l.mu.Lock()
		l.reconnects++
		l.mu.Unlock()
		log.Info("tile cache: listening again; dropped every cached tile")
	}
	l.readyOnce.Do(func() { close(l.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		t.notified(n.Payload, log)
	}
}

// notification is the payload of migration 000006.
type notification struct {
	All   bool      `json:"all"`
	Layer string    `json:"layer"`
	BBox  []float64 `json:"bbox"`
}

func (t *Tiler) notified(payload string, log *slog.Logger) {
	var n notification
	if err := json.Unmarshal([]byte(payload), &n); err != nil || (!n.All && (n.Layer == "" || len(n.BBox) != 4)) {
		log.Warn("tile cache: unreadable notification; dropping every cached tile", "payload", payload)
		t.InvalidateAll()
		return
	}
	if n.All {
		t.InvalidateAll()
		return
	}
	if t.cache != nil {
		t.cache.Invalidate(n.Layer, n.BBox[0], n.BBox[1], n.BBox[2], n.BBox[3], float64(t.cfg.Buffer)/float64(t.cfg.Extent))
	}
}

package tiles

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
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
	t.setListening(true)
	defer t.setListening(false)
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

// notification is the payload of migration 000006, or of Sync.
type notification struct {
	All   bool      `json:"all"`
	Layer string    `json:"layer"`
	BBox  []float64 `json:"bbox"`
	Sync  string    `json:"sync"`
}

func (t *Tiler) notified(payload string, log *slog.Logger) {
	var n notification
	err := json.Unmarshal([]byte(payload), &n)
	if err == nil && n.Sync != "" {
		t.synced(n.Sync)
		return
	}
	if err != nil || (!n.All && (n.Layer == "" || len(n.BBox) != 4)) {
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

// syncTimeout bounds how long Sync waits for its own notification.
const syncTimeout = 2 * time.Second

// Sync returns once every change committed before the call has reached
// this process's cache, so that a request that has just changed features
// (a WFS transaction, an OGC API edit) never sees a stale tile afterwards:
// the edit's notifications travel asynchronously, but PostgreSQL delivers
// a session's notifications in commit order, so when the marker sent here
// arrives, every earlier change has been applied. Without a listening
// connection (or when the marker does not come back within 2 s) it drops
// the whole cache instead, which is always safe.
func (t *Tiler) Sync(ctx context.Context) {
	if t.cache == nil {
		return
	}
	t.syncMu.Lock()
	t.syncSeq++
	token := strconv.FormatUint(t.syncSeq, 10) + "-" + t.syncID
	ch := make(chan struct{})
	if t.syncWait == nil {
		t.syncWait = map[string]chan struct{}{}
	}
	t.syncWait[token] = ch
	listening := t.listening
	t.syncMu.Unlock()
	defer func() {
		t.syncMu.Lock()
		delete(t.syncWait, token)
		t.syncMu.Unlock()
	}()
	if !listening {
		t.InvalidateAll()
		return
	}
	payload, _ := json.Marshal(notification{Sync: token})
	if _, err := t.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, string(payload)); err != nil {
		t.InvalidateAll()
		return
	}
	timer := time.NewTimer(syncTimeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.InvalidateAll()
	case <-ctx.Done():
		t.InvalidateAll()
	}
}

func (t *Tiler) synced(token string) {
	t.syncMu.Lock()
	ch := t.syncWait[token]
	delete(t.syncWait, token)
	t.syncMu.Unlock()
	if ch != nil {
		close(ch)
	}
}

func (t *Tiler) setListening(on bool) {
	t.syncMu.Lock()
	t.listening = on
	t.syncMu.Unlock()
}

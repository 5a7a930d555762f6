package accounts

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"munigis"
)

// LimitConfig bounds failed sign-in attempts. Each key (a username, an
// address) may fail Burst times in a row, then one more time every
// Window/Burst: the defaults allow 5 failures per username and 20 per
// address (an office behind one NAT address shares it) per 15 minutes.
type LimitConfig struct {
	PerUser    int
	PerAddress int
	Window     time.Duration
}

// DefaultLimits are used for the zero LimitConfig's fields.
var DefaultLimits = LimitConfig{PerUser: 5, PerAddress: 20, Window: 15 * time.Minute}

// TooManyRequests is the error code of a rate-limited sign-in; the web
// layer answers it with 429 and Retry-After.
const TooManyRequests munigis.Code = "too_many_requests"

// RateLimited is the cause of a TooManyRequests error.
type RateLimited struct{ Wait time.Duration }

func (e *RateLimited) Error() string { return fmt.Sprintf("rate limited for %s", e.Wait) }

// RetryAfter says how long to wait before trying again.
func (e *RateLimited) RetryAfter() time.Duration { return e.Wait }

// Limiter counts failed sign-in attempts in memory, per username and per
// address. A restart forgets them, which is acceptable: the limit is there
// to make guessing slow, not to lock accounts.
type Limiter struct {
	cfg   LimitConfig
	mu    sync.Mutex
	users map[string]*rate.Limiter
	addrs map[string]*rate.Limiter
	now   func() time.Time
}

// NewLimiter returns a Limiter; zero fields of cfg take DefaultLimits.
func NewLimiter(cfg LimitConfig) *Limiter {
	if cfg.PerUser <= 0 {
		cfg.PerUser = DefaultLimits.PerUser
	}
	if cfg.PerAddress <= 0 {
		cfg.PerAddress = DefaultLimits.PerAddress
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultLimits.Window
	}
	return &Limiter{cfg: cfg, users: map[string]*rate.Limiter{}, addrs: map[string]*rate.Limiter{}, now: time.Now}
}

func (l *Limiter) get(m map[string]*rate.Limiter, key string, burst int) *rate.Limiter {
	lim, ok := m[key]
	if !ok {
		if len(m) > 100_000 {
			l.prune(m)
		}
		lim = rate.NewLimiter(rate.Limit(float64(burst)/l.cfg.Window.Seconds()), burst)
		m[key] = lim
	}
	return lim
}

// prune forgets keys whose limiter is full again (no recent failures).
func (l *Limiter) prune(m map[string]*rate.Limiter) {
	now := l.now()
	for k, lim := range m {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(m, k)
		}
	}
}

func wait(lim *rate.Limiter, now time.Time) time.Duration {
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(lim.Limit()) * float64(time.Second))
}

// Check returns an error when username or address has failed too often; it
// does not count an attempt.
func (l *Limiter) Check(username, address string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := wait(l.get(l.users, strings.ToLower(username), l.cfg.PerUser), now)
	if address != "" {
		w = max(w, wait(l.get(l.addrs, address, l.cfg.PerAddress), now))
	}
	if w <= 0 {
		return nil
	}
	w = w.Round(time.Second) + time.Second
	mins := int((w + time.Minute - 1) / time.Minute)
	return &munigis.Error{Code: TooManyRequests,
		Message: fmt.Sprintf("too many failed sign-in attempts for this username or from this address; try again in %d minute(s), after %s UTC",
			mins, now.Add(w).UTC().Format("15:04:05")),
		MessageBG: fmt.Sprintf("Твърде много неуспешни опита за вход; опитайте отново след %d мин.", mins),
		Err:       &RateLimited{Wait: w}}
}

// Fail counts a failed attempt for username and address.
func (l *Limiter) Fail(username, address string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.get(l.users, strings.ToLower(username), l.cfg.PerUser).AllowN(now, 1)
	if address != "" {
		l.get(l.addrs, address, l.cfg.PerAddress).AllowN(now, 1)
	}
}

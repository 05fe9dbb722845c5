package throttle

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rule limits one scope: Max failures within Window lock for Lock.
type Rule struct {
	// Max failures within Window lock; 0 turns the scope off.
	Max int
	// Window starts at the first failure; failures older are forgotten.
	Window time.Duration
	// Lock is how long a lock lasts; 0 locks until the window ends (a
	// quota: Max uses per Window).
	Lock time.Duration
}

// Options configure a Limiter; zero fields take the defaults.
type Options struct {
	Key, Client Rule
	// Storm is the global ceiling, in failures per minute across every key
	// and client of the Limiter; 0 for none.
	Storm int
	// MaxEntries bounds the keys and clients tracked (10,000).
	MaxEntries int
	// Secret keys the hash that stored ids are made of.
	Secret []byte
	// Now is the clock (time.Now); tests move it instead of sleeping.
	Now func() time.Time
}

// DefaultMaxEntries is Options.MaxEntries when not set. An entry is a
// 17-byte id and a 24-byte value: 10,000 are well under a MiB.
const DefaultMaxEntries = 10_000

const (
	scopeKey    = 'k'
	scopeClient = 'c'
	idLen       = 1 + 16
)

type id ID

type entry struct {
	n     uint32
	since int64 // Unix ns
	until int64 // Unix ns; 0: not locked
}

// Limiter counts failures of one kind ("receipt", "mqtt") per key and per
// client. It is safe for concurrent use.
type Limiter struct {
	st    Storage
	name  string
	opt   Options
	storm *rate.Limiter // nil without a ceiling

	mu        sync.Mutex
	entries   map[id]entry
	lastPrune time.Time
}

// Open loads the live counts of name from st and deletes the dead ones.
func Open(st Storage, name string, opt Options) (*Limiter, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return nil, fmt.Errorf("throttle %q: a name without NUL is required", name)
	}
	for _, r := range []Rule{opt.Key, opt.Client} {
		if r.Max < 0 || r.Max > math.MaxUint32 || (r.Max > 0 && r.Window <= 0) || r.Lock < 0 {
			return nil, fmt.Errorf("throttle %s: rule %+v: Max needs a positive Window", name, r)
		}
	}
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = DefaultMaxEntries
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	l := &Limiter{st: st, name: name, opt: opt, entries: map[id]entry{}}
	if opt.Storm > 0 {
		l.storm = rate.NewLimiter(rate.Limit(float64(opt.Storm)/60), opt.Storm)
	}
	now := opt.Now().UnixNano()
	counts, err := st.LoadCounts(name)
	if err != nil {
		return nil, fmt.Errorf("throttle %s: load: %w", name, err)
	}
	var dead []ID
	for _, c := range counts {
		i, e := id(c.ID), entry{n: c.N, since: c.Since, until: c.Until}
		if l.dead(i, e, now) || len(l.entries) >= opt.MaxEntries {
			dead = append(dead, c.ID)
			continue
		}
		l.entries[i] = e
	}
	if len(dead) > 0 {
		if err := st.SaveCounts(name, nil, dead); err != nil {
			return nil, fmt.Errorf("throttle %s: load: %w", name, err)
		}
	}
	return l, nil
}

func (l *Limiter) rule(i id) Rule {
	if i[0] == scopeClient {
		return l.opt.Client
	}
	return l.opt.Key
}

// dead: neither locked nor within its window any more, or of a scope now
// turned off.
func (l *Limiter) dead(i id, e entry, now int64) bool {
	r := l.rule(i)
	if r.Max == 0 {
		return true
	}
	if e.until != 0 {
		return now >= e.until
	}
	return now >= e.since+int64(r.Window)
}

func (l *Limiter) id(scope byte, key string) id {
	m := hmac.New(sha256.New, l.opt.Secret)
	m.Write([]byte(key))
	var i id
	i[0] = scope
	copy(i[1:], m.Sum(nil))
	return i
}

// ids returns the scopes in play: "" and turned-off scopes are not.
func (l *Limiter) ids(client, key string) []id {
	out := make([]id, 0, 2)
	if key != "" && l.opt.Key.Max > 0 {
		out = append(out, l.id(scopeKey, key))
	}
	if client != "" && l.opt.Client.Max > 0 {
		out = append(out, l.id(scopeClient, client))
	}
	return out
}

// live returns i's entry unless it is missing or dead.
func (l *Limiter) live(i id, now int64) (entry, bool) {
	e, ok := l.entries[i]
	if !ok || l.dead(i, e, now) {
		return entry{}, false
	}
	return e, true
}

// Allow says whether an attempt on key from client may go ahead: nil, a
// *LockedError, or ErrBusy. Either may be "" when it does not apply.
func (l *Limiter) Allow(client, key string) error {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.allow(now, client, key)
}

// Take is Allow and, when allowed, Count, at once: a quota's use, which
// concurrent callers must not overrun.
func (l *Limiter) Take(client, key string) error {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.allow(now, client, key); err != nil {
		return err
	}
	_, err := l.count(now, client, key)
	return err
}

func (l *Limiter) allow(now time.Time, client, key string) error {
	ns := now.UnixNano()
	known, failed := false, false
	for _, i := range l.ids(client, key) {
		_, present := l.entries[i] // a dead entry's place is its own to reuse
		known = known || present
		e, ok := l.live(i, ns)
		if !ok {
			continue
		}
		failed = failed || e.n > 0
		if e.until != 0 {
			return &LockedError{Until: time.Unix(0, e.until), Client: i[0] == scopeClient}
		}
	}
	if failed && l.storm != nil && l.storm.TokensAt(now) < 1 {
		return ErrBusy
	}
	if !known && len(l.entries) >= l.opt.MaxEntries {
		l.prune(now)
		if len(l.entries) >= l.opt.MaxEntries {
			return ErrBusy
		}
	}
	return nil
}

// Count records a failed attempt (or, for a quota, one use) on key from
// client and returns the tries key has left before it locks (the client's
// when there is no key); 0 means this one locked it. It writes through
// before it returns. When the table is full of live entries, a new key or
// client is not recorded and ErrBusy is returned.
func (l *Limiter) Count(client, key string) (left int, err error) {
	now := l.opt.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count(now, client, key)
}

func (l *Limiter) count(now time.Time, client, key string) (left int, err error) {
	ns := now.UnixNano()
	if l.storm != nil {
		l.storm.AllowN(now, 1) // spends a token, or finds none: the storm is on
	}
	left = -1
	changed := make(map[id]entry, 2)
	for _, i := range l.ids(client, key) {
		r := l.rule(i)
		e, ok := l.live(i, ns)
		if _, present := l.entries[i]; !present && len(l.entries) >= l.opt.MaxEntries {
			l.prune(now)
			if len(l.entries) >= l.opt.MaxEntries {
				err = ErrBusy
				continue
			}
		}
		if !ok {
			e = entry{since: ns}
		}
		if e.until == 0 {
			e.n++
			if int(e.n) >= r.Max {
				e.until = ns + int64(r.Lock)
				if r.Lock == 0 {
					e.until = e.since + int64(r.Window)
				}
			}
		}
		l.entries[i] = e
		changed[i] = e
		if left < 0 || i[0] == scopeKey {
			left = max(r.Max-int(e.n), 0)
		}
	}
	if left < 0 {
		left = 0
	}
	if werr := l.write(changed, nil); werr != nil {
		return left, werr
	}
	return left, err
}

// Reset forgets key's failures, after a right attempt. The client's stay:
// a right answer now and then does not buy a client more guesses.
func (l *Limiter) Reset(key string) error {
	if key == "" || l.opt.Key.Max == 0 {
		return nil
	}
	i := l.id(scopeKey, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.entries[i]; !ok {
		return nil
	}
	delete(l.entries, i)
	return l.write(nil, []id{i})
}

// Tracked is how many keys and clients the Limiter holds.
func (l *Limiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// prune deletes dead entries, at most once a second: a table full of live
// ones is not walked at every attempt.
func (l *Limiter) prune(now time.Time) {
	if now.Sub(l.lastPrune) < time.Second && !l.lastPrune.IsZero() {
		return
	}
	l.lastPrune = now
	ns := now.UnixNano()
	var dead []id
	for i, e := range l.entries {
		if l.dead(i, e, ns) {
			dead = append(dead, i)
			delete(l.entries, i)
		}
	}
	if len(dead) > 0 {
		// The memory is freed whatever happens; a dead entry left on disk
		// is deleted by the next Open.
		_ = l.write(nil, dead)
	}
}

func (l *Limiter) write(put map[id]entry, del []id) error {
	if len(put) == 0 && len(del) == 0 {
		return nil
	}
	counts := make([]Count, 0, len(put))
	for i, e := range put {
		counts = append(counts, Count{ID: ID(i), N: e.n, Since: e.since, Until: e.until})
	}
	ids := make([]ID, len(del))
	for k, i := range del {
		ids[k] = ID(i)
	}
	if err := l.st.SaveCounts(l.name, counts, ids); err != nil {
		return fmt.Errorf("throttle %s: %w", l.name, err)
	}
	return nil
}

package throttle_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi/central/throttle"
)

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// receiptRules are central's /r/ rules: 5 per code, 20 per address.
var receiptRules = throttle.Options{
	Key:    throttle.Rule{Max: 5, Window: 30 * time.Minute, Lock: 30 * time.Minute},
	Client: throttle.Rule{Max: 20, Window: time.Hour, Lock: time.Hour},
}

func open(t *testing.T, db *bbolt.DB, c *clock, opt throttle.Options) *throttle.Limiter {
	t.Helper()
	opt.Now = c.Now
	l, err := throttle.Open(throttle.Bolt(db), "test", opt)
	require.NoError(t, err)
	return l
}

func TestLimiter_CountsAndLocksPerRule(t *testing.T) {
	type step struct {
		client, key string
		advance     time.Duration // before the step
		fail        bool          // Count after Allow
		reset       bool          // Reset(key) instead
		want        string        // Allow: "", "key", "client", "busy"
	}
	rep := func(n int, s step) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	cat := func(ss ...[]step) []step {
		var out []step
		for _, s := range ss {
			out = append(out, s...)
		}
		return out
	}
	tests := []struct {
		name  string
		opt   throttle.Options
		steps []step
	}{
		{"five wrong lock the key, from any client", receiptRules, cat(
			rep(5, step{client: "a", key: "K", fail: true}),
			[]step{{client: "a", key: "K", want: "key"}, {client: "b", key: "K", want: "key"}, {client: "a", key: "L"}})},
		{"the key's lock ends", receiptRules, cat(
			rep(5, step{client: "a", key: "K", fail: true}),
			[]step{{client: "a", key: "K", advance: 29 * time.Minute, want: "key"}, {client: "a", key: "K", advance: time.Minute}})},
		{"failures older than the window are forgotten", receiptRules, cat(
			rep(4, step{client: "a", key: "K", fail: true}),
			[]step{{client: "a", key: "K", advance: 31 * time.Minute, fail: true}},
			rep(3, step{client: "a", key: "K", fail: true}),
			[]step{{client: "a", key: "K"}})},
		{"twenty wrong from one client lock the client on every key", receiptRules, cat(
			func() []step {
				var out []step
				for i := range 20 {
					out = append(out, step{client: "a", key: fmt.Sprint("K", i), fail: true})
				}
				return out
			}(),
			[]step{{client: "a", key: "new", want: "client"}, {client: "b", key: "new"}})},
		{"a right try resets the key, not the client", throttle.Options{
			Key: throttle.Rule{Max: 3, Window: time.Hour, Lock: time.Hour}, Client: throttle.Rule{Max: 4, Window: time.Hour, Lock: time.Hour}}, cat(
			rep(2, step{client: "a", key: "K", fail: true}),
			[]step{{key: "K", reset: true}},
			rep(2, step{client: "a", key: "K", fail: true}),
			[]step{{client: "b", key: "K"}, {client: "a", key: "M", want: "client"}})},
		{"a quota without a lock time lasts until its window ends", throttle.Options{
			Key: throttle.Rule{Max: 3, Window: time.Hour}}, cat(
			[]step{{key: "kiosk", fail: true}, {key: "kiosk", advance: 40 * time.Minute, fail: true}, {key: "kiosk", fail: true}},
			[]step{{key: "kiosk", advance: 19 * time.Minute, want: "key"}, {key: "kiosk", advance: time.Minute}})},
		{"empty client or key is not counted", receiptRules, cat(
			rep(30, step{key: "", client: "", fail: true}),
			[]step{{client: "", key: "K"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			l := open(t, openDB(t, filepath.Join(t.TempDir(), "t.db")), c, tt.opt)
			for n, s := range tt.steps {
				c.Add(s.advance)
				if s.reset {
					require.NoError(t, l.Reset(s.key))
					continue
				}
				err := l.Allow(s.client, s.key)
				var le *throttle.LockedError
				switch s.want {
				case "":
					require.NoError(t, err, "step %d", n)
				case "key", "client":
					require.ErrorAs(t, err, &le, "step %d", n)
					assert.ErrorIs(t, err, throttle.ErrLocked)
					assert.Equal(t, s.want == "client", le.Client, "step %d: %v", n, err)
				}
				if s.fail {
					_, err := l.Count(s.client, s.key)
					require.NoError(t, err, "step %d", n)
				}
			}
		})
	}
}

func TestLimiter_CountSaysTriesLeftThenZeroWhenLocked(t *testing.T) {
	c := newClock()
	l := open(t, openDB(t, filepath.Join(t.TempDir(), "t.db")), c, receiptRules)
	for want := 4; want >= 0; want-- {
		left, err := l.Count("a", "K")
		require.NoError(t, err)
		assert.Equal(t, want, left)
	}
	var le *throttle.LockedError
	require.ErrorAs(t, l.Allow("a", "K"), &le)
	assert.True(t, c.Now().Add(30*time.Minute).Equal(le.Until), le.Until)
	assert.Contains(t, le.Error(), "locked until 2026-03-02T09:30:00Z")
}

// The conformance with a restart: open, fail, close, reopen, still locked;
// and a lock that ended is gone from the file.
func TestLimiter_LockSurvivesReopeningTheFileUntilItEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.db")
	c := newClock()
	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	l := open(t, db, c, receiptRules)
	for range 5 {
		_, err := l.Count("203.0.113.7", "CODE")
		require.NoError(t, err)
	}
	require.ErrorIs(t, l.Allow("203.0.113.7", "CODE"), throttle.ErrLocked)
	require.NoError(t, db.Close())

	db = openDB(t, path)
	l = open(t, db, c, receiptRules)
	assert.ErrorIs(t, l.Allow("198.51.100.1", "CODE"), throttle.ErrLocked, "locked after the restart, for every client")
	assert.Equal(t, 2, l.Tracked(), "the code and the address")
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		n := 0
		require.NoError(t, tx.Bucket(throttle.Bucket).ForEach(func(k, _ []byte) error {
			assert.NotContains(t, string(k), "CODE", "ids are hashed")
			assert.NotContains(t, string(k), "203.0.113.7")
			n++
			return nil
		}))
		assert.Equal(t, 2, n)
		return nil
	}))

	c.Add(time.Hour)
	l = open(t, db, c, receiptRules)
	assert.NoError(t, l.Allow("203.0.113.7", "CODE"), "the lock ended")
	assert.Equal(t, 0, l.Tracked())
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		assert.Equal(t, 0, tx.Bucket(throttle.Bucket).Stats().KeyN, "dead entries deleted on open")
		return nil
	}))
}

func TestLimiter_OtherNamesInTheFileAreLeftAlone(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "t.db"))
	c := newClock()
	opt := receiptRules
	opt.Now = c.Now
	a, err := throttle.Open(throttle.Bolt(db), "a", opt)
	require.NoError(t, err)
	b, err := throttle.Open(throttle.Bolt(db), "b", opt)
	require.NoError(t, err)
	for range 5 {
		_, err := a.Count("x", "K")
		require.NoError(t, err)
	}
	assert.ErrorIs(t, a.Allow("x", "K"), throttle.ErrLocked)
	assert.NoError(t, b.Allow("x", "K"))
	b, err = throttle.Open(throttle.Bolt(db), "b", opt)
	require.NoError(t, err)
	assert.Equal(t, 0, b.Tracked())
	a, err = throttle.Open(throttle.Bolt(db), "a", opt)
	require.NoError(t, err)
	assert.Equal(t, 2, a.Tracked())
}

// Many addresses guessing at once: past the ceiling, an address that
// failed once waits, and one that has not failed goes on.
func TestLimiter_StormSlowsClientsThatFailedButNotNewOnes(t *testing.T) {
	c := newClock()
	opt := receiptRules
	opt.Storm = 60
	l := open(t, openDB(t, filepath.Join(t.TempDir(), "t.db")), c, opt)
	for i := range 60 {
		_, err := l.Count(fmt.Sprint("10.0.0.", i), fmt.Sprint("K", i))
		require.NoError(t, err)
	}
	assert.ErrorIs(t, l.Allow("10.0.0.1", "fresh"), throttle.ErrBusy, "failed before, during the storm")
	assert.NoError(t, l.Allow("192.0.2.1", "fresh"), "a person who has not failed goes on")
	assert.NoError(t, l.Allow("", "fresh"), "and a key nobody failed on")
	c.Add(2 * time.Second)
	assert.NoError(t, l.Allow("10.0.0.1", "fresh"), "the ceiling refills: slowed, not locked")
}

func TestLimiter_FullTableRefusesNewcomersAndKeepsItsLocks(t *testing.T) {
	c := newClock()
	opt := throttle.Options{Key: throttle.Rule{Max: 2, Window: time.Hour, Lock: time.Hour}, MaxEntries: 3}
	l := open(t, openDB(t, filepath.Join(t.TempDir(), "t.db")), c, opt)
	for _, k := range []string{"A", "A", "B", "C"} {
		_, err := l.Count("", k)
		require.NoError(t, err)
	}
	_, err := l.Count("", "D")
	assert.ErrorIs(t, err, throttle.ErrBusy, "not recorded")
	assert.ErrorIs(t, l.Allow("", "D"), throttle.ErrBusy, "fail closed for a key it cannot track")
	assert.ErrorIs(t, l.Allow("", "A"), throttle.ErrLocked, "the lock was not evicted")
	assert.NoError(t, l.Allow("", "B"), "tracked keys go on")
	assert.Equal(t, 3, l.Tracked())
	c.Add(time.Hour)
	assert.NoError(t, l.Allow("", "D"), "expired entries are pruned to make room")
	assert.Equal(t, 0, l.Tracked())
}

// The tester's finding: 180,000 random codes grew the heap from 20.8k to
// 401k objects. Through a Limiter, what is tracked stays under its cap.
func TestLimiter_180kRandomCodesKeepMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("180,000 writes to a bbolt file")
	}
	c := newClock()
	db := openDB(t, filepath.Join(t.TempDir(), "t.db"))
	db.NoSync = true // memory is the point here, not durability
	opt := receiptRules
	opt.Storm = 600
	opt.MaxEntries = 10_000
	l := open(t, db, c, opt)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var b [8]byte
	refused := 0
	for i := range 180_000 {
		_, _ = rand.Read(b[:])
		code := hex.EncodeToString(b[:5])
		client := fmt.Sprintf("10.%d.%d.%d", b[5], b[6], b[7]) // many addresses, not one
		if i%10 == 0 {
			c.Add(time.Second) // 5 hours in all: windows end and locks lapse
		}
		if l.Allow(client, code) != nil {
			refused++
			continue
		}
		_, _ = l.Count(client, code)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapObjects) - int64(before.HeapObjects)
	t.Logf("heap objects %d → %d (%+d); heap %d KiB → %d KiB; tracked %d; refused %d of 180000",
		before.HeapObjects, after.HeapObjects, grown, before.HeapAlloc>>10, after.HeapAlloc>>10, l.Tracked(), refused)
	assert.LessOrEqual(t, l.Tracked(), opt.MaxEntries)
	// A map of fixed-size values allocates per bucket, not per entry: far
	// fewer objects than entries. 180,000 retained codes were 380k objects.
	assert.Less(t, grown, int64(opt.MaxEntries), "heap objects grew with the codes tried")
	var onDisk int
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		onDisk = tx.Bucket(throttle.Bucket).Stats().KeyN
		return nil
	}))
	assert.Equal(t, l.Tracked(), onDisk, "the file holds what memory holds: pruned entries are deleted")
}

// A quota taken by many at once is not overrun.
func TestLimiter_TakeNeverOverrunsAQuotaUnderConcurrency(t *testing.T) {
	c := newClock()
	l := open(t, openDB(t, filepath.Join(t.TempDir(), "t.db")), c, throttle.Options{Key: throttle.Rule{Max: 60, Window: time.Hour}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.Take("", "kiosk-1") == nil {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 60, taken)
	var le *throttle.LockedError
	require.ErrorAs(t, l.Take("", "kiosk-1"), &le)
	assert.True(t, c.Now().Add(time.Hour).Equal(le.Until), "until the hour ends: %s", le.Until)
	assert.NoError(t, l.Take("", "kiosk-2"), "another kiosk's quota is its own")
}

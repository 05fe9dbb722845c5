package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/throttle"
)

// ThrottleBackend is what the Throttle suite needs of a store: the
// storage of central's attempt limiters, and a restart.
type ThrottleBackend[B any] interface {
	throttle.Storage
	Reopen(t *testing.T) B
}

// Throttle checks throttle.Storage: counts kept per limiter name, put and
// deleted together, and a lock that outlives a restart.
func Throttle[B ThrottleBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"CountsKeptPerName", throttleCounts[B]},
		{"LockOutlivesARestart", throttleLock[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func throttleCounts[B ThrottleBackend[B]](t *testing.T, b B) {
	a1 := throttle.Count{ID: throttle.ID{'k', 1}, N: 3, Since: 10, Until: 0}
	a2 := throttle.Count{ID: throttle.ID{'c', 2}, N: 9, Since: 20, Until: 99}
	require.NoError(t, b.SaveCounts("a", []throttle.Count{a1, a2}, nil))
	require.NoError(t, b.SaveCounts("b", []throttle.Count{a1}, nil))
	got, err := b.LoadCounts("a")
	require.NoError(t, err)
	assert.ElementsMatch(t, []throttle.Count{a1, a2}, got)

	a1.N = 4
	require.NoError(t, b.SaveCounts("a", []throttle.Count{a1}, []throttle.ID{a2.ID}), "a put and a delete at once")
	got, err = b.LoadCounts("a")
	require.NoError(t, err)
	assert.Equal(t, []throttle.Count{a1}, got)
	got, err = b.LoadCounts("b")
	require.NoError(t, err)
	assert.Equal(t, 3, int(got[0].N), "another name's counts are its own")
	none, err := b.LoadCounts("c")
	require.NoError(t, err)
	assert.Empty(t, none)
}

// throttleLock's limiter has a name of its own: a store may open
// central's limiters when it opens, on their clock.
func throttleLock[B ThrottleBackend[B]](t *testing.T, b B) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	opt := throttle.Options{Key: throttle.Rule{Max: 2, Window: time.Hour, Lock: time.Hour}, Secret: []byte("s"),
		Now: func() time.Time { return now }}
	l, err := throttle.Open(b, "storetest", opt)
	require.NoError(t, err)
	for range 2 {
		_, err := l.Count("", "code-1")
		require.NoError(t, err)
	}
	require.ErrorIs(t, l.Allow("", "code-1"), throttle.ErrLocked)

	b = b.Reopen(t)
	l, err = throttle.Open(b, "storetest", opt)
	require.NoError(t, err)
	assert.ErrorIs(t, l.Allow("", "code-1"), throttle.ErrLocked, "still locked after a restart")
	assert.NoError(t, l.Allow("", "code-2"))

	now = now.Add(2 * time.Hour)
	l, err = throttle.Open(b, "storetest", opt)
	require.NoError(t, err)
	assert.NoError(t, l.Allow("", "code-1"), "the lock has passed")
	left, err := b.LoadCounts("storetest")
	require.NoError(t, err)
	assert.Empty(t, left, "a dead count is deleted when a limiter opens")
}

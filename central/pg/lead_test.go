package pg

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leaders runs Lead on n stores of one database and tells which runs f.
type leaders struct {
	running atomic.Int32 // how many fs run now
	most    atomic.Int32 // the most that ever ran at once
	who     chan int     // each f's store, as it starts
}

func (l *leaders) job(i int) func(ctx context.Context) {
	return func(ctx context.Context) {
		n := l.running.Add(1)
		for m := l.most.Load(); n > m && !l.most.CompareAndSwap(m, n); m = l.most.Load() {
		}
		l.who <- i
		<-ctx.Done()
		l.running.Add(-1)
	}
}

func TestLead_OneAtATimeAndTakenOverWhenTheLeaderGoes(t *testing.T) {
	c := openStore(t)
	stores := []*Store{c.Store}
	for range 2 {
		st, err := Open(context.Background(), c.url, WithKeys(c.keys))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	l := &leaders{who: make(chan int, 10)}
	cancels := make([]context.CancelFunc, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		wg.Add(1)
		go func() { defer wg.Done(); st.Lead(ctx, "dispatch", l.job(i)) }()
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	}()

	first := <-l.who
	// The leader stops (central stopped): another takes over, and only one.
	cancels[first]()
	second := <-l.who
	assert.NotEqual(t, first, second)
	time.Sleep(2 * leadPoll) // the third tries, and must not get in
	assert.Equal(t, int32(1), l.most.Load(), "never two leaders at once")

	// The leader's connection is cut (its backend terminated, as a
	// database restart or a network cut would): its f is stopped and
	// the third takes over.
	_, err := stores[first].pool.Exec(context.Background(),
		`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = ($1::bigint & 4294967295)::oid`, leadKey("dispatch"))
	require.NoError(t, err)
	select {
	case third := <-l.who:
		assert.NotEqual(t, second, third)
		assert.NotEqual(t, first, third)
	case <-time.After(30 * time.Second):
		t.Fatal("nobody took over from a leader whose connection was cut")
	}
	// (A leader cut off may still run a moment after the next has taken
	// over: Lead's doc says so, and the fencing is the writers' own.)
}

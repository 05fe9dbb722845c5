package notify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"allimi/central/notify"
)

// A gateway that fails is tried again after the backoff, not at every
// poke (each commit that queues a confirmation pokes); once it works, a
// poke sends at once again.
func TestQueue_PokesDoNotCutABackoffShort(t *testing.T) {
	q := notify.NewQueue()
	var calls atomic.Int32
	failing := atomic.Bool{}
	failing.Store(true)
	once := func(context.Context) (int, error) {
		calls.Add(1)
		if failing.Load() {
			return 0, errors.New("gateway down")
		}
		return 0, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		q.Run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), "test messages", once)
		close(done)
	}()
	assert.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, 5*time.Millisecond, "the first try")
	for range 20 {
		q.Poke()
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, int32(1), calls.Load(), "pokes during the backoff (1 s after the first failure) send nothing")

	failing.Store(false)
	assert.Eventually(t, func() bool { return calls.Load() >= 2 }, 5*time.Second, 5*time.Millisecond, "tried again after the backoff")
	// A poke kept from the backoff may ask once more; then it is idle.
	time.Sleep(100 * time.Millisecond)
	n := calls.Load()
	q.Poke()
	assert.Eventually(t, func() bool { return calls.Load() == n+1 }, 5*time.Second, 5*time.Millisecond, "a poke while idle sends at once")
	cancel()
	<-done
}

package notify

import (
	"context"
	"log/slog"
	"time"
)

// Queue drives a durable queue of messages to people (sign-up
// confirmations, officials' answers): it sends a batch, at once again while
// there was something to send, every minute otherwise or when poked, and
// backs off up to five minutes while sending fails. A poke does not cut a
// backoff short: while the gateway fails, new messages wait with the rest
// instead of each commit that queues one trying (and reading the whole
// batch) again.
type Queue struct {
	wake chan struct{}
	idle time.Duration
}

func NewQueue() Queue { return NewQueueEvery(time.Minute) }

// NewQueueEvery is a queue that looks every idle when not poked: sooner
// than a minute when what it sends is queued by other centrals on a
// shared database, whose pokes do not reach it.
func NewQueueEvery(idle time.Duration) Queue {
	return Queue{wake: make(chan struct{}, 1), idle: idle}
}

// Poke asks for a batch now (something was queued).
func (q Queue) Poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run calls once until ctx ends; once returns how many messages it settled.
func (q Queue) Run(ctx context.Context, log *slog.Logger, what string, once func(context.Context) (int, error)) {
	backoff := time.Second
	for {
		sent, err := once(ctx)
		wait := q.idle
		switch {
		case err != nil:
			log.Warn(what+" wait", "err", err, "retry", backoff)
			wait, backoff = backoff, min(2*backoff, 5*time.Minute)
		case sent > 0:
			wait, backoff = 0, time.Second
		}
		if wait > 0 {
			wake := q.wake
			if err != nil {
				wake = nil // backing off
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-wake:
			case <-t.C:
			}
			t.Stop()
		} else if ctx.Err() != nil {
			return
		}
	}
}

package jsuplink

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"allimi/central/ingest"
)

// Consume pulls the kiosks' records from the shared consumer and hands each
// to take, until ctx ends or the Uplink is closed. take must not wait (the
// ingest's never does); each message's Ack acknowledges it to JetStream,
// which then drops it from the stream. Consume holds at most MaxInFlight
// records taken and not acknowledged, and pulls more as they are
// acknowledged: a record the ingest has no room for stays in the stream,
// for this worker or another. It keeps pulling through reconnections and
// elections, and creates the stream and the consumer again if the servers
// lost them. Call it once per Uplink.
func (u *Uplink) Consume(ctx context.Context, take func(m ingest.Message)) {
	// Close ends the pull under way too.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-u.done:
			stop()
		case <-ctx.Done():
		}
	}()
	h := &holding{freed: make(chan struct{}, 1)}
	failed := &rate.Sometimes{Interval: 10 * time.Second}
	backoff := time.Duration(0)
	pause := func() bool {
		backoff = min(max(2*backoff, 100*time.Millisecond), 2*time.Second)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
			return true
		}
	}
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		room := u.cfg.MaxInFlight - int(h.n.Load())
		if room <= 0 {
			select {
			case <-h.freed:
			case <-ctx.Done():
			}
			continue
		}
		if cons == nil {
			c, err := u.consumer(ctx)
			if err != nil {
				if ctx.Err() == nil {
					failed.Do(func() { u.log.Warn("uplink consumer unavailable, trying again", "err", err) })
				}
				if !pause() {
					return
				}
				continue
			}
			cons = c
		}

		start := time.Now()
		n, err := u.fetch(ctx, cons, min(room, u.cfg.FetchBatch), h, take)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			backoff = 0
			if n == 0 && time.Since(start) < u.cfg.FetchWait/10 {
				// Answered at once with nothing: do not spin.
				pause()
			}
		default:
			failed.Do(func() { u.log.Warn("uplink pull failed, trying again", "err", err) })
			if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrConsumerDeleted) ||
				errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
				// No consumer leader (an election), or no consumer at
				// all: look it up again, creating it if it is gone.
				cons = nil
			}
			if !pause() {
				return
			}
		}
	}
}

// consumer looks the consumer up, creating the stream and the consumer
// again when the servers have lost them (a server's storage wiped).
func (u *Uplink) consumer(ctx context.Context) (jetstream.Consumer, error) {
	c, err := u.js.Consumer(ctx, u.cfg.Stream, u.cfg.Consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		u.log.Warn("uplink stream or consumer missing: creating it again", "stream", u.cfg.Stream, "consumer", u.cfg.Consumer)
		if err := u.ensure(ctx); err != nil {
			return nil, err
		}
		c, err = u.js.Consumer(ctx, u.cfg.Stream, u.cfg.Consumer)
	}
	return c, err
}

// fetch makes one pull of up to n records and hands each to take as it
// arrives; it returns how many came.
func (u *Uplink) fetch(ctx context.Context, cons jetstream.Consumer, n int, h *holding, take func(ingest.Message)) (int, error) {
	fctx, cancel := context.WithTimeout(ctx, u.cfg.FetchWait)
	defer cancel()
	batch, err := cons.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		return 0, err
	}
	got := 0
	for m := range batch.Messages() {
		got++
		h.n.Add(1)
		take(&message{msg: m, holding: h})
	}
	err = batch.Error()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// The pull's own time is up (the server's answer to it lost
		// with a server, say): nothing wrong.
		err = nil
	}
	return got, err
}

// holding counts the records a Consume has handed over and not seen
// acknowledged.
type holding struct {
	n     atomic.Int64
	freed chan struct{} // a token when n went down
}

func (h *holding) release() {
	h.n.Add(-1)
	select {
	case h.freed <- struct{}{}:
	default:
	}
}

// message is a record as the ingest takes it.
type message struct {
	msg     jetstream.Msg
	holding *holding
	acked   atomic.Bool
}

// Topic is the MQTT topic the kiosk published on, allimi/v1/kiosk/ID/up.
func (m *message) Topic() string { return topic(m.msg.Subject()) }

func (m *message) Payload() []byte { return m.msg.Data() }

// Ack acknowledges the record to JetStream (without waiting for the
// server: an ack lost with a connection only means the record comes
// again after AckWait). A second Ack does nothing.
func (m *message) Ack() {
	if m.acked.Swap(true) {
		return
	}
	_ = m.msg.Ack()
	m.holding.release()
}

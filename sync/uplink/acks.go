package uplink

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"allimi"
)

// ackQueue holds central's acks that have arrived and are not yet applied
// to the outbox. Central acks after every commit it makes; applying each
// one on its own (a bbolt transaction, its sync, a scrub) let acks queue up
// behind each other whenever central committed faster than the kiosk could
// delete, and while they queued the kiosk's window stayed full, so central's
// next batches were small and its acks more frequent still. The applier
// takes every ack that has arrived and applies the highest in one
// transaction: the outbox deletes exactly what the last of them covers, as
// it would have after applying them one by one.
type ackQueue struct {
	mu       sync.Mutex
	pending  []pendingAck
	received int // acks added since the start
	wake     chan struct{}
}

type pendingAck struct {
	msg  mqtt.Message
	upTo uint64
}

func newAckQueue() *ackQueue { return &ackQueue{wake: make(chan struct{}, 1)} }

func (q *ackQueue) add(m mqtt.Message, upTo uint64) {
	q.mu.Lock()
	q.pending = append(q.pending, pendingAck{msg: m, upTo: upTo})
	q.received++
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *ackQueue) takeAll() []pendingAck {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.pending
	q.pending = nil
	return p
}

// applyAcks applies the acks that arrive until ctx ends, and scrubs the
// file when an ack left that for later (outbox.Outbox.ScrubIfDue).
func (s *Sender) applyAcks(ctx context.Context) {
	var scrub <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.acks.wake:
		case <-scrub:
		}
		if p := s.acks.takeAll(); len(p) > 0 {
			s.applyAckBatch(p)
		}
		scrub = nil
		if wait := s.outbox.ScrubIfDue(); wait > 0 {
			scrub = time.After(wait)
		}
	}
}

// applyAckBatch deletes what the highest of acks covers, then gives the
// broker its PUBACK for each of them: only once what they say is committed.
func (s *Sender) applyAckBatch(acks []pendingAck) {
	high := slices.MaxFunc(acks, func(a, b pendingAck) int { return cmpU64(a.upTo, b.upTo) }).upTo
	n, err := s.outbox.Ack(high)
	if errors.Is(err, allimi.ErrInvalid) && len(acks) > 1 {
		// One of them is impossible (beyond the last record written);
		// the others may not be: apply each as it came.
		for _, a := range acks {
			s.applyAckBatch([]pendingAck{a})
		}
		return
	}
	if err != nil {
		// Not acknowledged to the broker: they come again, and the disk
		// may have recovered by then.
		s.log.Error("ack not applied", "upTo", high, "err", err)
		if errors.Is(err, allimi.ErrInvalid) {
			acks[0].msg.Ack() // an impossible ack will not become possible
		}
		return
	}
	for _, a := range acks {
		a.msg.Ack()
	}
	s.mu.Lock()
	if high > s.lastAck {
		s.lastAck, s.lastAckAt = high, time.Now()
	}
	s.acked += n
	s.mu.Unlock()
	s.poke()
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

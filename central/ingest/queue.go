package ingest

import (
	"slices"
	"sync"

	"allimi"
)

// Hold is the most kiosk records central holds at once: taken off
// the broker, not yet committed, so not yet acknowledged (the queue plus
// the batch being committed). The embedded broker keeps twice as many in
// flight for any client (caps.MaximumInflight), so that while central's
// queue is full the broker still has room for what is on the wire and
// central, not the broker, decides what to shed.
const Hold = 4096

// ingestHoldBytes bounds the payload bytes the queue holds: a record is at
// most wire.MaxEventSize, but ingestHold records of that size would be
// 256 MiB.
const ingestHoldBytes = 64 << 20

// queued is one message waiting to be committed.
type queued struct {
	msg   Message
	kiosk string          // "" for a topic that names no kiosk (it is refused)
	in    allimi.Incoming // msg decoded, when the caller did so (offerDecoded)
	size  int
}

// fairQueue holds records taken off the broker until they are committed.
// It never blocks the caller: paho calls the message handler on its
// network loop, and a handler that waits starves the keepalive, so the
// broker drops the session and re-sends everything in flight (the ingest
// live-lock). Each kiosk has its own FIFO and batches are taken round
// robin, so a kiosk with a large backlog, or one that floods invalid
// records, cannot make another kiosk's sign-ups wait behind it. When the
// queue is full the newest record of the kiosk holding the most is shed:
// the caller acknowledges it to the broker without storing it. Nothing
// is lost by that, since the kiosk keeps every record in its outbox until
// central's own ack says it is stored, and sends it again.
type fairQueue struct {
	max, maxBytes int

	mu     sync.Mutex
	n      int // records held
	bytes  int // payload bytes held
	kiosks map[string][]queued
	ring   []string // kiosks with records, in round-robin order
	next   int      // index in ring of the kiosk served next
	ready  chan struct{}
}

func newFairQueue(max, maxBytes int) *fairQueue {
	return &fairQueue{max: max, maxBytes: maxBytes, kiosks: map[string][]queued{}, ready: make(chan struct{}, 1)}
}

// offer adds m, from kiosk, to the queue. When the queue is full it
// returns what to shed instead: m itself, or the newest records of a
// kiosk that holds more than kiosk would. The caller acknowledges them.
func (q *fairQueue) offer(kiosk string, m Message) (shed []Message) {
	return q.offerDecoded(kiosk, m, allimi.Incoming{})
}

// offerDecoded is offer for a message the caller has decoded into in.
func (q *fairQueue) offerDecoded(kiosk string, m Message, in allimi.Incoming) (shed []Message) {
	it := queued{msg: m, kiosk: kiosk, in: in, size: len(m.Payload())}
	if it.size > q.maxBytes {
		return []Message{m} // it would never fit
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n > 0 && (q.n >= q.max || q.bytes+it.size > q.maxBytes) {
		victim := q.longest()
		if len(q.kiosks[victim]) <= len(q.kiosks[kiosk]) {
			return append(shed, m) // kiosk itself holds the most: its newest record goes
		}
		// A large record may need the room of several small ones.
		f := q.kiosks[victim]
		last := f[len(f)-1]
		q.kiosks[victim] = f[:len(f)-1]
		q.n--
		q.bytes -= last.size
		shed = append(shed, last.msg)
		if len(q.kiosks[victim]) == 0 {
			q.drop(victim)
		}
	}
	f, ok := q.kiosks[kiosk]
	if !ok {
		q.ring = append(q.ring, kiosk)
	}
	q.kiosks[kiosk] = append(f, it)
	q.n++
	q.bytes += it.size
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return shed
}

// longest returns the kiosk holding the most records.
func (q *fairQueue) longest() string {
	var k string
	most := -1
	for _, id := range q.ring {
		if n := len(q.kiosks[id]); n > most {
			k, most = id, n
		}
	}
	return k
}

// drop removes an empty kiosk from the ring, keeping the round-robin turn.
func (q *fairQueue) drop(kiosk string) {
	i := slices.Index(q.ring, kiosk)
	delete(q.kiosks, kiosk)
	q.ring = slices.Delete(q.ring, i, i+1)
	if i < q.next {
		q.next--
	}
	if q.next >= len(q.ring) {
		q.next = 0
	}
}

// take removes up to max records, one kiosk at a time in turn, each
// kiosk's in the order they arrived.
func (q *fairQueue) take(max int) []queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []queued
	for len(out) < max && q.n > 0 {
		k := q.ring[q.next]
		f := q.kiosks[k]
		out = append(out, f[0])
		f[0] = queued{}
		q.kiosks[k] = f[1:]
		q.n--
		q.bytes -= out[len(out)-1].size
		if len(f) == 1 {
			q.drop(k)
			continue
		}
		q.next = (q.next + 1) % len(q.ring)
	}
	return out
}

// len returns the number of records held.
func (q *fairQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

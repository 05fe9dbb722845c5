package outbox

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/internal/boltscrub"
	"allimi/sync/wire"
)

var (
	bucketOutbox = []byte("outbox")      // seq (8 bytes, big endian) → event JSON
	bucketMeta   = []byte("outbox-meta") // counters below
	keyLastSeq   = []byte("lastSeq")     // the last sequence number handed out
	keyLastAck   = []byte("lastAck")     // the highest seq central acknowledged
	keyLastHLC   = []byte("lastHLC")
	keyKioskID   = []byte("kioskID")
)

// Outbox holds a kiosk's events until central acknowledges them. It lives in
// the kiosk's bbolt file beside the catalogs.
type Outbox struct {
	db    *bbolt.DB
	kiosk string
	now   func() time.Time
	// maxRecord is the largest record Append stores: wire.MaxEventSize, what
	// central takes (the drafts' own limits keep every record below it).
	maxRecord int

	mu      sync.Mutex
	waiters []chan struct{} // closed on every append and ack

	// scrubDue says acknowledged records' bytes may still be on free pages
	// of the file: the last scrub found a reader open, or failed, or an ack
	// came sooner than scrubEvery after the last scrub.
	scrubDue atomic.Bool
	// scrubEvery is how often, at most, acks that leave records pending
	// scrub: each scrub reads the file's free pages and syncs what it
	// writes, and while a backlog drains central acks every few tens of
	// milliseconds. The ack that empties the outbox always scrubs, and the
	// sender scrubs what is due once scrubEvery has passed (ScrubIfDue).
	scrubEvery time.Duration
	lastScrub  atomic.Int64 // unix nanoseconds of the last scrub an ack did
}

// defaultScrubEvery bounds how long an acknowledged record's bytes outlive
// its deletion while the outbox drains.
const defaultScrubEvery = 200 * time.Millisecond

// Record is an outbox entry as it goes on the wire.
type Record struct {
	Seq  uint64
	Data []byte
}

// Open prepares the outbox buckets in db for kiosk id. A file that
// already belongs to another kiosk id is refused: mixing two kiosks'
// sequence numbers would lose records at central.
func Open(db *bbolt.DB, kiosk string) (*Outbox, error) {
	if err := allimi.ValidateKioskID(kiosk); err != nil {
		return nil, err
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketOutbox); err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch owner := m.Get(keyKioskID); {
		case owner == nil:
			return m.Put(keyKioskID, []byte(kiosk))
		case string(owner) != kiosk:
			return fmt.Errorf("outbox %s belongs to kiosk %q, not %q: use another data directory", db.Path(), owner, kiosk)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	o := &Outbox{db: db, kiosk: kiosk, now: time.Now, maxRecord: wire.MaxEventSize, scrubEvery: defaultScrubEvery}
	o.scrub() // a kiosk cut off after an ack and before its scrub
	return o, nil
}

// Kiosk returns the id of the kiosk the outbox belongs to.
func (o *Outbox) Kiosk() string { return o.kiosk }

// Draft is what the caller supplies for a new event; the outbox fills in the
// kiosk id, sequence number and clock.
type Draft struct {
	Kind    string
	Citizen allimi.Citizen
	// Payload is the event's payload, written as its JSON: an
	// *allimi.ConsentPayload for allimi.KindSignup and KindConsent, an
	// *allimi.FeedbackPayload for KindFeedback (which has no citizen), an
	// *allimi.QuestionAudioPayload or *allimi.QuestionPayload for the drafts
	// of QuestionDrafts. Append checks it against Kind as central does
	// (allimi.Event.Validate).
	Payload any
}

// Append validates the drafts and stores them as events in one transaction.
// When it returns nil the records are on disk: this is the moment the
// kiosk may tell the person "saved". It returns the stored events.
func (o *Outbox) Append(drafts ...Draft) ([]allimi.Event, error) {
	events := make([]allimi.Event, 0, len(drafts))
	err := o.db.Update(func(tx *bbolt.Tx) error {
		events = events[:0]
		ob, m := tx.Bucket(bucketOutbox), tx.Bucket(bucketMeta)
		seq, hlc := getU64(m, keyLastSeq), getU64(m, keyLastHLC)
		now := o.now()
		for i, d := range drafts {
			if d.Payload == nil {
				return fmt.Errorf("record %d: a %s draft without a payload: %w", i+1, d.Kind, allimi.ErrInvalid)
			}
			payload, err := json.Marshal(d.Payload)
			if err != nil {
				return err
			}
			seq++
			hlc = allimi.NextHLC(hlc, now)
			e := allimi.Event{V: allimi.EventVersion, Kiosk: o.kiosk, Seq: seq, HLC: hlc,
				Kind: d.Kind, Citizen: d.Citizen, Payload: payload}
			if err := e.Validate(now); err != nil {
				return fmt.Errorf("record %d: %w", i+1, err)
			}
			data, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if len(data) > o.maxRecord {
				// Central's broker drops a connection that sends more, so
				// such a record would hold up every one behind it forever.
				return fmt.Errorf("record %d: %d bytes, at most %d: %w", i+1, len(data), o.maxRecord, wire.ErrOversize)
			}
			if err := ob.Put(u64Key(seq), data); err != nil {
				return err
			}
			events = append(events, e)
		}
		if err := putU64(m, keyLastSeq, seq); err != nil {
			return err
		}
		return putU64(m, keyLastHLC, hlc)
	})
	if err != nil {
		return nil, fmt.Errorf("append to outbox: %w", err)
	}
	if o.scrubDue.Load() {
		o.scrub()
	}
	o.wake()
	return events, nil
}

// Pending returns up to limit records with a sequence number above after, in order.
func (o *Outbox) Pending(after uint64, limit int) ([]Record, error) {
	var out []Record
	if after == math.MaxUint64 {
		return nil, nil
	}
	err := o.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(u64Key(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			out = append(out, Record{Seq: binary.BigEndian.Uint64(k), Data: append([]byte(nil), v...)})
		}
		return nil
	})
	return out, err
}

// Ack deletes every record up to and including upTo and remembers upTo. An
// ack at or below the last one changes nothing; an ack beyond the last
// sequence number handed out is refused, since central cannot hold records
// this kiosk never wrote.
func (o *Outbox) Ack(upTo uint64) (deleted int, err error) {
	drained := false
	err = o.db.Update(func(tx *bbolt.Tx) error {
		deleted, drained = 0, false
		m := tx.Bucket(bucketMeta)
		if upTo <= getU64(m, keyLastAck) {
			return nil
		}
		if last := getU64(m, keyLastSeq); upTo > last {
			return fmt.Errorf("ack up to %d, but the last record written is %d: %w", upTo, last, allimi.ErrInvalid)
		}
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= upTo; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
			deleted++
		}
		first, _ := tx.Bucket(bucketOutbox).Cursor().First()
		drained = first == nil
		return putU64(m, keyLastAck, upTo)
	})
	if err != nil {
		return 0, fmt.Errorf("outbox ack: %w", err)
	}
	switch {
	case deleted == 0:
		if o.scrubDue.Load() {
			o.scrub()
		}
	case drained || time.Since(time.Unix(0, o.lastScrub.Load())) >= o.scrubEvery:
		o.lastScrub.Store(time.Now().UnixNano())
		o.scrub()
	default:
		o.scrubDue.Store(true)
	}
	o.wake()
	return deleted, nil
}

// scrub overwrites the free pages of the file, where the records just
// deleted still lie byte for byte (bbolt never writes a page in place): once
// central has a sign-up, the kiosk keeps nothing of it. A read transaction
// open at that moment holds the scrub off (boltscrub.ErrReaders); the next
// append, ack or start does it, so the bytes outlive their deletion by one
// record at most.
func (o *Outbox) scrub() {
	_, err := boltscrub.Free(o.db)
	o.scrubDue.Store(err != nil)
}

// ScrubIfDue scrubs when acknowledged records may still lie in free
// pages; it returns how long until that should be checked again (0: nothing
// is due). The sender calls it between acks: an ack that came too soon
// after the last scrub leaves the scrub to it.
func (o *Outbox) ScrubIfDue() time.Duration {
	if !o.scrubDue.Load() {
		return 0
	}
	if wait := o.scrubEvery - time.Since(time.Unix(0, o.lastScrub.Load())); wait > 0 {
		return wait
	}
	o.lastScrub.Store(time.Now().UnixNano())
	o.scrub()
	if o.scrubDue.Load() {
		return o.scrubEvery // a reader was open: try again
	}
	return 0
}

// State is a snapshot for sync health screens and tools.
type State struct {
	Pending int    `json:"pending"`
	LastSeq uint64 `json:"lastSeq"`
	LastAck uint64 `json:"lastAck"`
}

// State reads the outbox's counters.
func (o *Outbox) State() (State, error) {
	var s State
	err := o.db.View(func(tx *bbolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		s.Pending = tx.Bucket(bucketOutbox).Stats().KeyN
		s.LastSeq, s.LastAck = getU64(m, keyLastSeq), getU64(m, keyLastAck)
		return nil
	})
	return s, err
}

// Changed returns a channel that is closed at the next append or ack.
func (o *Outbox) Changed() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := make(chan struct{})
	o.waiters = append(o.waiters, ch)
	return ch
}

func (o *Outbox) wake() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ch := range o.waiters {
		close(ch)
	}
	o.waiters = nil
}

func u64Key(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func getU64(b *bbolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putU64(b *bbolt.Bucket, k []byte, n uint64) error { return b.Put(k, u64Key(n)) }

// DB returns the bbolt file the outbox lives in, to share it with the catalogs.
func (o *Outbox) DB() *bbolt.DB { return o.db }

package kiosk

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/internal/boltscrub"
)

// TodayEntry is one record made at this kiosk today, as staff mode lists
// it. It holds masked data only (김*수, 010-****-5678): the outbox deletes
// the full record once central acknowledges it, and this list must not
// become a second copy of people's details.
type TodayEntry struct {
	At       time.Time                 `json:"at"`
	Kind     string                    `json:"kind"` // allimi.KindSignup or KindConsent (a withdrawal)
	Name     string                    `json:"name"`
	Mobile   string                    `json:"mobile"`
	Types    []allimi.NotificationType `json:"types"`
	Official string                    `json:"official,omitempty"`
	Receipt  string                    `json:"receipt,omitempty"`
}

// TodayLog keeps today's entries; entries from an earlier day are gone.
type TodayLog interface {
	Add(e TodayEntry) error
	List(now time.Time) ([]TodayEntry, error)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Local().Date()
	by, bm, bd := b.Local().Date()
	return ay == by && am == bm && ad == bd
}

// MemoryToday is a TodayLog in memory, for kiosks without a data file.
type MemoryToday struct {
	mu      sync.Mutex
	entries []TodayEntry
}

// Add implements TodayLog.
func (m *MemoryToday) Add(e TodayEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge(e.At)
	m.entries = append(m.entries, e)
	return nil
}

// List implements TodayLog.
func (m *MemoryToday) List(now time.Time) ([]TodayEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge(now)
	return append([]TodayEntry(nil), m.entries...), nil
}

func (m *MemoryToday) purge(now time.Time) {
	kept := m.entries[:0]
	for _, e := range m.entries {
		if sameDay(e.At, now) {
			kept = append(kept, e)
		}
	}
	m.entries = kept
}

var bucketToday = []byte("kiosk-today") // at (UnixNano, big endian) → TodayEntry JSON

// BoltToday is a TodayLog in the kiosk's bbolt file, so that staff still
// see the morning's sign-ups after a restart.
type BoltToday struct{ db *bbolt.DB }

// OpenBoltToday prepares the today bucket in db.
func OpenBoltToday(db *bbolt.DB) (*BoltToday, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketToday)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("today's registrations: %w", err)
	}
	return &BoltToday{db: db}, nil
}

// Add implements TodayLog; it also deletes entries of earlier days.
func (b *BoltToday) Add(e TodayEntry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	purged := 0
	err = b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketToday)
		if purged, err = purgeBefore(bk, e.At); err != nil {
			return err
		}
		k := make([]byte, 8)
		n := uint64(e.At.UnixNano())
		for {
			binary.BigEndian.PutUint64(k, n)
			if bk.Get(k) == nil {
				break
			}
			n++ // two records in one nanosecond keep both
		}
		return bk.Put(k, v)
	})
	if err != nil {
		return fmt.Errorf("today's registrations: %w", err)
	}
	b.scrubAfter(purged)
	return nil
}

// List implements TodayLog, deleting entries of earlier days.
func (b *BoltToday) List(now time.Time) ([]TodayEntry, error) {
	var out []TodayEntry
	purged := 0
	err := b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketToday)
		var err error
		if purged, err = purgeBefore(bk, now); err != nil {
			return err
		}
		return bk.ForEach(func(_, v []byte) error {
			var e TodayEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("today's registrations: %w", err)
	}
	b.scrubAfter(purged)
	return out, nil
}

// purgeBefore deletes entries not made on now's day (before it, or after
// it when the clock was wrong).
func purgeBefore(bk *bbolt.Bucket, now time.Time) (deleted int, err error) {
	c := bk.Cursor()
	for k, v := c.First(); k != nil; {
		var e TodayEntry
		if err := json.Unmarshal(v, &e); err != nil || !sameDay(e.At, now) {
			if err := c.Delete(); err != nil {
				return deleted, err
			}
			deleted++
			k, v = c.Seek(k)
			continue
		}
		k, v = c.Next()
	}
	return deleted, nil
}

// scrubAfter overwrites the pages that purged entries were left on
// (boltscrub), so that yesterday's sign-ups are gone from the file, not
// only from the bucket. A scrub held off by a reader is done at the next
// ack or purge.
func (b *BoltToday) scrubAfter(purged int) {
	if purged > 0 {
		_, _ = boltscrub.Free(b.db)
	}
}

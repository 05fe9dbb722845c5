package bolt

import (
	"bytes"
	"slices"

	"go.etcd.io/bbolt"

	"allimi"
)

// commitTally gathers what every event of a Commit batch adds to state
// shared by all of them — the active-grant counters, the subscriber count
// and the audit log — and writes it once, at the end of the batch's
// transaction. Written per event, these were a read and a write of the same
// few keys for every event, and an audit entry (a sequence number, a hash, a
// JSON value and the chain head) per event. The batch commits or fails as
// one transaction, so writing them once changes nothing a reader can see.
//
// The receipt index and the confirmation queue are written at the end too,
// each in key order, and the people whose grants changed are noted for
// FoldSubs (subsfold.go) instead of their eleven subs entries being
// rewritten.
type commitTally struct {
	active      map[string]int64 // typeChannelKey → change in active grants
	subscribers int64
	people      [4]int64          // per channel (allimi.Channels): change in people with an active grant on it
	kioskRegion map[string]string // kiosk → its region, looked up once a batch
	audit       []allimi.AuditItem
	subs        [][]byte          // people whose subs entries are to be folded, each once
	subsSeen    map[string]bool   // subs as a set
	receipts    map[string][]byte // codeKey → receipt (putReceipt)
	confirm     map[string][]byte // eventKey → confirmation (queueConfirmation)
}

func newCommitTally() *commitTally {
	return &commitTally{active: map[string]int64{}, subsSeen: map[string]bool{}, kioskRegion: map[string]string{},
		receipts: map[string][]byte{}, confirm: map[string][]byte{}}
}

// setSubscribed notes that a person's grant of type t on ch changed; with
// no tally the subs entry is written at once.
func (t *commitTally) setSubscribed(tx *bbolt.Tx, typ allimi.NotificationType, ck []byte, ch allimi.Channel, on bool, pii []byte) error {
	if t == nil {
		return setSubscribed(tx, typ, ck, ch, on, pii)
	}
	if !t.subsSeen[string(ck)] {
		t.subsSeen[string(ck)] = true
		t.subs = append(t.subs, ck)
	}
	return nil
}

// addActive counts a change of active grants of a type and channel; with
// no tally (a change outside a batch) it is written at once.
func (t *commitTally) addActive(tx *bbolt.Tx, k []byte, d int64) error {
	if t == nil {
		return addU64(tx.Bucket(bucketActive), k, d)
	}
	t.active[string(k)] += d
	return nil
}

// addSubscribers counts a change of the subscriber count, as addActive.
func (t *commitTally) addSubscribers(tx *bbolt.Tx, d int64) error {
	if t == nil {
		return addU64(tx.Bucket(bucketMeta), keySubscribers, d)
	}
	t.subscribers += d
	return nil
}

// regionOf is the region of a kiosk, read once a batch.
func (t *commitTally) regionOf(tx *bbolt.Tx, kiosk string) string {
	if t == nil {
		return kioskRegionOf(tx, kiosk)
	}
	r, ok := t.kioskRegion[kiosk]
	if !ok {
		r = kioskRegionOf(tx, kiosk)
		t.kioskRegion[kiosk] = r
	}
	return r
}

// Flush writes the batch's counters and its audit entry.
func (t *commitTally) flush(tx *bbolt.Tx, s *Store) error {
	active := tx.Bucket(bucketActive)
	for k, d := range t.active {
		if err := addU64(active, []byte(k), d); err != nil {
			return err
		}
	}
	if err := addU64(tx.Bucket(bucketMeta), keySubscribers, t.subscribers); err != nil {
		return err
	}
	for i, n := range t.people {
		if err := addU64(tx.Bucket(bucketMeta), peopleKey(allimi.Channels[i]), n); err != nil {
			return err
		}
	}
	if err := putSorted(tx.Bucket(bucketReceipts), t.receipts); err != nil {
		return err
	}
	if err := putSorted(tx.Bucket(bucketConfirmations), t.confirm); err != nil {
		return err
	}
	if err := noteSubs(tx, t.subs); err != nil {
		return err
	}
	return s.auditBatch(tx, allimi.AuditConsent, t.audit)
}

// putSorted puts kvs into b in key order.
func putSorted(b *bbolt.Bucket, kvs map[string][]byte) error {
	keys := make([][]byte, 0, len(kvs))
	for k := range kvs {
		keys = append(keys, []byte(k))
	}
	slices.SortFunc(keys, bytes.Compare)
	for _, k := range keys {
		if err := b.Put(k, kvs[string(k)]); err != nil {
			return err
		}
	}
	return nil
}

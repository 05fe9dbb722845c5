package bolt

import (
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
type commitTally struct {
	active      map[string]int64 // typeChannelKey → change in active grants
	subscribers int64
	audit       []allimi.AuditItem
}

func newCommitTally() *commitTally { return &commitTally{active: map[string]int64{}} }

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
	return s.auditBatch(tx, AuditConsent, t.audit)
}

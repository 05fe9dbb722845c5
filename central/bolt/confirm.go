package bolt

import (
	"encoding/binary"
	"time"

	"allimi/central/record"

	"go.etcd.io/bbolt"

	"allimi"
)

// bucketConfirmations holds the sign-ups made without a verified number
// (the kiosk was offline, or the person skipped the code) until their
// owners have been told by SMS. The entry is written in the transaction
// that stores the sign-up, so a crash forgets none.

// queueConfirmation queues a sign-up's confirmation in the batch's tally,
// which writes them at the end of the transaction, in key order.
func queueConfirmation(tally *commitTally, e *allimi.Event, ck []byte) {
	v := binary.BigEndian.AppendUint64(append([]byte{}, ck...), uint64(allimi.HLCTime(e.HLC).UnixMilli()))
	tally.confirm[string(record.Key(e.Kiosk, e.Seq))] = v
}

// PendingConfirmations returns up to n confirmations still to send.
func (s *Store) PendingConfirmations(n int) ([]allimi.PendingConfirmation, error) {
	var out []allimi.PendingConfirmation
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketConfirmations).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			if len(v) != 40 {
				continue // damaged: doneConfirmations drops it
			}
			cit, err := s.citizen(tx, v[:32])
			if err != nil {
				return err
			}
			out = append(out, allimi.PendingConfirmation{Key: append([]byte{}, k...), Citizen: cit,
				At: time.UnixMilli(int64(binary.BigEndian.Uint64(v[32:])))})
		}
		return nil
	})
	return out, err
}

// DoneConfirmations deletes sent (or refused) confirmations.
func (s *Store) DoneConfirmations(keys [][]byte) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketConfirmations)
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ConfirmationsPending counts the confirmations not yet sent.
func (s *Store) ConfirmationsPending() (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketConfirmations).Stats().KeyN
		return nil
	})
	return n, err
}

package bolt

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"

	"allimi"
)

// PendingAnswers returns up to n answers still to send, each with the
// person's contact opened.
func (s *Store) PendingAnswers(n int) ([]allimi.PendingAnswer, error) {
	var out []allimi.PendingAnswer
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketQSend).Cursor()
		for k, _ := c.First(); k != nil && len(out) < n; k, _ = c.Next() {
			q, err := s.getQuestion(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			plain, err := s.keys.Open(q.Contact, u64(q.ID))
			if err != nil {
				return fmt.Errorf("question %d: contact: %w", q.ID, err)
			}
			cit, err := decodePII(plain)
			if err != nil {
				return fmt.Errorf("question %d: contact: %w", q.ID, err)
			}
			q.Contact = nil // allimi.Question: cleared before it leaves the store
			out = append(out, allimi.PendingAnswer{Question: q, Citizen: cit})
		}
		return nil
	})
	return out, err
}

// AnswerSent takes the answer off the queue and records how it went.
func (s *Store) AnswerSent(id uint64, delivery string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		q, err := s.getQuestion(tx, id)
		if err != nil {
			return err
		}
		q.Delivery = delivery
		if err := tx.Bucket(bucketQSend).Delete(u64(id)); err != nil {
			return err
		}
		return s.putQuestion(tx, &q)
	})
}

// AnswersPending counts the answers not yet handed to a provider.
func (s *Store) AnswersPending() (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketQSend).Stats().KeyN
		return nil
	})
	return n, err
}

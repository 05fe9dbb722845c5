package bolt

import (
	"encoding/binary"
	"sort"

	"go.etcd.io/bbolt"

	"allimi"
)

// bucketFeedback counts, per consultation knowledge-base entry, the
// answers to "was this helpful?" that kiosks sent.

func countFeedback(tx *bbolt.Tx, e *allimi.Event) error {
	f, err := e.Feedback()
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketFeedback)
	v := make([]byte, 16)
	copy(v, b.Get([]byte(f.Entry)))
	i := 8
	if f.Helpful {
		i = 0
	}
	binary.BigEndian.PutUint64(v[i:], binary.BigEndian.Uint64(v[i:])+1)
	return b.Put([]byte(f.Entry), v)
}

// Feedback lists the counts, least helpful first: the entries officials
// should look at.
func (s *Store) Feedback() ([]allimi.FeedbackCount, error) {
	out := []allimi.FeedbackCount{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketFeedback).ForEach(func(k, v []byte) error {
			if len(v) == 16 {
				out = append(out, allimi.FeedbackCount{Entry: string(k), Helpful: binary.BigEndian.Uint64(v),
					NotHelpful: binary.BigEndian.Uint64(v[8:])})
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].NotHelpful*(out[j].Helpful+out[j].NotHelpful+1) > out[j].NotHelpful*(out[i].Helpful+out[i].NotHelpful+1)
	})
	return out, err
}

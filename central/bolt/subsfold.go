package bolt

import (
	"bytes"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"allimi"
)

// The subs index (type | citizen key → channel mask | sealed personal
// data) is derived from the consents bucket and the citizens' records.
// Kept in step event by event, it was most of an ingest commit's cost:
// each person has an entry under every type they consented to, eleven
// places at random in the largest bucket of the file, so a commit of a
// hundred sign-ups rewrote about a thousand of its pages. An ingest batch
// instead appends the people whose grants changed to bucketSubsPending, in
// the batch's own transaction (a few pages at the bucket's end), and
// FoldSubs later rewrites their entries from their consents, many batches
// in one transaction and in key order.
//
// Nothing is lost in between: the pending log is committed with the
// consents it stands for, and folding is idempotent (an entry is
// recomputed from the consents, whatever it held), so a crash before or
// during a fold leaves it to the next. Every reader that picks people by
// the index folds first, in its own write transaction (a listed
// notification, each chunk of a campaign's expansion), or reads the
// pending people from their consents (eachSubscriber): no campaign misses
// someone whose grant was committed, nor reaches someone who withdrew.
//
// Two writes stay immediate: a change made outside an ingest batch (an
// official's resolution), and a known person's new personal data
// (refreshSubscribed), so that the contact a dispatcher reads from the
// index is never older than the person's record.

// noteSubs appends people whose subs entries are behind their consents.
func noteSubs(tx *bbolt.Tx, cks [][]byte) error {
	if len(cks) == 0 {
		return nil
	}
	b := tx.Bucket(bucketSubsPending)
	b.FillPercent = 1 // appended at the end only
	for _, ck := range cks {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(u64(seq), ck); err != nil {
			return err
		}
	}
	return nil
}

// SubsPending is how many pending entries wait for FoldSubs (people may be
// counted more than once).
func (s *Store) SubsPending() int64 { return s.subsPending.Load() }

// FoldSubs brings the subs index up to date with every committed consent.
func (s *Store) FoldSubs() error {
	pending := false
	if err := s.db.View(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketSubsPending).Cursor().First()
		pending = k != nil
		return nil
	}); err != nil || !pending {
		return err
	}
	var n int
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		n, err = s.foldSubs(tx)
		return err
	})
	if err == nil {
		s.subsPending.Add(-int64(n))
	}
	return err
}

// foldSubs rewrites the subs entries of every pending person in tx and
// empties the log; it returns the log entries it folded. The caller
// counts them off s.subsPending once tx has committed (see folded).
func (s *Store) foldSubs(tx *bbolt.Tx) (int, error) {
	pb := tx.Bucket(bucketSubsPending)
	var cks [][]byte
	n := 0
	if err := pb.ForEach(func(_, v []byte) error {
		cks = append(cks, v)
		n++
		return nil
	}); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	slices.SortFunc(cks, bytes.Compare)
	cks = slices.CompactFunc(cks, bytes.Equal)
	people := make([]subsOf, len(cks))
	types := map[allimi.NotificationType]bool{}
	for _, ti := range allimi.Types() {
		types[ti.ID] = true
	}
	for i, ck := range cks {
		p, err := s.subscriptions(tx, ck)
		if err != nil {
			return 0, err
		}
		for t := range p.seen {
			types[t] = true
		}
		people[i] = p
	}
	// Type by type, each in key order: the index's own order.
	order := make([]allimi.NotificationType, 0, len(types))
	for t := range types {
		order = append(order, t)
	}
	slices.Sort(order)
	subs := tx.Bucket(bucketSubs)
	var key, val []byte
	for _, t := range order {
		for _, p := range people {
			key = append(append(append(key[:0], t...), 0), p.ck...)
			cur := subs.Get(key)
			mask := p.masks[t]
			if mask == 0 {
				if cur != nil {
					if err := subs.Delete(key); err != nil {
						return 0, err
					}
				}
				continue
			}
			val = append(append(val[:0], mask), p.pii...)
			if bytes.Equal(cur, val) {
				continue
			}
			// bbolt keeps key and value until the commit: copies.
			if err := subs.Put(bytes.Clone(key), bytes.Clone(val)); err != nil {
				return 0, err
			}
		}
	}
	// Emptied as a whole: its pages are freed, not rewritten.
	if err := tx.DeleteBucket(bucketSubsPending); err != nil {
		return 0, err
	}
	if _, err := tx.CreateBucket(bucketSubsPending); err != nil {
		return 0, err
	}
	return n, nil
}

// subsOf is what a person's subs entries should hold.
type subsOf struct {
	ck    []byte
	pii   []byte
	masks map[allimi.NotificationType]byte // channels with an active grant
	seen  map[allimi.NotificationType]bool // types with any consent state
}

// subscriptions reads a person's subs entries from their consents and record.
func (s *Store) subscriptions(tx *bbolt.Tx, ck []byte) (subsOf, error) {
	p := subsOf{ck: ck, masks: map[allimi.NotificationType]byte{}, seen: map[allimi.NotificationType]bool{}}
	c := tx.Bucket(bucketConsents).Cursor()
	for k, v := c.Seek(ck); k != nil && bytes.HasPrefix(k, ck); k, v = c.Next() {
		t, ch, ok := bytes.Cut(k[len(ck):], []byte{0})
		if !ok {
			continue
		}
		typ := allimi.NotificationType(t)
		p.seen[typ] = true
		st, err := decodeConsentState(v)
		if err != nil {
			return p, fmt.Errorf("consent state: %w", err)
		}
		if st.Action == allimi.ActionGrant {
			p.masks[typ] |= allimi.ChannelBit(allimi.Channel(ch))
		}
	}
	if v := tx.Bucket(bucketCitizens).Get(ck); v != nil {
		rec, err := decodeCitizenRecord(v)
		if err != nil {
			return p, fmt.Errorf("citizen record: %w", err)
		}
		p.pii = rec.PII
	}
	return p, nil
}

// subscribedTo reports whether the person has an active grant of type t
// on any channel, from their consents (the subs index may be behind).
func subscribedTo(tx *bbolt.Tx, ck []byte, t allimi.NotificationType) (bool, error) {
	prefix := append(append(bytes.Clone(ck), t...), 0)
	c := tx.Bucket(bucketConsents).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		st, err := decodeConsentState(v)
		if err != nil {
			return false, fmt.Errorf("consent state: %w", err)
		}
		if st.Action == allimi.ActionGrant {
			return true, nil
		}
	}
	return false, nil
}

// eachSubscriber calls fn with every subscriber of type t as a read
// transaction sees them: the subs index's entries of people with nothing
// pending, in key order, then the pending people's entries as their
// consents say. v is the entry's value (mask | sealed personal data).
func (s *Store) eachSubscriber(tx *bbolt.Tx, t allimi.NotificationType, fn func(ck, v []byte) error) error {
	pending := map[string]bool{}
	var cks [][]byte
	if err := tx.Bucket(bucketSubsPending).ForEach(func(_, ck []byte) error {
		if !pending[string(ck)] {
			pending[string(ck)] = true
			cks = append(cks, ck)
		}
		return nil
	}); err != nil {
		return err
	}
	prefix := []byte(string(t) + "\x00")
	c := tx.Bucket(bucketSubs).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if ck := k[len(prefix):]; !pending[string(ck)] {
			if err := fn(ck, v); err != nil {
				return err
			}
		}
	}
	slices.SortFunc(cks, bytes.Compare)
	for _, ck := range cks {
		p, err := s.subscriptions(tx, ck)
		if err != nil {
			return err
		}
		if m := p.masks[t]; m != 0 {
			if err := fn(ck, append([]byte{m}, p.pii...)); err != nil {
				return err
			}
		}
	}
	return nil
}

package bolt

import (
	"bytes"
	"sort"

	"go.etcd.io/bbolt"

	"allimi"
)

// seedChunk is how many people one seeding transaction writes; a
// variable so that a test can make several small ones.
var seedChunk = 50000

// ImportSubscribers writes n people, person(1) … person(n), each consenting
// to the given types on the given channels, straight into the registry: a
// benchmark's or a demo's population without n kiosk records (see
// internal/loadgen.Seed). Their consents are recorded as given at kiosk
// "seed", record i; a person already in the registry is left as they are.
//
// People are written in the order of their citizen keys, across all the
// transactions, as a bulk import should be: every bucket then grows at its
// end, in full pages, and the file keeps next to no free pages. (In random
// order, a million people left 57% of an 840 MiB file free, and bbolt
// writes its whole free-page list at every commit.)
func (s *Store) ImportSubscribers(n int, person func(i uint64) allimi.Citizen, types []allimi.NotificationType, channels []allimi.Channel) error {
	chunk := seedChunk
	now := s.now().UTC()
	hlc := allimi.NextHLC(0, now)
	var mask byte
	for _, ch := range channels {
		mask |= allimi.ChannelBit(ch)
	}
	type numbered struct {
		ck []byte
		i  int
	}
	// Only the keys and numbers are kept for the sort (40 bytes a person);
	// each person is made again when written, rather than holding a
	// million sealed records in memory.
	order := make([]numbered, n)
	for i := range order {
		c := person(uint64(i + 1))
		order[i] = numbered{s.keys.CitizenKey(c.Mobile, c.BirthDate), i + 1}
	}
	sort.Slice(order, func(a, b int) bool { return bytes.Compare(order[a].ck, order[b].ck) < 0 })

	type kv struct{ k, v []byte }
	type row struct {
		ck, rec, pii []byte
		cons         []kv
	}
	for start := 0; start < n; start += chunk {
		part := order[start:min(start+chunk, n)]
		people := make([]row, 0, len(part))
		for _, o := range part {
			c := person(uint64(o.i))
			sealed := s.keys.Seal(encodePII(c), o.ck)
			rec := (&citizenRecord{PII: sealed, Active: len(types) * len(channels), Created: now, Updated: now}).encode()
			p := row{ck: o.ck, rec: rec, pii: sealed}
			for _, t := range types {
				for _, ch := range channels {
					st := encodeConsentState(&consentState{Action: allimi.ActionGrant, HLC: hlc, Kiosk: "seed", Seq: uint64(o.i),
						By: allimi.Actor{Kind: allimi.ActorSelf}, At: now})
					p.cons = append(p.cons, kv{consentKey(o.ck, t, ch), st})
				}
			}
			people = append(people, p)
		}
		err := s.db.Update(func(tx *bbolt.Tx) error {
			cits, cons, subs := tx.Bucket(bucketCitizens), tx.Bucket(bucketConsents), tx.Bucket(bucketSubs)
			// In key order, each bucket only grows at its end (in a fresh
			// registry): full pages.
			cits.FillPercent, cons.FillPercent, subs.FillPercent = 1, 1, 1
			added := int64(0)
			for _, p := range people {
				if cits.Get(p.ck) != nil {
					continue
				}
				if err := cits.Put(p.ck, p.rec); err != nil {
					return err
				}
				for _, c := range p.cons {
					if err := cons.Put(c.k, c.v); err != nil {
						return err
					}
				}
				for _, t := range types {
					if err := subs.Put(subsKey(t, p.ck), append([]byte{mask}, p.pii...)); err != nil {
						return err
					}
				}
				added++
			}
			for _, t := range types {
				for _, ch := range channels {
					if err := addU64(tx.Bucket(bucketActive), typeChannelKey(t, ch), added); err != nil {
						return err
					}
				}
			}
			if len(types) > 0 {
				for _, ch := range channels {
					if err := addU64(tx.Bucket(bucketMeta), peopleKey(ch), added); err != nil {
						return err
					}
				}
			}
			return addU64(tx.Bucket(bucketMeta), keySubscribers, added)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

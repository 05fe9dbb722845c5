package central

import (
	"bytes"
	"sort"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/sync"
)

// SeedSubscribers writes n synthetic people, each consenting to the given
// types on the given channels, straight into the registry: a benchmark's or
// a demo's population without n kiosk records. People are those of
// sync.SyntheticSignup for kiosk "seed", numbered from 1; one already in
// the registry is left as it is.
func (s *Store) SeedSubscribers(n int, types []allimi.NotificationType, channels []allimi.Channel) error {
	const chunk = 50000
	now := s.now().UTC()
	hlc := allimi.NextHLC(0, now)
	var mask byte
	for _, ch := range channels {
		mask |= channelBit(ch)
	}
	type kv struct{ k, v []byte }
	type person struct {
		ck, rec, pii []byte
		cons         []kv
	}
	for start := 1; start <= n; start += chunk {
		end := min(start+chunk-1, n)
		people := make([]person, 0, end-start+1)
		for i := start; i <= end; i++ {
			c := sync.SyntheticSignup("seed", uint64(i), channels, now).Citizen
			ck := s.keys.CitizenKey(c.Mobile, c.BirthDate)
			sealed := s.keys.Seal(encodePII(c), ck)
			rec := (&citizenRecord{PII: sealed, Active: len(types) * len(channels), Created: now, Updated: now}).encode()
			p := person{ck: ck, rec: rec, pii: sealed}
			for _, t := range types {
				for _, ch := range channels {
					st := (&consentState{Action: allimi.ActionGrant, HLC: hlc, Kiosk: "seed", Seq: uint64(i),
						By: allimi.Actor{Kind: allimi.ActorSelf}, At: now}).encode()
					p.cons = append(p.cons, kv{consentKey(ck, t, ch), st})
				}
			}
			people = append(people, p)
		}
		// Sorted puts touch each page once.
		sort.Slice(people, func(i, j int) bool { return bytes.Compare(people[i].ck, people[j].ck) < 0 })
		err := s.db.Update(func(tx *bbolt.Tx) error {
			cits, cons, subs := tx.Bucket(bucketCitizens), tx.Bucket(bucketConsents), tx.Bucket(bucketSubs)
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
			return addU64(tx.Bucket(bucketMeta), keySubscribers, added)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

package central

import (
	"bytes"
	"encoding/json"
	"sort"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/sync"
)

// SeedSubscribers writes n synthetic people, each consenting to the given
// types on the given channels, straight into the registry: a benchmark's or
// a demo's population without n kiosk records. People are those of
// sync.SyntheticSignup for kiosk "seed", numbered from 1.
func (s *Store) SeedSubscribers(n int, types []allimi.NotificationType, channels []allimi.Channel) error {
	const chunk = 50000
	now := s.now().UTC()
	hlc := allimi.NextHLC(0, now)
	for start := 1; start <= n; start += chunk {
		end := min(start+chunk-1, n)
		type kv struct{ k, v []byte }
		var cits, cons, subs []kv
		active := map[string]int64{}
		var mask byte
		for _, ch := range channels {
			mask |= channelBit(ch)
		}
		for i := start; i <= end; i++ {
			c := sync.SyntheticSignup("seed", uint64(i), channels, now).Citizen
			ck := s.keys.CitizenKey(c.Mobile, c.BirthDate)
			pii, _ := json.Marshal(c)
			rec, _ := json.Marshal(citizenRecord{PII: s.keys.Seal(pii, ck), Active: len(types) * len(channels), Created: now, Updated: now})
			cits = append(cits, kv{ck, rec})
			for _, t := range types {
				for _, ch := range channels {
					st, _ := json.Marshal(consentState{Action: allimi.ActionGrant, HLC: hlc, Kiosk: "seed", Seq: uint64(i),
						By: allimi.Actor{Kind: allimi.ActorSelf}, At: now})
					cons = append(cons, kv{consentKey(ck, t, ch), st})
					active[string(typeChannelKey(t, ch))]++
				}
				subs = append(subs, kv{subsKey(t, ck), []byte{mask}})
			}
		}
		// Sorted puts touch each page once.
		for _, l := range [][]kv{cits, cons, subs} {
			sort.Slice(l, func(i, j int) bool { return bytes.Compare(l[i].k, l[j].k) < 0 })
		}
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for _, p := range []struct {
				b []byte
				l []kv
			}{{bucketCitizens, cits}, {bucketConsents, cons}, {bucketSubs, subs}} {
				b := tx.Bucket(p.b)
				for _, e := range p.l {
					if err := b.Put(e.k, e.v); err != nil {
						return err
					}
				}
			}
			for k, d := range active {
				if err := addU64(tx.Bucket(bucketActive), []byte(k), d); err != nil {
					return err
				}
			}
			return addU64(tx.Bucket(bucketMeta), keySubscribers, int64(end-start+1))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

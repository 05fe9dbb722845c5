package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"

	"allimi"
)

// The statistics part of the store keeps what the ministry's tables need
// beyond the registry's and the dispatcher's counters. Its buckets, and
// what their keys and values hold:
var (
	// The region of the kiosk of each person's last sign-up, when it had
	// one: the dispatcher reads it per recipient (allimi.Outgoing.Region),
	// in campaign order (citizen key order), with a cursor.
	bucketRegions = []byte("regions") // citizen key → region ("시도" or "시도/시군구", canonical)
	// The dated delivery statistics (allimi.DeliveryCell), written by the
	// dispatcher's commits with the undated ones.
	bucketDailyStats = []byte("dstats-daily") // day(10) 0x00 region 0x00 type 0x00 channel 0x00 outcome → count(8)
)

// statsPart creates them when the store opens.
var statsPart = part{"stats", [][]byte{bucketRegions, bucketDailyStats}}

// The people counted per channel (allimi.SubscriberReports) are meta
// counters, keyPeople + channel; keyPeopleCounted says they were counted
// from the consents once (a file of an earlier build had none).
var (
	keyPeople        = []byte("people:")
	keyPeopleCounted = []byte("people-counted")
)

func peopleKey(ch allimi.Channel) []byte { return append(append([]byte{}, keyPeople...), ch...) }

// countPeopleOnce counts the people with an active grant per channel from
// the consents, once per file: a file written by an earlier build kept no
// such counters. Consents are keyed by citizen key first, so one pass
// sees each person's together.
func countPeopleOnce(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Get(keyPeopleCounted) != nil {
		return nil
	}
	counts := make([]int64, len(allimi.Channels))
	var cur []byte
	var mask byte
	flush := func() {
		for i := range allimi.Channels {
			if mask&(1<<i) != 0 {
				counts[i]++
			}
		}
	}
	err := tx.Bucket(bucketConsents).ForEach(func(k, v []byte) error {
		i := bytes.LastIndexByte(k, 0)
		if i < 0 || len(k) < ckLen {
			return nil
		}
		if cur == nil || !bytes.Equal(cur, k[:ckLen]) {
			flush()
			cur, mask = append(cur[:0], k[:ckLen]...), 0
		}
		st, err := decodeConsentState(v)
		if err != nil {
			return fmt.Errorf("consent state: %w", err)
		}
		if ci := channelIndex(allimi.Channel(k[i+1:])); st.Active() && int(ci) < len(allimi.Channels) {
			mask |= 1 << ci
		}
		return nil
	})
	if err != nil {
		return err
	}
	flush()
	for i, ch := range allimi.Channels {
		if err := meta.Put(peopleKey(ch), u64(uint64(counts[i]))); err != nil {
			return err
		}
	}
	return meta.Put(keyPeopleCounted, []byte{1})
}

// ckLen is the length of a citizen key (an HMAC-SHA256).
const ckLen = 32

// chanDelta is a change of a person's active grants per channel, indexed
// as allimi.Channels.
type chanDelta [4]int

func (d *chanDelta) add(ch allimi.Channel, n int) {
	if i := int(channelIndex(ch)); i < len(d) {
		d[i] += n
	}
}

// countPeople moves the per-channel people counters after a person's
// active grants changed by d; none says they had no consent before it.
func countPeople(tx *bbolt.Tx, tally *commitTally, ck []byte, d chanDelta, none bool) error {
	if d == (chanDelta{}) {
		return nil
	}
	var after chanDelta
	if none {
		after = d
	} else {
		c := tx.Bucket(bucketConsents).Cursor()
		for k, v := c.Seek(ck); k != nil && bytes.HasPrefix(k, ck); k, v = c.Next() {
			i := bytes.LastIndexByte(k, 0)
			if i < 0 {
				continue
			}
			st, err := decodeConsentState(v)
			if err != nil {
				return fmt.Errorf("consent state: %w", err)
			}
			if st.Active() {
				after.add(allimi.Channel(k[i+1:]), 1)
			}
		}
	}
	for i, ch := range allimi.Channels[:len(d)] {
		before := after[i] - d[i]
		var n int64
		switch {
		case before <= 0 && after[i] > 0:
			n = 1
		case before > 0 && after[i] <= 0:
			n = -1
		default:
			continue
		}
		if tally != nil {
			tally.people[i] += n
		} else if err := addU64(tx.Bucket(bucketMeta), peopleKey(ch), n); err != nil {
			return err
		}
	}
	return nil
}

// ChannelSubscribers implements allimi.SubscriberReports.
func (s *Store) ChannelSubscribers() (map[allimi.Channel]int64, error) {
	out := map[allimi.Channel]int64{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		out = channelPeopleIn(tx)
		return nil
	})
	return out, err
}

func channelPeopleIn(tx *bbolt.Tx) map[allimi.Channel]int64 {
	out := map[allimi.Channel]int64{}
	meta := tx.Bucket(bucketMeta)
	for _, ch := range allimi.Channels {
		out[ch] = int64(getU64(meta, peopleKey(ch)))
	}
	return out
}

// putRegion keeps the region of the kiosk a person signed up at; a
// sign-up at a kiosk without one forgets an earlier one (known: the person
// was stored before, so may have one).
func putRegion(tx *bbolt.Tx, ck []byte, region string, known bool) error {
	b := tx.Bucket(bucketRegions)
	if region != "" {
		return b.Put(ck, []byte(region))
	}
	if known {
		return b.Delete(ck)
	}
	return nil
}

// regions reads people's regions for the dispatcher: in citizen key
// order a cursor walks forward; an empty bucket (no kiosk has a region)
// costs one look per transaction.
type regions struct {
	c        *bbolt.Cursor
	k, v     []byte
	empty    bool
	interned map[string]string
}

func newRegions(tx *bbolt.Tx) *regions {
	c := tx.Bucket(bucketRegions).Cursor()
	k, v := c.First()
	return &regions{c: c, k: k, v: v, empty: k == nil, interned: map[string]string{}}
}

func (r *regions) get(ck []byte) string {
	if r.empty {
		return ""
	}
	for i := 0; i < 4 && r.k != nil && bytes.Compare(r.k, ck) < 0; i++ {
		r.k, r.v = r.c.Next()
	}
	if r.k == nil || !bytes.Equal(r.k, ck) {
		r.k, r.v = r.c.Seek(ck)
	}
	if r.k == nil || !bytes.Equal(r.k, ck) {
		return ""
	}
	s, ok := r.interned[string(r.v)]
	if !ok {
		s = string(r.v)
		r.interned[s] = s
	}
	return s
}

func dailyKey(c allimi.DeliveryCell) []byte {
	return []byte(c.Day + "\x00" + c.Region + "\x00" + string(c.Type) + "\x00" + string(c.Channel) + "\x00" + c.Outcome)
}

// CountDailyDeliveries implements allimi.DeliveryTx.
func (t *deliveryTx) CountDailyDeliveries(c allimi.DeliveryCell, n int64) error {
	return addU64(t.tx.Bucket(bucketDailyStats), dailyKey(c), n)
}

// DailyDeliveries implements allimi.DeliveryReports.
func (s *Store) DailyDeliveries(from, to string) ([]allimi.DeliveryCount, error) {
	if _, err := allimi.ParseKSTDay("from", from); err != nil {
		return nil, err
	}
	if _, err := allimi.ParseKSTDay("to", to); err != nil {
		return nil, err
	}
	out := []allimi.DeliveryCount{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDailyStats).Cursor()
		for k, v := c.Seek([]byte(from)); k != nil && string(k[:min(len(k), 10)]) <= to; k, v = c.Next() {
			p := bytes.SplitN(k, []byte{0}, 5)
			if len(p) != 5 || len(v) != 8 {
				return fmt.Errorf("dated statistics %q: damaged", k)
			}
			out = append(out, allimi.DeliveryCount{DeliveryCell: allimi.DeliveryCell{Day: string(p[0]), Region: string(p[1]),
				Type: allimi.NotificationType(p[2]), Channel: allimi.Channel(p[3]), Outcome: string(p[4])}, N: int64(binary.BigEndian.Uint64(v))})
		}
		return nil
	})
	return out, err
}

// NotificationChannels implements allimi.DeliveryReports: one pass over
// the notification's delivery blocks, channel by channel.
func (s *Store) NotificationChannels(id uint64) (map[allimi.Channel]allimi.ChannelStates, error) {
	out := map[allimi.Channel]allimi.ChannelStates{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketDeliveries).Cursor()
		prefix := u64(id)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != 13 || int(k[8]) >= len(allimi.Channels) {
				return fmt.Errorf("deliveries entry %x: damaged", k)
			}
			ch := allimi.Channels[k[8]]
			cs := out[ch]
			var derr error
			err := eachSlot(v, func(_ int, rec []byte) bool {
				if len(rec) == 0 {
					return true
				}
				d, err := decodeDelivery(rec)
				if err != nil {
					derr = err
					return false
				}
				cs.Add(d)
				return true
			})
			if err == nil {
				err = derr
			}
			if err != nil {
				return fmt.Errorf("notification %d: %w", id, err)
			}
			out[ch] = cs
		}
		return nil
	})
	return out, err
}

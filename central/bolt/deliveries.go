package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

// The deliveries part of the store keeps each delivery's state, its queue,
// and what keeps a message from going twice. Its buckets, and what their
// keys and values hold:
var (
	bucketDeliveries    = []byte("deliveries")  // id | channel(1) | block(4) → deliveries (see deliveryblocks.go)
	bucketDue           = []byte("due")         // channel(1) | due ms(8) | id | seq(4) → flags(1)
	bucketDeadLetters   = []byte("deadletters") // id | seq(4) | channel(1) → DeadLetter
	bucketDeliveryStats = []byte("dstats")      // type 0x00 channel 0x00 metric → count
	// A receipt can overtake the commit of its own acceptance (or a crash
	// can lose that commit, and the resend is then acknowledged without a
	// second receipt): such receipts wait here for their delivery.
	bucketEarlyReceipts = []byte("early-receipts") // id | seq(4) | channel(1) → ProviderReceipt
	bucketSendIntents   = []byte("send-intents")   // channel(1) | id(8) | seq(4) → at(8) | group(8) | flags(1) | fresh(1)
	bucketQueueIntents  = []byte("queue-intents")  // channel(1) | message key → at ms(8) | group(8)
)

// deliveriesPart creates them when the store opens.
var deliveriesPart = part{"deliveries", [][]byte{
	bucketDeliveries, bucketDue, bucketDeadLetters, bucketDeliveryStats, bucketEarlyReceipts,
	bucketSendIntents, bucketQueueIntents}}

// deliveryFixed is the size of a record without its reason.
const deliveryFixed = 19

func appendDelivery(b []byte, d *allimi.DeliveryRecord) []byte {
	b = append(b, byte(d.State), d.Attempts, d.Flags)
	b = binary.BigEndian.AppendUint64(b, uint64(d.First))
	b = binary.BigEndian.AppendUint64(b, uint64(d.Updated))
	return append(b, d.Reason...)
}

func decodeDelivery(v []byte) (allimi.DeliveryRecord, error) {
	if len(v) < deliveryFixed {
		return allimi.DeliveryRecord{}, errors.New("damaged delivery record")
	}
	return allimi.DeliveryRecord{State: allimi.DeliveryState(v[0]), Attempts: v[1], Flags: v[2],
		First: int64(binary.BigEndian.Uint64(v[3:])), Updated: int64(binary.BigEndian.Uint64(v[11:])),
		Reason: string(v[19:])}, nil
}

// refKey is the key of a delivery in the deliveries, dead-letter and
// early-receipt buckets: notification id(8) | recipient seq(4) | channel(1).
func refKey(r allimi.DeliveryRef) []byte {
	return append(recipientKey(r.Notification, r.Seq), channelIndex(r.Channel))
}

// recipientKey is notification id(8) | recipient seq(4).
func recipientKey(id uint64, seq uint32) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 13), id)
	return binary.BigEndian.AppendUint32(k, seq)
}

// channelIndex is a channel's byte in keys: its place in allimi.Channels.
func channelIndex(ch allimi.Channel) byte {
	for i, c := range allimi.Channels {
		if c == ch {
			return byte(i)
		}
	}
	return 0xff
}

// dueKey is the key of a due entry: channel(1) | due ms(8) | id(8) | seq(4).
func dueKey(r allimi.DeliveryRef, due time.Time) []byte {
	k := []byte{channelIndex(r.Channel)}
	k = binary.BigEndian.AppendUint64(k, uint64(due.UnixMilli()))
	return append(k, recipientKey(r.Notification, r.Seq)...)
}

// DeliveryStats reads the table.
func (s *Store) DeliveryStats() (allimi.DeliveryStats, error) {
	out := allimi.DeliveryStats{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		put := func(t, ch, m string, n int64) {
			if out[t] == nil {
				out[t] = map[string]map[string]int64{}
			}
			if out[t][ch] == nil {
				out[t][ch] = map[string]int64{}
			}
			out[t][ch][m] = n
		}
		if err := tx.Bucket(bucketActive).ForEach(func(k, v []byte) error {
			t, ch, _ := bytes.Cut(k, []byte{0})
			put(string(t), string(ch), "subscribers", int64(binary.BigEndian.Uint64(v)))
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketDeliveryStats).ForEach(func(k, v []byte) error {
			p := bytes.SplitN(k, []byte{0}, 3)
			if len(p) == 3 {
				put(string(p[0]), string(p[1]), string(p[2]), int64(binary.BigEndian.Uint64(v)))
			}
			return nil
		})
	})
	return out, err
}

// DeadLetters lists parked deliveries, oldest first, at most limit.
func (s *Store) DeadLetters(limit int) ([]allimi.DeadLetter, int, error) {
	out := []allimi.DeadLetter{}
	total := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDeadLetters)
		total = b.Stats().KeyN
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var d allimi.DeadLetter
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, total, err
}

// ReplayDeadLetters puts parked deliveries back in the queue with a fresh
// retry horizon: the one named by key, or all when key is empty.
func (s *Store) ReplayDeadLetters(key string) (int, error) {
	var only []byte
	if key != "" {
		r, err := allimi.ParseDeliveryKey(key)
		if err != nil {
			return 0, err
		}
		only = refKey(r)
	}
	n := 0
	now := s.now()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		dl, dv := tx.Bucket(bucketDeadLetters), newDeliveryWriter(tx, s.log)
		var keys [][]byte
		if only != nil {
			if dl.Get(only) == nil {
				return fmt.Errorf("dead letter %s: %w", key, allimi.ErrNotFound)
			}
			keys = [][]byte{only}
		} else {
			_ = dl.ForEach(func(k, _ []byte) error {
				keys = append(keys, append([]byte(nil), k...))
				return nil
			})
		}
		for _, k := range keys {
			r := allimi.DeliveryRef{Notification: binary.BigEndian.Uint64(k), Seq: binary.BigEndian.Uint32(k[8:]), Channel: allimi.Channels[k[12]]}
			d, _ := dv.Get(r)
			d.State, d.Attempts, d.First, d.Updated, d.Reason = allimi.DeliveryRetrying, 0, 0, now.UnixMilli(), "replayed"
			if err := dv.Put(r, d); err != nil {
				return err
			}
			if err := tx.Bucket(bucketDue).Put(dueKey(r, now), []byte{d.Flags}); err != nil {
				return err
			}
			if err := dl.Delete(k); err != nil {
				return err
			}
			n++
		}
		return dv.Flush()
	})
	return n, err
}

// DeliveryStatus reads one delivery's state.
func (s *Store) DeliveryStatus(r allimi.DeliveryRef) (allimi.DeliveryState, string, error) {
	var d allimi.DeliveryRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		d, _, err = getDelivery(tx, r) // none: queued
		return err
	})
	return d.State, d.Reason, err
}

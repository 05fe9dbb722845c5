package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

var (
	bucketDeliveries    = []byte("deliveries")  // id | channel(1) | block(4) → deliveries (see deliveryblocks.go)
	BucketDue           = []byte("due")         // channel(1) | due ms(8) | id | seq(4) → flags(1)
	BucketDeadLetters   = []byte("deadletters") // id | seq(4) | channel(1) → DeadLetter
	BucketDeliveryStats = []byte("dstats")      // type 0x00 channel 0x00 metric → count
	// A receipt can overtake the commit of its own acceptance (or a crash
	// can lose that commit, and the resend is then acknowledged without a
	// second receipt): such receipts wait here for their delivery.
	BucketEarlyReceipts = []byte("early-receipts") // id | seq(4) | channel(1) → Receipt
)

// DeliveryState is where one delivery (notification × citizen × channel) stands.
// A delivery has no record while queued; "sending" lives only in memory, for
// the time of one provider request, whose send-intent (sendintents.go) says
// after a crash that the provider must be asked before anything is resent.
type DeliveryState byte

// Delivery states.
const (
	StateQueued DeliveryState = iota
	StateAccepted
	StateDelivered
	StateFailed   // failed on this channel and nothing more to do here
	StateFellBack // failed on this channel; an SMS/LMS took over
	StateRetrying
	StateDeadLetter
	StateExpired
)

var stateNames = []string{"queued", "accepted", "delivered", "failed", "fellBack", "retrying", "deadLetter", "expired"}

func (s DeliveryState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Delivery flags.
const FlagFallback byte = 1 // an SMS/LMS standing in for a messenger that could not deliver

type Delivery struct {
	State    DeliveryState
	Attempts byte
	Flags    byte
	First    int64 // unix milliseconds of the first attempt
	Updated  int64 // unix milliseconds
	Reason   string
}

// deliveryFixed is the size of a record without its reason.
const deliveryFixed = 19

func (d *Delivery) appendTo(b []byte) []byte {
	b = append(b, byte(d.State), d.Attempts, d.Flags)
	b = binary.BigEndian.AppendUint64(b, uint64(d.First))
	b = binary.BigEndian.AppendUint64(b, uint64(d.Updated))
	return append(b, d.Reason...)
}

func decodeDelivery(v []byte) (Delivery, error) {
	if len(v) < deliveryFixed {
		return Delivery{}, errors.New("damaged delivery record")
	}
	return Delivery{State: DeliveryState(v[0]), Attempts: v[1], Flags: v[2],
		First: int64(binary.BigEndian.Uint64(v[3:])), Updated: int64(binary.BigEndian.Uint64(v[11:])),
		Reason: string(v[19:])}, nil
}

// DeliveryRef names one delivery.
type DeliveryRef struct {
	Notification uint64
	Seq          uint32
	Channel      allimi.Channel
}

// Key is the idempotency key providers see: stable across resends.
func (r DeliveryRef) Key() string {
	return "a" + strconv.FormatUint(r.Notification, 10) + "-" + strconv.FormatUint(uint64(r.Seq), 10) + "-" + string(r.Channel)
}

// ParseDeliveryKey reverses Key.
func ParseDeliveryKey(k string) (DeliveryRef, error) {
	parts := strings.Split(strings.TrimPrefix(k, "a"), "-")
	if !strings.HasPrefix(k, "a") || len(parts) != 3 {
		return DeliveryRef{}, fmt.Errorf("delivery key %q: %w", k, allimi.ErrInvalid)
	}
	id, err1 := strconv.ParseUint(parts[0], 10, 64)
	seq, err2 := strconv.ParseUint(parts[1], 10, 32)
	ch := allimi.Channel(parts[2])
	if err1 != nil || err2 != nil || ch.Validate() != nil {
		return DeliveryRef{}, fmt.Errorf("delivery key %q: %w", k, allimi.ErrInvalid)
	}
	return DeliveryRef{id, uint32(seq), ch}, nil
}

func (r DeliveryRef) DbKey() []byte {
	return append(recipientKey(r.Notification, r.Seq), ChannelIndex(r.Channel))
}

// recipientKey is notification id(8) | recipient seq(4).
func recipientKey(id uint64, seq uint32) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 13), id)
	return binary.BigEndian.AppendUint32(k, seq)
}

func ChannelIndex(ch allimi.Channel) byte {
	for i, c := range allimi.Channels {
		if c == ch {
			return byte(i)
		}
	}
	return 0xff
}

func DueKey(r DeliveryRef, due time.Time) []byte {
	k := []byte{ChannelIndex(r.Channel)}
	k = binary.BigEndian.AppendUint64(k, uint64(due.UnixMilli()))
	return append(k, recipientKey(r.Notification, r.Seq)...)
}

// DeliveryStats are the service's own table: per type and channel,
// subscribers and what happened to the messages.
type DeliveryStats map[string]map[string]map[string]int64

// DeliveryStats reads the table.
func (s *Store) DeliveryStats() (DeliveryStats, error) {
	out := DeliveryStats{}
	err := s.Db.View(func(tx *bbolt.Tx) error {
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
		return tx.Bucket(BucketDeliveryStats).ForEach(func(k, v []byte) error {
			p := bytes.SplitN(k, []byte{0}, 3)
			if len(p) == 3 {
				put(string(p[0]), string(p[1]), string(p[2]), int64(binary.BigEndian.Uint64(v)))
			}
			return nil
		})
	})
	return out, err
}

// DeadLetter is a delivery that will not be tried again unless an operator replays it.
type DeadLetter struct {
	ID           string                  `json:"id"` // the delivery key
	Notification uint64                  `json:"notification"`
	Type         allimi.NotificationType `json:"type"`
	Channel      allimi.Channel          `json:"channel"`
	Reason       string                  `json:"reason"`
	Attempts     int                     `json:"attempts"`
	At           time.Time               `json:"at"`
}

// DeadLetters lists parked deliveries, oldest first, at most limit.
func (s *Store) DeadLetters(limit int) ([]DeadLetter, int, error) {
	out := []DeadLetter{}
	total := 0
	err := s.Db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(BucketDeadLetters)
		total = b.Stats().KeyN
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var d DeadLetter
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
		r, err := ParseDeliveryKey(key)
		if err != nil {
			return 0, err
		}
		only = r.DbKey()
	}
	n := 0
	now := s.now()
	err := s.Db.Update(func(tx *bbolt.Tx) error {
		dl, dv := tx.Bucket(BucketDeadLetters), NewDeliveryWriter(tx, s.log)
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
			r := DeliveryRef{Notification: binary.BigEndian.Uint64(k), Seq: binary.BigEndian.Uint32(k[8:]), Channel: allimi.Channels[k[12]]}
			d, _ := dv.Get(r)
			d.State, d.Attempts, d.First, d.Updated, d.Reason = StateRetrying, 0, 0, now.UnixMilli(), "replayed"
			if err := dv.Put(r, d); err != nil {
				return err
			}
			if err := tx.Bucket(BucketDue).Put(DueKey(r, now), []byte{d.Flags}); err != nil {
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
func (s *Store) DeliveryStatus(r DeliveryRef) (DeliveryState, string, error) {
	var d Delivery
	err := s.Db.View(func(tx *bbolt.Tx) error {
		var err error
		d, _, err = getDelivery(tx, r) // none: queued
		return err
	})
	return d.State, d.Reason, err
}

package central

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
	bucketDue           = []byte("due")         // channel(1) | due ms(8) | id | seq(4) → flags(1)
	bucketDeadLetters   = []byte("deadletters") // id | seq(4) | channel(1) → DeadLetter
	bucketDeliveryStats = []byte("dstats")      // type 0x00 channel 0x00 metric → count
	// A receipt can overtake the commit of its own acceptance (or a crash
	// can lose that commit, and the resend is then acknowledged without a
	// second receipt): such receipts wait here for their delivery.
	bucketEarlyReceipts = []byte("early-receipts") // id | seq(4) | channel(1) → Receipt
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
const flagFallback byte = 1 // an SMS/LMS standing in for a messenger that could not deliver

type delivery struct {
	State    DeliveryState
	Attempts byte
	Flags    byte
	First    int64 // unix milliseconds of the first attempt
	Updated  int64 // unix milliseconds
	Reason   string
}

// deliveryFixed is the size of a record without its reason.
const deliveryFixed = 19

func (d *delivery) appendTo(b []byte) []byte {
	b = append(b, byte(d.State), d.Attempts, d.Flags)
	b = binary.BigEndian.AppendUint64(b, uint64(d.First))
	b = binary.BigEndian.AppendUint64(b, uint64(d.Updated))
	return append(b, d.Reason...)
}

func decodeDelivery(v []byte) (delivery, error) {
	if len(v) < deliveryFixed {
		return delivery{}, errors.New("damaged delivery record")
	}
	return delivery{State: DeliveryState(v[0]), Attempts: v[1], Flags: v[2],
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

func (r DeliveryRef) dbKey() []byte {
	return append(recipientKey(r.Notification, r.Seq), channelIndex(r.Channel))
}

// recipientKey is notification id(8) | recipient seq(4).
func recipientKey(id uint64, seq uint32) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 13), id)
	return binary.BigEndian.AppendUint32(k, seq)
}

func channelIndex(ch allimi.Channel) byte {
	for i, c := range allimi.Channels {
		if c == ch {
			return byte(i)
		}
	}
	return 0xff
}

func dueKey(r DeliveryRef, due time.Time) []byte {
	k := []byte{channelIndex(r.Channel)}
	k = binary.BigEndian.AppendUint64(k, uint64(due.UnixMilli()))
	return append(k, recipientKey(r.Notification, r.Seq)...)
}

func parseDueKey(k []byte) (DeliveryRef, time.Time) {
	return DeliveryRef{Notification: binary.BigEndian.Uint64(k[9:]), Seq: binary.BigEndian.Uint32(k[17:]),
		Channel: allimi.Channels[k[0]]}, time.UnixMilli(int64(binary.BigEndian.Uint64(k[1:])))
}

// Delivery metrics, per type and channel.
const (
	MetricSent       = "sent" // accepted by the provider
	MetricDelivered  = "delivered"
	MetricFailed     = "failed"
	MetricFellBack   = "fellBack"
	MetricDeadLetter = "deadLetter"
	MetricExpired    = "expired"
	MetricRetried    = "retried"
)

// statDelta gathers a transaction's metric changes, written once at its end.
type statDelta map[statKey]int64

// statKey names one counter: its stored key is type 0x00 channel 0x00 metric.
type statKey struct {
	t      allimi.NotificationType
	ch     allimi.Channel
	metric string
}

func (d statDelta) add(t allimi.NotificationType, ch allimi.Channel, metric string, n int64) {
	d[statKey{t, ch, metric}] += n
}

func (d statDelta) write(tx *bbolt.Tx) error {
	b := tx.Bucket(bucketDeliveryStats)
	for k, n := range d {
		if err := addU64(b, []byte(string(k.t)+"\x00"+string(k.ch)+"\x00"+k.metric), n); err != nil {
			return err
		}
	}
	return nil
}

// DeliveryStats are the service's own table: per type and channel,
// subscribers and what happened to the messages.
type DeliveryStats map[string]map[string]map[string]int64

// DeliveryStats reads the table.
func (s *Store) DeliveryStats() (DeliveryStats, error) {
	out := DeliveryStats{}
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

func putDeadLetter(tx *bbolt.Tx, r DeliveryRef, t allimi.NotificationType, d delivery, now time.Time) error {
	v, _ := json.Marshal(DeadLetter{ID: r.Key(), Notification: r.Notification, Type: t, Channel: r.Channel,
		Reason: d.Reason, Attempts: int(d.Attempts), At: now.UTC()})
	return tx.Bucket(bucketDeadLetters).Put(r.dbKey(), v)
}

// DeadLetters lists parked deliveries, oldest first, at most limit.
func (s *Store) DeadLetters(limit int) ([]DeadLetter, int, error) {
	out := []DeadLetter{}
	total := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDeadLetters)
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
		only = r.dbKey()
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
			r := DeliveryRef{Notification: binary.BigEndian.Uint64(k), Seq: binary.BigEndian.Uint32(k[8:]), Channel: allimi.Channels[k[12]]}
			d, _ := dv.get(r)
			d.State, d.Attempts, d.First, d.Updated, d.Reason = StateRetrying, 0, 0, now.UnixMilli(), "replayed"
			if err := dv.put(r, d); err != nil {
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
		return dv.flush()
	})
	return n, err
}

// DeliveryStatus reads one delivery's state.
func (s *Store) DeliveryStatus(r DeliveryRef) (DeliveryState, string, error) {
	var d delivery
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		d, _, err = getDelivery(tx, r) // none: queued
		return err
	})
	return d.State, d.Reason, err
}

package central

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/bolt"
)

func parseDueKey(k []byte) (allimi.DeliveryRef, time.Time) {
	return allimi.DeliveryRef{Notification: binary.BigEndian.Uint64(k[9:]), Seq: binary.BigEndian.Uint32(k[17:]),
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
	b := tx.Bucket(bolt.BucketDeliveryStats)
	for k, n := range d {
		if err := bolt.AddU64(b, []byte(string(k.t)+"\x00"+string(k.ch)+"\x00"+k.metric), n); err != nil {
			return err
		}
	}
	return nil
}

func putDeadLetter(tx *bbolt.Tx, r allimi.DeliveryRef, t allimi.NotificationType, d bolt.Delivery, now time.Time) error {
	v, _ := json.Marshal(allimi.DeadLetter{ID: r.Key(), Notification: r.Notification, Type: t, Channel: r.Channel,
		Reason: d.Reason, Attempts: int(d.Attempts), At: now.UTC()})
	return tx.Bucket(bolt.BucketDeadLetters).Put(bolt.RefKey(r), v)
}

package bolt

import (
	"encoding/binary"

	"go.etcd.io/bbolt"

	"allimi"
)

// The durable send queues (sign-up confirmations, officials' answers) send
// a message, then record that it went. A crash between the two sent it
// again, and only a provider that drops a repeated key made that safe; NHN
// Cloud and Naver SENS do not. So, as the dispatcher does with
// send-intents, a queue commits an intent before each request and forgets
// it once it has recorded the answer (central/notify/sendonce.go).

func queueIntentKey(ch allimi.Channel, key string) []byte {
	return append([]byte{channelIndex(ch)}, key...)
}

// QueueIntents implements allimi.QueueIntents.
func (s *Store) QueueIntents(ch allimi.Channel, keys []string) (map[string]allimi.QueueIntent, error) {
	out := map[string]allimi.QueueIntent{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketQueueIntents)
		for _, k := range keys {
			if v := b.Get(queueIntentKey(ch, k)); len(v) == 16 {
				out[k] = allimi.QueueIntent{At: int64(binary.BigEndian.Uint64(v)), Group: binary.BigEndian.Uint64(v[8:])}
			}
		}
		return nil
	})
	return out, err
}

// PutQueueIntents implements allimi.QueueIntents.
func (s *Store) PutQueueIntents(ch allimi.Channel, keys []string, in allimi.QueueIntent) error {
	v := binary.BigEndian.AppendUint64(nil, uint64(in.At))
	v = binary.BigEndian.AppendUint64(v, in.Group)
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketQueueIntents)
		for _, k := range keys {
			if err := b.Put(queueIntentKey(ch, k), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// QueueSettled implements allimi.QueueIntents. A crash just before leaves
// intents of messages no longer queued: they are never looked at again,
// and cost a few bytes.
func (s *Store) QueueSettled(ch allimi.Channel, keys ...string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketQueueIntents)
		for _, k := range keys {
			if err := b.Delete(queueIntentKey(ch, k)); err != nil {
				return err
			}
		}
		return nil
	})
}

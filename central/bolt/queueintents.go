package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/channel"
)

// The durable send queues (sign-up confirmations, officials' answers) send
// a message, then record that it went. A crash between the two sent it
// again, and only a provider that drops a repeated key made that safe; NHN
// Cloud and Naver SENS do not. So, as the dispatcher does (sendintents.go),
// a queue commits an intent before each request and forgets it once it has
// recorded the answer; a message found with an intent is first looked up at
// the provider.
var bucketQueueIntents = []byte("queue-intents") // channel(1) | message key → at ms(8) | group(8)

func queueIntentKey(ch allimi.Channel, key string) []byte {
	return append([]byte{channelIndex(ch)}, key...)
}

// SendOnce sends msgs through a, each at most once whatever crash comes
// between its request and the caller's record of the answer. It returns
// one result per message, in order. A message with an intent left from a
// request whose answer was lost is not sent but looked up: Accepted if
// the provider has it, else sent now. If the provider cannot be asked,
// nothing is sent and the error is returned: the caller tries again later.
// The caller calls queueSettled once it has recorded the answers.
func (s *Store) SendOnce(ctx context.Context, a channel.Adapter, msgs []channel.Message) ([]channel.Result, error) {
	ch := a.Channel()
	type doubt struct {
		i     int
		at    int64
		group uint64
	}
	var doubts []doubt
	err := s.Db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketQueueIntents)
		for i, m := range msgs {
			if v := b.Get(queueIntentKey(ch, m.Key)); len(v) == 16 {
				doubts = append(doubts, doubt{i, int64(binary.BigEndian.Uint64(v)), binary.BigEndian.Uint64(v[8:])})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	results := make([]channel.Result, len(msgs))
	known := make([]bool, len(msgs))
	if len(doubts) > 0 {
		finder, ok := a.(channel.Finder)
		if ok {
			asked := make([]channel.Message, len(doubts))
			since := doubts[0].at
			for j, d := range doubts {
				asked[j] = msgs[d.i]
				asked[j].Group = channel.GroupName(d.group)
				since = min(since, d.at)
			}
			found, err := finder.Find(ctx, time.UnixMilli(since), asked)
			if err == nil && len(found) != len(asked) {
				err = fmt.Errorf("%d answers for %d messages", len(found), len(asked))
			}
			if err != nil {
				return nil, fmt.Errorf("%s: asking what became of a request whose answer was lost: %w", ch, err)
			}
			for j, d := range doubts {
				if found[j].Status == channel.Accepted {
					results[d.i], known[d.i] = found[j], true
				}
			}
		}
	}
	var send []channel.Message
	var at []int
	for i := range msgs {
		if !known[i] {
			send = append(send, msgs[i])
			at = append(at, i)
		}
	}
	if len(send) == 0 {
		return results, nil
	}
	group := rand.Uint64() | 1
	v := binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixMilli()))
	v = binary.BigEndian.AppendUint64(v, group)
	if err := s.Db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketQueueIntents)
		for i := range send {
			send[i].Group = channel.GroupName(group)
			if err := b.Put(queueIntentKey(ch, send[i].Key), v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("send intents: %w", err)
	}
	res, err := a.Send(ctx, send)
	if err != nil {
		return nil, err // the intents stay: the next try asks first
	}
	if len(res) != len(send) {
		return nil, fmt.Errorf("%s answered for %d messages, not %d", ch, len(res), len(send))
	}
	for j, i := range at {
		results[i] = res[j]
	}
	return results, nil
}

// QueueSettled forgets the intents of messages whose answers are recorded.
// A crash just before leaves intents of messages no longer queued: they are
// never looked at again, and cost a few bytes.
func (s *Store) QueueSettled(ch allimi.Channel, keys ...string) error {
	return s.Db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketQueueIntents)
		for _, k := range keys {
			if err := b.Delete(queueIntentKey(ch, k)); err != nil {
				return err
			}
		}
		return nil
	})
}

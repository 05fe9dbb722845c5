package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"allimi"
	"allimi/central/channel"
)

// SendOnce sends msgs through a for a durable send queue (sign-up
// confirmations, officials' answers), each at most once whatever crash
// comes between its request and the caller's record of the answer: it
// commits an intent per message before the request. It returns one result
// per message, in order. A message with an intent left from a request
// whose answer was lost is not sent but looked up: Accepted if the
// provider has it, else sent now. If the provider cannot be asked, nothing
// is sent and the error is returned: the caller tries again later. The
// caller calls store.QueueSettled once it has recorded the answers.
func SendOnce(ctx context.Context, store allimi.QueueIntents, a channel.Adapter, msgs []channel.Message) ([]channel.Result, error) {
	ch := a.Channel()
	keys := make([]string, len(msgs))
	for i, m := range msgs {
		keys[i] = m.Key
	}
	have, err := store.QueueIntents(ch, keys)
	if err != nil {
		return nil, err
	}
	type doubt struct {
		i  int
		in allimi.QueueIntent
	}
	var doubts []doubt
	for i, m := range msgs {
		if in, ok := have[m.Key]; ok {
			doubts = append(doubts, doubt{i, in})
		}
	}
	results := make([]channel.Result, len(msgs))
	known := make([]bool, len(msgs))
	if finder, ok := a.(channel.Finder); ok && len(doubts) > 0 {
		asked := make([]channel.Message, len(doubts))
		since := doubts[0].in.At
		for j, d := range doubts {
			asked[j] = msgs[d.i]
			asked[j].Group = channel.GroupName(d.in.Group)
			since = min(since, d.in.At)
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
	in := allimi.QueueIntent{At: time.Now().UnixMilli(), Group: rand.Uint64() | 1}
	keys = keys[:0]
	for i := range send {
		send[i].Group = channel.GroupName(in.Group)
		keys = append(keys, send[i].Key)
	}
	if err := store.PutQueueIntents(ch, keys, in); err != nil {
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

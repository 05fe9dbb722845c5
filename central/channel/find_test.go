package channel

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// withGroup names the request of msgs as the dispatcher does.
func withGroup(msgs []Message, g string) []Message {
	for i := range msgs {
		msgs[i].Group = g
	}
	return msgs
}

func TestFind_SentMessagesAreFoundAndOthersAreNot(t *testing.T) {
	for _, ch := range allimi.Channels {
		for _, lean := range []bool{false, true} {
			name := string(ch)
			if lean {
				name += "/lean"
			}
			t.Run(name, func(t *testing.T) {
				env := newFakeEnv(t, FakeOptions{NoDedupe: true, Lean: lean}, nil)
				a := env.adapters[ch]
				f, ok := a.(Finder)
				require.True(t, ok, "%s has a result query", ch)
				since := time.Now()
				sent := withGroup(testMessages(ch, "sent", 12), "allimi-g1")
				_, err := a.Send(context.Background(), sent)
				require.NoError(t, err)
				// Lost before it left: a request named, never made.
				lost := withGroup(testMessages(ch, "lost", 3), "allimi-g2")
				for i := range lost {
					lost[i].Recipient = sent[i].Recipient // the same people: only the message tells them apart
					lost[i].Text += " (2)"
				}

				res, err := f.Find(context.Background(), since, append(append([]Message{}, sent...), lost...))
				require.NoError(t, err)
				require.Len(t, res, 15)
				for i, r := range res[:12] {
					assert.Equal(t, sent[i].Key, r.Key)
					assert.Equal(t, Accepted, r.Status, "%s was taken", r.Key)
				}
				for _, r := range res[12:] {
					assert.Equal(t, NotFound, r.Status, "%s was never sent", r.Key)
				}
				assert.Positive(t, env.fake.Stats().Lookups[ch])
			})
		}
	}
}

func TestFind_WithoutAGroupEachMessageIsLookedUpByItsKey(t *testing.T) {
	for _, ch := range []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS} {
		t.Run(string(ch), func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{NoDedupe: true}, nil)
			a := env.adapters[ch]
			sent := testMessages(ch, "plain", 4)
			_, err := a.Send(context.Background(), sent)
			require.NoError(t, err)
			res, err := a.(Finder).Find(context.Background(), time.Now().Add(-time.Minute),
				append(sent[:2:2], testMessages(ch, "never", 1)...))
			require.NoError(t, err)
			assert.Equal(t, []Status{Accepted, Accepted, NotFound}, []Status{res[0].Status, res[1].Status, res[2].Status})
		})
	}
}

func TestFind_FailingQueryIsAnErrorNotAnAnswer(t *testing.T) {
	for _, ch := range allimi.Channels {
		t.Run(string(ch), func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{NoDedupe: true, Faults: []Fault{{Channel: ch, Kind: FaultLookup, Rate: 1}}}, nil)
			a := env.adapters[ch]
			msgs := withGroup(testMessages(ch, "q", 2), "allimi-g3")
			_, err := a.Send(context.Background(), msgs)
			require.NoError(t, err, "the fault strikes the query only")
			res, err := a.(Finder).Find(context.Background(), time.Now().Add(-time.Minute), msgs)
			require.Error(t, err)
			assert.Nil(t, res, "no answer to act on")
			var un *UnavailableError
			assert.True(t, errors.As(err, &un), "a 500 is the provider being unavailable: %v", err)
		})
	}
}

func TestFake_NoDedupeTakesAResentKeyAsANewMessageAndListsIt(t *testing.T) {
	for _, ch := range allimi.Channels {
		for _, lean := range []bool{false, true} {
			name := string(ch)
			if lean {
				name += "/lean"
			}
			t.Run(name, func(t *testing.T) {
				env := newFakeEnv(t, FakeOptions{NoDedupe: true, Lean: lean}, nil)
				a := env.adapters[ch]
				batch := testMessages(ch, "again", 5)
				for range 2 {
					res, err := a.Send(context.Background(), batch)
					require.NoError(t, err)
					for _, r := range res {
						assert.Equal(t, Accepted, r.Status)
					}
				}
				st := env.fake.Stats()
				assert.EqualValues(t, 10, st.Accepted[ch], "both sends taken")
				assert.EqualValues(t, 5, st.Repeats[ch])
				assert.Zero(t, st.Duplicates[ch], "nothing recognised")
				count := map[string]int{}
				for _, m := range env.fake.Messages(ch) {
					count[m.IdempotencyKey]++
				}
				for _, m := range batch {
					assert.Equal(t, 2, count[m.Key], "%s listed once per acceptance", m.Key)
				}
			})
		}
	}
}

func TestFake_LostAnswerSendsTheMessagesButAnswersNothing(t *testing.T) {
	for _, ch := range allimi.Channels {
		t.Run(string(ch), func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{NoDedupe: true, Faults: []Fault{{Channel: ch, Kind: FaultLostAnswer, Rate: 1}}}, nil)
			a := env.adapters[ch]
			batch := testMessages(ch, "lost", 3)
			_, err := a.Send(context.Background(), batch)
			var ue *UnavailableError
			require.ErrorAs(t, err, &ue, "the caller cannot tell this from a request that never arrived")
			taken := map[string]bool{}
			for _, m := range env.fake.Messages(ch) {
				taken[m.IdempotencyKey] = true
			}
			// The SMS gateway takes SMS and LMS in requests of their own,
			// and the adapter stops at the first that fails.
			assert.NotEmpty(t, taken, "yet the provider took the messages")

			res, err := a.(Finder).Find(context.Background(), time.Now().Add(-time.Minute), batch)
			require.NoError(t, err)
			for i, r := range res {
				want := NotFound
				if taken[batch[i].Key] {
					want = Accepted
				}
				assert.Equal(t, want, r.Status, "the result query knows about %s", batch[i].Key)
			}
		})
	}
}

// A request with an Idempotency-Key header (Toss, the Naver app) whose
// answer is lost on a reused connection is not replayed by net/http: the
// provider would take it twice.
func TestAdapters_LostAnswerIsNotReplayedByTheTransport(t *testing.T) {
	for _, ch := range []allimi.Channel{allimi.ChannelToss, allimi.ChannelNaver} {
		t.Run(string(ch), func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{NoDedupe: true}, nil)
			a := env.adapters[ch]
			for i := range 3 { // connections to reuse
				_, err := a.Send(context.Background(), testMessages(ch, fmt.Sprint("warm", i), 1))
				require.NoError(t, err)
			}
			require.NoError(t, env.fake.SetFault(Fault{Channel: ch, Kind: FaultLostAnswer, Rate: 1}))
			for i := range 5 {
				_, err := a.Send(context.Background(), testMessages(ch, fmt.Sprint("lost", i), 2))
				var ue *UnavailableError
				require.ErrorAs(t, err, &ue)
			}
			st := env.fake.Stats()
			assert.Zero(t, st.Repeats[ch], "each request taken once")
			assert.EqualValues(t, 13, st.Accepted[ch])
		})
	}
}

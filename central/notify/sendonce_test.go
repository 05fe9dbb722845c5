package notify

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/channel"
	"allimi/central/memstore"
)

// queueStores are the implementations of allimi.QueueIntents SendOnce is
// tested against.
var queueStores = []struct {
	name string
	open func(t *testing.T) allimi.QueueIntents
}{
	{"bolt", func(t *testing.T) allimi.QueueIntents { return stores[0].open(t, 0).(allimi.QueueIntents) }},
	{"memory", func(t *testing.T) allimi.QueueIntents { return memstore.New(nil) }},
}

// forEachQueueStore runs test with each implementation, the SMS gateway of
// fake providers that take every request as new, and two messages.
func forEachQueueStore(t *testing.T, test func(t *testing.T, s allimi.QueueIntents, fake *channel.Fake, sms channel.Adapter, msgs []channel.Message)) {
	for _, qs := range queueStores {
		t.Run(qs.name, func(t *testing.T) {
			fake, sms, msgs := queueRig(t)
			test(t, qs.open(t), fake, sms, msgs)
		})
	}
}

func queueRig(t *testing.T) (*channel.Fake, channel.Adapter, []channel.Message) {
	t.Helper()
	fake := channel.NewFake(channel.FakeOptions{NoDedupe: true})
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	cfg := channel.DefaultConfig()
	cfg.SetBaseURL(srv.URL)
	ads, err := channel.New(cfg, nil)
	require.NoError(t, err)
	msgs := []channel.Message{
		{Key: "cf-a", Recipient: "010-3000-0001", Text: "가입이 확인되었습니다"},
		{Key: "cf-b", Recipient: "010-3000-0002", Text: "가입이 확인되었습니다"},
	}
	return fake, ads[allimi.ChannelSMS], msgs
}

func TestQueueIntents_AnswerLostAfterTheRequestIsLookedUpNotResent(t *testing.T) {
	forEachQueueStore(t, func(t *testing.T, s allimi.QueueIntents, fake *channel.Fake, sms channel.Adapter, msgs []channel.Message) {
		_, err := SendOnce(context.Background(), s, sms, msgs)
		require.NoError(t, err)
		// Crash: the queue never records the answer, and tries again.
		res, err := SendOnce(context.Background(), s, sms, msgs)
		require.NoError(t, err)
		for _, r := range res {
			assert.Equal(t, channel.Accepted, r.Status, "%s: the provider has it", r.Key)
		}
		st := fake.Stats()
		assert.EqualValues(t, 2, st.Accepted[allimi.ChannelSMS])
		assert.Zero(t, st.Repeats[allimi.ChannelSMS], "nobody got it twice")
		assert.EqualValues(t, 1, st.Requests[allimi.ChannelSMS])

		// Recorded: the intents are forgotten, and a new message of the same
		// Key (there is none in practice) would go without a question.
		require.NoError(t, s.QueueSettled(allimi.ChannelSMS, "cf-a", "cf-b"))
		lookups := fake.Stats().Lookups[allimi.ChannelSMS]
		_, err = SendOnce(context.Background(), s, sms, msgs[:1])
		require.NoError(t, err)
		assert.Equal(t, lookups, fake.Stats().Lookups[allimi.ChannelSMS])
	})
}

func TestQueueIntents_RequestThatNeverArrivedIsSentOnce(t *testing.T) {
	forEachQueueStore(t, func(t *testing.T, s allimi.QueueIntents, fake *channel.Fake, sms channel.Adapter, msgs []channel.Message) {
		require.NoError(t, fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultOutage, Rate: 1}))
		_, err := SendOnce(context.Background(), s, sms, msgs)
		require.Error(t, err, "the connection dropped: did the gateway take it?")
		require.NoError(t, fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultOutage}))

		res, err := SendOnce(context.Background(), s, sms, msgs)
		require.NoError(t, err)
		for _, r := range res {
			assert.Equal(t, channel.Accepted, r.Status)
		}
		st := fake.Stats()
		assert.EqualValues(t, 2, st.Accepted[allimi.ChannelSMS])
		assert.Zero(t, st.Repeats[allimi.ChannelSMS])
		assert.Positive(t, st.Lookups[allimi.ChannelSMS], "asked before sending")
	})
}

func TestQueueIntents_ProviderThatCannotBeAskedGetsNothingSent(t *testing.T) {
	forEachQueueStore(t, func(t *testing.T, s allimi.QueueIntents, fake *channel.Fake, sms channel.Adapter, msgs []channel.Message) {
		_, err := SendOnce(context.Background(), s, sms, msgs)
		require.NoError(t, err)
		require.NoError(t, fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultLookup, Rate: 1}))

		_, err = SendOnce(context.Background(), s, sms, msgs)
		require.ErrorContains(t, err, "asking what became of a request whose answer was lost")
		st := fake.Stats()
		assert.EqualValues(t, 1, st.Requests[allimi.ChannelSMS], "nothing sent blindly")
		assert.Zero(t, st.Repeats[allimi.ChannelSMS])
	})
}

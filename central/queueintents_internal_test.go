package central

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/channel"
)

// queueRig is a store and the SMS gateway of fake providers that take
// every request as new.
func queueRig(t *testing.T) (*bolt.Store, *channel.Fake, channel.Adapter, []channel.Message) {
	t.Helper()
	s, _, err := bolt.OpenData(t.TempDir(), bolt.StoreOptions{LinkBase: "http://127.0.0.1:8080"})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
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
	return s, fake, ads[allimi.ChannelSMS], msgs
}

func TestQueueIntents_AnswerLostAfterTheRequestIsLookedUpNotResent(t *testing.T) {
	s, fake, sms, msgs := queueRig(t)
	_, err := s.SendOnce(context.Background(), sms, msgs)
	require.NoError(t, err)
	// Crash: the queue never records the answer, and tries again.
	res, err := s.SendOnce(context.Background(), sms, msgs)
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
	_, err = s.SendOnce(context.Background(), sms, msgs[:1])
	require.NoError(t, err)
	assert.Equal(t, lookups, fake.Stats().Lookups[allimi.ChannelSMS])
}

func TestQueueIntents_RequestThatNeverArrivedIsSentOnce(t *testing.T) {
	s, fake, sms, msgs := queueRig(t)
	require.NoError(t, fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultOutage, Rate: 1}))
	_, err := s.SendOnce(context.Background(), sms, msgs)
	require.Error(t, err, "the connection dropped: did the gateway take it?")
	require.NoError(t, fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultOutage}))

	res, err := s.SendOnce(context.Background(), sms, msgs)
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, channel.Accepted, r.Status)
	}
	st := fake.Stats()
	assert.EqualValues(t, 2, st.Accepted[allimi.ChannelSMS])
	assert.Zero(t, st.Repeats[allimi.ChannelSMS])
	assert.Positive(t, st.Lookups[allimi.ChannelSMS], "asked before sending")
}

func TestQueueIntents_ProviderThatCannotBeAskedGetsNothingSent(t *testing.T) {
	s, fake, sms, msgs := queueRig(t)
	_, err := s.SendOnce(context.Background(), sms, msgs)
	require.NoError(t, err)
	require.NoError(t, fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultLookup, Rate: 1}))

	_, err = s.SendOnce(context.Background(), sms, msgs)
	require.ErrorContains(t, err, "asking what became of a request whose answer was lost")
	st := fake.Stats()
	assert.EqualValues(t, 1, st.Requests[allimi.ChannelSMS], "nothing sent blindly")
	assert.Zero(t, st.Repeats[allimi.ChannelSMS])
}

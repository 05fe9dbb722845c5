package channel

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// The Naver app notice (naver.go): a phone without a Naver account is
// rejected with NOT_NAVER_USER, the others accepted, in one request.
func TestNaver_NotANaverUserIsRejectedOthersAccepted(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Seed: 3, Faults: []Fault{{Channel: allimi.ChannelNaver, Kind: FaultNotUser, Rate: 0.5}}}, nil)
	batch := testMessages(allimi.ChannelNaver, "nu", 40)
	res, err := env.adapters[allimi.ChannelNaver].Send(context.Background(), batch)
	require.NoError(t, err)
	rejected := 0
	for i, r := range res {
		assert.Equal(t, batch[i].Key, r.Key)
		switch r.Status {
		case Rejected:
			rejected++
			assert.Equal(t, NaverNotUser, r.Code)
			assert.NotEmpty(t, r.Reason)
		case Accepted:
			assert.NotEmpty(t, r.ProviderID)
		default:
			t.Fatalf("%+v", r)
		}
	}
	assert.Positive(t, rejected)
	assert.Less(t, rejected, 40)
	st := env.fake.Stats()
	assert.EqualValues(t, 1, st.Requests[allimi.ChannelNaver])
	assert.EqualValues(t, 40-rejected, st.Accepted[allimi.ChannelNaver])
	assert.EqualValues(t, rejected, st.Rejected[allimi.ChannelNaver])
}

// A 5xx is the provider unavailable; the batch sent again once it is back
// is accepted once, and its result query finds it.
func TestNaver_5xxThenRetryIsAcceptedOnceAndFound(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{NoDedupe: true, Faults: []Fault{{Channel: allimi.ChannelNaver, Kind: FaultError, Rate: 1}}}, nil)
	a := env.adapters[allimi.ChannelNaver]
	since := time.Now()
	batch := testMessages(allimi.ChannelNaver, "r", 5)
	_, err := a.Send(context.Background(), batch)
	ue, ok := unavailable(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, http.StatusInternalServerError, ue.StatusCode)
	assert.Equal(t, allimi.ChannelNaver, ue.Channel)

	found, err := a.(Finder).Find(context.Background(), since, batch)
	require.NoError(t, err)
	for _, r := range found {
		assert.Equal(t, NotFound, r.Status, "the 500 took nothing")
	}
	require.NoError(t, env.fake.SetFault(Fault{Channel: allimi.ChannelNaver, Kind: FaultError}))
	res, err := a.Send(context.Background(), batch)
	require.NoError(t, err)
	requireAccepted(t, res, batch)
	found, err = a.(Finder).Find(context.Background(), since, batch)
	require.NoError(t, err)
	for i, r := range found {
		assert.Equal(t, Accepted, r.Status)
		assert.Equal(t, res[i].ProviderID, r.ProviderID)
	}
	st := env.fake.Stats()
	assert.EqualValues(t, 5, st.Accepted[allimi.ChannelNaver])
	assert.Zero(t, st.Repeats[allimi.ChannelNaver])
}

// 429 with Retry-After is a RateLimitedError; the adapter's own bucket
// spaces batches at the configured rate.
func TestNaver_RateLimits(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Faults: []Fault{{Channel: allimi.ChannelNaver, Kind: FaultRateLimit, Rate: 1}}},
		func(c *Config) { c.NaverApp.Rate, c.NaverApp.Burst = 100, 100 })
	a := env.adapters[allimi.ChannelNaver]
	_, err := a.Send(context.Background(), testMessages(allimi.ChannelNaver, "rl", 100))
	var rl *RateLimitedError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, time.Second, rl.RetryAfter)
	assert.Equal(t, allimi.ChannelNaver, rl.Channel)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = a.Send(ctx, testMessages(allimi.ChannelNaver, "rl2", 100))
	require.ErrorIs(t, err, context.DeadlineExceeded, "the burst is spent: the next 100 need a second")
	assert.EqualValues(t, 1, env.fake.Stats().Requests[allimi.ChannelNaver])

	tokens := bucketTokens()
	ShareRates(env.adapters, tokens)
	require.NoError(t, env.fake.SetFault(Fault{Channel: allimi.ChannelNaver, Kind: FaultRateLimit}))
	_, err = a.Send(context.Background(), testMessages(allimi.ChannelNaver, "sh", 10))
	require.NoError(t, err)
	calls := tokens.taken()
	require.Len(t, calls, 1)
	assert.Equal(t, allimi.ChannelNaver, calls[0].ch)
}

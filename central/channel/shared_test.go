package channel

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"allimi"
)

// tokenCall is one TakeTokens call.
type tokenCall struct {
	ch      allimi.Channel
	n       int
	rate    float64
	burst   int
	maxWait time.Duration
}

// fakeTokens is a SharedTokens that records its calls and answers with
// answer.
type fakeTokens struct {
	mu     sync.Mutex
	calls  []tokenCall
	answer func(c tokenCall) (time.Duration, bool, error)
}

func (f *fakeTokens) TakeTokens(ctx context.Context, ch allimi.Channel, n int, r float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	c := tokenCall{ch: ch, n: n, rate: r, burst: burst, maxWait: maxWait}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	return f.answer(c)
}

func (f *fakeTokens) taken() []tokenCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tokenCall(nil), f.calls...)
}

// answerAlways gives every call the same answer.
func answerAlways(wait time.Duration, ok bool, err error) func(tokenCall) (time.Duration, bool, error) {
	return func(tokenCall) (time.Duration, bool, error) { return wait, ok, err }
}

// bucketTokens is a SharedTokens as pg.Store's is, in memory: one bucket
// per channel, reservations refused past maxWait.
func bucketTokens() *fakeTokens {
	var mu sync.Mutex
	buckets := map[allimi.Channel]*rate.Limiter{}
	return &fakeTokens{answer: func(c tokenCall) (time.Duration, bool, error) {
		mu.Lock()
		defer mu.Unlock()
		l := buckets[c.ch]
		if l == nil {
			l = rate.NewLimiter(rate.Limit(c.rate), c.burst)
			buckets[c.ch] = l
		}
		now := time.Now()
		r := l.ReserveN(now, c.n)
		if !r.OK() {
			return 0, false, errors.New("more than the burst")
		}
		if d := r.DelayFrom(now); d > c.maxWait {
			r.CancelAt(now)
			return 0, false, nil
		} else {
			return d, true, nil
		}
	}}
}

// Two centrals' adapters sharing one bucket: what one takes the other does
// not get, and the second batch fails at once for its deadline, as
// TestAdapters_RateLimiterMakesTheSecondBatchWait's does on one bucket.
func TestShareRates_TwoCentralsShareOneBucket(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) { c.Kakao.Rate, c.Kakao.Burst = 1000, 1000 })
	other, err := New(env.cfg, nil)
	require.NoError(t, err)
	tokens := bucketTokens()
	ShareRates(env.adapters, tokens)
	ShareRates(other, tokens)

	_, err = env.adapters[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "r1", 1000))
	require.NoError(t, err, "the first batch uses the burst")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := other[allimi.ChannelKakao].Send(ctx, testMessages(allimi.ChannelKakao, "r2", 1000))
	assert.Nil(t, res)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the tokens come back only after ~1s, whoever asks")
	assert.EqualValues(t, 1, env.fake.Stats().Requests[allimi.ChannelKakao], "the second batch was not sent")

	calls := tokens.taken()
	require.Len(t, calls, 2)
	assert.Equal(t, tokenCall{ch: allimi.ChannelKakao, n: 1000, rate: 1000, burst: 1000, maxWait: math.MaxInt64}, calls[0],
		"no deadline: any wait will do")
	assert.LessOrEqual(t, calls[1].maxWait, 100*time.Millisecond, "at most what is left of the deadline")
}

// The shared bucket, not the adapter's own, decides: with the local one
// the second batch would wait ~1s and fail for its deadline.
func TestShareRates_TheLocalBucketIsNotUsed(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) { c.Kakao.Rate, c.Kakao.Burst = 1000, 1000 })
	tokens := &fakeTokens{answer: answerAlways(0, true, nil)}
	ShareRates(env.adapters, tokens)
	a := env.adapters[allimi.ChannelKakao]
	for _, key := range []string{"s1", "s2", "s3"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := a.Send(ctx, testMessages(allimi.ChannelKakao, key, 1000))
		cancel()
		require.NoError(t, err)
	}
	assert.Len(t, tokens.taken(), 3)
	assert.EqualValues(t, 3, env.fake.Stats().Requests[allimi.ChannelKakao])
}

// As TestAdapters_BatchLargerThanBurstStillGoes: a batch larger than the
// burst takes its tokens in burst-sized parts.
func TestShareRates_BatchLargerThanBurstStillGoes(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) { c.Kakao.Rate, c.Kakao.Burst = 100_000, 100 })
	tokens := bucketTokens()
	ShareRates(env.adapters, tokens)
	res, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "burst", 1000))
	require.NoError(t, err)
	assert.Len(t, res, 1000)
	calls := tokens.taken()
	require.Len(t, calls, 10)
	for _, c := range calls {
		assert.Equal(t, 100, c.n)
		assert.Equal(t, 100, c.burst)
		assert.Equal(t, 100_000.0, c.rate)
	}
}

// The sender sleeps the wait the bucket gives before it goes on.
func TestShareRates_SleepsTheWaitGiven(t *testing.T) {
	s := newSender(allimi.ChannelKakao, Endpoint{Rate: 1000, Burst: 1000}, nil, kakaoMaxBatch)
	s.shareRate(&fakeTokens{answer: answerAlways(150*time.Millisecond, true, nil)})
	start := time.Now()
	require.NoError(t, s.wait(context.Background(), 1500))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "two parts, 150ms each")
}

// ctx ending during the wait ends it, with ctx's error, as on the local
// bucket; so does it ending during the take, whatever the store says.
func TestShareRates_CancelledWhileWaiting(t *testing.T) {
	s := newSender(allimi.ChannelKakao, Endpoint{Rate: 1000, Burst: 1000}, nil, kakaoMaxBatch)
	s.shareRate(&fakeTokens{answer: answerAlways(time.Hour, true, nil)})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := s.wait(ctx, 10)
	require.ErrorIs(t, err, context.Canceled)

	s.shareRate(&fakeTokens{answer: func(tokenCall) (time.Duration, bool, error) {
		return 0, false, errors.New("conn closed")
	}})
	err = s.wait(ctx, 10)
	require.ErrorIs(t, err, context.Canceled)

	env := newFakeEnv(t, FakeOptions{}, func(c *Config) { c.Kakao.Rate = 1000 })
	ShareRates(env.adapters, &fakeTokens{answer: answerAlways(0, false, context.Canceled)})
	_, err = env.adapters[allimi.ChannelKakao].Send(ctx, testMessages(allimi.ChannelKakao, "c", 1))
	require.ErrorIs(t, err, context.Canceled)
	var ue *UnavailableError
	assert.False(t, errors.As(err, &ue), "not an outage of the provider")
}

// A refusal is the deadline's error, at once; a store that fails fails
// the batch with its error, and nothing is sent.
func TestShareRates_RefusedOrFailed(t *testing.T) {
	s := newSender(allimi.ChannelKakao, Endpoint{Rate: 300, Burst: 1000}, nil, kakaoMaxBatch)
	s.shareRate(&fakeTokens{answer: answerAlways(0, false, nil)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	err := s.wait(ctx, 10)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "rate limit of 300 messages/s")
	assert.Less(t, time.Since(start), 30*time.Second, "not waited for")

	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) { c.Kakao.Rate = 1000 })
	down := errors.New("database down")
	ShareRates(env.adapters, &fakeTokens{answer: answerAlways(0, false, down)})
	_, err = env.adapters[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "d", 3))
	require.ErrorIs(t, err, down)
	assert.Contains(t, err.Error(), "kakao")
	assert.Zero(t, env.fake.Stats().Requests[allimi.ChannelKakao])
}

// An unlimited endpoint never asks the shared bucket.
func TestShareRates_UnlimitedNeverAsks(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) {
		for _, ep := range []*Endpoint{&c.Kakao.Endpoint, &c.Naver.Endpoint, &c.SMS.Endpoint, &c.Toss.Endpoint, &c.NaverApp.Endpoint} {
			ep.Rate = 0
		}
	})
	tokens := &fakeTokens{answer: answerAlways(0, false, errors.New("asked"))}
	ShareRates(env.adapters, tokens)
	for ch, a := range env.adapters {
		_, err := a.Send(context.Background(), testMessages(ch, "u", 5))
		require.NoError(t, err, ch)
	}
	assert.Empty(t, tokens.taken())
}

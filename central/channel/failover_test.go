package channel

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// keysOf lists the idempotency keys of the fake's messages.
func keysOf(msgs []FakeMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.IdempotencyKey)
	}
	return out
}

func batchKeys(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Key)
	}
	return out
}

func requireAccepted(t *testing.T, res []Result, batch []Message) {
	t.Helper()
	require.Len(t, res, len(batch))
	for i, r := range res {
		require.Equal(t, batch[i].Key, r.Key)
		require.Equal(t, Accepted, r.Status, "%+v", r)
		require.NotEmpty(t, r.ProviderID)
	}
}

// NHN refuses the connection: nothing reached it, so the batch goes
// through SENS at once, and is taken there once.
func TestKakao_NHNRefusingGoesThroughSENSOnce(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{NoDedupe: true}, func(c *Config) { c.Kakao.URL = closedURL(t) })
	a := env.adapters[allimi.ChannelKakao]
	batch := testMessages(allimi.ChannelKakao, "down", 7)
	res, err := a.Send(context.Background(), batch)
	require.NoError(t, err)
	requireAccepted(t, res, batch)

	got := env.fake.Messages(allimi.ChannelKakao)
	assert.ElementsMatch(t, batchKeys(batch), keysOf(got), "each message taken once")
	for _, m := range got {
		assert.Equal(t, "kakao.sens", m.Provider)
		assert.Equal(t, allimi.ChannelKakao, m.Channel, "KakaoTalk, whoever carried it")
	}
	st := env.fake.Stats()
	assert.EqualValues(t, 7, st.Accepted[allimi.ChannelKakao])
	assert.EqualValues(t, 7, st.Providers["kakao.sens"].Accepted)
	assert.Zero(t, st.Repeats[allimi.ChannelKakao])
	ps := Stats(env.adapters)[allimi.ChannelKakao]
	assert.EqualValues(t, 1, ps.Failovers)
	assert.EqualValues(t, 1, ps.Batches[ProviderSENS])
}

// NHN answering 5xx may have taken the batch: the error goes back to the
// caller (which looks it up). The failure that counts NHN down
// (FailoverAfter in a row) asks NHN's result query at once and sends what
// NHN lacks through SENS; then NHN is skipped, and a retry of what was in
// doubt there is looked up at NHN before it goes through SENS.
func TestKakao_NHNFailingRepeatedlyFailsOverAndNothingGoesTwice(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{NoDedupe: true, Faults: []Fault{{Channel: FakeNHN, Kind: FaultError, Rate: 1}}},
		func(c *Config) { c.Kakao.FailoverAfter = 2 })
	a := env.adapters[allimi.ChannelKakao]
	first := testMessages(allimi.ChannelKakao, "one", 3)
	res, err := a.Send(context.Background(), first)
	assert.Nil(t, res)
	ue, ok := unavailable(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, http.StatusInternalServerError, ue.StatusCode)
	assert.Zero(t, env.fake.Stats().Providers["kakao.sens"].Requests, "a 5xx alone is no proof NHN has nothing")
	assert.False(t, Stats(env.adapters)[allimi.ChannelKakao].Down)

	second := testMessages(allimi.ChannelKakao, "two", 3)
	res, err = a.Send(context.Background(), second)
	require.NoError(t, err, "NHN is down, and its query says it lacks the batch")
	requireAccepted(t, res, second)
	assert.True(t, Stats(env.adapters)[allimi.ChannelKakao].Down)
	lookups := env.fake.Stats().Providers["kakao.nhn"].Lookups
	assert.Positive(t, lookups)

	// The first batch again (a retry): NHN is skipped; it was in doubt
	// there, so NHN is asked first.
	res, err = a.Send(context.Background(), first)
	require.NoError(t, err)
	requireAccepted(t, res, first)
	third := testMessages(allimi.ChannelKakao, "three", 2)
	res, err = a.Send(context.Background(), third)
	require.NoError(t, err)
	requireAccepted(t, res, third)
	st := env.fake.Stats()
	assert.Greater(t, st.Providers["kakao.nhn"].Lookups, lookups, "NHN was asked about the messages in doubt")
	assert.EqualValues(t, 2, st.Providers["kakao.nhn"].Requests, "NHN skipped once down")
	assert.EqualValues(t, 8, st.Providers["kakao.sens"].Accepted)
	assert.Zero(t, st.Repeats[allimi.ChannelKakao])
	assert.EqualValues(t, 3, Stats(env.adapters)[allimi.ChannelKakao].Failovers)
}

// A lost answer from NHN: NHN took the batch. The failure that counts NHN
// down finds its batch at NHN and answers Accepted; a resend of an earlier
// batch in doubt at NHN is looked up there and not sent through SENS; if
// NHN cannot be asked the messages wait (Retry), never go twice.
func TestKakao_LostAnswerAtNHNIsNeverSentTwice(t *testing.T) {
	for _, lookupFails := range []bool{false, true} {
		name := "found"
		if lookupFails {
			name = "lookup fails"
		}
		t.Run(name, func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{NoDedupe: true, Faults: []Fault{{Channel: FakeNHN, Kind: FaultLostAnswer, Rate: 1}}},
				func(c *Config) { c.Kakao.FailoverAfter = 2 })
			a := env.adapters[allimi.ChannelKakao]
			batch := testMessages(allimi.ChannelKakao, "lost", 4)
			_, err := a.Send(context.Background(), batch)
			_, ok := unavailable(err)
			require.True(t, ok, "%v", err)
			require.Len(t, env.fake.Messages(FakeNHN), 4, "NHN took them")
			if lookupFails {
				require.NoError(t, env.fake.SetFault(Fault{Channel: FakeNHN, Kind: FaultLookup, Rate: 1}))
			}

			other := testMessages(allimi.ChannelKakao, "other", 2)
			res, err := a.Send(context.Background(), other) // NHN counted down
			if lookupFails {
				_, ok := unavailable(err)
				require.True(t, ok, "NHN cannot say: the error stands: %v", err)
			} else {
				require.NoError(t, err)
				requireAccepted(t, res, other)
			}

			res, err = a.Send(context.Background(), batch) // NHN is skipped now
			require.NoError(t, err)
			for i, r := range res {
				assert.Equal(t, batch[i].Key, r.Key)
				if lookupFails {
					assert.Equal(t, Retry, r.Status)
					assert.Equal(t, "in-doubt", r.Code)
				} else {
					assert.Equal(t, Accepted, r.Status, "found at NHN")
				}
			}
			st := env.fake.Stats()
			assert.Zero(t, st.Providers["kakao.sens"].Requests, "nothing went through SENS")
			assert.Zero(t, st.Repeats[allimi.ChannelKakao])
			assert.EqualValues(t, 6, st.Accepted[allimi.ChannelKakao])
		})
	}
}

// The caller's lost-answer lookup (the dispatcher's) goes through Find,
// which asks both providers: a batch taken by SENS whose answer was lost is
// found there.
func TestKakao_FindAsksBothProviders(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{NoDedupe: true}, func(c *Config) { c.Kakao.FailoverAfter = 1 })
	a := env.adapters[allimi.ChannelKakao]
	since := time.Now()
	viaNHN := withGroup(testMessages(allimi.ChannelKakao, "nhn", 3), "allimi-f1")
	_, err := a.Send(context.Background(), viaNHN)
	require.NoError(t, err)

	// NHN goes down; the batch goes to SENS, which takes it, but its
	// answer is lost.
	require.NoError(t, env.fake.SetFault(Fault{Channel: FakeNHN, Kind: FaultError, Rate: 1}))
	require.NoError(t, env.fake.SetFault(Fault{Channel: FakeSENS, Kind: FaultLostAnswer, Rate: 1}))
	viaSENS := withGroup(testMessages(allimi.ChannelKakao, "sens", 3), "allimi-f2")
	_, err = a.Send(context.Background(), viaSENS)
	_, ok := unavailable(err)
	require.True(t, ok, "%v", err)
	require.Len(t, env.fake.Messages(FakeSENS), 3)

	never := withGroup(testMessages(allimi.ChannelKakao, "never", 2), "allimi-f3")
	all := append(append(append([]Message{}, viaNHN...), viaSENS...), never...)
	res, err := a.(Finder).Find(context.Background(), since, all)
	require.NoError(t, err)
	require.Len(t, res, len(all))
	for i, r := range res {
		want := Accepted
		if i >= 6 {
			want = NotFound
		}
		assert.Equal(t, all[i].Key, r.Key)
		assert.Equal(t, want, r.Status, "%s", r.Key)
	}

	// Found, the messages are no longer in doubt at SENS: once NHN is back,
	// the dispatcher would not resend them (it has them accepted), and
	// nothing was sent twice.
	assert.Zero(t, env.fake.Stats().Repeats[allimi.ChannelKakao])

	// SENS's query failing leaves the messages NHN lacks unknown: an error.
	require.NoError(t, env.fake.SetFault(Fault{Channel: FakeSENS, Kind: FaultLookup, Rate: 1}))
	_, err = a.(Finder).Find(context.Background(), since, all)
	require.Error(t, err)
}

// Find does not ask SENS when it cannot have the messages: it was never
// sent anything since they were.
func TestKakao_FindSkipsSENSWhenItWasNotUsed(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{NoDedupe: true}, nil)
	a := env.adapters[allimi.ChannelKakao]
	since := time.Now()
	batch := testMessages(allimi.ChannelKakao, "only", 3)
	_, err := a.Send(context.Background(), batch[:2])
	require.NoError(t, err)
	res, err := a.(Finder).Find(context.Background(), since, batch)
	require.NoError(t, err)
	assert.Equal(t, []Status{Accepted, Accepted, NotFound}, []Status{res[0].Status, res[1].Status, res[2].Status})
	assert.Zero(t, env.fake.Stats().Providers["kakao.sens"].Lookups)

	// After a crash (this process started after since) SENS is asked.
	res, err = a.(Finder).Find(context.Background(), since.Add(-time.Hour), batch)
	require.NoError(t, err)
	assert.Equal(t, NotFound, res[2].Status)
	assert.Positive(t, env.fake.Stats().Providers["kakao.sens"].Lookups)
}

// "Not a KakaoTalk user" is the person, not the provider: no failover.
func TestKakao_NotAUserAtNHNIsNotFailedOver(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Faults: []Fault{{Channel: FakeNHN, Kind: FaultNotUser, Rate: 1}}}, nil)
	batch := testMessages(allimi.ChannelKakao, "nu", 3)
	batch[2].Recipient = "02-123-4567" // and a bad number
	res, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	assert.Equal(t, []Status{Rejected, Rejected, Rejected}, []Status{res[0].Status, res[1].Status, res[2].Status})
	assert.Equal(t, "3019", res[0].Code)
	st := env.fake.Stats()
	assert.Zero(t, st.Providers["kakao.sens"].Requests)
	assert.EqualValues(t, 0, Stats(env.adapters)[allimi.ChannelKakao].Failovers)
}

// A rate limit at NHN is waited out, not failed over.
func TestKakao_RateLimitAtNHNIsNotFailedOver(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Faults: []Fault{{Channel: FakeNHN, Kind: FaultRateLimit, Rate: 1}}},
		func(c *Config) { c.Kakao.FailoverAfter = 1 })
	a := env.adapters[allimi.ChannelKakao]
	for range 3 {
		_, err := a.Send(context.Background(), testMessages(allimi.ChannelKakao, "rl", 2))
		var rl *RateLimitedError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, time.Second, rl.RetryAfter)
	}
	assert.Zero(t, env.fake.Stats().Providers["kakao.sens"].Requests)
	assert.False(t, Stats(env.adapters)[allimi.ChannelKakao].Down)
}

// After the cooldown the next batch tries NHN again; once it answers, the
// channel is back on NHN.
func TestKakao_BackToNHNWhenItRecovers(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Faults: []Fault{{Channel: FakeNHN, Kind: FaultOutage, Rate: 1}}},
		func(c *Config) { c.Kakao.FailoverAfter, c.Kakao.FailoverCooldown = 1, 100*time.Millisecond })
	a := env.adapters[allimi.ChannelKakao]
	send := func(prefix string, n int) {
		t.Helper()
		res, err := a.Send(context.Background(), testMessages(allimi.ChannelKakao, prefix, n))
		require.NoError(t, err)
		assert.Equal(t, Accepted, res[0].Status)
	}
	nhnRequests := func() int64 { return env.fake.Stats().Providers["kakao.nhn"].Requests }
	send("o", 1) // NHN drops it, lacks it: SENS
	send("s", 2) // NHN skipped
	assert.EqualValues(t, 1, nhnRequests())
	assert.Len(t, env.fake.Messages(FakeSENS), 3)

	// Still down after the cooldown: the probe fails (and its batch goes
	// through SENS), and SENS carries on.
	time.Sleep(150 * time.Millisecond)
	send("p", 1)
	send("s2", 1)
	assert.EqualValues(t, 2, nhnRequests(), "one probe")
	assert.Len(t, env.fake.Messages(FakeSENS), 5)

	require.NoError(t, env.fake.SetFault(Fault{Channel: FakeNHN, Kind: FaultOutage}))
	time.Sleep(150 * time.Millisecond)
	send("back1", 2)
	send("back2", 2)
	assert.Len(t, env.fake.Messages(FakeNHN), 4, "back on NHN")
	assert.Len(t, env.fake.Messages(FakeSENS), 5)
	assert.False(t, Stats(env.adapters)[allimi.ChannelKakao].Down)
}

// A full kakao batch (1,000) goes to SENS in requests of 100.
func TestKakao_FullBatchGoesToSENSInRequestsOfHundred(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) { c.Kakao.URL = closedURL(t) })
	batch := testMessages(allimi.ChannelKakao, "full", 250)
	res, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	requireAccepted(t, res, batch)
	st := env.fake.Stats()
	assert.EqualValues(t, 3, st.Providers["kakao.sens"].Requests)
	assert.EqualValues(t, 250, st.Accepted[allimi.ChannelKakao])
}

// A later SENS request failing keeps the earlier ones' results and gives
// the rest Retry; the one without an answer is then in doubt at SENS.
func TestKakao_LaterSENSRequestFailingGivesRetryNotLoss(t *testing.T) {
	fake := NewFake(FakeOptions{Logger: quiet, NoDedupe: true})
	defer fake.Close()
	sensCalls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/alimtalk/v2/") {
			sensCalls++
			if sensCalls == 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		fake.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.SetBaseURL(srv.URL)
	cfg.Kakao.URL = closedURL(t)
	ads, err := New(cfg, nil)
	require.NoError(t, err)
	SetLogger(ads, quiet)
	batch := testMessages(allimi.ChannelKakao, "part", 250)
	res, err := ads[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	for i, r := range res {
		if i < 100 {
			assert.Equal(t, Accepted, r.Status)
		} else {
			assert.Equal(t, Retry, r.Status)
			assert.Equal(t, "http-503", r.Code)
		}
	}
	f := ads[allimi.ChannelKakao].(*failover)
	f.mu.Lock()
	d, ok := f.doubts[batch[150].Key]
	_, other := f.doubts[batch[220].Key]
	f.mu.Unlock()
	assert.True(t, ok && d.at == pSENS, "the failed request's messages are in doubt at SENS")
	assert.False(t, other, "the ones never sent are not")
}

// Without SENS credentials the kakao channel is NHN alone.
func TestKakao_WithoutSENSThereIsNoFailover(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, func(c *Config) {
		c.Kakao.URL = closedURL(t)
		c.Naver = NaverConfig{Endpoint: c.Naver.Endpoint}
	})
	a := env.adapters[allimi.ChannelKakao]
	_, isNHN := a.(*kakao)
	assert.True(t, isNHN)
	_, err := a.Send(context.Background(), testMessages(allimi.ChannelKakao, "alone", 2))
	_, ok := unavailable(err)
	require.True(t, ok, "%v", err)
	assert.Zero(t, env.fake.Stats().Requests[allimi.ChannelKakao])
	assert.Empty(t, Stats(env.adapters))
}

// SENS is rate limited by its own bucket, shared as "kakao.sens".
func TestKakao_SENSHasARateBucketOfItsOwn(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) {
		c.Kakao.URL = closedURL(t)
		c.Kakao.Rate, c.Naver.Rate, c.Naver.Burst = 1000, 50, 100
	})
	tokens := bucketTokens()
	ShareRates(env.adapters, tokens)
	_, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "b", 20))
	require.NoError(t, err)
	var names []allimi.Channel
	for _, c := range tokens.taken() {
		names = append(names, c.ch)
		if c.ch == "kakao.sens" {
			assert.Equal(t, 50.0, c.rate)
			assert.Equal(t, 100, c.burst)
		}
	}
	assert.Equal(t, []allimi.Channel{"kakao", "kakao.sens"}, names, "NHN's tokens, then SENS's")
}

// SENS's result query: a few messages are looked up by number, many by
// listing the window; either way by number and content.
func TestSENS_FindByNumberOrByWindow(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{NoDedupe: true}, func(c *Config) { c.Kakao.URL = closedURL(t) })
	a := env.adapters[allimi.ChannelKakao]
	since := time.Now()
	sent := testMessages(allimi.ChannelKakao, "w", 150) // two pages of the list
	_, err := a.Send(context.Background(), sent)
	require.NoError(t, err)
	never := testMessages(allimi.ChannelKakao, "n", 5) // the same numbers, other texts
	s := a.(*failover).sens
	for _, n := range []int{3, 150} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			before := env.fake.Stats().Providers["kakao.sens"].Lookups
			msgs := append(append([]Message{}, sent[:n]...), never...)
			res, err := s.Find(context.Background(), since, msgs)
			require.NoError(t, err)
			for i, r := range res {
				want := Accepted
				if i >= n {
					want = NotFound
				}
				require.Equal(t, want, r.Status, "%s", r.Key)
			}
			lookups := env.fake.Stats().Providers["kakao.sens"].Lookups - before
			if n > sensByNumber {
				assert.EqualValues(t, 2, lookups, "the window's two pages")
			} else {
				assert.EqualValues(t, n+5, lookups, "one query per number")
			}
		})
	}
}

// Batches in flight together when NHN goes down: at most FailoverAfter-1
// of them fail back to the caller (fewer than the dispatcher's breaker
// needs to send KakaoTalk's traffic to SMS); the rest go through SENS, and
// the failed ones, sent again, too. Nobody gets a message twice.
func TestKakao_ConcurrentBatchesWhenNHNGoesDown(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{NoDedupe: true, Latency: 20 * time.Millisecond,
		Faults: []Fault{{Channel: FakeNHN, Kind: FaultOutage, Rate: 1}}}, nil)
	a := env.adapters[allimi.ChannelKakao]
	const batches, each = 10, 5
	var mu sync.Mutex
	var failed [][]Message
	var wg sync.WaitGroup
	for b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := testMessages(allimi.ChannelKakao, fmt.Sprint("c", b), each)
			if _, err := a.Send(context.Background(), batch); err != nil {
				mu.Lock()
				failed = append(failed, batch)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, len(failed), defaultFailoverAfter-1)
	for _, batch := range failed {
		res, err := a.Send(context.Background(), batch)
		require.NoError(t, err)
		requireAccepted(t, res, batch)
	}
	st := env.fake.Stats()
	assert.EqualValues(t, batches*each, st.Accepted[allimi.ChannelKakao])
	assert.EqualValues(t, batches*each, st.Providers["kakao.sens"].Accepted)
	assert.Zero(t, st.Repeats[allimi.ChannelKakao])
}

package pg

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// Three centrals on one database, three takers each, for about two
// seconds: together they never get more than the bucket allows (its burst
// and what it refilled since the first take), and they get most of it.
func TestTakeTokens_TheRateHoldsForTheCluster(t *testing.T) {
	c := openStore(t)
	stores := append([]*Store{c.Store}, c.others(t, 2)...)
	const (
		rate  = 2000.0
		burst = 200
		n     = 25
		run   = 2 * time.Second
	)
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 9)
	start := time.Now()
	for _, st := range stores {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(start) < run {
					wait, ok, err := st.TakeTokens(context.Background(), allimi.ChannelKakao, n, rate, burst, 100*time.Millisecond)
					if err != nil {
						errs <- err
						return
					}
					if !ok {
						refused.Add(1)
						time.Sleep(5 * time.Millisecond)
						continue
					}
					time.Sleep(wait) // the tokens are used once they are there
					granted.Add(n)
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	allowed := burst + rate*elapsed.Seconds()
	t.Logf("granted %d tokens in %s (allowed %.0f), %d takes refused", granted.Load(), elapsed, allowed, refused.Load())
	assert.LessOrEqual(t, float64(granted.Load()), allowed, "never more than the rate allows the cluster")
	assert.GreaterOrEqual(t, float64(granted.Load()), allowed/3, "the takers are not starved")
}

// A take that would wait longer than maxWait takes nothing; one within
// it reserves tokens the bucket does not have yet, and says how long to
// wait for them. Each channel has its own bucket.
func TestTakeTokens_ReservesWithinMaxWaitOnly(t *testing.T) {
	c := openStore(t)
	ctx := context.Background()
	bucket := func(ch allimi.Channel) (tokens float64, at time.Time) {
		t.Helper()
		require.NoError(t, c.pool.QueryRow(ctx, `SELECT tokens, at FROM rate_buckets WHERE channel = $1`, string(ch)).Scan(&tokens, &at))
		return tokens, at
	}
	wait, ok, err := c.TakeTokens(ctx, allimi.ChannelSMS, 100, 10, 100, 0)
	require.NoError(t, err)
	require.True(t, ok, "a bucket starts full")
	assert.Zero(t, wait)

	tokens, at := bucket(allimi.ChannelSMS)
	for _, maxWait := range []time.Duration{0, 500 * time.Millisecond} {
		_, ok, err = c.TakeTokens(ctx, allimi.ChannelSMS, 10, 10, 100, maxWait)
		require.NoError(t, err)
		assert.False(t, ok, "10 tokens at 10/s come in about a second, not within %s", maxWait)
		tokens2, at2 := bucket(allimi.ChannelSMS)
		assert.Equal(t, tokens, tokens2, "nothing taken")
		assert.True(t, at.Equal(at2), "the bucket untouched")
	}

	wait, ok, err = c.TakeTokens(ctx, allimi.ChannelSMS, 5, 10, 100, 2*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Positive(t, wait)
	assert.LessOrEqual(t, wait, 500*time.Millisecond, "5 tokens at 10/s, some of them refilled already")
	tokens, _ = bucket(allimi.ChannelSMS)
	assert.Negative(t, tokens, "reserved ahead")

	wait, ok, err = c.TakeTokens(ctx, allimi.ChannelKakao, 100, 10, 100, 0)
	require.NoError(t, err)
	assert.True(t, ok, "kakao's bucket is not sms's")
	assert.Zero(t, wait)
}

// Input no bucket could answer is refused with ErrInvalid, and touches
// nothing.
func TestTakeTokens_BadInput(t *testing.T) {
	c := openStore(t)
	for _, tc := range []struct {
		name  string
		n     int
		rate  float64
		burst int
		want  string
	}{
		{"no tokens", 0, 10, 10, "take at least 1"},
		{"negative tokens", -3, 10, 10, "take at least 1"},
		{"no rate", 1, 0, 10, "positive number of tokens a second"},
		{"negative rate", 1, -5, 10, "positive number of tokens a second"},
		{"NaN rate", 1, math.NaN(), 10, "positive number of tokens a second"},
		{"infinite rate", 1, math.Inf(1), 10, "positive number of tokens a second"},
		{"more than the burst", 11, 10, 10, "more than the bucket holds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ok, err := c.TakeTokens(context.Background(), allimi.ChannelToss, tc.n, tc.rate, tc.burst, time.Second)
			require.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "toss")
			assert.False(t, ok)
		})
	}
	var rows int
	require.NoError(t, c.pool.QueryRow(context.Background(), `SELECT count(*) FROM rate_buckets`).Scan(&rows))
	assert.Zero(t, rows)
}

// The take commits without waiting for the WAL flush: the statement sets
// synchronous_commit off for its own transaction.
func TestTakeTokens_SynchronousCommitOff(t *testing.T) {
	c := openStore(t)
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		var left float64
		if err := tx.QueryRow(ctx, takeTokens, "kakao", 1, 10.0, 10, 1.0).Scan(&left); err != nil {
			return err
		}
		var sc string
		if err := tx.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc); err != nil {
			return err
		}
		assert.Equal(t, "off", sc)
		assert.Equal(t, 9.0, left)
		return nil
	}))
	var sc string
	require.NoError(t, c.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc))
	assert.Equal(t, "on", sc, "for that transaction only")
}

// BenchmarkTakeTokens measures a take with and without waiting for the
// WAL flush at commit.
func BenchmarkTakeTokens(b *testing.B) {
	for _, commit := range []string{"off", "on"} {
		b.Run("synchronous_commit="+commit, func(b *testing.B) {
			c := openStore(b)
			ctx := context.Background()
			sql := takeTokensSQL(commit)
			for b.Loop() {
				var left float64
				if err := c.pool.QueryRow(ctx, sql, "kakao", 1, 1e9, 1000, 1.0).Scan(&left); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package channel

import (
	"context"
	"fmt"
	"math"
	"time"

	"allimi"
)

// SharedTokens is a token bucket per channel that several processes take
// from (pg.Store, on the database the centrals share), so that a
// provider's rate limit holds for all of them together instead of for
// each one.
type SharedTokens interface {
	// TakeTokens reserves n tokens (1 ≤ n ≤ burst) of ch's bucket, which
	// fills at rate tokens a second up to burst, and returns how long to
	// wait before using them. When they would not come within maxWait it
	// takes nothing and returns ok false. Tokens reserved stay taken even
	// if the caller gives up waiting.
	TakeTokens(ctx context.Context, ch allimi.Channel, n int, rate float64, burst int, maxWait time.Duration) (wait time.Duration, ok bool, err error)
}

// bucketSENS is the shared bucket of the kakao channel's second provider,
// Naver Cloud SENS, whose rate is its own ([naver]); NHN Cloud's is
// "kakao".
const bucketSENS allimi.Channel = "kakao.sens"

// ShareRates makes the adapters New built take their tokens from t, each
// provider's with its endpoint's rate and burst, instead of from a bucket
// of their own: one bucket per channel, and one more for the kakao
// channel's second provider (bucketSENS). An endpoint without a rate stays unlimited and never asks
// t. Call it before the adapters send; adapters New did not build are left
// as they are.
func ShareRates(adapters map[allimi.Channel]Adapter, t SharedTokens) {
	for _, a := range adapters {
		if s, ok := a.(interface{ shareRate(SharedTokens) }); ok {
			s.shareRate(t)
		}
	}
}

// shareRate makes s take its tokens from t.
func (s *sender) shareRate(t SharedTokens) { s.shared = t }

// waitShared is wait on the shared bucket: the same burst-sized parts,
// the same errors, except that tokens reserved are not given back when
// ctx ends during the wait (the bucket only runs slower for a moment).
func (s *sender) waitShared(ctx context.Context, n int) error {
	limit, burst := float64(s.limiter.Limit()), s.limiter.Burst()
	for n > 0 {
		k := min(n, burst)
		maxWait := time.Duration(math.MaxInt64)
		if dl, ok := ctx.Deadline(); ok {
			maxWait = max(time.Until(dl), 0)
		}
		delay, ok, err := s.shared.TakeTokens(ctx, s.bucket, k, limit, burst, maxWait)
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("%s: waiting for the rate limit: %w", s.ch, ctx.Err())
		case err != nil:
			return fmt.Errorf("%s: shared rate limit: %w", s.ch, err)
		case !ok:
			return fmt.Errorf("%s: rate limit of %.0f messages/s (shared) needs more than %s for this batch: %w",
				s.ch, limit, maxWait.Round(time.Millisecond), context.DeadlineExceeded)
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%s: waiting for the rate limit: %w", s.ch, ctx.Err())
			}
		}
		n -= k
	}
	return nil
}

package pg

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// TakeTokens reserves n tokens of ch's bucket in rate_buckets, which fills
// at rate tokens a second up to burst, for every central on the database
// (channel.SharedTokens: the providers' rate limits hold for the cluster).
// It returns how long to wait before using them; when that would be
// longer than maxWait it takes nothing and returns ok false. A bucket
// starts full.
//
// One statement, at the database's clock: the bucket refilled since its
// last take, less n, which may leave it below zero, down to -rate×maxWait
// (a reservation: the wait is what is missing over rate). It commits
// without waiting for its WAL to reach the disk (synchronous_commit off for
// it alone): a take lost in a crash only lets a few more messages through
// than the rate for a moment, and a flush per batch would cost more than
// the take.
func (s *Store) TakeTokens(ctx context.Context, ch allimi.Channel, n int, rate float64, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	switch {
	case n <= 0:
		return 0, false, fmt.Errorf("rate bucket %s: %d tokens: take at least 1: %w", ch, n, allimi.ErrInvalid)
	case !(rate > 0) || math.IsInf(rate, 1):
		return 0, false, fmt.Errorf("rate bucket %s: rate %v: must be a positive number of tokens a second: %w", ch, rate, allimi.ErrInvalid)
	case n > burst:
		return 0, false, fmt.Errorf("rate bucket %s: %d tokens: more than the bucket holds (burst %d): %w", ch, n, burst, allimi.ErrInvalid)
	}
	var left float64
	err := s.pool.QueryRow(ctx, takeTokens, string(ch), n, rate, burst, max(maxWait, 0).Seconds()).Scan(&left)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("rate bucket %s: %w", ch, err)
	}
	if left >= 0 {
		return 0, true, nil
	}
	return time.Duration(math.Ceil(-left / rate * float64(time.Second))), true, nil
}

// takeTokensSQL is TakeTokens' statement ($1 channel, $2 n, $3 rate, $4
// burst, $5 maxWait in seconds), committed as synchronous_commit says.
// set_config in the FROM clause sets it for the statement's own
// transaction, read at its commit. EXCLUDED.at is the statement's one clock
// reading, taken before it waits for the row: when another take updated
// the bucket meanwhile, later than that reading, the bucket keeps its time
// and gets no refill (else the time between would be refilled twice).
func takeTokensSQL(synchronousCommit string) string {
	return `INSERT INTO rate_buckets AS b (channel, tokens, at)
		SELECT $1, $4::float8 - $2::float8, clock_timestamp()
		FROM (SELECT set_config('synchronous_commit', '` + synchronousCommit + `', true) AS sc) AS c
		WHERE c.sc IS NOT NULL
		ON CONFLICT (channel) DO UPDATE
		SET tokens = least($4::float8, b.tokens + greatest(0, extract(epoch FROM EXCLUDED.at - b.at)::float8) * $3::float8) - $2::float8,
			at = greatest(b.at, EXCLUDED.at)
		WHERE least($4::float8, b.tokens + greatest(0, extract(epoch FROM EXCLUDED.at - b.at)::float8) * $3::float8) - $2::float8
			>= -$3::float8 * $5::float8
		RETURNING tokens`
}

// takeTokens is TakeTokens' statement, as it runs.
var takeTokens = takeTokensSQL("off")

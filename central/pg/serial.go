package pg

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// serialAttempts is how many times serial runs a transaction that keeps
// meeting others' before it gives up and returns the conflict.
const serialAttempts = 30

// serial runs f in one SERIALIZABLE transaction and commits it, running
// f again, after a short random pause, when PostgreSQL found it in a
// serialization failure or a deadlock with another writer (another
// central process, or another goroutine): committed transactions then
// behave as if run one after the other, as bbolt's single writer runs
// them (retryable, in registry.go, says which errors those are). f must
// start afresh each time; its own error is returned as it is, and
// nothing it did is kept.
func (s *Store) serial(ctx context.Context, f func(pgx.Tx) error) error {
	return s.retried(ctx, pgx.Serializable, f)
}

// retried runs f in one transaction at isolation level iso as serial
// does, run again after a conflict.
func (s *Store) retried(ctx context.Context, iso pgx.TxIsoLevel, f func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: iso}, f)
		if err == nil || !retryable(err) || attempt == serialAttempts {
			return err
		}
		pause := time.Duration(min(1<<attempt, 100)) * time.Millisecond
		time.Sleep(pause/2 + rand.N(pause/2+1))
	}
}

// snapshot runs f in one read-only REPEATABLE READ transaction: one
// consistent snapshot of the database, which never waits for writers
// and never fails for them.
func (s *Store) snapshot(ctx context.Context, f func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, f)
}

package pg

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
		err := s.txOnce(ctx, iso, f)
		if err == nil || !retryable(err) || attempt == serialAttempts {
			return err
		}
		pause := time.Duration(min(1<<attempt, 100)) * time.Millisecond
		time.Sleep(pause/2 + rand.N(pause/2+1))
	}
}

// txOnce runs f in one transaction at isolation level iso and commits
// it. When the commit's answer is lost — the connection dropped after the
// COMMIT went out (the server restarting, a network cut) — the server may
// have committed: txOnce then asks it, by the transaction's id, what
// became of the transaction, and returns nil if it committed. Without
// that, a caller that tries again would do twice what was done once (the
// dispatcher's retries queued twice, a type's version put twice).
func (s *Store) txOnce(ctx context.Context, iso pgx.TxIsoLevel, f func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }() // after a commit, a no-op
	var xid int64
	if err := tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&xid); err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return err
	}
	err = tx.Commit(ctx)
	var pe *pgconn.PgError
	if err == nil || errors.As(err, &pe) {
		return err // committed, or refused by the server: not committed
	}
	committed, qerr := s.committed(ctx, xid)
	switch {
	case qerr != nil:
		return fmt.Errorf("%w (whether it committed is unknown: %v)", err, qerr)
	case committed:
		s.log.Warn("a commit's answer was lost; the server says it committed", "err", err)
		return nil
	}
	return err
}

// inDoubtWait bounds how long committed waits for the server to answer.
const inDoubtWait = 30 * time.Second

// committed asks the server whether transaction xid committed, on a new
// connection, waiting for a server that is restarting (its recovery ends
// what was in progress at the crash: aborted).
func (s *Store) committed(ctx context.Context, xid int64) (bool, error) {
	deadline := time.Now().Add(inDoubtWait)
	for {
		var status *string
		err := s.pool.QueryRow(ctx, `SELECT pg_xact_status(($1::bigint)::text::xid8)`, xid).Scan(&status)
		switch {
		case err == nil && status == nil:
			return false, fmt.Errorf("transaction %d: too old for the server to say", xid)
		case err == nil && *status == "committed":
			return true, nil
		case err == nil && *status == "aborted":
			return false, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("transaction %d still %s", xid, *status)
			}
			return false, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// snapshot runs f in one read-only REPEATABLE READ transaction: one
// consistent snapshot of the database, which never waits for writers
// and never fails for them.
func (s *Store) snapshot(ctx context.Context, f func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, f)
}

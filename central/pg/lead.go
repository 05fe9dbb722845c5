package pg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"allimi"
)

// Lease timings: a leader renews its lease every leaseRenew, and loses it
// leaseTTL after its last renewal; the others try to take it every
// leasePoll.
const (
	leaseTTL   = 10 * time.Second
	leaseRenew = 2 * time.Second
	leasePoll  = 2 * time.Second
)

// ErrLeaseLost: a write of a leader whose lease another central has taken
// over (it stalled, or lost the database, past the lease's end). Nothing
// of the transaction is kept.
var ErrLeaseLost = errors.New("the lease was taken over by another central")

// Lease is a job's lease as one central holds it: Fence counts the
// leaderships, and a write under the lease is refused once the count has
// moved on.
type Lease struct {
	Name  string
	Fence int64
}

// Lead runs f while this process holds the lease of job name, until ctx
// ends: of all the centrals on the database, one at a time runs it. The
// leader renews its lease every two seconds; when it cannot (it stalled,
// or lost the database) for ten, another central takes the lease over,
// with the next fence, and the leader's f is cancelled as soon as it
// notices. What f writes through Fenced(lease) is refused once the lease
// is someone else's: a leader that stalled past its lease cannot write
// late. When ctx ends the lease is given up at once.
func (s *Store) Lead(ctx context.Context, name string, f func(ctx context.Context, l Lease)) {
	s.lead(ctx, name, leaseOwner(), true, f)
}

// lead is Lead for owner, saying so in the log when logged.
func (s *Store) lead(ctx context.Context, name, owner string, logged bool, f func(ctx context.Context, l Lease)) {
	for ctx.Err() == nil {
		if l, ok := s.takeLease(ctx, name, owner); ok {
			if logged {
				s.log.Info("leading", "job", name, "fence", l.Fence)
			}
			s.holdLease(ctx, l, owner, f)
			if logged {
				s.log.Info("no longer leading", "job", name, "fence", l.Fence)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(leasePoll):
		}
	}
}

// leaseOwner names this process among the leaseholders.
func leaseOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// takeLease takes the lease when nobody holds it or its holder let it
// run out.
func (s *Store) takeLease(ctx context.Context, name, owner string) (Lease, bool) {
	l := Lease{Name: name}
	// A stalled leader's transaction may hold the row (checkLease) until
	// the server ends its session (idleInTransaction): wait for it no
	// longer than a poll.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '1s'`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO leases (name, owner, fence, expires) VALUES ($1, $2, 1, clock_timestamp() + $3::interval)
			ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, fence = leases.fence + 1, expires = EXCLUDED.expires
			WHERE leases.expires < clock_timestamp()
			RETURNING fence`, name, owner, leaseTTL.String()).Scan(&l.Fence)
	})
	if err != nil {
		if !errors.Is(err, pgx.ErrNoRows) && !lockTimedOut(err) && ctx.Err() == nil {
			s.log.Warn("lease not taken", "job", name, "err", err)
		}
		return l, false
	}
	return l, true
}

// holdLease runs f while the lease is renewed, and cancels it when it is
// not: the database said it is someone else's, or leaseTTL passed since
// the last renewal (what the others wait for before they take it).
func (s *Store) holdLease(ctx context.Context, l Lease, owner string, f func(ctx context.Context, l Lease)) {
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(run, l)
	}()
	renewed := time.Now()
	t := time.NewTicker(leaseRenew)
	defer t.Stop()
	for run.Err() == nil {
		select {
		case <-run.Done():
		case <-done:
			cancel()
		case <-t.C:
			ok, err := s.renewLease(run, l, owner)
			switch {
			case err == nil && ok:
				renewed = time.Now()
			case err == nil:
				s.log.Warn("lease taken over by another central", "job", l.Name, "fence", l.Fence)
				cancel()
			case time.Since(renewed) > leaseTTL-leaseRenew:
				s.log.Warn("lease not renewed in time; stopping", "job", l.Name, "err", err)
				cancel()
			}
		}
	}
	cancel()
	<-done
	if ctx.Err() != nil {
		// Stopping: let the others take over now rather than in ten
		// seconds.
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		_, _ = s.pool.Exec(rctx, `UPDATE leases SET expires = clock_timestamp() WHERE name = $1 AND owner = $2 AND fence = $3`,
			l.Name, owner, l.Fence)
	}
}

// renewLease extends the lease; ok is false when it is no longer ours.
func (s *Store) renewLease(ctx context.Context, l Lease, owner string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, leaseRenew)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE leases SET expires = clock_timestamp() + $4::interval
		WHERE name = $1 AND owner = $2 AND fence = $3`, l.Name, owner, l.Fence, leaseTTL.String())
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// checkLease fails with ErrLeaseLost unless l is the lease's current
// fence. It takes the lease's row for share until the transaction ends:
// a central taking the lease over waits for this transaction, so what it
// writes is in before the takeover, or refused after it.
func checkLease(ctx context.Context, tx pgx.Tx, l Lease) error {
	var fence int64
	err := tx.QueryRow(ctx, `SELECT fence FROM leases WHERE name = $1 FOR SHARE`, l.Name).Scan(&fence)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && fence != l.Fence) {
		return fmt.Errorf("lease %s (fence %d): %w", l.Name, l.Fence, ErrLeaseLost)
	}
	return err
}

// Fenced is the store as the holder of lease l writes to it: the
// dispatcher's transactions (UpdateDeliveries) and the send-intents of
// confirmations and answers (PutQueueIntents) are refused with
// ErrLeaseLost once the lease is someone else's. Everything else is the
// store's.
type Fenced struct {
	*Store
	lease Lease
}

// Fenced is s for the holder of l.
func (s *Store) Fenced(l Lease) *Fenced { return &Fenced{Store: s, lease: l} }

// UpdateDeliveries implements allimi.DeliveryQueue under the lease.
func (f *Fenced) UpdateDeliveries(fn func(allimi.DeliveryTx) error) error {
	return f.updateDeliveries(&f.lease, -1, fn)
}

// lockTimedOut says whether err is PostgreSQL's lock_timeout.
func lockTimedOut(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

// PutQueueIntents implements allimi.QueueIntents under the lease: sign-up
// confirmations and answers are not sent by a leader whose lease is gone.
func (f *Fenced) PutQueueIntents(ch allimi.Channel, keys []string, in allimi.QueueIntent) error {
	return f.putQueueIntents(&f.lease, ch, keys, in)
}

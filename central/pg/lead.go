package pg

import (
	"context"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// leadPoll is how often a central that does not lead a job tries to take
// it over, and how often the leader checks that it still holds it.
const leadPoll = 2 * time.Second

// Lead runs f while this process holds the job name, until ctx ends: of
// all the centrals on the database, one at a time runs it. It is a
// PostgreSQL session advisory lock held on a connection of its own; the
// others try again every two seconds, so a leader that dies (its
// connection ends) is replaced within seconds. When the connection is
// lost f's context is cancelled and Lead waits for f before trying again.
//
// A leader cut off from the database may go on a moment (up to
// leadPoll) after another has taken over: what f writes must be safe
// for that (the dispatcher's send-intents and serializable commits are).
func (s *Store) Lead(ctx context.Context, name string, f func(ctx context.Context)) {
	key := leadKey(name)
	for ctx.Err() == nil {
		if conn, ok := s.tryLead(ctx, key); ok {
			s.log.Info("leading", "job", name)
			s.hold(ctx, conn, key, f)
			s.log.Info("no longer leading", "job", name)
		}
		select {
		case <-ctx.Done():
		case <-time.After(leadPoll):
		}
	}
}

// tryLead takes a connection and the lock on it; ok is false (and the
// connection given back) when another central holds the lock or the
// database cannot be reached.
func (s *Store) tryLead(ctx context.Context, key int64) (*pgxpool.Conn, bool) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil || !got {
		conn.Release()
		return nil, false
	}
	return conn, true
}

// hold runs f while conn, which holds the lock, answers; then it lets the
// lock go. A connection that failed is closed rather than given back (the
// server has dropped its locks with it).
func (s *Store) hold(ctx context.Context, conn *pgxpool.Conn, key int64, f func(ctx context.Context)) {
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(run)
	}()
	lost := false
	t := time.NewTicker(leadPoll)
	for !lost && run.Err() == nil {
		select {
		case <-run.Done():
		case <-done:
			cancel()
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, leadPoll)
			lost = conn.Ping(pctx) != nil && ctx.Err() == nil
			pcancel()
		}
	}
	t.Stop()
	cancel()
	<-done
	if lost {
		_ = conn.Conn().Close(context.Background())
		conn.Release()
		return
	}
	uctx, ucancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ucancel()
	if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
		_ = conn.Conn().Close(context.Background())
	}
	conn.Release()
}

// leadKey is the advisory lock's number for a job name.
func leadKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("allimi lead " + name))
	return int64(h.Sum64())
}

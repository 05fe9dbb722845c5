package pg

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"allimi/central/detail"
	"allimi/central/keyring"
)

// Store is central's storage in a PostgreSQL database, through a pool of
// connections.
type Store struct {
	pool   *pgxpool.Pool
	keys   *keyring.Keys
	now    func() time.Time
	window time.Duration // the conflict window (WithConflictWindow)
	log    *slog.Logger  // WithLogger
	// linkKey keys the detail links (DetailLink), derived from keys.
	linkKey []byte
	// details serves the detail pages (OpenDetails); nil when it serves
	// none.
	details *detail.Store
}

// Option tunes Open.
type Option func(*Store)

// WithKeys gives the store central's keys (keys.json): enrolment hands
// kiosks the catalog key. Without them, redeeming an enrolment code fails.
func WithKeys(k *keyring.Keys) Option { return func(s *Store) { s.keys = k } }

// Open connects to the database at url (postgres://…, or key=value
// settings, as pgx takes them), and checks that its schema is this
// build's: ErrUnmigrated when migrations are missing, ErrSchemaNewer when
// a newer build migrated it further.
//
// The pool holds up to poolConns connections unless the URL says
// otherwise (pool_max_conns=N).
// poolConns is how many connections a central's pool holds at most: its
// send slots' dispatchers read and commit at once, campaigns expand, the
// ingest commits and the leases are renewed, and with pgx's default (4
// on 2 cores) a central expanding a campaign barely sent meanwhile, and a
// lease given up waited for a connection past its end.
const poolConns = 24

func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now, window: time.Hour}
	for _, o := range opts {
		o(s)
	}
	if s.window <= 0 {
		s.window = time.Hour
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.keys != nil {
		s.linkKey = linkKey(s.keys.HashKey)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", redact(url), err)
	}
	// A transaction whose central stalls (a stopped process, a long
	// pause) must not hold its locks for ever: the lease of the jobs is
	// taken over only once the stalled leader's last transaction lets
	// its row go.
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = fmt.Sprint(idleInTransaction.Milliseconds())
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = poolConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", redact(url), err)
	}
	if err := checkSchema(ctx, pool, cfg.ConnConfig.Database, url); err != nil {
		pool.Close()
		return nil, err
	}
	if s.keys != nil {
		if err := checkKeys(ctx, pool, cfg.ConnConfig.Database, s.keys); err != nil {
			pool.Close()
			return nil, err
		}
	}
	s.pool = pool
	return s, nil
}

// idleInTransaction ends a session that has left a transaction open and
// idle this long (PostgreSQL's idle_in_transaction_session_timeout, unless
// the URL sets it): central's transactions never wait on anything but the
// database.
const idleInTransaction = 10 * time.Second

// Close closes the pool's connections, waiting for those in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// ctx is the context of the storage interfaces' calls, which take none.
func (s *Store) ctx() context.Context { return context.Background() }

package pg

import (
	"context"

	"github.com/jackc/pgx/v5"

	"allimi/central/throttle"
)

// The Store keeps central's attempt limiters' counts (throttle.Storage),
// so that a restart unlocks nothing. Each central process counts in its
// own memory and writes through: behind a load balancer, a guesser spread
// over several processes gets each one's allowance.

// LoadCounts returns every count kept for the limiter name.
func (s *Store) LoadCounts(name string) ([]throttle.Count, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT id, n, since, until FROM throttle_counts WHERE name = $1`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []throttle.Count
	for rows.Next() {
		var id []byte
		var n int64
		var c throttle.Count
		if err := rows.Scan(&id, &n, &c.Since, &c.Until); err != nil {
			return nil, err
		}
		if len(id) != len(c.ID) {
			continue // not an id this build writes: forgotten at the next save of its name
		}
		copy(c.ID[:], id)
		c.N = uint32(n)
		out = append(out, c)
	}
	return out, rows.Err()
}

// SaveCounts puts and deletes counts of the limiter name, at once.
func (s *Store) SaveCounts(name string, put []throttle.Count, del []throttle.ID) error {
	return s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		for _, c := range put {
			if _, err := tx.Exec(ctx, `INSERT INTO throttle_counts (name, id, n, since, until) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (name, id) DO UPDATE SET n = EXCLUDED.n, since = EXCLUDED.since, until = EXCLUDED.until`,
				name, c.ID[:], int64(c.N), c.Since, c.Until); err != nil {
				return err
			}
		}
		for _, i := range del {
			if _, err := tx.Exec(ctx, `DELETE FROM throttle_counts WHERE name = $1 AND id = $2`, name, i[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

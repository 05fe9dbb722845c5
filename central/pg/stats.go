package pg

import (
	"context"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// Stats reads the registry's counters, in one snapshot.
func (s *Store) Stats() (allimi.RegistryStats, error) {
	var st allimi.RegistryStats
	ctx := s.ctx()
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		st, err = statsIn(ctx, tx)
		return err
	})
	return st, err
}

// statsIn reads the registry's counters in tx.
func statsIn(ctx context.Context, tx pgx.Tx) (allimi.RegistryStats, error) {
	var st allimi.RegistryStats
	st.Active = map[string]map[string]int64{}
	st.Kiosks = map[string]uint64{}
	err := func() error {
		rows, err := tx.Query(ctx, `SELECT name, n FROM registry_counters`)
		if err != nil {
			return err
		}
		counters, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
			Name string
			N    int64
		}])
		if err != nil {
			return err
		}
		for _, c := range counters {
			switch c.Name {
			case "subscribers":
				st.Subscribers = c.N
			case "stored":
				st.Records.Stored = c.N
			case "duplicates":
				st.Records.Duplicates = c.N
			case "rejected":
				st.Records.Rejected = c.N
			}
		}
		if err := eachRow(ctx, tx, `SELECT type, channel, n FROM active_grants`, func(r pgx.Rows) error {
			var t, ch string
			var n int64
			if err := r.Scan(&t, &ch, &n); err != nil {
				return err
			}
			if st.Active[t] == nil {
				st.Active[t] = map[string]int64{}
			}
			st.Active[t][ch] = n
			return nil
		}); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM conflicts WHERE NOT resolved`).Scan(&st.Conflicts); err != nil {
			return err
		}
		return eachRow(ctx, tx, `SELECT kiosk, hw FROM kiosk_hw`, func(r pgx.Rows) error {
			var k string
			var hw int64
			if err := r.Scan(&k, &hw); err != nil {
				return err
			}
			st.Kiosks[k] = uint64(hw)
			return nil
		})
	}()
	return st, err
}

// eachRow runs f on each row of a query.
func eachRow(ctx context.Context, tx pgx.Tx, sql string, f func(pgx.Rows) error, args ...any) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Subscribers counts people with at least one active grant.
func (s *Store) Subscribers() (int64, error) {
	var n int64
	err := s.pool.QueryRow(s.ctx(), `SELECT n FROM registry_counters WHERE name = 'subscribers'`).Scan(&n)
	return n, err
}

// HW is the kiosk's high-water mark.
func (s *Store) HW(kiosk string) (uint64, error) {
	var hw int64
	err := s.pool.QueryRow(s.ctx(), `SELECT COALESCE((SELECT hw FROM kiosk_hw WHERE kiosk = $1), 0)`, kiosk).Scan(&hw)
	return uint64(hw), err
}

// Rejections lists the most recent refused messages, newest first.
func (s *Store) Rejections(limit int) ([]allimi.Rejection, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT id, at, kiosk, reason FROM rejections ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []allimi.Rejection{}
	for rows.Next() {
		var r allimi.Rejection
		var id int64
		if err := rows.Scan(&id, &r.At, &r.Kiosk, &r.Reason); err != nil {
			return nil, err
		}
		r.ID, r.At = uint64(id), r.At.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// SubsPending is zero: campaigns read consents directly, so there is no
// index to fold (central/ingest's Store).
func (s *Store) SubsPending() int64 { return 0 }

// FoldSubs has nothing to fold.
func (s *Store) FoldSubs() error { return nil }

package pg

import (
	"time"

	"allimi/central/record"

	"allimi"
)

// Sign-ups made without a verified number wait in the confirmations table
// until their owners have been told by SMS; the row is written in the
// transaction that stores the sign-up, so a crash forgets none.

// queueConfirmation queues a sign-up's confirmation.
func (b *batch) queueConfirmation(e *allimi.Event, ck []byte) error {
	b.w.queue(`INSERT INTO confirmations (key, ck, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		record.Key(e.Kiosk, e.Seq), ck, allimi.HLCTime(e.HLC).UTC().Truncate(time.Millisecond))
	return nil
}

// PendingConfirmations returns up to n confirmations still to send, in
// the order of their records' keys.
func (s *Store) PendingConfirmations(n int) ([]allimi.PendingConfirmation, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT f.key, f.ck, f.at, c.pii FROM confirmations f JOIN citizens c ON c.ck = f.ck
		ORDER BY f.key LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []allimi.PendingConfirmation
	for rows.Next() {
		var key, ck, pii []byte
		var at time.Time
		if err := rows.Scan(&key, &ck, &at, &pii); err != nil {
			return nil, err
		}
		cit, err := s.keys.OpenCitizen(pii, ck)
		if err != nil {
			return nil, err
		}
		out = append(out, allimi.PendingConfirmation{Key: key, Citizen: cit, At: at})
	}
	return out, rows.Err()
}

// DoneConfirmations deletes sent (or refused) confirmations.
func (s *Store) DoneConfirmations(keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := s.pool.Exec(s.ctx(), `DELETE FROM confirmations WHERE key = ANY($1)`, keys)
	return err
}

// ConfirmationsPending counts the confirmations not yet sent.
func (s *Store) ConfirmationsPending() (int, error) {
	var n int
	err := s.pool.QueryRow(s.ctx(), `SELECT count(*) FROM confirmations`).Scan(&n)
	return n, err
}

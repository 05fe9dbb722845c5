package pg

import (
	"github.com/jackc/pgx/v5"

	"allimi"
)

// The durable send queues (sign-up confirmations, officials' answers)
// commit an intent before each request and forget it once they have
// recorded the answer, as central/bolt's queueintents.go says.

// QueueIntents implements allimi.QueueIntents.
func (s *Store) QueueIntents(ch allimi.Channel, keys []string) (map[string]allimi.QueueIntent, error) {
	out := map[string]allimi.QueueIntent{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(s.ctx(), `SELECT key, at_ms, grp FROM queue_intents WHERE channel = $1 AND key = ANY($2)`,
		string(ch), keys)
	if err != nil {
		return nil, err
	}
	var k string
	var at, grp int64
	_, err = pgx.ForEachRow(rows, []any{&k, &at, &grp}, func() error {
		out[k] = allimi.QueueIntent{At: at, Group: uint64(grp)}
		return nil
	})
	return out, err
}

// PutQueueIntents implements allimi.QueueIntents: one statement, so all
// the keys' intents are stored together.
func (s *Store) PutQueueIntents(ch allimi.Channel, keys []string, in allimi.QueueIntent) error {
	return s.putQueueIntents(nil, ch, keys, in)
}

// putQueueIntents is PutQueueIntents, under lease l when it is not nil
// (Fenced): the intents are written before the messages are sent, so a
// leader whose lease is gone sends nothing.
func (s *Store) putQueueIntents(l *Lease, ch allimi.Channel, keys []string, in allimi.QueueIntent) error {
	if len(keys) == 0 {
		return nil
	}
	return pgx.BeginFunc(s.ctx(), s.pool, func(tx pgx.Tx) error {
		if l != nil {
			if err := checkLease(s.ctx(), tx, *l); err != nil {
				return err
			}
		}
		_, err := tx.Exec(s.ctx(), `INSERT INTO queue_intents (channel, key, at_ms, grp)
			SELECT $1, k, $3, $4 FROM unnest($2::text[]) AS k
			ON CONFLICT (channel, key) DO UPDATE SET at_ms = EXCLUDED.at_ms, grp = EXCLUDED.grp`,
			string(ch), dedupe(keys), in.At, int64(in.Group))
		return err
	})
}

// QueueSettled implements allimi.QueueIntents.
func (s *Store) QueueSettled(ch allimi.Channel, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := s.pool.Exec(s.ctx(), `DELETE FROM queue_intents WHERE channel = $1 AND key = ANY($2)`, string(ch), keys)
	return err
}

// dedupe is keys without repeats, in their order: one INSERT … ON
// CONFLICT DO UPDATE may not touch a row twice.
func dedupe(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

package pg

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// channelOrderSQL orders rows by their channel's place in
// allimi.Channels, as central/bolt's keys order them.
var channelOrderSQL = func() string {
	var b strings.Builder
	b.WriteString("CASE channel")
	for i, ch := range allimi.Channels {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", ch, i)
	}
	b.WriteString(" END")
	return b.String()
}()

// DeliveryStats implements allimi.Deliveries: the subscribers per type
// and channel (the registry's active grants), and the dispatcher's
// counts.
func (s *Store) DeliveryStats() (allimi.DeliveryStats, error) {
	out := allimi.DeliveryStats{}
	put := func(t, ch, m string, n int64) {
		if out[t] == nil {
			out[t] = map[string]map[string]int64{}
		}
		if out[t][ch] == nil {
			out[t][ch] = map[string]int64{}
		}
		out[t][ch][m] = n
	}
	err := s.snapshot(s.ctx(), func(tx pgx.Tx) error {
		rows, err := tx.Query(s.ctx(), `SELECT type, channel, 'subscribers', n FROM active_grants
			UNION ALL SELECT type, channel, outcome, sum(n)::bigint FROM delivery_stats GROUP BY type, channel, outcome`)
		if err != nil {
			return err
		}
		var t, ch, m string
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&t, &ch, &m, &n}, func() error {
			put(t, ch, m, n)
			return nil
		})
		return err
	})
	return out, err
}

// DeliveryStatus implements allimi.Deliveries.
func (s *Store) DeliveryStatus(r allimi.DeliveryRef) (allimi.DeliveryState, string, error) {
	var state int16
	var reason string
	err := s.pool.QueryRow(s.ctx(), `SELECT state, reason FROM deliveries WHERE notification = $1 AND seq = $2 AND channel = $3`,
		r.Notification, int64(r.Seq), string(r.Channel)).Scan(&state, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return allimi.DeliveryQueued, "", nil
	}
	return allimi.DeliveryState(state), reason, err
}

// DeadLetters implements allimi.Deliveries: up to limit, in the order of
// their deliveries, and the count of all.
func (s *Store) DeadLetters(limit int) ([]allimi.DeadLetter, int, error) {
	out := []allimi.DeadLetter{}
	total := 0
	err := s.snapshot(s.ctx(), func(tx pgx.Tx) error {
		if err := tx.QueryRow(s.ctx(), `SELECT count(*) FROM dead_letters`).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(s.ctx(), `SELECT body FROM dead_letters ORDER BY notification, seq, `+channelOrderSQL+` LIMIT $1`,
			max(limit, 0))
		if err != nil {
			return err
		}
		var body []byte
		_, err = pgx.ForEachRow(rows, []any{&body}, func() error {
			var d allimi.DeadLetter
			if err := json.Unmarshal(body, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
		return err
	})
	return out, total, err
}

// replaySQL takes dead letters out of their queue (all, or the one
// named), marks their deliveries retrying with a fresh retry horizon
// (attempts and first attempt reset, reason "replayed"), and puts them in
// the due queue at $5 with their flags; its rows are the entries queued.
const replaySQL = `WITH dl AS (
	DELETE FROM dead_letters WHERE $1 OR (notification = $2 AND seq = $3 AND channel = $4)
	RETURNING notification, seq, channel),
rec AS (
	INSERT INTO deliveries (notification, seq, channel, state, attempts, flags, first_ms, updated_ms, reason)
	SELECT dl.notification, dl.seq, dl.channel, $6, 0, coalesce(d.flags, 0), 0, $5, 'replayed'
	FROM dl LEFT JOIN deliveries d USING (notification, seq, channel)
	ON CONFLICT (notification, seq, channel) DO UPDATE SET state = EXCLUDED.state, attempts = 0, first_ms = 0,
		updated_ms = EXCLUDED.updated_ms, reason = EXCLUDED.reason
	RETURNING notification, seq, channel, flags)
INSERT INTO due (channel, at_ms, notification, seq, flags) SELECT channel, $5, notification, seq, flags FROM rec
ON CONFLICT (channel, at_ms, notification, seq) DO UPDATE SET flags = EXCLUDED.flags`

// ReplayDeadLetters implements allimi.Deliveries: the dead letter named
// by key, or all when key is empty, go back to the due queue, in one
// statement.
func (s *Store) ReplayDeadLetters(key string) (int, error) {
	all := key == ""
	var r allimi.DeliveryRef
	if !all {
		var err error
		if r, err = allimi.ParseDeliveryKey(key); err != nil {
			return 0, err
		}
	}
	now := s.now().UnixMilli()
	n := 0
	err := s.serial(s.ctx(), func(tx pgx.Tx) error {
		tag, err := tx.Exec(s.ctx(), replaySQL, all, r.Notification, int64(r.Seq), string(r.Channel), now, int16(allimi.DeliveryRetrying))
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if !all && n == 0 {
			return fmt.Errorf("dead letter %s: %w", key, allimi.ErrNotFound)
		}
		return nil
	})
	return n, err
}

// StrandedReceipts are up to limit receipts kept as early whose delivery
// has been accepted since: a send slot's commit of the acceptance (READ
// COMMITTED) missed them while they were being kept. notify's
// Dispatcher.SettleStranded applies them.
func (s *Store) StrandedReceipts(limit int) ([]allimi.ProviderReceipt, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT e.body FROM early_receipts e
		JOIN deliveries d ON d.notification = e.notification AND d.seq = e.seq AND d.channel = e.channel
		WHERE d.state = $1 ORDER BY e.notification, e.seq, e.channel LIMIT $2`, int16(allimi.DeliveryAccepted), limit)
	if err != nil {
		return nil, err
	}
	var out []allimi.ProviderReceipt
	var body []byte
	_, err = pgx.ForEachRow(rows, []any{&body}, func() error {
		var r allimi.ProviderReceipt
		if err := json.Unmarshal(body, &r); err != nil {
			return nil // unreadable: the slot that meets it deletes it
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

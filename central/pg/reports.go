package pg

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/subsidy"
)

// SetKioskRegion implements allimi.KioskRegions.
func (s *Store) SetKioskRegion(id, region string) error {
	region, err := subsidy.CanonicalRegion(region)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(s.ctx(), `UPDATE kiosks SET region = $2 WHERE id = $1`, id, region)
	if err != nil {
		return fmt.Errorf("kiosk %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("kiosk %s: %w", id, allimi.ErrNotFound)
	}
	return nil
}

// KioskRegion implements allimi.KioskRegions.
func (s *Store) KioskRegion(id string) (string, error) {
	var region string
	err := s.pool.QueryRow(s.ctx(), `SELECT region FROM kiosks WHERE id = $1`, id).Scan(&region)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("kiosk %s: %w", id, allimi.ErrNotFound)
	}
	return region, err
}

// ChannelSubscribers implements allimi.SubscriberReports: the counters
// every consent change keeps (registry_counters people:CHANNEL).
func (s *Store) ChannelSubscribers() (map[allimi.Channel]int64, error) {
	out := map[allimi.Channel]int64{}
	rows, err := s.pool.Query(s.ctx(), `SELECT substr(name, 8), n FROM registry_counters WHERE name LIKE 'people:%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ch string
		var n int64
		if err := rows.Scan(&ch, &n); err != nil {
			return nil, err
		}
		out[allimi.Channel(ch)] = n
	}
	return out, rows.Err()
}

// DailyDeliveries implements allimi.DeliveryReports.
func (s *Store) DailyDeliveries(from, to string) ([]allimi.DeliveryCount, error) {
	if _, err := allimi.ParseKSTDay("from", from); err != nil {
		return nil, err
	}
	if _, err := allimi.ParseKSTDay("to", to); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(s.ctx(), `SELECT to_char(day, 'YYYY-MM-DD'), region, type, channel, outcome, sum(n)::bigint
		FROM delivery_daily WHERE day BETWEEN $1::text::date AND $2::text::date
		GROUP BY day, region, type, channel, outcome ORDER BY day, region COLLATE "C", type COLLATE "C", channel COLLATE "C", outcome COLLATE "C"`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []allimi.DeliveryCount{}
	for rows.Next() {
		var c allimi.DeliveryCount
		var t, ch string
		if err := rows.Scan(&c.Day, &c.Region, &t, &ch, &c.Outcome, &c.N); err != nil {
			return nil, err
		}
		c.Type, c.Channel = allimi.NotificationType(t), allimi.Channel(ch)
		out = append(out, c)
	}
	return out, rows.Err()
}

// NotificationChannels implements allimi.DeliveryReports.
func (s *Store) NotificationChannels(id uint64) (map[allimi.Channel]allimi.ChannelStates, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT channel, state, (flags & 1) <> 0, count(*) FROM deliveries
		WHERE notification = $1 GROUP BY 1, 2, 3`, int64(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[allimi.Channel]allimi.ChannelStates{}
	for rows.Next() {
		var ch string
		var state int16
		var fallback bool
		var n int64
		if err := rows.Scan(&ch, &state, &fallback, &n); err != nil {
			return nil, err
		}
		cs := out[allimi.Channel(ch)]
		if cs.States == nil {
			cs.States = map[allimi.DeliveryState]int64{}
		}
		cs.States[allimi.DeliveryState(state)] += n
		if fallback {
			cs.Fallbacks += n
		}
		out[allimi.Channel(ch)] = cs
	}
	return out, rows.Err()
}

// channelMask is the channels on which states hold an active grant.
func channelMask(st states) byte {
	var m byte
	for k, c := range st {
		if c.Active() {
			m |= allimi.ChannelBit(k.ch)
		}
	}
	return m
}

// peopleDelta adds to d the change of people per channel between a
// person's active channels before and after.
func peopleDelta(d map[allimi.Channel]int64, before, after byte) {
	for _, ch := range allimi.Channels {
		bit := allimi.ChannelBit(ch)
		switch {
		case before&bit == 0 && after&bit != 0:
			d[ch]++
		case before&bit != 0 && after&bit == 0:
			d[ch]--
		}
	}
}

// addPeople writes a change of the people counted per channel.
func addPeople(q execer, s *Store, d map[allimi.Channel]int64) error {
	for _, ch := range allimi.Channels {
		if n := d[ch]; n != 0 {
			if _, err := q.Exec(s.ctx(), `UPDATE registry_counters SET n = n + $2 WHERE name = $1`, "people:"+string(ch), n); err != nil {
				return err
			}
		}
	}
	return nil
}

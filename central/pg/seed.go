package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// seedChunk is how many people one seeding transaction writes.
var seedChunk = 50000

// ImportSubscribers writes n people, person(1) … person(n), each consenting
// to the given types on the given channels, straight into the registry: a
// benchmark's or a demo's population without n kiosk records (see
// internal/loadgen.Seed). Their consents are recorded as given at kiosk
// "seed", record i; a person already in the registry is left as they are.
// Each chunk of people is copied into a temporary table (COPY) and moved
// from there in a few statements.
func (s *Store) ImportSubscribers(n int, person func(i uint64) allimi.Citizen, types []allimi.NotificationType, channels []allimi.Channel) error {
	if len(types) == 0 || len(channels) == 0 {
		return fmt.Errorf("seed: no types or no channels: %w", allimi.ErrInvalid)
	}
	now := s.now().UTC()
	hlc := int64(allimi.NextHLC(0, now))
	ts := make([]string, len(types))
	for i, t := range types {
		ts[i] = string(t)
	}
	chs := make([]string, len(channels))
	for i, ch := range channels {
		chs[i] = string(ch)
	}
	grants := len(types) * len(channels)
	for start := 1; start <= n; start += seedChunk {
		end := min(start+seedChunk-1, n)
		rows := make([][]any, 0, end-start+1)
		for i := start; i <= end; i++ {
			c := person(uint64(i))
			ck := s.keys.CitizenKey(c.Mobile, c.BirthDate)
			rows = append(rows, []any{ck, s.keys.SealCitizen(c, ck), int64(i)})
		}
		err := s.inTx(func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_people (ck bytea, pii bytea, i bigint) ON COMMIT DROP`); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_people"}, []string{"ck", "pii", "i"}, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_new ON COMMIT DROP AS
				WITH ins AS (
					INSERT INTO citizens (ck, pii, verified, active, created, updated)
					SELECT DISTINCT ON (ck) ck, pii, false, $1, $2, $2 FROM seed_people ORDER BY ck, i
					ON CONFLICT (ck) DO NOTHING RETURNING ck)
				SELECT p.ck, min(p.i) AS i FROM ins JOIN seed_people p ON p.ck = ins.ck GROUP BY p.ck`, grants, now); err != nil {
				return err
			}
			var added int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM seed_new`).Scan(&added); err != nil {
				return err
			}
			if added == 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, `INSERT INTO consents (ck, type, channel, action, hlc, kiosk, seq, by_kind, by_official, by_method, at)
				SELECT n.ck, t, ch, 'grant', $3, 'seed', n.i, $4, '', '', $5
				FROM seed_new n, unnest($1::text[]) AS t, unnest($2::text[]) AS ch`,
				ts, chs, hlc, allimi.ActorSelf, now); err != nil {
				return err
			}
			active := map[typeChannel]int64{}
			for _, t := range types {
				for _, ch := range channels {
					active[typeChannel{t, ch}] = added
				}
			}
			if err := addActive(ctx, tx, active); err != nil {
				return err
			}
			if len(types) > 0 {
				people := map[allimi.Channel]int64{}
				for _, ch := range channels {
					people[ch] = added
				}
				if err := addPeople(tx, s, people); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `UPDATE registry_counters SET n = n + $1 WHERE name = 'subscribers'`, added)
			return err
		})
		if err != nil {
			return fmt.Errorf("seed people %d-%d: %w", start, end, err)
		}
	}
	return nil
}

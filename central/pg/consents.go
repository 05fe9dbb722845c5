package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"allimi/central/record"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// citizenRow is a person's row of the citizens table.
type citizenRow struct {
	pii      []byte
	verified bool
	active   int
	created  time.Time
	region   string // of the kiosk of the last sign-up (allimi.Outgoing.Region)
}

// states are a person's consent states, by type and channel.
type states map[typeChannel]allimi.ConsentState

// lockCitizen reads a person's row and their consent states, locking
// them until the transaction ends; known is false for a person not stored.
func lockCitizen(ctx context.Context, tx pgx.Tx, ck []byte) (row citizenRow, known bool, st states, err error) {
	err = tx.QueryRow(ctx, `SELECT pii, verified, active, created, region FROM citizens WHERE ck = $1 FOR UPDATE`, ck).
		Scan(&row.pii, &row.verified, &row.active, &row.created, &row.region)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = nil
	case err != nil:
		return row, false, nil, err
	default:
		known = true
	}
	st = states{}
	if !known {
		return row, known, st, nil // a person not stored has no consent
	}
	rows, err := tx.Query(ctx, `SELECT type, channel, action, hlc, kiosk, seq, by_kind, by_official, by_method, at
		FROM consents WHERE ck = $1 FOR UPDATE`, ck)
	if err != nil {
		return row, known, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k typeChannel
		var c allimi.ConsentState
		var hlc, seq int64
		if err := rows.Scan(&k.t, &k.ch, &c.Action, &hlc, &c.Kiosk, &seq, &c.By.Kind, &c.By.Official, &c.By.Method, &c.At); err != nil {
			return row, known, nil, err
		}
		c.HLC, c.Seq = uint64(hlc), uint64(seq)
		st[k] = c
	}
	return row, known, st, rows.Err()
}

// putConsent stores the state that won for a person, type and channel.
func putConsent(ctx context.Context, tx execer, ck []byte, k typeChannel, c allimi.ConsentState) error {
	return putConsents(ctx, tx, ck, states{k: c})
}

// putConsents stores a person's states that won, in one statement: a
// record changes up to a type per channel (a sign-up eleven or more), and
// each statement is a round trip to the server.
func putConsents(ctx context.Context, tx execer, ck []byte, st states) error {
	if len(st) == 0 {
		return nil
	}
	var types, chans, actions, kiosks, kinds, officials, methods []string
	var hlcs, seqs []int64
	var ats []time.Time
	for k, c := range st {
		types, chans, actions = append(types, string(k.t)), append(chans, string(k.ch)), append(actions, string(c.Action))
		hlcs, kiosks, seqs = append(hlcs, int64(c.HLC)), append(kiosks, c.Kiosk), append(seqs, int64(c.Seq))
		kinds, officials, methods = append(kinds, c.By.Kind), append(officials, c.By.Official), append(methods, string(c.By.Method))
		ats = append(ats, c.At.UTC())
	}
	_, err := tx.Exec(ctx, `INSERT INTO consents (ck, type, channel, action, hlc, kiosk, seq, by_kind, by_official, by_method, at)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::timestamptz[])
		ON CONFLICT (ck, type, channel) DO UPDATE SET action = EXCLUDED.action, hlc = EXCLUDED.hlc, kiosk = EXCLUDED.kiosk,
			seq = EXCLUDED.seq, by_kind = EXCLUDED.by_kind, by_official = EXCLUDED.by_official, by_method = EXCLUDED.by_method, at = EXCLUDED.at`,
		ck, types, chans, actions, hlcs, kiosks, seqs, kinds, officials, methods, ats)
	return err
}

// applyConsents applies a record's consent changes to the person's
// consents and row, logs them, and notes them for the batch's audit
// entry; it returns the person's states after.
func (b *batch) applyConsents(e *allimi.Event, ck []byte, p *allimi.ConsentPayload, prep *record.Prepared) (states, error) {
	who, err := b.person(ck)
	if err != nil {
		return nil, err
	}
	row, known, st := who.row, who.known, who.st
	now := b.s.now().UTC()
	if !known {
		row.created = now
	}
	// A sign-up replaces the person's data, and with it the language
	// they signed up in (sealed together: keyring.EncodePerson).
	if e.Kind == allimi.KindSignup || row.pii == nil {
		row.pii = prep.PII
		if row.pii == nil {
			row.pii = b.s.keys.SealPerson(e.Citizen, p.Lang, ck)
		}
	}
	row.verified = row.verified || p.Verified
	// A sign-up counts the person under its kiosk's region from now on.
	if e.Kind == allimi.KindSignup {
		if row.region, err = b.kioskRegion(e.Kiosk); err != nil {
			return nil, err
		}
	}
	entry := prep.LogEntry
	if entry == nil {
		if entry, err = record.LogEntry(p); err != nil {
			return nil, err
		}
	}
	b.w.queue(`INSERT INTO consent_log (ck, hlc, kiosk, seq, entry) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, ck, int64(e.HLC), e.Kiosk, int64(e.Seq), entry)
	delta := 0
	won := states{}
	channelsBefore := channelMask(st)
	for _, c := range p.Consents {
		k := typeChannel{c.Type, c.Channel}
		next := allimi.ConsentState{Action: c.Action, HLC: e.HLC, Kiosk: e.Kiosk, Seq: e.Seq, By: c.By, At: c.At}
		cur, have := st[k]
		wins, conflict := allimi.DecideConsent(cur, have, next, b.s.window)
		if conflict {
			if err := b.s.recordConflict(b.ctx, b.w, allimi.NewConflict(ck, c.Type, c.Channel, cur, next, now)); err != nil {
				return nil, err
			}
		}
		if !wins {
			continue
		}
		won[k] = next
		d := allimi.ActiveDelta(cur, have, next)
		b.active[k] += int64(d)
		delta += d
		st[k] = next
	}
	if err := putConsents(b.ctx, b.w, ck, won); err != nil {
		return nil, err
	}
	peopleDelta(b.chanPeople, channelsBefore, channelMask(st))
	item := prep.Audit
	if !prep.Audited {
		item = record.AuditItem(b.s.keys, ck, e, p.AuditSummary())
	}
	b.audit = append(b.audit, item)
	before := row.active
	row.active += delta
	switch {
	case before == 0 && row.active > 0:
		b.subscribers++
	case before > 0 && row.active == 0:
		b.subscribers--
	}
	who.row, who.known = row, true
	return st, putCitizen(b.ctx, b.w, ck, row, now)
}

func putCitizen(ctx context.Context, tx execer, ck []byte, row citizenRow, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO citizens (ck, pii, verified, active, created, updated, region) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (ck) DO UPDATE SET pii = EXCLUDED.pii, verified = EXCLUDED.verified, active = EXCLUDED.active, updated = EXCLUDED.updated,
			region = EXCLUDED.region`,
		ck, row.pii, row.verified, row.active, row.created, now, row.region)
	return err
}

// recordConflict lists a conflict for officials.
func (s *Store) recordConflict(ctx context.Context, tx execer, c allimi.Conflict) error {
	ck := c.CitizenKey
	c.CitizenKey = nil
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO conflicts (ck, body) VALUES ($1, $2)`, ck, body)
	return err
}

// LanguageOf reports the language a person last signed up in.
func (s *Store) LanguageOf(mobile, birthDate string) (string, bool, error) {
	if s.keys == nil {
		return "", false, errNoKeys
	}
	ck := s.keys.CitizenKey(mobile, birthDate)
	var pii []byte
	err := s.pool.QueryRow(s.ctx(), `SELECT pii FROM citizens WHERE ck = $1`, ck).Scan(&pii)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	_, lang, err := s.keys.OpenPerson(pii, ck)
	return lang, err == nil, err
}

// ConsentOf reports a person's current consent for a type and channel.
func (s *Store) ConsentOf(mobile, birthDate string, t allimi.NotificationType, ch allimi.Channel) (allimi.ConsentAction, bool, error) {
	var a string
	err := s.pool.QueryRow(s.ctx(), `SELECT action FROM consents WHERE ck = $1 AND type = $2 AND channel = $3`,
		s.keys.CitizenKey(mobile, birthDate), string(t), string(ch)).Scan(&a)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return allimi.ConsentAction(a), err == nil, err
}

// Conflicts lists conflicts as officials see them (allimi.Conflict.Shown),
// unresolved ones only unless all is set.
func (s *Store) Conflicts(all bool) ([]allimi.Conflict, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT c.id, c.body, z.ck, z.pii FROM conflicts c LEFT JOIN citizens z ON z.ck = c.ck
		WHERE $1 OR NOT c.resolved ORDER BY c.id`, all)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []allimi.Conflict{}
	for rows.Next() {
		var id int64
		var body, ck, pii []byte
		if err := rows.Scan(&id, &body, &ck, &pii); err != nil {
			return nil, err
		}
		var c allimi.Conflict
		if err := json.Unmarshal(body, &c); err != nil {
			return nil, fmt.Errorf("conflict %d: %w", id, err)
		}
		c.ID = uint64(id)
		if pii != nil {
			if cit, err := s.keys.OpenCitizen(pii, ck); err == nil {
				c = c.Shown(cit)
			}
		}
		c.CitizenKey = nil
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResolveConflict records an official's decision and sets the consent
// accordingly, superseding every older change.
func (s *Store) ResolveConflict(id uint64, decision allimi.ConsentAction, official string) error {
	if err := allimi.CheckResolution(decision, official); err != nil {
		return err
	}
	return s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		var body, ck []byte
		err := tx.QueryRow(ctx, `SELECT body, ck FROM conflicts WHERE id = $1 FOR UPDATE`, int64(id)).Scan(&body, &ck)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("conflict %d: %w", id, allimi.ErrNotFound)
		}
		if err != nil {
			return err
		}
		var c allimi.Conflict
		if err := json.Unmarshal(body, &c); err != nil {
			return err
		}
		if c.Resolved != nil {
			return fmt.Errorf("conflict %d: already resolved by %s: %w", id, c.Resolved.Official, allimi.ErrInvalid)
		}
		now := s.now().UTC()
		c.Resolved = &allimi.Resolution{Decision: decision, Official: official, At: now}
		row, known, st, err := lockCitizen(ctx, tx, ck)
		if err != nil {
			return err
		}
		if !known {
			return fmt.Errorf("conflict %d: its person is not stored", id)
		}
		k := typeChannel{c.Type, c.Channel}
		cur, have := st[k]
		// The resolution's clock must follow everything it settles.
		next := allimi.ConsentState{Action: decision, HLC: allimi.NextHLC(cur.HLC, now),
			By: allimi.Actor{Kind: allimi.ActorCentral, Official: official}, At: now}
		if wins, _ := allimi.DecideConsent(cur, have, next, s.window); wins {
			if err := putConsent(ctx, tx, ck, k, next); err != nil {
				return err
			}
			channelsBefore := channelMask(st)
			st[k] = next
			people := map[allimi.Channel]int64{}
			peopleDelta(people, channelsBefore, channelMask(st))
			if err := addPeople(tx, s, people); err != nil {
				return err
			}
			if d := allimi.ActiveDelta(cur, have, next); d != 0 {
				if err := addActive(ctx, tx, map[typeChannel]int64{k: int64(d)}); err != nil {
					return err
				}
				before := row.active
				row.active += d
				if err := putCitizen(ctx, tx, ck, row, now); err != nil {
					return err
				}
				var subs int64
				switch {
				case before == 0 && row.active > 0:
					subs = 1
				case before > 0 && row.active == 0:
					subs = -1
				}
				if subs != 0 {
					if _, err := tx.Exec(ctx, `UPDATE registry_counters SET n = n + $1 WHERE name = 'subscribers'`, subs); err != nil {
						return err
					}
				}
			}
		}
		nb, _ := json.Marshal(c)
		if _, err := tx.Exec(ctx, `UPDATE conflicts SET body = $2, resolved = true WHERE id = $1`, int64(id), nb); err != nil {
			return err
		}
		return s.audit(ctx, tx, allimi.AuditResolution, ck, official,
			fmt.Sprintf("conflict %d: %s %s %s", id, decision, c.Type, c.Channel))
	})
}

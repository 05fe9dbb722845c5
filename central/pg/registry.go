package pg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"allimi"
	"allimi/internal/jsonfast"
)

// The registry on PostgreSQL (migration 0002): kiosks' records stored once
// each, and what they change, in one transaction per batch, as
// allimi.Registry says and central/bolt does. Several central processes
// may commit at once: a record is stored once (its primary key decides
// which commit has it; the other counts a duplicate), a person's rows are
// locked while a batch changes them, and the counters and the audit chain
// are written last in every batch, in one order, so that batches wait for
// each other only there.

// WithConflictWindow sets how close in time a grant and a withdrawal from
// different kiosks must be to be concurrent (allimi.DecideConsent); an
// hour when not set.
func WithConflictWindow(d time.Duration) Option { return func(s *Store) { s.window = d } }

// maxRejectionsKept bounds the rejection list; the counter keeps counting.
const maxRejectionsKept = 10000

// prepared is the part of storing an event that reads nothing stored:
// serialising, sealing and keying it, done by Prepare ahead of the batch's
// transaction. A field left empty is computed by Commit.
type prepared struct {
	sealed   []byte           // the event as kept, sealed under its key
	ck       []byte           // the person's key (events about a person)
	pii      []byte           // their personal data sealed under ck (sign-ups)
	logEntry []byte           // the consent log entry
	audit    allimi.AuditItem // the event's line in the batch's audit entry
	audited  bool
}

// Prepare fills in.Prepared for an event; for a refusal it does nothing.
func (s *Store) Prepare(in *allimi.Incoming) {
	e := in.Event
	if _, done := in.Prepared.(*prepared); in.Reject != nil || e == nil || done {
		return
	}
	p := &prepared{}
	if plain, err := jsonfast.Marshal(eventToKeep(e)); err == nil {
		p.sealed = s.keys.Seal(plain, eventKey(e.Kiosk, e.Seq))
	}
	switch e.Kind {
	case allimi.KindFeedback, allimi.KindQuestionAudio, allimi.KindQuestion:
	default:
		if c := in.Consents; c != nil {
			p.ck = s.keys.CitizenKey(e.Citizen.Mobile, e.Citizen.BirthDate)
			if e.Kind == allimi.KindSignup {
				p.pii = s.keys.SealCitizen(e.Citizen, p.ck)
			}
			if entry, err := consentLogEntry(c); err == nil {
				p.logEntry = entry
			}
			p.audit, p.audited = s.auditItem(p.ck, fmt.Sprintf("%s/%d", e.Kiosk, e.Seq), c.AuditSummary()), true
		}
	}
	in.Prepared = p
}

// eventToKeep is the record as the events table keeps it: a question's
// recording is kept with the question (and deleted by its retention
// policy), not in the record.
func eventToKeep(e *allimi.Event) *allimi.Event {
	if e.Kind != allimi.KindQuestionAudio {
		return e
	}
	c := *e
	c.Payload = []byte(`{"audio":"kept with the question"}`)
	return &c
}

// consentLogEntry is what the consent log keeps of a record's payload: its
// changes and whether the number was verified, written from the decoded
// payload so that nothing else the kiosk sent is kept in plaintext.
func consentLogEntry(p *allimi.ConsentPayload) ([]byte, error) {
	return jsonfast.Marshal(allimi.ConsentPayload{Consents: p.Consents, Verified: p.Verified})
}

// eventKey names a record: its kiosk, a zero byte and its seq, big-endian
// (as bbolt keys it). Sealed records are bound to it.
func eventKey(kiosk string, seq uint64) []byte {
	k := make([]byte, 0, len(kiosk)+9)
	k = append(k, kiosk...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// batch is what one Commit adds to state that every record of the batch
// shares, written once at its end: the counters, and the audit entry.
type batch struct {
	s           *Store
	tx          pgx.Tx
	ctx         context.Context
	active      map[typeChannel]int64
	subscribers int64
	audit       []allimi.AuditItem
	receipts    map[string]bool // code keys taken in this batch
}

type typeChannel struct {
	t  allimi.NotificationType
	ch allimi.Channel
}

// Commit stores a batch in one transaction.
func (s *Store) Commit(in []allimi.Incoming) (allimi.CommitOutcome, error) {
	for i := range in {
		s.Prepare(&in[i])
	}
	var out allimi.CommitOutcome
	err := s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		out = allimi.CommitOutcome{HW: map[string]uint64{}}
		b := &batch{s: s, tx: tx, ctx: ctx, active: map[typeChannel]int64{}, receipts: map[string]bool{}}
		for _, it := range in {
			if it.Reject != nil {
				out.Rejected++
				if err := b.logRejection(it.Kiosk, it.Reject); err != nil {
					return err
				}
				continue
			}
			e := it.Event
			prep, _ := it.Prepared.(*prepared)
			sealed := prep.sealed
			if sealed == nil {
				plain, err := jsonfast.Marshal(eventToKeep(e))
				if err != nil {
					return err
				}
				sealed = s.keys.Seal(plain, eventKey(e.Kiosk, e.Seq))
			}
			tag, err := tx.Exec(ctx, `INSERT INTO events (kiosk, seq, sealed) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				e.Kiosk, int64(e.Seq), sealed)
			if err != nil {
				return err
			}
			out.HW[e.Kiosk] = 0
			if tag.RowsAffected() == 0 {
				out.Duplicates++
				continue
			}
			confirm, err := b.apply(e, it.Consents, prep)
			if err != nil {
				return fmt.Errorf("event %s/%d: %w", e.Kiosk, e.Seq, err)
			}
			if confirm {
				out.Confirmations++
			}
			out.Stored++
		}
		if err := b.flush(out); err != nil {
			return err
		}
		for k := range out.HW {
			hw, err := advanceHW(ctx, tx, k)
			if err != nil {
				return err
			}
			out.HW[k] = hw
		}
		return nil
	})
	return out, err
}

// apply folds a new event into the person's record and consents; it
// reports whether the event is a sign-up to confirm by SMS.
func (b *batch) apply(e *allimi.Event, p *allimi.ConsentPayload, prep *prepared) (confirm bool, err error) {
	switch e.Kind {
	case allimi.KindFeedback:
		return false, b.countFeedback(e)
	case allimi.KindQuestionAudio, allimi.KindQuestion:
		// The questions part of this store is still to be written; until
		// then central serve does not run on PostgreSQL.
		return false, fmt.Errorf("%s records: not kept on PostgreSQL yet", e.Kind)
	}
	if p == nil {
		dp, err := e.Consents()
		if err != nil {
			return false, err
		}
		p = &dp
	}
	if prep == nil {
		prep = &prepared{}
	}
	ck := prep.ck
	if ck == nil {
		ck = b.s.keys.CitizenKey(e.Citizen.Mobile, e.Citizen.BirthDate)
	}
	if e.Kind == allimi.KindSignup {
		if err := b.putReceipt(e, ck, p); err != nil {
			return false, err
		}
		if !p.Verified {
			if err := b.queueConfirmation(e, ck); err != nil {
				return false, err
			}
			confirm = true
		}
	}
	states, err := b.applyConsents(e, ck, p, prep)
	if err != nil {
		return false, err
	}
	if touchesNewBenefits(p) {
		if err := b.keepProfile(e, ck, p, states); err != nil {
			return false, err
		}
	}
	return confirm, nil
}

func touchesNewBenefits(p *allimi.ConsentPayload) bool {
	if len(p.Profile) > 0 {
		return true
	}
	for _, c := range p.Consents {
		if c.Type == allimi.TypeNewBenefits {
			return true
		}
	}
	return false
}

// logRejection lists a refused record, keeping the latest maxRejectionsKept.
func (b *batch) logRejection(kiosk string, why error) error {
	var id int64
	err := b.tx.QueryRow(b.ctx, `INSERT INTO rejections (at, kiosk, reason) VALUES ($1, $2, $3) RETURNING id`,
		b.s.now().UTC(), kiosk, why.Error()).Scan(&id)
	if err != nil {
		return err
	}
	if id > maxRejectionsKept {
		_, err = b.tx.Exec(b.ctx, `DELETE FROM rejections WHERE id <= $1`, id-maxRejectionsKept)
	}
	return err
}

// flush writes the batch's counters and its audit entry, in one order in
// every batch.
func (b *batch) flush(out allimi.CommitOutcome) error {
	for _, c := range []struct {
		name string
		n    int64
	}{{"duplicates", int64(out.Duplicates)}, {"rejected", int64(out.Rejected)}, {"stored", int64(out.Stored)}, {"subscribers", b.subscribers}} {
		if c.n == 0 {
			continue
		}
		if _, err := b.tx.Exec(b.ctx, `UPDATE registry_counters SET n = n + $2 WHERE name = $1`, c.name, c.n); err != nil {
			return err
		}
	}
	if err := addActive(b.ctx, b.tx, b.active); err != nil {
		return err
	}
	return b.s.auditBatch(b.ctx, b.tx, allimi.AuditConsent, b.audit)
}

// addActive moves the active-grant counters, in key order.
func addActive(ctx context.Context, tx pgx.Tx, d map[typeChannel]int64) error {
	keys := make([]typeChannel, 0, len(d))
	for k, n := range d {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sortTypeChannels(keys)
	for _, k := range keys {
		_, err := tx.Exec(ctx, `INSERT INTO active_grants (type, channel, n) VALUES ($1, $2, $3)
			ON CONFLICT (type, channel) DO UPDATE SET n = active_grants.n + EXCLUDED.n`, string(k.t), string(k.ch), d[k])
		if err != nil {
			return err
		}
	}
	return nil
}

func sortTypeChannels(ks []typeChannel) {
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && (ks[j].t < ks[j-1].t || ks[j].t == ks[j-1].t && ks[j].ch < ks[j-1].ch); j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
}

// advanceHW moves kiosk's high-water mark over every stored contiguous
// record.
func advanceHW(ctx context.Context, tx pgx.Tx, kiosk string) (uint64, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO kiosk_hw (kiosk, hw) VALUES ($1, 0) ON CONFLICT DO NOTHING`, kiosk); err != nil {
		return 0, err
	}
	var hw int64
	if err := tx.QueryRow(ctx, `SELECT hw FROM kiosk_hw WHERE kiosk = $1 FOR UPDATE`, kiosk).Scan(&hw); err != nil {
		return 0, err
	}
	start := hw
	for {
		// The records after the mark, in order, a page at a time: the mark
		// moves while they follow one another.
		rows, err := tx.Query(ctx, `SELECT seq FROM events WHERE kiosk = $1 AND seq > $2 ORDER BY seq LIMIT 1000`, kiosk, hw)
		if err != nil {
			return 0, err
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, err
		}
		gap := false
		for _, q := range seqs {
			if q != hw+1 {
				gap = true
				break
			}
			hw = q
		}
		if gap || len(seqs) < 1000 {
			break
		}
	}
	if hw != start {
		if _, err := tx.Exec(ctx, `UPDATE kiosk_hw SET hw = $2 WHERE kiosk = $1`, kiosk, hw); err != nil {
			return 0, err
		}
	}
	return uint64(hw), nil
}

// inTx runs f in a transaction, again when PostgreSQL aborted it for a
// deadlock or a serialization failure with another writer (f starts afresh
// each time), up to a few times.
func (s *Store) inTx(f func(ctx context.Context, tx pgx.Tx) error) error {
	ctx := s.ctx()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error { return f(ctx, tx) })
		if !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return err
}

// retryable reports whether err is PostgreSQL aborting a transaction that
// may succeed when run again: a deadlock, or a serialization failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

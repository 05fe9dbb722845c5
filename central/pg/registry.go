package pg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"allimi"
	"allimi/central/record"
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

// Prepare fills in.Prepared for an event (record.Prepare: sealing, keying,
// its consent-log entry and audit line, ahead of the batch's transaction);
// for a refusal it does nothing.
func (s *Store) Prepare(in *allimi.Incoming) {
	if p := record.Prepare(s.keys, in); p != nil {
		in.Prepared = p
	}
}

// batch is one Commit's transaction. What every record of the batch shares
// is written once at its end: the counters and the audit entry. What the
// records read is read for the whole batch at its start: which of them are
// new, the people they change (locked, in key order, so that two processes
// lock in one order), the receipt codes already taken. What they write and
// need no answer of goes into one pipeline (w), sent in one round trip
// before anything is read again.
type batch struct {
	s           *Store
	tx          pgx.Tx
	ctx         context.Context
	w           *pipeline
	active      map[typeChannel]int64
	subscribers int64
	chanPeople  map[allimi.Channel]int64 // change of people with an active grant per channel
	regions     map[string]string        // kiosk → its region, read once a batch
	audit       []allimi.AuditItem
	people      map[string]*person // by ck, read at the start
	receipts    map[string]bool    // code keys taken, stored or in this batch
	qcodes      map[string]bool    // code keys of the batch's receipts a question holds
}

// person is someone a batch changes: their row and consent states as the
// batch has left them so far.
type person struct {
	row   citizenRow
	known bool
	st    states
}

type typeChannel struct {
	t  allimi.NotificationType
	ch allimi.Channel
}

// execer runs a statement: a transaction, or a pipeline that queues it.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// pipeline queues statements whose answers nobody reads, to send them
// together (send). Exec's answer is empty: an error comes from send.
type pipeline struct{ b pgx.Batch }

func (p *pipeline) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	p.queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

func (p *pipeline) queue(sql string, args ...any) { p.b.Queue(sql, args...) }

// send runs what is queued, in order, in one round trip.
func (p *pipeline) send(ctx context.Context, tx pgx.Tx) error {
	if p.b.Len() == 0 {
		return nil
	}
	err := tx.SendBatch(ctx, &p.b).Close()
	p.b = pgx.Batch{}
	return err
}

// sync sends what is queued: before anything the batch reads or needs an
// answer of.
func (b *batch) sync() error { return b.w.send(b.ctx, b.tx) }

// person is the person ck as the batch has left them (read at the start).
func (b *batch) person(ck []byte) (*person, error) {
	if p := b.people[string(ck)]; p != nil {
		return p, nil
	}
	// Not read at the start (a record Commit decoded itself): read now.
	if err := b.sync(); err != nil {
		return nil, err
	}
	row, known, st, err := lockCitizen(b.ctx, b.tx, ck)
	if err != nil {
		return nil, err
	}
	p := &person{row: row, known: known, st: st}
	b.people[string(ck)] = p
	return p, nil
}

// kioskRegion is the region of a kiosk, read once a batch.
func (b *batch) kioskRegion(kiosk string) (string, error) {
	if r, ok := b.regions[kiosk]; ok {
		return r, nil
	}
	if err := b.sync(); err != nil {
		return "", err
	}
	var r string
	err := b.tx.QueryRow(b.ctx, `SELECT region FROM kiosks WHERE id = $1`, kiosk).Scan(&r)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", err
	}
	b.regions[kiosk] = r
	return r, nil
}

// preload reads, for the new records of the batch, the people they change
// (locking them, in key order) and which of their receipt codes are taken
// already or held by a question.
func (b *batch) preload(news []*allimi.Incoming) error {
	var cks, codes [][]byte
	var kiosks []string
	seen := map[string]bool{}
	for _, in := range news {
		e := in.Event
		switch e.Kind {
		case allimi.KindFeedback, allimi.KindQuestionAudio, allimi.KindQuestion:
			continue
		}
		prep, _ := in.Prepared.(*record.Prepared)
		if prep == nil || prep.CK == nil {
			continue // read when applied
		}
		if !seen[string(prep.CK)] {
			seen[string(prep.CK)] = true
			cks = append(cks, prep.CK)
		}
		if e.Kind == allimi.KindSignup && in.Consents != nil {
			codes = append(codes, b.s.keys.CodeIndex(receiptCode(e, in.Consents)))
		}
		if _, ok := b.regions[e.Kiosk]; e.Kind == allimi.KindSignup && !ok {
			b.regions[e.Kiosk] = "" // unless the kiosk has one (read below)
			kiosks = append(kiosks, e.Kiosk)
		}
	}
	if len(cks) > 0 {
		slices.SortFunc(cks, bytes.Compare)
		for _, ck := range cks {
			b.people[string(ck)] = &person{st: states{}}
		}
		if err := eachRow(b.ctx, b.tx, `SELECT ck, pii, verified, active, created, region FROM citizens WHERE ck = ANY($1) ORDER BY ck FOR UPDATE`,
			func(r pgx.Rows) error {
				var ck []byte
				var row citizenRow
				if err := r.Scan(&ck, &row.pii, &row.verified, &row.active, &row.created, &row.region); err != nil {
					return err
				}
				p := b.people[string(ck)]
				p.row, p.known = row, true
				return nil
			}, cks); err != nil {
			return err
		}
		if err := eachRow(b.ctx, b.tx, `SELECT ck, type, channel, action, hlc, kiosk, seq, by_kind, by_official, by_method, at
			FROM consents WHERE ck = ANY($1) ORDER BY ck, type, channel FOR UPDATE`, func(r pgx.Rows) error {
			var ck []byte
			var k typeChannel
			var c allimi.ConsentState
			var hlc, seq int64
			if err := r.Scan(&ck, &k.t, &k.ch, &c.Action, &hlc, &c.Kiosk, &seq, &c.By.Kind, &c.By.Official, &c.By.Method, &c.At); err != nil {
				return err
			}
			c.HLC, c.Seq = uint64(hlc), uint64(seq)
			b.people[string(ck)].st[k] = c
			return nil
		}, cks); err != nil {
			return err
		}
	}
	if len(kiosks) > 0 {
		if err := eachRow(b.ctx, b.tx, `SELECT id, region FROM kiosks WHERE id = ANY($1)`, func(r pgx.Rows) error {
			var id, region string
			if err := r.Scan(&id, &region); err != nil {
				return err
			}
			b.regions[id] = region
			return nil
		}, kiosks); err != nil {
			return err
		}
	}
	if len(codes) > 0 {
		for _, q := range []struct {
			sql  string
			into map[string]bool
		}{{`SELECT code_key FROM receipts WHERE code_key = ANY($1)`, b.receipts}, {`SELECT code_key FROM question_codes WHERE code_key = ANY($1)`, b.qcodes}} {
			if err := eachRow(b.ctx, b.tx, q.sql, func(r pgx.Rows) error {
				var k []byte
				if err := r.Scan(&k); err != nil {
					return err
				}
				q.into[string(k)] = true
				return nil
			}, codes); err != nil {
				return err
			}
		}
	}
	return nil
}

// receiptCode is the code a sign-up is found under: the one its kiosk
// drew, or, from an earlier kiosk, ReceiptCode(kiosk, seq).
func receiptCode(e *allimi.Event, p *allimi.ConsentPayload) string {
	if p.Receipt != "" {
		return p.Receipt
	}
	return allimi.ReceiptCode(e.Kiosk, e.Seq)
}

// Commit stores a batch in one transaction.
func (s *Store) Commit(in []allimi.Incoming) (allimi.CommitOutcome, error) {
	for i := range in {
		s.Prepare(&in[i])
	}
	var out allimi.CommitOutcome
	err := s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		out = allimi.CommitOutcome{HW: map[string]uint64{}}
		b := &batch{s: s, tx: tx, ctx: ctx, w: &pipeline{}, active: map[typeChannel]int64{},
			chanPeople: map[allimi.Channel]int64{}, regions: map[string]string{},
			people: map[string]*person{}, receipts: map[string]bool{}, qcodes: map[string]bool{}}
		// Every record in one statement: those it inserts are new, and a
		// record twice in the batch is new the first time only.
		var kiosks []string
		var seqs []int64
		var sealed [][]byte
		for _, it := range in {
			if it.Reject != nil {
				continue
			}
			e := it.Event
			prep, _ := it.Prepared.(*record.Prepared)
			v := prep.Sealed
			if v == nil {
				plain, err := jsonfast.Marshal(record.ToKeep(e))
				if err != nil {
					return err
				}
				v = s.keys.Seal(plain, record.Key(e.Kiosk, e.Seq))
			}
			kiosks, seqs, sealed = append(kiosks, e.Kiosk), append(seqs, int64(e.Seq)), append(sealed, v)
		}
		inserted := map[string]bool{}
		if len(kiosks) > 0 {
			if err := eachRow(ctx, tx, `INSERT INTO events (kiosk, seq, sealed) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[])
				ON CONFLICT DO NOTHING RETURNING kiosk, seq`, func(r pgx.Rows) error {
				var k string
				var q int64
				if err := r.Scan(&k, &q); err != nil {
					return err
				}
				inserted[string(record.Key(k, uint64(q)))] = true
				return nil
			}, kiosks, seqs, sealed); err != nil {
				return err
			}
		}
		var news []*allimi.Incoming
		isNew := make([]bool, len(in))
		for i := range in {
			it := &in[i]
			if it.Reject != nil {
				continue
			}
			k := string(record.Key(it.Event.Kiosk, it.Event.Seq))
			if inserted[k] {
				delete(inserted, k)
				isNew[i] = true
				news = append(news, it)
			}
		}
		if err := b.preload(news); err != nil {
			return err
		}
		for i, it := range in {
			if it.Reject != nil {
				out.Rejected++
				if err := b.logRejection(it.Kiosk, it.Reject); err != nil {
					return err
				}
				continue
			}
			e := it.Event
			out.HW[e.Kiosk] = 0
			if !isNew[i] {
				out.Duplicates++
				continue
			}
			prep, _ := it.Prepared.(*record.Prepared)
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
func (b *batch) apply(e *allimi.Event, p *allimi.ConsentPayload, prep *record.Prepared) (confirm bool, err error) {
	switch e.Kind {
	case allimi.KindFeedback:
		return false, b.countFeedback(e)
	case allimi.KindQuestionAudio, allimi.KindQuestion:
		// Questions read what the batch wrote before them (a receipt that
		// takes a code): what is queued goes first.
		if err := b.sync(); err != nil {
			return false, err
		}
		if e.Kind == allimi.KindQuestion {
			return false, b.storeQuestion(e)
		}
		return false, b.storeQuestionChunk(e)
	}
	if p == nil {
		dp, err := e.Consents()
		if err != nil {
			return false, err
		}
		p = &dp
	}
	if prep == nil {
		prep = &record.Prepared{}
	}
	ck := prep.CK
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
	if p.TouchesNewBenefits() {
		if err := b.keepProfile(e, ck, p, states); err != nil {
			return false, err
		}
	}
	return confirm, nil
}

// logRejection lists a refused record, keeping the latest
// maxRejectionsKept.
func (b *batch) logRejection(kiosk string, why error) error {
	b.w.queue(`INSERT INTO rejections (at, kiosk, reason) VALUES ($1, $2, $3)`, b.s.now().UTC(), kiosk, why.Error())
	b.w.queue(`DELETE FROM rejections WHERE id <= (SELECT max(id) FROM rejections) - $1`, maxRejectionsKept)
	return nil
}

// flush writes the batch's counters and its audit entry, in one order in
// every batch.
func (b *batch) flush(out allimi.CommitOutcome) error {
	for _, c := range []struct {
		name string
		n    int64
	}{{"duplicates", int64(out.Duplicates)}, {"rejected", int64(out.Rejected)}, {"stored", int64(out.Stored)}, {"subscribers", b.subscribers}} {
		if c.n != 0 {
			b.w.queue(`UPDATE registry_counters SET n = n + $2 WHERE name = $1`, c.name, c.n)
		}
	}
	if err := addActive(b.ctx, b.w, b.active); err != nil {
		return err
	}
	if err := addPeople(b.w, b.s, b.chanPeople); err != nil {
		return err
	}
	if err := b.sync(); err != nil {
		return err
	}
	return b.s.auditBatch(b.ctx, b.tx, allimi.AuditConsent, b.audit)
}

// addActive moves the active-grant counters, in key order.
func addActive(ctx context.Context, tx execer, d map[typeChannel]int64) error {
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

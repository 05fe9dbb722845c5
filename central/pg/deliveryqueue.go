package pg

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// The dispatcher's interfaces Store implements.
var (
	_ allimi.Notifications = (*Store)(nil)
	_ allimi.Deliveries    = (*Store)(nil)
	_ allimi.DeliveryQueue = (*Store)(nil)
	_ allimi.QueueIntents  = (*Store)(nil)
)

// ReadDeliveries implements allimi.DeliveryQueue: f reads one snapshot
// (a read-only REPEATABLE READ transaction).
func (s *Store) ReadDeliveries(f func(allimi.DeliveryReader) error) error {
	return s.snapshot(s.ctx(), func(tx pgx.Tx) error {
		t := &deliveryTx{s: s, ctx: s.ctx(), tx: tx, slot: -1}
		return t.done(f(t))
	})
}

// UpdateDeliveries implements allimi.DeliveryQueue: f runs in one
// SERIALIZABLE transaction, run again when it meets another writer's
// (serial). Its writes are sent to the server in batches, before its
// next read and when it returns, so that a dispatcher's commit of many
// deliveries costs a few round trips, not one per delivery.
func (s *Store) UpdateDeliveries(f func(allimi.DeliveryTx) error) error {
	return s.updateDeliveries(nil, -1, f)
}

// updateDeliveries is UpdateDeliveries, under lease l when it is not nil
// (Fenced, Slot), in send slot slot's view when it is not -1 (Slot).
//
// A slot's transactions are READ COMMITTED, not SERIALIZABLE: what a
// slot writes is its own (its recipients' deliveries, due entries and
// send-intents, its progress, its counters), and under SERIALIZABLE the
// slots failed one another's commits (one in ten) for the pages of
// indexes they share. Where slots meet, the notification's row, they
// take it (finishIfAllSent), and each statement after sees what the
// others committed. The one race left with the whole store's writers, a
// receipt kept as early while its delivery's acceptance commits, is
// settled afterwards (StrandedReceipts).
func (s *Store) updateDeliveries(l *Lease, slot int, f func(allimi.DeliveryTx) error) error {
	iso := pgx.Serializable
	if slot >= 0 {
		iso = pgx.ReadCommitted
	}
	return s.retried(s.ctx(), iso, func(tx pgx.Tx) error {
		if l != nil {
			if err := checkLease(s.ctx(), tx, *l); err != nil {
				return err
			}
		}
		t := &deliveryTx{s: s, ctx: s.ctx(), tx: tx, write: true, slot: slot}
		if err := f(t); err != nil {
			return t.done(err)
		}
		return t.done(t.flush())
	})
}

// deliveryTx is the dispatcher's view of one transaction.
type deliveryTx struct {
	s     *Store
	ctx   context.Context
	tx    pgx.Tx
	write bool
	// slot is the send slot whose view this is (Slot), -1 for the whole
	// store.
	slot int
	// pending are the writes not yet sent; every read sends them first.
	pending pgx.Batch
	// failed is the first error of a statement: once one failed, the
	// transaction is aborted, and if f went on regardless, this, not the
	// abort, is what UpdateDeliveries must see (a serialization failure
	// is run again).
	failed error
	// early are the receipts kept ahead of their acceptance, of the
	// notifications read so far (EarlyReceipt): read once per
	// notification, not once per delivery, as there are hardly ever any.
	early map[uint64]map[allimi.DeliveryRef]allimi.ProviderReceipt
	// rows are the deliveries and send-intents written and not yet sent:
	// one statement each per flush, however many (see rowWrites).
	rows rowWrites
}

// rowWrites gathers a transaction's writes of deliveries and send-intents,
// the dispatcher's several per delivery, to send each table's as one
// statement over arrays. Per key the last write wins, as it would one
// statement after another; no other statement writes these tables in a
// dispatcher's transaction, so their order against the rest is free.
type rowWrites struct {
	deliveries map[allimi.DeliveryRef]allimi.DeliveryRecord
	intents    map[allimi.DeliveryRef]*allimi.SendIntent // nil: delete
}

// sortedRefs are m's keys in the tables' order: concurrent writers take
// the rows' locks in the same order, and do not deadlock.
func sortedRefs[V any](m map[allimi.DeliveryRef]V) []allimi.DeliveryRef {
	refs := make([]allimi.DeliveryRef, 0, len(m))
	for ref := range m {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, func(a, b allimi.DeliveryRef) int {
		return cmp.Or(cmp.Compare(a.Notification, b.Notification), cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.Channel, b.Channel))
	})
	return refs
}

// queue adds the statements of the writes gathered to b, and forgets them.
func (w *rowWrites) queue(b *pgx.Batch) {
	if n := len(w.deliveries); n > 0 {
		ids, seqs, chs := make([]int64, 0, n), make([]int32, 0, n), make([]string, 0, n)
		states, attempts, flags := make([]int16, 0, n), make([]int16, 0, n), make([]int16, 0, n)
		firsts, updateds, reasons := make([]int64, 0, n), make([]int64, 0, n), make([]string, 0, n)
		for _, ref := range sortedRefs(w.deliveries) {
			rec := w.deliveries[ref]
			ids, seqs, chs = append(ids, int64(ref.Notification)), append(seqs, int32(ref.Seq)), append(chs, string(ref.Channel))
			states, attempts, flags = append(states, int16(rec.State)), append(attempts, int16(rec.Attempts)), append(flags, int16(rec.Flags))
			firsts, updateds, reasons = append(firsts, rec.First), append(updateds, rec.Updated), append(reasons, rec.Reason)
		}
		b.Queue(`INSERT INTO deliveries (notification, seq, channel, state, attempts, flags, first_ms, updated_ms, reason)
			SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::smallint[], $5::smallint[], $6::smallint[], $7::bigint[], $8::bigint[], $9::text[])
			ON CONFLICT (notification, seq, channel) DO UPDATE SET state = EXCLUDED.state, attempts = EXCLUDED.attempts,
				flags = EXCLUDED.flags, first_ms = EXCLUDED.first_ms, updated_ms = EXCLUDED.updated_ms, reason = EXCLUDED.reason`,
			ids, seqs, chs, states, attempts, flags, firsts, updateds, reasons)
		w.deliveries = nil
	}
	if len(w.intents) > 0 {
		var put, del struct {
			chs  []string
			ids  []int64
			seqs []int32
		}
		var ats, grps []int64
		var flags []int16
		var fresh []bool
		for _, ref := range sortedRefs(w.intents) {
			si := w.intents[ref]
			if si == nil {
				del.chs, del.ids, del.seqs = append(del.chs, string(ref.Channel)), append(del.ids, int64(ref.Notification)), append(del.seqs, int32(ref.Seq))
				continue
			}
			put.chs, put.ids, put.seqs = append(put.chs, string(ref.Channel)), append(put.ids, int64(ref.Notification)), append(put.seqs, int32(ref.Seq))
			ats, grps, flags, fresh = append(ats, si.At), append(grps, int64(si.Group)), append(flags, int16(si.Flags)), append(fresh, si.Fresh)
		}
		if len(del.ids) > 0 {
			b.Queue(`DELETE FROM send_intents s USING unnest($1::text[], $2::bigint[], $3::integer[]) AS d(channel, notification, seq)
				WHERE s.channel = d.channel AND s.notification = d.notification AND s.seq = d.seq`, del.chs, del.ids, del.seqs)
		}
		if len(put.ids) > 0 {
			b.Queue(`INSERT INTO send_intents (channel, notification, seq, at_ms, grp, flags, fresh)
				SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::bigint[], $5::bigint[], $6::smallint[], $7::boolean[])
				ON CONFLICT (channel, notification, seq) DO UPDATE SET at_ms = EXCLUDED.at_ms, grp = EXCLUDED.grp,
					flags = EXCLUDED.flags, fresh = EXCLUDED.fresh`, put.chs, put.ids, put.seqs, ats, grps, flags, fresh)
		}
		w.intents = nil
	}
}

// done is the error the transaction ends with: the first statement's
// that failed, if f went on after it.
func (t *deliveryTx) done(err error) error {
	if t.failed != nil && (err == nil || !retryable(err)) {
		return t.failed
	}
	return err
}

// note records a statement's error.
func (t *deliveryTx) note(err error) error {
	if err != nil && t.failed == nil {
		t.failed = err
	}
	return err
}

// queue adds a write to the pending batch.
func (t *deliveryTx) queue(sql string, args ...any) error {
	if t.failed != nil {
		return t.failed
	}
	t.pending.Queue(sql, args...)
	return nil
}

// flush sends the pending writes.
func (t *deliveryTx) flush() error {
	if t.failed != nil {
		return t.failed
	}
	t.rows.queue(&t.pending)
	if t.pending.Len() == 0 {
		return nil
	}
	b := t.pending
	t.pending = pgx.Batch{}
	return t.note(t.tx.SendBatch(t.ctx, &b).Close())
}

// query runs a read after the pending writes, and collects its rows with
// scan before returning: the callers' callbacks may read again.
func (t *deliveryTx) query(sql string, args []any, dest []any, scan func() error) error {
	if err := t.flush(); err != nil {
		return err
	}
	rows, err := t.tx.Query(t.ctx, sql, args...)
	if err != nil {
		return t.note(err)
	}
	_, err = pgx.ForEachRow(rows, dest, scan)
	return t.note(err)
}

// queryRow reads one row after the pending writes; ok is false when there
// is none.
func (t *deliveryTx) queryRow(sql string, args []any, dest ...any) (bool, error) {
	if err := t.flush(); err != nil {
		return false, err
	}
	err := t.tx.QueryRow(t.ctx, sql, args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, t.note(err)
}

func (t *deliveryTx) Notification(id uint64) (allimi.Notification, error) {
	if err := t.flush(); err != nil {
		return allimi.Notification{}, err
	}
	if t.slot >= 0 {
		// A slot stores its own progress, not the row (PutNotification).
		n, err := t.slotNotification(id)
		if err != nil && !errors.Is(err, allimi.ErrNotFound) {
			t.note(err)
		}
		return n, err
	}
	// A writer takes the row: it stores the notification again, and a
	// concurrent expansion's or dispatcher's change must not be lost.
	n, err := getNotification(t.ctx, t.tx, id, t.write)
	if err != nil && !errors.Is(err, allimi.ErrNotFound) {
		t.note(err)
	}
	return n, err
}

// page is how many rows a listing reads at a time.
const page = 256

func (t *deliveryTx) Due(ch allimi.Channel, each func(allimi.DueEntry) bool) error {
	// A writer locks the entries it reads and passes over those another
	// writer holds (SKIP LOCKED): two dispatchers' transactions do not
	// queue behind each other for the same entries.
	lock := ""
	if t.write {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var at, id int64 = math.MinInt64, math.MinInt64
	var seq int64 = math.MinInt32
	only, args := t.slotFilter(4)
	for {
		var es []allimi.DueEntry
		var eat, eid int64
		var eseq int32
		var flags int16
		if err := t.query(`SELECT at_ms, notification, seq, flags FROM due
			WHERE channel = $1 AND (at_ms, notification, seq) > ($2, $3, $4)`+only+`
			ORDER BY at_ms, notification, seq LIMIT `+fmt.Sprint(page)+lock,
			append([]any{string(ch), at, id, seq}, args...), []any{&eat, &eid, &eseq, &flags}, func() error {
				es = append(es, allimi.DueEntry{Ref: allimi.DeliveryRef{Notification: uint64(eid), Seq: uint32(eseq), Channel: ch},
					At: time.UnixMilli(eat), Flags: byte(flags)})
				return nil
			}); err != nil {
			return err
		}
		for _, e := range es {
			if !each(e) {
				return nil
			}
		}
		if len(es) < page {
			return nil
		}
		last := es[len(es)-1]
		at, id, seq = last.At.UnixMilli(), int64(last.Ref.Notification), int64(last.Ref.Seq)
	}
}

// recipientRow is a recipient as read with its person's sealed contact.
type recipientRow struct {
	seq    int32
	ck     []byte
	mask   int16
	token  int64
	params []byte
	pii    []byte
	region string
}

func (r *recipientRow) dest() []any {
	return []any{&r.seq, &r.ck, &r.mask, &r.token, &r.params, &r.pii, &r.region}
}

// outgoing makes the delivery on ch of recipient r of n.
func (t *deliveryTx) outgoing(n *allimi.Notification, r *recipientRow, ch allimi.Channel) (allimi.Outgoing, error) {
	if t.s.keys == nil {
		return allimi.Outgoing{}, errNoKeys
	}
	if r.pii == nil {
		return allimi.Outgoing{}, fmt.Errorf("recipient %d of notification %d: no such citizen", r.seq, n.ID)
	}
	c, lang, err := t.s.keys.OpenPerson(r.pii, r.ck)
	if err != nil {
		return allimi.Outgoing{}, fmt.Errorf("recipient %d of notification %d: %w", r.seq, n.ID, err)
	}
	var params map[string]string
	if len(r.params) > 0 {
		if err := json.Unmarshal(r.params, &params); err != nil {
			return allimi.Outgoing{}, fmt.Errorf("recipient %d of notification %d params: %w", r.seq, n.ID, err)
		}
	}
	return allimi.Outgoing{Ref: allimi.DeliveryRef{Notification: n.ID, Seq: uint32(r.seq), Channel: ch}, N: n, Citizen: c, Lang: lang,
		Region: r.region, Mask: byte(r.mask), Params: params, Token: uint64(r.token)}, nil
}

func (t *deliveryTx) Recipients(n *allimi.Notification, ch allimi.Channel, after uint32, each func(uint32, *allimi.Outgoing) bool) error {
	if t.slot < 0 {
		_, err := t.recipients(n, ch, after, n.Recipients, each)
		return err
	}
	// A slot reads its own chunks; once through them, its progress is
	// the last recipient's.
	for {
		lo, hi, ok := slotRange(n.ID, t.slot, after, n.Recipients)
		if !ok {
			break
		}
		more, err := t.recipients(n, ch, uint32(lo), hi, each)
		if err != nil || !more {
			return err
		}
		after = uint32(hi)
	}
	if int64(after) < n.Recipients {
		each(uint32(n.Recipients), nil)
	}
	return nil
}

// recipients calls each with the recipients after, up to to, in order;
// more is false when each asked to stop.
func (t *deliveryTx) recipients(n *allimi.Notification, ch allimi.Channel, after uint32, to int64, each func(uint32, *allimi.Outgoing) bool) (more bool, err error) {
	bit := allimi.ChannelBit(ch)
	// Recipients are numbered 1 to n.Recipients without gaps: a page is a
	// range of numbers, which the recipients' key finds as it is, whatever
	// the planner's statistics say. (With "seq > after ORDER BY seq
	// LIMIT", statistics from before the expansion made it read and join
	// every recipient after the cursor for each page: 4 k/s.)
	for int64(after) < to {
		end := min(int64(after)+page, to)
		var rs []recipientRow
		var r recipientRow
		if err := t.query(`SELECT r.seq, r.ck, r.mask, r.token, r.params, c.pii, COALESCE(c.region, '')
			FROM recipients r LEFT JOIN citizens c ON c.ck = r.ck
			WHERE r.notification = $1 AND r.seq > $2 AND r.seq <= $3 ORDER BY r.seq`,
			[]any{n.ID, int64(after), end}, r.dest(), func() error {
				rs = append(rs, r)
				return nil
			}); err != nil {
			return false, err
		}
		for i := range rs {
			r := &rs[i]
			if byte(r.mask)&bit == 0 {
				if !each(uint32(r.seq), nil) {
					return false, nil
				}
				continue
			}
			o, err := t.outgoing(n, r, ch)
			if err != nil {
				return false, err
			}
			if !each(uint32(r.seq), &o) {
				return false, nil
			}
		}
		after = uint32(end)
	}
	return true, nil
}

func (t *deliveryTx) Outgoing(n *allimi.Notification, ref allimi.DeliveryRef) (allimi.Outgoing, error) {
	var r recipientRow
	var rec deliveryRow
	ok, err := t.queryRow(`SELECT r.seq, r.ck, r.mask, r.token, r.params, c.pii, COALESCE(c.region, ''),
			d.state, d.attempts, d.flags, d.first_ms, d.updated_ms, d.reason
		FROM recipients r LEFT JOIN citizens c ON c.ck = r.ck
		LEFT JOIN deliveries d ON d.notification = r.notification AND d.seq = r.seq AND d.channel = $3
		WHERE r.notification = $1 AND r.seq = $2`, []any{ref.Notification, int64(ref.Seq), string(ref.Channel)},
		append(r.dest(), rec.dest()...)...)
	if err != nil {
		return allimi.Outgoing{}, fmt.Errorf("delivery %s: %w", ref.Key(), err)
	}
	if !ok {
		return allimi.Outgoing{}, fmt.Errorf("delivery %s: no such recipient", ref.Key())
	}
	o, err := t.outgoing(n, &r, ref.Channel)
	if err != nil {
		return o, err
	}
	o.Prev, _ = rec.record()
	return o, nil
}

func (t *deliveryTx) SendIntents(ch allimi.Channel, each func(allimi.SendIntent) bool) error {
	var id int64
	var seq int64 = -1
	only, args := t.slotFilter(3)
	for {
		var sis []allimi.SendIntent
		var sid, at, grp int64
		var sseq int32
		var flags int16
		var fresh bool
		if err := t.query(`SELECT notification, seq, at_ms, grp, flags, fresh FROM send_intents
			WHERE channel = $1 AND (notification, seq) > ($2, $3)`+only+` ORDER BY notification, seq LIMIT `+fmt.Sprint(page),
			append([]any{string(ch), id, seq}, args...), []any{&sid, &sseq, &at, &grp, &flags, &fresh}, func() error {
				sis = append(sis, allimi.SendIntent{Ref: allimi.DeliveryRef{Notification: uint64(sid), Seq: uint32(sseq), Channel: ch},
					At: at, Group: uint64(grp), Flags: byte(flags), Fresh: fresh})
				return nil
			}); err != nil {
			return err
		}
		for _, si := range sis {
			if !each(si) {
				return nil
			}
		}
		if len(sis) < page {
			return nil
		}
		last := sis[len(sis)-1]
		id, seq = int64(last.Ref.Notification), int64(last.Ref.Seq)
	}
}

func (t *deliveryTx) PutNotification(n *allimi.Notification) error {
	if err := t.flush(); err != nil {
		return err
	}
	if t.slot >= 0 {
		return t.note(t.putSlotNotification(n))
	}
	return t.note(putNotification(t.ctx, t.tx, n))
}

// deliveryRow is a delivery record as read, NULL when none.
type deliveryRow struct {
	state, attempts, flags *int16
	first, updated         *int64
	reason                 *string
}

func (d *deliveryRow) dest() []any {
	return []any{&d.state, &d.attempts, &d.flags, &d.first, &d.updated, &d.reason}
}

func (d *deliveryRow) record() (allimi.DeliveryRecord, bool) {
	if d.state == nil {
		return allimi.DeliveryRecord{}, false
	}
	return allimi.DeliveryRecord{State: allimi.DeliveryState(*d.state), Attempts: byte(*d.attempts), Flags: byte(*d.flags),
		First: *d.first, Updated: *d.updated, Reason: *d.reason}, true
}

// refArgs are a delivery's key columns' values: notification, seq, channel.
func refArgs(r allimi.DeliveryRef) []any {
	return []any{r.Notification, int64(r.Seq), string(r.Channel)}
}

func (t *deliveryTx) Delivery(ref allimi.DeliveryRef) (allimi.DeliveryRecord, bool, error) {
	var d deliveryRow
	ok, err := t.queryRow(`SELECT state, attempts, flags, first_ms, updated_ms, reason FROM deliveries
		WHERE notification = $1 AND seq = $2 AND channel = $3`, refArgs(ref), d.dest()...)
	if err != nil || !ok {
		return allimi.DeliveryRecord{}, false, err
	}
	rec, ok := d.record()
	return rec, ok, nil
}

func (t *deliveryTx) PutDelivery(ref allimi.DeliveryRef, rec allimi.DeliveryRecord) error {
	if ref.Seq == 0 {
		return errors.New("delivery of recipient 0")
	}
	if t.failed != nil {
		return t.failed
	}
	if t.rows.deliveries == nil {
		t.rows.deliveries = map[allimi.DeliveryRef]allimi.DeliveryRecord{}
	}
	t.rows.deliveries[ref] = rec
	return nil
}

func (t *deliveryTx) PutDue(e allimi.DueEntry) error {
	return t.queue(`INSERT INTO due (channel, at_ms, notification, seq, flags) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (channel, at_ms, notification, seq) DO UPDATE SET flags = EXCLUDED.flags`,
		string(e.Ref.Channel), e.At.UnixMilli(), e.Ref.Notification, int64(e.Ref.Seq), int16(e.Flags))
}

func (t *deliveryTx) DeleteDue(ref allimi.DeliveryRef, at time.Time) error {
	return t.queue(`DELETE FROM due WHERE channel = $1 AND at_ms = $2 AND notification = $3 AND seq = $4`,
		string(ref.Channel), at.UnixMilli(), ref.Notification, int64(ref.Seq))
}

func (t *deliveryTx) PutDeadLetter(ref allimi.DeliveryRef, dl allimi.DeadLetter) error {
	body, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	return t.queue(`INSERT INTO dead_letters (notification, seq, channel, body) VALUES ($1, $2, $3, $4)
		ON CONFLICT (notification, seq, channel) DO UPDATE SET body = EXCLUDED.body`, append(refArgs(ref), body)...)
}

func (t *deliveryTx) EarlyReceipt(ref allimi.DeliveryRef) (allimi.ProviderReceipt, bool, error) {
	kept, err := t.earlyOf(ref.Notification)
	if err != nil {
		return allimi.ProviderReceipt{}, false, err
	}
	r, ok := kept[ref]
	return r, ok, nil
}

// earlyOf reads notification id's early receipts, once per transaction.
// An unreadable one is as good as none, and deleted.
func (t *deliveryTx) earlyOf(id uint64) (map[allimi.DeliveryRef]allimi.ProviderReceipt, error) {
	if kept, ok := t.early[id]; ok {
		return kept, nil
	}
	kept := map[allimi.DeliveryRef]allimi.ProviderReceipt{}
	var bad []allimi.DeliveryRef
	var seq int64
	var ch string
	var body []byte
	if err := t.query(`SELECT seq, channel, body FROM early_receipts WHERE notification = $1`, []any{id}, []any{&seq, &ch, &body}, func() error {
		ref := allimi.DeliveryRef{Notification: id, Seq: uint32(seq), Channel: allimi.Channel(ch)}
		var r allimi.ProviderReceipt
		if err := json.Unmarshal(body, &r); err != nil {
			bad = append(bad, ref)
			return nil
		}
		kept[ref] = r
		return nil
	}); err != nil {
		return nil, err
	}
	if t.early == nil {
		t.early = map[uint64]map[allimi.DeliveryRef]allimi.ProviderReceipt{}
	}
	t.early[id] = kept
	for _, ref := range bad {
		if err := t.DeleteEarlyReceipt(ref); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

func (t *deliveryTx) PutEarlyReceipt(ref allimi.DeliveryRef, r allimi.ProviderReceipt) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if kept, ok := t.early[ref.Notification]; ok {
		kept[ref] = r
	}
	return t.queue(`INSERT INTO early_receipts (notification, seq, channel, body) VALUES ($1, $2, $3, $4)
		ON CONFLICT (notification, seq, channel) DO UPDATE SET body = EXCLUDED.body`, append(refArgs(ref), body)...)
}

func (t *deliveryTx) DeleteEarlyReceipt(ref allimi.DeliveryRef) error {
	if kept, ok := t.early[ref.Notification]; ok {
		delete(kept, ref)
	}
	return t.queue(`DELETE FROM early_receipts WHERE notification = $1 AND seq = $2 AND channel = $3`, refArgs(ref)...)
}

func (t *deliveryTx) SendIntent(ref allimi.DeliveryRef) (allimi.SendIntent, bool, error) {
	var at, grp int64
	var flags int16
	var fresh bool
	ok, err := t.queryRow(`SELECT at_ms, grp, flags, fresh FROM send_intents WHERE channel = $1 AND notification = $2 AND seq = $3`,
		[]any{string(ref.Channel), ref.Notification, int64(ref.Seq)}, &at, &grp, &flags, &fresh)
	if err != nil || !ok {
		return allimi.SendIntent{}, false, err
	}
	return allimi.SendIntent{Ref: ref, At: at, Group: uint64(grp), Flags: byte(flags), Fresh: fresh}, true, nil
}

func (t *deliveryTx) PutSendIntent(si allimi.SendIntent) error {
	return t.intent(si.Ref, &si)
}

func (t *deliveryTx) DeleteSendIntent(ref allimi.DeliveryRef) error {
	return t.intent(ref, nil)
}

// intent gathers a send-intent's write (nil: its deletion).
func (t *deliveryTx) intent(ref allimi.DeliveryRef, si *allimi.SendIntent) error {
	if t.failed != nil {
		return t.failed
	}
	if t.rows.intents == nil {
		t.rows.intents = map[allimi.DeliveryRef]*allimi.SendIntent{}
	}
	t.rows.intents[ref] = si
	return nil
}

func (t *deliveryTx) CountDeliveries(typ allimi.NotificationType, ch allimi.Channel, outcome string, n int64) error {
	return t.queue(`INSERT INTO delivery_stats (type, channel, outcome, part, n) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (type, channel, outcome, part) DO UPDATE SET n = delivery_stats.n + EXCLUDED.n`,
		string(typ), string(ch), outcome, int16(t.slot), n)
}

func (t *deliveryTx) CountDailyDeliveries(c allimi.DeliveryCell, n int64) error {
	return t.queue(`INSERT INTO delivery_daily (day, region, type, channel, outcome, part, n) VALUES ($1::text::date, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (day, region, type, channel, outcome, part) DO UPDATE SET n = delivery_daily.n + EXCLUDED.n`,
		c.Day, c.Region, string(c.Type), string(c.Channel), c.Outcome, int16(t.slot), n)
}

// slotFilter is the condition that keeps a slot's rows of a table keyed
// by notification and seq, with its argument numbered after the query's
// last (n); none for the whole store.
func (t *deliveryTx) slotFilter(n int) (string, []any) {
	if t.slot < 0 {
		return "", nil
	}
	return fmt.Sprintf(" AND %s = $%d", slotSQL, n+1), []any{t.slot}
}

package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"allimi"
	"allimi/central/channel"
)

// Send-intents make a delivery go out once without the provider's help.
//
// Before a batch's request goes out, the dispatcher commits one intent per
// message (batched: whatever batches are ready share one transaction, as
// the results do), and it deletes them in the transaction that records the
// request's answer. An intent left over at a lane's start is a request whose
// answer was lost (a crash, a restart of the pipeline): the provider may or
// may not have taken it. Before anything is sent again the lane asks the
// provider (channel.Finder): a message it has is recorded as accepted and
// never resent; one it does not have is queued to be sent; when it cannot
// be asked, the intent stays and the question is asked again later — the
// message is neither sent nor given up.
//
// NHN Cloud takes a repeated recipientGroupingKey as a new message and
// Naver SENS has no key of ours, so resending "with the same keys" reached
// people twice.

// putIntents writes the intents of the batches about to be sent; a due
// entry is replaced by its intent. It names each batch's request.
func putIntents(tx allimi.DeliveryTx, jobs []*job, now time.Time) error {
	for _, j := range jobs {
		if len(j.b.items) == 0 {
			continue
		}
		j.group = rand.Uint64() | 1
		for i := range j.b.items {
			it := &j.b.items[i]
			si := allimi.SendIntent{Ref: it.Ref, At: now.UnixMilli(), Group: j.group, Flags: it.Flags, Fresh: it.Due.IsZero()}
			if err := tx.PutSendIntent(si); err != nil {
				return err
			}
			if !it.Due.IsZero() {
				if err := tx.DeleteDue(it.Ref, it.Due); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// staleIntents reads ch's intents. It is called at a lane's start, before
// its reader, so every intent it finds is a request whose answer was lost.
// In the same transaction it moves the notifications' progress past the
// fresh ones and marks them so (the recipients before them were read and
// either sent or not on this channel), so that the reader does not send
// them again whatever the provider says; a notification whose every
// recipient is then read is done.
func (d *Dispatcher) staleIntents(ch allimi.Channel) ([]allimi.SendIntent, error) {
	var out []allimi.SendIntent
	err := d.store.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		out = out[:0]
		progress := map[uint64]uint32{}
		if err := tx.SendIntents(ch, func(si allimi.SendIntent) bool {
			if si.Fresh {
				progress[si.Ref.Notification] = max(progress[si.Ref.Notification], si.Ref.Seq)
			}
			out = append(out, si)
			return true
		}); err != nil {
			return err
		}
		for i := range out {
			if out[i].Fresh {
				out[i].Fresh = false
				if err := tx.PutSendIntent(out[i]); err != nil {
					return err
				}
			}
		}
		for id, seq := range progress {
			n, err := tx.Notification(id)
			if err != nil {
				return err
			}
			if !n.Advance(ch, seq) {
				continue
			}
			if err := tx.PutNotification(&n); err != nil {
				return err
			}
			d.track(n)
		}
		return nil
	})
	return out, err
}

// reconcile asks the provider about stale intents, one request group at a
// time, and settles what it answers. It returns the intents it could not
// settle because the provider could not be asked.
func (d *Dispatcher) reconcile(ctx context.Context, a channel.Adapter, stale []allimi.SendIntent) ([]allimi.SendIntent, error) {
	if len(stale) == 0 {
		return nil, nil
	}
	finder, _ := a.(channel.Finder)
	byGroup := map[uint64][]allimi.SendIntent{}
	var order []uint64
	for _, si := range stale {
		if _, ok := byGroup[si.Group]; !ok {
			order = append(order, si.Group)
		}
		byGroup[si.Group] = append(byGroup[si.Group], si)
	}
	var left []allimi.SendIntent
	var firstErr error
	for _, g := range order {
		sis := byGroup[g]
		msgs, err := d.intentMessages(sis)
		if err != nil {
			return append(left, stale...), err // the store: try it all again later
		}
		var results []channel.Result
		if finder == nil {
			// No way to ask: the old behaviour, a resend with the same
			// keys, which only a deduplicating provider makes safe.
			d.log.Warn("provider has no result query: lost requests are sent again", "channel", a.Channel())
			results = make([]channel.Result, len(msgs))
			for i := range results {
				results[i].Status = channel.NotFound
			}
		} else {
			since := sis[0].At
			for _, si := range sis[1:] {
				since = min(since, si.At)
			}
			results, err = finder.Find(ctx, time.UnixMilli(since), msgs)
			if err == nil && len(results) != len(msgs) {
				err = fmt.Errorf("%d answers for %d messages", len(results), len(msgs))
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return append(left, sis...), ctx.Err()
			}
			d.log.Warn("provider cannot say what became of lost requests: asking again later",
				"channel", a.Channel(), "messages", len(sis), "err", err)
			left = append(left, sis...)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err := d.settleIntents(a.Channel(), sis, results); err != nil {
			return append(left, sis...), err
		}
	}
	return left, firstErr
}

// intentMessages renders the messages of intents as they were sent: the
// same key, number, text and request name.
func (d *Dispatcher) intentMessages(sis []allimi.SendIntent) ([]channel.Message, error) {
	var b batch
	err := d.store.ReadDeliveries(func(tx allimi.DeliveryReader) error {
		b.items = b.items[:0]
		notifs := map[uint64]*allimi.Notification{}
		for _, si := range sis {
			n, ok := notifs[si.Ref.Notification]
			if !ok {
				nn, err := tx.Notification(si.Ref.Notification)
				if err != nil {
					return fmt.Errorf("send intent %s: %w", si.Ref.Key(), err)
				}
				n = &nn
				notifs[n.ID] = n
			}
			it, err := tx.Outgoing(n, si.Ref)
			if err != nil {
				return err
			}
			it.Flags = si.Flags
			b.items = append(b.items, it)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	msgs, err := d.render(b)
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		msgs[i].Group = channel.GroupName(sis[i].Group)
	}
	return msgs, nil
}

// settleIntents records the provider's answers: a message it has is
// accepted (and a receipt that came ahead of it applied); one it has not
// goes to the due queue, to be sent now.
func (d *Dispatcher) settleIntents(ch allimi.Channel, sis []allimi.SendIntent, results []channel.Result) error {
	now := d.cfg.Now()
	var stats statDelta
	var fellBack, resend bool
	var found, missing int
	err := d.store.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		stats, fellBack, resend, found, missing = statDelta{}, false, false, 0, 0
		notifs := map[uint64]*allimi.Notification{}
		for i, si := range sis {
			if _, ok, err := tx.SendIntent(si.Ref); err != nil || !ok {
				if err != nil {
					return err
				}
				continue // settled meanwhile
			}
			if err := tx.DeleteSendIntent(si.Ref); err != nil {
				return err
			}
			if results[i].Status != channel.Accepted {
				missing++
				resend = true
				if err := tx.PutDue(allimi.DueEntry{Ref: si.Ref, At: now, Flags: si.Flags}); err != nil {
					return err
				}
				continue
			}
			found++
			n, ok := notifs[si.Ref.Notification]
			if !ok {
				nn, err := tx.Notification(si.Ref.Notification)
				if err != nil {
					return err
				}
				n = &nn
				notifs[n.ID] = n
			}
			rec, _, err := tx.Delivery(si.Ref)
			if err != nil {
				return err
			}
			rec.Flags |= si.Flags
			if rec.First == 0 {
				rec.First = si.At
			}
			rec.Attempts++
			rec.State, rec.Reason, rec.Updated = allimi.DeliveryAccepted, "", now.UnixMilli()
			it, err := tx.Outgoing(n, si.Ref) // for the recipient's region
			if err != nil {
				return err
			}
			stats.add(&it, now, MetricSent, 1)
			if err := tx.PutDelivery(si.Ref, rec); err != nil {
				return err
			}
			fb, err := d.settleEarly(tx, n, si.Ref, &rec, now, stats)
			if err != nil {
				return err
			}
			fellBack = fellBack || fb
		}
		return stats.write(tx)
	})
	if err != nil {
		return err
	}
	d.metrics.observe(stats)
	d.log.Info("lost requests reconciled with the provider", "channel", ch, "found", found, "resent", missing)
	if fellBack {
		d.poke(allimi.ChannelSMS)
	}
	if resend {
		d.poke(ch)
	}
	return nil
}

// reconcileLater asks again about what the provider could not answer, with
// backoff, until it is all settled or ctx ends.
func (d *Dispatcher) reconcileLater(ctx context.Context, a channel.Adapter, left []allimi.SendIntent) {
	wait := time.Second
	for len(left) > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		var err error
		if left, err = d.reconcile(ctx, a, left); err != nil && ctx.Err() == nil {
			wait = min(2*wait, time.Minute)
		}
	}
}

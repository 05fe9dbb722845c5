package central

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/channel"
)

// sendIntent is one message about to be, or perhaps, sent.
type sendIntent struct {
	ref   allimi.DeliveryRef
	at    int64  // unix ms the intent was committed, just before its request
	group uint64 // names the request for the provider's query (channel.Message.Group)
	flags byte   // the delivery's flags
	// fresh: read from the notification's recipients beyond the stored
	// progress, which the lane's start moves past it; else from the due
	// queue, whose entry the intent replaces.
	fresh bool
}

const sendIntentSize = 18

func sendIntentKey(r allimi.DeliveryRef) []byte {
	k := make([]byte, 0, 13)
	k = append(k, bolt.ChannelIndex(r.Channel))
	k = binary.BigEndian.AppendUint64(k, r.Notification)
	return binary.BigEndian.AppendUint32(k, r.Seq)
}

func (si *sendIntent) value() []byte {
	v := make([]byte, 0, sendIntentSize)
	v = binary.BigEndian.AppendUint64(v, uint64(si.at))
	v = binary.BigEndian.AppendUint64(v, si.group)
	fresh := byte(0)
	if si.fresh {
		fresh = 1
	}
	return append(v, si.flags, fresh)
}

func decodeSendIntent(k, v []byte) (sendIntent, error) {
	if len(k) != 13 || int(k[0]) >= len(allimi.Channels) || len(v) != sendIntentSize {
		return sendIntent{}, fmt.Errorf("send intent %x: damaged", k)
	}
	return sendIntent{
		ref: allimi.DeliveryRef{Notification: binary.BigEndian.Uint64(k[1:]), Seq: binary.BigEndian.Uint32(k[9:]),
			Channel: allimi.Channels[k[0]]},
		at: int64(binary.BigEndian.Uint64(v)), group: binary.BigEndian.Uint64(v[8:]), flags: v[16], fresh: v[17] == 1,
	}, nil
}

// putIntents writes the intents of the batches about to be sent; a due
// entry is replaced by its intent. It names each batch's request.
func putIntents(tx *bbolt.Tx, jobs []*job, now time.Time) error {
	b, due := tx.Bucket(bolt.BucketSendIntents), tx.Bucket(bolt.BucketDue)
	for _, j := range jobs {
		if len(j.b.items) == 0 {
			continue
		}
		j.group = rand.Uint64() | 1
		for _, it := range j.b.items {
			si := sendIntent{at: now.UnixMilli(), group: j.group, flags: it.Flags, fresh: it.DueKey == nil}
			if err := b.Put(sendIntentKey(it.Ref), si.value()); err != nil {
				return fmt.Errorf("send intent %s: %w", it.Ref.Key(), err)
			}
			if it.DueKey != nil {
				if err := due.Delete(it.DueKey); err != nil {
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
func (d *dispatcher) staleIntents(ch allimi.Channel) ([]sendIntent, error) {
	var out []sendIntent
	err := d.store.Db.Update(func(tx *bbolt.Tx) error {
		out = out[:0]
		b := tx.Bucket(bolt.BucketSendIntents)
		c := b.Cursor()
		prefix := bolt.ChannelIndex(ch)
		progress := map[uint64]uint32{}
		for k, v := c.Seek([]byte{prefix}); k != nil && k[0] == prefix; k, v = c.Next() {
			si, err := decodeSendIntent(k, v)
			if err != nil {
				d.log.Error("damaged send intent dropped: its delivery may never be sent", "err", err)
				continue
			}
			if si.fresh {
				progress[si.ref.Notification] = max(progress[si.ref.Notification], si.ref.Seq)
			}
			out = append(out, si)
		}
		for i := range out {
			if out[i].fresh {
				out[i].fresh = false
				if err := b.Put(sendIntentKey(out[i].ref), out[i].value()); err != nil {
					return err
				}
			}
		}
		for id, seq := range progress {
			var n allimi.Notification
			if err := bolt.GetNotification(tx, id, &n); err != nil {
				return err
			}
			if n.Progress == nil {
				n.Progress = map[allimi.Channel]uint32{}
			}
			if seq <= n.Progress[ch] {
				continue
			}
			n.Progress[ch] = seq
			if n.Status == allimi.StatusSending && bolt.AllSent(&n) {
				n.Status = allimi.StatusDone
			}
			if err := bolt.PutNotification(tx, &n); err != nil {
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
func (d *dispatcher) reconcile(ctx context.Context, a channel.Adapter, stale []sendIntent) ([]sendIntent, error) {
	if len(stale) == 0 {
		return nil, nil
	}
	finder, _ := a.(channel.Finder)
	byGroup := map[uint64][]sendIntent{}
	var order []uint64
	for _, si := range stale {
		if _, ok := byGroup[si.group]; !ok {
			order = append(order, si.group)
		}
		byGroup[si.group] = append(byGroup[si.group], si)
	}
	var left []sendIntent
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
			since := sis[0].at
			for _, si := range sis[1:] {
				since = min(since, si.at)
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
func (d *dispatcher) intentMessages(sis []sendIntent) ([]channel.Message, error) {
	var b batch
	err := d.store.Db.View(func(tx *bbolt.Tx) error {
		notifs := map[uint64]*allimi.Notification{}
		for _, si := range sis {
			n, ok := notifs[si.ref.Notification]
			if !ok {
				n = new(allimi.Notification)
				if err := bolt.GetNotification(tx, si.ref.Notification, n); err != nil {
					return fmt.Errorf("send intent %s: %w", si.ref.Key(), err)
				}
				notifs[n.ID] = n
			}
			it, err := d.store.LoadItem(tx, n, si.ref)
			if err != nil {
				return err
			}
			it.Flags = si.flags
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
		msgs[i].Group = bolt.GroupName(sis[i].group)
	}
	return msgs, nil
}

// settleIntents records the provider's answers: a message it has is
// accepted (and a receipt that came ahead of it applied); one it has not
// goes to the due queue, to be sent now.
func (d *dispatcher) settleIntents(ch allimi.Channel, sis []sendIntent, results []channel.Result) error {
	now := d.cfg.Now()
	var stats statDelta
	var fellBack, resend bool
	var found, missing int
	err := d.store.Db.Update(func(tx *bbolt.Tx) error {
		stats, fellBack, resend, found, missing = statDelta{}, false, false, 0, 0
		b, due, er := tx.Bucket(bolt.BucketSendIntents), tx.Bucket(bolt.BucketDue), tx.Bucket(bolt.BucketEarlyReceipts)
		dv := bolt.NewDeliveryWriter(tx, d.log)
		notifs := map[uint64]*allimi.Notification{}
		for i, si := range sis {
			k := sendIntentKey(si.ref)
			if b.Get(k) == nil {
				continue // settled meanwhile
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			if results[i].Status != channel.Accepted {
				missing++
				resend = true
				if err := due.Put(bolt.DueKey(si.ref, now), []byte{si.flags}); err != nil {
					return err
				}
				continue
			}
			found++
			n, ok := notifs[si.ref.Notification]
			if !ok {
				n = new(allimi.Notification)
				if err := bolt.GetNotification(tx, si.ref.Notification, n); err != nil {
					return err
				}
				notifs[n.ID] = n
			}
			rec, _ := dv.Get(si.ref)
			rec.Flags |= si.flags
			if rec.First == 0 {
				rec.First = si.at
			}
			rec.Attempts++
			rec.State, rec.Reason, rec.Updated = bolt.StateAccepted, "", now.UnixMilli()
			stats.add(n.Type, ch, MetricSent, 1)
			if err := dv.Put(si.ref, rec); err != nil {
				return err
			}
			if v := er.Get(bolt.RefKey(si.ref)); v != nil {
				var r Receipt
				if json.Unmarshal(v, &r) == nil {
					fb, err := d.settle(tx, dv, n, si.ref, &rec, r, now, stats)
					if err != nil {
						return err
					}
					fellBack = fellBack || fb
				}
				if err := er.Delete(bolt.RefKey(si.ref)); err != nil {
					return err
				}
			}
		}
		if err := dv.Flush(); err != nil {
			return err
		}
		return stats.write(tx)
	})
	if err != nil {
		return err
	}
	for k, v := range stats {
		d.metrics.deliveries.WithLabelValues(string(k.ch), k.metric).Add(float64(v))
	}
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
func (d *dispatcher) reconcileLater(ctx context.Context, a channel.Adapter, left []sendIntent) {
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

package notify

import (
	"errors"
	"math/rand/v2"
	"time"
	"unicode/utf8"

	"allimi"
	"allimi/central/channel"
)

// commit records what requests did, in one transaction: each delivery's
// state, retries and fallbacks in the due queue, dead letters, progress and
// the statistics; and it commits the send-intents of the batches about to
// be sent (fresh).
func (d *Dispatcher) commit(ch allimi.Channel, jobs, fresh []*job, now time.Time) error {
	var stats statDelta
	var fellBack, retried bool
	err := d.store.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		stats, fellBack, retried = statDelta{}, false, false
		if err := putIntents(tx, fresh, now); err != nil {
			return err
		}
		progress := map[uint64]uint32{}
		for _, j := range jobs {
			fb, rt, err := d.record(tx, ch, j, now, stats)
			if err != nil {
				return err
			}
			fellBack, retried = fellBack || fb, retried || rt
			for id, seq := range j.b.progress {
				progress[id] = max(progress[id], seq)
			}
		}
		if err := d.advance(tx, ch, progress); err != nil {
			return err
		}
		return stats.write(tx)
	})
	if err != nil {
		return err
	}
	d.metrics.observe(stats)
	if fellBack {
		d.poke(allimi.ChannelSMS)
	}
	if retried {
		d.poke(ch)
	}
	return nil
}

// advance moves notifications' progress on ch up to the recipient
// sequence numbers given (never back), and marks done those whose every
// recipient has been through every channel.
func (d *Dispatcher) advance(tx allimi.DeliveryTx, ch allimi.Channel, progress map[uint64]uint32) error {
	for id, seq := range progress {
		n, err := tx.Notification(id)
		if err != nil {
			return err
		}
		n.Advance(ch, seq)
		if err := tx.PutNotification(&n); err != nil {
			return err
		}
		// Within the transaction, so that an expansion's own update of the
		// notification, made under it too, never overtakes this one.
		d.track(n)
	}
	return nil
}

// record stores one batch's outcome: each delivery's state, retries and
// fallbacks in the due queue, dead letters and detail pages. It reports
// whether anything fell back to SMS or was queued again.
func (d *Dispatcher) record(tx allimi.DeliveryTx, ch allimi.Channel, j *job, now time.Time, stats statDelta) (fellBack, retried bool, err error) {
	b, results, sendErr := j.b, j.results, j.sendErr
	for i := range b.items {
		it := &b.items[i]
		rec := it.Prev
		rec.Flags = it.Flags | rec.Flags
		if rec.First == 0 {
			rec.First = now.UnixMilli()
		}
		rec.Updated = now.UnixMilli()
		var rl *channel.RateLimitedError
		var res channel.Result
		switch {
		case now.After(it.N.ExpiresAt):
			rec.State, rec.Reason = allimi.DeliveryExpired, "notification expired"
			stats.add(it, now, MetricExpired, 1)
		case errors.As(sendErr, &rl):
			rec.State, rec.Reason = allimi.DeliveryRetrying, "provider rate limit"
			if err := tx.PutDue(allimi.DueEntry{Ref: it.Ref, At: now.Add(max(rl.RetryAfter, time.Second)), Flags: rec.Flags}); err != nil {
				return false, false, err
			}
			retried = true
		case sendErr != nil:
			rec.Attempts++
			rec.Reason = truncate(sendErr.Error(), 200)
			fb, err := d.retryOrGiveUp(tx, it, &rec, now, stats)
			if err != nil {
				return false, false, err
			}
			fellBack, retried = fellBack || fb, retried || !fb
		default:
			res = results[i]
			rec.Attempts++
			switch res.Status {
			case channel.Accepted:
				rec.State, rec.Reason = allimi.DeliveryAccepted, ""
				stats.add(it, now, MetricSent, 1)
			case channel.Rejected:
				rec.Reason = truncate(res.Code+" "+res.Reason, 200)
				fb, err := d.failed(tx, it, &rec, now, stats)
				if err != nil {
					return false, false, err
				}
				fellBack = fellBack || fb
			default:
				rec.Reason = truncate(res.Code+" "+res.Reason, 200)
				fb, err := d.retryOrGiveUp(tx, it, &rec, now, stats)
				if err != nil {
					return false, false, err
				}
				fellBack, retried = fellBack || fb, retried || !fb
			}
		}
		if !it.Due.IsZero() {
			if err := tx.DeleteDue(it.Ref, it.Due); err != nil {
				return false, false, err
			}
		}
		// The answer is recorded: the request is no longer in doubt.
		if err := tx.DeleteSendIntent(it.Ref); err != nil {
			return false, false, err
		}
		if err := tx.PutDelivery(it.Ref, rec); err != nil {
			return false, false, err
		}
		if rec.State == allimi.DeliveryAccepted {
			fb, err := d.settleEarly(tx, it.N, it.Ref, &rec, now, stats)
			if err != nil {
				return false, false, err
			}
			fellBack = fellBack || fb
		}
	}
	return fellBack, retried, nil
}

// settleEarly applies a receipt that came ahead of the delivery's
// acceptance, now recorded, and forgets it.
func (d *Dispatcher) settleEarly(tx allimi.DeliveryTx, n *allimi.Notification, ref allimi.DeliveryRef, rec *allimi.DeliveryRecord, now time.Time, stats statDelta) (bool, error) {
	r, ok, err := tx.EarlyReceipt(ref)
	if err != nil || !ok {
		return false, err
	}
	fb, err := d.settle(tx, n, ref, rec, r, now, stats)
	if err != nil {
		return false, err
	}
	return fb, tx.DeleteEarlyReceipt(ref)
}

// failed handles a permanent refusal: a messenger falls back to SMS/LMS,
// anything else is dead-lettered. A person who also consented to SMS gets
// the notice by SMS anyway: that delivery is the fallback, so the
// messenger's counts as fallen back (not a dead letter, which is for what
// could not reach the person at all) and no second SMS is queued.
func (d *Dispatcher) failed(tx allimi.DeliveryTx, it *allimi.Outgoing, rec *allimi.DeliveryRecord, now time.Time, stats statDelta) (bool, error) {
	ch := it.Ref.Channel
	if ch != allimi.ChannelSMS {
		rec.State = allimi.DeliveryFellBack
		stats.add(it, now, MetricFellBack, 1)
		if it.Mask&allimi.ChannelBit(allimi.ChannelSMS) != 0 {
			return false, nil // their own SMS delivery carries it
		}
		sms := allimi.DeliveryRef{Notification: it.Ref.Notification, Seq: it.Ref.Seq, Channel: allimi.ChannelSMS}
		return true, tx.PutDue(allimi.DueEntry{Ref: sms, At: now, Flags: allimi.DeliveryFallback})
	}
	rec.State = allimi.DeliveryDeadLetter
	stats.add(it, now, MetricFailed, 1)
	stats.add(it, now, MetricDeadLetter, 1)
	r := it.Ref
	return false, tx.PutDeadLetter(r, allimi.DeadLetter{ID: r.Key(), Notification: r.Notification, Type: it.N.Type, Channel: r.Channel,
		Reason: rec.Reason, Attempts: int(rec.Attempts), At: now.UTC()})
}

// retryOrGiveUp schedules a transient failure again with exponential
// backoff and jitter, until the horizon.
func (d *Dispatcher) retryOrGiveUp(tx allimi.DeliveryTx, it *allimi.Outgoing, rec *allimi.DeliveryRecord, now time.Time, stats statDelta) (bool, error) {
	if now.Sub(time.UnixMilli(rec.First)) >= d.cfg.Horizon || (it.Ref.Channel != allimi.ChannelSMS && d.tripped(it.Ref.Channel, now)) {
		return d.failed(tx, it, rec, now, stats)
	}
	back := d.cfg.BaseBackoff << min(int(rec.Attempts), 20)
	back = min(back, d.cfg.MaxBackoff)
	back = back/2 + time.Duration(rand.Int64N(int64(back)+1)) // jitter: 0.5x to 1.5x
	rec.State = allimi.DeliveryRetrying
	stats.add(it, now, MetricRetried, 1)
	return false, tx.PutDue(allimi.DueEntry{Ref: it.Ref, At: now.Add(back), Flags: rec.Flags})
}

// settle applies a receipt to an accepted delivery and stores it.
func (d *Dispatcher) settle(tx allimi.DeliveryTx, n *allimi.Notification, ref allimi.DeliveryRef, rec *allimi.DeliveryRecord, r allimi.ProviderReceipt, now time.Time, stats statDelta) (bool, error) {
	rec.Updated = now.UnixMilli()
	fellBack := false
	// The recipient: their channels for a fallback, their region for the
	// dated statistics.
	it, err := tx.Outgoing(n, ref)
	if err != nil {
		return false, err
	}
	if r.Status == "delivered" {
		rec.State = allimi.DeliveryDelivered
		stats.add(&it, now, MetricDelivered, 1)
	} else {
		rec.Reason = truncate("receipt: "+r.Reason, 200)
		if fellBack, err = d.failed(tx, &it, rec, now, stats); err != nil {
			return false, err
		}
	}
	return fellBack, tx.PutDelivery(ref, *rec)
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

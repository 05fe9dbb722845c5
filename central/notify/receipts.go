package notify

import (
	"allimi"
)

// applyReceipts moves accepted deliveries to delivered or failed (then
// fallback or dead letter). Unknown keys and repeats are counted, not errors.
func (d *Dispatcher) applyReceipts(rs []allimi.ProviderReceipt) (applied, ignored int, err error) {
	now := d.cfg.Now()
	var stats statDelta
	fellBack := false
	err = d.store.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		applied, ignored, stats, fellBack = 0, 0, statDelta{}, false
		for _, r := range rs {
			ref, err := allimi.ParseDeliveryKey(r.IdempotencyKey)
			if err != nil || ref.Channel != r.Channel {
				ignored++
				continue
			}
			if r.Status != "delivered" && r.Status != "failed" {
				ignored++
				continue
			}
			n, err := tx.Notification(ref.Notification)
			if err != nil {
				ignored++
				continue
			}
			rec, ok, err := tx.Delivery(ref)
			if err != nil {
				return err
			}
			switch {
			case ok && rec.State == allimi.DeliveryAccepted:
			case !ok || rec.State == allimi.DeliveryRetrying:
				// Ahead of the acceptance's commit: keep it for then.
				if err := tx.PutEarlyReceipt(ref, r); err != nil {
					return err
				}
				applied++
				continue
			default:
				ignored++ // a repeat, or a delivery already settled
				continue
			}
			fb, err := d.settle(tx, &n, ref, &rec, r, now, stats)
			if err != nil {
				return err
			}
			fellBack = fellBack || fb
			applied++
		}
		return stats.write(tx)
	})
	if fellBack {
		d.poke(allimi.ChannelSMS)
	}
	return applied, ignored, err
}

// SettleStranded applies receipts kept as early whose delivery has been
// accepted since, and forgets them. On a database the send slots share,
// a slot's commit of an acceptance does not wait for a receipt being kept
// at the same moment, and can miss it: the receipts it stranded so are
// settled here (what central's jobs do every few seconds). A receipt
// whose delivery is still not accepted stays kept; one already settled
// otherwise is forgotten. It returns how many it applied.
func (d *Dispatcher) SettleStranded(rs []allimi.ProviderReceipt) (int, error) {
	now := d.cfg.Now()
	var stats statDelta
	settled, fellBack := 0, false
	err := d.store.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		settled, stats, fellBack = 0, statDelta{}, false
		for _, r := range rs {
			ref, err := allimi.ParseDeliveryKey(r.IdempotencyKey)
			if err != nil {
				continue
			}
			kept, ok, err := tx.EarlyReceipt(ref)
			if err != nil {
				return err
			}
			if !ok {
				continue // settled meanwhile
			}
			rec, ok, err := tx.Delivery(ref)
			if err != nil {
				return err
			}
			if !ok || rec.State == allimi.DeliveryRetrying {
				continue // still ahead of its acceptance
			}
			if rec.State == allimi.DeliveryAccepted {
				n, err := tx.Notification(ref.Notification)
				if err != nil {
					return err
				}
				fb, err := d.settle(tx, &n, ref, &rec, kept, now, stats)
				if err != nil {
					return err
				}
				fellBack = fellBack || fb
				settled++
			}
			if err := tx.DeleteEarlyReceipt(ref); err != nil {
				return err
			}
		}
		return stats.write(tx)
	})
	if err != nil {
		return 0, err
	}
	if fellBack {
		d.poke(allimi.ChannelSMS)
	}
	return settled, nil
}

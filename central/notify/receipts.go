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

package notify

import "allimi"

// Create stores an agency's validated notification (allimi.Notifications)
// and starts sending it; a campaign is first expanded to everyone
// subscribed, which Create waits for. With the same agency and idempotency
// key it returns the notification made the first time, and repeat. An
// error after the notification was stored (its expansion failed) comes
// with it; one before, with a zero Notification.
func (d *Dispatcher) Create(agency, idemKey string, req *allimi.NotificationRequest) (n allimi.Notification, repeat bool, err error) {
	n, repeat, err = d.store.CreateNotification(agency, idemKey, req)
	if err != nil {
		return allimi.Notification{}, false, err // nothing stored
	}
	if n.Status == allimi.StatusExpanding {
		expanded, err := d.expand(n.ID)
		if err != nil {
			return n, repeat, err
		}
		return expanded, repeat, nil
	}
	d.Watch(n)
	return n, repeat, nil
}

// Watch starts sending a notification stored by someone else (the
// new-benefits matching).
func (d *Dispatcher) Watch(n allimi.Notification) {
	d.track(n)
	d.poke()
}

// ApplyReceipts records providers' delivery receipts: an accepted delivery
// becomes delivered, or failed (then falls back to SMS or is
// dead-lettered); a receipt ahead of its acceptance is kept for then.
// Unknown keys, repeats and other statuses are ignored and counted.
func (d *Dispatcher) ApplyReceipts(rs []allimi.ProviderReceipt) (applied, ignored int, err error) {
	return d.applyReceipts(rs)
}

// ReplayDeadLetters queues dead letters again, the one with the given
// delivery key or all when key is empty, and wakes the lanes.
func (d *Dispatcher) ReplayDeadLetters(key string) (int, error) {
	n, err := d.store.ReplayDeadLetters(key)
	if err == nil {
		d.poke()
	}
	return n, err
}

// Package memstore keeps notifications, their recipients and their
// deliveries in memory: *Store implements allimi.Notifications,
// allimi.Deliveries, allimi.DeliveryQueue and allimi.QueueIntents without a disk, so the parts
// of central that use them (the dispatcher in central/notify) are tested
// against it as well as against central/bolt. It is a fake for tests: an
// update copies the whole delivery state, and nothing survives the process.
package memstore

import "allimi"

// The interfaces Store implements.
var (
	_ allimi.Notifications   = (*Store)(nil)
	_ allimi.Deliveries      = (*Store)(nil)
	_ allimi.DeliveryReports = (*Store)(nil)
	_ allimi.DeliveryQueue   = (*Store)(nil)
	_ allimi.QueueIntents    = (*Store)(nil)
)

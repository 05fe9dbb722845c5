package storetest

import (
	"testing"

	"allimi"
)

// DeliveryBackend is an open, empty store of the dispatcher's side of
// central: what central/notify stores and reads, and what officials read
// of it. The DeliveryQueue and QueueIntents suites take it, so that a
// store with no registry (central/memstore) passes them as well.
type DeliveryBackend interface {
	allimi.Notifications
	allimi.Deliveries
	allimi.DeliveryQueue
	allimi.QueueIntents
	// Seed makes people subscribers of notices of type typ on the
	// channels chs, as their sign-ups would have: a campaign of typ
	// reaches them, a listed audience of typ resolves to them. People are
	// seeded once each, and have a validated name, mobile and birth date.
	Seed(t *testing.T, people []allimi.Citizen, typ allimi.NotificationType, chs ...allimi.Channel)
}

// OpenDeliveries gives a test a fresh, empty DeliveryBackend, closed when
// the test ends. Each call opens a store of its own, with keys of its own.
type OpenDeliveries func(t *testing.T) DeliveryBackend

// DeliveryReopener is a DeliveryBackend that keeps its data across a
// restart. The suites check with it that what was committed is still
// there; a backend without it (an in-memory one) skips those checks.
type DeliveryReopener interface {
	// ReopenDeliveries closes the store and opens it again on the same
	// data, as a restart of central would, and returns the new handle;
	// the old one is not used again. It fails t when it cannot.
	ReopenDeliveries(t *testing.T) DeliveryBackend
}

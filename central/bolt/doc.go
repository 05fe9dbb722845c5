// Package bolt is central's storage in one bbolt file: the registry of
// kiosk events, citizens, consents and conflicts; notifications, their
// recipients and deliveries; questions; the audit log; and the credentials
// of kiosks, agencies and officials. *Store implements the storage
// interfaces of package allimi, and passes their conformance suites
// (central/storetest, run by conformance_test.go). Reader (port.go) reads
// a stopped central's file, part by part, for copying it to PostgreSQL
// (central/pg's Port).
package bolt

import (
	"allimi"
	"allimi/sync/catalog"
)

// The interfaces Store implements.
var (
	_ allimi.Registry      = (*Store)(nil)
	_ allimi.Confirmations = (*Store)(nil)
	_ allimi.Questions     = (*Store)(nil)
	_ allimi.AuditLog      = (*Store)(nil)
	_ allimi.Kiosks        = (*Store)(nil)
	_ allimi.KioskUsers    = (*Store)(nil)
	_ allimi.Agencies      = (*Store)(nil)
	_ allimi.Officials     = (*Store)(nil)
	_ allimi.Notifications = (*Store)(nil)
	_ allimi.Deliveries    = (*Store)(nil)
	_ allimi.DeliveryQueue = (*Store)(nil)
	_ allimi.QueueIntents  = (*Store)(nil)
	_ catalog.Keeper       = (*Store)(nil)
)

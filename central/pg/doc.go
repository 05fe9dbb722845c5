// Package pg is central's storage on PostgreSQL, for a national scale that
// one bbolt file (central/bolt) does not reach: *Store implements the
// storage interfaces of package allimi — the credentials (Kiosks,
// Agencies, Officials), the registry (Registry, Confirmations, AuditLog),
// questions (Questions) and the dispatcher (Notifications, Deliveries,
// DeliveryQueue, QueueIntents) — and central's catalogs (catalog.Keeper),
// its limiters' counts (throttle.Storage), the detail pages' data
// (detail.Storage; OpenDetails serves them), new-benefits matching
// (NotifyNewBenefits) and seeding (ImportSubscribers), and passes their
// conformance suites (central/storetest, run by conformance_test.go
// against a real server from internal/pgtest).
//
// Port (`allimi central port --from DIR --to URL`) copies a stopped
// central's bbolt file, read through central/bolt's Reader, into an empty
// database in one transaction, and checks what it wrote before it
// commits (port.go).
//
// Several central processes may share one database. What must behave as
// bbolt's single writer does (a dispatcher's commit, a campaign's
// expansion step, a notification's creation) runs in a SERIALIZABLE
// transaction, short, and is run again when PostgreSQL reports a
// serialization failure or a deadlock (serial.go); snapshots are
// read-only REPEATABLE READ transactions.
//
// The schema is versioned: migrations/NNNN_name.sql, embedded in the
// binary, are applied in order by Migrate (`allimi central migrate
// --store URL`), each in its own transaction, and recorded in the table
// schema_migrations. Open refuses a database that is not migrated to this
// build's version, or that a newer build migrated further.
//
// Secrets stay out of the database, as with bbolt: kiosk passwords are
// kept as bcrypt hashes (a broker's configuration can take those as they
// are), agency and official tokens and session ids, random 192 or 256
// bits, as SHA-256, enrolment codes as the SHA-256 of their normalised
// form; central's keys (keyring.Keys, keys.json) are given to Open.
package pg

import (
	"allimi"
	"allimi/central/detail"
	"allimi/central/throttle"
	"allimi/sync/catalog"
)

// The interfaces Store implements.
var (
	_ allimi.Kiosks        = (*Store)(nil)
	_ allimi.KioskUsers    = (*Store)(nil)
	_ allimi.Agencies      = (*Store)(nil)
	_ allimi.Officials     = (*Store)(nil)
	_ allimi.Registry      = (*Store)(nil)
	_ allimi.Confirmations = (*Store)(nil)
	_ allimi.AuditLog      = (*Store)(nil)
	_ allimi.Questions     = (*Store)(nil)
	_ allimi.Notifications = (*Store)(nil)
	_ allimi.Deliveries    = (*Store)(nil)
	_ allimi.DeliveryQueue = (*Store)(nil)
	_ allimi.QueueIntents  = (*Store)(nil)
	_ catalog.Keeper       = (*Store)(nil)
	_ throttle.Storage     = (*Store)(nil)
	_ detail.Storage       = (*Store)(nil)
)

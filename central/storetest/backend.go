package storetest

import (
	"testing"

	"allimi"
)

// Backend is an open, empty store under test: every storage interface of
// central, since a suite sets things up through more than its own (a
// receipt needs a committed sign-up, a notification subscribers).
type Backend interface {
	allimi.Registry
	allimi.Confirmations
	allimi.Questions
	allimi.AuditLog
	allimi.Kiosks
	allimi.Agencies
	allimi.Officials
	allimi.Notifications
	allimi.Deliveries
	// Reopen closes the store and opens it again on the same data, as a
	// restart of central would, and returns the new handle; the old one
	// is not used again. It fails t when it cannot.
	Reopen(t *testing.T) Backend
}

// Open gives a test a fresh, empty Backend, closed when the test ends.
type Open func(t *testing.T) Backend

// AuditTamperer is a Backend whose test harness can change its stored
// audit log behind its back, as someone with access to its files or
// tables could. The AuditLog suite uses it, when a backend has it, to check
// that VerifyAudit finds what was done; entries are numbered from 1.
type AuditTamperer interface {
	// RewriteAudit replaces entry seq with what change makes of it,
	// stored as it stands (its Hash as change leaves it).
	RewriteAudit(t *testing.T, seq uint64, change func(*allimi.AuditEntry))
	// DeleteAudit removes entry seq.
	DeleteAudit(t *testing.T, seq uint64)
}

package kiosk

import "allimi/sync"

// A kiosk connected to central asks it over the sender's connection:
// *sync.Central is its Verifier and its ConflictSource as it is.
var (
	_ Verifier       = (*sync.Central)(nil)
	_ ConflictSource = (*sync.Central)(nil)
)

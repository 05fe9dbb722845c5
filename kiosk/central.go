package kiosk

import "allimi/sync/uplink"

// A kiosk connected to central asks it over the sender's connection:
// *uplink.Central is its Verifier and its ConflictSource as it is.
var (
	_ Verifier       = (*uplink.Central)(nil)
	_ ConflictSource = (*uplink.Central)(nil)
)

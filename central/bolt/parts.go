package bolt

import "allimi/central/throttle"

// A part of central's storage keeps the buckets of one concern. Each part
// declares its buckets, with what their keys and values hold, in one place
// at the top of its own file — registry.go, catalogs.go, notifications.go,
// deliveries.go, questions.go, audit.go, credentials.go — and OpenStore
// creates them all; a bucket is added to its part, never created elsewhere.
type part struct {
	name    string
	buckets [][]byte
}

// limitsPart keeps the counts of failed attempts (central/throttle), in
// the bucket that package names.
var limitsPart = part{"limits", [][]byte{throttle.Bucket}}

// parts are the store's parts.
var parts = []part{registryPart, catalogsPart, notificationsPart, deliveriesPart, questionsPart, auditPart,
	credentialsPart, limitsPart, programsPart, typesPart, statsPart}

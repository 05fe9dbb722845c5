package outbox

import "time"

// Hooks into an Outbox for the tests, which are in package outbox_test so
// that they may make their records with allimi/internal/loadgen (an
// importer of this package).

func SetClock(o *Outbox, now func() time.Time) { o.now = now }

func SetMaxRecord(o *Outbox, n int) { o.maxRecord = n }

func SetScrubEvery(o *Outbox, d time.Duration) { o.scrubEvery = d }

func ScrubDue(o *Outbox) bool { return o.scrubDue.Load() }

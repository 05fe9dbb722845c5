package bolt

import (
	"allimi"
	"allimi/central/record"
)

// Prepare fills in.Prepared for an event (record.Prepare: sealing, keying,
// its consent-log entry and audit line, ahead of the batch's transaction);
// for a refusal it does nothing.
func (s *Store) Prepare(in *allimi.Incoming) {
	if p := record.Prepare(s.keys, in); p != nil {
		in.Prepared = p
	}
}

package pg

import (
	"testing"
	"time"

	"allimi"
)

// BenchmarkCommit commits sign-ups (two channels, eleven types each) in
// batches of 500, as central's ingest does, into a fresh database.
func BenchmarkCommit(b *testing.B) {
	st := openStore(b)
	at := time.Now().Add(-time.Hour)
	events := signupEvents(b, "bench", b.N, at)
	b.ResetTimer()
	for i := 0; i < len(events); i += 500 {
		batch := make([]allimi.Incoming, 0, 500)
		for k := i; k < min(i+500, len(events)); k++ {
			batch = append(batch, allimi.Incoming{Kiosk: events[k].Kiosk, Event: &events[k]})
		}
		if _, err := st.Commit(batch); err != nil {
			b.Fatal(err)
		}
	}
}

package bolt

import (
	"encoding/json"
	"testing"
	"time"

	"allimi"
	"allimi/central/keyring"
	"allimi/internal/loadgen"
)

// BenchmarkStore_Commit5000 commits 5,000 signups in batches of 1,000, as
// the ingest does during a kiosk's drain.
func BenchmarkStore_Commit5000(b *testing.B) {
	now := time.Now()
	events := make([]allimi.Event, 5000)
	for i := range events {
		d := loadgen.Signup("bench", uint64(i+1), []allimi.Channel{allimi.ChannelKakao}, now)
		p, _ := json.Marshal(d.Payload)
		events[i] = allimi.Event{V: 1, Kiosk: "bench", Seq: uint64(i + 1), HLC: allimi.NextHLC(0, now), Kind: d.Kind, Citizen: d.Citizen, Payload: p}
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		keys, err := keyring.Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		st, err := OpenStore(dir+"/c.db", keys, StoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(events); i += 1000 {
			batch := make([]allimi.Incoming, 0, 1000)
			for j := i; j < i+1000; j++ {
				batch = append(batch, allimi.Incoming{Kiosk: "bench", Event: &events[j]})
			}
			if _, err := st.Commit(batch); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
}

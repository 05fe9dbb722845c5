package pg

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/loadgen"
)

// signupEvents are n sign-ups of kiosk, made up (internal/loadgen), each
// of another person, validated as central's ingest does.
func signupEvents(t testing.TB, kiosk string, n int, at time.Time) []allimi.Event {
	t.Helper()
	out := make([]allimi.Event, n)
	hlc := uint64(0)
	for i := range out {
		d := loadgen.Signup(kiosk, uint64(i+1), []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}, at)
		p, err := json.Marshal(d.Payload)
		require.NoError(t, err)
		hlc = allimi.NextHLC(hlc, at)
		out[i] = allimi.Event{V: allimi.EventVersion, Kiosk: kiosk, Seq: uint64(i + 1), HLC: hlc, Kind: d.Kind, Citizen: d.Citizen, Payload: p}
		require.NoError(t, out[i].Validate(at.Add(time.Minute)))
	}
	return out
}

// Two central processes on one database, each given every record of two
// kiosks at the same time (as two workers taking redelivered messages
// would): each record is stored once, the other's copy counted a
// duplicate, and the counters, high-water marks and audit chain come out
// as one process would leave them.
func TestRegistry_TwoProcessesCommittingTheSameRecordsAtOnce(t *testing.T) {
	a := openConformance(t)
	b, err := Open(context.Background(), a.url, WithKeys(a.keys))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })

	at := time.Now().Add(-time.Hour)
	events := append(signupEvents(t, "kiosk-a", 150, at), signupEvents(t, "kiosk-b", 150, at)...)
	const batchSize = 25
	commitAll := func(st *Store, reverse bool) {
		for i := 0; i < len(events); i += batchSize {
			j := i
			if reverse {
				j = len(events) - batchSize - i
			}
			batch := make([]allimi.Incoming, batchSize)
			for k := range batch {
				e := events[j+k]
				batch[k] = allimi.Incoming{Kiosk: e.Kiosk, Event: &e}
			}
			_, err := st.Commit(batch)
			assert.NoError(t, err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); commitAll(a.Store, false) }()
	go func() { defer wg.Done(); commitAll(b, true) }()
	wg.Wait()

	st, err := a.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 300, st.Records.Stored, "every record stored once")
	assert.EqualValues(t, 300, st.Records.Duplicates, "the other copy of each a duplicate")
	assert.EqualValues(t, 300, st.Subscribers, "300 people")
	assert.EqualValues(t, 300, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelSMS)])
	assert.Equal(t, map[string]uint64{"kiosk-a": 150, "kiosk-b": 150}, st.Kiosks)
	pending, err := a.ConfirmationsPending()
	require.NoError(t, err)
	assert.Equal(t, 300, pending, "one confirmation per unverified sign-up")
	r, err := b.VerifyAudit()
	require.NoError(t, err, "the audit chain holds")
	assert.Greater(t, r.Entries, 0)
}

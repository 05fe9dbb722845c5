package loadgen_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/loadgen"
	"allimi/sync/outbox"
)

// signupAt is when the synthetic people sign up in these tests.
var signupAt = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

func TestSignup_DistinctPeopleForOneKiosk(t *testing.T) {
	const n = 20000
	channels := []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}
	for _, kiosk := range []string{"k1", "seoul-gangnam-01"} {
		t.Run(kiosk, func(t *testing.T) {
			people := make(map[string]uint64, n)
			mobiles := make(map[string]uint64, n)
			for i := uint64(1); i <= n; i++ {
				d := loadgen.Signup(kiosk, i, channels, signupAt)
				key := d.Citizen.Mobile + "|" + d.Citizen.BirthDate
				if prev, dup := people[key]; dup {
					require.Failf(t, "same person twice", "records %d and %d are both %s", prev, i, key)
				}
				people[key] = i
				if prev, dup := mobiles[d.Citizen.Mobile]; dup {
					require.Failf(t, "same mobile twice", "records %d and %d share %s", prev, i, d.Citizen.Mobile)
				}
				mobiles[d.Citizen.Mobile] = i
			}
			assert.Len(t, people, n)
		})
	}
}

func TestSignup_CitizensValidate(t *testing.T) {
	for i := uint64(1); i <= 20000; i++ {
		c := loadgen.Signup("k1", i, []allimi.Channel{allimi.ChannelSMS}, signupAt).Citizen
		want := c
		if err := c.Validate(signupAt); err != nil {
			require.NoError(t, err, "record %d: %+v", i, want)
		}
		if c != want { // already in normal form
			require.Equal(t, want, c, "record %d", i)
		}
	}
}

func TestSignup_EventsValidate(t *testing.T) {
	channels := []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}
	for _, i := range []uint64{1, 2, 7, 9999, 10000, 10001, 17999, 18000, 18001, 19999, 20000} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			d := loadgen.Signup("k1", i, channels, signupAt)
			require.Len(t, d.Payload.(*allimi.ConsentPayload).Consents, len(allimi.Types())*len(channels))
			payload, err := json.Marshal(d.Payload)
			require.NoError(t, err)
			e := allimi.Event{V: allimi.EventVersion, Kiosk: "k1", Seq: i, HLC: allimi.NextHLC(0, signupAt),
				Kind: d.Kind, Citizen: d.Citizen, Payload: payload}
			assert.NoError(t, e.Validate(signupAt))
		})
	}
}

func TestSignup_AppendsToTheOutbox(t *testing.T) {
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	box, err := outbox.Open(db, "k1")
	require.NoError(t, err)
	drafts := make([]outbox.Draft, 100)
	for i := range drafts {
		drafts[i] = loadgen.Signup("k1", uint64(i+1), allimi.Channels, signupAt)
	}
	events, err := box.Append(drafts...)
	require.NoError(t, err)
	assert.Len(t, events, 100)
	st, err := box.State()
	require.NoError(t, err)
	assert.Equal(t, outbox.State{Pending: 100, LastSeq: 100}, st)
}

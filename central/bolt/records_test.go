package bolt

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func TestRecords_CitizenRoundTripsAndReadsOldJSON(t *testing.T) {
	at := time.Date(2026, 11, 2, 6, 0, 0, 123e6, time.UTC)
	for _, c := range []citizenRecord{
		{PII: []byte("sealed bytes"), Verified: true, Active: 3, Created: at, Updated: at.Add(time.Hour)},
		{PII: []byte{}, Active: 0},
	} {
		got, err := decodeCitizenRecord(c.encode())
		require.NoError(t, err)
		assert.Equal(t, c.Verified, got.Verified)
		assert.Equal(t, c.Active, got.Active)
		assert.True(t, c.Created.Equal(got.Created), "%v %v", c.Created, got.Created)
		assert.True(t, c.Updated.Equal(got.Updated))
		assert.Equal(t, string(c.PII), string(got.PII))

		old, _ := json.Marshal(c)
		got, err = decodeCitizenRecord(old)
		require.NoError(t, err)
		assert.Equal(t, c.Active, got.Active)
		assert.Less(t, len(c.encode()), len(old)/2+20)
	}
}

func TestRecords_ConsentStateRoundTripsEveryActor(t *testing.T) {
	at := time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC)
	for _, s := range []consentState{
		{Action: allimi.ActionGrant, HLC: 1 << 50, Kiosk: "sejong-01", Seq: 42, By: allimi.Actor{Kind: allimi.ActorSelf}, At: at},
		{Action: allimi.ActionWithdraw, HLC: 7, Kiosk: "k", Seq: 1,
			By: allimi.Actor{Kind: allimi.ActorOfficial, Official: "official-07", Method: allimi.MethodVaccination}, At: at},
		{Action: allimi.ActionGrant, HLC: 9, By: allimi.Actor{Kind: allimi.ActorCentral, Official: "admin"}, At: at},
		{Action: "snooze", HLC: 9, By: allimi.Actor{Kind: "robot"}}, // from a later build
	} {
		got, err := decodeConsentState(encodeConsentState(&s))
		require.NoError(t, err)
		assert.Equal(t, s, got)

		old, _ := json.Marshal(s)
		got, err = decodeConsentState(old)
		require.NoError(t, err)
		assert.Equal(t, s.Action, got.Action)
		assert.Equal(t, s.By, got.By)
	}
}

func TestRecords_DamagedIsAnError(t *testing.T) {
	c := (&citizenRecord{PII: []byte("0123456789"), Active: 1}).encode()
	s := encodeConsentState(&consentState{Action: allimi.ActionGrant, Kiosk: "k", By: allimi.Actor{Kind: allimi.ActorSelf}})
	for name, v := range map[string][]byte{
		"empty": nil, "unknown format": {0x09, 0, 0}, "truncated": c[:len(c)-2], "trailing": append(append([]byte{}, c...), 0),
	} {
		_, err := decodeCitizenRecord(v)
		assert.ErrorIs(t, err, errDamagedRecord, "citizen %s", name)
	}
	for name, v := range map[string][]byte{
		"empty": nil, "truncated": s[:len(s)-1], "bad action": append([]byte{recordBinary, 9}, s[2:]...),
	} {
		_, err := decodeConsentState(v)
		assert.ErrorIs(t, err, errDamagedRecord, "consent %s", name)
	}
}

package central_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/wire"
)

// TestIngest_RefusesAPayloadFieldCentralDoesNotKnow: a sign-up or consent
// change whose payload has a field this build does not know (at the top or
// inside a consent) is listed in the rejections, naming the kind and the
// field, and changes nothing; a sign-up with every field a kiosk sends,
// receipt and new-benefits conditions included, is stored.
func TestIngest_RefusesAPayloadFieldCentralDoesNotKnow(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	up := wire.UpTopic("k1")
	now := time.Now()
	person := allimi.Citizen{Name: "김순자", Mobile: "010-2468-1357", BirthDate: "1948-03-01"}
	self := allimi.Actor{Kind: allimi.ActorSelf}
	record := func(seq uint64, kind, payload string) []byte {
		e := allimi.Event{V: 1, Kiosk: "k1", Seq: seq, HLC: allimi.NextHLC(0, now) + seq, Kind: kind, Citizen: person, Payload: json.RawMessage(payload)}
		return marshal(t, e)
	}
	receipt, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	signup := string(marshal(t, allimi.ConsentPayload{
		Consents: []allimi.Consent{
			{Type: allimi.TypeNewBenefits, Channel: allimi.ChannelKakao, Action: allimi.ActionGrant, By: self, At: now},
			{Type: allimi.TypeVaccination, Channel: allimi.ChannelSMS, Action: allimi.ActionGrant, By: self, At: now},
		},
		Verified: true, Profile: json.RawMessage(`{"age":78}`), Region: "서울특별시", Receipt: receipt,
	}))
	rk.publish(t, up, record(1, allimi.KindSignup, signup))
	rk.waitAck(t, 1)

	withdraw := string(marshal(t, allimi.ConsentPayload{Consents: []allimi.Consent{
		{Type: allimi.TypeVaccination, Channel: allimi.ChannelSMS, Action: allimi.ActionWithdraw, By: self, At: now},
	}}))
	grantAll := string(marshal(t, allimi.ConsentPayload{Consents: []allimi.Consent{
		{Type: allimi.TypeHealthCheckup, Channel: allimi.ChannelKakao, Action: allimi.ActionGrant, By: self, At: now},
	}, Verified: true}))
	bad := []struct {
		name, kind, payload, reason string
	}{
		{"a newer kiosk's field", allimi.KindSignup, strings.TrimSuffix(grantAll, "}") + `,"priority":"high"}`,
			`record 2: signup payload: json: unknown field "priority"`},
		{"a field inside a consent", allimi.KindConsent, strings.Replace(withdraw, `"by":{"kind":"self"`, `"by":{"kind":"self","for":"spouse"`, 1),
			`record 2: consent payload: json: unknown field "for"`},
	}
	for _, b := range bad {
		rk.publish(t, up, record(2, b.kind, b.payload))
	}
	// The kiosk's real record 2 after the refused ones: once it is acked,
	// all were processed.
	rk.publish(t, up, record(2, allimi.KindConsent, withdraw))
	rk.waitAck(t, 2)

	st := tc.stats(t)
	assert.EqualValues(t, 2, st.Records.Stored)
	assert.EqualValues(t, len(bad), st.Records.Rejected)
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeNewBenefits)]["kakao"], "the sign-up's grant stands")
	assert.Zero(t, st.Active[string(allimi.TypeVaccination)]["sms"], "the real record 2 withdrew it")
	assert.Zero(t, st.Active[string(allimi.TypeHealthCheckup)]["kakao"], "the refused sign-up granted nothing")

	rs := rejections(t, tc.http, adminToken(t, tc.cfg.Data))
	require.Len(t, rs, len(bad))
	for _, b := range bad {
		found := false
		for _, r := range rs {
			found = found || strings.Contains(r.Reason, b.reason)
		}
		assert.True(t, found, "%s: no rejection says %q in %+v", b.name, b.reason, rs)
	}
}

package central_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/sync/wire"
)

// TestIngest_KeepsTheSignupLanguageAndRefusesAnUnknownOne: a sign-up's
// language is kept with the person and a later sign-up in another
// replaces it, a change of consents keeps it; a sign-up naming a language the kiosks do not speak is
// listed in the rejections, naming the field and the languages allowed,
// and changes nothing: neither the person's language nor their consents.
func TestIngest_KeepsTheSignupLanguageAndRefusesAnUnknownOne(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	up := wire.UpTopic("k1")
	now := time.Now()
	person := allimi.Citizen{Name: "Somchai Jaidee", Mobile: "010-2468-1357", BirthDate: "1978-03-01"}
	self := allimi.Actor{Kind: allimi.ActorSelf}
	record := func(seq uint64, kind, lang string, t2 allimi.NotificationType) []byte {
		p := marshal(t, allimi.ConsentPayload{Consents: []allimi.Consent{
			{Type: t2, Channel: allimi.ChannelSMS, Action: allimi.ActionGrant, By: self, At: now},
		}, Verified: true, Lang: lang})
		return marshal(t, allimi.Event{V: 1, Kiosk: "k1", Seq: seq, HLC: allimi.NextHLC(0, now) + seq, Kind: kind,
			Citizen: person, Payload: json.RawMessage(p)})
	}
	signup := func(seq uint64, lang string, t2 allimi.NotificationType) []byte {
		return record(seq, allimi.KindSignup, lang, t2)
	}
	rk.publish(t, up, signup(1, "en", allimi.TypeVaccination))
	rk.waitAck(t, 1)
	// The person again, at a kiosk in Thai: it replaces English.
	rk.publish(t, up, signup(2, "th", allimi.TypeVaccination))
	rk.waitAck(t, 2)
	// A language no kiosk speaks, with a grant of its own.
	rk.publish(t, up, signup(3, "fr", allimi.TypeHealthCheckup))
	// The kiosk's real record 3 after the refused one: once it is acked,
	// both were processed.
	rk.publish(t, up, record(3, allimi.KindConsent, "", allimi.TypeRelief))
	rk.waitAck(t, 3)

	st := tc.stats(t)
	assert.EqualValues(t, 3, st.Records.Stored)
	assert.EqualValues(t, 1, st.Records.Rejected)
	assert.Zero(t, st.Active[string(allimi.TypeHealthCheckup)]["sms"], "the refused sign-up granted nothing")
	rs := rejections(t, tc.http, adminToken(t, tc.cfg.Data))
	require.Len(t, rs, 1)
	assert.Contains(t, rs[0].Reason, `record 3: payload.lang "fr": must be one of ko, en, ja, zh, th, vi`)

	require.NoError(t, tc.srv.Close())
	st2, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	defer st2.Close()
	lang, found, err := st2.LanguageOf(person.Mobile, person.BirthDate)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "th", lang, "the refused sign-up did not replace it, nor did a change of consents")
}

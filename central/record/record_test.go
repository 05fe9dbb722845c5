package record_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/keyring"
	"allimi/central/record"
)

func TestKey_OrdersAKiosksRecordsBySeq(t *testing.T) {
	assert.Equal(t, []byte("k1\x00\x00\x00\x00\x00\x00\x00\x01\x02"), record.Key("k1", 258))
	assert.Less(t, string(record.Key("k1", 9)), string(record.Key("k1", 10)))
}

func TestToKeep_LeavesAQuestionsAudioOut(t *testing.T) {
	e := &allimi.Event{Kind: allimi.KindQuestionAudio, Payload: []byte(`{"data":"AAAA"}`)}
	kept := record.ToKeep(e)
	assert.NotContains(t, string(kept.Payload), "AAAA")
	assert.Equal(t, `{"data":"AAAA"}`, string(e.Payload), "the record itself is left as it is")
	other := &allimi.Event{Kind: allimi.KindSignup}
	assert.Same(t, other, record.ToKeep(other))
}

// What the consent log and the audit line keep of a sign-up names no
// one: no name, number or birth date, only the changes and a pseudonym.
func TestPrepare_KeepsNoPersonalDataInPlaintext(t *testing.T) {
	keys, err := keyring.Load(t.TempDir())
	require.NoError(t, err)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, allimi.KST)
	c := allimi.Citizen{Name: "김영희", Mobile: "010-1234-5678", BirthDate: "1948-05-17"}
	p := allimi.ConsentPayload{Consents: []allimi.Consent{{Type: allimi.TypeVaccination, Channel: allimi.ChannelSMS,
		Action: allimi.ActionGrant, By: allimi.Actor{Kind: allimi.ActorSelf}, At: at}}, Region: "서울특별시", Lang: "th"}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	e := &allimi.Event{V: allimi.EventVersion, Kiosk: "k1", Seq: 3, HLC: allimi.NextHLC(0, at), Kind: allimi.KindSignup, Citizen: c, Payload: b}
	in := &allimi.Incoming{Kiosk: "k1", Event: e, Consents: &p}
	prep := record.Prepare(keys, in)
	require.NotNil(t, prep)
	for _, pd := range []string{c.Name, c.Mobile, c.BirthDate, "서울특별시"} {
		assert.NotContains(t, string(prep.LogEntry), pd)
		assert.NotContains(t, prep.Audit.Person+prep.Audit.By+prep.Audit.What, pd)
		assert.NotContains(t, string(prep.Sealed), pd)
	}
	assert.Equal(t, "k1/3", prep.Audit.By)
	opened, lang, err := keys.OpenPerson(prep.PII, prep.CK)
	require.NoError(t, err)
	assert.Equal(t, c, opened)
	assert.Equal(t, "th", lang, "the language is kept with the person, sealed")
	assert.NotContains(t, string(prep.LogEntry), `"lang"`)
	in.Prepared = prep
	assert.Nil(t, record.Prepare(keys, in), "prepared once")
}

package allimi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// payloadKind is one kind of event with a payload a kiosk really sends,
// every field set, and the accessor that decodes it.
type payloadKind struct {
	kind    string
	citizen allimi.Citizen
	payload any
	decode  func(*allimi.Event) error
}

func payloadKinds(t *testing.T) []payloadKind {
	t.Helper()
	now := time.Now().UTC()
	receipt, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	person := allimi.Citizen{Name: "김순자", Mobile: "010-1234-5678", BirthDate: "1948-03-01"}
	// A sign-up with every field a kiosk fills: its receipt, a verified
	// number, and a new-benefits grant with the person's conditions.
	signup := allimi.ConsentPayload{
		Consents: []allimi.Consent{
			{Type: allimi.TypeNewBenefits, Channel: allimi.ChannelKakao, Action: allimi.ActionGrant, By: allimi.Actor{Kind: allimi.ActorSelf}, At: now},
			{Type: allimi.TypeVaccination, Channel: allimi.ChannelSMS, Action: allimi.ActionGrant,
				By: allimi.Actor{Kind: allimi.ActorOfficial, Official: "o-7", Method: allimi.MethodSpoken}, At: now},
		},
		Verified: true, Profile: json.RawMessage(`{"age":78}`), Region: "서울특별시/종로구", Receipt: receipt,
		Lang: "vi",
	}
	change := allimi.ConsentPayload{Consents: []allimi.Consent{
		{Type: allimi.TypeVaccination, Channel: allimi.ChannelSMS, Action: allimi.ActionWithdraw, By: allimi.Actor{Kind: allimi.ActorSelf}, At: now},
	}}
	consents := func(e *allimi.Event) error { _, err := e.Consents(); return err }
	return []payloadKind{
		{allimi.KindSignup, person, signup, consents},
		{allimi.KindConsent, person, change, consents},
		{allimi.KindFeedback, allimi.Citizen{}, allimi.FeedbackPayload{Entry: "basic-pension", Helpful: true},
			func(e *allimi.Event) error { _, err := e.Feedback(); return err }},
		{allimi.KindQuestionAudio, allimi.Citizen{}, allimi.QuestionAudioPayload{Code: receipt, Index: 0, Chunks: 1, Size: 4, Data: []byte{1, 2, 3, 4}},
			func(e *allimi.Event) error { _, err := e.QuestionAudio(); return err }},
		{allimi.KindQuestion, allimi.Citizen{Name: "김순자", Mobile: "010-1234-5678"},
			allimi.QuestionPayload{Code: receipt, Lang: "ko", Text: "기초연금은 언제 나오나요?", Reply: "sms", AudioBytes: 4, Chunks: 1, SHA256: strings.Repeat("ab", 32)},
			func(e *allimi.Event) error { _, err := e.Question(); return err }},
	}
}

// TestEvent_EveryPayloadKindIsDecodedStrictly: whatever the kind, a field
// this build does not know and anything after the payload's JSON value are
// refused, with an error naming the kind, by Validate (what kiosks and
// central call) and by the kind's accessor alike; what kiosks send is
// accepted.
func TestEvent_EveryPayloadKindIsDecodedStrictly(t *testing.T) {
	for _, k := range payloadKinds(t) {
		valid, err := json.Marshal(k.payload)
		require.NoError(t, err)
		obj := string(valid[:len(valid)-1]) // without its closing brace
		cases := []struct {
			name    string
			payload string
			wantErr string // "" for accepted
		}{
			{"every field a kiosk sends", string(valid), ""},
			{"white space after", string(valid) + " \n", ""},
			{"unknown field", obj + `,"x":1}`, `payload: json: unknown field "x"`},
			{"field of a newer build", obj + `,"priority":"high"}`, `payload: json: unknown field "priority"`},
			{"second value after", string(valid) + ` {}`, "payload: data after the JSON value"},
			{"stray brace after", string(valid) + `}`, "payload: data after the JSON value"},
			{"stray bracket after", string(valid) + `]`, "payload: data after the JSON value"},
			{"text after", string(valid) + ` x`, "payload: data after the JSON value"},
		}
		if k.kind == allimi.KindSignup || k.kind == allimi.KindConsent {
			cases = append(cases, struct{ name, payload, wantErr string }{"unknown field in a consent's actor",
				strings.Replace(string(valid), `"by":{"kind":"self"`, `"by":{"kind":"self","x":1`, 1), `payload: json: unknown field "x"`})
		}
		for _, tc := range cases {
			t.Run(k.kind+"/"+tc.name, func(t *testing.T) {
				e := allimi.Event{V: allimi.EventVersion, Kiosk: "k1", Seq: 1, HLC: allimi.NextHLC(0, time.Now()),
					Kind: k.kind, Citizen: k.citizen, Payload: json.RawMessage(tc.payload)}
				for name, check := range map[string]func() error{
					"Validate": func() error { return e.Validate(time.Now()) },
					"accessor": func() error { return k.decode(&e) },
				} {
					err := check()
					if tc.wantErr == "" {
						assert.NoError(t, err, name)
						continue
					}
					require.Error(t, err, name)
					assert.ErrorIs(t, err, allimi.ErrInvalid, name)
					assert.Contains(t, err.Error(), k.kind+" "+tc.wantErr, name)
				}
			})
		}
	}
}

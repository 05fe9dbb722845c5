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

func TestNewReceiptCode_IsRandomSixtyBitsAndNormalisable(t *testing.T) {
	seen := map[string]bool{}
	for range 500 {
		c, err := allimi.NewReceiptCode()
		require.NoError(t, err)
		assert.Regexp(t, `^[`+allimi.CodeAlphabet+`]{4}-[`+allimi.CodeAlphabet+`]{4}-[`+allimi.CodeAlphabet+`]{4}$`, c)
		assert.True(t, allimi.IsRandomReceiptCode(c))
		n, ok := allimi.NormalizeReceiptCode(strings.ToLower(strings.ReplaceAll(c, "-", " ")))
		require.True(t, ok, c)
		assert.Equal(t, c, n)
		assert.False(t, seen[c], "code %s drawn twice", c)
		seen[c] = true
	}
}

func TestNormalizeReceiptCode_AcceptsNewAndOldSlips(t *testing.T) {
	old := allimi.ReceiptCode("demo-kiosk", 41)
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"7kq2mxr4td9p", "7KQ2-MXR4-TD9P", true},
		{"7KQ2-MXR4-TD9P", "7KQ2-MXR4-TD9P", true},
		{"7kq2 mxr4 td9p", "7KQ2-MXR4-TD9P", true},
		{strings.ToLower(strings.ReplaceAll(old, "-", "")), old, true}, // a slip printed before random codes
		{"ABCDE-FGH23", "ABCDE-FGH23", true},
		{"7KQ2-MXR4-TD9", "", false},   // 11 letters
		{"7KQ2-MXR4-TD9PX", "", false}, // 13
		{"7KQ2-MXR4-TD0P", "", false},  // 0 is not in the alphabet
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := allimi.NormalizeReceiptCode(tc.in)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.False(t, allimi.IsRandomReceiptCode(old), "a derived code never has the random form")
}

func TestEvent_ReceiptCodeOnlyOnASignupAndInTheRandomForm(t *testing.T) {
	consent := allimi.Consent{Type: allimi.TypeHealthCheckup, Channel: allimi.ChannelKakao, Action: allimi.ActionGrant,
		By: allimi.Actor{Kind: allimi.ActorSelf}, At: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)}
	who := allimi.Citizen{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}
	derived := allimi.ReceiptCode("k1", 1)
	tests := []struct {
		name, kind, receipt, wantErr string
	}{
		{"sign-up with a drawn code", allimi.KindSignup, "7KQ2-MXR4-TD9P", ""},
		{"sign-up without one (an earlier kiosk)", allimi.KindSignup, "", ""},
		{"a derived code claimed", allimi.KindSignup, derived, "payload.receipt: must be 12 letters of the receipt alphabet as XXXX-XXXX-XXXX"},
		{"not normalised", allimi.KindSignup, "7kq2mxr4td9p", "payload.receipt: must be 12 letters"},
		{"on a consent change", allimi.KindConsent, "7KQ2-MXR4-TD9P", "payload.receipt: only a sign-up has a receipt code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := json.Marshal(allimi.ConsentPayload{Consents: []allimi.Consent{consent}, Receipt: tc.receipt})
			require.NoError(t, err)
			e := allimi.Event{V: 1, Kiosk: "k1", Seq: 1, HLC: 1 << 16, Kind: tc.kind, Citizen: who, Payload: p}
			err = e.Validate(time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC))
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.wantErr)
			if tc.receipt != "" {
				assert.NotContains(t, err.Error(), tc.receipt, "a receipt code is not quoted")
			}
		})
	}
}

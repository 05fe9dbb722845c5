package loadgen_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/loadgen"
)

const peopleFile = `{"name":"Nguyễn Thị Lan","mobile":"01012345678","birthDate":"1988-03-01","types":["vaccination","health-checkup"],"channels":["kakao","sms"],"lang":"vi"}

{"name":"김순자","mobile":"010-2222-3333","birthDate":"1948-05-17","types":["relief"],"channels":["sms"]}
`

func TestReadPeople_EachLineIsASignupLikeTheSyntheticOnes(t *testing.T) {
	drafts, err := loadgen.ReadPeople(strings.NewReader(peopleFile), signupAt)
	require.NoError(t, err)
	require.Len(t, drafts, 2, "the blank line is skipped")

	lan := drafts[0]
	assert.Equal(t, allimi.KindSignup, lan.Kind)
	assert.Equal(t, allimi.Citizen{Name: "Nguyễn Thị Lan", Mobile: "010-1234-5678", BirthDate: "1988-03-01"}, lan.Citizen)
	p := lan.Payload.(*allimi.ConsentPayload)
	assert.Equal(t, "vi", p.Lang)
	assert.Len(t, p.Consents, 4, "two types on two channels")
	for _, c := range p.Consents {
		assert.Equal(t, allimi.ActionGrant, c.Action)
	}
	// The synthetic sign-ups' shape: unverified, no receipt code, by the person.
	synthetic := loadgen.Signup("k1", 1, []allimi.Channel{allimi.ChannelSMS}, signupAt).Payload.(*allimi.ConsentPayload)
	assert.Equal(t, synthetic.Verified, p.Verified)
	assert.Equal(t, synthetic.Receipt, p.Receipt)
	assert.Equal(t, synthetic.Consents[0].By, p.Consents[0].By)
	assert.Equal(t, synthetic.Consents[0].At, p.Consents[0].At)

	kim := drafts[1].Payload.(*allimi.ConsentPayload)
	assert.Empty(t, kim.Lang, "no lang: Korean")
	assert.Equal(t, []allimi.Consent{{Type: allimi.TypeRelief, Channel: allimi.ChannelSMS, Action: allimi.ActionGrant,
		By: allimi.Actor{Kind: allimi.ActorSelf}, At: signupAt}}, kim.Consents)
}

func TestReadPeople_RefusesABadLineNamingItAndTheField(t *testing.T) {
	good := `{"name":"김순자","mobile":"010-2222-3333","birthDate":"1948-05-17","types":["relief"],"channels":["sms"],"lang":"ko"}`
	with := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	for _, tc := range []struct {
		name, line, want string
	}{
		{"unknown type", with(`"relief"`, `"parking"`), `line 2: types[0]: notification type "parking": unknown`},
		{"unknown channel", with(`"sms"]`, `"sms","pigeon"]`), `line 2: channels[1]: channel "pigeon": unknown`},
		{"no channel", with(`"sms"]`, `]`), `line 2: channels: empty`},
		{"a type twice", with(`"relief"]`, `"relief","relief"]`), `line 2: types[1]: "relief" twice`},
		{"bad mobile", with(`010-2222-3333`, `011-2222-3333`), `line 2: mobile: mobile number "011-2222-3333"`},
		{"bad birth date", with(`1948-05-17`, `1948-02-30`), `line 2: birthDate: date of birth "1948-02-30"`},
		{"no name", with(`김순자`, ` `), `line 2: name: empty`},
		{"unknown lang", with(`"ko"`, `"fr"`), `line 2: lang "fr": must be one of ko, en, ja, zh, th, vi`},
		{"unknown field", with(`"lang"`, `"language"`), `line 2: json: unknown field "language"`},
		{"truncated line", good[:40], `line 2: truncated`},
		{"two on a line", good + good, `line 2: more after the JSON object`},
		{"not an object", `[1,2]`, `line 2: json: cannot unmarshal array`},
		{"a list for a string", with(`"ko"`, `["ko"]`), `line 2: json: cannot unmarshal array into Go struct field PersonLine.lang`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drafts, err := loadgen.ReadPeople(strings.NewReader(good+"\n"+tc.line+"\n"+good+"\n"), signupAt)
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
			assert.Nil(t, drafts, "nothing of a file with a bad line")
		})
	}
	_, err := loadgen.ReadPeople(strings.NewReader(good+"\n"+strings.Repeat(" ", loadgen.MaxPeopleLine+1)+"\n"), signupAt)
	assert.ErrorContains(t, err, "line 2: longer than")
}

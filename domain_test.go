package allimi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// domainNow is the fixed "now" of these tests.
var domainNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func TestNormalizeMobile_AcceptsTheUsualForms(t *testing.T) {
	for _, in := range []string{
		"01012345678",
		"010 1234 5678",
		"010-1234-5678",
		"010.1234.5678",
		" 010-1234-5678 ",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := NormalizeMobile(in)
			require.NoError(t, err)
			assert.Equal(t, "010-1234-5678", got)
		})
	}
}

func TestNormalizeMobile_RefusesAndNamesTheInput(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"not 010", "011-1234-5678"},
		{"landline", "02-1234-5678"},
		{"too short", "010-1234-567"},
		{"too long", "010-1234-56789"},
		{"letters", "010-abcd-5678"},
		{"plus sign", "+82-10-1234-5678"},
		{"empty", ""},
		{"only separators", "---"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeMobile(tc.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", tc.in), "the message names the input")
			assert.Empty(t, got)
		})
	}
}

func TestParseBirthDate_AcceptsRealPastDates(t *testing.T) {
	for _, in := range []string{"1950-01-02", "1900-01-01", "2000-02-29", "2024-06-01"} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseBirthDate(in, domainNow)
			require.NoError(t, err)
			assert.Equal(t, in, got.Format(DateLayout))
		})
	}
}

func TestParseBirthDate_Refuses(t *testing.T) {
	for _, tc := range []struct{ name, in, msg string }{
		{"impossible date", "2023-02-30", "YYYY-MM-DD"},
		{"not a leap year", "2023-02-29", "YYYY-MM-DD"},
		{"before 1900", "1899-12-31", "before 1900"},
		{"in the future", "2024-06-02", "in the future"},
		{"far future", "2999-01-01", "in the future"},
		{"day first", "02-01-1950", "YYYY-MM-DD"},
		{"slashes", "1950/01/02", "YYYY-MM-DD"},
		{"no leading zeros", "1950-1-2", "YYYY-MM-DD"},
		{"with a time", "1950-01-02T00:00:00Z", "YYYY-MM-DD"},
		{"empty", "", "YYYY-MM-DD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBirthDate(tc.in, domainNow)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", tc.in))
		})
	}
}

func TestCitizenValidate_NormalisesMobileAndTrimsName(t *testing.T) {
	c := Citizen{Name: "  김철수 ", Mobile: "010 1234 5678", BirthDate: "1950-01-02"}
	require.NoError(t, c.Validate(domainNow))
	assert.Equal(t, Citizen{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}, c)
}

func TestCitizenValidate_AcceptsFiftyCharacterName(t *testing.T) {
	c := Citizen{Name: strings.Repeat("가", 50), Mobile: "01012345678", BirthDate: "1950-01-02"}
	assert.NoError(t, c.Validate(domainNow))
}

func TestCitizenValidate_Refuses(t *testing.T) {
	valid := Citizen{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}
	for _, tc := range []struct {
		name   string
		change func(*Citizen)
		msg    string
	}{
		{"empty name", func(c *Citizen) { c.Name = "" }, "name: empty"},
		{"whitespace name", func(c *Citizen) { c.Name = " \t\u3000 " }, "name: empty"},
		{"tab inside the name", func(c *Citizen) { c.Name = "김\t철수" }, "control character"},
		{"NUL inside the name", func(c *Citizen) { c.Name = "김\x00철수" }, "control character"},
		{"escape inside the name", func(c *Citizen) { c.Name = "김\x1b[31m철수" }, "control character"},
		{"51 characters", func(c *Citizen) { c.Name = strings.Repeat("가", 51) }, "longer than 50"},
		{"bad mobile", func(c *Citizen) { c.Mobile = "011-1234-5678" }, "mobile number"},
		{"empty mobile", func(c *Citizen) { c.Mobile = "" }, "mobile number"},
		{"bad birth date", func(c *Citizen) { c.BirthDate = "2023-02-30" }, "date of birth"},
		{"future birth date", func(c *Citizen) { c.BirthDate = "2030-01-01" }, "in the future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.change(&c)
			err := c.Validate(domainNow)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestCitizen_MaskedName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"김", "*"},
		{"김수", "김*"},
		{"김철수", "김*수"},
		{"남궁민수", "남**수"},
		{"Kim", "K*m"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, Citizen{Name: tc.in}.MaskedName())
		})
	}
}

func TestCitizen_MaskedMobile(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"010-1234-5678", "010-****-5678"},
		{"010-9876-0001", "010-****-0001"},
		{"01012345678", "***"}, // not normalised: nothing is shown
		{"", "***"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, Citizen{Mobile: tc.in}.MaskedMobile())
		})
	}
}

func TestTypes_AreTheTenServiceIDsInOrder(t *testing.T) {
	var ids []NotificationType
	for _, ti := range SignupTypes() {
		ids = append(ids, ti.ID)
	}
	assert.Equal(t, []NotificationType{
		"traffic-penalty",
		"traffic-fine",
		"health-checkup",
		"licence-renewal",
		"school-bus-training",
		"senior-driver-training",
		"welfare-card",
		"vaccination",
		"scholarship",
		"relief",
	}, ids)
}

func TestNotificationType_EveryKnownTypeValidates(t *testing.T) {
	require.Len(t, Types(), 11, "the service's ten and Allimi's new-benefits")
	for _, ti := range Types() {
		t.Run(string(ti.ID), func(t *testing.T) {
			assert.NoError(t, ti.ID.Validate())
			info, ok := ti.ID.Info()
			require.True(t, ok)
			assert.Equal(t, ti.ID, info.ID)
			assert.NotEmpty(t, info.Name)
			assert.True(t, ti.ID.Has(CapNotify), "every type notifies")
		})
	}
}

func TestNotificationType_UnknownRefused(t *testing.T) {
	for _, in := range []NotificationType{"", "parking", "Traffic-Penalty", "traffic_penalty", " relief"} {
		t.Run(string(in), func(t *testing.T) {
			err := in.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", string(in)))
			_, ok := in.Info()
			assert.False(t, ok)
			assert.False(t, in.Has(CapNotify))
		})
	}
}

func TestNotificationType_Capabilities(t *testing.T) {
	for _, tc := range []struct {
		t    NotificationType
		c    Capability
		want bool
	}{
		{TypeTrafficPenalty, CapPay, true},
		{TypeTrafficPenalty, CapAuthenticate, true},
		{TypeTrafficFine, CapAuthenticate, true},
		{TypeTrafficFine, CapPay, false},
		{TypeVaccination, CapPerDose, true},
		{TypeRelief, CapEligibility, true},
		{TypeHealthCheckup, CapPay, false},
		{TypeScholarship, CapEligibility, false},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.t, tc.c), func(t *testing.T) {
			assert.Equal(t, tc.want, tc.t.Has(tc.c))
		})
	}
}

func TestChannels_AreTheFourInOfferOrder(t *testing.T) {
	assert.Equal(t, []Channel{"kakao", "naver", "toss", "sms"}, Channels)
	for _, ch := range Channels {
		assert.NoError(t, ch.Validate(), ch)
	}
}

func TestChannel_UnknownRefused(t *testing.T) {
	for _, in := range []Channel{"", "email", "KAKAO", "line"} {
		t.Run(string(in), func(t *testing.T) {
			err := in.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", string(in)))
		})
	}
}

func TestActorValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    Actor
		msg  string // empty: valid
	}{
		{"self", Actor{Kind: ActorSelf}, ""},
		{"self with official", Actor{Kind: ActorSelf, Official: "official-7"}, "acting for themselves"},
		{"self with method", Actor{Kind: ActorSelf, Method: MethodSpoken}, "acting for themselves"},
		{"official spoken", Actor{Kind: ActorOfficial, Official: "official-7", Method: MethodSpoken}, ""},
		{"official paper", Actor{Kind: ActorOfficial, Official: "official-7", Method: MethodPaper}, ""},
		{"official vaccination", Actor{Kind: ActorOfficial, Official: "official-7", Method: MethodVaccination}, ""},
		{"official without id", Actor{Kind: ActorOfficial, Method: MethodPaper}, "by.official"},
		{"official with blank id", Actor{Kind: ActorOfficial, Official: "  ", Method: MethodPaper}, "by.official"},
		{"official without method", Actor{Kind: ActorOfficial, Official: "official-7"}, "by.method"},
		{"official bad method", Actor{Kind: ActorOfficial, Official: "official-7", Method: "email"}, "by.method"},
		{"central", Actor{Kind: ActorCentral, Official: "official-7"}, ""},
		{"central without id", Actor{Kind: ActorCentral}, "by.official"},
		{"empty kind", Actor{}, "by.kind"},
		{"unknown kind", Actor{Kind: "robot"}, "by.kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.a.Validate()
			if tc.msg == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func validConsent() Consent {
	return Consent{Type: TypeHealthCheckup, Channel: ChannelKakao, Action: ActionGrant,
		By: Actor{Kind: ActorSelf}, At: domainNow}
}

func TestConsentValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Consent)
		msg    string // empty: valid
	}{
		{"grant", func(*Consent) {}, ""},
		{"withdraw", func(c *Consent) { c.Action = ActionWithdraw }, ""},
		{"by an official", func(c *Consent) {
			c.By = Actor{Kind: ActorOfficial, Official: "official-7", Method: MethodPaper}
		}, ""},
		{"unknown type", func(c *Consent) { c.Type = "parking" }, "notification type"},
		{"unknown channel", func(c *Consent) { c.Channel = "email" }, "channel"},
		{"empty action", func(c *Consent) { c.Action = "" }, "action"},
		{"unknown action", func(c *Consent) { c.Action = "pause" }, "action"},
		{"bad actor", func(c *Consent) { c.By = Actor{Kind: ActorOfficial} }, "by.official"},
		{"missing time", func(c *Consent) { c.At = time.Time{} }, "at: missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConsent()
			tc.change(&c)
			err := c.Validate()
			if tc.msg == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestValidateKioskID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"k1", true},
		{"a", true},
		{"seoul-gangnam-01", true},
		{"0", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-k1", false},
		{"K1", false},
		{"k_1", false},
		{"k/1", false},
		{"k+1", false},
		{"k 1", false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			err := ValidateKioskID(tc.id)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func payloadOf(t *testing.T, consents ...Consent) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(ConsentPayload{Consents: consents})
	require.NoError(t, err)
	return b
}

func validEvent(t *testing.T) Event {
	t.Helper()
	return Event{V: EventVersion, Kiosk: "k1", Seq: 1, HLC: NextHLC(0, domainNow), Kind: KindSignup,
		Citizen: Citizen{Name: "김철수", Mobile: "01012345678", BirthDate: "1950-01-02"},
		Payload: payloadOf(t, validConsent())}
}

func TestEventValidate_AcceptsAndNormalisesCitizen(t *testing.T) {
	e := validEvent(t)
	require.NoError(t, e.Validate(domainNow))
	assert.Equal(t, "010-1234-5678", e.Citizen.Mobile)

	p, err := e.Consents()
	require.NoError(t, err)
	assert.Equal(t, []Consent{validConsent()}, sameLocation(p.Consents))
}

// sameLocation puts the consents' times in UTC, as validConsent has them,
// since JSON decoding gives them a fixed zone.
func sameLocation(cs []Consent) []Consent {
	for i := range cs {
		cs[i].At = cs[i].At.UTC()
	}
	return cs
}

func TestEventValidate_AcceptsConsentKind(t *testing.T) {
	e := validEvent(t)
	e.Kind = KindConsent
	assert.NoError(t, e.Validate(domainNow))
}

func TestEventValidate_AcceptsEveryTypeOnEveryChannel(t *testing.T) {
	var all []Consent
	for _, ti := range Types() {
		for _, ch := range Channels {
			c := validConsent()
			c.Type, c.Channel = ti.ID, ch
			all = append(all, c)
		}
	}
	e := validEvent(t)
	e.Payload = payloadOf(t, all...)
	assert.NoError(t, e.Validate(domainNow))
}

func TestEventValidate_WrongVersionIsUnsupported(t *testing.T) {
	for _, v := range []int{0, 2, -1} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			e := validEvent(t)
			e.V = v
			err := e.Validate(domainNow)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnsupportedVersion)
			assert.False(t, errors.Is(err, ErrInvalid))
		})
	}
}

func TestEventValidate_Refuses(t *testing.T) {
	tooMany := make([]Consent, len(Types())*len(Channels)+1)
	for i := range tooMany {
		tooMany[i] = validConsent()
	}
	badSecond := validConsent()
	badSecond.Channel = "email"

	for _, tc := range []struct {
		name   string
		change func(*Event)
		msg    string
	}{
		{"bad kiosk id", func(e *Event) { e.Kiosk = "Kiosk_1" }, "kiosk id"},
		{"empty kiosk id", func(e *Event) { e.Kiosk = "" }, "kiosk id"},
		{"seq 0", func(e *Event) { e.Seq = 0 }, "seq"},
		{"hlc 0", func(e *Event) { e.HLC = 0 }, "hlc"},
		{"empty kind", func(e *Event) { e.Kind = "" }, "kind"},
		{"unknown kind", func(e *Event) { e.Kind = "delete" }, "kind"},
		{"bad citizen", func(e *Event) { e.Citizen.Mobile = "011-1234-5678" }, "citizen: mobile number"},
		{"empty consents", func(e *Event) { e.Payload = payloadOf(t) }, "payload.consents: empty"},
		{"null consents", func(e *Event) { e.Payload = json.RawMessage(`{"consents":null}`) }, "payload.consents: empty"},
		{"too many consents", func(e *Event) { e.Payload = payloadOf(t, tooMany...) }, fmt.Sprintf("%d entries, at most %d", len(Types())*len(Channels)+1, len(Types())*len(Channels))},
		{"bad nested consent", func(e *Event) { e.Payload = payloadOf(t, validConsent(), badSecond) }, "payload.consents[1]: channel"},
		{"malformed payload", func(e *Event) { e.Payload = json.RawMessage(`{"consents":[`) }, "payload"},
		{"payload of the wrong shape", func(e *Event) { e.Payload = json.RawMessage(`{"consents":{}}`) }, "payload"},
		{"missing payload", func(e *Event) { e.Payload = nil }, "payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := validEvent(t)
			tc.change(&e)
			err := e.Validate(domainNow)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestEventValidate_FortyConsentsAccepted(t *testing.T) {
	full := make([]Consent, len(Types())*len(Channels))
	for i := range full {
		full[i] = validConsent()
	}
	e := validEvent(t)
	e.Payload = payloadOf(t, full...)
	assert.NoError(t, e.Validate(domainNow))
}

func TestNextHLC_IsTheWallClockWhenItMovesForward(t *testing.T) {
	h := NextHLC(0, domainNow)
	assert.Equal(t, uint64(domainNow.UnixMilli())<<16, h)
	later := domainNow.Add(time.Millisecond)
	assert.Equal(t, uint64(later.UnixMilli())<<16, NextHLC(h, later))
}

func TestNextHLC_MonotonicWhenTheWallClockStepsBack(t *testing.T) {
	h1 := NextHLC(0, domainNow)
	h2 := NextHLC(h1, domainNow.Add(-time.Hour))
	h3 := NextHLC(h2, domainNow.Add(-2*time.Hour))
	h4 := NextHLC(h3, domainNow) // same millisecond as h1
	assert.Equal(t, h1+1, h2)
	assert.Equal(t, h2+1, h3)
	assert.Equal(t, h3+1, h4)
	// The wall-clock part stays at the latest time seen.
	for _, h := range []uint64{h2, h3, h4} {
		assert.True(t, HLCTime(h).Equal(domainNow), "HLCTime(%d) = %v", h, HLCTime(h))
	}
	h5 := NextHLC(h4, domainNow.Add(time.Second))
	assert.Greater(t, h5, h4)
	assert.True(t, HLCTime(h5).Equal(domainNow.Add(time.Second)))
}

func TestHLCTime_RoundTripsToTheMillisecond(t *testing.T) {
	for _, at := range []time.Time{
		domainNow,
		time.Date(2025, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
		time.Date(2024, 3, 1, 9, 0, 0, 123_456_789, time.FixedZone("KST", 9*3600)),
	} {
		t.Run(at.String(), func(t *testing.T) {
			got := HLCTime(NextHLC(0, at))
			assert.True(t, got.Equal(at.Truncate(time.Millisecond)), "got %v, want %v", got, at)
		})
	}
}

func TestEventValidate_AKioskCannotActAsCentral(t *testing.T) {
	now := time.Now()
	p, err := json.Marshal(ConsentPayload{Consents: []Consent{{Type: TypeRelief, Channel: ChannelSMS, Action: ActionWithdraw,
		By: Actor{Kind: ActorCentral, Official: "someone"}, At: now}}})
	require.NoError(t, err)
	e := Event{V: 1, Kiosk: "k1", Seq: 1, HLC: NextHLC(0, now), Kind: KindConsent,
		Citizen: Citizen{Name: "김영수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}, Payload: p}
	err = e.Validate(now)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "a kiosk cannot act as central")
}

func TestCitizenError_RedactedWithholdsThePersonalData(t *testing.T) {
	now := time.Now()
	for field, c := range map[string]Citizen{
		"mobile number": {Name: "김영수", Mobile: "011-2222-3333", BirthDate: "1950-01-02"},
		"date of birth": {Name: "김영수", Mobile: "010-2222-3333", BirthDate: "1950-02-30"},
		"name":          {Name: " ", Mobile: "010-2222-3333", BirthDate: "1950-01-02"},
	} {
		e := Event{V: 1, Kiosk: "k1", Seq: 1, HLC: NextHLC(0, now), Kind: KindSignup, Citizen: c, Payload: []byte(`{"consents":[]}`)}
		err := e.Validate(now)
		var ce *CitizenError
		require.ErrorAs(t, err, &ce, field)
		assert.Equal(t, "citizen: invalid "+field+" (value withheld: personal data)", ce.Redacted())
		for _, secret := range []string{"011-2222-3333", "1950-02-30", "김영수"} {
			assert.NotContains(t, ce.Redacted(), secret)
		}
	}
}

func TestEventValidate_ProfileOnlyWithANewBenefitsGrant(t *testing.T) {
	base := validEvent(t)
	grant := validConsent()
	grant.Type = TypeNewBenefits
	withProfile := func(p ConsentPayload) Event {
		e := base
		b, err := json.Marshal(p)
		require.NoError(t, err)
		e.Payload = b
		return e
	}
	e := withProfile(ConsentPayload{Consents: []Consent{grant}, Profile: json.RawMessage(`{"age":70}`), Region: "세종"})
	require.NoError(t, e.Validate(domainNow))

	for name, p := range map[string]ConsentPayload{
		"other type":  {Consents: []Consent{validConsent()}, Profile: json.RawMessage(`{"age":70}`)},
		"region only": {Consents: []Consent{validConsent()}, Region: "세종"},
		"too big":     {Consents: []Consent{grant}, Profile: json.RawMessage(`{"x":"` + strings.Repeat("a", MaxProfileSize) + `"}`)},
	} {
		e := withProfile(p)
		err := e.Validate(domainNow)
		assert.ErrorIs(t, err, ErrInvalid, name)
		assert.Contains(t, err.Error(), "payload.profile", name)
	}
	assert.Len(t, SignupTypes(), 10, "the sign-up list has the service's ten types")
	for _, ti := range SignupTypes() {
		assert.NotEqual(t, TypeNewBenefits, ti.ID)
	}
}

func TestLanguages_AreTheKiosksSixWithKoreanFirst(t *testing.T) {
	assert.Equal(t, []string{"ko", "en", "ja", "zh", "th", "vi"}, Languages)
	assert.Equal(t, Languages[0], DefaultLanguage)
	for _, l := range append([]string{""}, Languages...) {
		assert.NoError(t, ValidateLanguage("lang", l), l)
	}
	assert.Equal(t, "ko", LanguageOr(""))
	assert.Equal(t, "th", LanguageOr("th"))
}

// TestEventValidate_SignupLanguage: a sign-up names the kiosk's language
// or none (Korean); anything else is refused with the field and the
// languages allowed, and a record of changes names none.
func TestEventValidate_SignupLanguage(t *testing.T) {
	withLang := func(kind, lang string) Event {
		e := validEvent(t)
		e.Kind = kind
		b, err := json.Marshal(ConsentPayload{Consents: []Consent{validConsent()}, Lang: lang})
		require.NoError(t, err)
		e.Payload = b
		return e
	}
	for _, l := range append([]string{""}, Languages...) {
		e := withLang(KindSignup, l)
		p, err := e.ValidatePayload(domainNow)
		require.NoError(t, err, l)
		assert.Equal(t, l, p.Lang)
	}
	for _, l := range []string{"fr", "KO", "ko-KR", "한국어", " ko"} {
		e := withLang(KindSignup, l)
		err := e.Validate(domainNow)
		require.Error(t, err, l)
		assert.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), "payload.lang")
		assert.Contains(t, err.Error(), "must be one of ko, en, ja, zh, th, vi")
	}
	e := withLang(KindConsent, "en")
	err := e.Validate(domainNow)
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "payload.lang: only a sign-up")
	e = withLang(KindConsent, "")
	assert.NoError(t, e.Validate(domainNow))
}

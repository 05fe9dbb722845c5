package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// KiosksBackend is what the Kiosks suite needs of a store: the interface,
// and a restart (Reopen, as Backend's). A Backend is one, with B Backend;
// so is a store that implements the credentials alone.
type KiosksBackend[B any] interface {
	allimi.Kiosks
	Reopen(t *testing.T) B
}

// AgenciesBackend is what the Agencies suite needs of a store.
type AgenciesBackend[B any] interface {
	allimi.Agencies
	Reopen(t *testing.T) B
}

// OfficialsBackend is what the Officials suite needs of a store.
type OfficialsBackend[B any] interface {
	allimi.Officials
	Reopen(t *testing.T) B
}

// Kiosks checks allimi.Kiosks: broker logins that a new password
// revokes, and one-time enrolment codes that expire, are spent once and
// are refused with the reason.
func Kiosks[B KiosksBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"LoginChecked", kiosksLogin[B]},
		{"NewPasswordRevokesOld", kiosksNewPassword[B]},
		{"EnrolmentSpentOnce", kiosksEnrol[B]},
		{"EnrolmentRefusesBadInput", kiosksEnrolRefuses[B]},
		{"EnrolmentExpires", kiosksEnrolExpires[B]},
		{"Durable", kiosksDurable[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func kiosksLogin[S allimi.Kiosks](t *testing.T, b S) {
	for _, bad := range []string{"", "Kiosk-A", "kiosk a", "kiosk/a", "-kiosk", strings.Repeat("k", 64)} {
		_, err := b.AddKiosk(bad)
		assert.ErrorIs(t, err, allimi.ErrInvalid, "id %q", bad)
	}
	a, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	assert.Equal(t, "kiosk-a", a.ID)
	assert.Equal(t, allimi.KioskUsername("kiosk-a"), a.Username)
	assert.GreaterOrEqual(t, len(a.Password), 16, "a password worth the name")
	other, err := b.AddKiosk("kiosk-b")
	require.NoError(t, err)
	assert.NotEqual(t, a.Password, other.Password)

	id, ok := b.CheckKiosk(a.Username, a.Password)
	assert.True(t, ok)
	assert.Equal(t, "kiosk-a", id)
	for name, c := range map[string]struct{ user, pw string }{
		"wrong password":          {a.Username, a.Password + "x"},
		"empty password":          {a.Username, ""},
		"another kiosk's":         {a.Username, other.Password},
		"the id, not the user":    {"kiosk-a", a.Password},
		"a kiosk never added":     {allimi.KioskUsername("kiosk-c"), a.Password},
		"the user name's prefix":  {"kiosk-", a.Password},
		"the password's own user": {other.Username, a.Password},
	} {
		id, ok := b.CheckKiosk(c.user, c.pw)
		assert.False(t, ok, name)
		assert.Empty(t, id, name)
	}
}

func kiosksNewPassword[S allimi.Kiosks](t *testing.T, b S) {
	old, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	renewed, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	assert.NotEqual(t, old.Password, renewed.Password)
	_, ok := b.CheckKiosk(old.Username, old.Password)
	assert.False(t, ok, "the old password is revoked")
	id, ok := b.CheckKiosk(renewed.Username, renewed.Password)
	assert.True(t, ok)
	assert.Equal(t, "kiosk-a", id)
}

func kiosksEnrol[S allimi.Kiosks](t *testing.T, b S) {
	old, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	before := time.Now()
	code, expires, err := b.AddEnrolment("kiosk-a", 2*time.Hour)
	require.NoError(t, err)
	assert.NotEmpty(t, code)
	assert.WithinDuration(t, before.Add(2*time.Hour), expires, 2*time.Second)
	code2, _, err := b.AddEnrolment("kiosk-b", time.Hour)
	require.NoError(t, err)
	assert.NotEqual(t, code, code2)

	typed := strings.ToLower(strings.ReplaceAll(code, "-", ""))
	cred, err := b.RedeemEnrolment(typed)
	require.NoError(t, err, "the code as a person types it")
	assert.Equal(t, "kiosk-a", cred.ID)
	assert.Equal(t, allimi.KioskUsername("kiosk-a"), cred.Username)
	assert.NotEmpty(t, cred.Password)
	assert.NotEmpty(t, cred.CatalogKey)
	id, ok := b.CheckKiosk(cred.Username, cred.Password)
	assert.True(t, ok)
	assert.Equal(t, "kiosk-a", id)
	_, ok = b.CheckKiosk(old.Username, old.Password)
	assert.False(t, ok, "enrolling again revokes the old password")

	_, err = b.RedeemEnrolment(code)
	assert.ErrorIs(t, err, allimi.ErrEnrolUsed)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	id, ok = b.CheckKiosk(cred.Username, cred.Password)
	assert.True(t, ok, "a refused code changes nothing")
	assert.Equal(t, "kiosk-a", id)

	cred2, err := b.RedeemEnrolment(code2)
	require.NoError(t, err)
	assert.Equal(t, "kiosk-b", cred2.ID, "a kiosk enrolled without being added first")
}

func kiosksEnrolRefuses[S allimi.Kiosks](t *testing.T, b S) {
	for _, ttl := range []time.Duration{0, -time.Hour, 31 * 24 * time.Hour} {
		_, _, err := b.AddEnrolment("kiosk-a", ttl)
		assert.ErrorIs(t, err, allimi.ErrInvalid, "ttl %s", ttl)
	}
	_, _, err := b.AddEnrolment("Kiosk A", time.Hour)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	for _, code := range []string{"", "2345-6789-ABCD", "not a code"} {
		_, err = b.RedeemEnrolment(code)
		assert.ErrorIs(t, err, allimi.ErrEnrolUnknown, "code %q", code)
		assert.ErrorIs(t, err, allimi.ErrNotFound, "code %q", code)
	}
}

func kiosksEnrolExpires[S allimi.Kiosks](t *testing.T, b S) {
	code, expires, err := b.AddEnrolment("kiosk-a", time.Second)
	require.NoError(t, err)
	time.Sleep(time.Until(expires) + 10*time.Millisecond) // the expiry itself is what the test waits for
	_, err = b.RedeemEnrolment(code)
	assert.ErrorIs(t, err, allimi.ErrEnrolExpired)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	_, ok := b.CheckKiosk(allimi.KioskUsername("kiosk-a"), "")
	assert.False(t, ok)
}

func kiosksDurable[B KiosksBackend[B]](t *testing.T, b B) {
	cred, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	code, _, err := b.AddEnrolment("kiosk-b", time.Hour)
	require.NoError(t, err)
	used, _, err := b.AddEnrolment("kiosk-c", time.Hour)
	require.NoError(t, err)
	_, err = b.RedeemEnrolment(used)
	require.NoError(t, err)
	b = b.Reopen(t)
	id, ok := b.CheckKiosk(cred.Username, cred.Password)
	assert.True(t, ok)
	assert.Equal(t, "kiosk-a", id)
	_, err = b.RedeemEnrolment(used)
	assert.ErrorIs(t, err, allimi.ErrEnrolUsed, "spent before the restart")
	got, err := b.RedeemEnrolment(code)
	require.NoError(t, err)
	assert.Equal(t, "kiosk-b", got.ID)
}

// Agencies checks allimi.Agencies: tokens that a new token revokes, and
// policies that outlive a new token and refuse what central cannot check.
func Agencies[B AgenciesBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"TokenChecked", agenciesToken[B]},
		{"NewTokenRevokesOldKeepsPolicy", agenciesNewToken[B]},
		{"PolicyRefusesBadInput", agenciesPolicyRefuses[B]},
		{"Durable", agenciesDurable[B]},
		{"NameKeptWithNewTokens", agenciesName[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func agenciesToken[S allimi.Agencies](t *testing.T, b S) {
	for _, bad := range []string{"", "Police", "police dept", "police/seoul"} {
		_, err := b.AddAgency(bad)
		assert.ErrorIs(t, err, allimi.ErrInvalid, "id %q", bad)
	}
	police, err := b.AddAgency("police")
	require.NoError(t, err)
	assert.Equal(t, "police", police.ID)
	assert.GreaterOrEqual(t, len(police.Token), 16)
	health, err := b.AddAgency("health-centre")
	require.NoError(t, err)
	assert.NotEqual(t, police.Token, health.Token)

	id, ok := b.AgencyByToken(police.Token)
	assert.True(t, ok)
	assert.Equal(t, "police", id)
	id, ok = b.AgencyByToken(health.Token)
	assert.True(t, ok)
	assert.Equal(t, "health-centre", id)
	for _, tok := range []string{"", "police", police.Token + "x", strings.ToUpper(police.Token)} {
		id, ok := b.AgencyByToken(tok)
		assert.False(t, ok, "token %q", tok)
		assert.Empty(t, id)
	}
	p, err := b.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.False(t, p.Restricted(), "a new agency is unrestricted until a policy says otherwise")
}

func agenciesNewToken[S allimi.Agencies](t *testing.T, b S) {
	old, err := b.AddAgency("police")
	require.NoError(t, err)
	require.NoError(t, b.SetAgencyPolicy("police", allimi.AgencyPolicy{
		Types: []allimi.NotificationType{allimi.TypeTrafficFine}, PaymentHosts: []string{"Pay.Police.go.kr"}}))
	p, err := b.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.Equal(t, []allimi.NotificationType{allimi.TypeTrafficFine}, p.Types)
	assert.Equal(t, []string{"pay.police.go.kr"}, p.PaymentHosts, "hosts in lower case, as Permits compares them")

	renewed, err := b.AddAgency("police")
	require.NoError(t, err)
	assert.NotEqual(t, old.Token, renewed.Token)
	_, ok := b.AgencyByToken(old.Token)
	assert.False(t, ok, "the old token is revoked")
	id, ok := b.AgencyByToken(renewed.Token)
	assert.True(t, ok)
	assert.Equal(t, "police", id)
	again, err := b.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.Equal(t, p, again, "a new token keeps the policy")

	require.NoError(t, b.SetAgencyPolicy("police", allimi.AgencyPolicy{}))
	p, err = b.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.False(t, p.Restricted(), "a policy is replaced, not merged")
	id, ok = b.AgencyByToken(renewed.Token)
	assert.True(t, ok, "a policy leaves the token alone")
	assert.Equal(t, "police", id)
}

func agenciesPolicyRefuses[S allimi.Agencies](t *testing.T, b S) {
	ok := allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeTrafficFine}}
	assert.ErrorIs(t, b.SetAgencyPolicy("police", ok), allimi.ErrNotFound, "an agency never added")
	_, err := b.AgencyPolicyOf("police")
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	_, err = b.AddAgency("police")
	require.NoError(t, err)
	require.NoError(t, b.SetAgencyPolicy("police", ok))
	for name, p := range map[string]allimi.AgencyPolicy{
		"unknown type":   {Types: []allimi.NotificationType{"parking-ticket"}},
		"URL, not host":  {Types: ok.Types, PaymentHosts: []string{"https://pay.police.go.kr"}},
		"host and port":  {Types: ok.Types, PaymentHosts: []string{"pay.police.go.kr:8443"}},
		"wildcard":       {Types: ok.Types, PaymentHosts: []string{"*.police.go.kr"}},
		"host with path": {Types: ok.Types, PaymentHosts: []string{"pay.police.go.kr/fines"}},
		"empty host":     {Types: ok.Types, PaymentHosts: []string{""}},
	} {
		assert.ErrorIs(t, b.SetAgencyPolicy("police", p), allimi.ErrInvalid, name)
	}
	got, err := b.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.Equal(t, ok.Types, got.Types, "a refused policy changes nothing")
	assert.Empty(t, got.PaymentHosts)
}

func agenciesDurable[B AgenciesBackend[B]](t *testing.T, b B) {
	cred, err := b.AddAgency("police")
	require.NoError(t, err)
	p := allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeTrafficFine, allimi.TypeTrafficPenalty}, PaymentHosts: []string{"pay.police.go.kr"}}
	require.NoError(t, b.SetAgencyPolicy("police", p))
	b = b.Reopen(t)
	id, ok := b.AgencyByToken(cred.Token)
	assert.True(t, ok)
	assert.Equal(t, "police", id)
	got, err := b.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.Equal(t, p, got)
}

// An agency's name as people read it: none until set, kept when its token
// is renewed and across a restart; a bad name or an unknown agency changes
// nothing.
func agenciesName[B AgenciesBackend[B]](t *testing.T, b B) {
	_, err := b.AddAgency("police")
	require.NoError(t, err)
	name, err := b.AgencyName("police")
	require.NoError(t, err)
	assert.Empty(t, name)
	require.NoError(t, b.SetAgencyName("police", " 경찰청 "))
	for _, bad := range []string{"", "   ", strings.Repeat("가", 51), "경찰\n청"} {
		assert.ErrorIs(t, b.SetAgencyName("police", bad), allimi.ErrInvalid, "%q", bad)
	}
	assert.ErrorIs(t, b.SetAgencyName("nobody", "누구"), allimi.ErrNotFound)
	_, err = b.AgencyName("nobody")
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	_, err = b.AddAgency("police") // a new token
	require.NoError(t, err)
	b = b.Reopen(t)
	name, err = b.AgencyName("police")
	require.NoError(t, err)
	assert.Equal(t, "경찰청", name)
}

// Officials checks allimi.Officials: tokens that a rotation revokes, and
// browser sessions that expire, end when signed out or when the token
// changes, and survive a restart.
func Officials[B OfficialsBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"TokenChecked", officialsToken[B]},
		{"AddingTwiceNeedsRotate", officialsTwice[B]},
		{"RotationRevokesOld", officialsRotate[B]},
		{"SessionLivesUntilExpiry", officialsSession[B]},
		{"SessionEnds", officialsSessionEnds[B]},
		{"RotationEndsSessions", officialsRotationEndsSessions[B]},
		{"Durable", officialsDurable[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func officialByToken(t *testing.T, b allimi.Officials, tok string) string {
	t.Helper()
	id, err := b.OfficialByToken(tok)
	require.NoError(t, err)
	return id
}

func officialCheck(t *testing.T, b allimi.Officials, id, tok string) bool {
	t.Helper()
	ok, err := b.OfficialCheck(id, tok)
	require.NoError(t, err)
	return ok
}

func officialsToken[S allimi.Officials](t *testing.T, b S) {
	for _, bad := range []string{"", "Officer", "officer kim", "officer/kim", ".kim", strings.Repeat("k", 64)} {
		_, err := b.AddOfficial(bad, false)
		assert.ErrorIs(t, err, allimi.ErrInvalid, "id %q", bad)
	}
	kimCred, err := b.AddOfficial("officer.kim_1", false)
	require.NoError(t, err)
	assert.Equal(t, "officer.kim_1", kimCred.ID)
	assert.GreaterOrEqual(t, len(kimCred.Token), 16)
	leeCred, err := b.AddOfficial("officer-lee", false)
	require.NoError(t, err)
	assert.NotEqual(t, kimCred.Token, leeCred.Token)

	assert.Equal(t, "officer.kim_1", officialByToken(t, b, kimCred.Token))
	assert.Equal(t, "officer-lee", officialByToken(t, b, leeCred.Token))
	assert.Empty(t, officialByToken(t, b, ""))
	assert.Empty(t, officialByToken(t, b, kimCred.Token+"x"))
	assert.True(t, officialCheck(t, b, "officer.kim_1", kimCred.Token))
	assert.False(t, officialCheck(t, b, "officer-lee", kimCred.Token), "another official's token")
	assert.False(t, officialCheck(t, b, "officer.kim_1", leeCred.Token))
	assert.False(t, officialCheck(t, b, "officer.kim_1", ""))
	assert.False(t, officialCheck(t, b, "", ""))
}

func officialsTwice[S allimi.Officials](t *testing.T, b S) {
	first, err := b.AddOfficial("officer-kim", false)
	require.NoError(t, err)
	_, err = b.AddOfficial("officer-kim", false)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	assert.True(t, officialCheck(t, b, "officer-kim", first.Token), "the refused add changed nothing")
}

func officialsRotate[S allimi.Officials](t *testing.T, b S) {
	first, err := b.AddOfficial("officer-kim", false)
	require.NoError(t, err)
	rotated, err := b.AddOfficial("officer-kim", true)
	require.NoError(t, err)
	assert.NotEqual(t, first.Token, rotated.Token)
	assert.Empty(t, officialByToken(t, b, first.Token), "the old token is revoked")
	assert.False(t, officialCheck(t, b, "officer-kim", first.Token))
	assert.True(t, officialCheck(t, b, "officer-kim", rotated.Token))
	fresh, err := b.AddOfficial("officer-lee", true)
	require.NoError(t, err, "rotate on a new official adds them")
	assert.True(t, officialCheck(t, b, "officer-lee", fresh.Token))
}

func officialBySession(t *testing.T, b allimi.Officials, id string, now time.Time) string {
	t.Helper()
	o, err := b.OfficialBySession(id, now)
	require.NoError(t, err)
	return o
}

func officialsSession[S allimi.Officials](t *testing.T, b S) {
	now := time.Now()
	_, _, err := b.StartOfficialSession("officer-kim", now)
	assert.ErrorIs(t, err, allimi.ErrNotFound, "an official never added")
	_, err = b.AddOfficial("officer-kim", false)
	require.NoError(t, err)
	id, expires, err := b.StartOfficialSession("officer-kim", now)
	require.NoError(t, err)
	assert.NotEmpty(t, id)
	assert.True(t, expires.After(now), "expires %s, started %s", expires, now)
	other, _, err := b.StartOfficialSession("officer-kim", now)
	require.NoError(t, err)
	assert.NotEqual(t, id, other, "each session its own id")

	assert.Equal(t, "officer-kim", officialBySession(t, b, id, now))
	assert.Equal(t, "officer-kim", officialBySession(t, b, id, expires.Add(-time.Second)))
	assert.Empty(t, officialBySession(t, b, id, expires), "expired")
	assert.Empty(t, officialBySession(t, b, id, expires.Add(time.Hour)))
	assert.Empty(t, officialBySession(t, b, "", now))
	assert.Empty(t, officialBySession(t, b, id+"x", now), "an unknown session")
}

func officialsSessionEnds[S allimi.Officials](t *testing.T, b S) {
	_, err := b.AddOfficial("officer-kim", false)
	require.NoError(t, err)
	now := time.Now()
	id, _, err := b.StartOfficialSession("officer-kim", now)
	require.NoError(t, err)
	other, _, err := b.StartOfficialSession("officer-kim", now)
	require.NoError(t, err)
	require.NoError(t, b.EndOfficialSession(id))
	assert.Empty(t, officialBySession(t, b, id, now), "signed out")
	assert.Equal(t, "officer-kim", officialBySession(t, b, other, now), "the other session stays")
	assert.NoError(t, b.EndOfficialSession(id), "ending it again")
	assert.NoError(t, b.EndOfficialSession("no such session"))
}

func officialsRotationEndsSessions[S allimi.Officials](t *testing.T, b S) {
	_, err := b.AddOfficial("officer-kim", false)
	require.NoError(t, err)
	_, err = b.AddOfficial("officer-lee", false)
	require.NoError(t, err)
	now := time.Now()
	kimSession, _, err := b.StartOfficialSession("officer-kim", now)
	require.NoError(t, err)
	leeSession, _, err := b.StartOfficialSession("officer-lee", now)
	require.NoError(t, err)
	_, err = b.AddOfficial("officer-kim", true)
	require.NoError(t, err)
	assert.Empty(t, officialBySession(t, b, kimSession, now), "a new token ends the old one's sessions")
	assert.Equal(t, "officer-lee", officialBySession(t, b, leeSession, now), "another official's session stays")
	fresh, _, err := b.StartOfficialSession("officer-kim", now)
	require.NoError(t, err)
	assert.Equal(t, "officer-kim", officialBySession(t, b, fresh, now), "a session started after the rotation")
}

func officialsDurable[B OfficialsBackend[B]](t *testing.T, b B) {
	cred, err := b.AddOfficial("officer-kim", false)
	require.NoError(t, err)
	now := time.Now()
	id, _, err := b.StartOfficialSession("officer-kim", now)
	require.NoError(t, err)
	ended, _, err := b.StartOfficialSession("officer-kim", now)
	require.NoError(t, err)
	require.NoError(t, b.EndOfficialSession(ended))
	b = b.Reopen(t)
	assert.True(t, officialCheck(t, b, "officer-kim", cred.Token))
	assert.Equal(t, "officer-kim", officialBySession(t, b, id, now), "sessions outlive a restart")
	assert.Empty(t, officialBySession(t, b, ended, now), "and so does signing out")
}

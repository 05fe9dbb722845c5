package kioskcentral

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/kiosk"
	"allimi/kiosk/kiosktest"
	"allimi/sync/uplink"
)

// The flows below walk the kiosk by tapping its widgets with Fyne's test
// driver, against a real central (embedded MQTT broker, bbolt store, HTTP
// API) started in the test, and a real outbox and sender.

// spellOut is how the kiosk reads a receipt code aloud: one character at
// a time.
func spellOut(code string) string {
	return strings.Join(strings.Split(strings.ReplaceAll(code, "-", ""), ""), " ")
}

func TestFlow_SelfSignupReachesCentral(t *testing.T) {
	c := newCentral(t, "kiosk-a")
	c.Start()
	ks := startKioskSync(t, c)
	k := kiosktest.New(t, ks.options(c))

	types := []allimi.NotificationType{allimi.TypeHealthCheckup, allimi.TypeRelief}
	// SMS is chosen from the start; the person adds KakaoTalk.
	signUpSelf(t, k, "김영희", "01012345678", types, []allimi.Channel{allimi.ChannelKakao})
	// The consent notice names the types and channels chosen, in the
	// order the kiosk lists them.
	sep := k.UI.T("consent.list_sep")
	k.RequireShows(k.UI.T("consent.body",
		"types", k.TypeName(allimi.TypeHealthCheckup)+sep+k.TypeName(allimi.TypeRelief),
		"channels", k.ChannelName(allimi.ChannelKakao)+sep+k.ChannelName(allimi.ChannelSMS)))
	k.Tap("consent.agree")
	k.RequireScreen("signup-done")

	evs := ks.spy.Events()
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, allimi.KindSignup, e.Kind)
	assert.Equal(t, allimi.Citizen{Name: "김영희", Mobile: "010-1234-5678", BirthDate: "1948-05-17"}, e.Citizen)
	p, err := e.Consents()
	require.NoError(t, err)
	assert.False(t, p.Verified, "no verifier: unverified")
	assert.Len(t, p.Consents, 4, "two types on two channels")
	for _, cs := range p.Consents {
		assert.Equal(t, allimi.Actor{Kind: allimi.ActorSelf}, cs.By)
		assert.Equal(t, allimi.ActionGrant, cs.Action)
	}
	// The receipt shows the random code the record carries (central indexes
	// the sign-up under it), and the QR holds only the code.
	code := p.Receipt
	assert.True(t, allimi.IsRandomReceiptCode(code), "a drawn code, XXXX-XXXX-XXXX: %q", code)
	assert.NotEqual(t, kiosk.ReceiptCode(e.Kiosk, e.Seq), code, "not the code anyone can compute from the kiosk and seq")
	k.RequireShows(code)
	assert.Contains(t, k.UI.ReadAloudText(), spellOut(code))

	ks.waitDelivered(t, c)
	st := c.stats()
	assert.EqualValues(t, 1, st.Records.Stored)
	for _, ty := range types {
		assert.EqualValues(t, 1, st.Active[string(ty)]["kakao"], "%s on kakao", ty)
		assert.EqualValues(t, 1, st.Active[string(ty)]["sms"], "%s on sms", ty)
	}

	// Finishing clears the session for the next person.
	k.Tap("done.finish")
	k.RequireScreen("home")
	assert.True(t, k.UI.Session().Empty())
}

func TestFlow_OfflineSignupIsDeliveredWhenCentralComesBack(t *testing.T) {
	c := newCentral(t, "kiosk-off")
	ks := startKioskSync(t, c) // central is not running: the broker port is closed
	k := kiosktest.New(t, ks.options(c))

	signUpSelf(t, k, "이순자", "010 2222 3333", []allimi.NotificationType{allimi.TypeVaccination}, nil)
	k.Tap("consent.agree")
	// The person is never kept waiting for the network.
	k.RequireScreen("signup-done")
	st, err := ks.outbox.State()
	require.NoError(t, err)
	assert.Equal(t, 1, st.Pending, "the sign-up waits in the outbox")
	assert.False(t, ks.sender.Status().Connected)

	c.Start()
	ks.waitDelivered(t, c)
	stats := c.stats()
	assert.EqualValues(t, 1, stats.Records.Stored)
	assert.EqualValues(t, 1, stats.Active[string(allimi.TypeVaccination)]["sms"])
}

func TestFlow_AssistedSignupRecordsOfficialAndMethod(t *testing.T) {
	c := newCentral(t, "kiosk-b")
	c.Start()
	ks := startKioskSync(t, c)
	k := kiosktest.New(t, ks.options(c))

	signInStaff(k)
	k.Tap("staff.assisted")
	k.RequireShows(k.UI.T("who.staff_note", "name", "박주무관"))
	k.FillWho("최민수", "010-5555-6666", 1950, 1, 2)
	k.Tap("nav.next")
	k.TapCard(k.TypeName(allimi.TypeWelfareCard))
	k.Tap("nav.next")
	k.Tap("nav.next") // SMS only
	k.RequireScreen("signup-consent")

	// An official must say how consent was taken.
	k.Tap("consent.agree")
	k.RequireShows(k.UI.T("err.method_none"))
	assert.Empty(t, ks.spy.Events())
	k.TapCard(k.UI.T("consent.method_paper"))
	k.Tap("consent.agree")
	k.RequireScreen("signup-done")

	evs := ks.spy.Events()
	require.Len(t, evs, 1)
	p, err := evs[0].Consents()
	require.NoError(t, err)
	require.Len(t, p.Consents, 1)
	assert.Equal(t, allimi.Actor{Kind: allimi.ActorOfficial, Official: "official-07", Method: allimi.MethodPaper}, p.Consents[0].By)
	ks.waitDelivered(t, c)
	assert.EqualValues(t, 1, c.stats().Active[string(allimi.TypeWelfareCard)]["sms"])

	// Back to the staff menu, still signed in; today's list shows the
	// sign-up masked.
	k.Tap("done.finish")
	k.RequireScreen("staff-menu")
	k.Tap("staff.today")
	var shown string
	for _, s := range k.ShownText() {
		shown += s + "\n"
	}
	assert.Contains(t, shown, "최*수")
	assert.Contains(t, shown, "010-****-6666")
	assert.NotContains(t, shown, "최민수", "staff list holds masked names only")
	assert.NotContains(t, shown, "5555")
}

func TestFlow_StaffWithdrawsConsent(t *testing.T) {
	c := newCentral(t, "kiosk-c")
	c.Start()
	ks := startKioskSync(t, c)
	k := kiosktest.New(t, ks.options(c))

	signUpSelf(t, k, "정호영", "010-7777-8888", []allimi.NotificationType{allimi.TypeScholarship}, []allimi.Channel{allimi.ChannelNaver})
	k.Tap("consent.agree")
	k.Tap("done.finish")
	ks.waitDelivered(t, c)
	require.EqualValues(t, 1, c.stats().Active[string(allimi.TypeScholarship)]["naver"])

	signInStaff(k)
	k.Tap("staff.withdraw")
	k.RequireScreen("staff-withdraw")
	k.TypeInto("who.name_hint", "정호영")
	k.TypeInto("who.mobile_hint", "01077778888")
	k.SetBirth(1948, 5, 17)
	k.Tap("nav.next")
	k.RequireScreen("staff-withdraw-confirm")
	k.TapCard(k.UI.T("consent.method_spoken"))
	k.Tap("withdraw.confirm")
	k.RequireScreen("staff-withdraw-done")

	evs := ks.spy.Events()
	require.Len(t, evs, 2)
	assert.Equal(t, allimi.KindConsent, evs[1].Kind)
	ks.waitDelivered(t, c)
	st := c.stats()
	assert.EqualValues(t, 0, st.Active[string(allimi.TypeScholarship)]["naver"], "withdrawn")
	assert.EqualValues(t, 0, st.Active[string(allimi.TypeScholarship)]["sms"], "withdrawn")
	assert.EqualValues(t, 2, st.Records.Stored)
}

func TestFlow_SyncHealthShowsOutboxAndConnection(t *testing.T) {
	c := newCentral(t, "kiosk-d")
	ks := startKioskSync(t, c) // offline
	k := kiosktest.New(t, ks.options(c))

	signUpSelf(t, k, "한미숙", "010-1111-2222", []allimi.NotificationType{allimi.TypeRelief}, nil)
	k.Tap("consent.agree")
	k.Tap("done.finish")
	signInStaff(k)
	k.Tap("staff.sync")
	k.RequireScreen("staff-sync")
	text := k.UI.ReadAloudText()
	assert.Contains(t, text, k.UI.T("sync.pending")+": 1")
	assert.Contains(t, text, k.UI.T("sync.broker")+": "+k.UI.T("sync.disconnected"))

	c.Start()
	ks.waitDelivered(t, c)
	k.Tap("sync.refresh")
	text = k.UI.ReadAloudText()
	assert.Contains(t, text, k.UI.T("sync.pending")+": 0")
	assert.Contains(t, text, k.UI.T("sync.last_ack")+": 1")
}

// TestFlow_OfflineVerificationWithTheRealClient: with central down, the
// real request client (uplink.Central) fails at once and the sign-up goes
// on unverified; it reaches central when central is back.
func TestFlow_OfflineVerificationWithTheRealClient(t *testing.T) {
	c := newCentral(t, "kiosk-v")
	ks := startKioskSync(t, c)
	opt := ks.options(c)
	ask := uplink.NewCentral(ks.sender)
	opt.Verifier, opt.Conflicts = ask, ask
	k := kiosktest.New(t, opt)

	signUpSelf(t, k, "문영수", "010-9999-0000", []allimi.NotificationType{allimi.TypeTrafficFine}, nil)
	k.Tap("consent.agree")
	k.RequireScreen("signup-done")
	k.RequireShows(k.UI.T("done.unverified"))
	evs := ks.spy.Events()
	require.Len(t, evs, 1)
	p, err := evs[0].Consents()
	require.NoError(t, err)
	assert.False(t, p.Verified)

	k.Tap("done.finish")
	signInStaff(k)
	k.Tap("staff.conflicts")
	k.RequireShows(k.UI.T("conflict.unavailable"))

	c.Start()
	ks.waitDelivered(t, c)
	assert.EqualValues(t, 1, c.stats().Active[string(allimi.TypeTrafficFine)]["sms"])

	// Online, the conflict list comes from central over MQTT: none here.
	k.Tap("nav.back")
	k.Tap("staff.conflicts")
	k.RequireShows(k.UI.T("conflict.empty"))
}

// TestFlow_SignupInThaiIsKeptInThai: a person who chose Thai on the home
// screen signs up; the record names Thai and central keeps it with them.
func TestFlow_SignupInThaiIsKeptInThai(t *testing.T) {
	c := newCentral(t, "kiosk-a")
	c.Start()
	ks := startKioskSync(t, c)
	k := kiosktest.New(t, ks.options(c))
	pr := k.UI.Prefs()
	pr.Lang = kiosk.LangTh
	k.UI.SetPrefs(pr)

	signUpSelf(t, k, "Somchai Jaidee", "01023456789", []allimi.NotificationType{allimi.TypeVaccination}, nil)
	k.Tap("consent.agree")
	k.RequireScreen("signup-done")
	evs := ks.spy.Events()
	require.Len(t, evs, 1)
	p, err := evs[0].Consents()
	require.NoError(t, err)
	assert.Equal(t, "th", p.Lang)
	ks.waitDelivered(t, c)

	require.NoError(t, c.Server.Close())
	c.Store(func(st *bolt.Store, _ *keyring.Keys) {
		lang, found, err := st.LanguageOf("010-2345-6789", "1948-05-17")
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, "th", lang)
	})
}

package kiosk

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/internal/testaddr"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
)

// The flows below walk the kiosk by tapping its widgets with Fyne's test
// driver, against a real central (embedded MQTT broker, bbolt store, HTTP
// API) started in the test, and a real outbox and sender.

// testCentral is central's data directory, the kiosk's credentials and,
// once started, the running server.
type testCentral struct {
	t    *testing.T
	data string
	mqtt string // host:port of the embedded broker
	cred allimi.KioskCredentials
	srv  *central.Server
}

// newCentral registers kiosk id in a fresh central data directory (central
// must be stopped for that) without starting it.
func newCentral(t *testing.T, id string) *testCentral {
	t.Helper()
	c := &testCentral{t: t, data: t.TempDir(), mqtt: testaddr.Free(t)}
	st, _, err := bolt.OpenData(c.data, bolt.StoreOptions{})
	require.NoError(t, err)
	c.cred, err = st.AddKiosk(id)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	return c
}

func (c *testCentral) start() {
	c.t.Helper()
	cfg := central.DefaultConfig()
	cfg.Data, cfg.MQTT, cfg.HTTP = c.data, c.mqtt, "127.0.0.1:0"
	cfg.Logger = quietLogger()
	srv, err := central.Start(context.Background(), cfg)
	require.NoError(c.t, err)
	c.srv = srv
	c.t.Cleanup(func() { srv.Close() })
}

func (c *testCentral) stats() allimi.RegistryStats {
	c.t.Helper()
	keys, err := keyring.Load(c.data)
	require.NoError(c.t, err)
	req, err := http.NewRequest(http.MethodGet, "http://"+c.srv.HTTPAddr()+"/api/v1/stats", nil)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+keys.AdminToken) // the statistics are staff-only
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	var st allimi.RegistryStats
	require.NoError(c.t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// kioskSync is a kiosk's real outbox and sender, connected to c's broker.
type kioskSync struct {
	outbox *outbox.Outbox
	sender *uplink.Sender
	spy    *spyRecorder
	today  *BoltToday
}

func startKioskSync(t *testing.T, c *testCentral) *kioskSync {
	t.Helper()
	db, err := outbox.OpenDB(filepath.Join(t.TempDir(), "kiosk"))
	require.NoError(t, err)
	ob, err := outbox.Open(db, c.cred.ID)
	require.NoError(t, err)
	today, err := OpenBoltToday(db)
	require.NoError(t, err)
	s := uplink.NewSender(uplink.Config{
		Conn:   transport.Conn{Broker: "tcp://" + c.mqtt, Username: c.cred.Username, Password: c.cred.Password},
		Logger: quietLogger(),
	}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		db.Close()
	})
	return &kioskSync{outbox: ob, sender: s, spy: &spyRecorder{inner: ob}, today: today}
}

func (ks *kioskSync) options(c *testCentral) Options {
	return Options{
		Config:   Config{ID: c.cred.ID, Staff: []StaffMember{{ID: "official-07", Name: "박주무관", PINHash: testPINHash}}},
		Recorder: ks.spy,
		Health:   SyncHealth{Outbox: ks.outbox, Sender: ks.sender},
		Today:    ks.today,
	}
}

// waitDelivered waits until central has acknowledged everything the kiosk
// wrote: the outbox is empty, and central's high-water mark is the last seq.
func (ks *kioskSync) waitDelivered(t *testing.T, c *testCentral) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, ks.sender.WaitDrained(ctx), "outbox not drained")
	st, err := ks.outbox.State()
	require.NoError(t, err)
	hw, err := c.srv.HW(c.cred.ID)
	require.NoError(t, err)
	assert.Equal(t, st.LastSeq, hw, "central's high-water mark")
}

// testPINHash is the hash of PIN 2468 at bcrypt's lowest cost, to keep the
// tests fast; the kiosk accepts any cost.
var testPINHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("2468"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// signUpSelf walks the wizard as a person: who, what, where, consent.
func signUpSelf(k *kioskUnderTest, name, mobile string, types []allimi.NotificationType, channels []allimi.Channel) {
	k.t.Helper()
	k.tap("home.notify")
	k.fillWho(name, mobile, 1948, 5, 17)
	k.tap("nav.next")
	k.requireScreen("signup-types")
	for _, ty := range types {
		k.tapCard(k.ui.T(typeKey(ty, "name")))
	}
	k.tap("nav.next")
	k.requireScreen("signup-channels")
	for _, ch := range channels {
		k.tapCard(k.ui.T(channelKey(ch, "name")))
	}
	k.tap("nav.next")
	k.requireScreen("signup-consent")
}

func TestFlow_SelfSignupReachesCentral(t *testing.T) {
	c := newCentral(t, "kiosk-a")
	c.start()
	ks := startKioskSync(t, c)
	k := newKiosk(t, ks.options(c))

	types := []allimi.NotificationType{allimi.TypeHealthCheckup, allimi.TypeRelief}
	// SMS is chosen from the start; the person adds KakaoTalk.
	signUpSelf(k, "김영희", "01012345678", types, []allimi.Channel{allimi.ChannelKakao})
	k.requireShows(k.ui.consentText(k.ui.session))
	k.tap("consent.agree")
	k.requireScreen("signup-done")

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
	assert.NotEqual(t, ReceiptCode(e.Kiosk, e.Seq), code, "not the code anyone can compute from the kiosk and seq")
	k.requireShows(code)
	assert.Contains(t, k.ui.ReadAloudText(), spellOut(code))

	ks.waitDelivered(t, c)
	st := c.stats()
	assert.EqualValues(t, 1, st.Records.Stored)
	for _, ty := range types {
		assert.EqualValues(t, 1, st.Active[string(ty)]["kakao"], "%s on kakao", ty)
		assert.EqualValues(t, 1, st.Active[string(ty)]["sms"], "%s on sms", ty)
	}

	// Finishing clears the session for the next person.
	k.tap("done.finish")
	k.requireScreen("home")
	assert.True(t, k.ui.session.Empty())
}

func TestFlow_OfflineSignupIsDeliveredWhenCentralComesBack(t *testing.T) {
	c := newCentral(t, "kiosk-off")
	ks := startKioskSync(t, c) // central is not running: the broker port is closed
	k := newKiosk(t, ks.options(c))

	signUpSelf(k, "이순자", "010 2222 3333", []allimi.NotificationType{allimi.TypeVaccination}, nil)
	k.tap("consent.agree")
	// The person is never kept waiting for the network.
	k.requireScreen("signup-done")
	st, err := ks.outbox.State()
	require.NoError(t, err)
	assert.Equal(t, 1, st.Pending, "the sign-up waits in the outbox")
	assert.False(t, ks.sender.Status().Connected)

	c.start()
	ks.waitDelivered(t, c)
	stats := c.stats()
	assert.EqualValues(t, 1, stats.Records.Stored)
	assert.EqualValues(t, 1, stats.Active[string(allimi.TypeVaccination)]["sms"])
}

// signInStaff opens staff mode with the test PIN.
func signInStaff(k *kioskUnderTest) {
	k.t.Helper()
	k.tap("home.staff")
	k.requireScreen("staff-pin")
	for _, d := range "2468" {
		k.tapText(string(d))
	}
	k.tap("staff.ok")
	k.requireScreen("staff-menu")
}

func TestFlow_AssistedSignupRecordsOfficialAndMethod(t *testing.T) {
	c := newCentral(t, "kiosk-b")
	c.start()
	ks := startKioskSync(t, c)
	k := newKiosk(t, ks.options(c))

	signInStaff(k)
	k.tap("staff.assisted")
	k.requireShows(k.ui.T("who.staff_note", "name", "박주무관"))
	k.fillWho("최민수", "010-5555-6666", 1950, 1, 2)
	k.tap("nav.next")
	k.tapCard(k.ui.T(typeKey(allimi.TypeWelfareCard, "name")))
	k.tap("nav.next")
	k.tap("nav.next") // SMS only
	k.requireScreen("signup-consent")

	// An official must say how consent was taken.
	k.tap("consent.agree")
	k.requireShows(k.ui.T("err.method_none"))
	assert.Empty(t, ks.spy.Events())
	k.tapCard(k.ui.T("consent.method_paper"))
	k.tap("consent.agree")
	k.requireScreen("signup-done")

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
	k.tap("done.finish")
	k.requireScreen("staff-menu")
	k.tap("staff.today")
	var shown string
	for _, s := range k.shownText() {
		shown += s + "\n"
	}
	assert.Contains(t, shown, "최*수")
	assert.Contains(t, shown, "010-****-6666")
	assert.NotContains(t, shown, "최민수", "staff list holds masked names only")
	assert.NotContains(t, shown, "5555")
}

func TestFlow_StaffWithdrawsConsent(t *testing.T) {
	c := newCentral(t, "kiosk-c")
	c.start()
	ks := startKioskSync(t, c)
	k := newKiosk(t, ks.options(c))

	signUpSelf(k, "정호영", "010-7777-8888", []allimi.NotificationType{allimi.TypeScholarship}, []allimi.Channel{allimi.ChannelNaver})
	k.tap("consent.agree")
	k.tap("done.finish")
	ks.waitDelivered(t, c)
	require.EqualValues(t, 1, c.stats().Active[string(allimi.TypeScholarship)]["naver"])

	signInStaff(k)
	k.tap("staff.withdraw")
	k.requireScreen("staff-withdraw")
	k.typeInto("who.name_hint", "정호영")
	k.typeInto("who.mobile_hint", "01077778888")
	k.setBirth(1948, 5, 17)
	k.tap("nav.next")
	k.requireScreen("staff-withdraw-confirm")
	k.tapCard(k.ui.T("consent.method_spoken"))
	k.tap("withdraw.confirm")
	k.requireScreen("staff-withdraw-done")

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
	k := newKiosk(t, ks.options(c))

	signUpSelf(k, "한미숙", "010-1111-2222", []allimi.NotificationType{allimi.TypeRelief}, nil)
	k.tap("consent.agree")
	k.tap("done.finish")
	signInStaff(k)
	k.tap("staff.sync")
	k.requireScreen("staff-sync")
	text := k.ui.ReadAloudText()
	assert.Contains(t, text, k.ui.T("sync.pending")+": 1")
	assert.Contains(t, text, k.ui.T("sync.broker")+": "+k.ui.T("sync.disconnected"))

	c.start()
	ks.waitDelivered(t, c)
	k.tap("sync.refresh")
	text = k.ui.ReadAloudText()
	assert.Contains(t, text, k.ui.T("sync.pending")+": 0")
	assert.Contains(t, text, k.ui.T("sync.last_ack")+": 1")
}

func TestFlow_DoubleTapOnAgreeStoresOneRecord(t *testing.T) {
	rec := &MemoryRecorder{Kiosk: "k1"}
	k := newKiosk(t, Options{Recorder: rec})
	signUpSelf(k, "김두번", "010-3333-4444", []allimi.NotificationType{allimi.TypeHealthCheckup}, nil)
	agree := k.buttons(k.ui.T("consent.agree"))
	require.Len(t, agree, 1)
	tapTwice(agree[0])
	k.requireScreen("signup-done")
	assert.Len(t, rec.Events, 1, "a double tap stores one record")
}

func TestFlow_VerifiedWhenTheCodeIsConfirmed(t *testing.T) {
	rec := &MemoryRecorder{Kiosk: "k1"}
	v := &fakeVerifier{code: "482913"}
	k := newKiosk(t, Options{Recorder: rec, Verifier: v})
	signUpSelf(k, "오세훈", "010-4444-5555", []allimi.NotificationType{allimi.TypeLicenceRenewal}, nil)
	k.tap("consent.agree")
	k.requireScreen("signup-verify")
	assert.Equal(t, []string{"010-4444-5555"}, v.requested)
	assert.Empty(t, rec.Events, "nothing stored before the code is checked")

	k.typePH("000000", "111111")
	k.tap("verify.confirm")
	k.requireShows(k.ui.T("verify.wrong"))
	k.typePH("000000", "482913")
	k.tap("verify.confirm")
	k.requireScreen("signup-done")
	k.requireShows(k.ui.T("done.verified"))
	require.Len(t, rec.Events, 1)
}

func TestFlow_UnverifiedWhenCentralCannotSendTheCode(t *testing.T) {
	rec := &spyRecorder{inner: &MemoryRecorder{Kiosk: "k1"}}
	v := &fakeVerifier{requestErr: errOffline}
	k := newKiosk(t, Options{Recorder: rec, Verifier: v})
	signUpSelf(k, "오세훈", "010-4444-5555", []allimi.NotificationType{allimi.TypeLicenceRenewal}, nil)
	k.tap("consent.agree")
	// Straight to the receipt: a failed request never blocks the person.
	k.requireScreen("signup-done")
	k.requireShows(k.ui.T("done.unverified"))
	require.Len(t, rec.events, 1)
}

func TestFlow_NotNowClearsTheSession(t *testing.T) {
	rec := &MemoryRecorder{Kiosk: "k1"}
	k := newKiosk(t, Options{Recorder: rec})
	signUpSelf(k, "김안함", "010-1212-3434", []allimi.NotificationType{allimi.TypeRelief}, nil)
	k.tap("consent.decline")
	k.requireScreen("signup-declined")
	assert.True(t, k.ui.session.Empty())
	assert.Empty(t, rec.Events)
	k.tap("done.finish")
	k.requireScreen("home")
}

func TestFlow_IdleWarnsThenClearsEverything(t *testing.T) {
	k := newKiosk(t, Options{Recorder: &MemoryRecorder{Kiosk: "k1"}})
	// A person switches to English, large text, starts a sign-up, and walks away.
	k.tapCard("English")
	k.tapText(k.ui.T("home.text_size") + ": " + k.ui.T("home.text_size_100"))
	require.Equal(t, Prefs{Lang: LangEn, Scale: 1}, k.ui.Prefs())
	k.tap("home.notify")
	k.typeInto("who.name_hint", "Kim")
	require.Equal(t, "Kim", k.ui.session.Name)

	k.clock.Advance(59 * time.Second)
	assert.False(t, k.ui.IdleWarningShown(), "no warning before 60 s")
	k.clock.Advance(time.Second)
	require.True(t, k.ui.IdleWarningShown(), "warning at 60 s")
	assert.Contains(t, k.ui.IdleWarningText(), k.ui.T("idle.body", "seconds", 10))
	k.clock.Advance(3 * time.Second)
	assert.Contains(t, k.ui.IdleWarningText(), k.ui.T("idle.body", "seconds", 7), "counts down")

	// A touch keeps everything.
	k.tap("idle.continue")
	assert.False(t, k.ui.IdleWarningShown())
	k.requireScreen("signup-who")
	assert.Equal(t, "Kim", k.ui.session.Name)

	// Walking away for good clears the session, the screen and the choices.
	k.clock.Advance(60 * time.Second)
	require.True(t, k.ui.IdleWarningShown())
	k.clock.Advance(10 * time.Second)
	assert.False(t, k.ui.IdleWarningShown())
	k.requireScreen("home")
	assert.True(t, k.ui.session.Empty())
	assert.Equal(t, Prefs{Lang: DefaultLang}, k.ui.Prefs())
	for _, s := range k.shownText() {
		assert.NotEqual(t, "Kim", s)
	}
}

func TestFlow_IdleSignsOutStaff(t *testing.T) {
	k := newKiosk(t, Options{Config: Config{Staff: []StaffMember{{ID: "o1", Name: "담당", PINHash: testPINHash}}}})
	signInStaff(k)
	k.clock.Advance(70 * time.Second)
	k.requireScreen("home")
	assert.Nil(t, k.ui.Staff())
}

func TestFlow_ConflictsAreShownAndResolved(t *testing.T) {
	src := &fakeConflicts{list: []allimi.Conflict{
		{ID: 7, Name: "최*자", Mobile: "010-****-4821", Type: allimi.TypeVaccination, Channel: allimi.ChannelKakao},
	}}
	k := newKiosk(t, Options{Conflicts: src, Config: Config{Staff: []StaffMember{{ID: "o1", Name: "담당", PINHash: testPINHash}}}})
	signInStaff(k)
	k.tap("staff.conflicts")
	assert.Contains(t, k.ui.ReadAloudText(), "최*자")
	k.tap("conflict.restore")
	assert.Equal(t, allimi.ActionGrant, src.resolved[7])
	assert.Equal(t, "o1", src.by)
	k.requireShows(k.ui.T("conflict.empty"))
}

func TestFlow_WrongPINIsRefusedAndLocksAfterFive(t *testing.T) {
	k := newKiosk(t, Options{Config: Config{Staff: []StaffMember{{ID: "o1", Name: "담당", PINHash: testPINHash}}}})
	k.tap("home.staff")
	for i := 0; i < pinMaxFails; i++ {
		k.tapText("1")
		k.tapText("1")
		k.tapText("1")
		k.tapText("1")
		k.tap("staff.ok")
		k.requireShows(k.ui.T("err.pin_wrong"))
	}
	for _, d := range "2468" {
		k.tapText(string(d))
	}
	k.tap("staff.ok")
	k.requireScreen("staff-pin")
	k.requireShows(k.ui.T("err.pin_locked", "seconds", 60))
	assert.Nil(t, k.ui.Staff())
}

// tapTwice taps b twice in a row, as an unsteady finger does.
func tapTwice(b *widget.Button) {
	test.Tap(b)
	test.Tap(b)
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
	k := newKiosk(t, opt)

	signUpSelf(k, "문영수", "010-9999-0000", []allimi.NotificationType{allimi.TypeTrafficFine}, nil)
	k.tap("consent.agree")
	k.requireScreen("signup-done")
	k.requireShows(k.ui.T("done.unverified"))
	evs := ks.spy.Events()
	require.Len(t, evs, 1)
	p, err := evs[0].Consents()
	require.NoError(t, err)
	assert.False(t, p.Verified)

	k.tap("done.finish")
	signInStaff(k)
	k.tap("staff.conflicts")
	k.requireShows(k.ui.T("conflict.unavailable"))

	c.start()
	ks.waitDelivered(t, c)
	assert.EqualValues(t, 1, c.stats().Active[string(allimi.TypeTrafficFine)]["sms"])

	// Online, the conflict list comes from central over MQTT: none here.
	k.tap("nav.back")
	k.tap("staff.conflicts")
	k.requireShows(k.ui.T("conflict.empty"))
}

package kiosk

import (
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/sync/outbox"
)

// The flows below walk the kiosk by tapping its widgets with Fyne's test
// driver. The flows that reach a real central are in tests/kioskcentral:
// the kiosk's tests never import central.

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

// TestFlow_SignupRecordsTheScreensLanguage: the sign-up record names the
// language the person read the screens in, the one they chose on the
// home screen, so that central writes to them in it. The record is the
// one queued in a real outbox, which validates it as central does.
func TestFlow_SignupRecordsTheScreensLanguage(t *testing.T) {
	for _, l := range []Lang{DefaultLang, LangTh, LangVi} {
		t.Run(string(l), func(t *testing.T) {
			db, err := outbox.OpenDB(filepath.Join(t.TempDir(), "k"))
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			ob, err := outbox.Open(db, "k1")
			require.NoError(t, err)
			rec := &spyRecorder{inner: ob}
			k := newKiosk(t, Options{Recorder: rec})
			pr := k.ui.prefs
			pr.Lang = l
			k.ui.SetPrefs(pr)
			signUpSelf(k, "Nguyen Lan", "010-3434-5656", []allimi.NotificationType{allimi.TypeVaccination}, nil)
			k.tap("consent.agree")
			k.requireScreen("signup-done")
			evs := rec.Events()
			require.Len(t, evs, 1)
			assert.Equal(t, allimi.KindSignup, evs[0].Kind)
			p, err := evs[0].Consents()
			require.NoError(t, err)
			assert.Equal(t, string(l), p.Lang)
		})
	}
}

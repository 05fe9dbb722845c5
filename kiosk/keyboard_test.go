package kiosk

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// textKeyboards and numPads list the keyboards laid out on the window.
func (k *kioskUnderTest) textKeyboards() []*textKeyboard {
	var out []*textKeyboard
	for _, o := range k.objects() {
		if kb, ok := o.(*textKeyboard); ok && kb.Visible() {
			out = append(out, kb)
		}
	}
	return out
}

func (k *kioskUnderTest) numPads() []*numPad {
	var out []*numPad
	for _, o := range k.objects() {
		if n, ok := o.(*numPad); ok && n.Visible() {
			out = append(out, n)
		}
	}
	return out
}

// tapKeys taps, on keyboard kb, the letter key labelled with each rune of
// keys in turn, as a finger would; '⇧' taps shift, '⌫' backspace, ' ' the
// space bar.
func tapKeys(t *testing.T, kb *textKeyboard, keys string) {
	t.Helper()
	for _, r := range keys {
		switch r {
		case '⇧':
			test.Tap(kb.shift0)
			continue
		case '⌫':
			test.Tap(kb.back)
			continue
		case ' ':
			test.Tap(kb.space)
			continue
		}
		var found *widget.Button
		for _, row := range kb.letters {
			for _, b := range row {
				if b.Text == string(r) {
					found = b
				}
			}
		}
		require.NotNil(t, found, "no key labelled %q on the keyboard now (shift %v, Latin %v)", r, kb.shift, kb.latin)
		test.Tap(found)
	}
}

func tapDigits(t *testing.T, n *numPad, digits string) {
	t.Helper()
	for _, d := range digits {
		b, ok := n.digits[d]
		require.True(t, ok, "no key %q", d)
		test.Tap(b)
	}
}

// TestKeyboard_NameTypedOnTheHangulKeyboard taps 김순자 on the who
// screen's keyboard: the name field and the session get the composed
// syllables, not the jamo.
func TestKeyboard_NameTypedOnTheHangulKeyboard(t *testing.T) {
	k := newKiosk(t, Options{Recorder: &MemoryRecorder{Kiosk: "k1"}})
	k.tap("home.notify")
	k.requireScreen("signup-who")
	kbs := k.textKeyboards()
	require.Len(t, kbs, 1, "one keyboard for the name")

	tapKeys(t, kbs[0], "ㄱㅣㅁㅅㅜㄴㅈㅏ")
	assert.Equal(t, "김순자", k.entry("who.name_hint").Text)
	assert.Equal(t, "김순자", k.ui.session.Name)
	assert.Equal(t, 3, k.entry("who.name_hint").CursorColumn, "the cursor follows the text")

	// Backspace takes back one jamo of the last syllable, then the
	// syllable before as a whole.
	tapKeys(t, kbs[0], "⌫")
	assert.Equal(t, "김순ㅈ", k.ui.session.Name)
	tapKeys(t, kbs[0], "⌫⌫")
	assert.Equal(t, "김", k.ui.session.Name)

	// Shift gives the doubled consonant for one key only.
	tapKeys(t, kbs[0], "⇧ㅆㅏㅇㅇㅣ")
	assert.Equal(t, "김쌍이", k.ui.session.Name)
	assert.False(t, kbs[0].shift)
	tapKeys(t, kbs[0], "⇧ㅖ")
	assert.Equal(t, "김쌍이ㅖ", k.ui.session.Name)

	test.Tap(kbs[0].clr)
	assert.Equal(t, "", k.ui.session.Name)
}

// TestKeyboard_LatinLayer: a name in Latin letters, each word capitalised
// by itself, and back to Hangul.
func TestKeyboard_LatinLayer(t *testing.T) {
	k := newKiosk(t, Options{Recorder: &MemoryRecorder{Kiosk: "k1"}})
	k.ui.SetPrefs(Prefs{Lang: LangVi})
	k.tap("home.notify")
	kb := k.textKeyboards()[0]
	assert.Equal(t, "ㅂ", kb.letters[0][0].Text)
	test.Tap(kb.layer)
	assert.Equal(t, "Q", kb.letters[0][0].Text, "shift is on at the start of a name")
	tapKeys(t, kb, "Nguyen Van An")
	assert.Equal(t, "Nguyen Van An", k.ui.session.Name)
	tapKeys(t, kb, "⌫⌫")
	assert.Equal(t, "Nguyen Van ", k.ui.session.Name)
	assert.True(t, kb.shift, "shift is back on at a word's start")
	tapKeys(t, kb, "⇧b")
	assert.Equal(t, "Nguyen Van b", k.ui.session.Name)

	test.Tap(kb.layer)
	assert.Equal(t, "ㅂ", kb.letters[0][0].Text)
	tapKeys(t, kb, "ㄱㅏ")
	assert.Equal(t, "Nguyen Van b가", k.ui.session.Name)
}

// TestKeyboard_MixesWithAPhysicalKeyboard: what is typed on a physical
// keyboard stays, and the on-screen keys go on after it.
func TestKeyboard_MixesWithAPhysicalKeyboard(t *testing.T) {
	k := newKiosk(t, Options{Recorder: &MemoryRecorder{Kiosk: "k1"}})
	k.tap("home.notify")
	kb := k.textKeyboards()[0]
	tapKeys(t, kb, "ㄱㅣㅁ")
	test.Type(k.entry("who.name_hint"), "x")
	assert.Equal(t, "김x", k.ui.session.Name)
	tapKeys(t, kb, "ㅅㅜ")
	assert.Equal(t, "김x수", k.ui.session.Name)
	// A typed character ends the syllable: ㄴ does not join 수 across it.
	k.typeInto("who.name_hint", "홍")
	tapKeys(t, kb, "ㅇ")
	assert.Equal(t, "홍ㅇ", k.ui.session.Name)
}

// TestKeyboard_MobileOnTheKeypad taps the mobile number and walks on with
// nothing typed on a physical keyboard.
func TestKeyboard_MobileOnTheKeypad(t *testing.T) {
	k := newKiosk(t, Options{Recorder: &MemoryRecorder{Kiosk: "k1"}})
	k.tap("home.notify")
	pads := k.numPads()
	require.Len(t, pads, 1, "one keypad for the mobile number")
	tapKeys(t, k.textKeyboards()[0], "ㄱㅣㅁㅅㅜㄴㅈㅏ")
	tapDigits(t, pads[0], "010123456789")
	assert.Equal(t, "010123456789", k.entry("who.mobile_hint").Text)
	test.Tap(pads[0].back)
	assert.Equal(t, "01012345678", k.ui.session.Mobile)
	k.setBirth(1944, 3, 2)
	k.tap("nav.next")
	k.requireScreen("signup-types")
	c, err := k.ui.session.Citizen(k.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, allimi.Citizen{Name: "김순자", Mobile: "010-1234-5678", BirthDate: "1944-03-02"}, c)

	k.tap("nav.back")
	pads = k.numPads()
	test.Tap(pads[0].clr)
	assert.Equal(t, "", k.ui.session.Mobile)
	assert.Equal(t, "김순자", k.entry("who.name_hint").Text, "the name is kept")
}

// TestKeyboard_VerificationCodeOnTheKeypad confirms the SMS code tapped
// on the verify screen's keypad.
func TestKeyboard_VerificationCodeOnTheKeypad(t *testing.T) {
	rec := &MemoryRecorder{Kiosk: "k1"}
	v := &fakeVerifier{code: "482913"}
	k := newKiosk(t, Options{Recorder: rec, Verifier: v})
	signUpSelf(k, "오세훈", "010-4444-5555", []allimi.NotificationType{allimi.TypeLicenceRenewal}, nil)
	k.tap("consent.agree")
	k.requireScreen("signup-verify")
	pads := k.numPads()
	require.Len(t, pads, 1)
	tapDigits(t, pads[0], "4829")
	assert.Equal(t, "4829", k.entryPH("000000").Text)
	tapDigits(t, pads[0], "13")
	k.tap("verify.confirm")
	k.requireScreen("signup-done")
	k.requireShows(k.ui.T("done.verified"))
	require.Len(t, rec.Events, 1)
}

// TestKeyboard_KeysAreFingerSized lays out the who screen at 1280×800 in
// every language, in both contrasts, and checks every key of both
// keyboards: at least 15 mm each way, its label not cut, on the screen.
func TestKeyboard_KeysAreFingerSized(t *testing.T) {
	for _, l := range Langs {
		for _, hc := range []bool{false, true} {
			k := newKiosk(t, Options{Recorder: &MemoryRecorder{Kiosk: "k1"}})
			k.ui.SetPrefs(Prefs{Lang: l, HighContrast: hc})
			k.tap("home.notify")
			kb, pad := k.textKeyboards()[0], k.numPads()[0]
			keys := []*widget.Button{kb.shift0, kb.layer, kb.space, kb.clr, kb.back, pad.back, pad.clr}
			for _, row := range kb.letters {
				keys = append(keys, row...)
			}
			for _, b := range pad.digits {
				keys = append(keys, b)
			}
			require.Len(t, keys, 7+26+10)
			width := k.w.Canvas().Size().Width
			for _, b := range keys {
				assert.GreaterOrEqual(t, b.Size().Height, MinTouch, "%s: key %q too low", l, b.Text)
				assert.GreaterOrEqual(t, b.Size().Width, MinTouch, "%s: key %q too narrow", l, b.Text)
				assert.LessOrEqual(t, b.MinSize().Width, b.Size().Width+0.5, "%s: key %q cuts its label", l, b.Text)
				pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
				assert.LessOrEqual(t, pos.X+b.Size().Width, width+0.5, "%s: key %q runs off the screen", l, b.Text)
			}
		}
	}
}

// TestKeyboard_LetterKeysUseTheKoreanFont: the Thai and Vietnamese fonts
// have no jamo, so the letter keys are drawn with the Korean one, in the
// screen's contrast, and larger than body text.
func TestKeyboard_LetterKeysUseTheKoreanFont(t *testing.T) {
	k := newKiosk(t, Options{Recorder: &MemoryRecorder{Kiosk: "k1"}})
	k.ui.SetPrefs(Prefs{Lang: LangTh, HighContrast: true})
	k.tap("home.notify")
	kb := k.textKeyboards()[0]
	var overrides []*container.ThemeOverride
	for _, o := range test.LaidOutObjects(kb.content) {
		if th, ok := o.(*container.ThemeOverride); ok {
			overrides = append(overrides, th)
		}
	}
	require.Len(t, overrides, 26+2, "each letter key, backspace and the layer key")
	caps := 0
	for _, o := range overrides {
		th, ok := o.Theme.(Theme)
		if kc, isCap := o.Theme.(keyCapTheme); isCap {
			caps++
			th, ok = kc.Theme, true
			assert.Greater(t, kc.Size(theme.SizeNameText), th.Size(theme.SizeNameText), "key labels larger than body text")
		}
		require.True(t, ok, "%T", o.Theme)
		assert.Equal(t, LangKo, th.Lang)
		assert.True(t, th.HighContrast)
	}
	assert.Equal(t, 26+1, caps, "letters and backspace at key-cap size")
}

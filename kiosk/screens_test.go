package kiosk

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// TestScreens_EveryScreenInEveryLanguage lays out every screen (the shots
// the screenshots are made of) in every language and checks what the
// person would see: no untranslated key, no button smaller than a finger
// or narrower than its text, no text cut at its edge or running off the
// screen, and text for read-aloud.
func TestScreens_EveryScreenInEveryLanguage(t *testing.T) {
	ko := loadAll(t)[LangKo]
	test.NewTempApp(t)
	for _, l := range Langs {
		for _, shot := range Shots() {
			t.Run(string(l)+"/"+shot.Name, func(t *testing.T) {
				u, w := NewDemoUI(test.NewWindow(nil))
				defer w.Close()
				w.Resize(ScreenshotSize)
				u.Start()
				u.SetPrefs(Prefs{Lang: l})
				shot.setup(u)

				text := u.ReadAloudText()
				if u.IdleWarningShown() {
					text = u.IdleWarningText()
				}
				assert.NotEmpty(t, strings.TrimSpace(text), "nothing to read aloud")

				width := w.Canvas().Size().Width
				objs := test.LaidOutObjects(w.Canvas().Content())
				for _, o := range w.Canvas().Overlays().List() {
					objs = append(objs, test.LaidOutObjects(o)...)
				}
				for _, o := range objs {
					if !o.Visible() || o.Size().Width == 0 {
						continue
					}
					pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
					switch x := o.(type) {
					case *widget.Button:
						assert.GreaterOrEqual(t, x.Size().Height, MinTouch, "button %q is too low to touch", x.Text)
						assert.GreaterOrEqual(t, x.Size().Width, MinTouch, "button %q is too narrow to touch", x.Text)
						assert.LessOrEqual(t, x.MinSize().Width, x.Size().Width+0.5, "button %q cuts its text", x.Text)
						assert.LessOrEqual(t, pos.X+x.Size().Width, width+0.5, "button %q runs off the screen", x.Text)
						assert.NotContains(t, ko, x.Text, "button shows the key %q", x.Text)
					case *card:
						assert.GreaterOrEqual(t, x.Size().Height, MinTouch, "a card is too low to touch")
						assert.LessOrEqual(t, pos.X+x.Size().Width, width+0.5, "a card runs off the screen")
					case *widget.Label:
						if x.Text == "" {
							continue
						}
						assert.NotContains(t, ko, x.Text, "label shows the key %q", x.Text)
						if x.Wrapping == fyne.TextWrapOff {
							assert.LessOrEqual(t, x.MinSize().Width, x.Size().Width+0.5, "label %q is cut", x.Text)
						} else {
							assert.Greater(t, x.Size().Width, float32(100), "label %q is squeezed", x.Text)
						}
						assert.LessOrEqual(t, pos.X+x.Size().Width, width+0.5, "label %q runs off the screen", x.Text)
					case *canvas.Text:
						assert.NotContains(t, ko, x.Text, "text shows the key %q", x.Text)
						assert.LessOrEqual(t, pos.X+x.MinSize().Width, width+0.5, "text %q runs off the screen", x.Text)
					}
				}
			})
		}
	}
}

// TestWho_BadInputShowsATranslatedMessage types what people get wrong on
// the who screen and checks the screen says so in the chosen language and
// does not move on.
func TestWho_BadInputShowsATranslatedMessage(t *testing.T) {
	for _, l := range []Lang{LangKo, LangVi} {
		k := newKiosk(t, Options{Recorder: &MemoryRecorder{Kiosk: "k1"}})
		k.ui.SetPrefs(Prefs{Lang: l})
		k.tap("home.notify")

		// Nothing typed: the name is asked for first.
		k.tap("nav.next")
		k.requireScreen("signup-who")
		k.requireShows(l.T("err.name_empty"))

		k.typeInto("who.name_hint", "김영희")
		k.typeInto("who.mobile_hint", "011-1234-5678")
		k.tap("nav.next")
		k.requireShows(l.T("err.mobile_invalid"))

		k.typeInto("who.mobile_hint", "010-1234-5678")
		k.tap("nav.next")
		k.requireShows(l.T("err.birth_missing"))

		// 30 February, picked on the spinners.
		k.setBirth(1950, 2, 30)
		k.tap("nav.next")
		k.requireScreen("signup-who")
		k.requireShows(l.T("err.birth_impossible", "date", "1950-02-30"))
		assert.Contains(t, k.ui.ReadAloudText(), l.T("err.birth_impossible", "date", "1950-02-30"), "the message is read aloud too")

		// 29 February 1950 is no date either; 28 is.
		test.Tap(k.buttons("−")[2])
		k.tap("nav.next")
		k.requireShows(l.T("err.birth_impossible", "date", "1950-02-29"))
		test.Tap(k.buttons("−")[2])
		k.tap("nav.next")
		k.requireScreen("signup-types")

		// No type chosen.
		k.tap("nav.next")
		k.requireScreen("signup-types")
		k.requireShows(l.T("err.types_none"))
		k.tapCard(l.T(typeKey(allimi.TypeRelief, "name")))
		k.tap("nav.next")
		// SMS unticked and nothing else.
		k.tapCard(l.T(channelKey(allimi.ChannelSMS, "name")))
		k.tap("nav.next")
		k.requireScreen("signup-channels")
		k.requireShows(l.T("err.channels_none"))
	}
}

// TestBackButtonOnEveryScreenButHome: every screen but home has a way back
// (the receipt and the confirmation screens go forward to the start
// instead: going back would store the record again).
func TestBackButtonOnEveryScreenButHome(t *testing.T) {
	test.NewTempApp(t)
	noBack := map[string]bool{"home": true, "home-high-contrast": true, "home-text-150": true,
		"signup-done": true, "signup-declined": true, "staff-withdraw-done": true, "ask-thanks": true, "enrol": true, "enrol-error": true,
		"handover-slip": true, "handover-slip-channel": true}
	for _, shot := range Shots() {
		u, w := NewDemoUI(test.NewWindow(nil))
		w.Resize(ScreenshotSize)
		u.Start()
		shot.setup(u)
		var back, home bool
		for _, o := range test.LaidOutObjects(w.Canvas().Content()) {
			if b, ok := o.(*widget.Button); ok {
				back = back || b.Text == u.T("nav.back")
				home = home || b.Text == u.T("nav.home")
			}
		}
		if noBack[shot.Name] {
			assert.False(t, back, "%s has a back button", shot.Name)
		} else {
			assert.True(t, back, "%s has no back button", shot.Name)
		}
		switch {
		case strings.HasPrefix(shot.Name, "enrol"):
			assert.False(t, home, "%s: before enrolment there is no home to go to", shot.Name)
		case !strings.HasPrefix(shot.Name, "home"):
			assert.True(t, home, "%s has no home button", shot.Name)
		}
		w.Close()
	}
}

// TestScreenTable_EveryScreenHasAShot: every screen in the table is shown
// by at least one shot, so that the screenshots and the every-screen tests
// above see each screen a person can reach; a screen added to the table
// without a shot fails here.
func TestScreenTable_EveryScreenHasAShot(t *testing.T) {
	test.NewTempApp(t)
	shown := map[string]bool{}
	var table map[screenID]func() *page
	for _, shot := range Shots() {
		u, w := NewDemoUI(test.NewWindow(nil))
		w.Resize(ScreenshotSize)
		u.Start()
		shot.setup(u)
		shown[u.Current().ID()] = true
		table = u.screens
		w.Close()
	}
	require.NotEmpty(t, table)
	for id := range table {
		assert.True(t, shown[string(id)], "no shot shows %s", id)
	}
	assert.True(t, shown[string(doneScreen)], "no shot shows %s", doneScreen)
}

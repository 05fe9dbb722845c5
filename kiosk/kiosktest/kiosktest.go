// Package kiosktest drives a kiosk UI in tests through Fyne's test driver,
// as a person at the kiosk would: it taps buttons and cards by what they
// say, types into fields, and reads what the screen shows.
//
// It is for tests outside package kiosk, such as the flows against a real
// central in tests/kioskcentral; it uses only the kiosk's exported API.
// (Package kiosk's own tests cannot import it, Go forbids the cycle, and
// keep their helpers in kiosk/helpers_test.go.)
package kiosktest

import (
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/testclock"
	"allimi/kiosk"
	_ "allimi/kiosk/localefix" // before Fyne reads the locale
)

// Kiosk is a kiosk UI on a test window.
type Kiosk struct {
	t      testing.TB
	UI     *kiosk.UI
	Window fyne.Window
	// Clock is the kiosk's clock, unless the test gave its own: its
	// timers (the idle warning) fire when the test advances it.
	Clock *testclock.Clock
}

// New builds the kiosk on a 1280×800 test window and shows its first
// screen. The zero fields of opt get a fake clock, background work run
// inline, a silent logger and, unless the kiosk starts on its first-run
// enrolment screen, the id "k1".
func New(t testing.TB, opt kiosk.Options) *Kiosk {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(kiosk.ScreenshotSize)
	clock := testclock.New(time.Date(2026, 3, 14, 10, 0, 0, 0, time.Local))
	if opt.Clock == nil {
		opt.Clock = clock
	}
	if opt.Go == nil {
		opt.Go = func(f func()) { f() }
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Config.ID == "" && opt.FirstRun == nil {
		opt.Config.ID = "k1"
	}
	u := kiosk.New(w, opt)
	u.Start()
	return &Kiosk{t: t, UI: u, Window: w, Clock: clock}
}

// Objects lists what is laid out on the window, overlays last.
func (k *Kiosk) Objects() []fyne.CanvasObject {
	objs := test.LaidOutObjects(k.Window.Canvas().Content())
	for _, o := range k.Window.Canvas().Overlays().List() {
		objs = append(objs, test.LaidOutObjects(o)...)
	}
	return objs
}

// Screen is the id of the screen shown ("home", "signup-who", …).
func (k *Kiosk) Screen() string { return k.UI.Current().ID() }

// RequireScreen stops the test unless screen id is shown.
func (k *Kiosk) RequireScreen(id string) {
	k.t.Helper()
	require.Equal(k.t, id, k.Screen(), "screen shown")
}

// Buttons are the visible buttons labelled exactly text, in layout order.
func (k *Kiosk) Buttons(text string) []*widget.Button {
	var out []*widget.Button
	for _, o := range k.Objects() {
		if b, ok := o.(*widget.Button); ok && b.Visible() && b.Text == text {
			out = append(out, b)
		}
	}
	return out
}

// Tap taps the one visible button labelled with translation key in the
// kiosk's language.
func (k *Kiosk) Tap(key string, args ...any) {
	k.t.Helper()
	k.TapText(k.UI.T(key, args...))
}

// TapText taps the one visible button labelled text; it must be enabled.
func (k *Kiosk) TapText(text string) {
	k.t.Helper()
	bs := k.Buttons(text)
	require.Len(k.t, bs, 1, "buttons labelled %q on %s", text, k.Screen())
	require.False(k.t, bs[0].Disabled(), "button %q is disabled", text)
	test.Tap(bs[0])
}

// TapCard taps the first card that shows text (a type, a channel, a
// method): a tappable widget of the kiosk's own, not a button or a field,
// with a label or a text reading text inside.
func (k *Kiosk) TapCard(text string) {
	k.t.Helper()
	for _, o := range k.Objects() {
		tp, ok := o.(fyne.Tappable)
		if !ok || isButtonOrField(o) {
			continue
		}
		for _, in := range test.LaidOutObjects(o)[1:] {
			if l, ok := in.(*widget.Label); ok && l.Text == text {
				test.Tap(tp)
				return
			}
			if tx, ok := in.(*canvas.Text); ok && tx.Text == text {
				test.Tap(tp)
				return
			}
		}
	}
	k.t.Fatalf("no card showing %q on %s", text, k.Screen())
}

func isButtonOrField(o fyne.CanvasObject) bool {
	if _, ok := o.(*widget.Button); ok {
		return true
	}
	_, ok := entryOf(o)
	return ok
}

// entryOf is o's text field: o itself, or the widget.Entry a widget of
// the kiosk's extends (embeds, the way Fyne extends widgets), such as the
// enrolment screen's fields.
func entryOf(o fyne.CanvasObject) (*widget.Entry, bool) {
	if e, ok := o.(*widget.Entry); ok {
		return e, true
	}
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	f, ok := v.Elem().Type().FieldByName("Entry")
	if !ok || !f.Anonymous || len(f.Index) != 1 || f.Type != reflect.TypeFor[widget.Entry]() {
		return nil, false
	}
	return v.Elem().Field(f.Index[0]).Addr().Interface().(*widget.Entry), true
}

// field is the laid-out widget whose field shows placeholder ph, and that
// field.
func (k *Kiosk) field(ph string) (fyne.CanvasObject, *widget.Entry) {
	k.t.Helper()
	for _, o := range k.Objects() {
		if e, ok := entryOf(o); ok && e.PlaceHolder == ph {
			return o, e
		}
	}
	k.t.Fatalf("no entry with placeholder %q on %s", ph, k.Screen())
	return nil, nil
}

// Entry is the field whose placeholder is the translation of key.
func (k *Kiosk) Entry(key string) *widget.Entry {
	k.t.Helper()
	return k.EntryPH(k.UI.T(key))
}

// EntryPH is the field whose placeholder is ph.
func (k *Kiosk) EntryPH(ph string) *widget.Entry {
	k.t.Helper()
	_, e := k.field(ph)
	return e
}

// TypeInto empties the field whose placeholder is the translation of key
// and types text into it.
func (k *Kiosk) TypeInto(key, text string) {
	k.t.Helper()
	k.TypePH(k.UI.T(key), text)
}

// TypePH empties the field whose placeholder is ph and types text into it.
func (k *Kiosk) TypePH(ph, text string) {
	k.t.Helper()
	e := k.EntryPH(ph)
	e.SetText("")
	test.Type(e, text)
}

// TypeOnKeys touches the field whose placeholder is ph, clears it and
// taps each character's key on the screen's keyboard, as an official's
// finger would (the enrolment screen's address and code).
func (k *Kiosk) TypeOnKeys(ph, s string) {
	k.t.Helper()
	o, _ := k.field(ph)
	f, ok := o.(fyne.Focusable)
	require.True(k.t, ok, "field %q takes no focus", ph)
	k.Window.Canvas().Focus(f)
	k.Tap("keyboard.clear")
	for _, r := range strings.ToUpper(s) {
		// Keys show letters in the case they type.
		upper, lower := string(r), strings.ToLower(string(r))
		bs := k.Buttons(upper)
		if lower != upper {
			bs = append(bs, k.Buttons(lower)...)
		}
		require.Len(k.t, bs, 1, "keys for %q", r)
		test.Tap(bs[0])
	}
}

// ShownText is every visible label's and text's content.
func (k *Kiosk) ShownText() []string {
	var out []string
	for _, o := range k.Objects() {
		switch x := o.(type) {
		case *widget.Label:
			if x.Visible() {
				out = append(out, x.Text)
			}
		case *canvas.Text:
			if x.Visible() {
				out = append(out, x.Text)
			}
		}
	}
	return out
}

// RequireShows stops the test unless a label or text reads text.
func (k *Kiosk) RequireShows(text string) {
	k.t.Helper()
	require.Contains(k.t, k.ShownText(), text, "on screen %s", k.Screen())
}

// TypeName is how the kiosk names notification type ty.
func (k *Kiosk) TypeName(ty allimi.NotificationType) string {
	return k.UI.T("type." + string(ty) + ".name")
}

// ChannelName is how the kiosk names channel ch.
func (k *Kiosk) ChannelName(ch allimi.Channel) string {
	return k.UI.T("channel." + string(ch) + ".name")
}

// SetBirth picks a date of birth on the spinners of the screen shown by
// tapping their buttons, as a person would: the first tap shows the start
// value (1955, 1, 1), then ±10 and ±1 steps.
func (k *Kiosk) SetBirth(y, m, d int) {
	k.t.Helper()
	s := k.UI.Session
	tapN := func(text string, idx, n int) {
		for i := 0; i < n; i++ {
			bs := k.Buttons(text)
			require.Greater(k.t, len(bs), idx, "spinner button %q #%d", text, idx)
			test.Tap(bs[idx])
		}
	}
	// Year: buttons "+" are year, month, day in layout order.
	tapN("+", 0, 1) // 1955
	for y <= s().BirthYear-10 {
		tapN("−10", 0, 1)
	}
	for y >= s().BirthYear+10 {
		tapN("+10", 0, 1)
	}
	for s().BirthYear < y {
		tapN("+", 0, 1)
	}
	for s().BirthYear > y {
		tapN("−", 0, 1)
	}
	tapN("+", 1, m) // the first tap shows 1
	tapN("+", 2, d)
	require.Equal(k.t, [3]int{y, m, d}, [3]int{s().BirthYear, s().BirthMonth, s().BirthDay})
}

// FillWho answers the sign-up's who screen.
func (k *Kiosk) FillWho(name, mobile string, y, m, d int) {
	k.t.Helper()
	k.RequireScreen("signup-who")
	k.TypeInto("who.name_hint", name)
	k.TypeInto("who.mobile_hint", mobile)
	k.SetBirth(y, m, d)
}

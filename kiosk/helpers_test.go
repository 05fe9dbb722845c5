package kiosk

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/testclock"
	_ "allimi/kiosk/localefix" // before Fyne reads the locale
	"allimi/sync/outbox"
)

// newFakeClock is a clock whose timers fire only when the test advances
// it, at a fixed Saturday morning.
func newFakeClock() *testclock.Clock {
	return testclock.New(time.Date(2026, 3, 14, 10, 0, 0, 0, time.Local))
}

// spyRecorder passes records to an inner Recorder and keeps the events.
type spyRecorder struct {
	inner  Recorder
	mu     sync.Mutex
	events []allimi.Event
	calls  int
}

func (s *spyRecorder) Append(drafts ...outbox.Draft) ([]allimi.Event, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	evs, err := s.inner.Append(drafts...)
	if err == nil {
		s.mu.Lock()
		s.events = append(s.events, evs...)
		s.mu.Unlock()
	}
	return evs, err
}

func (s *spyRecorder) Events() []allimi.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]allimi.Event(nil), s.events...)
}

// fakeVerifier answers code requests as told.
type fakeVerifier struct {
	requestErr error
	code       string
	requested  []string
}

func (f *fakeVerifier) RequestCode(_ context.Context, mobile string) error {
	f.requested = append(f.requested, mobile)
	return f.requestErr
}

func (f *fakeVerifier) CheckCode(_ context.Context, _, code string) (bool, error) {
	if f.requestErr != nil {
		return false, f.requestErr
	}
	return code == f.code, nil
}

var errOffline = errors.New("central unreachable")

// fakeConflicts is a ConflictSource in memory.
type fakeConflicts struct {
	list     []allimi.Conflict
	resolved map[uint64]allimi.ConsentAction
	by       string
}

func (f *fakeConflicts) Conflicts(context.Context) ([]allimi.Conflict, error) {
	var out []allimi.Conflict
	for _, c := range f.list {
		if _, done := f.resolved[c.ID]; !done {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeConflicts) Resolve(_ context.Context, id uint64, d allimi.ConsentAction, official string) error {
	if f.resolved == nil {
		f.resolved = map[uint64]allimi.ConsentAction{}
	}
	f.resolved[id], f.by = d, official
	return nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// kioskUnderTest is a kiosk UI on a test window.
type kioskUnderTest struct {
	t     *testing.T
	ui    *UI
	w     fyne.Window
	clock *testclock.Clock
}

// newKiosk builds the kiosk on a 1280×800 test window with a fake clock
// and inline background work; opt's zero fields get those defaults.
func newKiosk(t *testing.T, opt Options) *kioskUnderTest {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(ScreenshotSize)
	clock := newFakeClock()
	if opt.Clock == nil {
		opt.Clock = clock
	}
	if opt.Go == nil {
		opt.Go = func(f func()) { f() }
	}
	if opt.Logger == nil {
		opt.Logger = quietLogger()
	}
	if opt.Config.ID == "" {
		opt.Config.ID = "k1"
	}
	u := New(w, opt)
	u.Start()
	return &kioskUnderTest{t: t, ui: u, w: w, clock: clock}
}

// objects lists what is laid out on the window, overlays last.
func (k *kioskUnderTest) objects() []fyne.CanvasObject {
	objs := test.LaidOutObjects(k.w.Canvas().Content())
	for _, o := range k.w.Canvas().Overlays().List() {
		objs = append(objs, test.LaidOutObjects(o)...)
	}
	return objs
}

func (k *kioskUnderTest) screen() string { return k.ui.Current().ID() }

func (k *kioskUnderTest) requireScreen(id string) {
	k.t.Helper()
	require.Equal(k.t, id, k.screen(), "screen shown")
}

// buttons with exactly text, in layout order.
func (k *kioskUnderTest) buttons(text string) []*widget.Button {
	var out []*widget.Button
	for _, o := range k.objects() {
		if b, ok := o.(*widget.Button); ok && b.Visible() && b.Text == text {
			out = append(out, b)
		}
	}
	return out
}

// tap taps the one visible button labelled with translation key in the
// kiosk's language.
func (k *kioskUnderTest) tap(key string, args ...any) {
	k.t.Helper()
	k.tapText(k.ui.T(key, args...))
}

func (k *kioskUnderTest) tapText(text string) {
	k.t.Helper()
	bs := k.buttons(text)
	require.Len(k.t, bs, 1, "buttons labelled %q on %s", text, k.screen())
	require.False(k.t, bs[0].Disabled(), "button %q is disabled", text)
	test.Tap(bs[0])
}

// tapCard taps the card that shows text (a type, a channel, a method).
func (k *kioskUnderTest) tapCard(text string) {
	k.t.Helper()
	for _, o := range k.objects() {
		c, ok := o.(*card)
		if !ok {
			continue
		}
		for _, in := range test.LaidOutObjects(c.content) {
			if l, ok := in.(*widget.Label); ok && l.Text == text {
				test.Tap(c)
				return
			}
			if tx, ok := in.(*canvas.Text); ok && tx.Text == text {
				test.Tap(c)
				return
			}
		}
	}
	k.t.Fatalf("no card showing %q on %s", text, k.screen())
}

// entry returns the entry whose placeholder is the translation of key.
func (k *kioskUnderTest) entry(key string) *widget.Entry {
	k.t.Helper()
	return k.entryPH(k.ui.T(key))
}

func (k *kioskUnderTest) typePH(ph, text string) {
	k.t.Helper()
	e := k.entryPH(ph)
	e.SetText("")
	test.Type(e, text)
}

func (k *kioskUnderTest) entryPH(ph string) *widget.Entry {
	k.t.Helper()
	for _, o := range k.objects() {
		if e, ok := o.(*widget.Entry); ok && e.PlaceHolder == ph {
			return e
		}
	}
	k.t.Fatalf("no entry with placeholder %q on %s", ph, k.screen())
	return nil
}

func (k *kioskUnderTest) typeInto(key, text string) {
	k.t.Helper()
	e := k.entry(key)
	e.SetText("")
	test.Type(e, text)
}

// shownText is every visible label's and text's content.
func (k *kioskUnderTest) shownText() []string {
	var out []string
	for _, o := range k.objects() {
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

func (k *kioskUnderTest) requireShows(text string) {
	k.t.Helper()
	require.Contains(k.t, k.shownText(), text, "on screen %s", k.screen())
}

// setBirth picks a date of birth on the who screen's spinners by tapping
// their buttons, as a person would: the first tap shows the start value
// (1955, 1, 1), then ±10 and ±1 steps.
func (k *kioskUnderTest) setBirth(y, m, d int) {
	k.t.Helper()
	tapN := func(text string, idx, n int) {
		for i := 0; i < n; i++ {
			bs := k.buttons(text)
			require.Greater(k.t, len(bs), idx, "spinner button %q #%d", text, idx)
			test.Tap(bs[idx])
		}
	}
	// Year: buttons "+" are year, month, day in layout order.
	tapN("+", 0, 1) // 1955
	for y <= k.ui.session.BirthYear-10 {
		tapN("−10", 0, 1)
	}
	for y >= k.ui.session.BirthYear+10 {
		tapN("+10", 0, 1)
	}
	for k.ui.session.BirthYear < y {
		tapN("+", 0, 1)
	}
	for k.ui.session.BirthYear > y {
		tapN("−", 0, 1)
	}
	tapN("+", 1, m) // the first tap shows 1
	tapN("+", 2, d)
	require.Equal(k.t, [3]int{y, m, d}, [3]int{k.ui.session.BirthYear, k.ui.session.BirthMonth, k.ui.session.BirthDay})
}

// fillWho answers the who screen.
func (k *kioskUnderTest) fillWho(name, mobile string, y, m, d int) {
	k.t.Helper()
	k.requireScreen("signup-who")
	k.typeInto("who.name_hint", name)
	k.typeInto("who.mobile_hint", mobile)
	k.setBirth(y, m, d)
}

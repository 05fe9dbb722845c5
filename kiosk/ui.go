package kiosk

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"allimi/consult"
)

// Options are the kiosk's parts. Only Config is needed; every other part
// has a default that keeps the kiosk usable.
type Options struct {
	Config Config
	// Recorder stores records (the sync outbox); nil on an unregistered
	// kiosk, which then explains that it cannot save sign-ups.
	Recorder  Recorder
	Health    HealthSource
	Verifier  Verifier
	Conflicts ConflictSource
	Speaker   Speaker
	Today     TodayLog
	// Subsidy and Voice open the home screen's 보조금 찾기 and 말로
	// 물어보기; "coming soon" pages when nil.
	Subsidy Feature
	Voice   Feature
	// Clock drives the idle timer and stamps records; the real clock
	// when nil. Tests give a fake one.
	Clock Clock
	// ReceiptCode draws a sign-up's receipt code; nil means
	// allimi.NewReceiptCode (crypto/rand). The demo UI draws a fixed one,
	// so that screenshots do not change from one render to the next.
	ReceiptCode func() (string, error)
	// Go runs work that waits on the network (verification, conflicts)
	// off the UI goroutine; `go f()` when nil. Tests run it inline.
	Go func(f func())
	// VerifyTimeout bounds each call to the Verifier (default 4 s).
	VerifyTimeout time.Duration
	Logger        *slog.Logger
	// FirstRun, on a kiosk without an id, shows the enrolment screen
	// instead of the home screen (enrol.go).
	FirstRun *FirstRun
}

// Clock is the time source of the kiosk.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f on the UI goroutine after d, unless the returned
	// stop function is called first.
	AfterFunc(d time.Duration, f func()) (stop func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() {
	t := time.AfterFunc(d, func() { fyne.Do(f) })
	return func() { t.Stop() }
}

// Prefs are the person's display choices; they are reset with the session.
type Prefs struct {
	Lang         Lang
	Scale        int // index into TextScales
	HighContrast bool
}

// Screen is what the kiosk shows now.
type Screen interface {
	// ID names the screen ("home", "signup-who", ...).
	ID() string
	// ReadAloudText is every text on the screen in reading order.
	ReadAloudText() string
}

// UI is the kiosk application on one window.
type UI struct {
	w     fyne.Window
	opt   Options
	cfg   Config
	log   *slog.Logger
	clock Clock

	prefs   Prefs
	session *Session
	staff   *StaffMember   // signed-in official, nil when none
	finder  *SubsidyFinder // 보조금 찾기, once started
	adviser *Adviser       // 말로 물어보기, once started
	// asked are the questions this person asked 말로 물어보기, newest
	// first; cleared with the session.
	asked *consult.Session
	pins  pinLock

	// screens is every screen of the kiosk (screens.go); stack the
	// ones shown, home at the bottom.
	screens map[screenID]func() *page
	stack   []screen
	cur     *page
	scroll  *container.Scroll // the current page's body

	idleGen  int
	idleStop func()
	idleUp   *widget.PopUp
	idleLeft int
	idleText *widget.Label
}

// New builds the kiosk UI on w. Call Start to show the home screen.
func New(w fyne.Window, opt Options) *UI {
	u := &UI{w: w, opt: opt, cfg: opt.Config.WithDefaults(), log: opt.Logger, clock: opt.Clock}
	if u.log == nil {
		u.log = slog.Default()
	}
	if u.clock == nil {
		u.clock = realClock{}
	}
	if u.opt.Speaker == nil {
		u.opt.Speaker = NoSpeaker{}
	}
	if u.opt.Today == nil {
		u.opt.Today = &MemoryToday{}
	}
	if u.opt.Subsidy == nil {
		u.opt.Subsidy = comingSoon{id: "subsidy", titleKey: "home.subsidy"}
	}
	if u.opt.Voice == nil {
		u.opt.Voice = comingSoon{id: "voice", titleKey: "home.ask"}
	}
	if u.opt.Go == nil {
		u.opt.Go = func(f func()) { go f() }
	}
	if u.opt.VerifyTimeout <= 0 {
		u.opt.VerifyTimeout = 4 * time.Second
	}
	u.prefs = Prefs{Lang: DefaultLang}
	u.session = NewSession()
	u.session.drawCode = u.opt.ReceiptCode
	u.asked = consult.NewSession(consult.DefaultRecent)
	u.screens = u.screenTable()
	return u
}

// Start shows the home screen and starts the idle timer.
func (u *UI) Start() {
	u.applyTheme()
	u.stack = []screen{u.screenOf(u.rootScreen())}
	u.render()
	u.armIdle()
}

// Lang is the language shown.
func (u *UI) Lang() Lang { return u.prefs.Lang }

// T translates key in the language shown.
func (u *UI) T(key string, args ...any) string { return u.prefs.Lang.T(key, args...) }

// Window is the kiosk's window.
func (u *UI) Window() fyne.Window { return u.w }

// Speaker is the kiosk's speaker.
func (u *UI) Speaker() Speaker { return u.opt.Speaker }

// Config is the configuration the kiosk runs with (with defaults): on a
// kiosk enrolled on its first-run screen, the enrolled one. Tests outside
// the package (kiosk/kiosktest) read the kiosk's id from it.
func (u *UI) Config() Config { return u.cfg }

// Session is the current person's session.
func (u *UI) Session() *Session { return u.session }

// Prefs are the display choices in force.
func (u *UI) Prefs() Prefs { return u.prefs }

// Current is the screen shown.
func (u *UI) Current() Screen { return u.cur }

// ReadAloudText is the text of the screen shown, for the read-aloud button
// and the voice issue.
func (u *UI) ReadAloudText() string {
	if u.cur == nil {
		return ""
	}
	return u.cur.ReadAloudText()
}

// SetPrefs changes language, text size and contrast and redraws.
func (u *UI) SetPrefs(p Prefs) {
	if !p.Lang.Valid() {
		p.Lang = DefaultLang
	}
	p.Scale = max(0, min(len(TextScales)-1, p.Scale))
	u.prefs = p
	u.applyTheme()
	u.render()
}

func (u *UI) theme() Theme {
	return Theme{Lang: u.prefs.Lang, Scale: TextScales[u.prefs.Scale], HighContrast: u.prefs.HighContrast}
}

func (u *UI) applyTheme() {
	fyne.CurrentApp().Settings().SetTheme(u.theme())
}

// push shows screen id on top of the stack.
func (u *UI) push(id screenID) { u.pushScreen(u.screenOf(id)) }

func (u *UI) pushScreen(s screen) {
	u.leave()
	u.stack = append(u.stack, s)
	u.render()
}

// replace swaps the top of the stack for screen id (a wizard step that
// must not be returned to, such as the receipt).
func (u *UI) replace(id screenID) { u.replaceScreen(u.screenOf(id)) }

func (u *UI) replaceScreen(s screen) {
	u.leave()
	u.stack[len(u.stack)-1] = s
	u.render()
}

// Back returns to the previous screen; on the home screen it does nothing.
func (u *UI) Back() {
	u.Touch()
	if len(u.stack) <= 1 {
		return
	}
	u.leave()
	u.stack = u.stack[:len(u.stack)-1]
	u.render()
}

// Home forgets the session (and signs out an official) and shows the home
// screen: nothing a person typed stays for the next one.
func (u *UI) Home() {
	u.Touch()
	u.leave()
	u.session.Clear()
	u.asked.Clear()
	u.staff = nil
	u.stack = []screen{u.screenOf(u.rootScreen())}
	u.render()
}

// backTo pops screens until one with id is on top (staff menu after an
// assisted sign-up), or goes home when there is none.
func (u *UI) backTo(id screenID) {
	for i := len(u.stack) - 1; i >= 0; i-- {
		if u.stack[i].id == id {
			u.leave()
			u.stack = u.stack[:i+1]
			u.render()
			return
		}
	}
	u.Home()
}

// Push shows a Feature's page.
func (u *UI) Push(p Page) {
	u.pushScreen(screen{id: screenID(p.ID()), build: func() *page { return u.featurePage(p) }})
}

func (u *UI) leave() {
	u.opt.Speaker.Stop()
	if u.cur != nil && u.cur.onLeave != nil {
		u.cur.onLeave()
	}
}

// Reset clears everything a person left behind: the session, an
// official's sign-in, their display choices, every screen; and shows the
// home screen. The idle timer calls it.
func (u *UI) Reset() {
	u.hideIdleWarning()
	u.leave()
	u.session.Clear()
	u.asked.Clear()
	u.staff = nil
	u.prefs = Prefs{Lang: DefaultLang}
	u.applyTheme()
	u.stack = []screen{u.screenOf(u.rootScreen())}
	u.render()
	u.armIdle()
}

// render builds the top screen's page and shows it in the frame.
func (u *UI) render() {
	s := u.stack[len(u.stack)-1]
	p := s.build()
	p.id = string(s.id)
	u.cur = p
	u.w.SetContent(u.frame(p))
	if p.onShow != nil {
		p.onShow()
	}
}

// page is one screen's content as the screens build it; the frame adds
// the title bar and the bottom bar.
type page struct {
	id     string
	title  string
	body   []fyne.CanvasObject
	speech []string
	// next is the primary action at the bottom right; extra more
	// buttons on the bottom bar's left.
	next  *widget.Button
	extra []fyne.CanvasObject
	err   *widget.Label
	// step is the wizard step (1-5), 0 outside the wizard; steps the
	// number of steps when not the sign-up wizard's.
	step   int
	steps  int
	home   bool // the home screen draws its own top
	noBack bool // the receipt: going back would resubmit
	// noHome drops the home button: before enrolment there is no home
	// screen to go to.
	noHome bool
	// mute drops the read-aloud button: while the microphone listens,
	// the kiosk must not record its own voice.
	mute    bool
	back    func() // what the back button does instead of Back
	onShow  func()
	onLeave func()
	u       *UI
}

func (u *UI) newPage(title string) *page {
	p := &page{title: title, err: errorLabel(), u: u}
	if title != "" {
		p.speech = append(p.speech, title)
	}
	return p
}

// ID implements Screen.
func (p *page) ID() string { return p.id }

// ReadAloudText implements Screen: the title, every text of the body and
// any message shown.
func (p *page) ReadAloudText() string {
	s := append([]string(nil), p.speech...)
	if p.err.Visible() && p.err.Text != "" {
		s = append(s, p.err.Text)
	}
	return strings.Join(s, "\n")
}

func (p *page) say(s ...string) { p.speech = append(p.speech, s...) }

func (p *page) add(objs ...fyne.CanvasObject) { p.body = append(p.body, objs...) }

// text adds body text.
func (p *page) text(s string) *widget.Label {
	l := wrapLabel(s)
	p.add(l)
	p.say(s)
	return l
}

// heading adds a bold line.
func (p *page) heading(s string) *widget.Label {
	l := headingLabel(s)
	p.add(l)
	p.say(s)
	return l
}

// fail shows a message in place of the screen's error line.
func (p *page) fail(msg string) {
	p.err.Importance = widget.DangerImportance
	p.err.SetText(msg)
	p.err.Show()
}

// note shows, in the same place, a message that is no error: nothing went
// wrong, there is just nothing yet (an answer not given yet).
func (p *page) note(msg string) {
	p.err.Importance = widget.MediumImportance
	p.err.SetText(msg)
	p.err.Show()
}

func (p *page) clearFail() { p.err.Hide() }

// failErr shows err to the person: its translation when it is an input
// error, a general message otherwise (and logs the cause).
func (p *page) failErr(err error, general string) {
	var ie *InputError
	if errors.As(err, &ie) {
		p.fail(ie.Message(p.u.Lang()))
		return
	}
	p.u.log.Error("kiosk action failed", "screen", p.id, "err", err)
	p.fail(p.u.T(general))
}

// button makes a kiosk button: a tap also tells the idle timer someone is
// there.
func (u *UI) button(label string, icon fyne.Resource, imp widget.Importance, f func()) *widget.Button {
	b := widget.NewButtonWithIcon(label, icon, func() {
		u.Touch()
		f()
	})
	b.Importance = imp
	return b
}

// frame puts a page into the kiosk's frame: back, title, read aloud and
// home on top; the error line and the actions at the bottom.
func (u *UI) frame(p *page) fyne.CanvasObject {
	body := container.NewVScroll(container.NewPadded(vbox(p.body...)))
	u.scroll = body
	if p.home {
		return container.NewPadded(body)
	}
	readAloud := u.button(u.T("nav.read_aloud"), theme.VolumeUpIcon(), widget.MediumImportance, u.speakScreen)
	home := u.button(u.T("nav.home"), theme.HomeIcon(), widget.MediumImportance, u.Home)
	var left fyne.CanvasObject
	if !p.noBack {
		back := u.Back
		if p.back != nil {
			back = p.back
		}
		left = u.button(u.T("nav.back"), theme.NavigateBackIcon(), widget.MediumImportance, back)
	}
	title := headingLabel(p.title)
	title.SizeName = theme.SizeNameHeadingText
	title.Alignment = fyne.TextAlignCenter
	corner := container.NewHBox()
	if !p.mute {
		corner.Add(readAloud)
	}
	if !p.noHome {
		corner.Add(home)
	}
	top := container.NewBorder(nil, nil, left, corner, title)

	var stepLabel fyne.CanvasObject
	if p.step > 0 {
		total := wizardSteps
		if p.steps > 0 {
			total = p.steps
		}
		l := widget.NewLabel(u.T("nav.step", "n", p.step, "total", total))
		l.TextStyle = fyne.TextStyle{Bold: true}
		stepLabel = l
	}
	var right fyne.CanvasObject
	if p.next != nil {
		right = p.next
	}
	leftObjs := p.extra
	if stepLabel != nil {
		leftObjs = append([]fyne.CanvasObject{stepLabel}, p.extra...)
	}
	actions := container.NewBorder(nil, nil, container.NewHBox(leftObjs...), right)
	if stepLabel == nil && len(p.extra) == 0 {
		actions = container.NewBorder(nil, nil, nil, right)
	}
	bottom := vbox(widget.NewSeparator(), p.err, actions)
	return container.NewPadded(container.NewBorder(vbox(top, widget.NewSeparator()), bottom, nil, nil, body))
}

// speakScreen reads the screen aloud.
func (u *UI) speakScreen() {
	u.speak(u.ReadAloudText())
}

func (u *UI) speak(text string) {
	sp, lang := u.opt.Speaker, u.prefs.Lang
	u.opt.Go(func() {
		if err := sp.Speak(context.Background(), lang, text); err != nil {
			u.log.Warn("read aloud failed", "err", err)
		}
	})
}

// featurePage wraps a Feature's page in the kiosk's frame.
func (u *UI) featurePage(fp Page) *page {
	p := u.newPage(fp.Title(u))
	p.add(fp.Content(u))
	p.speech = []string{fp.ReadAloudText(u)}
	return p
}

// Touch restarts the idle timer; it dismisses the idle warning.
func (u *UI) Touch() {
	if u.idleUp != nil {
		u.hideIdleWarning()
	}
	u.armIdle()
}

// pristine reports whether there is nothing to clear: the home screen in
// the default language with an empty session.
func (u *UI) pristine() bool {
	return len(u.stack) == 1 && u.stack[0].id == u.rootScreen() && u.session.Empty() && len(u.asked.Recent()) == 0 &&
		u.staff == nil && u.prefs == (Prefs{Lang: DefaultLang})
}

func (u *UI) armIdle() {
	if u.idleStop != nil {
		u.idleStop()
	}
	u.idleGen++
	gen := u.idleGen
	u.idleStop = u.clock.AfterFunc(time.Duration(u.cfg.IdleSeconds)*time.Second, func() {
		if gen != u.idleGen {
			return // a touch re-armed the timer after this one fired
		}
		if u.pristine() {
			u.armIdle()
			return
		}
		u.showIdleWarning()
	})
}

// showIdleWarning asks whether the person is still there and counts down;
// at zero it clears everything.
func (u *UI) showIdleWarning() {
	u.idleLeft = u.cfg.IdleWarningSeconds
	u.idleText = wrapLabel(u.T("idle.body", "seconds", u.idleLeft))
	u.idleText.Alignment = fyne.TextAlignCenter
	title := headingLabel(u.T("idle.title"))
	title.Alignment = fyne.TextAlignCenter
	cont := u.button(u.T("idle.continue"), theme.ConfirmIcon(), widget.HighImportance, func() {})
	content := container.NewStack(spacer(760, 0), vbox(title, u.idleText, spacer(0, 16), cont))
	u.idleUp = widget.NewModalPopUp(container.NewPadded(content), u.w.Canvas())
	u.idleUp.Show()
	u.idleGen++
	gen := u.idleGen
	var tick func()
	tick = func() {
		if gen != u.idleGen {
			return
		}
		u.idleLeft--
		if u.idleLeft <= 0 {
			u.Reset()
			return
		}
		u.idleText.SetText(u.T("idle.body", "seconds", u.idleLeft))
		u.idleStop = u.clock.AfterFunc(time.Second, tick)
	}
	u.idleStop = u.clock.AfterFunc(time.Second, tick)
}

func (u *UI) hideIdleWarning() {
	if u.idleUp != nil {
		u.idleUp.Hide()
		u.idleUp = nil
	}
}

// IdleWarningShown reports whether the idle warning is on screen.
func (u *UI) IdleWarningShown() bool { return u.idleUp != nil }

// IdleWarningText is the warning's text, for read-aloud.
func (u *UI) IdleWarningText() string {
	if u.idleUp == nil {
		return ""
	}
	return u.T("idle.title") + "\n" + u.idleText.Text
}

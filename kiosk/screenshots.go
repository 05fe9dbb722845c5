package kiosk

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	stdsync "sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"allimi"
	"allimi/subsidy"
	"allimi/sync"
	"allimi/voice"
)

// ScreenshotSize is the size screenshots are rendered at: a common kiosk
// panel (1280×800) at scale 1. A screen whose content is taller than the
// panel is rendered at its full height, so that the picture shows every
// text the person can scroll to.
var ScreenshotSize = fyne.NewSize(1280, 800)

// Shot is one screen state to render.
type Shot struct {
	Name  string
	setup func(u *UI)
}

// Shots lists every screen (and the idle warning) in the state a person
// sees it, for screenshots and for the tests that check every screen.
func Shots() []Shot {
	official := &StaffMember{ID: "official-01", Name: "김민지"}
	fillWho := func(u *UI) {
		s := u.session
		s.Name, s.Mobile = "김영희", "010-1234-5678"
		s.BirthYear, s.BirthMonth, s.BirthDay = 1948, 5, 17
	}
	fillChoices := func(u *UI) {
		fillWho(u)
		s := u.session
		s.Types[allimi.TypeHealthCheckup] = true
		s.Types[allimi.TypeVaccination] = true
		s.Types[allimi.TypeRelief] = true
		s.Channels[allimi.ChannelKakao] = true
	}
	show := func(ss ...screen) func(u *UI) {
		return func(u *UI) {
			u.stack = append([]screen{homeScreen}, ss...)
			u.render()
		}
	}
	staff := func(u *UI) { u.staff = official }
	return []Shot{
		{"home", func(u *UI) {}},
		{"home-high-contrast", func(u *UI) { u.SetPrefs(Prefs{Lang: u.prefs.Lang, HighContrast: true}) }},
		{"home-text-150", func(u *UI) { u.SetPrefs(Prefs{Lang: u.prefs.Lang, Scale: 2}) }},
		{"signup-who", func(u *UI) { fillWho(u); show(whoScreen)(u) }},
		// The on-screen keyboards in the high-contrast palette.
		{"signup-who-high-contrast", func(u *UI) {
			u.SetPrefs(Prefs{Lang: u.prefs.Lang, HighContrast: true})
			fillWho(u)
			show(whoScreen)(u)
		}},
		{"signup-who-error", func(u *UI) {
			fillWho(u)
			u.session.Mobile = "011-123-4567"
			show(whoScreen)(u)
			u.cur.next.OnTapped()
		}},
		{"signup-types", func(u *UI) { fillChoices(u); show(whoScreen, typesScreen)(u) }},
		{"signup-channels", func(u *UI) { fillChoices(u); show(whoScreen, typesScreen, channelsScreen)(u) }},
		{"signup-consent", func(u *UI) { fillChoices(u); show(whoScreen, typesScreen, channelsScreen, consentScreen)(u) }},
		{"signup-verify", func(u *UI) { fillChoices(u); show(whoScreen, typesScreen, channelsScreen, verifyScreen)(u) }},
		{"signup-done", func(u *UI) {
			fillChoices(u)
			show(whoScreen, typesScreen, channelsScreen, consentScreen)(u)
			u.finishSignup(u.cur)
		}},
		{"signup-declined", show(declinedScreen)},
		{"staff-pin", show(staffPINScreen)},
		{"staff-menu", func(u *UI) { staff(u); show(staffMenuScreen)(u) }},
		{"staff-assisted-consent", func(u *UI) {
			staff(u)
			fillChoices(u)
			u.session.Official = official
			u.session.Method = allimi.MethodPaper
			show(staffMenuScreen, whoScreen, typesScreen, channelsScreen, consentScreen)(u)
		}},
		{"staff-today", func(u *UI) {
			staff(u)
			now := u.clock.Now()
			_ = u.opt.Today.Add(TodayEntry{At: now.Add(-2 * time.Hour), Kind: allimi.KindSignup, Name: "김*희", Mobile: "010-****-5678",
				Types: []allimi.NotificationType{allimi.TypeHealthCheckup, allimi.TypeVaccination}, Receipt: "7KQ2-MXR4-TD9P"})
			_ = u.opt.Today.Add(TodayEntry{At: now.Add(-time.Hour), Kind: allimi.KindSignup, Name: "박*수", Mobile: "010-****-1234",
				Types: []allimi.NotificationType{allimi.TypeRelief}, Official: official.ID, Receipt: "H3WN-8CFA-2LJE"})
			_ = u.opt.Today.Add(TodayEntry{At: now.Add(-30 * time.Minute), Kind: allimi.KindConsent, Name: "이*", Mobile: "010-****-9876",
				Types: []allimi.NotificationType{allimi.TypeTrafficFine}, Official: official.ID})
			show(staffMenuScreen, staffTodayScreen)(u)
		}},
		{"staff-withdraw", func(u *UI) {
			staff(u)
			fillWho(u)
			u.session.Official = official
			show(staffMenuScreen, staffWithdrawScreen)(u)
		}},
		{"staff-withdraw-confirm", func(u *UI) {
			staff(u)
			fillWho(u)
			u.session.Official = official
			u.session.Method = allimi.MethodSpoken
			for _, ti := range allimi.SignupTypes() {
				u.session.Types[ti.ID] = true
			}
			show(staffMenuScreen, staffWithdrawScreen, staffWithdraw2)(u)
		}},
		{"staff-withdraw-done", func(u *UI) { staff(u); show(staffMenuScreen, staffWithdrawDone)(u) }},
		{"staff-sync", func(u *UI) { staff(u); show(staffMenuScreen, staffSyncScreen)(u) }},
		{"staff-conflicts", func(u *UI) { staff(u); show(staffMenuScreen, staffConflicts)(u) }},
		{"subsidy", func(u *UI) { u.opt.Subsidy.Start(u) }},
		{"subsidy-birth", subsidyShow(fillSubsidy, subsidyBirthScreen)},
		{"subsidy-birth-error", func(u *UI) {
			subsidyShow(func(u *UI) { u.session.BirthYear, u.session.BirthMonth, u.session.BirthDay = 1951, 2, 30 }, subsidyBirthScreen)(u)
			u.cur.next.OnTapped()
		}},
		{"subsidy-sex", subsidyShow(fillSubsidy, subsidyBirthScreen, subsidySexScreen)},
		{"subsidy-size", subsidyShow(fillSubsidy, subsidyBirthScreen, subsidySexScreen, subsidySizeScreen)},
		{"subsidy-income", subsidyShow(fillSubsidy, subsidyBirthScreen, subsidySexScreen, subsidySizeScreen, subsidyIncomeScreen)},
		{"subsidy-traits", subsidyShow(fillSubsidy, subsidyIncomeScreen, subsidyTraitsScreen)},
		{"subsidy-household", subsidyShow(fillSubsidy, subsidyTraitsScreen, subsidyHouseholdScreen)},
		{"subsidy-results", subsidyShow(fillSubsidy, subsidyHouseholdScreen, subsidyResultsScreen)},
		{"subsidy-new-benefits-consent", func(u *UI) {
			subsidyShow(fillSubsidy, subsidyResultsScreen)(u)
			u.cur.next.OnTapped() // the offer: to the who step
			fillWho(u)
			u.session.Channels[allimi.ChannelKakao] = true
			u.stack = append(u.stack, channelsScreen, consentScreen)
			u.render()
		}},
		{"voice", func(u *UI) { u.opt.Voice.Start(u) }},
		{"ask-typing", func(u *UI) {
			u.asked.Add("기초연금 신청은 어디서 하나요")
			u.opt.Voice.Start(u)
			u.session.Ask.Draft = "주거급"
			u.render()
		}},
		{"ask-answer", askShow("집세 보태 주는 거 있어요")},
		{"ask-answer-none", askShow("zzzz")},
		{"ask-thanks", func(u *UI) {
			askShow("집세 보태 주는 거 있어요")(u)
			u.stack = append(u.stack, askThanksScreen)
			u.render()
		}},
		{"ask-listening", func(u *UI) {
			u.opt.Voice.Start(u)
			u.session.Ask.listen = &listenRun{mode: listenAsk, stop: func() {}, abandon: func() {}}
			u.push(askListenScreen)
		}},
		{"ask-voice-offer", func(u *UI) {
			u.opt.Voice.Start(u)
			u.startListening(listenAsk) // the demo recogniser is not installed
		}},
		{"handover-question", func(u *UI) {
			u.opt.Voice.Start(u)
			u.startHandover(demoQuestion, demoRecording(7*time.Second), false)
		}},
		{"handover-reply", func(u *UI) {
			u.opt.Voice.Start(u)
			u.startHandover(demoQuestion, demoRecording(7*time.Second), true)
			u.session.Ask.Handover.Reply, u.session.Ask.Handover.Chosen = allimi.ChannelKakao, true
			u.render()
		}},
		{"handover-contact", handoverContactShot},
		{"handover-slip-channel", func(u *UI) {
			handoverContactShot(u)
			u.cur.next.OnTapped()
		}},
		{"handover-slip", func(u *UI) {
			u.opt.Voice.Start(u)
			u.startHandover(demoQuestion, demoRecording(7*time.Second), true)
			u.session.Ask.Handover.Chosen = true
			u.cur.next.OnTapped()
		}},
		{"handover-check", func(u *UI) {
			u.opt.Voice.Start(u)
			u.startCheck()
			u.session.Ask.Handover.CheckDraft = demoWaitingCode
			u.render()
			u.cur.next.OnTapped() // not answered yet
		}},
		{"handover-answer", func(u *UI) {
			u.opt.Voice.Start(u)
			u.startCheck()
			u.session.Ask.Handover.CheckDraft = demoHandoverCode
			u.render()
			u.cur.next.OnTapped()
		}},
		// A kiosk's first run: central's address and the one-time code.
		{"enrol", enrolShot(func(u *UI) {})},
		{"enrol-error", enrolShot(func(u *UI) { u.cur.next.OnTapped() })},
		{"idle-warning", func(u *UI) { fillWho(u); show(whoScreen)(u); u.showIdleWarning() }},
	}
}

// handoverContactShot is the hand-over's contact step, filled in.
func handoverContactShot(u *UI) {
	u.opt.Voice.Start(u)
	u.startHandover(demoQuestion, voice.WAV{}, true)
	h := &u.session.Ask.Handover
	h.Reply, h.Chosen, h.Name, h.Mobile = allimi.ChannelKakao, true, "김영희", "010-1234-5678"
	u.push(handoverContactScreen)
}

// fillSubsidy answers 보조금 찾기's questions as a person might.
func fillSubsidy(u *UI) {
	s := u.session
	s.BirthYear, s.BirthMonth, s.BirthDay = 1951, 4, 2
	a := &s.Subsidy
	a.Sex, a.Size, a.Income = subsidy.SexFemale, 1, "JA0202"
	a.Traits, a.TraitsKnown = map[string]bool{"JA0328": true}, true
	a.Household, a.HouseholdKnown = map[string]bool{"JA0404": true}, true
}

// subsidyShow starts 보조금 찾기, answers with fill and shows screens on
// top of its first page.
func subsidyShow(fill func(u *UI), ss ...screen) func(u *UI) {
	return func(u *UI) {
		u.opt.Subsidy.Start(u)
		fill(u)
		u.stack = append(u.stack, ss...)
		u.render()
	}
}

// askShow starts 말로 물어보기 and shows what it finds for question.
func askShow(question string) func(u *UI) {
	return func(u *UI) {
		u.opt.Voice.Start(u)
		u.askSearch(u.cur, question)
	}
}

// RenderScreenshots renders every shot in every language with Fyne's
// software renderer (no display needed) to dir/{lang}/{shot}.png.
func RenderScreenshots(dir string, langs []Lang, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	// Fyne's test driver runs UI calls inline only off the main goroutine;
	// on it (a command's main) it defers them to other goroutines, which
	// would race the rendering.
	done := make(chan error, 1)
	go func() { done <- renderScreenshots(dir, langs, log) }()
	return <-done
}

func renderScreenshots(dir string, langs []Lang, log *slog.Logger) error {
	test.NewApp()
	for _, l := range langs {
		if err := os.MkdirAll(filepath.Join(dir, string(l)), 0o755); err != nil {
			return fmt.Errorf("screenshots: %w", err)
		}
		for _, shot := range Shots() {
			img := RenderShot(shot, l)
			path := filepath.Join(dir, string(l), shot.Name+".png")
			if err := writePNG(path, img); err != nil {
				return fmt.Errorf("screenshots: %w", err)
			}
			log.Info("screenshot", "path", path, "size", img.Bounds().Size())
		}
	}
	return nil
}

// RenderShot renders one shot in language l on a fresh test window of the
// current (test) app.
func RenderShot(shot Shot, l Lang) image.Image {
	u, w := NewDemoUI(test.NewWindow(nil))
	defer w.Close()
	w.Resize(ScreenshotSize)
	u.Start()
	u.SetPrefs(Prefs{Lang: l})
	shot.setup(u)
	return captureFull(u, w)
}

// captureFull captures w, first growing it to the height its content
// needs when that is more than the panel's, so that the picture shows
// what the person would scroll to.
func captureFull(u *UI, w fyne.Window) image.Image {
	// Wrapped text is measured at the width it was last laid out at, so
	// growing the window can change what it needs: grow until it fits.
	for i := 0; i < 5 && u.scroll != nil; i++ {
		sc := u.scroll
		over := sc.Content.MinSize().Height - sc.Size().Height
		if over <= 0 {
			break
		}
		w.Resize(fyne.NewSize(ScreenshotSize.Width, w.Canvas().Size().Height+over+2))
	}
	// A message shown after the screen was laid out (an input error)
	// changes a box's height; lay everything out again, as a real
	// window does on its next frame.
	w.Content().Refresh()
	return w.Canvas().Capture()
}

// NewDemoUI builds a kiosk UI on w with stand-in parts: an in-memory
// outbox, a sync health and conflicts of a kiosk in use, and a clock whose
// timers never fire (the screenshots are still pictures).
func NewDemoUI(w fyne.Window) (*UI, fyne.Window) {
	cfg := Config{ID: "demo-kiosk", Region: "경기/성남시", Staff: []StaffMember{{ID: "official-01", Name: "김민지"}}}.WithDefaults()
	var finder Feature
	if cat, err := demoSubsidyCatalog(); err == nil {
		region, _ := subsidy.ParseRegion(cfg.Region)
		finder = NewSubsidyFinder(cat, region)
	}
	var adviser Feature
	if ix, err := builtinConsultIndex(); err == nil {
		a := NewAdviser(ix)
		// A kiosk as this one: a microphone, no recogniser installed,
		// hand-over to officials.
		a.Listener, a.Transcriber, a.Handover = demoListener{}, demoTranscriber{}, demoHandover{}
		adviser = a
	}
	u := New(w, Options{
		Subsidy:   finder,
		Voice:     adviser,
		Config:    cfg,
		Recorder:  &MemoryRecorder{Kiosk: cfg.ID, Seq: 41},
		Health:    demoHealth{},
		Conflicts: demoConflicts{},
		Verifier:  demoVerifier{},
		Today:     &MemoryToday{},
		Clock:     stillClock{at: time.Date(2026, 3, 14, 10, 30, 0, 0, time.Local)},
		Go:        func(f func()) { f() },
		Logger:    slog.New(slog.NewTextHandler(discard{}, nil)),
	})
	return u, w
}

// MemoryRecorder is a Recorder in memory: it numbers records like the
// outbox does and keeps them.
type MemoryRecorder struct {
	Kiosk  string
	Seq    uint64
	mu     stdsync.Mutex
	Events []allimi.Event
}

// Append implements Recorder.
func (m *MemoryRecorder) Append(drafts ...sync.Draft) ([]allimi.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []allimi.Event
	for _, d := range drafts {
		m.Seq++
		e := allimi.Event{V: allimi.EventVersion, Kiosk: m.Kiosk, Seq: m.Seq, Kind: d.Kind, Citizen: d.Citizen}
		out = append(out, e)
	}
	m.Events = append(m.Events, out...)
	return out, nil
}

type demoHealth struct{}

func (demoHealth) Health() (Health, error) {
	return Health{Connected: false, Pending: 3, LastSeq: 44, LastAck: 41,
		LastAckAt: time.Date(2026, 3, 14, 9, 58, 12, 0, time.Local),
		Catalogs:  map[string]uint64{"kb": 7, "subsidy": 12, "types": 3}}, nil
}

type demoConflicts struct{}

func (demoConflicts) Conflicts(context.Context) ([]allimi.Conflict, error) {
	return []allimi.Conflict{
		{ID: 7, Name: "최*자", Mobile: "010-****-4821", Type: allimi.TypeVaccination, Channel: allimi.ChannelKakao},
		{ID: 9, Name: "정*호", Mobile: "010-****-1190", Type: allimi.TypeHealthCheckup, Channel: allimi.ChannelSMS},
	}, nil
}

func (demoConflicts) Resolve(context.Context, uint64, allimi.ConsentAction, string) error { return nil }

// The demo hand-over's question, codes and answer.
const (
	demoQuestion     = "기초연금 받을 수 있나요"
	demoHandoverCode = "7KQ2-MXR4-TD9P"
	demoWaitingCode  = "H3V8-N2PQ-6WKE"
	demoAnswer       = "네, 만 65세 이상이시고 소득인정액이 선정기준액 이하이면 받으실 수 있습니다. 주민센터에 신분증과 통장 사본을 가지고 오셔서 신청하세요."
)

// demoRecording is d of silence as the microphone gives it.
func demoRecording(d time.Duration) voice.WAV {
	return voice.WAV{SampleRate: 16000, Channels: 1, Bits: 16, Data: make([]byte, int(d.Seconds()*16000)*2)}
}

// demoListener hears a few seconds: the screenshots never record.
type demoListener struct{}

func (demoListener) Listen(context.Context, time.Duration) (voice.WAV, error) {
	return demoRecording(3 * time.Second), nil
}

// demoTranscriber is the recogniser of a kiosk with no model installed.
type demoTranscriber struct{}

func (demoTranscriber) Transcribe(context.Context, voice.WAV) (string, error) {
	return "", voice.ErrNoRecognizer
}

// demoHandover takes every question and has answered demoHandoverCode.
type demoHandover struct{}

func (demoHandover) Submit(HandoverQuestion) (string, error) { return demoHandoverCode, nil }
func (demoHandover) Answer(_ context.Context, code string) (string, bool, error) {
	switch code {
	case demoHandoverCode:
		return demoAnswer, true, nil
	case demoWaitingCode:
		return "", false, nil
	}
	return "", false, ErrNoSuchQuestion
}

type demoVerifier struct{}

func (demoVerifier) RequestCode(context.Context, string) error { return nil }
func (demoVerifier) CheckCode(context.Context, string, string) (bool, error) {
	return true, nil
}

// stillClock is a clock stopped at one moment whose timers never fire.
type stillClock struct{ at time.Time }

func (c stillClock) Now() time.Time                              { return c.at }
func (stillClock) AfterFunc(time.Duration, func()) (stop func()) { return func() {} }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, paletted(img)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// paletted reduces a screenshot to its 256 most frequent colours, mapping
// the rest (anti-aliased edges) to the nearest: a flat UI loses nothing
// visible, and the PNGs in docs/ shrink to about a third.
func paletted(img image.Image) image.Image {
	b := img.Bounds()
	count := map[color.NRGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
		}
	}
	cs := make([]color.NRGBA, 0, len(count))
	for c := range count {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if count[cs[i]] != count[cs[j]] {
			return count[cs[i]] > count[cs[j]]
		}
		a, b := cs[i], cs[j]
		return uint32(a.R)<<24|uint32(a.G)<<16|uint32(a.B)<<8|uint32(a.A) < uint32(b.R)<<24|uint32(b.G)<<16|uint32(b.B)<<8|uint32(b.A)
	})
	if len(cs) > 256 {
		cs = cs[:256]
	}
	pal := make(color.Palette, len(cs))
	for i, c := range cs {
		pal[i] = c
	}
	out := image.NewPaletted(b, pal)
	index := map[color.NRGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}

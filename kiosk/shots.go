package kiosk

import (
	"time"

	"fyne.io/fyne/v2"

	"allimi"
	"allimi/subsidy"
	"allimi/voice"
)

// ScreenshotSize is the kiosk's window: a common kiosk panel (1280×800)
// at scale 1, and the size screenshots are rendered at (package
// kiosk/screenshot), which grows a screen taller than the panel to its
// full height (UI.Overflow).
var ScreenshotSize = fyne.NewSize(1280, 800)

// Shot is one screen state, as a person sees it: the hook through which
// package kiosk/screenshot and the tests that check every screen reach
// each screen without the kiosk's internals.
type Shot struct {
	// Name names the state ("signup-who-error"): the screenshot's file.
	Name  string
	setup func(u *UI)
}

// Setup brings u, a started kiosk built by NewDemoUI, to the state.
func (s Shot) Setup(u *UI) { s.setup(u) }

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
	show := func(ids ...screenID) func(u *UI) {
		return func(u *UI) {
			u.stack = []screen{u.screenOf(homeScreen)}
			for _, id := range ids {
				u.stack = append(u.stack, u.screenOf(id))
			}
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
			u.stack = append(u.stack, u.screenOf(channelsScreen), u.screenOf(consentScreen))
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
			u.stack = append(u.stack, u.screenOf(askThanksScreen))
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
func subsidyShow(fill func(u *UI), ids ...screenID) func(u *UI) {
	return func(u *UI) {
		u.opt.Subsidy.Start(u)
		fill(u)
		for _, id := range ids {
			u.stack = append(u.stack, u.screenOf(id))
		}
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

// Overflow is how much taller the body of the screen shown is than the
// room the window gives it, 0 when it fits: package kiosk/screenshot grows
// its window by it so that the picture shows what a person would scroll to.
func (u *UI) Overflow() float32 {
	if u.scroll == nil {
		return 0
	}
	return max(0, u.scroll.Content.MinSize().Height-u.scroll.Size().Height)
}

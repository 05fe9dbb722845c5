package kiosk

import "allimi/subsidy"

// screenID names one of the kiosk's own screens; it is the id the tests
// and the screenshots know it by (Screen.ID).
type screenID string

// Every screen of the kiosk. Its page and how a person reaches it are in
// screenTable, below.
const (
	enrolScreen screenID = "enrol"
	homeScreen  screenID = "home"

	whoScreen      screenID = "signup-who"
	typesScreen    screenID = "signup-types"
	channelsScreen screenID = "signup-channels"
	consentScreen  screenID = "signup-consent"
	verifyScreen   screenID = "signup-verify"
	declinedScreen screenID = "signup-declined"
	// signup-done is built for its record (finishSignup), not from the
	// table: it shows that record's receipt.
	doneScreen screenID = "signup-done"

	staffPINScreen      screenID = "staff-pin"
	staffMenuScreen     screenID = "staff-menu"
	staffTodayScreen    screenID = "staff-today"
	staffWithdrawScreen screenID = "staff-withdraw"
	staffWithdraw2      screenID = "staff-withdraw-confirm"
	staffWithdrawDone   screenID = "staff-withdraw-done"
	staffSyncScreen     screenID = "staff-sync"
	staffConflicts      screenID = "staff-conflicts"

	subsidyStartScreen     screenID = "subsidy-start"
	subsidyBirthScreen     screenID = "subsidy-birth"
	subsidySexScreen       screenID = "subsidy-sex"
	subsidySizeScreen      screenID = "subsidy-size"
	subsidyIncomeScreen    screenID = "subsidy-income"
	subsidyTraitsScreen    screenID = "subsidy-traits"
	subsidyHouseholdScreen screenID = "subsidy-household"
	subsidyResultsScreen   screenID = "subsidy-results"

	askQuestionScreen   screenID = "ask-question"
	askAnswerScreen     screenID = "ask-answer"
	askThanksScreen     screenID = "ask-thanks"
	askListenScreen     screenID = "ask-listening"
	askVoiceOfferScreen screenID = "ask-voice-offer"

	handoverQuestionScreen screenID = "handover-question"
	handoverReplyScreen    screenID = "handover-reply"
	handoverContactScreen  screenID = "handover-contact"
	handoverSlipScreen     screenID = "handover-slip"
	handoverCheckScreen    screenID = "handover-check"
	handoverAnswerScreen   screenID = "handover-answer"
)

// screenTable is every screen of the kiosk with the page that builds it,
// and (in its comment) the way a person gets there. New builds it once
// per UI: the pages refer to each other in a cycle, which a table of
// method values breaks without any package-level state.
func (u *UI) screenTable() map[screenID]func() *page {
	return map[screenID]func() *page{
		// The root of the stack: enrol until the kiosk has an id
		// (rootScreen), then home; nav.home and the idle timer go back.
		enrolScreen: u.enrolPage,
		homeScreen:  u.homePage,

		// 알림 신청 (home → startSignup); the staff menu's assisted
		// sign-up and withdrawal; 보조금 찾기's new-benefits offer.
		whoScreen:      u.whoPage,      // → types (→ channels when only new benefits)
		typesScreen:    u.typesPage,    // → channels
		channelsScreen: u.channelsPage, // → consent
		consentScreen:  u.consentPage,  // → verify, done (finishSignup) or declined
		verifyScreen:   u.verifyPage,   // → done
		declinedScreen: u.declinedPage, // replaces consent when the person says no

		// 직원 (home → openStaff): the PIN, then the menu.
		staffPINScreen:      u.pinPage,             // → menu (replaces the PIN)
		staffMenuScreen:     u.staffMenuPage,       // → who, today, withdraw, sync, conflicts
		staffTodayScreen:    u.todayPage,           // menu → today
		staffWithdrawScreen: u.withdrawWhoPage,     // menu → withdraw → confirm
		staffWithdraw2:      u.withdrawConfirmPage, // → done
		staffWithdrawDone:   u.withdrawDonePage,    // replaces confirm
		staffSyncScreen:     u.syncPage,            // menu → sync
		staffConflicts:      u.conflictsPage,       // menu → conflicts

		// 보조금 찾기 (home → SubsidyFinder.Start → FindSubsidies): one
		// question a screen, each skippable, then the results.
		subsidyStartScreen:  u.subsidyStartPage,  // → birth
		subsidyBirthScreen:  u.subsidyBirthPage,  // → sex
		subsidySexScreen:    u.subsidySexPage,    // → size
		subsidySizeScreen:   u.subsidySizePage,   // → income
		subsidyIncomeScreen: u.subsidyIncomePage, // → traits
		subsidyTraitsScreen: func() *page { // → household
			return u.subsidyCodesPage(5, "subsidy.traits_title", subsidy.GroupTraits, subsidy.CodeNoTraits,
				&u.session.Subsidy.Traits, &u.session.Subsidy.TraitsKnown, subsidyHouseholdScreen)
		},
		subsidyHouseholdScreen: func() *page { // → results
			return u.subsidyCodesPage(6, "subsidy.household_title", subsidy.GroupHousehold, subsidy.CodeNoHousehold,
				&u.session.Subsidy.Household, &u.session.Subsidy.HouseholdKnown, subsidyResultsScreen)
		},
		subsidyResultsScreen: u.subsidyResultsPage, // → who (the new-benefits offer)

		// 말로 물어보기 (home → Adviser.Start → Ask): type or say a
		// question, read the answer.
		askQuestionScreen:   u.askQuestionPage,   // → answer, listening, hand-over, check
		askAnswerScreen:     u.askAnswerPage,     // → thanks, hand-over
		askThanksScreen:     u.askThanksPage,     // replaces answer after "was this helpful?"
		askListenScreen:     u.askListenPage,     // question → listening → answer or voice offer
		askVoiceOfferScreen: u.askVoiceOfferPage, // replaces listening when nothing was understood

		// 사람과 상담: a question for an official (startHandover), and
		// 답변 확인 (startCheck).
		handoverQuestionScreen: u.handoverQuestionPage, // → reply
		handoverReplyScreen:    u.handoverReplyPage,    // → contact or slip
		handoverContactScreen:  u.handoverContactPage,  // → slip
		handoverSlipScreen:     u.handoverSlipPage,     // the receipt code
		handoverCheckScreen:    u.handoverCheckPage,    // → answer
		handoverAnswerScreen:   u.handoverAnswerPage,
	}
}

// screen is an entry of the navigation stack: something that can build
// its page again (after a language or text size change).
type screen struct {
	id    screenID
	build func() *page
}

// screenOf is the table's screen id.
func (u *UI) screenOf(id screenID) screen {
	build, ok := u.screens[id]
	if !ok {
		panic("kiosk: no screen " + string(id) + " in the screen table")
	}
	return screen{id: id, build: build}
}

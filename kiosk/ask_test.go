package kiosk

import (
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/outbox"
)

const askRent = "집세 보태 주는 거 있어요"

// newAskKiosk is a kiosk whose 말로 물어보기 searches the built-in
// knowledge base, with its records kept by a spy.
func newAskKiosk(t *testing.T) (*kioskUnderTest, *spyRecorder) {
	t.Helper()
	ix, err := builtinConsultIndex()
	require.NoError(t, err)
	// The real outbox, which validates the record as central will.
	db, err := outbox.OpenDB(filepath.Join(t.TempDir(), "kiosk"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ob, err := outbox.Open(db, "k1")
	require.NoError(t, err)
	rec := &spyRecorder{inner: ob}
	k := newKiosk(t, Options{Recorder: rec, Voice: NewAdviser(ix)})
	k.tap("home.ask")
	k.requireScreen("ask-question")
	return k, rec
}

func TestAsk_TypedQuestionShowsTheTopAnswer(t *testing.T) {
	k, _ := newAskKiosk(t)
	ix, _ := builtinConsultIndex()
	want, err := ix.Search(askRent, askAnswers)
	require.NoError(t, err)
	require.Len(t, want.Answers, askAnswers)

	k.typeInto("ask.hint", askRent)
	k.tap("ask.search")
	k.requireScreen("ask-answer")
	top := want.Answers[0]
	k.requireShows(top.Question)
	k.requireShows(top.Answer) // the answer as is, its caveat included
	assert.Contains(t, top.Answer, "정책 변경에 따라 수정")
	if !want.Confident {
		k.requireShows(k.ui.T("ask.unsure"))
	}
	// The other two are offered; tapping one shows it.
	k.tapText(want.Answers[1].Question)
	k.requireScreen("ask-answer")
	k.requireShows(want.Answers[1].Answer)
	require.Len(t, k.buttons(top.Question), 1, "the first answer is offered back")
	assert.Contains(t, k.ui.ReadAloudText(), want.Answers[1].Question)
}

func TestAsk_SuggestionsFollowTypingAndFillTheField(t *testing.T) {
	k, _ := newAskKiosk(t)
	ix, _ := builtinConsultIndex()
	k.typeInto("ask.hint", "주거급")
	ss := ix.Autocomplete("주거급", askSuggestions)
	require.NotEmpty(t, ss)
	for _, s := range ss {
		require.Len(t, k.buttons(s.Question), 1, "suggestion %q", s.Question)
	}
	k.tapText(ss[0].Question)
	assert.Equal(t, ss[0].Question, k.entry("ask.hint").Text)
	k.requireScreen("ask-question")
	// Searching the suggestion shows its entry first.
	k.tap("ask.search")
	k.requireScreen("ask-answer")
	k.requireShows(ss[0].Question)
	assert.Equal(t, ss[0].EntryID, k.ui.session.Ask.Result.Answers[0].ID)
}

func TestAsk_KeyboardTypesTheQuestion(t *testing.T) {
	k, _ := newAskKiosk(t)
	// ㅈ ㅣ ㅂ on the on-screen keyboard (w, l, q).
	for _, key := range []string{"ㅈ", "ㅣ", "ㅂ"} {
		bs := k.buttons(key)
		require.NotEmpty(t, bs, "key %s", key)
		test.Tap(bs[0])
	}
	assert.Equal(t, "집", k.entry("ask.hint").Text)
	assert.Equal(t, "집", k.ui.session.Ask.Draft)
}

func TestAsk_FeedbackStoresOneRecord(t *testing.T) {
	k, rec := newAskKiosk(t)
	k.typeInto("ask.hint", askRent)
	k.tap("ask.search")
	shown := k.ui.session.Ask.Result.Answers[0]
	yes := k.buttons(k.ui.T("ask.yes"))
	require.Len(t, yes, 1)
	// A double tap: the second lands on the button of the answer page
	// that is no longer shown.
	test.Tap(yes[0])
	test.Tap(yes[0])
	k.requireScreen("ask-thanks")
	k.requireShows(k.ui.T("ask.thanks"))

	evs := rec.Events()
	require.Len(t, evs, 1)
	assert.Equal(t, 1, rec.calls)
	assert.Equal(t, allimi.KindFeedback, evs[0].Kind)
	fb, err := evs[0].Feedback()
	require.NoError(t, err)
	assert.Equal(t, allimi.FeedbackPayload{Entry: shown.ID, Helpful: true}, fb)
	assert.NotContains(t, string(evs[0].Payload), "집세", "the question is not sent")
	assert.Empty(t, evs[0].Citizen, "no citizen")

	// Finish goes home and forgets the question.
	k.tap("done.finish")
	k.requireScreen("home")
	assert.Empty(t, k.ui.asked.Recent())
	assert.True(t, k.ui.session.Empty())
}

func TestAsk_NotHelpfulIsRecorded(t *testing.T) {
	k, rec := newAskKiosk(t)
	k.typeInto("ask.hint", askRent)
	k.tap("ask.search")
	shown := k.ui.session.Ask.Result.Answers[0]
	k.tap("ask.no")
	k.requireScreen("ask-thanks")
	evs := rec.Events()
	require.Len(t, evs, 1)
	fb, err := evs[0].Feedback()
	require.NoError(t, err)
	assert.Equal(t, allimi.FeedbackPayload{Entry: shown.ID, Helpful: false}, fb)
}

func TestAsk_NothingFoundSendsToTheCounter(t *testing.T) {
	k, rec := newAskKiosk(t)
	k.typeInto("ask.hint", "zzzz")
	k.tap("ask.search")
	k.requireScreen("ask-answer")
	k.requireShows(k.ui.T("ask.none"))
	assert.Empty(t, k.buttons(k.ui.T("ask.yes")), "no feedback on no answer")
	assert.Empty(t, rec.Events())
	k.tap("ask.again")
	k.requireScreen("ask-question")
	assert.Equal(t, "zzzz", k.entry("ask.hint").Text)
}

func TestAsk_EmptyQuestionAsksForOne(t *testing.T) {
	k, _ := newAskKiosk(t)
	k.tap("ask.search")
	k.requireScreen("ask-question")
	k.requireShows(k.ui.T("ask.empty"))
}

func TestAsk_RecentQuestionsShownThenClearedByIdle(t *testing.T) {
	k, _ := newAskKiosk(t)
	k.typeInto("ask.hint", askRent)
	k.tap("ask.search")
	k.tap("nav.back")
	k.requireScreen("ask-question")
	k.requireShows(k.ui.T("ask.recent"))
	require.Len(t, k.buttons(askRent), 1, "the recent question is offered")
	k.typeInto("ask.hint", "기초연금")

	// Walking away: the warning, then everything is cleared.
	k.clock.Advance(60 * time.Second)
	require.True(t, k.ui.IdleWarningShown())
	k.clock.Advance(10 * time.Second)
	k.requireScreen("home")
	assert.Empty(t, k.ui.asked.Recent())
	assert.True(t, k.ui.session.Empty())

	// The next person sees neither the question nor the text typed.
	k.tap("home.ask")
	k.requireScreen("ask-question")
	assert.Empty(t, k.entry("ask.hint").Text)
	assert.Empty(t, k.buttons(askRent))
	for _, s := range k.shownText() {
		assert.NotEqual(t, k.ui.T("ask.recent"), s)
	}
}

func TestAsk_ReadAnswerAloudSpeaksTheAnswer(t *testing.T) {
	ix, err := builtinConsultIndex()
	require.NoError(t, err)
	sp := &spySpeaker{}
	k := newKiosk(t, Options{Voice: NewAdviser(ix), Speaker: sp})
	k.tap("home.ask")
	k.typeInto("ask.hint", askRent)
	k.tap("ask.search")
	k.tap("ask.read_answer")
	shown := k.ui.session.Ask.Result.Answers[0]
	require.NotEmpty(t, sp.said)
	last := sp.said[len(sp.said)-1]
	assert.Contains(t, last, shown.Question)
	assert.Contains(t, last, "정책 변경에 따라")
}

func TestAsk_WithoutIndexSaysSo(t *testing.T) {
	k := newKiosk(t, Options{Voice: NewAdviser(nil)})
	k.tap("home.ask")
	k.requireScreen("ask-question")
	k.requireShows(k.ui.T("ask.no_kb"))
	for _, o := range k.objects() {
		_, isEntry := o.(*widget.Entry)
		assert.False(t, isEntry, "no field without a knowledge base")
	}
}

func TestLoadConsultIndex_FallsBackToBuiltin(t *testing.T) {
	ix, err := LoadConsultIndex(func(string) ([]byte, error) { return []byte("not a catalog"), nil }, quietLogger())
	require.NoError(t, err)
	builtin, _ := builtinConsultIndex()
	assert.Same(t, builtin, ix)
}

func TestAsk_AnotherQuestionStartsAfresh(t *testing.T) {
	k, _ := newAskKiosk(t)
	k.typeInto("ask.hint", askRent)
	k.tap("ask.search")
	k.tap("ask.yes")
	k.tap("ask.another")
	k.requireScreen("ask-question")
	assert.Empty(t, k.entry("ask.hint").Text)
	require.Len(t, k.buttons(askRent), 1, "still this person's recent question")
}

func TestAdviser_SetIndexIsUsedByTheNextSearch(t *testing.T) {
	ix, err := builtinConsultIndex()
	require.NoError(t, err)
	a := NewAdviser(nil)
	k := newKiosk(t, Options{Voice: a})
	k.tap("home.ask")
	k.requireShows(k.ui.T("ask.no_kb"))
	k.tap("nav.back")
	a.SetIndex(ix) // a catalog installed meanwhile
	k.tap("home.ask")
	k.typeInto("ask.hint", askRent)
	k.tap("ask.search")
	k.requireScreen("ask-answer")
	want, _ := ix.Search(askRent, askAnswers)
	k.requireShows(want.Answers[0].Question)
}

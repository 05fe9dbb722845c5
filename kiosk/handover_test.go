package kiosk

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/uplink"
	"allimi/sync/wire"
	"allimi/voice"
)

// fakeHandover keeps the questions submitted and answers from a table.
type fakeHandover struct {
	code      string // the receipt code Submit gives
	submitErr error
	submitted []HandoverQuestion

	answers   map[string]string // code → answer
	waiting   map[string]bool   // codes not answered yet
	answerErr error
	asked     []string
}

func (f *fakeHandover) Submit(q HandoverQuestion) (string, error) {
	if f.submitErr != nil {
		return "", f.submitErr
	}
	f.submitted = append(f.submitted, q)
	if f.code == "" {
		return "7KQ2M-XR4TD", nil
	}
	return f.code, nil
}

func (f *fakeHandover) Answer(_ context.Context, code string) (string, bool, error) {
	f.asked = append(f.asked, code)
	if f.answerErr != nil {
		return "", false, f.answerErr
	}
	if a, ok := f.answers[code]; ok {
		return a, true, nil
	}
	if f.waiting[code] {
		return "", false, nil
	}
	return "", false, fmt.Errorf("%s: %w", code, ErrNoSuchQuestion)
}

const pensionQuestion = "기초연금 받을 수 있나요"

// toHandover opens 사람과 상담 with question typed first.
func toHandover(k *kioskUnderTest, question string) {
	k.t.Helper()
	if question != "" {
		k.typeInto("ask.hint", question)
	}
	k.tap("ask.talk")
	k.requireScreen("handover-question")
}

func TestHandover_TypedQuestionAnsweredByMessenger(t *testing.T) {
	for _, tc := range []struct {
		lang Lang
		ch   allimi.Channel
	}{
		{LangKo, allimi.ChannelKakao},
		{LangVi, allimi.ChannelSMS},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			ho := &fakeHandover{code: "7KQ2M-XR4TD"}
			k, sp := voiceKiosk(t, nil, nil, ho, Options{})
			k.ui.SetPrefs(Prefs{Lang: tc.lang})
			toHandover(k, pensionQuestion)
			assert.Equal(t, pensionQuestion, k.entry("handover.hint").Text, "what was typed goes along")
			assert.Empty(t, k.buttons(k.ui.T("handover.record")), "no microphone, no recording")

			k.tap("nav.next")
			k.requireScreen("handover-reply")
			k.tapCard(k.ui.T(channelKey(tc.ch, "name")))
			k.tap("nav.next")
			k.requireScreen("handover-contact")
			k.requireShows(k.ui.T("handover.contact_help", "channel", k.ui.T(channelKey(tc.ch, "name"))))
			k.typeInto("who.name_hint", " 김영희 ")
			k.typeInto("who.mobile_hint", "01012345678")
			k.tap("handover.send")

			k.requireScreen("handover-slip")
			require.Len(t, ho.submitted, 1)
			assert.Equal(t, HandoverQuestion{Text: pensionQuestion, Lang: tc.lang, Reply: tc.ch,
				Name: "김영희", Mobile: "010-1234-5678"}, ho.submitted[0])

			k.requireShows("7KQ2M-XR4TD")
			k.requireShows(k.ui.T("handover.next_channel", "channel", k.ui.T(channelKey(tc.ch, "name")), "mobile", "010-****-5678"))
			assert.Contains(t, k.ui.ReadAloudText(), "7 K Q 2 M X R 4 T D", "the code is spelled out")
			require.NotEmpty(t, sp.said)
			assert.Equal(t, k.ui.ReadAloudText(), sp.said[len(sp.said)-1], "the slip is read aloud as it appears")
			// The QR code leads to central's page for the code.
			want, err := qrImage(ReceiptURL(k.ui.cfg.ReceiptURL, "7KQ2M-XR4TD"), 300)
			require.NoError(t, err)
			var qr bool
			for _, o := range k.objects() {
				if img, isImage := o.(*canvas.Image); isImage {
					qr = qr || reflect.DeepEqual(want.Image, img.Image)
				}
			}
			assert.True(t, qr, "the slip has the QR code of central's page for the code")
			k.requireShows(k.ui.T("handover.qr_hint"))
			assert.Empty(t, k.buttons(k.ui.T("nav.back")), "no way back to sending again")

			k.tap("done.finish")
			k.requireScreen("home")
			assert.True(t, k.ui.session.Empty())
		})
	}
}

func TestHandover_RecordedQuestionForTheSlip(t *testing.T) {
	wav := toneWAV(4 * time.Second)
	lst := &fakeListener{wav: wav}
	ho := &fakeHandover{}
	k, _ := voiceKiosk(t, lst, nil, ho, Options{})
	toHandover(k, "")
	k.tap("handover.record")
	k.requireScreen("handover-question")
	assert.Equal(t, []time.Duration{handoverListenMax}, lst.maxes, "a question for an official may take a minute")
	k.requireShows(k.ui.T("handover.recorded", "seconds", 4))
	require.Len(t, k.buttons(k.ui.T("handover.record_again")), 1)

	k.tap("nav.next")
	k.tapCard(k.ui.T("handover.slip_name"))
	k.tap("nav.next")
	k.requireScreen("handover-slip")
	require.Len(t, ho.submitted, 1)
	q := ho.submitted[0]
	sameWAV(t, wav, q.Audio, "the recording is sent")
	q.Audio = voice.WAV{}
	assert.Equal(t, HandoverQuestion{Lang: LangKo}, q)
	k.requireShows(k.ui.T("handover.next_slip"))
	assert.Zero(t, len(k.ui.session.Ask.Audio.Data), "once stored, the kiosk's screen keeps no copy of the voice")
}

func TestHandover_RecordingCanBeDeleted(t *testing.T) {
	k, _ := voiceKiosk(t, &fakeListener{wav: toneWAV(2 * time.Second)}, nil, &fakeHandover{}, Options{})
	toHandover(k, "")
	k.tap("handover.record")
	k.tap("handover.delete_recording")
	k.requireScreen("handover-question")
	assert.Zero(t, len(k.ui.session.Ask.Audio.Data))
	for _, s := range k.shownText() {
		assert.NotEqual(t, k.ui.T("handover.recorded", "seconds", 2), s)
	}
	k.tap("nav.next")
	k.requireShows(k.ui.T("handover.empty"))
}

func TestHandover_BadInputIsRefusedWithItsMessage(t *testing.T) {
	toReply := func(k *kioskUnderTest) {
		k.tap("nav.next")
		k.requireScreen("handover-reply")
	}
	toContact := func(k *kioskUnderTest) {
		toReply(k)
		k.tapCard(k.ui.T(channelKey(allimi.ChannelNaver, "name")))
		k.tap("nav.next")
		k.requireScreen("handover-contact")
	}
	for _, tc := range []struct {
		name     string
		question string
		steps    func(k *kioskUnderTest)
		screen   string
		msg      func(l Lang) string
	}{
		{"no question", "", func(k *kioskUnderTest) { k.tap("nav.next") }, "handover-question",
			func(l Lang) string { return l.T("handover.empty") }},
		{"only spaces", "", func(k *kioskUnderTest) { k.typeInto("handover.hint", "   "); k.tap("nav.next") }, "handover-question",
			func(l Lang) string { return l.T("handover.empty") }},
		{"too long", "", func(k *kioskUnderTest) {
			k.entry("handover.hint").SetText(strings.Repeat("가", handoverMaxText+1))
			k.tap("nav.next")
		}, "handover-question", func(l Lang) string { return l.T("handover.too_long", "max", handoverMaxText) }},
		{"no reply chosen", pensionQuestion, func(k *kioskUnderTest) { toReply(k); k.tap("nav.next") }, "handover-reply",
			func(l Lang) string { return l.T("handover.reply_none") }},
		{"no name", pensionQuestion, func(k *kioskUnderTest) {
			toContact(k)
			k.typeInto("who.mobile_hint", "010-1234-5678")
			k.tap("handover.send")
		}, "handover-contact", func(l Lang) string { return l.T("err.name_empty") }},
		{"not a mobile number", pensionQuestion, func(k *kioskUnderTest) {
			toContact(k)
			k.typeInto("who.name_hint", "김영희")
			k.typeInto("who.mobile_hint", "02-123-4567")
			k.tap("handover.send")
		}, "handover-contact", func(l Lang) string { return l.T("err.mobile_invalid") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ho := &fakeHandover{}
			k, _ := voiceKiosk(t, nil, nil, ho, Options{})
			k.ui.SetPrefs(Prefs{Lang: LangTh})
			toHandover(k, tc.question)
			tc.steps(k)
			k.requireScreen(tc.screen)
			k.requireShows(tc.msg(LangTh))
			assert.Contains(t, k.ui.ReadAloudText(), tc.msg(LangTh), "the message is read aloud too")
			assert.Empty(t, ho.submitted, "nothing is sent")
		})
	}
}

func TestHandover_SubmitFailureKeepsTheQuestion(t *testing.T) {
	ho := &fakeHandover{submitErr: fmt.Errorf("store question: %w", wire.ErrOversize)}
	k, _ := voiceKiosk(t, nil, nil, ho, Options{})
	toHandover(k, pensionQuestion)
	k.tap("nav.next")
	k.tapCard(k.ui.T("handover.slip_name"))
	k.tap("nav.next")
	k.requireScreen("handover-reply")
	k.requireShows(k.ui.T("handover.failed"))
	assert.Empty(t, ho.submitted)

	// The person (or the official) tries again once the kiosk can store.
	ho.submitErr = nil
	k.tap("nav.next")
	k.requireScreen("handover-slip")
	require.Len(t, ho.submitted, 1)
	assert.Equal(t, pensionQuestion, ho.submitted[0].Text)
}

func TestHandover_DoubleTapSendsOnce(t *testing.T) {
	ho := &fakeHandover{}
	k, _ := voiceKiosk(t, nil, nil, ho, Options{})
	toHandover(k, pensionQuestion)
	k.tap("nav.next")
	k.tapCard(k.ui.T(channelKey(allimi.ChannelToss, "name")))
	k.tap("nav.next")
	k.typeInto("who.name_hint", "김영희")
	k.typeInto("who.mobile_hint", "010-1234-5678")
	send := k.buttons(k.ui.T("handover.send"))
	require.Len(t, send, 1)
	test.Tap(send[0])
	test.Tap(send[0]) // lands on the contact screen that is no longer shown
	k.requireScreen("handover-slip")
	assert.Len(t, ho.submitted, 1)
}

func TestHandover_CheckAnswerStates(t *testing.T) {
	const code = "7KQ2M-XR4TD"
	answer := "네, 만 65세 이상이고 소득인정액이 선정기준액 이하이면 받을 수 있습니다."
	for _, tc := range []struct {
		name   string
		ho     *fakeHandover
		typed  string
		screen string
		msg    string // a key, shown on the check screen
		asked  []string
	}{
		{"answered", &fakeHandover{answers: map[string]string{code: answer}}, "7kq2m xr4td", "handover-answer", "", []string{code}},
		{"not answered yet", &fakeHandover{waiting: map[string]bool{code: true}}, "7KQ2MXR4TD", "handover-check", "handover.not_yet", []string{code}},
		{"no such code", &fakeHandover{}, "7KQ2M-XR4TE", "handover-check", "handover.code_unknown", []string{"7KQ2M-XR4TE"}},
		{"network down", &fakeHandover{answerErr: uplink.ErrOffline}, code, "handover-check", "handover.offline", []string{code}},
		{"too many tries", &fakeHandover{answerErr: &uplink.ReplyError{Op: wire.OpQuestionAnswer, Code: "too-many-tries", Msg: "wait"}},
			code, "handover-check", "handover.too_many", []string{code}},
		{"not a code", &fakeHandover{}, "7KQ2M-XR4T0", "handover-check", "handover.code_invalid", nil},
		{"too short", &fakeHandover{}, "7KQ2M", "handover-check", "handover.code_invalid", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, sp := voiceKiosk(t, nil, nil, tc.ho, Options{})
			k.tap("ask.check")
			k.requireScreen("handover-check")
			k.typePH("XXXX-XXXX-XXXX", tc.typed)
			k.tap("handover.check_go")
			k.requireScreen(tc.screen)
			assert.Equal(t, tc.asked, tc.ho.asked)
			if tc.msg != "" {
				k.requireShows(k.ui.T(tc.msg))
				assert.Contains(t, k.ui.ReadAloudText(), k.ui.T(tc.msg))
				// An answer not given yet is news, not an error: not in red.
				wantImp := widget.DangerImportance
				if tc.msg == "handover.not_yet" {
					wantImp = widget.MediumImportance
				}
				assert.Equal(t, wantImp, k.ui.cur.err.Importance, tc.msg)
				return
			}
			k.requireShows(answer)
			k.requireShows(k.ui.T("handover.answer_code", "code", code))
			require.NotEmpty(t, sp.said)
			assert.Equal(t, answer, sp.said[len(sp.said)-1], "the answer is read aloud")
			k.tap("done.finish")
			k.requireScreen("home")
			assert.True(t, k.ui.session.Empty())
		})
	}
}

func TestHandover_CodePadTypesTheCode(t *testing.T) {
	ho := &fakeHandover{waiting: map[string]bool{"7KQ2-MXR4-TD9P": true, "7KQ2M-XR4TD": true}}
	k, _ := voiceKiosk(t, nil, nil, ho, Options{})
	k.tap("ask.check")
	for _, key := range "7KQ2MXR4TD9PZZ" { // two too many: ignored
		k.tapText(string(key))
	}
	entry := k.entryPH("XXXX-XXXX-XXXX")
	assert.Equal(t, "7KQ2-MXR4-TD9P", entry.Text)
	for _, key := range []string{"0", "1", "O", "I"} {
		assert.Empty(t, k.buttons(key), "no key %s: codes never hold it", key)
	}
	back := k.buttons("")
	require.NotEmpty(t, back)
	test.Tap(back[len(back)-1]) // the backspace key, the last icon button
	assert.Equal(t, "7KQ2-MXR4-TD9", entry.Text)
	k.tapText("P")
	k.tap("handover.check_go")
	assert.Equal(t, []string{"7KQ2-MXR4-TD9P"}, ho.asked)
	k.tap("keyboard.clear")
	assert.Empty(t, entry.Text)
	// The ten letters of an earlier kiosk's slip are the same code.
	for _, key := range "7KQ2MXR4TD" {
		k.tapText(string(key))
	}
	assert.Equal(t, "7KQ2-MXR4-TD", entry.Text)
	k.tap("handover.check_go")
	assert.Equal(t, []string{"7KQ2-MXR4-TD9P", "7KQ2M-XR4TD"}, ho.asked)
}

func TestHandover_CheckRunsOffTheUIAndIgnoresALateAnswer(t *testing.T) {
	later := &laterGo{}
	ho := &fakeHandover{answers: map[string]string{"7KQ2M-XR4TD": "답"}}
	k, _ := voiceKiosk(t, nil, nil, ho, Options{Go: later.Go})
	k.tap("ask.check")
	k.typePH("XXXX-XXXX-XXXX", "7KQ2M-XR4TD")
	check := k.buttons(k.ui.T("handover.check_go"))
	require.Len(t, check, 1)
	test.Tap(check[0])
	assert.True(t, check[0].Disabled(), "one question at a time")
	assert.True(t, labelShown(k, k.ui.T("nav.wait")))
	assert.Empty(t, ho.asked, "central is asked off the UI goroutine")

	k.tap("nav.back") // the person gives up waiting
	later.run()
	assert.Equal(t, []string{"7KQ2M-XR4TD"}, ho.asked)
	k.requireScreen("ask-question")
	assert.Empty(t, k.ui.session.Ask.Handover.Answer, "the late answer is dropped")
}

func TestHandover_IdleResetClearsRecordingAndCode(t *testing.T) {
	wav := toneWAV(3 * time.Second)
	ho := &fakeHandover{code: "7KQ2M-XR4TD"}
	k, _ := voiceKiosk(t, &fakeListener{wav: wav}, nil, ho, Options{})
	toHandover(k, pensionQuestion)
	k.tap("handover.record")
	sameWAV(t, wav, k.ui.session.Ask.Audio, "recorded")

	// Walking away with a recording not sent.
	k.clock.Advance(70 * time.Second)
	k.requireScreen("home")
	assert.Zero(t, len(k.ui.session.Ask.Audio.Data))
	assert.True(t, k.ui.session.Empty())

	// Walking away from the slip.
	k.tap("home.ask")
	toHandover(k, pensionQuestion)
	assert.NotContains(t, k.shownText(), k.ui.T("handover.recorded", "seconds", 3), "the last person's recording is gone")
	k.tap("nav.next")
	k.tapCard(k.ui.T("handover.slip_name"))
	k.tap("nav.next")
	k.requireScreen("handover-slip")
	require.Equal(t, "7KQ2M-XR4TD", k.ui.session.Ask.Handover.Code)
	k.clock.Advance(70 * time.Second)
	k.requireScreen("home")
	assert.True(t, k.ui.session.Empty())
	assert.Empty(t, k.ui.session.Ask.Handover.Code)

	// The next person sees nothing of it.
	k.tap("home.ask")
	k.tap("ask.check")
	assert.Empty(t, k.entryPH("XXXX-XXXX-XXXX").Text)
	assert.NotContains(t, k.shownText(), "7KQ2M-XR4TD")
}

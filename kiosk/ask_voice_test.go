package kiosk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/voice"
)

// askPapers is a spoken-style question the knowledge base answers with
// confidence (checked in the tests that rely on it).
const askPapers = "등본 떼려면 어떻게 해요"

// toneWAV is d of a 440 Hz tone as the microphone gives it: 16 kHz mono
// 16-bit PCM.
func toneWAV(d time.Duration) voice.WAV {
	n := int(d.Seconds() * 16000)
	data := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		s := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/16000))
		binary.LittleEndian.PutUint16(data[2*i:], uint16(s))
	}
	return voice.WAV{SampleRate: 16000, Channels: 1, Bits: 16, Data: data}
}

// fakeListener hands out a recording; with block it records until the
// person presses stop (its context ends), as the real one does.
type fakeListener struct {
	wav       voice.WAV
	err       error
	block     bool
	maxes     []time.Duration
	cancelled bool
}

func (f *fakeListener) Listen(ctx context.Context, max time.Duration) (voice.WAV, error) {
	f.maxes = append(f.maxes, max)
	if f.block {
		<-ctx.Done()
		f.cancelled = true
	}
	return f.wav, f.err
}

// fakeTranscriber returns text or err and keeps what it was given.
type fakeTranscriber struct {
	text string
	err  error
	got  []voice.WAV
}

func (f *fakeTranscriber) Transcribe(_ context.Context, w voice.WAV) (string, error) {
	f.got = append(f.got, w)
	return f.text, f.err
}

// labelShown reports whether a label showing text is visible (a hidden
// label's own text objects are laid out all the same).
func labelShown(k *kioskUnderTest, text string) bool {
	for _, o := range k.objects() {
		if l, ok := o.(*widget.Label); ok && l.Text == text && l.Visible() {
			return true
		}
	}
	return false
}

// sameWAV compares recordings without printing their samples.
func sameWAV(t *testing.T, want, got voice.WAV, msg string) {
	t.Helper()
	assert.True(t, want.SampleRate == got.SampleRate && want.Channels == got.Channels && want.Bits == got.Bits &&
		bytes.Equal(want.Data, got.Data), "%s: got %d bytes at %d Hz, want %d bytes at %d Hz",
		msg, len(got.Data), got.SampleRate, len(want.Data), want.SampleRate)
}

// laterGo queues the work the kiosk sends off the UI goroutine, so that a
// test can act (press stop, walk away) before it runs.
type laterGo struct{ queue []func() }

func (l *laterGo) Go(f func()) { l.queue = append(l.queue, f) }

// run runs what is queued, and what that queues, in order.
func (l *laterGo) run() {
	for len(l.queue) > 0 {
		f := l.queue[0]
		l.queue = l.queue[1:]
		f()
	}
}

// voiceKiosk is a kiosk whose 말로 물어보기 has the given plug points
// (nil ones absent) and a speaker that keeps what it said; it shows the
// question screen.
func voiceKiosk(t *testing.T, lst Listener, tr Transcriber, ho Handover, opt Options) (*kioskUnderTest, *spySpeaker) {
	t.Helper()
	ix, err := builtinConsultIndex()
	require.NoError(t, err)
	a := NewAdviser(ix)
	a.Listener, a.Transcriber, a.Handover = lst, tr, ho
	sp := &spySpeaker{}
	opt.Voice, opt.Speaker = a, sp
	k := newKiosk(t, opt)
	k.tap("home.ask")
	k.requireScreen("ask-question")
	return k, sp
}

func TestAskVoice_SpokenQuestionIsSearchedAndTheAnswerReadAloud(t *testing.T) {
	ix, _ := builtinConsultIndex()
	want, err := ix.Search(askPapers, askAnswers)
	require.NoError(t, err)
	require.True(t, want.Confident, "precondition: the knowledge base is sure of %q", askPapers)

	wav := toneWAV(3 * time.Second)
	lst := &fakeListener{wav: wav}
	tr := &fakeTranscriber{text: "  등본 떼려면   어떻게 해요 "}
	k, sp := voiceKiosk(t, lst, tr, &fakeHandover{}, Options{})
	k.tap("ask.speak")

	k.requireScreen("ask-answer")
	assert.Equal(t, []time.Duration{askListenMax}, lst.maxes)
	require.Len(t, tr.got, 1)
	sameWAV(t, wav, tr.got[0], "the transcriber hears what the microphone recorded")
	k.requireShows(k.ui.T("ask.you_asked", "question", askPapers))
	k.requireShows(want.Answers[0].Question)
	k.requireShows(want.Answers[0].Answer)
	assert.Empty(t, k.buttons(k.ui.T("ask.handover")), "a confident answer offers no hand-over")
	require.NotEmpty(t, sp.said)
	assert.Contains(t, sp.said[len(sp.said)-1], want.Answers[0].Question, "asked aloud, answered aloud")

	// Back: the transcript is in the field, as if typed.
	k.tap("nav.back")
	k.requireScreen("ask-question")
	assert.Equal(t, askPapers, k.entry("ask.hint").Text)
}

func TestAskVoice_TypedAnswerIsNotReadUnasked(t *testing.T) {
	k, sp := voiceKiosk(t, &fakeListener{}, nil, nil, Options{})
	k.typeInto("ask.hint", askPapers)
	k.tap("ask.search")
	k.requireScreen("ask-answer")
	assert.Empty(t, sp.said)
}

func TestAskVoice_WhenItCannotBeMadeOutTheRecordingIsOffered(t *testing.T) {
	wav := toneWAV(2 * time.Second)
	for _, tc := range []struct {
		name   string
		tr     Transcriber
		reason string
	}{
		{"no recogniser installed", &fakeTranscriber{err: fmt.Errorf("sherpa: %w", voice.ErrNoRecognizer)}, "ask.no_recognizer"},
		{"no transcriber at all", nil, "ask.no_recognizer"},
		{"empty transcript", &fakeTranscriber{text: "  "}, "ask.not_understood"},
		{"recogniser failed", &fakeTranscriber{err: errors.New("decoder crashed")}, "ask.not_understood"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ho := &fakeHandover{code: "7KQ2M-XR4TD"}
			k, _ := voiceKiosk(t, &fakeListener{wav: wav}, tc.tr, ho, Options{})
			k.tap("ask.speak")
			k.requireScreen("ask-voice-offer")
			k.requireShows(k.ui.T(tc.reason))
			assert.Contains(t, k.ui.ReadAloudText(), k.ui.T(tc.reason))

			k.tap("ask.send_recording")
			k.requireScreen("handover-reply")
			k.tapCard(k.ui.T("handover.slip_name"))
			k.tap("nav.next")
			k.requireScreen("handover-slip")
			require.Len(t, ho.submitted, 1)
			q := ho.submitted[0]
			sameWAV(t, wav, q.Audio, "the recording goes to the official")
			assert.Equal(t, LangKo, q.Lang)
			assert.Empty(t, q.Reply)
			assert.Empty(t, q.Name)
			assert.Empty(t, q.Mobile)
		})
	}
}

func TestAskVoice_WithoutHandoverTheOfferSaysToType(t *testing.T) {
	k, _ := voiceKiosk(t, &fakeListener{wav: toneWAV(time.Second)}, nil, nil, Options{})
	k.tap("ask.speak")
	k.requireScreen("ask-voice-offer")
	k.requireShows(k.ui.T("ask.type_help"))
	assert.Empty(t, k.buttons(k.ui.T("ask.send_recording")))
	k.tap("ask.type_instead")
	k.requireScreen("ask-question")
}

func TestAskVoice_SpeakAgainListensAgain(t *testing.T) {
	lst := &fakeListener{wav: toneWAV(time.Second)}
	k, _ := voiceKiosk(t, lst, &fakeTranscriber{text: ""}, nil, Options{})
	k.tap("ask.speak")
	k.requireScreen("ask-voice-offer")
	lst.wav = toneWAV(2 * time.Second)
	k.ui.adviser.Transcriber = &fakeTranscriber{text: askPapers}
	k.tap("ask.speak_again")
	k.requireScreen("ask-answer")
	assert.Len(t, lst.maxes, 2)
	sameWAV(t, lst.wav, k.ui.session.Ask.Audio, "the second recording")
}

func TestAskVoice_UnsureAnswerOffersTheOfficialWithTheRecording(t *testing.T) {
	ix, _ := builtinConsultIndex()
	want, err := ix.Search(askRent, askAnswers)
	require.NoError(t, err)
	require.False(t, want.Confident, "precondition: the knowledge base is unsure of %q", askRent)

	wav := toneWAV(4 * time.Second)
	ho := &fakeHandover{code: "7KQ2M-XR4TD"}
	k, _ := voiceKiosk(t, &fakeListener{wav: wav}, &fakeTranscriber{text: askRent}, ho, Options{})
	k.tap("ask.speak")
	k.requireScreen("ask-answer")
	k.requireShows(k.ui.T("ask.unsure"))
	k.tap("ask.handover")
	k.requireScreen("handover-question")
	k.requireShows(k.ui.T("handover.recorded", "seconds", 4))
	assert.Equal(t, askRent, k.entry("handover.hint").Text, "the transcript goes along")
	k.tap("nav.next")
	k.tapCard(k.ui.T("handover.slip_name"))
	k.tap("nav.next")
	require.Len(t, ho.submitted, 1)
	sameWAV(t, wav, ho.submitted[0].Audio, "the recording goes along")
	assert.Equal(t, askRent, ho.submitted[0].Text)
}

func TestAskVoice_NoAnswerOffersTheOfficial(t *testing.T) {
	ho := &fakeHandover{code: "7KQ2M-XR4TD"}
	k, _ := voiceKiosk(t, nil, nil, ho, Options{})
	k.typeInto("ask.hint", "zzzz")
	k.tap("ask.search")
	k.requireShows(k.ui.T("ask.none"))
	k.tap("ask.handover")
	k.requireScreen("handover-question")
	assert.Equal(t, "zzzz", k.entry("handover.hint").Text)
	assert.Empty(t, k.ui.session.Ask.Audio.Data, "a typed question sends no audio")
}

func TestAskVoice_StopEndsListeningAndUsesWhatWasHeard(t *testing.T) {
	later := &laterGo{}
	wav := toneWAV(5 * time.Second)
	lst := &fakeListener{wav: wav, block: true}
	k, sp := voiceKiosk(t, lst, &fakeTranscriber{text: askPapers}, nil, Options{Go: later.Go})
	stopsBefore := sp.stops
	k.tap("ask.speak")
	k.requireScreen("ask-listening")
	k.requireShows(k.ui.T("ask.listening"))
	// The microphone must not hear the kiosk's own voice.
	assert.Greater(t, sp.stops, stopsBefore, "reading aloud stops when listening starts")
	assert.Empty(t, k.buttons(k.ui.T("nav.read_aloud")), "no read-aloud while listening")
	assert.NotEmpty(t, k.buttons(k.ui.T("nav.home")))
	assert.Contains(t, k.ui.ReadAloudText(), k.ui.T("ask.listening_help", "seconds", 30))
	stop := k.buttons(k.ui.T("ask.stop"))
	require.Len(t, stop, 1)
	assert.False(t, labelShown(k, k.ui.T("nav.wait")), "nothing to wait for yet")

	k.tap("ask.stop")
	assert.True(t, stop[0].Disabled(), "one stop")
	assert.True(t, labelShown(k, k.ui.T("nav.wait")))
	k.requireScreen("ask-listening")

	later.run() // the recording ends at the stop
	assert.True(t, lst.cancelled)
	k.requireScreen("ask-answer")
	assert.NotEmpty(t, k.buttons(k.ui.T("nav.read_aloud")), "read-aloud is back after listening")
	sameWAV(t, wav, k.ui.session.Ask.Audio, "what was heard until stop")
	assert.Equal(t, askPapers, k.ui.session.Ask.Question)
}

func TestAskVoice_MicrophoneTroubleSaysSoAndTypingStillWorks(t *testing.T) {
	for _, tc := range []struct {
		name string
		lst  *fakeListener
		msg  string
	}{
		{"no microphone", &fakeListener{err: errors.New("malgo: no capture device")}, "ask.mic_failed"},
		{"nothing heard", &fakeListener{wav: voice.WAV{SampleRate: 16000, Channels: 1, Bits: 16}}, "ask.heard_nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &fakeTranscriber{text: "unused"}
			k, _ := voiceKiosk(t, tc.lst, tr, &fakeHandover{}, Options{})
			k.tap("ask.speak")
			k.requireScreen("ask-question")
			k.requireShows(k.ui.T(tc.msg))
			assert.Contains(t, k.ui.ReadAloudText(), k.ui.T(tc.msg))
			assert.Zero(t, len(tr.got), "nothing to transcribe")

			k.typeInto("ask.hint", askPapers)
			k.tap("ask.search")
			k.requireScreen("ask-answer")
		})
	}
}

func TestAskVoice_ButtonsOnlyForThePartsThatAreThere(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lst        Listener
		ho         Handover
		speak, ppl bool
	}{
		{"neither", nil, nil, false, false},
		{"microphone only", &fakeListener{}, nil, true, false},
		{"hand-over only", nil, &fakeHandover{}, false, true},
		{"both", &fakeListener{}, &fakeHandover{}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, _ := voiceKiosk(t, tc.lst, nil, tc.ho, Options{})
			assert.Equal(t, tc.speak, len(k.buttons(k.ui.T("ask.speak"))) == 1, "말하기")
			assert.Equal(t, tc.ppl, len(k.buttons(k.ui.T("ask.talk"))) == 1, "사람과 상담")
			assert.Equal(t, tc.ppl, len(k.buttons(k.ui.T("ask.check"))) == 1, "답변 확인")
		})
	}
}

func TestAskVoice_LeavingWhileListeningDropsTheRecording(t *testing.T) {
	for _, leave := range []string{"nav.back", "nav.home"} {
		t.Run(leave, func(t *testing.T) {
			later := &laterGo{}
			lst := &fakeListener{wav: toneWAV(time.Second), block: true}
			tr := &fakeTranscriber{text: askPapers}
			k, _ := voiceKiosk(t, lst, tr, nil, Options{Go: later.Go})
			k.tap("ask.speak")
			k.requireScreen("ask-listening")
			k.tap(leave)
			screen := k.screen()
			later.run()
			assert.True(t, lst.cancelled, "leaving stops the microphone")
			assert.Zero(t, len(tr.got), "and nothing is transcribed")
			assert.Equal(t, screen, k.screen(), "the late recording changes nothing")
			assert.Zero(t, len(k.ui.session.Ask.Audio.Data))
			assert.Empty(t, k.ui.session.Ask.Question)
		})
	}
}

func TestAskVoice_IdleResetWhileListeningClearsEverything(t *testing.T) {
	later := &laterGo{}
	lst := &fakeListener{wav: toneWAV(time.Second), block: true}
	k, _ := voiceKiosk(t, lst, &fakeTranscriber{text: askPapers}, nil, Options{Go: later.Go})
	k.tap("ask.speak")
	k.clock.Advance(70 * time.Second)
	k.requireScreen("home")
	later.run()
	k.requireScreen("home")
	assert.True(t, lst.cancelled)
	assert.True(t, k.ui.session.Empty())
	assert.Empty(t, k.ui.asked.Recent(), "the late transcript is not kept as a recent question")
}

func TestAskVoice_IdleTimerRestartsWhenTheRecordingEnds(t *testing.T) {
	later := &laterGo{}
	lst := &fakeListener{wav: toneWAV(25 * time.Second)}
	k, _ := voiceKiosk(t, lst, &fakeTranscriber{text: askPapers}, nil, Options{Go: later.Go})
	k.tap("ask.speak")
	k.clock.Advance(50 * time.Second) // talking, then the recogniser thinking
	require.False(t, k.ui.IdleWarningShown())
	later.run() // the recording ends by itself, and is answered
	k.requireScreen("ask-answer")
	k.clock.Advance(50 * time.Second)
	assert.False(t, k.ui.IdleWarningShown(), "the minute starts again when the recording ends")
	k.clock.Advance(15 * time.Second)
	assert.True(t, k.ui.IdleWarningShown())
}

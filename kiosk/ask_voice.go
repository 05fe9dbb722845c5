package kiosk

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"allimi/voice"
)

// 말로 물어보기 by voice: the 말하기 button records one utterance, the
// transcriber turns it into the question, and the question is searched as
// if typed. When the kiosk cannot make it out (no recogniser installed,
// nothing understood, no confident answer) the recording is offered to an
// official (handover.go). The recording lives in the session only and is
// cleared with it.

// listenMode says what a recording is for.
type listenMode int

const (
	// listenAsk records the question to search.
	listenAsk listenMode = iota
	// listenHandover records the question for an official.
	listenHandover
)

const (
	// askListenMax bounds a spoken question to search: long enough for a
	// senior's roundabout question, short enough that a forgotten
	// microphone stops by itself.
	askListenMax = 30 * time.Second
	// handoverListenMax is the hand-over's bound (HandoverQuestion.Audio).
	handoverListenMax = 60 * time.Second
	// transcribeTimeout bounds the recogniser: a person is never left
	// waiting on a stuck model.
	transcribeTimeout = 30 * time.Second
)

// listenRun is one recording in progress. It is part of the session, so
// that a reset drops it, and the listening screen is built from it.
type listenRun struct {
	mode listenMode
	// stop ends the recording, keeping what was heard; abandon drops the
	// recording and the transcription (the person left the screen).
	stop, abandon context.CancelFunc
	// stopped is set once the person pressed stop or the recording
	// ended: the screen then waits for the transcript.
	stopped bool
	// working, set by the screen, shows that it is waiting.
	working func()
}

func (r *listenRun) max() time.Duration {
	if r.mode == listenHandover {
		return handoverListenMax
	}
	return askListenMax
}

// listener, transcriber and handover are the adviser's plug points, nil
// when absent.
func (u *UI) listener() Listener {
	if u.adviser == nil {
		return nil
	}
	return u.adviser.Listener
}

func (u *UI) transcriber() Transcriber {
	if u.adviser == nil {
		return nil
	}
	return u.adviser.Transcriber
}

func (u *UI) handover() Handover {
	if u.adviser == nil {
		return nil
	}
	return u.adviser.Handover
}

// bigButton draws b at the home screen's size: the one action a screen is
// about (말하기, 그만).
func (u *UI) bigButton(b *widget.Button) fyne.CanvasObject {
	th := u.theme()
	return container.NewThemeOverride(container.NewStack(spacer(0, buttonMinHeight*th.Scale), b), bigButtonTheme{th})
}

// startListening records what the person says, off the UI goroutine, and
// shows the listening screen meanwhile; listened takes the result.
func (u *UI) startListening(mode listenMode) {
	lst := u.listener()
	a := &u.session.Ask
	if lst == nil || a.listen != nil {
		return // no microphone, or a double tap
	}
	life, abandon := context.WithCancel(context.Background())
	rec, stop := context.WithCancel(life)
	run := &listenRun{mode: mode, stop: stop, abandon: abandon}
	a.listen, a.Notice = run, ""
	u.opt.Speaker.Stop() // what the kiosk is reading would be recorded too
	u.push(askListenScreen)
	tr := u.transcriber()
	u.opt.Go(func() {
		w, err := lst.Listen(rec, run.max())
		stop()
		var text string
		var terr error
		if err == nil && mode == listenAsk && len(w.Data) > 0 && life.Err() == nil {
			fyne.Do(func() {
				if a.listen == run && run.working != nil {
					run.working()
				}
			})
			if tr == nil {
				terr = voice.ErrNoRecognizer
			} else {
				ctx, cancel := context.WithTimeout(life, transcribeTimeout)
				text, terr = tr.Transcribe(ctx, w)
				cancel()
			}
		}
		abandon()
		fyne.Do(func() { u.listened(run, w, err, text, terr) })
	})
}

// listened acts on a recording: back to the screen it was made for with
// the audio (or a message), or, for a question, on to its answer or the
// offer to ask an official.
func (u *UI) listened(run *listenRun, w voice.WAV, err error, text string, terr error) {
	a := &u.session.Ask
	if a.listen != run || u.stack[len(u.stack)-1].id != askListenScreen {
		return // the person left (back, home, idle): what was heard is dropped
	}
	a.listen = nil
	// The person was talking, not touching: the idle timer starts again
	// from the end of the recording.
	u.Touch()
	switch {
	case err != nil:
		u.log.Error("listening failed", "err", err)
		a.Notice = "ask.mic_failed"
		u.Back()
		return
	case len(w.Data) == 0:
		a.Notice = "ask.heard_nothing"
		u.Back()
		return
	}
	a.Audio = w
	if run.mode == listenHandover {
		u.Back()
		return
	}
	text = strings.Join(strings.Fields(text), " ")
	switch {
	case errors.Is(terr, voice.ErrNoRecognizer):
		u.log.Info("no speech recogniser: offering the recording to an official")
		a.Offer = "ask.no_recognizer"
	case terr != nil:
		u.log.Error("transcription failed", "err", terr)
		a.Offer = "ask.not_understood"
	case text == "":
		a.Offer = "ask.not_understood"
	default:
		a.Draft = text
		if err := u.askFind(text, true); err != nil {
			u.log.Warn("spoken question not searchable", "err", err)
			a.Offer = "ask.not_understood"
			break
		}
		u.replace(askAnswerScreen)
		return
	}
	u.replace(askVoiceOfferScreen)
}

// askListenPage says that the kiosk is listening, with the stop button.
func (u *UI) askListenPage() *page {
	a := &u.session.Ask
	run := a.listen
	if run == nil {
		// Built again after the recording ended (a redraw): a finished run.
		run = &listenRun{stop: func() {}, abandon: func() {}, stopped: true}
	}
	title, help := u.T("home.ask"), "ask.listening_help"
	if run.mode == listenHandover {
		title, help = u.T("handover.title"), "handover.listening_help"
	}
	p := u.newPage(title)
	p.mute = true
	th := u.theme()
	icon := widget.NewIcon(theme.NewPrimaryThemedResource(theme.MediaRecordIcon()))
	now := canvas.NewText(u.T("ask.listening"), th.Color(theme.ColorNamePrimary, 0))
	now.TextSize = 64 * th.Scale
	now.TextStyle = fyne.TextStyle{Bold: true}
	now.Alignment = fyne.TextAlignCenter
	p.add(container.NewCenter(container.NewHBox(container.NewStack(spacer(96*th.Scale, 96*th.Scale), icon), now)))
	p.say(u.T("ask.listening"))
	p.text(u.T(help, "seconds", int(run.max()/time.Second)))
	wait := headingLabel(u.T("nav.wait"))
	wait.Hide()
	var stop *widget.Button
	stop = u.button(u.T("ask.stop"), theme.MediaStopIcon(), widget.HighImportance, func() {
		if run.stopped {
			return
		}
		run.stopped = true
		run.stop()
		run.working()
	})
	run.working = func() {
		run.stopped = true
		stop.Disable()
		wait.Show()
	}
	if run.stopped {
		stop.Disable()
		wait.Show()
	}
	p.add(u.bigButton(stop), wait)
	p.say(u.T("ask.stop"))
	p.onLeave = func() {
		run.abandon()
		if a.listen == run {
			a.listen = nil // back or home: the microphone may be used again
		}
	}
	return p
}

// askVoiceOfferPage is shown when a spoken question could not be made
// out: send the recording to an official, speak again or type.
func (u *UI) askVoiceOfferPage() *page {
	a := &u.session.Ask
	p := u.newPage(u.T("home.ask"))
	reason := a.Offer
	if reason == "" {
		reason = "ask.not_understood"
	}
	l := p.text(u.T(reason))
	l.TextStyle = fyne.TextStyle{Bold: true}
	if u.handover() != nil && len(a.Audio.Data) > 0 {
		p.text(u.T("ask.offer_handover"))
		send := u.button(u.T("ask.send_recording"), theme.MailSendIcon(), widget.HighImportance, func() {
			u.startHandover(a.Draft, a.Audio, true)
		})
		p.add(u.bigButton(send))
		p.say(send.Text)
	} else {
		p.text(u.T("ask.type_help"))
	}
	again := u.button(u.T("ask.speak_again"), theme.MediaRecordIcon(), widget.MediumImportance, func() {
		u.Back()
		u.startListening(listenAsk)
	})
	if u.listener() != nil {
		p.extra = []fyne.CanvasObject{again}
	}
	p.next = u.nextButton(u.T("ask.type_instead"), u.Back)
	return p
}

package kiosk

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"allimi"
	"allimi/sync/catalog"
	"allimi/sync/outbox"
	"allimi/sync/uplink"
	"allimi/voice"
)

// The kiosk's plug points. Each is an interface with a do-nothing or
// "coming soon" default, so that the kiosk runs with none of them and the
// issues that fill them in (voice, subsidy, central's verification and
// conflict APIs) only implement what they provide.

// Recorder stores sign-up and consent records durably before the person is
// told "saved". *outbox.Outbox implements it.
type Recorder interface {
	Append(drafts ...outbox.Draft) ([]allimi.Event, error)
}

// Verifier confirms a mobile number with a code sent by SMS. The kiosk
// calls it with a short deadline and carries on unverified when it fails
// or times out: a person is never kept waiting because the network is
// down; central sends the confirmation when the record arrives.
type Verifier interface {
	// RequestCode asks central to text a code to mobile (010-NNNN-NNNN).
	RequestCode(ctx context.Context, mobile string) error
	// CheckCode reports whether code is the one sent to mobile.
	CheckCode(ctx context.Context, mobile, code string) (bool, error)
}

// ConflictSource lists the consent conflicts central reports and records an
// official's decision on one. *uplink.Central is the ConflictSource of a
// kiosk connected to central.
type ConflictSource interface {
	// Conflicts lists the open conflicts of this kiosk, each naming the
	// person masked (allimi.Conflict.Shown).
	Conflicts(ctx context.Context) ([]allimi.Conflict, error)
	// Resolve settles conflict id: decision is allimi.ActionGrant (the
	// person wants the notices) or allimi.ActionWithdraw; official is the
	// signed-in official's id.
	Resolve(ctx context.Context, id uint64, decision allimi.ConsentAction, official string) error
}

// Speaker reads text aloud. The voice issue implements it with speech
// synthesis; the default says nothing.
type Speaker interface {
	// Speak reads text in language lang, replacing whatever is being read.
	Speak(ctx context.Context, lang Lang, text string) error
	// Stop silences the speaker.
	Stop()
}

// NoSpeaker is the Speaker of a kiosk without speech synthesis.
type NoSpeaker struct{}

// Speak does nothing.
func (NoSpeaker) Speak(context.Context, Lang, string) error { return nil }

// Stop does nothing.
func (NoSpeaker) Stop() {}

// Page is a screen a Feature adds to the kiosk. The kiosk draws the frame
// around it: the title, a back button, the read-aloud and home buttons.
type Page interface {
	// ID names the page for tests and screenshots ("subsidy-start").
	ID() string
	// Title is the page's heading in the navigator's language.
	Title(nav Navigator) string
	// Content builds the page's body. It is called again when the
	// language, text size or contrast changes.
	Content(nav Navigator) fyne.CanvasObject
	// ReadAloudText is every text the page shows, in reading order, for
	// the read-aloud button and the voice issue.
	ReadAloudText(nav Navigator) string
}

// Navigator is what a Feature's pages may do with the kiosk. *UI is the
// kiosk's Navigator.
type Navigator interface {
	Lang() Lang
	// T translates a kiosk string (for shared words such as nav.next).
	T(key string, args ...any) string
	// Push shows p on top of the current screen; Back returns from it.
	Push(p Page)
	Back()
	// Home clears the session and returns to the home screen.
	Home()
	// Touch tells the idle timer that the person is still there; the
	// kiosk's own buttons do it, a page's custom widgets should too.
	Touch()
	Speaker() Speaker
	Window() fyne.Window
	// FindSubsidies and Ask open the kiosk's own screens of 보조금 찾기
	// over f's catalog and of 말로 물어보기 over a's knowledge base: the
	// two features are the kiosk's screens with data of their own.
	FindSubsidies(f *SubsidyFinder)
	Ask(a *Adviser)
}

// Feature is a home-screen entry filled in by its own issue (보조금 찾기,
// 말로 물어보기).
type Feature interface {
	// Start shows the feature's first page.
	Start(nav Navigator)
}

// FeatureFunc adapts a function to Feature.
type FeatureFunc func(nav Navigator)

// Start calls f.
func (f FeatureFunc) Start(nav Navigator) { f(nav) }

// comingSoon is the default Feature: a page that says the feature is coming.
type comingSoon struct{ id, titleKey string }

func (c comingSoon) Start(nav Navigator) { nav.Push(c) }
func (c comingSoon) ID() string          { return c.id }
func (c comingSoon) Title(nav Navigator) string {
	return nav.T(c.titleKey)
}
func (c comingSoon) Content(nav Navigator) fyne.CanvasObject {
	return vbox(headingLabel(nav.T("soon.title")), wrapLabel(nav.T("soon.body")))
}
func (c comingSoon) ReadAloudText(nav Navigator) string {
	return nav.T(c.titleKey) + "\n" + nav.T("soon.title") + "\n" + nav.T("soon.body")
}

// Health is a snapshot of the kiosk's sync health for the staff screen.
type Health struct {
	Connected bool
	Pending   int
	LastSeq   uint64
	LastAck   uint64
	LastAckAt time.Time
	Catalogs  map[string]uint64
}

// HealthSource reports sync health.
type HealthSource interface {
	Health() (Health, error)
}

// SyncHealth reads health from the kiosk's outbox, sender and catalog
// store; sender and catalogs may be nil.
type SyncHealth struct {
	Outbox   *outbox.Outbox
	Sender   *uplink.Sender
	Catalogs *catalog.Store
}

// Health implements HealthSource.
func (s SyncHealth) Health() (Health, error) {
	var h Health
	st, err := s.Outbox.State()
	if err != nil {
		return h, err
	}
	h.Pending, h.LastSeq, h.LastAck = st.Pending, st.LastSeq, st.LastAck
	if s.Sender != nil {
		ss := s.Sender.Status()
		h.Connected, h.LastAckAt = ss.Connected, ss.LastAckAt
	}
	if s.Catalogs != nil {
		if h.Catalogs, err = s.Catalogs.Versions(); err != nil {
			return h, err
		}
	}
	return h, nil
}

// Listener records what a person says into the microphone. The voice
// issue implements it with malgo and voice activity detection; tests give
// it WAV files.
type Listener interface {
	// Listen records one utterance, from the first speech to the pause
	// after it, at most max long, as 16 kHz mono 16-bit PCM. Cancelling
	// ctx (the person pressed stop) ends it early and returns what was
	// heard so far.
	Listen(ctx context.Context, max time.Duration) (voice.WAV, error)
}

// Transcriber turns a recorded utterance into text. It returns an error
// wrapping voice.ErrNoRecognizer when no speech-recognition model is
// installed; the kiosk then offers to hand the question to an official.
type Transcriber interface {
	Transcribe(ctx context.Context, w voice.WAV) (string, error)
}

// HandoverQuestion is a question the kiosk could not answer, for an
// official at central.
type HandoverQuestion struct {
	// Audio is the spoken question (at most 60 s, 16 kHz mono); empty
	// when the person typed it.
	Audio voice.WAV
	// Text is what they typed, or the recogniser's transcript; may be
	// empty.
	Text string
	Lang Lang
	// Reply is the channel the answer goes to (kakao, naver, toss, sms),
	// or "" for "I will come back to the kiosk with my slip".
	Reply allimi.Channel
	// Name and Mobile say whom to answer; required with a Reply channel,
	// empty otherwise.
	Name, Mobile string
}

// Handover sends questions to an official at central through the outbox
// (so they survive power cuts and days offline) and fetches the answers.
type Handover interface {
	// Submit stores q durably and returns the receipt code printed on the
	// person's slip.
	Submit(q HandoverQuestion) (code string, err error)
	// Answer asks central for the answer to the question with receipt
	// code; ok is false while no official has answered yet.
	Answer(ctx context.Context, code string) (answer string, ok bool, err error)
}

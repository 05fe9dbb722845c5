package kiosk

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"allimi"
	"allimi/subsidy"
	"allimi/sync/outbox"
	"allimi/voice"
)

// NewDemoUI builds a kiosk UI on w with stand-in parts: an in-memory
// outbox, a sync health and conflicts of a kiosk in use, and a clock whose
// timers never fire (the screenshots are still pictures). Shots are set up
// on it, by package kiosk/screenshot and by the tests of every screen.
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
		// One code every time: screenshots stay the same from render to render.
		ReceiptCode: func() (string, error) { return "4F7K-Q2MX-9TDR", nil },
		Go:          func(f func()) { f() },
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return u, w
}

// MemoryRecorder is a Recorder in memory: it numbers records like the
// outbox does and keeps them.
type MemoryRecorder struct {
	Kiosk  string
	Seq    uint64
	mu     sync.Mutex
	Events []allimi.Event
}

// Append implements Recorder.
func (m *MemoryRecorder) Append(drafts ...outbox.Draft) ([]allimi.Event, error) {
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

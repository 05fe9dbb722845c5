package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gen2brain/malgo"

	"allimi/kiosk"
	"allimi/voice"
	"allimi/voice/worker"
)

// malgoPlayer plays speech on the sound card through miniaudio (malgo),
// with miniaudio's default list of backends (PulseAudio, ALSA, …).
type malgoPlayer struct{}

func (malgoPlayer) Play(ctx context.Context, w voice.WAV) error {
	if w.Bits != 16 {
		return fmt.Errorf("play: %d-bit audio: only 16-bit PCM", w.Bits)
	}
	mctx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return fmt.Errorf("audio: %w", err)
	}
	defer func() { _ = mctx.Uninit(); mctx.Free() }()
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	cfg.Playback.Format = malgo.FormatS16
	cfg.Playback.Channels = uint32(w.Channels)
	cfg.SampleRate = uint32(w.SampleRate)

	var mu sync.Mutex
	pos := 0
	finished := make(chan struct{})
	var once sync.Once
	dev, err := malgo.InitDevice(mctx.Context, cfg, malgo.DeviceCallbacks{
		Data: func(out, _ []byte, _ uint32) {
			mu.Lock()
			n := copy(out, w.Data[pos:])
			pos += n
			rest := pos >= len(w.Data)
			mu.Unlock()
			clear(out[n:]) // silence after the end
			if rest {
				once.Do(func() { close(finished) })
			}
		},
	})
	if err != nil {
		return fmt.Errorf("audio device: %w", err)
	}
	defer dev.Uninit()
	if err := dev.Start(); err != nil {
		return fmt.Errorf("audio device: %w", err)
	}
	select {
	case <-finished:
	case <-ctx.Done():
	}
	return dev.Stop()
}

// kioskSpeaker adapts voice.Speaker to the kiosk's Speaker.
type kioskSpeaker struct{ s *voice.Speaker }

func (k kioskSpeaker) Speak(ctx context.Context, lang kiosk.Lang, text string) error {
	err := k.s.Speak(ctx, string(lang), text)
	if errors.Is(err, voice.ErrNoVoice) {
		return nil // a language without a voice is shown, not read
	}
	return err
}

func (k kioskSpeaker) Stop() { k.s.Stop() }

// voiceFlags are the kiosk's voice-input flags (main registers them).
var voiceFlags struct {
	asrModel, vadModel string
	// worker is the allimi-voice program that runs the models (sherpa-onnx
	// is not linked into the kiosk: see package voice/worker).
	worker string
}

// voiceWorker returns the allimi-voice program: --voice-worker, else the
// one beside this program, else the one on $PATH; "" when there is none.
func voiceWorker() string {
	if voiceFlags.worker != "" {
		return voiceFlags.worker
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "allimi-voice")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("allimi-voice"); err == nil {
		return p
	}
	return ""
}

// newDetector returns Silero VAD (in an allimi-voice worker) when its
// model and the worker are found and start, otherwise the energy
// detector, saying why in the log.
func newDetector(ctx context.Context, vadModel string, log *slog.Logger) voice.Detector {
	if vadModel == "" {
		vadModel = voice.FindSilero()
	}
	bin := voiceWorker()
	switch {
	case vadModel == "":
		log.Warn("no Silero VAD model: using the energy detector")
	case bin == "":
		log.Warn("allimi-voice not found: using the energy detector")
	default:
		d, err := worker.NewDetector(ctx, bin, "--vad-model", vadModel, "--min-silence", fmt.Sprint(voice.EndOfSpeech.Seconds()))
		if err == nil {
			return d
		}
		log.Warn("Silero VAD not started; using the energy detector", "model", vadModel, "err", err)
	}
	return &voice.EnergyVAD{MinSilence: voice.EndOfSpeech}
}

// malgoListener records from the default microphone through miniaudio
// (16 kHz mono S16; miniaudio converts from what the device offers) and
// takes one utterance with voice.Listen.
type malgoListener struct {
	vadModel string
	log      *slog.Logger
}

// captureChunks is how many device callbacks (about 10 ms each) may wait
// for the detector before audio is dropped: a second.
const captureChunks = 100

// Listen implements kiosk.Listener. Nothing heard (or stop pressed before
// a word) is an empty recording, not an error: the kiosk says it heard
// nothing. A microphone that cannot be opened is an error naming it.
func (l malgoListener) Listen(ctx context.Context, max time.Duration) (voice.WAV, error) {
	// The detector first: its worker takes a moment to start, and the
	// microphone's audio would wait for it in a bounded queue.
	det := newDetector(ctx, l.vadModel, l.log)
	defer det.Close()
	mctx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return voice.WAV{}, fmt.Errorf("audio: %w", err)
	}
	defer func() { _ = mctx.Uninit(); mctx.Free() }()
	cfg := malgo.DefaultDeviceConfig(malgo.Capture)
	cfg.Capture.Format = malgo.FormatS16
	cfg.Capture.Channels = 1
	cfg.SampleRate = voice.Rate
	frames := make(chan []float32, captureChunks)
	var dropped atomic.Int64
	dev, err := malgo.InitDevice(mctx.Context, cfg, malgo.DeviceCallbacks{
		Data: func(_, in []byte, n uint32) {
			chunk := s16ToFloat(in)
			select {
			case frames <- chunk:
			default:
				dropped.Add(int64(len(chunk))) // never block the audio thread
			}
		},
	})
	if err != nil {
		return voice.WAV{}, fmt.Errorf("audio input device: %w", err)
	}
	defer dev.Uninit()
	if err := dev.Start(); err != nil {
		return voice.WAV{}, fmt.Errorf("audio input device: %w", err)
	}
	defer func() { _ = dev.Stop() }()
	w, err := voice.Listen(ctx, frames, det, voice.ListenOptions{Max: max})
	if n := dropped.Load(); n > 0 {
		l.log.Warn("microphone audio dropped: the detector fell behind", "samples", n)
	}
	if errors.Is(err, voice.ErrNoSpeech) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return voice.WAV{}, nil
	}
	return w, err
}

// recognizerTranscriber is the kiosk's Transcriber: the model given by
// --asr-model, loaded at start in an allimi-voice worker (sherpa-onnx ends
// the process it runs in on a model it cannot use; then only the worker
// ends). Until it is ready, or when there is none, Transcribe returns an
// error wrapping voice.ErrNoRecognizer and the kiosk offers an official.
type recognizerTranscriber struct {
	mu     sync.Mutex
	rec    voice.Recognizer
	reason string
	ready  chan struct{}
}

// loadTranscriber starts loading the model in dir ("" for none).
func loadTranscriber(ctx context.Context, dir string, log *slog.Logger) *recognizerTranscriber {
	t := &recognizerTranscriber{reason: "no --asr-model given", ready: make(chan struct{})}
	if dir == "" {
		close(t.ready)
		return t
	}
	t.reason = "the model is still loading"
	go func() {
		defer close(t.ready)
		rec, err := openKioskRecognizer(ctx, dir)
		t.mu.Lock()
		defer t.mu.Unlock()
		if err != nil {
			t.reason = err.Error()
			log.Error("speech recognition model not loaded: questions spoken go to an official", "dir", dir, "err", err)
			return
		}
		t.rec = rec
		log.Info("speech recognition model loaded", "dir", dir)
	}()
	return t
}

func openKioskRecognizer(ctx context.Context, dir string) (voice.Recognizer, error) {
	// The checks in Go first: they say more than a worker that died.
	if _, err := voice.CheckModel(dir); err != nil {
		return nil, err
	}
	bin := voiceWorker()
	if bin == "" {
		return nil, fmt.Errorf("allimi-voice, which runs the model, is not installed beside allimi-kiosk or on $PATH")
	}
	return worker.NewRecognizer(ctx, bin, "--asr-model", dir)
}

// Transcribe implements kiosk.Transcriber.
func (t *recognizerTranscriber) Transcribe(ctx context.Context, w voice.WAV) (string, error) {
	t.mu.Lock()
	rec, reason := t.rec, t.reason
	t.mu.Unlock()
	if rec == nil {
		return "", fmt.Errorf("%w: %s", voice.ErrNoRecognizer, reason)
	}
	return rec.Transcribe(ctx, w)
}

// Close frees the model once loading has ended.
func (t *recognizerTranscriber) Close() error {
	<-t.ready
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rec != nil {
		return t.rec.Close()
	}
	return nil
}

// wireVoice gives the ask feature the microphone and the recogniser; the
// returned func frees the model.
func wireVoice(ctx context.Context, feature kiosk.Feature, log *slog.Logger) func() {
	a, ok := feature.(*kiosk.Adviser)
	if !ok {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	t := loadTranscriber(ctx, voiceFlags.asrModel, log)
	// Without a microphone the 말하기 button would only ever fail: it is
	// not shown. A microphone plugged in later needs a restart.
	if n, err := captureDevices(); n > 0 {
		a.Listener = malgoListener{vadModel: voiceFlags.vadModel, log: log}
	} else {
		log.Warn("no microphone: questions are typed, not spoken", "err", err)
	}
	a.Transcriber = t
	// Cancelling first ends a trial load still running in its child.
	return func() { cancel(); _ = t.Close() }
}

// captureDevices counts the microphones miniaudio can open.
func captureDevices() (int, error) {
	mctx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return 0, fmt.Errorf("audio: %w", err)
	}
	defer func() { _ = mctx.Uninit(); mctx.Free() }()
	infos, err := mctx.Devices(malgo.Capture)
	if err != nil {
		return 0, fmt.Errorf("audio input devices: %w", err)
	}
	return len(infos), nil
}

// s16ToFloat converts miniaudio's signed 16-bit little-endian samples to
// floats in [-1, 1). The device's buffer is reused after the callback, so
// the result is a copy.
func s16ToFloat(in []byte) []float32 {
	out := make([]float32, len(in)/2)
	for i := range out {
		out[i] = float32(int16(binary.LittleEndian.Uint16(in[2*i:]))) / 32768
	}
	return out
}

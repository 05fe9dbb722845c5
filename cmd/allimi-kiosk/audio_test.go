package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/kiosk"
	"allimi/voice"
	"allimi/voice/voicetest"
	"allimi/voice/worker"
	"allimi/voice/worker/workermain"
)

// The kiosk's player on whatever this machine has: a sound card plays the
// speech to its end, a machine without one says why; neither hangs or
// crashes the kiosk.
func TestMalgoPlayer_PlaysOrSaysWhy(t *testing.T) {
	b, err := voice.Espeak{}.Synthesize(context.Background(), "ko", "안녕하세요")
	require.NoError(t, err)
	w, err := voice.ParseWAV(b)
	require.NoError(t, err)
	err = malgoPlayer{}.Play(context.Background(), w)
	if err != nil {
		require.Contains(t, err.Error(), "audio", "a failure names the audio device")
	}
	_, err = voice.ParseWAV([]byte("no"))
	require.Error(t, err)
	require.Error(t, malgoPlayer{}.Play(context.Background(), voice.WAV{Bits: 8, SampleRate: 8000, Channels: 1, Data: []byte{1}}))
}

// TestMain lets the test binary stand in for allimi-voice, so that the
// kiosk's voice runs in real worker processes in these tests.
func TestMain(m *testing.M) {
	if os.Getenv("ALLIMI_VOICE_WORKER") == "1" {
		os.Exit(workermain.Main(os.Args[1:]))
	}
	os.Setenv("ALLIMI_VOICE_WORKER", "1") // for the workers the tests start
	voiceFlags.worker = os.Args[0]
	os.Exit(m.Run())
}

func TestTranscriber_WithoutAModelSaysSo(t *testing.T) {
	tr := loadTranscriber(context.Background(), "", slog.Default())
	defer tr.Close()
	_, err := tr.Transcribe(context.Background(), voice.NewWAV(make([]float32, voice.Rate)))
	require.ErrorIs(t, err, voice.ErrNoRecognizer)
	assert.ErrorContains(t, err, "no --asr-model given")
}

// A model that sherpa-onnx cannot run ends the allimi-voice worker, not
// the kiosk: the kiosk carries on and hands spoken questions to an
// official.
func TestTranscriber_ABadModelLeavesTheKioskRunning(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T) string
		want string
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none") }, "no such directory"},
		{"Silero VAD as SenseVoice", func(t *testing.T) string {
			d := t.TempDir()
			b, err := os.ReadFile(voice.FindSilero())
			require.NoError(t, err, "run make deps")
			require.NoError(t, os.WriteFile(filepath.Join(d, "model.onnx"), b, 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(d, "tokens.txt"), voicetest.Tokens(10), 0o644))
			return d
		}, "metadata lacks vocab_size"},
		{"a model sherpa-onnx aborts on", func(t *testing.T) string {
			d, err := voicetest.SenseVoiceDir(t.TempDir(), 50)
			require.NoError(t, err)
			return d
		}, "This is an invalid model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := loadTranscriber(context.Background(), tc.make(t), slog.Default())
			<-tr.ready
			_, err := tr.Transcribe(context.Background(), voice.NewWAV(make([]float32, voice.Rate)))
			require.ErrorIs(t, err, voice.ErrNoRecognizer)
			assert.ErrorContains(t, err, tc.want)
			require.NoError(t, tr.Close())
		})
	}
}

// This machine has no sound card: the microphone either cannot be opened
// (an error naming the audio device) or, where a device exists, hears
// nothing before the deadline (an empty recording). It never hangs.
func TestMalgoListener_OpensOrSaysWhy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	w, err := malgoListener{log: slog.Default()}.Listen(ctx, 5*time.Second)
	if err != nil {
		assert.Contains(t, err.Error(), "audio")
		return
	}
	assert.Empty(t, w.Data)
}

// Without a microphone (this machine) the ask feature gets no Listener,
// so no 말하기 button that could only fail; the Transcriber is still set
// and says why it cannot transcribe.
func TestWireVoice_NoMicrophoneNoSpeakButton(t *testing.T) {
	n, _ := captureDevices()
	a := kiosk.NewAdviser(nil)
	done := wireVoice(context.Background(), a, slog.Default())
	defer done()
	if n == 0 {
		assert.Nil(t, a.Listener)
	} else {
		assert.NotNil(t, a.Listener)
	}
	require.NotNil(t, a.Transcriber)
	_, err := a.Transcriber.Transcribe(context.Background(), voice.NewWAV(make([]float32, 160)))
	assert.ErrorIs(t, err, voice.ErrNoRecognizer)
}

// What the microphone delivers is what voice.NewWAV encodes back.
func TestS16ToFloat(t *testing.T) {
	in := []float32{0, 0.5, -0.5, 32767.0 / 32768, -1}
	got := s16ToFloat(voice.NewWAV(in).Data)
	require.Len(t, got, len(in))
	for i := range in {
		assert.InDelta(t, in[i], got[i], 1.0/32768)
	}
	assert.Empty(t, s16ToFloat([]byte{1}), "half a sample is not a sample")
}

// The microphone's core with the kiosk's own detector (Silero in an
// allimi-voice worker): one question from a stream of 10 ms chunks, as
// the sound card delivers them, from a little before its start to the
// pause after it.
func TestListen_WithTheKiosksDetector(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	det := newDetector(ctx, "", slog.Default())
	defer det.Close()
	require.IsType(t, &worker.Detector{}, det, "Silero in a worker (run make deps if the model is missing)")
	samples, truth, err := voice.ComposePCM(ctx, t.TempDir(), []voice.Phrase{
		{Silence: 1200 * time.Millisecond, Text: "주거급여 신청은 어디서 해요?"},
		{Silence: 2 * time.Second, Text: "기초연금은 얼마나 받을 수 있나요?"},
	}, time.Second, 0.01)
	require.NoError(t, err)
	frames := make(chan []float32)
	go func() {
		for off := 0; off < len(samples); off += 160 {
			select {
			case frames <- samples[off:min(off+160, len(samples))]:
			case <-ctx.Done():
				return
			}
		}
	}()
	got, err := voice.Listen(ctx, frames, det, voice.ListenOptions{Max: 30 * time.Second})
	require.NoError(t, err)
	want := truth[0].End - truth[0].Start + 500*time.Millisecond
	assert.InDelta(t, want.Seconds(), got.Duration().Seconds(), 0.4, "got %v, want about %v", got.Duration(), want)
}

func TestNewDetector_FallsBackToEnergy(t *testing.T) {
	saved := voiceFlags.worker
	defer func() { voiceFlags.worker = saved }()
	voiceFlags.worker = filepath.Join(t.TempDir(), "no-such-allimi-voice")
	det := newDetector(context.Background(), "", slog.Default())
	defer det.Close()
	assert.IsType(t, &voice.EnergyVAD{}, det)
}

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

// TestMain lets the test binary stand in for allimi-kiosk when the
// transcriber runs it again as a child to try a model.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "--trial-load-asr-model" {
		os.Exit(trialLoadMain(os.Args[2]))
	}
	os.Exit(m.Run())
}

func TestTranscriber_WithoutAModelSaysSo(t *testing.T) {
	tr := loadTranscriber(context.Background(), "", slog.Default())
	defer tr.Close()
	_, err := tr.Transcribe(context.Background(), voice.NewWAV(make([]float32, voice.Rate)))
	require.ErrorIs(t, err, voice.ErrNoRecognizer)
	assert.ErrorContains(t, err, "no --asr-model given")
}

// A model that sherpa-onnx cannot run aborts the trial child, not the
// kiosk: the kiosk carries on and hands spoken questions to an official.
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
		}, "sherpa-onnx could not load or run it"},
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

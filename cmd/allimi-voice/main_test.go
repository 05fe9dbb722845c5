package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/voice"
	"allimi/voice/sherpa"
	"allimi/voice/voicetest"
	"allimi/voice/worker"
	"allimi/voice/worker/workermain"
)

// TestMain makes the test binary allimi-voice when it is started as a
// worker, so the tests below talk to real worker processes.
func TestMain(m *testing.M) {
	if os.Getenv("ALLIMI_VOICE_WORKER") == "1" {
		os.Exit(workermain.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func workerArgv(t *testing.T, args ...string) []string {
	t.Helper()
	t.Setenv("ALLIMI_VOICE_WORKER", "1")
	return append([]string{os.Args[0]}, args...)
}

func silero(t *testing.T) string {
	t.Helper()
	p := voice.FindSilero()
	require.NotEmpty(t, p, "Silero VAD is not installed: run make deps")
	return p
}

// The kiosk's microphone path through a worker: Silero finds the question
// where it is, as in-process.
func TestWorkerDetector_FindsTheQuestion(t *testing.T) {
	ctx := context.Background()
	d, err := worker.NewDetector(ctx, workerArgv(t, "--vad-model", silero(t), "--min-silence", "0.5")...)
	require.NoError(t, err)
	defer d.Close()
	samples, truth, err := voice.ComposePCM(ctx, t.TempDir(), []voice.Phrase{
		{Silence: 1200 * time.Millisecond, Text: "주거급여 신청은 어디서 해요?"},
		{Silence: 2 * time.Second, Text: "기초연금은 얼마나 받을 수 있나요?"},
	}, time.Second, 0.01)
	require.NoError(t, err)
	segs, err := voice.DetectSegments(ctx, d, samples)
	require.NoError(t, err)
	require.Len(t, segs, 2, "%v", segs)
	for i := range truth {
		assert.InDelta(t, truth[i].Start.Seconds(), segs[i].Start.Seconds(), 0.3)
		assert.InDelta(t, truth[i].End.Seconds(), segs[i].End.Seconds(), 0.3)
	}
	// Exactly what Silero finds in this process.
	local, err := sherpa.NewSilero(silero(t), sherpa.SileroOptions{MinSilence: 0.5})
	require.NoError(t, err)
	defer local.Close()
	want, err := voice.DetectSegments(ctx, local, samples)
	require.NoError(t, err)
	assert.Equal(t, want, segs)
	// Twice on the same worker: Reset starts afresh.
	again, err := voice.DetectSegments(ctx, d, samples)
	require.NoError(t, err)
	assert.Equal(t, segs, again)
}

// A model sherpa-onnx cannot run ends the worker, never the kiosk: the
// error carries onnxruntime's reason.
func TestWorkerRecognizer_ABadModelEndsOnlyTheWorker(t *testing.T) {
	ctx := context.Background()
	dir, err := voicetest.SenseVoiceDir(t.TempDir(), 50)
	require.NoError(t, err)
	_, err = worker.NewRecognizer(ctx, workerArgv(t, "--asr-model", dir)...)
	require.ErrorIs(t, err, worker.ErrWorkerDied)
	assert.ErrorContains(t, err, "This is an invalid model")
	assert.NotContains(t, err.Error(), "goroutine")

	_, err = worker.NewRecognizer(ctx, workerArgv(t, "--asr-model", filepath.Join(dir, "missing"))...)
	require.ErrorIs(t, err, worker.ErrWorkerDied)
	assert.ErrorContains(t, err, "no such directory")
}

// A worker asked for what it has no model for says so; a worker that is
// killed is reported as dead, not waited for.
func TestWorker_ErrorsAreAnswers(t *testing.T) {
	ctx := context.Background()
	d, err := worker.NewDetector(ctx, workerArgv(t, "--vad-model", silero(t))...)
	require.NoError(t, err)
	// A worker with only a VAD model has no recogniser.
	r, err := worker.NewRecognizer(ctx, workerArgv(t, "--vad-model", silero(t))...)
	require.NoError(t, err)
	_, err = r.Transcribe(ctx, voice.NewWAV(make([]float32, 1600)))
	assert.ErrorContains(t, err, "not started with the model for it")
	require.NoError(t, r.Close())
	require.NoError(t, d.Close())
	_, err = d.Accept(make([]float32, 160))
	assert.True(t, errors.Is(err, worker.ErrWorkerDied), "%v", err)
}

func TestWorker_RefusesToStartWithoutAModel(t *testing.T) {
	_, err := worker.NewDetector(context.Background(), workerArgv(t)...)
	require.ErrorIs(t, err, worker.ErrWorkerDied)
	assert.ErrorContains(t, err, "give --vad-model, --asr-model or both")
}

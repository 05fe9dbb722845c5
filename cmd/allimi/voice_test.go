package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/internal/pgtest"
	"allimi/voice"
	"allimi/voice/voicetest"
)

// TestMain lets the test binary stand in for allimi when a command runs
// this program again as a child (voice check-model's trial load), so the
// child path is tested for real; and stops the PostgreSQL server the
// --store tests start.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "voice" && os.Args[2] == "load-model" {
		c := voiceCmd()
		c.SetArgs(os.Args[2:])
		if err := c.Execute(); err != nil {
			os.Exit(exitCode(err))
		}
		os.Exit(0)
	}
	pgtest.Main(m) // stops the PostgreSQL of the --store tests
}

func runVoiceCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	c := voiceCmd()
	c.SilenceUsage, c.SilenceErrors = true, true
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs(args)
	err := c.ExecuteContext(context.Background())
	return out.String(), err
}

func TestVoiceCheckModel_PrintsWhatItFound(t *testing.T) {
	dir, err := voicetest.SenseVoiceDir(t.TempDir(), 120)
	require.NoError(t, err)
	out, err := runVoiceCmd(t, "check-model", "--no-load", "--json", dir)
	require.NoError(t, err)
	var got struct {
		Kind   string `json:"kind"`
		Tokens int    `json:"tokens"`
		Files  []struct {
			Role string `json:"role"`
			Path string `json:"path"`
			Size int64  `json:"size"`
		} `json:"files"`
		Load string `json:"load"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, "sensevoice", got.Kind)
	assert.Equal(t, 120, got.Tokens)
	require.Len(t, got.Files, 2)
	assert.Equal(t, filepath.Join(dir, "tokens.txt"), got.Files[1].Path)
	assert.Contains(t, got.Load, "not tried")

	out, err = runVoiceCmd(t, "check-model", "--no-load", dir)
	require.NoError(t, err)
	assert.Contains(t, out, "sensevoice model, 120 tokens")
	assert.Contains(t, out, "model.int8.onnx (")
}

// A model that passes every check on its files but that sherpa-onnx
// cannot run (here: a graph without its nodes) aborts the child, not
// check-model, which says what sherpa-onnx said and exits 1.
func TestVoiceCheckModel_ATrialLoadThatAbortsIsReported(t *testing.T) {
	for _, mk := range []func(string, int) (string, error){voicetest.SenseVoiceDir, voicetest.WhisperDir} {
		dir, err := mk(t.TempDir(), 400)
		require.NoError(t, err)
		_, err = runVoiceCmd(t, "check-model", dir)
		require.ErrorIs(t, err, voice.ErrBadModel)
		assert.ErrorContains(t, err, "sherpa-onnx could not load or run it")
		assert.ErrorContains(t, err, "This is an invalid model", "onnxruntime's own reason is kept")
		assert.NotContains(t, err.Error(), "goroutine", "the Go runtime's dump is left out")
		assert.Equal(t, 1, exitCode(err))
	}
}

func TestVoiceCheckModel_RefusesBrokenDirectories(t *testing.T) {
	empty := t.TempDir()
	silero, err := os.ReadFile(voice.FindSilero())
	require.NoError(t, err, "run make deps")
	posing := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(posing, "model.onnx"), silero, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(posing, "tokens.txt"), voicetest.Tokens(10), 0o644))
	cut, err := voicetest.SenseVoiceDir(t.TempDir(), 10)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(cut, "model.int8.onnx"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(cut, "model.int8.onnx"), b[:len(b)/2], 0o644))
	noTokens, err := voicetest.SenseVoiceDir(t.TempDir(), 10)
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(noTokens, "tokens.txt")))
	for _, tc := range []struct{ name, dir, want string }{
		{"missing", filepath.Join(empty, "nope"), "no such directory"},
		{"empty", empty, "no model files"},
		{"Silero VAD posing as SenseVoice", posing, "is not a SenseVoice model for sherpa-onnx"},
		{"model cut short", cut, "not a complete ONNX model"},
		{"tokens missing", noTokens, "tokens.txt is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runVoiceCmd(t, "check-model", tc.dir)
			require.ErrorIs(t, err, voice.ErrBadModel)
			assert.ErrorContains(t, err, tc.want)
			assert.Equal(t, 1, exitCode(err))
		})
	}
}

// composeQuestion is a spoken question with a known place in the file.
func composeQuestion(t *testing.T, text string) (string, voice.Segment) {
	t.Helper()
	file, truth, err := voice.Compose(context.Background(), t.TempDir(), []voice.Phrase{{Silence: time.Second, Text: text}}, time.Second, 0)
	require.NoError(t, err)
	return file, truth[0]
}

func sox(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("sox", args...).CombinedOutput()
	require.NoError(t, err, "sox %v: %s", args, out)
}

// The benchmark scores both detectors on the same audio, and says that
// recognition was not measured when no model is installed.
func TestBenchVoice_ReportsBothDetectorsAndNoModel(t *testing.T) {
	r, err := benchVoice(context.Background(), 1, "")
	require.NoError(t, err)
	require.Len(t, r.VAD, 4, "silero and energy, clean and noisy")
	names := map[string]int{}
	for _, v := range r.VAD {
		names[v.Name]++
		assert.Equal(t, len(benchQuestions), v.Truth)
		assert.Positive(t, v.RTF)
	}
	assert.Equal(t, map[string]int{"silero": 2, "energy": 2}, names)
	assert.Positive(t, r.TTS.FirstAudioMs)
	assert.Contains(t, r.markdown(), "no model installed, not measured")
}

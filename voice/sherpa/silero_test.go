//go:build cgo

package sherpa

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/voice"
)

// sileroModel is the model make deps installs; its absence fails the
// test, never skips it.
func sileroModel(t *testing.T) string {
	t.Helper()
	p := voice.FindSilero()
	require.NotEmpty(t, p, "Silero VAD is not installed: run make deps (it puts it at %s)", voice.SileroFile)
	return p
}

var phrases = []voice.Phrase{
	{Silence: 1200 * time.Millisecond, Text: "주거급여 신청은 어디서 해요?"},
	{Silence: 2 * time.Second, Text: "기초연금은 얼마나 받을 수 있나요?"},
}

const tolerance = 300 * time.Millisecond

func TestSilero_FindsPhrasesWithinTolerance(t *testing.T) {
	d, err := NewSilero(sileroModel(t), SileroOptions{})
	require.NoError(t, err)
	defer d.Close()
	for _, tc := range []struct {
		name  string
		noise float64
	}{
		{"clean", 0},
		{"quiet room noise", 0.01},
		{"noisy room", 0.03},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples, truth, err := voice.ComposePCM(context.Background(), t.TempDir(), phrases, 1500*time.Millisecond, tc.noise)
			require.NoError(t, err)
			segs, err := voice.DetectSegments(context.Background(), d, samples)
			require.NoError(t, err)
			require.Len(t, segs, len(truth), "found %v, truth %v", segs, truth)
			for i := range truth {
				assert.InDelta(t, truth[i].Start.Seconds(), segs[i].Start.Seconds(), tolerance.Seconds(), "start %d: %v vs %v", i, segs[i], truth[i])
				assert.InDelta(t, truth[i].End.Seconds(), segs[i].End.Seconds(), tolerance.Seconds(), "end %d: %v vs %v", i, segs[i], truth[i])
			}
		})
	}
}

func TestSilero_StreamsStartThenEnd(t *testing.T) {
	d, err := NewSilero(sileroModel(t), SileroOptions{})
	require.NoError(t, err)
	defer d.Close()
	samples, truth, err := voice.ComposePCM(context.Background(), t.TempDir(), phrases[:1], 1500*time.Millisecond, 0)
	require.NoError(t, err)
	var evs []voice.Event
	for off := 0; off < len(samples); off += 160 {
		e, err := d.Accept(samples[off:min(off+160, len(samples))])
		require.NoError(t, err)
		evs = append(evs, e...)
	}
	f, err := d.Flush()
	require.NoError(t, err)
	evs = append(evs, f...)
	require.Len(t, evs, 2, "%v", evs)
	assert.Equal(t, voice.SpeechStarted, evs[0].Kind)
	assert.Equal(t, voice.SpeechEnded, evs[1].Kind)
	// The start is an estimate when it is reported; the end carries the
	// exact segment.
	assert.InDelta(t, truth[0].Start.Seconds(), evs[0].Segment.Start.Seconds(), 0.5)
	assert.InDelta(t, truth[0].Start.Seconds(), evs[1].Segment.Start.Seconds(), tolerance.Seconds())
	assert.InDelta(t, truth[0].End.Seconds(), evs[1].Segment.End.Seconds(), tolerance.Seconds())
}

// A wrong or broken model file is refused before sherpa-onnx sees it
// (sherpa-onnx would end the process).
func TestNewSilero_RefusesWrongFiles(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(sileroModel(t))
	require.NoError(t, err)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.onnx"), "no such file"},
		{"empty", write("empty.onnx", nil), "empty"},
		{"truncated", write("cut.onnx", good[:len(good)/2]), "not a complete ONNX model"},
		{"text", write("text.onnx", []byte("this is not a model\n")), "not a complete ONNX model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSilero(tc.path, SileroOptions{})
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "make deps")
		})
	}
}

// The kiosk's microphone path with Silero: one utterance from a stream.
func TestSilero_ListenTakesOneUtterance(t *testing.T) {
	d, err := NewSilero(sileroModel(t), SileroOptions{MinSilence: 0.8})
	require.NoError(t, err)
	defer d.Close()
	s, truth, err := voice.ComposePCM(context.Background(), t.TempDir(), phrases, 2*time.Second, 0.01)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	frames := make(chan []float32)
	go func() {
		for off := 0; off < len(s); off += 160 {
			select {
			case frames <- s[off:min(off+160, len(s))]:
			case <-ctx.Done():
				return
			}
		}
	}()
	w, err := voice.Listen(ctx, frames, d, voice.ListenOptions{})
	require.NoError(t, err)
	want := truth[0].End - truth[0].Start + 500*time.Millisecond
	assert.InDelta(t, want.Seconds(), w.Duration().Seconds(), 0.4, "got %v, want about %v", w.Duration(), want)
}

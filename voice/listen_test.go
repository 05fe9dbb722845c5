package voice

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// feed sends samples in 10 ms chunks, as a sound card does, until they
// run out (then closes frames when closeAtEnd) or ctx ends. stopAt, when
// > 0, cancels cancel after that many samples have been taken.
func feed(ctx context.Context, samples []float32, closeAtEnd bool, stopAt int, cancel context.CancelFunc) <-chan []float32 {
	frames := make(chan []float32)
	go func() {
		if closeAtEnd {
			defer close(frames)
		}
		for off := 0; off < len(samples); off += 160 {
			if stopAt > 0 && off >= stopAt {
				cancel()
				return
			}
			select {
			case frames <- samples[off:min(off+160, len(samples))]:
			case <-ctx.Done():
				return
			}
		}
	}()
	return frames
}

func composed(t *testing.T, phrases []Phrase, after time.Duration) ([]float32, []Segment) {
	t.Helper()
	s, truth, err := ComposePCM(context.Background(), t.TempDir(), phrases, after, 0.01)
	require.NoError(t, err)
	return s, truth
}

func TestListen_TakesOneUtteranceFromStartToPause(t *testing.T) {
	s, truth := composed(t, testPhrases, 2*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := Listen(ctx, feed(ctx, s, false, 0, nil), &EnergyVAD{}, ListenOptions{})
	require.NoError(t, err)
	assert.Equal(t, Rate, w.SampleRate)
	assert.Equal(t, 1, w.Channels)
	assert.Equal(t, 16, w.Bits)
	// The first phrase only (the pause after it is 2 s), with 300 ms before
	// and 200 ms after.
	want := truth[0].End - truth[0].Start + 500*time.Millisecond
	assert.InDelta(t, want.Seconds(), w.Duration().Seconds(), 0.3, "got %v, want about %v", w.Duration(), want)
}

func TestListen_CutsAtMax(t *testing.T) {
	s, _ := composed(t, testPhrases[:1], time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := Listen(ctx, feed(ctx, s, false, 0, nil), &EnergyVAD{}, ListenOptions{Max: 800 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 800*time.Millisecond, w.Duration())
}

func TestListen_GivesUpWhenNobodySpeaks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	silence := make([]float32, 5*Rate)
	_, err := Listen(ctx, feed(ctx, silence, false, 0, nil), &EnergyVAD{}, ListenOptions{WaitForSpeech: 2 * time.Second})
	assert.ErrorIs(t, err, ErrNoSpeech)

	_, err = Listen(ctx, feed(ctx, silence[:Rate], true, 0, nil), &EnergyVAD{}, ListenOptions{})
	assert.ErrorIs(t, err, ErrNoSpeech, "the stream ended in silence")
}

// The person presses stop in the middle of the question: what was heard
// is returned.
func TestListen_StopReturnsWhatWasHeard(t *testing.T) {
	s, truth := composed(t, testPhrases[:1], time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mid := samples(truth[0].Start + (truth[0].End-truth[0].Start)/2)
	w, err := Listen(ctx, feed(ctx, s, false, mid, cancel), &EnergyVAD{}, ListenOptions{})
	require.NoError(t, err)
	heard := (truth[0].End - truth[0].Start) / 2
	assert.InDelta(t, (heard + 300*time.Millisecond).Seconds(), w.Duration().Seconds(), 0.1)

	// Stopped before anyone spoke: the context's error.
	ctx2, cancel2 := context.WithCancel(context.Background())
	_, err = Listen(ctx2, feed(ctx2, s, false, Rate/2, cancel2), &EnergyVAD{}, ListenOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

// A stream that ends while someone speaks (the device was unplugged)
// returns the speech heard.
func TestListen_StreamEndingMidSpeech(t *testing.T) {
	s, truth := composed(t, testPhrases[:1], 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	end := samples(truth[0].End - 500*time.Millisecond)
	w, err := Listen(ctx, feed(ctx, s[:end], true, 0, nil), &EnergyVAD{}, ListenOptions{})
	require.NoError(t, err)
	assert.InDelta(t, (truth[0].End - 500*time.Millisecond - truth[0].Start + 300*time.Millisecond).Seconds(), w.Duration().Seconds(), 0.2)
}

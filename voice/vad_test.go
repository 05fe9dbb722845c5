package voice

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two questions with known silences around them, as a senior would ask
// at the kiosk.
var testPhrases = []Phrase{
	{Silence: 1200 * time.Millisecond, Text: "주거급여 신청은 어디서 해요?"},
	{Silence: 2 * time.Second, Text: "기초연금은 얼마나 받을 수 있나요?"},
}

// VADTolerance is how far a found boundary may lie from the truth: Silero
// and the energy detector both keep a little silence around words, and
// espeak-ng's quiet consonants begin and end softly.
const vadTolerance = 300 * time.Millisecond

func assertSegmentsMatch(t *testing.T, truth, got []Segment) {
	t.Helper()
	require.Len(t, got, len(truth), "found %v, truth %v", got, truth)
	for i := range truth {
		assert.InDelta(t, truth[i].Start.Seconds(), got[i].Start.Seconds(), vadTolerance.Seconds(), "start of phrase %d: found %v, truth %v", i, got[i], truth[i])
		assert.InDelta(t, truth[i].End.Seconds(), got[i].End.Seconds(), vadTolerance.Seconds(), "end of phrase %d: found %v, truth %v", i, got[i], truth[i])
	}
}

func TestEnergyVAD_FindsPhrasesWithinTolerance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		noise float64
	}{
		{"clean", 0},
		{"quiet room noise", 0.01},
		{"noisy room", 0.03},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples, truth, err := ComposePCM(context.Background(), t.TempDir(), testPhrases, 1500*time.Millisecond, tc.noise)
			require.NoError(t, err)
			segs, err := DetectSegments(context.Background(), &EnergyVAD{}, samples)
			require.NoError(t, err)
			assertSegmentsMatch(t, truth, segs)
		})
	}
}

func TestEnergyVAD_HearsNothingInSilenceAndNoise(t *testing.T) {
	silence := make([]float32, 3*Rate)
	segs, err := DetectSegments(context.Background(), &EnergyVAD{}, silence)
	require.NoError(t, err)
	assert.Empty(t, segs)
	noise, _, err := ComposePCM(context.Background(), t.TempDir(), nil, 3*time.Second, 0.05) // steady white noise
	require.NoError(t, err)
	segs, err = DetectSegments(context.Background(), &EnergyVAD{}, noise)
	require.NoError(t, err)
	assert.Empty(t, segs, "steady noise is not speech")
}

// The streaming form reports start before end, and a recording that ends
// while someone speaks ends the speech at Flush.
func TestEnergyVAD_StreamsStartAndEndEvents(t *testing.T) {
	samples, truth, err := ComposePCM(context.Background(), t.TempDir(), testPhrases[:1], 200*time.Millisecond, 0)
	require.NoError(t, err)
	v := &EnergyVAD{}
	var evs []Event
	for off := 0; off < len(samples); off += 160 { // 10 ms, as a sound card delivers
		e, err := v.Accept(samples[off:min(off+160, len(samples))])
		require.NoError(t, err)
		evs = append(evs, e...)
	}
	require.Len(t, evs, 1, "the pause after the phrase is shorter than MinSilence: speech has not ended")
	assert.Equal(t, SpeechStarted, evs[0].Kind)
	assert.InDelta(t, truth[0].Start.Seconds(), evs[0].Segment.Start.Seconds(), vadTolerance.Seconds())
	end, err := v.Flush()
	require.NoError(t, err)
	require.Len(t, end, 1)
	assert.Equal(t, SpeechEnded, end[0].Kind)
	assert.InDelta(t, truth[0].End.Seconds(), end[0].Segment.End.Seconds(), vadTolerance.Seconds())
}

func TestDetectSegments_StopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := DetectSegments(ctx, &EnergyVAD{}, make([]float32, Rate))
	assert.ErrorIs(t, err, context.Canceled)
}

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"allimi/voice"
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

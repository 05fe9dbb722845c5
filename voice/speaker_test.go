package voice

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a Player that keeps what it was given and plays until told
// to stop.
type recorder struct {
	got     chan WAV
	stopped chan struct{}
}

func (r *recorder) Play(ctx context.Context, w WAV) error {
	r.got <- w
	<-ctx.Done()
	r.stopped <- struct{}{}
	return ctx.Err()
}

func TestSpeaker_ANewTextCutsTheOneBeingRead(t *testing.T) {
	r := &recorder{got: make(chan WAV, 2), stopped: make(chan struct{}, 2)}
	s := &Speaker{Player: r}
	require.NoError(t, s.Speak(context.Background(), "ko", "첫 번째 안내입니다. 아주 긴 안내입니다."))
	first := <-r.got
	assert.Greater(t, first.Duration(), time.Second)

	require.NoError(t, s.Speak(context.Background(), "en", "Second."))
	select {
	case <-r.stopped:
	default:
		t.Fatal("the first text was not cut before the second began")
	}
	second := <-r.got
	assert.Less(t, second.Duration(), first.Duration())

	s.Stop()
	select {
	case <-r.stopped:
	default:
		t.Fatal("Stop did not silence the speaker")
	}
	s.Stop() // twice is fine
	assert.ErrorIs(t, s.Speak(context.Background(), "xx", "?"), ErrNoVoice)
}

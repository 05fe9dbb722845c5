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

// playedAll is a Player that keeps every WAV and returns at once.
type playedAll struct{ got chan WAV }

func (p playedAll) Play(_ context.Context, w WAV) error { p.got <- w; return nil }

// A long answer is read a part at a time, in order, and nothing is lost.
func TestSpeaker_ReadsALongAnswerPartByPart(t *testing.T) {
	text := "주거급여는 주민센터에서 신청하실 수 있습니다. 신분증과 임대차 계약서를 가져오세요. " +
		"소득과 재산을 조사한 뒤 결과를 알려 드립니다. 궁금한 점은 국번 없이 129로 물어보세요."
	parts := SplitSpeech(text)
	require.Len(t, parts, 2)
	p := playedAll{got: make(chan WAV, 10)}
	s := &Speaker{Player: p}
	require.NoError(t, s.Speak(context.Background(), "ko", text))
	s.Wait()
	close(p.got)
	var played []WAV
	for w := range p.got {
		played = append(played, w)
	}
	require.Len(t, played, len(parts))
	whole, err := Espeak{}.Synthesize(context.Background(), "ko", text)
	require.NoError(t, err)
	ww, err := ParseWAV(whole)
	require.NoError(t, err)
	var sum time.Duration
	for _, w := range played {
		assert.Less(t, w.Duration(), ww.Duration())
		sum += w.Duration()
	}
	assert.InDelta(t, ww.Duration().Seconds(), sum.Seconds(), 0.15*ww.Duration().Seconds(), "the parts say all of it")
}

func TestSplitSpeech(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"짧은 문장. 또 짧은 문장.", []string{"짧은 문장. 또 짧은 문장."}},
		{"첫째 문장은 사십 글자를 넘기도록 아주 길게 길게 길게 길게 길게 써 봅니다. 둘째.", []string{"첫째 문장은 사십 글자를 넘기도록 아주 길게 길게 길게 길게 길게 써 봅니다.", "둘째."}},
		{"이 안내문은 사십 글자를 넘기도록 길게 씁니다 납부 기한은 2026. 3. 1. 까지입니다. 늦지 마세요.", []string{"이 안내문은 사십 글자를 넘기도록 길게 씁니다 납부 기한은 2026. 3. 1. 까지입니다.", "늦지 마세요."}},
		{"금액은 43,850원입니다 그리고 기한은 2026.3.1. 까지이며 늦으면 가산금이 붙습니다!\n다음 줄", []string{"금액은 43,850원입니다 그리고 기한은 2026.3.1. 까지이며 늦으면 가산금이 붙습니다!", "다음 줄"}},
	} {
		assert.Equal(t, tc.want, SplitSpeech(tc.in), "%q", tc.in)
	}
}

package voice

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEspeak_SpeaksEveryKioskLanguageSlowly(t *testing.T) {
	ctx := context.Background()
	for lang, text := range map[string]string{
		"ko": "과태료 43,850원을 2026. 3. 1.까지 내세요. 문의는 국번 없이 129.",
		"en": "Your health check-up is due this year.",
		"ja": "健康診断のお知らせです。",
		"zh": "您有一项新的补贴。",
		"th": "สวัสดีครับ",
		"vi": "Xin chào",
	} {
		wav, err := Espeak{}.Synthesize(ctx, lang, text)
		require.NoError(t, err, lang)
		w, err := ParseWAV(wav)
		require.NoError(t, err, lang)
		assert.Equal(t, 1, w.Channels, lang)
		assert.Equal(t, 16, w.Bits, lang)
		assert.Greater(t, w.Duration(), 500*time.Millisecond, lang)
	}

	// Slower than espeak-ng's default: the same words last longer.
	slow, err := Espeak{}.Synthesize(ctx, "ko", "건강검진 대상입니다")
	require.NoError(t, err)
	fast, err := Espeak{Rate: 175, Gap: 1}.Synthesize(ctx, "ko", "건강검진 대상입니다")
	require.NoError(t, err)
	ws, _ := ParseWAV(slow)
	wf, _ := ParseWAV(fast)
	assert.Greater(t, ws.Duration(), wf.Duration())
}

func TestEspeak_RefusesUnknownLanguagesAndMissingBinary(t *testing.T) {
	_, err := Espeak{}.Synthesize(context.Background(), "xx", "hello")
	assert.ErrorIs(t, err, ErrNoVoice)
	_, err = Espeak{Bin: "/nonexistent/espeak-ng"}.Synthesize(context.Background(), "ko", "안녕")
	assert.ErrorContains(t, err, "espeak-ng")
}

func TestParseWAV_RefusesWhatIsNotPCM(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":   nil,
		"text":    []byte("hello, this is not audio at all"),
		"no data": []byte("RIFF\x04\x00\x00\x00WAVE"),
		"not PCM": append([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00\x01\x00"), make([]byte, 12)...),
	} {
		_, err := ParseWAV(b)
		assert.ErrorIs(t, err, ErrNotWAV, name)
	}
}

package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// Espeak speaks with espeak-ng (Debian's espeak-ng package), slower and
// with longer pauses between words than its default, for seniors.
type Espeak struct {
	Bin  string // default "espeak-ng"
	Rate int    // words per minute; default 130 (espeak-ng's own is 175)
	Gap  int    // extra pause between words, in 10 ms; default 4
}

// espeakVoices maps the kiosk's languages to espeak-ng voices.
var espeakVoices = map[string]string{"ko": "ko", "en": "en-us", "ja": "ja", "zh": "cmn", "th": "th", "vi": "vi"}

// ErrNoVoice: espeak-ng has no voice for the language.
var ErrNoVoice = errors.New("no voice for this language")

// ErrNoRecognizer: no speech-recognition model is installed, so speech
// cannot be turned into text; the kiosk hands the question to an official.
var ErrNoRecognizer = errors.New("no speech-recognition model installed")

// Synthesize returns text spoken in lang (ko, en, ja, zh, th, vi) as a WAV
// file (16-bit mono PCM). Korean text is normalised first (Normalize).
func (e Espeak) Synthesize(ctx context.Context, lang, text string) ([]byte, error) {
	v, ok := espeakVoices[lang]
	if !ok {
		return nil, fmt.Errorf("speak %q: %w", lang, ErrNoVoice)
	}
	if lang == "ko" {
		text = Normalize(text)
	}
	bin, rate, gap := e.Bin, e.Rate, e.Gap
	if bin == "" {
		bin = "espeak-ng"
	}
	if rate <= 0 {
		rate = 130
	}
	if gap <= 0 {
		gap = 4
	}
	f, err := os.CreateTemp("", "allimi-tts-*.wav")
	if err != nil {
		return nil, err
	}
	f.Close()
	defer os.Remove(f.Name())
	// The text goes on standard input, never on the command line: it may
	// begin with "-".
	cmd := exec.CommandContext(ctx, bin, "-v", v, "-s", fmt.Sprint(rate), "-g", fmt.Sprint(gap), "-w", f.Name())
	cmd.Stdin = bytes.NewReader([]byte(text))
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("espeak-ng: %v: %s", err, bytes.TrimSpace(out))
	}
	wav, err := os.ReadFile(f.Name())
	if err != nil {
		return nil, err
	}
	if _, err := ParseWAV(wav); err != nil {
		return nil, fmt.Errorf("espeak-ng wrote %w", err)
	}
	return wav, nil
}

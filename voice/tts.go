package voice

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"
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

// WAV describes a PCM WAV file.
type WAV struct {
	SampleRate int
	Channels   int
	Bits       int
	Data       []byte // the samples
}

// Duration is how long the samples last.
func (w WAV) Duration() time.Duration {
	bytesPerSecond := w.SampleRate * w.Channels * w.Bits / 8
	if bytesPerSecond == 0 {
		return 0
	}
	return time.Duration(len(w.Data)) * time.Second / time.Duration(bytesPerSecond)
}

// ErrNotWAV: the bytes are not a PCM WAV file.
var ErrNotWAV = errors.New("not a PCM WAV file")

// ParseWAV reads a RIFF/WAVE file with a PCM "fmt " chunk.
func ParseWAV(b []byte) (WAV, error) {
	var w WAV
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return w, fmt.Errorf("%w: no RIFF/WAVE header", ErrNotWAV)
	}
	haveFmt := false
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size > len(body) {
			size = len(body) // a streamed file states no real length
		}
		switch id {
		case "fmt ":
			if size < 16 || binary.LittleEndian.Uint16(body) != 1 {
				return w, fmt.Errorf("%w: not PCM", ErrNotWAV)
			}
			w.Channels = int(binary.LittleEndian.Uint16(body[2:]))
			w.SampleRate = int(binary.LittleEndian.Uint32(body[4:]))
			w.Bits = int(binary.LittleEndian.Uint16(body[14:]))
			haveFmt = true
		case "data":
			if !haveFmt {
				return w, fmt.Errorf("%w: data before fmt", ErrNotWAV)
			}
			w.Data = body[:size]
			return w, nil
		}
		p += 8 + size + size%2
	}
	return w, fmt.Errorf("%w: no data chunk", ErrNotWAV)
}

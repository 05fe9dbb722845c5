package voice

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Whatever the kiosk shows is read aloud: no text may crash the reader,
// and no digit is left for espeak-ng to spell in English.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"과태료 43,850원", "2026. 3. 1.", "010-1234-5678", "국번 없이 129", "99999999999999999999999원", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		out := Normalize(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		if strings.ContainsAny(out, "0123456789") && len(out) < 10000 {
			// Only numbers too large to read are left as they are.
			for _, f := range numberPattern.FindAllString(out, -1) {
				if len(strings.ReplaceAll(f, ",", "")) < 20 {
					t.Fatalf("digits left in %q (from %q)", out, s)
				}
			}
		}
	})
}

// A WAV file comes from whoever runs consult --wav: no bytes may crash
// the reader, and whatever it accepts converts to samples in [-1, 1].
func FuzzParseWAV(f *testing.F) {
	f.Add(NewWAV([]float32{0, 0.5, -0.5, 1}).Encode())
	f.Add(WAV{SampleRate: 44100, Channels: 2, Bits: 24, Data: make([]byte, 60)}.Encode())
	f.Add(WAV{SampleRate: 8000, Channels: 1, Bits: 32, Float: true, Data: []byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x7f}}.Encode())
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWAV(b)
		if err != nil {
			if !errors.Is(err, ErrNotWAV) {
				t.Fatalf("error outside ErrNotWAV: %v", err)
			}
			return
		}
		if w.Duration() > time.Minute {
			return // long inputs are slow to resample, not wrong
		}
		p, err := Mono16k(w)
		if err != nil {
			return
		}
		for _, s := range p.Samples {
			if !(s >= -1 && s <= 1) {
				t.Fatalf("sample %v outside [-1, 1]", s)
			}
		}
	})
}

// A model file is whatever an operator downloaded: no bytes may crash
// the check that runs before sherpa-onnx sees them.
func FuzzInspectONNX(f *testing.F) {
	f.Add([]byte{0x08, 0x08, 0x3a, 0x02, 0x12, 0x00})
	f.Add([]byte("not a model"))
	f.Add([]byte{0x72, 0x05, 0x0a, 0x01, 'k', 0x12, 0x00})
	// A length read past the end of its message once wrapped the offset
	// round and looped for ever.
	f.Add([]byte{0x3a, 0x01, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := inspectONNX(bytes.NewReader(b), int64(len(b)))
		if err != nil && !errors.Is(err, ErrBadONNX) {
			t.Fatalf("error outside ErrBadONNX: %v", err)
		}
		if err == nil && info.IRVersion == 0 {
			t.Fatal("accepted without an IR version")
		}
	})
}

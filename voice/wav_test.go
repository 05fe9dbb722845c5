package voice

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tone is a 440 Hz sine of amplitude amp, secs long, at rate.
func tone(rate int, secs, amp float64) []float64 {
	out := make([]float64, int(float64(rate)*secs))
	for i := range out {
		out[i] = amp * math.Sin(2*math.Pi*440*float64(i)/float64(rate))
	}
	return out
}

// encode writes samples (interleaved when channels > 1) in the given
// format as a WAV file.
func encode(t *testing.T, rate, channels, bits int, float bool, samples []float64) []byte {
	t.Helper()
	w := WAV{SampleRate: rate, Channels: channels, Bits: bits, Float: float}
	width := bits / 8
	w.Data = make([]byte, len(samples)*width)
	for i, s := range samples {
		b := w.Data[i*width:]
		switch {
		case float && bits == 32:
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(s)))
		case float && bits == 64:
			binary.LittleEndian.PutUint64(b, math.Float64bits(s))
		case bits == 8:
			b[0] = byte(math.Max(0, math.Min(255, math.Round(s*127+128))))
		case bits == 16:
			binary.LittleEndian.PutUint16(b, uint16(int16(math.Max(-32768, math.Min(32767, math.Round(s*32767))))))
		case bits == 24:
			v := int32(math.Max(-(1 << 23), math.Min(1<<23-1, math.Round(s*(1<<23-1)))))
			b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
		case bits == 32:
			binary.LittleEndian.PutUint32(b, uint32(int32(math.Max(math.MinInt32, math.Min(math.MaxInt32, math.Round(s*math.MaxInt32))))))
		}
	}
	return w.Encode()
}

func rms(s []float32) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

// Every accepted format becomes the same 16 kHz mono signal: one second
// of a 0.5 sine (RMS 0.354), whatever the rate, width or channels.
func TestMono16k_ConvertsEveryAcceptedFormat(t *testing.T) {
	stereo := func(rate int, l, r float64) []float64 {
		a, b := tone(rate, 1, l), tone(rate, 1, r)
		out := make([]float64, 0, 2*len(a))
		for i := range a {
			out = append(out, a[i], b[i])
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		file    []byte
		clipped bool
		wantRMS float64
	}{
		{"16-bit 16 kHz", encode(t, 16000, 1, 16, false, tone(16000, 1, 0.5)), false, 0.354},
		{"8 kHz resampled up", encode(t, 8000, 1, 16, false, tone(8000, 1, 0.5)), false, 0.354},
		{"44.1 kHz resampled down", encode(t, 44100, 1, 16, false, tone(44100, 1, 0.5)), false, 0.354},
		{"48 kHz resampled down", encode(t, 48000, 1, 16, false, tone(48000, 1, 0.5)), false, 0.354},
		{"stereo downmixed", encode(t, 16000, 2, 16, false, stereo(16000, 0.5, 0.5)), false, 0.354},
		{"stereo with one silent side", encode(t, 16000, 2, 16, false, stereo(16000, 1, 0)), true, 0.354},
		{"8-bit unsigned", encode(t, 16000, 1, 8, false, tone(16000, 1, 0.5)), false, 0.354},
		{"24-bit", encode(t, 16000, 1, 24, false, tone(16000, 1, 0.5)), false, 0.354},
		{"32-bit integer", encode(t, 16000, 1, 32, false, tone(16000, 1, 0.5)), false, 0.354},
		{"32-bit float", encode(t, 16000, 1, 32, true, tone(16000, 1, 0.5)), false, 0.354},
		{"64-bit float at 22.05 kHz", encode(t, 22050, 1, 64, true, tone(22050, 1, 0.5)), false, 0.354},
		{"clipped: twice full scale, still processed", encode(t, 16000, 1, 16, false, tone(16000, 1, 2)), true, 0.9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseWAV(tc.file)
			require.NoError(t, err)
			p, err := Mono16k(w)
			require.NoError(t, err)
			assert.InDelta(t, 1.0, p.Duration().Seconds(), 0.01)
			assert.InDelta(t, tc.wantRMS, rms(p.Samples[800:len(p.Samples)-800]), 0.1*tc.wantRMS)
			assert.Equal(t, tc.clipped, p.IsClipped(), "clipped share %.4f", p.Clipped)
			assert.False(t, p.Truncated)
		})
	}
}

// Resampling 48 kHz down to 16 kHz must not fold a 12 kHz whistle (above
// the new 8 kHz Nyquist frequency) into the speech band.
func TestResample_RemovesWhatTheNewRateCannotHold(t *testing.T) {
	in := make([]float32, 48000)
	for i := range in {
		in[i] = float32(0.5 * math.Sin(2*math.Pi*12000*float64(i)/48000))
	}
	out := Resample(in, 48000, 16000)
	require.Len(t, out, 16000)
	assert.Less(t, rms(out[100:len(out)-100]), 0.01, "a 12 kHz tone folded into 4 kHz")
}

func TestParseWAV_KeepsWhatATruncatedFileHolds(t *testing.T) {
	full := encode(t, 16000, 1, 16, false, tone(16000, 1, 0.5))
	for _, tc := range []struct {
		name string
		cut  int // bytes kept
		want time.Duration
	}{
		{"cut in the middle", 44 + 16000, 500 * time.Millisecond},
		{"cut inside a sample", 44 + 16001, 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseWAV(full[:tc.cut])
			require.NoError(t, err)
			assert.True(t, w.Truncated)
			assert.Equal(t, tc.want, w.Duration())
			p, err := Mono16k(w)
			require.NoError(t, err)
			assert.True(t, p.Truncated)
		})
	}
	// A streamed file (data size 0xFFFFFFFF) is not "truncated".
	streamed := append([]byte(nil), full...)
	binary.LittleEndian.PutUint32(streamed[40:], 0xFFFFFFFF)
	w, err := ParseWAV(streamed)
	require.NoError(t, err)
	assert.False(t, w.Truncated)
	assert.Equal(t, time.Second, w.Duration())
}

func TestParseWAV_RefusesWhatItCannotRead(t *testing.T) {
	good := encode(t, 16000, 1, 16, false, tone(16000, 0.1, 0.5))
	with := func(off int, v uint16) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint16(b[off:], v)
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty file", nil, "the file is empty"},
		{"text", []byte("hello, this is not audio at all"), "no RIFF/WAVE header"},
		{"an MP3", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, 100)...), "no RIFF/WAVE header"},
		{"header only", good[:12], "no fmt chunk"},
		{"header and fmt, no data", good[:36], "no data chunk"},
		{"data chunk with no samples", good[:44], "holds no samples"},
		{"µ-law", with(20, 7), "format 0x7"},
		{"12-bit PCM", with(34, 12), "12-bit PCM"},
		{"16-bit float", func() []byte { b := with(20, 3); return b }(), "16-bit float"},
		{"six channels", with(22, 6), "6 channels"},
		{"no channels", with(22, 0), "0 channels"},
		{"4 kHz", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(b[24:], 4000)
			return b
		}(), "4000 Hz"},
		{"96 kHz", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(b[24:], 96000)
			return b
		}(), "96000 Hz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWAV(tc.b)
			require.ErrorIs(t, err, ErrNotWAV)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "accepted: a RIFF/WAVE file", "the error says what is accepted")
		})
	}
}

// sox writes WAVE_FORMAT_EXTENSIBLE headers for 24-bit and multichannel
// files; those are read too.
func TestParseWAV_ReadsSoxExtensibleFiles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.wav")
	out := filepath.Join(dir, "ext.wav")
	require.NoError(t, exec.Command("sox", "-n", "-r", "48000", "-c", "2", "-b", "24", src, "synth", "1", "sine", "440", "vol", "0.5").Run())
	require.NoError(t, exec.Command("sox", src, "-e", "floating-point", "-b", "32", out).Run())
	for _, f := range []string{src, out} {
		b := readFile(t, f)
		w, err := ParseWAV(b)
		require.NoError(t, err, f)
		p, err := Mono16k(w)
		require.NoError(t, err)
		assert.InDelta(t, 1.0, p.Duration().Seconds(), 0.01)
		assert.InDelta(t, 0.354, rms(p.Samples[800:len(p.Samples)-800]), 0.035)
	}
}

func TestNewWAV_RoundTrips(t *testing.T) {
	in := []float32{0, 0.5, -0.5, 1, -1}
	w, err := ParseWAV(NewWAV(in).Encode())
	require.NoError(t, err)
	p, err := Mono16k(w)
	require.NoError(t, err)
	require.Len(t, p.Samples, len(in))
	for i := range in {
		assert.InDelta(t, in[i], p.Samples[i], 1.0/32000)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

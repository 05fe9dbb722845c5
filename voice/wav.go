package voice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// WAV describes a WAV file's samples as they are stored.
type WAV struct {
	SampleRate int
	Channels   int
	Bits       int
	// Float: the samples are IEEE floats (32 or 64 bits), not integers.
	Float bool
	// Truncated: the data chunk claimed more bytes than the file holds (a
	// copy cut short); what is there is kept.
	Truncated bool
	Data      []byte // the samples
}

// Duration is how long the samples last.
func (w WAV) Duration() time.Duration {
	bytesPerSecond := w.SampleRate * w.Channels * w.Bits / 8
	if bytesPerSecond == 0 {
		return 0
	}
	return time.Duration(len(w.Data)) * time.Second / time.Duration(bytesPerSecond)
}

// ErrNotWAV: the bytes are not a WAV file this package can read.
var ErrNotWAV = errors.New("not a PCM WAV file")

// acceptedWAV is told to whoever gave a file that cannot be read.
const acceptedWAV = "accepted: a RIFF/WAVE file of 8, 16, 24 or 32-bit PCM or 32/64-bit float samples, 1 or 2 channels, 8 to 48 kHz (convert others with: sox in.ext -r 16000 -c 1 -b 16 out.wav)"

func notWAV(format string, args ...any) error {
	return fmt.Errorf("%w: %s; %s", ErrNotWAV, fmt.Sprintf(format, args...), acceptedWAV)
}

// WAVE format tags (mmreg.h): PCM, IEEE float, and the extensible header
// whose sub-format GUID begins with one of the other two.
const (
	wavePCM        = 1
	waveFloat      = 3
	waveExtensible = 0xFFFE
)

// Data chunk sizes that writers use when they stream and cannot seek back
// to fill in the real length: the rest of the file is the data.
func streamedSize(size uint32) bool {
	return size == 0 || size == 0xFFFFFFFF || size == 0x7FFFF000 || size == 0x7FFFFFFF
}

// ParseWAV reads a RIFF/WAVE file of PCM or float samples. A data chunk
// that claims more bytes than there are is kept and marked Truncated;
// what is not a WAV file, or a format this package cannot convert, is
// ErrNotWAV with a sentence saying what is accepted.
func ParseWAV(b []byte) (WAV, error) {
	var w WAV
	if len(b) == 0 {
		return w, notWAV("the file is empty")
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return w, notWAV("no RIFF/WAVE header")
	}
	haveFmt := false
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), binary.LittleEndian.Uint32(b[p+4:])
		body := b[p+8:]
		n := len(body)
		if uint64(size) <= uint64(n) {
			n = int(size)
		} else if id == "data" && !streamedSize(size) {
			w.Truncated = true
		}
		switch id {
		case "fmt ":
			if err := w.parseFmt(body[:n]); err != nil {
				return WAV{}, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return WAV{}, notWAV("the data chunk comes before the fmt chunk")
			}
			frame := w.Channels * w.Bits / 8
			if rest := n % frame; rest != 0 {
				n -= rest // half a sample at the end of a cut-short copy
				w.Truncated = true
			}
			w.Data = body[:n]
			if n == 0 {
				return w, notWAV("the data chunk holds no samples")
			}
			return w, nil
		}
		if uint64(size) > uint64(len(body)) {
			break
		}
		p += 8 + int(size) + int(size%2)
	}
	if !haveFmt {
		return WAV{}, notWAV("no fmt chunk (only a header?)")
	}
	return w, notWAV("no data chunk: the file has a header but no samples")
}

func (w *WAV) parseFmt(body []byte) error {
	if len(body) < 16 {
		return notWAV("the fmt chunk is %d bytes, shorter than 16", len(body))
	}
	tag := binary.LittleEndian.Uint16(body)
	if tag == waveExtensible {
		if len(body) < 26 {
			return notWAV("an extensible fmt chunk without its sub-format")
		}
		tag = binary.LittleEndian.Uint16(body[24:])
	}
	w.Channels = int(binary.LittleEndian.Uint16(body[2:]))
	w.SampleRate = int(binary.LittleEndian.Uint32(body[4:]))
	w.Bits = int(binary.LittleEndian.Uint16(body[14:]))
	switch tag {
	case wavePCM:
		if w.Bits != 8 && w.Bits != 16 && w.Bits != 24 && w.Bits != 32 {
			return notWAV("%d-bit PCM", w.Bits)
		}
	case waveFloat:
		if w.Bits != 32 && w.Bits != 64 {
			return notWAV("%d-bit float", w.Bits)
		}
		w.Float = true
	default:
		return notWAV("format %#x is not PCM or float (compressed audio such as µ-law, ADPCM or MP3 in WAV)", tag)
	}
	if w.Channels < 1 || w.Channels > 2 {
		return notWAV("%d channels", w.Channels)
	}
	if w.SampleRate < MinSampleRate || w.SampleRate > MaxSampleRate {
		return notWAV("a sample rate of %d Hz", w.SampleRate)
	}
	return nil
}

// The sample rates ParseWAV accepts; everything is resampled to Rate.
const (
	MinSampleRate = 8000
	MaxSampleRate = 48000
	// Rate is what voice activity detection and recognition work at.
	Rate = 16000
)

// PCM is audio ready for detection and recognition: mono float samples in
// [-1, 1] at Rate.
type PCM struct {
	Samples []float32
	// Clipped is the share of input samples at full scale; above
	// ClipWarning the recording was too loud and words may be lost, but
	// it is still processed.
	Clipped float64
	// Truncated: the file was cut short (see WAV.Truncated).
	Truncated bool
}

// ClipWarning is the share of full-scale samples from which a recording
// counts as clipped: one in a thousand is far more than speech at a
// sensible level ever reaches.
const ClipWarning = 0.001

// IsClipped reports whether the recording was too loud.
func (p PCM) IsClipped() bool { return p.Clipped >= ClipWarning }

// Duration is how long the samples last.
func (p PCM) Duration() time.Duration {
	return time.Duration(len(p.Samples)) * time.Second / Rate
}

// Mono16k converts w to mono float samples at 16 kHz: it decodes every
// sample format ParseWAV accepts, averages the channels and resamples.
func Mono16k(w WAV) (PCM, error) {
	if w.Channels < 1 || w.Bits%8 != 0 || w.Bits == 0 || w.SampleRate < MinSampleRate || w.SampleRate > MaxSampleRate {
		return PCM{}, notWAV("%d channels of %d-bit samples at %d Hz", w.Channels, w.Bits, w.SampleRate)
	}
	width := w.Bits / 8
	frames := len(w.Data) / (width * w.Channels)
	if frames == 0 {
		return PCM{}, notWAV("no samples")
	}
	out := make([]float32, frames)
	clipped := 0
	for i := range frames {
		var sum float64
		for c := range w.Channels {
			off := (i*w.Channels + c) * width
			v, full := decodeSample(w.Data[off:off+width], w.Bits, w.Float)
			if full {
				clipped++
			}
			sum += v
		}
		out[i] = float32(sum / float64(w.Channels))
	}
	p := PCM{Samples: out, Clipped: float64(clipped) / float64(frames*w.Channels), Truncated: w.Truncated}
	if w.SampleRate != Rate {
		p.Samples = Resample(p.Samples, w.SampleRate, Rate)
	}
	return p, nil
}

// decodeSample returns one sample in [-1, 1] and whether it is at full
// scale (clipped).
func decodeSample(b []byte, bits int, float bool) (float64, bool) {
	var v float64
	switch {
	case float && bits == 32:
		v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case float && bits == 64:
		v = math.Float64frombits(binary.LittleEndian.Uint64(b))
	case bits == 8: // unsigned, 128 is silence
		return float64(int(b[0])-128) / 128, b[0] == 0 || b[0] == 255
	case bits == 16:
		s := int16(binary.LittleEndian.Uint16(b))
		return float64(s) / 32768, s >= 32767 || s == -32768
	case bits == 24:
		s := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(s) / (1 << 23), s >= 1<<23-1 || s == -(1<<23)
	case bits == 32:
		s := int32(binary.LittleEndian.Uint32(b))
		return float64(s) / (1 << 31), s >= math.MaxInt32-1 || s == math.MinInt32
	}
	if math.IsNaN(v) {
		return 0, false
	}
	if v >= 1 || v <= -1 {
		return math.Max(-1, math.Min(1, v)), true
	}
	return v, false
}

// Resample converts samples from one rate to another with a windowed-sinc
// filter, cutting off below the lower Nyquist frequency so that 44.1 or
// 48 kHz recordings do not fold high frequencies into speech.
func Resample(in []float32, from, to int) []float32 {
	if from == to || len(in) == 0 {
		return append([]float32(nil), in...)
	}
	g := gcd(from, to)
	up, down := to/g, from/g // output i sits at input i*down/up
	cutoff := 0.94 * math.Min(1, float64(to)/float64(from))
	const zeros = 12 // sinc zero crossings on each side, at the lower rate
	half := int(math.Ceil(zeros / cutoff))
	// One set of weights per phase (the fractional input position); a
	// rational ratio has up phases.
	weights := make([][]float64, up)
	for ph := range up {
		frac := float64(ph) / float64(up)
		ws := make([]float64, 2*half)
		for k := range ws {
			x := float64(k-half+1) - frac // distance from the output position
			ws[k] = cutoff * sinc(cutoff*x) * hann(x/float64(half))
		}
		weights[ph] = ws
	}
	n := int((int64(len(in))*int64(up) + int64(down) - 1) / int64(down))
	out := make([]float32, n)
	for i := range out {
		pos := int64(i) * int64(down)
		base, ph := int(pos/int64(up)), int(pos%int64(up))
		var sum, wsum float64
		for k, wt := range weights[ph] {
			j := base + k - half + 1
			if j < 0 || j >= len(in) {
				continue
			}
			sum += wt * float64(in[j])
			wsum += wt
		}
		// Dividing by the weights that were used keeps the level right at
		// the edges, where part of the window falls outside the recording.
		if wsum > 0.5 {
			sum /= wsum
		}
		out[i] = float32(math.Max(-1, math.Min(1, sum)))
	}
	return out
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// hann is the Hann window on [-1, 1].
func hann(x float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return 0.5 + 0.5*math.Cos(math.Pi*x)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// NewWAV makes 16-bit mono PCM at Rate from float samples (the form a
// Listener returns and the recogniser takes).
func NewWAV(samples []float32) WAV {
	data := make([]byte, 2*len(samples))
	for i, s := range samples {
		v := math.Round(float64(s) * 32767)
		v = math.Max(-32768, math.Min(32767, v))
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16(v)))
	}
	return WAV{SampleRate: Rate, Channels: 1, Bits: 16, Data: data}
}

// Encode writes w as a WAV file (a canonical 44-byte header and the data).
func (w WAV) Encode() []byte {
	tag := uint16(wavePCM)
	if w.Float {
		tag = waveFloat
	}
	b := make([]byte, 44, 44+len(w.Data))
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+len(w.Data)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], tag)
	binary.LittleEndian.PutUint16(b[22:], uint16(w.Channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(w.SampleRate))
	binary.LittleEndian.PutUint32(b[28:], uint32(w.SampleRate*w.Channels*w.Bits/8))
	binary.LittleEndian.PutUint16(b[32:], uint16(w.Channels*w.Bits/8))
	binary.LittleEndian.PutUint16(b[34:], uint16(w.Bits))
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(len(w.Data)))
	return append(b, w.Data...)
}

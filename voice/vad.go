package voice

import (
	"context"
	"math"
	"time"
)

// Segment is a stretch of speech, from the start of the recording.
type Segment struct {
	Start time.Duration
	End   time.Duration
}

// EventKind says what a Detector noticed.
type EventKind int

// What a Detector reports.
const (
	// SpeechStarted: someone began to speak at Segment.Start (End is 0).
	SpeechStarted EventKind = iota + 1
	// SpeechEnded: the speech that began at Segment.Start ended at
	// Segment.End, followed by enough silence to be sure.
	SpeechEnded
)

// Event is a change between silence and speech.
type Event struct {
	Kind    EventKind
	Segment Segment
}

// Detector is a voice activity detector fed a stream of 16 kHz mono
// samples: the live microphone gives it a few milliseconds at a time, a
// file all at once (DetectSegments). A Detector is used by one goroutine.
type Detector interface {
	// Accept takes the next samples (any number) and returns what
	// changed in them, in order.
	Accept(samples []float32) ([]Event, error)
	// Flush ends the stream: speech still going ends at the last sample.
	Flush() ([]Event, error)
	// Reset forgets everything, for a new stream.
	Reset()
	// Close frees what the detector holds (a model).
	Close() error
}

// DetectSegments runs d over a whole recording and returns its speech.
func DetectSegments(ctx context.Context, d Detector, samples []float32) ([]Segment, error) {
	d.Reset()
	var segs []Segment
	collect := func(evs []Event) {
		for _, e := range evs {
			if e.Kind == SpeechEnded {
				segs = append(segs, e.Segment)
			}
		}
	}
	// A tenth of a second at a time, as a microphone would deliver it, so
	// that ctx is honoured on long files.
	const chunk = Rate / 10
	for off := 0; off < len(samples); off += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		evs, err := d.Accept(samples[off:min(off+chunk, len(samples))])
		if err != nil {
			return nil, err
		}
		collect(evs)
	}
	evs, err := d.Flush()
	if err != nil {
		return nil, err
	}
	collect(evs)
	return segs, nil
}

// EnergyVAD is a voice activity detector in pure Go: a frame is speech
// when its level stands well above the background noise, which it
// follows as it changes (a fan, traffic). It needs no model, so the
// kiosk always has one, but a fan's hum or a cough fools it more easily
// than Silero.
type EnergyVAD struct {
	// Frame is the analysis step; default 20 ms.
	Frame time.Duration
	// Above is how far above the noise floor a frame must be to start
	// speech, in dB; default 10. Once speech has started, Above-4 keeps
	// it going, so that quiet syllables do not cut it.
	Above float64
	// Floor is the quietest level that can be speech, in dBFS; default -50.
	Floor float64
	// MinSpeech is how long the level must stay up to count as speech
	// (a click is not); default 80 ms.
	MinSpeech time.Duration
	// MinSilence is the pause that ends speech; default 500 ms, longer
	// than the pauses between words.
	MinSilence time.Duration

	frame      int // samples per frame
	pending    []float32
	pos        int     // samples consumed into whole frames
	noise      float64 // dBFS
	inSpeech   bool
	run        int // consecutive frames above (before) or below (during speech)
	runStart   int // sample where the current run of loud frames began
	start      int // sample where the current speech began
	lastSpeech int // sample where the last loud frame ended
}

// noiseRise is how fast the noise estimate climbs, in dB per second: slow
// enough that a long sentence is not mistaken for noise, fast enough to
// follow a room that becomes louder.
const noiseRise = 1.0

func (v *EnergyVAD) init() {
	if v.frame != 0 {
		return
	}
	if v.Frame <= 0 {
		v.Frame = 20 * time.Millisecond
	}
	if v.Above == 0 {
		v.Above = 10
	}
	if v.Floor == 0 {
		v.Floor = -50
	}
	if v.MinSpeech <= 0 {
		v.MinSpeech = 80 * time.Millisecond
	}
	if v.MinSilence <= 0 {
		v.MinSilence = 500 * time.Millisecond
	}
	v.frame = int(v.Frame * Rate / time.Second)
	v.noise = math.Inf(1)
}

func samplesToDuration(n int) time.Duration { return time.Duration(n) * time.Second / Rate }

// Accept implements Detector.
func (v *EnergyVAD) Accept(samples []float32) ([]Event, error) {
	v.init()
	var evs []Event
	v.pending = append(v.pending, samples...)
	for len(v.pending) >= v.frame {
		f := v.pending[:v.frame]
		var sum float64
		for _, s := range f {
			sum += float64(s) * float64(s)
		}
		level := 10 * math.Log10(sum/float64(v.frame)+1e-10)
		if e, ok := v.step(level); ok {
			evs = append(evs, e)
		}
		v.pending = v.pending[v.frame:]
		v.pos += v.frame
	}
	// Keep the buffer from growing: copy the short remainder down.
	v.pending = append([]float32(nil), v.pending...)
	return evs, nil
}

// step takes one frame's level and returns an event when one happens.
func (v *EnergyVAD) step(level float64) (Event, bool) {
	rise := noiseRise * v.Frame.Seconds()
	if level < v.noise {
		v.noise = level
	} else {
		v.noise += rise
	}
	minSpeech := int(v.MinSpeech / v.Frame)
	minSilence := int(v.MinSilence / v.Frame)
	frameEnd := v.pos + v.frame
	if !v.inSpeech {
		if level > v.Floor && level > v.noise+v.Above {
			if v.run == 0 {
				v.runStart = v.pos
			}
			v.run++
			if v.run >= max(1, minSpeech) {
				v.inSpeech, v.start, v.lastSpeech, v.run = true, v.runStart, frameEnd, 0
				return Event{Kind: SpeechStarted, Segment: Segment{Start: samplesToDuration(v.start)}}, true
			}
		} else {
			v.run = 0
		}
		return Event{}, false
	}
	if level > v.Floor && level > v.noise+v.Above-4 {
		v.lastSpeech, v.run = frameEnd, 0
		return Event{}, false
	}
	v.run++
	if v.run >= minSilence {
		return v.end(), true
	}
	return Event{}, false
}

func (v *EnergyVAD) end() Event {
	v.inSpeech, v.run = false, 0
	return Event{Kind: SpeechEnded, Segment: Segment{Start: samplesToDuration(v.start), End: samplesToDuration(v.lastSpeech)}}
}

// Flush implements Detector.
func (v *EnergyVAD) Flush() ([]Event, error) {
	v.init()
	v.pending = v.pending[:0]
	if v.inSpeech {
		return []Event{v.end()}, nil
	}
	return nil, nil
}

// Reset implements Detector.
func (v *EnergyVAD) Reset() {
	v.init()
	v.pending, v.pos, v.noise, v.inSpeech, v.run = nil, 0, math.Inf(1), false, 0
}

// Close implements Detector.
func (v *EnergyVAD) Close() error { return nil }

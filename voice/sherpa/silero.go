//go:build cgo

package sherpa

import (
	"fmt"
	"slices"
	"strings"
	"time"

	sherpa "github.com/k2-fsa/sherpa-onnx-go-linux"

	"allimi/voice"
)

// sileroWindow is Silero v5's window at 16 kHz, in samples.
const sileroWindow = 512

// silero is Silero VAD v5 as a voice.Detector.
type silero struct {
	vad      *sherpa.VoiceActivityDetector
	opts     SileroOptions
	fed      int // samples accepted since the last reset
	inSpeech bool
}

// NewSilero loads Silero VAD v5 from model (silero_vad.onnx). The file is
// checked first: sherpa-onnx would end the process on a wrong one.
func NewSilero(model string, o SileroOptions) (voice.Detector, error) {
	info, err := voice.InspectONNX(model)
	if err != nil {
		return nil, fmt.Errorf("Silero VAD model: %w; run make deps, which installs it at .cache/models/silero_vad.onnx", err)
	}
	for _, in := range []string{"input", "state", "sr"} {
		if !slices.Contains(info.Inputs, in) {
			return nil, fmt.Errorf("Silero VAD model %s: not Silero VAD v5 (its inputs are %s; v5 takes input, state and sr)", model, strings.Join(info.Inputs, ", "))
		}
	}
	o.defaults()
	cfg := sherpa.VadModelConfig{
		SileroVad: sherpa.SileroVadModelConfig{
			Model:              model,
			Threshold:          o.Threshold,
			MinSilenceDuration: o.MinSilence,
			MinSpeechDuration:  o.MinSpeech,
			WindowSize:         sileroWindow,
			MaxSpeechDuration:  o.MaxSpeech,
		},
		SampleRate: voice.Rate,
		NumThreads: 1,
		Provider:   "cpu",
	}
	// The buffer holds speech not yet popped: a whole utterance at most.
	vad := sherpa.NewVoiceActivityDetector(&cfg, o.MaxSpeech+5)
	if vad == nil {
		return nil, fmt.Errorf("Silero VAD model %s: sherpa-onnx could not load it", model)
	}
	return &silero{vad: vad, opts: o}, nil
}

// Accept implements voice.Detector.
func (s *silero) Accept(samples []float32) ([]voice.Event, error) {
	if s.vad == nil {
		return nil, fmt.Errorf("Silero VAD: used after Close")
	}
	if len(samples) == 0 {
		return nil, nil
	}
	s.vad.AcceptWaveform(samples)
	s.fed += len(samples)
	// sherpa-onnx says "speech detected" once MinSpeech of it has been
	// heard, and gives the exact start only when the segment is complete:
	// the start event carries an estimate, the end event the truth.
	evs := s.pop(nil)
	if !s.inSpeech && s.vad.IsSpeech() {
		s.inSpeech = true
		start := max(0, s.fed-int(s.opts.MinSpeech*voice.Rate)-sileroWindow)
		evs = append(evs, voice.Event{Kind: voice.SpeechStarted, Segment: voice.Segment{Start: at(start)}})
	}
	return evs, nil
}

// pop turns finished segments into events: a segment whose start was not
// yet reported (it began and ended within one chunk) gets both.
func (s *silero) pop(evs []voice.Event) []voice.Event {
	for !s.vad.IsEmpty() {
		seg := s.vad.Front()
		s.vad.Pop()
		if !s.inSpeech {
			evs = append(evs, voice.Event{Kind: voice.SpeechStarted, Segment: voice.Segment{Start: at(seg.Start)}})
		}
		s.inSpeech = false
		evs = append(evs, voice.Event{Kind: voice.SpeechEnded, Segment: voice.Segment{Start: at(seg.Start), End: at(seg.Start + len(seg.Samples))}})
	}
	return evs
}

// Flush implements voice.Detector.
func (s *silero) Flush() ([]voice.Event, error) {
	if s.vad == nil {
		return nil, fmt.Errorf("Silero VAD: used after Close")
	}
	s.vad.Flush()
	evs := s.pop(nil)
	s.inSpeech = false
	return evs, nil
}

// Reset implements voice.Detector.
func (s *silero) Reset() {
	if s.vad != nil {
		s.vad.Reset()
		s.vad.Clear()
	}
	s.fed, s.inSpeech = 0, false
}

// Close implements voice.Detector.
func (s *silero) Close() error {
	if s.vad != nil {
		sherpa.DeleteVoiceActivityDetector(s.vad)
		s.vad = nil
	}
	return nil
}

func at(sample int) time.Duration { return time.Duration(sample) * time.Second / voice.Rate }

// Package sherpa runs the voice models through sherpa-onnx
// (github.com/k2-fsa/sherpa-onnx-go-linux, a cgo binding that loads
// libsherpa-onnx-c-api.so and libonnxruntime.so): Silero VAD v5 as a
// voice.Detector and offline recognisers (SenseVoice, Whisper) as a
// voice.Recognizer.
//
// sherpa-onnx ends the whole process when a model file is wrong, so every
// model is checked in Go first (voice.CheckModel, voice.InspectONNX), and
// `allimi voice check-model` also loads it in a child process. Without cgo
// the package builds and every constructor returns ErrNoCgo.
package sherpa

import "errors"

// ErrNoCgo: this program was built without cgo, so sherpa-onnx is absent.
var ErrNoCgo = errors.New("built without cgo: sherpa-onnx (Silero VAD, speech recognition) is not in this program; build it with CGO_ENABLED=1 (make build does)")

// SileroOptions tune Silero VAD; zero values take the defaults.
type SileroOptions struct {
	// Threshold is the speech probability above which a window is speech;
	// default 0.5.
	Threshold float32
	// MinSilence ends speech; default 0.5 s, longer than pauses between words.
	MinSilence float32
	// MinSpeech is the shortest speech reported; default 0.25 s.
	MinSpeech float32
	// MaxSpeech splits longer speech; default 30 s.
	MaxSpeech float32
}

func (o *SileroOptions) defaults() {
	if o.Threshold <= 0 {
		o.Threshold = 0.5
	}
	if o.MinSilence <= 0 {
		o.MinSilence = 0.5
	}
	if o.MinSpeech <= 0 {
		o.MinSpeech = 0.25
	}
	if o.MaxSpeech <= 0 {
		o.MaxSpeech = 30
	}
}

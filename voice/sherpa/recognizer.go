//go:build cgo

package sherpa

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	sherpa "github.com/k2-fsa/sherpa-onnx-go-linux"

	"allimi/voice"
)

// whisperWindow is the audio Whisper's encoder takes at once.
const whisperWindow = 30 * time.Second

// recognizer is a sherpa-onnx offline recogniser as a voice.Recognizer.
type recognizer struct {
	mu   sync.Mutex // one decode at a time; Close waits for it
	r    *sherpa.OfflineRecognizer
	kind voice.ModelKind
}

// NewRecognizer loads the model CheckModel described. Call it only with a
// ModelInfo CheckModel returned without error: sherpa-onnx ends the
// process on files it cannot use.
func NewRecognizer(info voice.ModelInfo) (voice.Recognizer, error) {
	if info.TokensFile == "" || (info.Model == "" && info.Encoder == "") {
		return nil, fmt.Errorf("%s: %w: not checked (voice.CheckModel)", info.Dir, voice.ErrBadModel)
	}
	cfg := sherpa.OfflineRecognizerConfig{
		FeatConfig:     sherpa.FeatureConfig{SampleRate: voice.Rate, FeatureDim: 80},
		DecodingMethod: "greedy_search",
	}
	mc := &cfg.ModelConfig
	mc.Tokens = info.TokensFile
	mc.NumThreads = max(1, min(2, runtime.NumCPU()))
	mc.Provider = "cpu"
	switch info.Kind {
	case voice.SenseVoice:
		mc.SenseVoice = sherpa.OfflineSenseVoiceModelConfig{Model: info.Model, Language: "ko", UseInverseTextNormalization: 1}
	case voice.Whisper:
		mc.Whisper = sherpa.OfflineWhisperModelConfig{Encoder: info.Encoder, Decoder: info.Decoder, Language: "ko", Task: "transcribe", TailPaddings: -1}
	default:
		return nil, fmt.Errorf("%s: %w: kind %q", info.Dir, voice.ErrBadModel, info.Kind)
	}
	r := sherpa.NewOfflineRecognizer(&cfg)
	if r == nil {
		return nil, fmt.Errorf("%s: %w: sherpa-onnx could not load it", info.Dir, voice.ErrBadModel)
	}
	return &recognizer{r: r, kind: info.Kind}, nil
}

// Transcribe implements voice.Recognizer. Decoding cannot be interrupted
// once begun (a few hundred milliseconds for an utterance); ctx is
// checked before it and after.
func (r *recognizer) Transcribe(ctx context.Context, w voice.WAV) (string, error) {
	pcm, err := voice.Mono16k(w)
	if err != nil {
		return "", err
	}
	if r.kind == voice.Whisper && pcm.Duration() > whisperWindow {
		// Whisper's encoder sees 30 s; sherpa-onnx would drop the rest.
		return "", fmt.Errorf("Whisper reads at most %s of speech, this is %s: hand the question to an official or use SenseVoice", whisperWindow, pcm.Duration().Round(time.Second))
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.r == nil {
		return "", fmt.Errorf("recogniser used after Close")
	}
	s := sherpa.NewOfflineStream(r.r)
	if s == nil {
		return "", fmt.Errorf("sherpa-onnx: could not create a stream")
	}
	defer sherpa.DeleteOfflineStream(s)
	s.AcceptWaveform(voice.Rate, pcm.Samples)
	r.r.Decode(s)
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return strings.TrimSpace(s.GetResult().Text), nil
}

// Close implements voice.Recognizer.
func (r *recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.r != nil {
		sherpa.DeleteOfflineRecognizer(r.r)
		r.r = nil
	}
	return nil
}

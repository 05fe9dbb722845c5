package voice

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Phrase is one spoken phrase of a composed recording, after a silence.
type Phrase struct {
	Silence time.Duration // before the phrase
	Text    string        // Korean, spoken by espeak-ng
}

// Compose makes a 16 kHz mono recording of Korean phrases separated by
// silences of known length, for tests and benchmarks of voice activity
// detection: espeak-ng speaks each phrase, sox trims its own leading and
// trailing silence, pads and joins them, and with noise > 0 mixes in
// white noise of that amplitude (0.02 is a quiet room, 0.1 a loud one).
// It returns the file and where each phrase truly is.
func Compose(ctx context.Context, dir string, phrases []Phrase, after time.Duration, noise float64) (string, []Segment, error) {
	var parts []string
	var truth []Segment
	var at time.Duration
	for i, p := range phrases {
		raw := filepath.Join(dir, fmt.Sprintf("phrase%d-raw.wav", i))
		cut := filepath.Join(dir, fmt.Sprintf("phrase%d.wav", i))
		cmd := exec.CommandContext(ctx, "espeak-ng", "-v", "ko", "-w", raw)
		cmd.Stdin = bytes.NewReader([]byte(p.Text))
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", nil, fmt.Errorf("espeak-ng: %v: %s", err, out)
		}
		// Trim what espeak-ng leaves before and after the words, so that the
		// phrase's extent is the truth.
		if err := sox(ctx, raw, "-r", "16000", "-c", "1", "-b", "16", cut,
			"silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse",
			"pad", secs(p.Silence), "0"); err != nil {
			return "", nil, err
		}
		b, err := os.ReadFile(cut)
		if err != nil {
			return "", nil, err
		}
		w, err := ParseWAV(b)
		if err != nil {
			return "", nil, err
		}
		spoken := w.Duration() - p.Silence
		truth = append(truth, Segment{Start: at + p.Silence, End: at + p.Silence + spoken})
		at += w.Duration()
		parts = append(parts, cut)
	}
	tail := filepath.Join(dir, "tail.wav")
	if err := sox(ctx, "-n", "-r", "16000", "-c", "1", "-b", "16", tail, "trim", "0", secs(after)); err != nil {
		return "", nil, err
	}
	clean := filepath.Join(dir, "speech.wav")
	if err := sox(ctx, append(append(parts, tail), clean)...); err != nil {
		return "", nil, err
	}
	if noise <= 0 {
		return clean, truth, nil
	}
	noiseFile := filepath.Join(dir, "noise.wav")
	if err := sox(ctx, "-n", "-r", "16000", "-c", "1", "-b", "16", noiseFile, "synth", secs(at+after), "whitenoise", "vol", strconv.FormatFloat(noise, 'f', 3, 64)); err != nil {
		return "", nil, err
	}
	noisy := filepath.Join(dir, "speech-noisy.wav")
	// -v 1 on each input: sox -m would otherwise halve both.
	if err := sox(ctx, "-m", "-v", "1", clean, "-v", "1", noiseFile, noisy); err != nil {
		return "", nil, err
	}
	return noisy, truth, nil
}

func sox(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "sox", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sox %v: %v: %s", args, err, out)
	}
	return nil
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// ComposePCM is Compose read back as 16 kHz mono samples, what a detector
// or a recogniser takes.
func ComposePCM(ctx context.Context, dir string, phrases []Phrase, after time.Duration, noise float64) ([]float32, []Segment, error) {
	file, truth, err := Compose(ctx, dir, phrases, after, noise)
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	w, err := ParseWAV(b)
	if err != nil {
		return nil, nil, err
	}
	p, err := Mono16k(w)
	if err != nil {
		return nil, nil, err
	}
	return p.Samples, truth, nil
}

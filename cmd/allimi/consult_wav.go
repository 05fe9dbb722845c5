package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"allimi/voice"
	"allimi/voice/sherpa"
)

// Why a spoken question goes to an official instead of being answered.
const (
	handoverNoModel   = "no speech-recognition model installed"
	handoverNoSpeech  = "no speech heard in the recording"
	handoverNoWords   = "the speech recogniser heard no words"
	handoverNoAnswers = "no answer in the knowledge base"
)

// spokenResult is what `consult --wav --json` prints: the text path's
// answers, plus what was heard and how long each step took.
type spokenResult struct {
	Answers []consultAnswer `json:"answers"`
	// Transcript is null when nothing was recognised (no recogniser, or
	// no speech): nothing is ever made up in its place.
	Transcript *string       `json:"transcript"`
	Handover   string        `json:"handover,omitempty"`
	VAD        string        `json:"vad"`
	Segments   []segmentJSON `json:"segments"`
	Audio      audioJSON     `json:"audio"`
	Warnings   []string      `json:"warnings,omitempty"`
	// Speech is the synthesised top answer, when there is one.
	Speech  *speechJSON `json:"speech,omitempty"`
	Timings timingsJSON `json:"timings"`
}

type segmentJSON struct {
	Start float64 `json:"start"` // seconds
	End   float64 `json:"end"`
}

type audioJSON struct {
	Seconds    float64 `json:"seconds"`
	SampleRate int     `json:"sampleRate"`
	Channels   int     `json:"channels"`
	Bits       int     `json:"bits"`
	Clipped    bool    `json:"clipped"`
	Truncated  bool    `json:"truncated"`
}

type speechJSON struct {
	Seconds    float64 `json:"seconds"` // length of the spoken answer
	Bytes      int     `json:"bytes"`
	Parts      int     `json:"parts"`      // synthesised one after another
	AllPartsMs float64 `json:"allPartsMs"` // synthesising every part
}

// timingsJSON are milliseconds. TTS is the time to the first audio the
// kiosk can play: its speaker synthesises the first part of the answer,
// plays it, and synthesises the next meanwhile.
// Index is building the knowledge base's index, which this command does
// for every question and the kiosk once.
type timingsJSON struct {
	VAD    float64 `json:"vad"`
	ASR    float64 `json:"asr"`
	Index  float64 `json:"index"`
	Search float64 `json:"search"`
	TTS    float64 `json:"tts"`
}

func ms(d time.Duration) float64 { return math.Round(d.Seconds()*1e5) / 100 }

// openDetector returns the voice activity detector --vad names and its
// name.
func openDetector(kind, model string) (voice.Detector, string, error) {
	if model == "" {
		model = voice.FindSilero()
	}
	switch kind {
	case "energy":
		return &voice.EnergyVAD{}, "energy", nil
	case "silero", "auto":
		if model == "" {
			if kind == "auto" {
				return &voice.EnergyVAD{}, "energy", nil
			}
			return nil, "", usageError{fmt.Errorf("--vad silero: no Silero VAD model found: run make deps (it installs %s), give --vad-model FILE, or use --vad energy", voice.SileroFile)}
		}
		d, err := sherpa.NewSilero(model, sherpa.SileroOptions{})
		if errors.Is(err, sherpa.ErrNoCgo) && kind == "auto" {
			return &voice.EnergyVAD{}, "energy", nil
		}
		if err != nil {
			return nil, "", usageError{fmt.Errorf("--vad %s: %w", kind, err)}
		}
		return d, "silero", nil
	}
	return nil, "", usageError{fmt.Errorf("--vad %q: use silero, energy or auto", kind)}
}

// maxSpoken bounds a spoken question: the kiosk keeps a minute at most,
// and a long recording is a mistake (a meeting, a radio programme).
const maxSpoken = 5 * time.Minute

// readSpoken reads --wav: what cannot be read is the caller's mistake
// (exit 2), with a sentence saying what is accepted.
func readSpoken(path string) (voice.WAV, voice.PCM, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return voice.WAV{}, voice.PCM{}, usageError{fmt.Errorf("--wav: %w", err)}
	}
	w, err := voice.ParseWAV(b)
	if err != nil {
		return w, voice.PCM{}, usageError{fmt.Errorf("--wav %s: %w", path, err)}
	}
	if d := w.Duration(); d > maxSpoken {
		return w, voice.PCM{}, usageError{fmt.Errorf("--wav %s: %s of audio: a question is at most %s; cut out the question (sox in.wav out.wav trim START LENGTH)", path, d.Round(time.Second), maxSpoken)}
	}
	p, err := voice.Mono16k(w)
	if err != nil {
		return w, p, usageError{fmt.Errorf("--wav %s: %w", path, err)}
	}
	return w, p, nil
}

// spokenPipeline runs one spoken question through detection,
// recognition, retrieval and synthesis. rec may be nil (no model).
func spokenPipeline(ctx context.Context, o consultOptions, w voice.WAV, p voice.PCM, det voice.Detector, vadName string, rec voice.Recognizer) (spokenResult, error) {
	res := spokenResult{
		Answers:  []consultAnswer{},
		VAD:      vadName,
		Segments: []segmentJSON{},
		Audio: audioJSON{Seconds: math.Round(p.Duration().Seconds()*1000) / 1000, SampleRate: w.SampleRate,
			Channels: w.Channels, Bits: w.Bits, Clipped: p.IsClipped(), Truncated: p.Truncated},
	}
	if p.IsClipped() {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the recording is clipped (%.1f%% of samples at full scale): it was too loud and words may be lost; it was processed anyway", 100*p.Clipped))
	}
	if p.Truncated {
		res.Warnings = append(res.Warnings, "the file was cut short: what it holds was used")
	}

	t0 := time.Now()
	segs, err := voice.DetectSegments(ctx, det, p.Samples)
	res.Timings.VAD = ms(time.Since(t0))
	if err != nil {
		return res, fmt.Errorf("voice activity detection: %w", err)
	}
	for _, s := range segs {
		res.Segments = append(res.Segments, segmentJSON{Start: round3(s.Start.Seconds()), End: round3(s.End.Seconds())})
	}
	if len(segs) == 0 {
		res.Handover = handoverNoSpeech
		return res, nil
	}
	if rec == nil {
		res.Handover = handoverNoModel
		return res, nil
	}

	// The recogniser hears the speech with a little of the silence around
	// it, as it was trained on, not the silence before and after.
	const margin = 250 * time.Millisecond
	from := max(0, sampleAt(segs[0].Start-margin))
	to := min(len(p.Samples), sampleAt(segs[len(segs)-1].End+margin))
	t0 = time.Now()
	text, err := rec.Transcribe(ctx, voice.NewWAV(p.Samples[from:to]))
	res.Timings.ASR = ms(time.Since(t0))
	if err != nil {
		return res, fmt.Errorf("speech recognition: %w", err)
	}
	res.Transcript = &text
	if strings.TrimSpace(text) == "" {
		res.Handover = handoverNoWords
		return res, nil
	}

	t0 = time.Now()
	ix, err := consultIndex(o)
	res.Timings.Index = ms(time.Since(t0))
	if err != nil {
		return res, err
	}
	t0 = time.Now()
	r, err := searchIndex(ix, o, text)
	res.Timings.Search = ms(time.Since(t0))
	if err != nil {
		return res, err
	}
	res.Answers = jsonAnswers(r)
	if len(r.Answers) == 0 {
		res.Handover = handoverNoAnswers
		return res, nil
	}
	speech, d, err := synthesizeAnswer(ctx, r.Answers[0].Answer)
	res.Timings.TTS = ms(d)
	if err != nil {
		return res, err
	}
	res.Speech = &speech
	return res, nil
}

// synthesizeAnswer speaks answer as the kiosk's speaker does, a part at a
// time (voice.SplitSpeech), and reports how long it took until the first
// part could play.
func synthesizeAnswer(ctx context.Context, answer string) (speechJSON, time.Duration, error) {
	parts := voice.SplitSpeech(answer)
	if len(parts) == 0 {
		return speechJSON{}, 0, fmt.Errorf("speech synthesis: the answer is empty")
	}
	var sp speechJSON
	var first time.Duration
	t0 := time.Now()
	for i, p := range parts {
		b, err := voice.Espeak{}.Synthesize(ctx, "ko", p)
		if i == 0 {
			first = time.Since(t0)
		}
		if err != nil {
			return sp, first, fmt.Errorf("speech synthesis: %w", err)
		}
		w, err := voice.ParseWAV(b)
		if err != nil {
			return sp, first, err
		}
		sp.Seconds += w.Duration().Seconds()
		sp.Bytes += len(b)
	}
	sp.Seconds, sp.Parts, sp.AllPartsMs = round3(sp.Seconds), len(parts), ms(time.Since(t0))
	return sp, first, nil
}

func sampleAt(d time.Duration) int { return int(d * voice.Rate / time.Second) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func runConsultWAV(ctx context.Context, out io.Writer, o consultOptions) error {
	if o.top < 1 {
		return usageError{fmt.Errorf("--top %d: must be at least 1", o.top)}
	}
	w, p, err := readSpoken(o.wav)
	if err != nil {
		return err
	}
	det, vadName, err := openDetector(o.vad, o.vadModel)
	if err != nil {
		return err
	}
	defer det.Close()
	rec, err := openRecognizer(ctx, o.asrModel)
	if err != nil {
		return err
	}
	if rec != nil {
		defer rec.Close()
	}
	res, err := spokenPipeline(ctx, o, w, p, det, vadName, rec)
	if err != nil {
		return err
	}
	if o.asJSON {
		return printJSON(out, res)
	}
	return printSpoken(out, res)
}

func printSpoken(out io.Writer, res spokenResult) error {
	fmt.Fprintf(out, "Heard %d stretch(es) of speech in %.1f s (%s VAD)", len(res.Segments), res.Audio.Seconds, res.VAD)
	for _, s := range res.Segments {
		fmt.Fprintf(out, " [%.2f–%.2f s]", s.Start, s.End)
	}
	fmt.Fprintln(out)
	for _, w := range res.Warnings {
		fmt.Fprintf(out, "Warning: %s\n", w)
	}
	if res.Transcript != nil {
		fmt.Fprintf(out, "Transcript: %s\n", *res.Transcript)
	}
	if res.Handover != "" {
		_, err := fmt.Fprintf(out, "Handed to an official: %s.\n", res.Handover)
		return err
	}
	for i, a := range res.Answers {
		fmt.Fprintf(out, "%d. %s (score %.2f, id %s)\n", i+1, a.Question, a.Score, a.ID)
	}
	_, err := fmt.Fprintf(out, "Timings: VAD %.1f ms, recognition %.1f ms, search %.1f ms, speech synthesis %.1f ms\n",
		res.Timings.VAD, res.Timings.ASR, res.Timings.Search, res.Timings.TTS)
	return err
}

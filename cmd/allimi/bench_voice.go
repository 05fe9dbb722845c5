package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"allimi/voice"
)

// benchQuestions are the spoken questions of the voice benchmark, each
// after a silence of known length: the truth the detectors are scored on.
var benchQuestions = []voice.Phrase{
	{Silence: 1500 * time.Millisecond, Text: "주거급여 신청은 어디서 해요?"},
	{Silence: 2 * time.Second, Text: "기초연금은 얼마나 받을 수 있나요?"},
	{Silence: 1800 * time.Millisecond, Text: "건강검진 대상인지 어떻게 알아요?"},
	{Silence: 2500 * time.Millisecond, Text: "교통 범칙금은 어디에 내요?"},
	{Silence: 1200 * time.Millisecond, Text: "전입신고 할 때 뭐가 필요해요?"},
}

// voiceBench is what `allimi bench voice` measures.
type voiceBench struct {
	AudioSeconds float64     `json:"audioSeconds"`
	Runs         int         `json:"runs"`
	VAD          []vadBench  `json:"vad"`
	TTS          ttsBench    `json:"tts"`
	Answer       answerBench `json:"answer"`
	Model        string      `json:"model"` // "" when none is installed
	Handover     string      `json:"handover,omitempty"`
}

type vadBench struct {
	Name        string  `json:"name"`
	Noise       float64 `json:"noise"` // white noise amplitude mixed in
	RTF         float64 `json:"rtf"`   // processing time / audio time, median
	Found       int     `json:"found"`
	Truth       int     `json:"truth"`
	MeanStartMs float64 `json:"meanStartErrorMs"`
	MeanEndMs   float64 `json:"meanEndErrorMs"`
	MaxErrorMs  float64 `json:"maxErrorMs"`
}

type ttsBench struct {
	Answer       string  `json:"answer"` // the knowledge-base entry spoken
	Characters   int     `json:"characters"`
	Parts        int     `json:"parts"`
	FirstAudioMs float64 `json:"firstAudioMs"` // median: the first part
	WholeMs      float64 `json:"wholeMs"`      // median: one espeak-ng run on the whole answer, the baseline
	AudioSeconds float64 `json:"audioSeconds"`
}

// answerBench is end of speech → spoken answer. EndOfSpeechMs is the pause
// the kiosk's detector waits before it decides the question is over.
type answerBench struct {
	EndOfSpeechMs float64 `json:"endOfSpeechMs"`
	ASRMs         float64 `json:"asrMs,omitempty"`
	SearchMs      float64 `json:"searchMs"`
	TTSMs         float64 `json:"ttsMs"`
	TotalMs       float64 `json:"totalMs,omitempty"` // only with a model
}

func benchVoiceCmd() *cobra.Command {
	var runs int
	var asJSON bool
	var asrModel string
	c := &cobra.Command{
		Use:   "voice",
		Short: "Voice activity detection (Silero and energy: real-time factor, boundary error), time to first speech, end of speech → spoken answer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := benchVoice(cmd.Context(), runs, asrModel)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), r)
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), r.markdown())
			return err
		},
	}
	c.Flags().IntVar(&runs, "runs", 5, "runs; medians are reported")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&asrModel, "asr-model", "", "speech-recognition model `dir` to measure end of speech → spoken answer with (none: not measured)")
	return c
}

func benchVoice(ctx context.Context, runs int, asrModel string) (voiceBench, error) {
	if runs < 1 {
		return voiceBench{}, usageError{fmt.Errorf("--runs %d: must be at least 1", runs)}
	}
	r := voiceBench{Runs: runs, Model: asrModel}
	dir, err := os.MkdirTemp("", "allimi-bench-voice-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	for _, noise := range []float64{0, 0.03} {
		sub, err := os.MkdirTemp(dir, "audio-")
		if err != nil {
			return r, err
		}
		file, truth, err := voice.Compose(ctx, sub, benchQuestions, 1500*time.Millisecond, noise)
		if err != nil {
			return r, fmt.Errorf("composing the test audio: %w", err)
		}
		_, p, err := readSpoken(file)
		if err != nil {
			return r, err
		}
		r.AudioSeconds = p.Duration().Seconds()
		for _, kind := range []string{"silero", "energy"} {
			det, name, err := openDetector(kind, "")
			if err != nil {
				return r, err
			}
			vb, err := benchDetector(ctx, det, name, p, truth, runs)
			det.Close()
			if err != nil {
				return r, err
			}
			vb.Noise = noise
			r.VAD = append(r.VAD, vb)
		}
	}

	// A typical answer: the top one for the first question, searched in
	// an index built once, as the kiosk does.
	o := consultOptions{top: 1}
	ix, err := consultIndex(o)
	if err != nil {
		return r, err
	}
	var searchMs []float64
	var res consultResultTop
	for range runs {
		t0 := time.Now()
		sr, err := searchIndex(ix, o, benchQuestions[0].Text)
		searchMs = append(searchMs, ms(time.Since(t0)))
		if err != nil {
			return r, err
		}
		if len(sr.Answers) == 0 {
			return r, fmt.Errorf("no answer for %q in the knowledge base", benchQuestions[0].Text)
		}
		res = consultResultTop{question: sr.Answers[0].Question, answer: sr.Answers[0].Answer}
	}
	var ttsMs, wholeMs []float64
	for range runs {
		sp, d, err := synthesizeAnswer(ctx, res.answer)
		if err != nil {
			return r, err
		}
		ttsMs = append(ttsMs, ms(d))
		r.TTS.AudioSeconds, r.TTS.Parts = sp.Seconds, sp.Parts
		// The baseline: the whole answer in one run of espeak-ng, as the
		// speaker did before it read by parts.
		t0 := time.Now()
		if _, err := (voice.Espeak{}).Synthesize(ctx, "ko", res.answer); err != nil {
			return r, err
		}
		wholeMs = append(wholeMs, ms(time.Since(t0)))
	}
	r.TTS.WholeMs = median(wholeMs)
	r.TTS.Answer, r.TTS.Characters, r.TTS.FirstAudioMs = res.question, len([]rune(res.answer)), median(ttsMs)
	r.Answer = answerBench{EndOfSpeechMs: float64(voice.EndOfSpeech.Milliseconds()), SearchMs: median(searchMs), TTSMs: median(ttsMs)}

	if asrModel == "" {
		r.Handover = handoverNoModel
		return r, nil
	}
	rec, err := openRecognizer(ctx, asrModel)
	if err != nil {
		return r, err
	}
	defer rec.Close()
	file, _, err := voice.Compose(ctx, dir, benchQuestions[:1], 300*time.Millisecond, 0)
	if err != nil {
		return r, err
	}
	w, _, err := readSpoken(file)
	if err != nil {
		return r, err
	}
	var asrMs []float64
	for range runs {
		t0 := time.Now()
		if _, err := rec.Transcribe(ctx, w); err != nil {
			return r, err
		}
		asrMs = append(asrMs, ms(time.Since(t0)))
	}
	r.Answer.ASRMs = median(asrMs)
	r.Answer.TotalMs = r.Answer.EndOfSpeechMs + r.Answer.ASRMs + r.Answer.SearchMs + r.Answer.TTSMs
	return r, nil
}

type consultResultTop struct{ question, answer string }

// benchDetector runs det over the recording runs times: the median time,
// and how far its segments lie from the truth (matched in order; a
// segment count that differs is reported, not hidden).
func benchDetector(ctx context.Context, det voice.Detector, name string, p voice.PCM, truth []voice.Segment, runs int) (vadBench, error) {
	vb := vadBench{Name: name, Truth: len(truth)}
	var times []float64
	var segs []voice.Segment
	for range runs {
		t0 := time.Now()
		s, err := voice.DetectSegments(ctx, det, p.Samples)
		times = append(times, time.Since(t0).Seconds())
		if err != nil {
			return vb, err
		}
		segs = s
	}
	vb.RTF = median(times) / p.Duration().Seconds()
	vb.Found = len(segs)
	var n int
	for i := 0; i < min(len(segs), len(truth)); i++ {
		ds := math.Abs((segs[i].Start - truth[i].Start).Seconds() * 1000)
		de := math.Abs((segs[i].End - truth[i].End).Seconds() * 1000)
		vb.MeanStartMs += ds
		vb.MeanEndMs += de
		vb.MaxErrorMs = max(vb.MaxErrorMs, ds, de)
		n++
	}
	if n > 0 {
		vb.MeanStartMs /= float64(n)
		vb.MeanEndMs /= float64(n)
	}
	return vb, nil
}

func (r voiceBench) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, `## Voice: detection, time to speech, end of speech → spoken answer (issue 7)

Command: `+"`allimi bench voice`"+`. The audio is %d Korean questions spoken by
espeak-ng, each after a silence of known length (%.1f s in all, 16 kHz), once
clean and once with white noise (amplitude 0.03) mixed in; both detectors run on
the same samples in the same run, %d times (median). The boundary error is
|found − true| of each question's start and end.

| detector | noise | real-time factor | found / true | mean start error | mean end error | worst |
|---|---|---|---|---|---|---|
`, len(benchQuestions), r.AudioSeconds, r.Runs)
	vads := append([]vadBench(nil), r.VAD...)
	sort.SliceStable(vads, func(i, j int) bool { return vads[i].Noise < vads[j].Noise })
	for _, v := range vads {
		fmt.Fprintf(&b, "| %s | %.2f | **%.5f** | %d / %d | %.0f ms | %.0f ms | %.0f ms |\n",
			v.Name, v.Noise, v.RTF, v.Found, v.Truth, v.MeanStartMs, v.MeanEndMs, v.MaxErrorMs)
	}
	fmt.Fprintf(&b, `
Time to first speech: the kiosk's speaker synthesises an answer with
espeak-ng a part (a sentence or two) at a time, playing one while it
synthesises the next. For the top answer to %q (%d characters in %d parts,
%.1f s of speech): first audio after **%.0f ms**; the baseline, one run of
espeak-ng on the whole answer in the same run, takes %.0f ms (medians of %d).

End of speech → spoken answer: the microphone waits %.0f ms of silence to
decide the question is over, then recognition, retrieval (%.1f ms) and
synthesis (%.0f ms).
`, benchQuestions[0].Text, r.TTS.Characters, r.TTS.Parts, r.TTS.AudioSeconds, r.TTS.FirstAudioMs, r.TTS.WholeMs, r.Runs,
		r.Answer.EndOfSpeechMs, r.Answer.SearchMs, r.Answer.TTSMs)
	if r.Model == "" {
		fmt.Fprintf(&b, "Recognition: no model installed, not measured (without it the steps\nafter the pause take %.0f ms, recognition excluded).\n\n", r.Answer.SearchMs+r.Answer.TTSMs)
	} else {
		fmt.Fprintf(&b, "Recognition with %s: %.0f ms; end of speech → first audio **%.0f ms**.\n\n", r.Model, r.Answer.ASRMs, r.Answer.TotalMs)
	}
	return b.String()
}

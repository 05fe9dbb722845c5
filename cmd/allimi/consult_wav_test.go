package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/voice"
	"allimi/voice/voicetest"
)

type spokenJSON struct {
	Answers    []consultAnswer `json:"answers"`
	Transcript *string         `json:"transcript"`
	Handover   string          `json:"handover"`
	VAD        string          `json:"vad"`
	Segments   []segmentJSON   `json:"segments"`
	Audio      audioJSON       `json:"audio"`
	Warnings   []string        `json:"warnings"`
	Speech     *speechJSON     `json:"speech"`
	Timings    map[string]float64
}

func runSpoken(t *testing.T, args ...string) spokenJSON {
	t.Helper()
	out, err := runConsultCmd(t, append([]string{"--json"}, args...)...)
	require.NoError(t, err, out)
	var got spokenJSON
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	_, hasTimings := raw["timings"]
	require.True(t, hasTimings, out)
	_, hasTranscript := raw["transcript"]
	require.True(t, hasTranscript, "transcript is always there, null when nothing was recognised: %s", out)
	got.Timings = map[string]float64{}
	for k, v := range raw["timings"].(map[string]any) {
		got.Timings[k] = v.(float64)
	}
	return got
}

// Without a recogniser the question is heard (its place in the file is
// found) but never transcribed: no transcript, no answers, a handover
// saying why, exit 0.
func TestConsultWAV_WithoutAModelHandsOver(t *testing.T) {
	file, truth := composeQuestion(t, "주거급여 신청은 어디서 해요?")
	for _, vad := range []string{"silero", "energy"} {
		t.Run(vad, func(t *testing.T) {
			got := runSpoken(t, "--wav", file, "--vad", vad)
			assert.Nil(t, got.Transcript, "no transcript is made up")
			assert.Empty(t, got.Answers)
			assert.Equal(t, handoverNoModel, got.Handover)
			assert.Equal(t, vad, got.VAD)
			require.Len(t, got.Segments, 1)
			assert.InDelta(t, truth.Start.Seconds(), got.Segments[0].Start, 0.3)
			assert.InDelta(t, truth.End.Seconds(), got.Segments[0].End, 0.3)
			assert.ElementsMatch(t, []string{"vad", "asr", "index", "search", "tts"}, keys(got.Timings))
			assert.Greater(t, got.Timings["vad"], 0.0)
			assert.Nil(t, got.Speech)
		})
	}
}

func keys(m map[string]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Recordings as they come from phones and sound cards: 8 kHz, 44.1 kHz
// stereo, 24-bit, too loud. Each is heard at the same place. The energy
// detector is used because this is about reading the formats: Silero
// hears espeak-ng's first syllable late (0.5 s) once it is cut to the
// 4 kHz band of a telephone, a property of the model, not of the file.
func TestConsultWAV_ReadsEveryRecordingKind(t *testing.T) {
	file, truth := composeQuestion(t, "기초연금은 얼마나 받을 수 있나요?")
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		sox     []string
		clipped bool
	}{
		{"8 kHz telephone", []string{"-r", "8000"}, false},
		{"44.1 kHz stereo", []string{"-r", "44100", "-c", "2"}, false},
		{"48 kHz 24-bit", []string{"-r", "48000", "-b", "24"}, false},
		{"float", []string{"-e", "floating-point", "-b", "32"}, false},
		{"too loud", []string{"vol", "8"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".wav")
			args := []string{file}
			if tc.sox[0] == "vol" {
				args = append(args, out, "vol", tc.sox[1])
			} else {
				args = append(append(args, tc.sox...), out)
			}
			sox(t, args...)
			got := runSpoken(t, "--wav", out, "--vad", "energy")
			assert.Equal(t, tc.clipped, got.Audio.Clipped)
			if tc.clipped {
				require.NotEmpty(t, got.Warnings)
				assert.Contains(t, got.Warnings[0], "clipped")
			}
			require.Len(t, got.Segments, 1)
			assert.InDelta(t, truth.Start.Seconds(), got.Segments[0].Start, 0.3)
			assert.InDelta(t, truth.End.Seconds(), got.Segments[0].End, 0.3)
		})
	}
}

func TestConsultWAV_SilenceIsNotAQuestion(t *testing.T) {
	out := filepath.Join(t.TempDir(), "silence.wav")
	sox(t, "-n", "-r", "16000", "-c", "1", "-b", "16", out, "trim", "0", "3")
	got := runSpoken(t, "--wav", out)
	assert.Equal(t, handoverNoSpeech, got.Handover)
	assert.Empty(t, got.Segments)
	assert.Nil(t, got.Transcript)
}

// A file cut short (a copy interrupted) is used as far as it goes, and
// said to be cut.
func TestConsultWAV_TruncatedFileIsUsedAndFlagged(t *testing.T) {
	file, _ := composeQuestion(t, "주거급여 신청은 어디서 해요?")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	cut := filepath.Join(t.TempDir(), "cut.wav")
	require.NoError(t, os.WriteFile(cut, b[:len(b)*3/4], 0o644))
	got := runSpoken(t, "--wav", cut)
	assert.True(t, got.Audio.Truncated)
	assert.Contains(t, got.Warnings, "the file was cut short: what it holds was used")
	assert.Len(t, got.Segments, 1)
}

// What cannot be used is refused with exit 2 and a sentence saying what
// to do; nothing is half-done.
func TestConsultWAV_RefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	good, _ := composeQuestion(t, "안녕하세요")
	goodBytes, err := os.ReadFile(good)
	require.NoError(t, err)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	rate96k := append([]byte(nil), goodBytes...)
	binary.LittleEndian.PutUint32(rate96k[24:], 96000)
	long := voice.WAV{SampleRate: 8000, Channels: 1, Bits: 8, Data: make([]byte, 8000*301)}.Encode()
	crashing, err := voicetest.SenseVoiceDir(filepath.Join(dir, "sv"), 50)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"--wav", filepath.Join(dir, "nope.wav")}, "no such file"},
		{"empty file", []string{"--wav", write("empty.wav", nil)}, "the file is empty"},
		{"not audio", []string{"--wav", write("text.wav", []byte("질문입니다"))}, "no RIFF/WAVE header"},
		{"header only", []string{"--wav", write("header.wav", goodBytes[:12])}, "no fmt chunk"},
		{"no samples", []string{"--wav", write("nosamples.wav", goodBytes[:44])}, "holds no samples"},
		{"96 kHz", []string{"--wav", write("96k.wav", rate96k)}, "96000 Hz"},
		{"over five minutes", []string{"--wav", write("long.wav", long)}, "5m1s of audio: a question is at most 5m0s"},
		{"typed and spoken", []string{"--wav", good, "질문"}, "not both"},
		{"unknown VAD", []string{"--wav", good, "--vad", "webrtc"}, `--vad "webrtc": use silero, energy or auto`},
		{"Silero model that is not one", []string{"--wav", good, "--vad", "silero", "--vad-model", write("fake.onnx", []byte("not onnx"))}, "not a complete ONNX model"},
		{"missing model directory", []string{"--wav", good, "--asr-model", filepath.Join(dir, "nomodel")}, "no such directory"},
		{"model sherpa-onnx cannot run", []string{"--wav", good, "--asr-model", crashing}, "sherpa-onnx could not load or run it"},
		{"--top 0", []string{"--wav", good, "--top", "0"}, "--top 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runConsultCmd(t, append([]string{"--json"}, tc.args...)...)
			require.Error(t, err, out)
			assert.ErrorContains(t, err, tc.want)
			assert.Equal(t, 2, exitCode(err), "%v", err)
			assert.Empty(t, out, "nothing printed on stdout")
		})
	}
	// The WAV errors say what is accepted.
	_, err = runConsultCmd(t, "--json", "--wav", filepath.Join(dir, "text.wav"))
	assert.ErrorContains(t, err, "accepted: a RIFF/WAVE file")
}

// spokenText is a recogniser double that returns the words espeak-ng was
// given: it stands for a model this machine cannot download, so that the
// steps after recognition (retrieval, synthesis, timings) are tested on
// the real pipeline. It recognises nothing.
type spokenText struct{ text string }

func (s spokenText) Transcribe(context.Context, voice.WAV) (string, error) { return s.text, nil }
func (spokenText) Close() error                                            { return nil }

func TestSpokenPipeline_AfterRecognitionSearchesAndSpeaks(t *testing.T) {
	const q = "주거급여 신청은 어디서 해요?"
	file, _ := composeQuestion(t, q)
	w, p, err := readSpoken(file)
	require.NoError(t, err)
	det, name, err := openDetector("silero", "")
	require.NoError(t, err)
	defer det.Close()
	res, err := spokenPipeline(context.Background(), consultOptions{top: 3}, w, p, det, name, spokenText{q})
	require.NoError(t, err)
	require.NotNil(t, res.Transcript)
	assert.Equal(t, q, *res.Transcript)
	assert.Empty(t, res.Handover)
	require.NotEmpty(t, res.Answers)
	assert.Contains(t, res.Answers[0].Question, "주거급여")
	require.NotNil(t, res.Speech)
	assert.Greater(t, res.Speech.Seconds, 1.0, "the top answer was spoken")
	assert.Greater(t, res.Timings.TTS, 0.0)
	assert.Greater(t, res.Timings.Search, 0.0)

	// A recogniser that hears no words hands over.
	res, err = spokenPipeline(context.Background(), consultOptions{top: 3}, w, p, det, name, spokenText{""})
	require.NoError(t, err)
	assert.Equal(t, handoverNoWords, res.Handover)
	assert.Empty(t, res.Answers)
}

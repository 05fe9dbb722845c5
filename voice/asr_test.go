package voice_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/voice"
	"allimi/voice/voicetest"
)

func TestCheckModel_AcceptsSenseVoiceAndWhisperShapes(t *testing.T) {
	sv, err := voicetest.SenseVoiceDir(filepath.Join(t.TempDir(), "sv"), 300)
	require.NoError(t, err)
	info, err := voice.CheckModel(sv)
	require.NoError(t, err)
	assert.Equal(t, voice.SenseVoice, info.Kind)
	assert.Equal(t, 300, info.Tokens)
	require.Len(t, info.Files, 2)
	assert.Equal(t, "model", info.Files[0].Role)
	assert.Equal(t, filepath.Join(sv, "model.int8.onnx"), info.Files[0].Path)
	assert.Greater(t, info.Files[0].Size, int64(4096))

	wh, err := voicetest.WhisperDir(filepath.Join(t.TempDir(), "wh"), 400)
	require.NoError(t, err)
	info, err = voice.CheckModel(wh)
	require.NoError(t, err)
	assert.Equal(t, voice.Whisper, info.Kind)
	assert.Len(t, info.Files, 3)
	assert.Equal(t, 300, info.Tokens)
}

func TestCheckModel_PrefersInt8(t *testing.T) {
	dir, err := voicetest.SenseVoiceDir(t.TempDir(), 50)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "model.int8.onnx"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.onnx"), b, 0o644))
	info, err := voice.CheckModel(dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "model.int8.onnx"), info.Model)
}

// Every way a model directory goes wrong is told in a sentence, before
// sherpa-onnx (which would end the process) sees the files.
func TestCheckModel_RefusesBrokenDirectories(t *testing.T) {
	silero := voice.FindSilero()
	require.NotEmpty(t, silero, "run make deps")
	sileroBytes, err := os.ReadFile(silero)
	require.NoError(t, err)
	sv := func(t *testing.T) string {
		d, err := voicetest.SenseVoiceDir(t.TempDir(), 100)
		require.NoError(t, err)
		return d
	}
	wh := func(t *testing.T) string {
		d, err := voicetest.WhisperDir(t.TempDir(), 400)
		require.NoError(t, err)
		return d
	}
	write := func(t *testing.T, dir, name string, b []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "no such directory"},
		{"a file, not a directory", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "f")
			write(t, filepath.Dir(p), "f", []byte("x"))
			return p
		}, "not a directory"},
		{"empty directory", func(t *testing.T) string { return t.TempDir() }, "no model files"},
		{"SenseVoice without tokens.txt", func(t *testing.T) string {
			d := sv(t)
			require.NoError(t, os.Remove(filepath.Join(d, "tokens.txt")))
			return d
		}, "tokens.txt is missing"},
		{"SenseVoice model cut short", func(t *testing.T) string {
			d := sv(t)
			b, _ := os.ReadFile(filepath.Join(d, "model.int8.onnx"))
			write(t, d, "model.int8.onnx", b[:len(b)-1000])
			return d
		}, "not a complete ONNX model"},
		{"SenseVoice model empty", func(t *testing.T) string {
			d := sv(t)
			write(t, d, "model.int8.onnx", nil)
			return d
		}, "the file is empty"},
		{"a text file named model.onnx", func(t *testing.T) string {
			d := t.TempDir()
			write(t, d, "model.onnx", []byte("<html>404 Not Found</html>"))
			write(t, d, "tokens.txt", voicetest.Tokens(10))
			return d
		}, "not a complete ONNX model"},
		{"Silero VAD posing as SenseVoice", func(t *testing.T) string {
			d := t.TempDir()
			write(t, d, "model.onnx", sileroBytes)
			write(t, d, "tokens.txt", voicetest.Tokens(10))
			return d
		}, "is not a SenseVoice model for sherpa-onnx: its metadata lacks vocab_size"},
		{"tokens of another model", func(t *testing.T) string {
			d := sv(t)
			write(t, d, "tokens.txt", voicetest.Tokens(90))
			return d
		}, "has 90 tokens, the model 100"},
		{"token id beyond the vocabulary", func(t *testing.T) string {
			d := sv(t)
			write(t, d, "tokens.txt", append(voicetest.Tokens(99), []byte("x 100\n")...))
			return d
		}, "id 100 is beyond"},
		{"malformed tokens line", func(t *testing.T) string {
			d := sv(t)
			write(t, d, "tokens.txt", append(voicetest.Tokens(99), []byte("no-id-here\n")...))
			return d
		}, `line 100: "no-id-here" is not "symbol id"`},
		{"duplicate token id", func(t *testing.T) string {
			d := sv(t)
			write(t, d, "tokens.txt", append(voicetest.Tokens(99), []byte("again 5\n")...))
			return d
		}, "id 5 appears twice"},
		{"Whisper without decoder", func(t *testing.T) string {
			d := wh(t)
			require.NoError(t, os.Remove(filepath.Join(d, "tiny-decoder.onnx")))
			return d
		}, "without its decoder"},
		{"Whisper without encoder", func(t *testing.T) string {
			d := wh(t)
			require.NoError(t, os.Remove(filepath.Join(d, "tiny-encoder.onnx")))
			return d
		}, "without its encoder"},
		{"Whisper without tokens", func(t *testing.T) string {
			d := wh(t)
			require.NoError(t, os.Remove(filepath.Join(d, "tiny-tokens.txt")))
			return d
		}, "without its tokens"},
		{"English-only Whisper", func(t *testing.T) string {
			d := wh(t)
			m := voicetest.WhisperMeta(400, "en")
			m["is_multilingual"] = "0"
			write(t, d, "tiny-encoder.onnx", voicetest.ONNX([]string{"mel"}, nil, m, 0))
			return d
		}, "English-only"},
		{"Whisper without Korean", func(t *testing.T) string {
			d := wh(t)
			write(t, d, "tiny-encoder.onnx", voicetest.ONNX([]string{"mel"}, nil, voicetest.WhisperMeta(400, "en,zh,ja"), 0))
			return d
		}, "does not list Korean"},
		{"Silero posing as a Whisper decoder", func(t *testing.T) string {
			d := wh(t)
			write(t, d, "tiny-decoder.onnx", sileroBytes)
			return d
		}, "is not a Whisper decoder for sherpa-onnx (inputs: input, state, sr)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			_, err := voice.CheckModel(dir)
			require.ErrorIs(t, err, voice.ErrBadModel)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "a model directory holds either SenseVoice", "the error says what to install")
		})
	}
}

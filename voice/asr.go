package voice

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Recognizer turns speech into text. The kiosk's and `consult --wav`'s is
// sherpa-onnx (package voice/sherpa) with a model an operator installs.
type Recognizer interface {
	// Transcribe returns what was said in w (any format ParseWAV
	// accepts); "" when it heard no words. It never guesses.
	Transcribe(ctx context.Context, w WAV) (string, error)
	Close() error
}

// ErrBadModel: a directory given as a speech-recognition model is not one
// that can be loaded.
var ErrBadModel = errors.New("not a usable speech-recognition model")

// ModelKind is a family of recognisers sherpa-onnx can run offline.
type ModelKind string

// The kinds CheckModel recognises; both read Korean.
const (
	// SenseVoice-small (zh/en/ja/ko/yue): model.int8.onnx or model.onnx
	// and tokens.txt, as sherpa-onnx publishes it.
	SenseVoice ModelKind = "sensevoice"
	// Whisper exported for sherpa-onnx: NAME-encoder[.int8].onnx,
	// NAME-decoder[.int8].onnx and NAME-tokens.txt.
	Whisper ModelKind = "whisper"
)

// ModelFile is one file of a model.
type ModelFile struct {
	Role string `json:"role"` // model, encoder, decoder, tokens
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// ModelInfo is a checked model directory.
type ModelInfo struct {
	Dir    string      `json:"dir"`
	Kind   ModelKind   `json:"kind"`
	Files  []ModelFile `json:"files"`
	Tokens int         `json:"tokens"` // entries in the tokens file
	// Model (SenseVoice) or Encoder and Decoder (Whisper), and Tokens.
	Model, Encoder, Decoder, TokensFile string `json:"-"`
}

// senseVoiceMeta are the metadata keys sherpa-onnx reads from a
// SenseVoice model; without any of them it ends the process.
var senseVoiceMeta = []string{"vocab_size", "lfr_window_size", "lfr_window_shift", "normalize_samples",
	"with_itn", "without_itn", "lang_auto", "lang_zh", "lang_en", "lang_ja", "lang_ko", "lang_yue", "neg_mean", "inv_stddev"}

// whisperMeta are those it reads from a Whisper encoder.
var whisperMeta = []string{"n_mels", "n_text_layer", "n_text_ctx", "n_text_state", "n_vocab", "sot", "eot",
	"blank_id", "translate", "transcribe", "is_multilingual", "no_timestamps", "no_speech", "sot_sequence"}

// installHint ends every model error: what an operator should put where.
const installHint = "a model directory holds either SenseVoice (model.int8.onnx or model.onnx, and tokens.txt) or a Whisper export for sherpa-onnx (NAME-encoder.onnx, NAME-decoder.onnx, NAME-tokens.txt); see README, \"Speech recognition model\""

func badModel(dir, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s; %s", dir, ErrBadModel, fmt.Sprintf(format, args...), installHint)
}

// CheckModel tells what model dir holds and whether sherpa-onnx can load
// it, without loading it: the files are there, each ONNX file is whole,
// carries the metadata sherpa-onnx needs and is the right kind of model,
// and the tokens file is well formed and as long as the model's
// vocabulary.
func CheckModel(dir string) (ModelInfo, error) {
	info := ModelInfo{Dir: dir}
	st, err := os.Stat(dir)
	if err != nil {
		return info, badModel(dir, "no such directory")
	}
	if !st.IsDir() {
		return info, badModel(dir, "not a directory")
	}
	if m := firstExisting(dir, "model.int8.onnx", "model.onnx"); m != "" {
		info.Kind, info.Model = SenseVoice, m
		info.TokensFile = filepath.Join(dir, "tokens.txt")
		return info, info.checkSenseVoice()
	}
	enc := globPreferInt8(dir, "*-encoder*.onnx")
	dec := globPreferInt8(dir, "*-decoder*.onnx")
	toks, _ := filepath.Glob(filepath.Join(dir, "*-tokens.txt"))
	if enc != "" || dec != "" || len(toks) > 0 {
		info.Kind, info.Encoder, info.Decoder = Whisper, enc, dec
		switch {
		case enc == "":
			return info, badModel(dir, "a Whisper model without its encoder (NAME-encoder.onnx)")
		case dec == "":
			return info, badModel(dir, "a Whisper model without its decoder (NAME-decoder.onnx)")
		case len(toks) == 0:
			return info, badModel(dir, "a Whisper model without its tokens (NAME-tokens.txt)")
		}
		info.TokensFile = toks[0]
		return info, info.checkWhisper()
	}
	return info, badModel(dir, "no model files in it")
}

func (info *ModelInfo) checkSenseVoice() error {
	m, err := info.onnx("model", info.Model)
	if err != nil {
		return err
	}
	if missing := missingKeys(m.Metadata, senseVoiceMeta); len(missing) > 0 {
		return badModel(info.Dir, "%s is not a SenseVoice model for sherpa-onnx: its metadata lacks %s (inputs: %s)",
			filepath.Base(info.Model), strings.Join(missing, ", "), strings.Join(m.Inputs, ", "))
	}
	vocab, err := strconv.Atoi(m.Metadata["vocab_size"])
	if err != nil || vocab <= 0 {
		return badModel(info.Dir, "%s: vocab_size %q is not a positive number", filepath.Base(info.Model), m.Metadata["vocab_size"])
	}
	return info.tokens(vocab)
}

func (info *ModelInfo) checkWhisper() error {
	enc, err := info.onnx("encoder", info.Encoder)
	if err != nil {
		return err
	}
	if missing := missingKeys(enc.Metadata, whisperMeta); len(missing) > 0 {
		return badModel(info.Dir, "%s is not a Whisper encoder for sherpa-onnx: its metadata lacks %s (inputs: %s)",
			filepath.Base(info.Encoder), strings.Join(missing, ", "), strings.Join(enc.Inputs, ", "))
	}
	if enc.Metadata["is_multilingual"] != "1" {
		return badModel(info.Dir, "%s is an English-only Whisper (is_multilingual %q): it cannot read Korean", filepath.Base(info.Encoder), enc.Metadata["is_multilingual"])
	}
	if codes := strings.Split(enc.Metadata["all_language_codes"], ","); !slices.Contains(codes, "ko") {
		return badModel(info.Dir, "%s does not list Korean (ko) among its languages", filepath.Base(info.Encoder))
	}
	dec, err := info.onnx("decoder", info.Decoder)
	if err != nil {
		return err
	}
	// The decoder takes the tokens, the self-attention caches, the
	// encoder's cross-attention keys and values and the offset.
	if len(dec.Inputs) != 6 || !slices.Contains(dec.Inputs, "tokens") {
		return badModel(info.Dir, "%s is not a Whisper decoder for sherpa-onnx (inputs: %s)", filepath.Base(info.Decoder), strings.Join(dec.Inputs, ", "))
	}
	vocab, err := strconv.Atoi(enc.Metadata["n_vocab"])
	if err != nil || vocab <= 0 {
		return badModel(info.Dir, "%s: n_vocab %q is not a positive number", filepath.Base(info.Encoder), enc.Metadata["n_vocab"])
	}
	return info.tokens(vocab)
}

// onnx checks one ONNX file and lists it.
func (info *ModelInfo) onnx(role, path string) (ONNXInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return ONNXInfo{}, badModel(info.Dir, "%s: %v", filepath.Base(path), err)
	}
	info.Files = append(info.Files, ModelFile{Role: role, Path: path, Size: st.Size()})
	m, err := InspectONNX(path)
	if err != nil {
		return m, badModel(info.Dir, "%v", err)
	}
	return m, nil
}

// tokens checks the tokens file: one "symbol id" per line, ids distinct,
// from 0 to vocab-1. SenseVoice's holds exactly vocab entries; Whisper's
// holds the text tokens only (the special ones live in the model), so
// fewer are allowed, but never more.
func (info *ModelInfo) tokens(vocab int) error {
	path := info.TokensFile
	f, err := os.Open(path)
	if err != nil {
		return badModel(info.Dir, "%s is missing: the model's tokens must come with it", filepath.Base(path))
	}
	defer f.Close()
	st, _ := f.Stat()
	info.Files = append(info.Files, ModelFile{Role: "tokens", Path: path, Size: st.Size()})
	seen := map[int]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		// The symbol may itself be a space; the id is the last field.
		i := strings.LastIndexAny(text, " \t")
		id, err := strconv.Atoi(text[i+1:])
		if err != nil || id < 0 {
			return badModel(info.Dir, "%s line %d: %q is not \"symbol id\"", filepath.Base(path), line, text)
		}
		if id >= vocab {
			return badModel(info.Dir, "%s line %d: id %d is beyond the model's %d tokens (tokens of another model?)", filepath.Base(path), line, id, vocab)
		}
		if seen[id] {
			return badModel(info.Dir, "%s line %d: id %d appears twice", filepath.Base(path), line, id)
		}
		seen[id] = true
	}
	if err := sc.Err(); err != nil {
		return badModel(info.Dir, "%s: %v", filepath.Base(path), err)
	}
	info.Tokens = len(seen)
	if info.Kind == SenseVoice && len(seen) != vocab {
		return badModel(info.Dir, "%s has %d tokens, the model %d (tokens of another model?)", filepath.Base(path), len(seen), vocab)
	}
	if len(seen) == 0 {
		return badModel(info.Dir, "%s is empty", filepath.Base(path))
	}
	return nil
}

func firstExisting(dir string, names ...string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// globPreferInt8 returns the int8 file among the matches if there is one
// (faster on a kiosk's CPU, same words), otherwise the first.
func globPreferInt8(dir, pattern string) string {
	ms, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(ms) == 0 {
		return ""
	}
	slices.Sort(ms)
	for _, m := range ms {
		if strings.Contains(filepath.Base(m), ".int8.") {
			return m
		}
	}
	return ms[0]
}

func missingKeys(m map[string]string, keys []string) []string {
	var out []string
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

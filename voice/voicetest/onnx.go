// Package voicetest builds the files voice tests need: ONNX model files
// with chosen inputs and metadata but no weights, and model directories
// shaped like SenseVoice and Whisper exports. They test the checks that
// run before a model is loaded; none of them can recognise speech.
package voicetest

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// pb appends protobuf fields.
type pb []byte

func (b pb) key(num, wire int) pb { return binary.AppendUvarint(b, uint64(num<<3|wire)) }
func (b pb) varint(num int, v uint64) pb {
	return binary.AppendUvarint(b.key(num, 0), v)
}
func (b pb) bytes(num int, v []byte) pb {
	b = binary.AppendUvarint(b.key(num, 2), uint64(len(v)))
	return append(b, v...)
}

// ONNX returns an ONNX model (IR version 8, opset 17) whose graph has the
// named inputs and outputs (float tensors) and no nodes, with metadata
// and, when pad > 0, an initializer of pad bytes standing in for weights.
func ONNX(inputs, outputs []string, meta map[string]string, pad int) []byte {
	var g pb
	g = g.bytes(2, []byte("test-graph"))
	if pad > 0 {
		var init pb
		init = init.varint(1, uint64(pad/4)) // dims
		init = init.varint(2, 1)             // FLOAT
		init = init.bytes(8, []byte("weights"))
		init = init.bytes(9, make([]byte, pad)) // raw_data
		g = g.bytes(5, init)
	}
	valueInfo := func(name string) []byte {
		var tensor pb
		tensor = tensor.varint(1, 1) // elem_type FLOAT
		var typ pb
		typ = typ.bytes(1, tensor) // tensor_type
		var vi pb
		vi = vi.bytes(1, []byte(name))
		return vi.bytes(2, typ)
	}
	for _, in := range inputs {
		g = g.bytes(11, valueInfo(in))
	}
	for _, out := range outputs {
		g = g.bytes(12, valueInfo(out))
	}
	var m pb
	m = m.varint(1, 8)
	m = m.bytes(2, []byte("allimi-voicetest"))
	var opset pb
	opset = opset.varint(2, 17)
	m = m.bytes(8, opset)
	m = m.bytes(7, g)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var e pb
		e = e.bytes(1, []byte(k))
		e = e.bytes(2, []byte(meta[k]))
		m = m.bytes(14, e)
	}
	return m
}

// SenseVoiceMeta is the metadata of sherpa-onnx's SenseVoice export
// (values as in sherpa-onnx-sense-voice-zh-en-ja-ko-yue-2024-07-17), with
// a vocabulary of vocab tokens.
func SenseVoiceMeta(vocab int) map[string]string {
	return map[string]string{
		"vocab_size": fmt.Sprint(vocab), "lfr_window_size": "7", "lfr_window_shift": "6", "normalize_samples": "0",
		"with_itn": "14", "without_itn": "15", "lang_auto": "0", "lang_zh": "3", "lang_en": "4", "lang_ja": "11",
		"lang_ko": "12", "lang_yue": "7", "neg_mean": "0,0", "inv_stddev": "1,1",
	}
}

// WhisperMeta is the metadata of a multilingual Whisper encoder exported
// for sherpa-onnx, with n_vocab tokens.
func WhisperMeta(vocab int, languages string) map[string]string {
	return map[string]string{
		"n_mels": "80", "n_text_layer": "4", "n_text_ctx": "448", "n_text_state": "384", "n_vocab": fmt.Sprint(vocab),
		"sot": "50258", "eot": "50257", "blank_id": "220", "translate": "50358", "transcribe": "50359",
		"is_multilingual": "1", "no_timestamps": "50363", "no_speech": "50362", "sot_sequence": "50258,50259,50359",
		"all_language_tokens": "50259,50264", "all_language_codes": languages,
	}
}

// Tokens returns a tokens.txt of n entries ("<tok0> 0" …).
func Tokens(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "tok%d %d\n", i, i)
	}
	return []byte(b.String())
}

// SenseVoiceDir writes a directory shaped like a SenseVoice export (a
// model with SenseVoice's inputs and metadata, no weights) and returns it.
func SenseVoiceDir(dir string, vocab int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	model := ONNX([]string{"x", "x_length", "language", "text_norm"}, []string{"logits"}, SenseVoiceMeta(vocab), 4096)
	if err := os.WriteFile(filepath.Join(dir, "model.int8.onnx"), model, 0o644); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "tokens.txt"), Tokens(vocab), 0o644)
}

// WhisperDir writes a directory shaped like a Whisper export.
func WhisperDir(dir string, vocab int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	enc := ONNX([]string{"mel"}, []string{"n_layer_cross_k", "n_layer_cross_v"}, WhisperMeta(vocab, "en,ko"), 4096)
	dec := ONNX([]string{"tokens", "in_n_layer_self_k_cache", "in_n_layer_self_v_cache", "n_layer_cross_k", "n_layer_cross_v", "offset"},
		[]string{"logits", "out_n_layer_self_k_cache", "out_n_layer_self_v_cache"}, nil, 4096)
	for name, b := range map[string][]byte{"tiny-encoder.onnx": enc, "tiny-decoder.onnx": dec, "tiny-tokens.txt": Tokens(vocab - 100)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

package sherpa

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"allimi/voice"
	"allimi/voice/worker"
)

// TrialTimeout bounds a trial load: a large Whisper takes seconds to load
// on two cores, never minutes.
const TrialTimeout = 2 * time.Minute

// TrialLoad checks the model in dir, loads it and decodes a second of
// silence. sherpa-onnx ends the process on a model it cannot use, so a
// program calls TrialLoad in a child of itself (LoadInChild), never in the
// process that would then use the model.
func TrialLoad(ctx context.Context, dir string) error {
	info, err := voice.CheckModel(dir)
	if err != nil {
		return err
	}
	r, err := NewRecognizer(info)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = r.Transcribe(ctx, voice.NewWAV(make([]float32, voice.Rate)))
	return err
}

// TrialOK is what the child prints when TrialLoad succeeded.
const TrialOK = "model-ok"

// LoadInChild runs argv, a child that calls TrialLoad on dir and prints
// TrialOK, and says why when it does not: sherpa-onnx's and onnxruntime's
// own words, without the Go runtime's dump that follows an abort.
func LoadInChild(ctx context.Context, dir string, argv ...string) error {
	ctx, cancel := context.WithTimeout(ctx, TrialTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil && strings.TrimSpace(string(out)) == TrialOK {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("it printed %q", strings.TrimSpace(string(out)))
	}
	return fmt.Errorf("%s: %w: sherpa-onnx could not load or run it (%v): %s", dir, voice.ErrBadModel, err, worker.Reason(stderr.String()))
}

// Package workermain is the body of allimi-voice, the process that runs
// the voice models through sherpa-onnx for the kiosk (package
// voice/worker). It is a package so that tests can make their own binary
// act as the worker; only allimi-voice and tests link it, never the kiosk.
package workermain

import (
	"flag"
	"fmt"
	"os"

	"allimi/voice"
	"allimi/voice/sherpa"
	"allimi/voice/worker"
)

// Main is allimi-voice: it loads the models its flags name and serves
// requests on standard input and output until its input closes; the exit
// status is 0, 1 (a model could not be loaded) or 2 (bad flags).
func Main(args []string) int {
	fs := flag.NewFlagSet("allimi-voice", flag.ContinueOnError)
	vadModel := fs.String("vad-model", "", "Silero VAD `file` (silero_vad.onnx)")
	minSilence := fs.Float64("min-silence", voice.EndOfSpeech.Seconds(), "pause that ends speech, in `seconds`")
	asrModel := fs.String("asr-model", "", "speech-recognition model `dir` (see allimi voice check-model)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *vadModel == "" && *asrModel == "" {
		fmt.Fprintln(os.Stderr, "allimi-voice: give --vad-model, --asr-model or both")
		return 2
	}
	var det voice.Detector
	var rec voice.Recognizer
	if *vadModel != "" {
		d, err := sherpa.NewSilero(*vadModel, sherpa.SileroOptions{MinSilence: float32(*minSilence)})
		if err != nil {
			fmt.Fprintln(os.Stderr, "allimi-voice:", err)
			return 1
		}
		defer d.Close()
		det = d
	}
	if *asrModel != "" {
		info, err := voice.CheckModel(*asrModel)
		if err != nil {
			fmt.Fprintln(os.Stderr, "allimi-voice:", err)
			return 1
		}
		r, err := sherpa.NewRecognizer(info)
		if err != nil {
			fmt.Fprintln(os.Stderr, "allimi-voice:", err)
			return 1
		}
		defer r.Close()
		rec = r
	}
	if err := worker.Serve(os.Stdin, os.Stdout, det, rec); err != nil {
		fmt.Fprintln(os.Stderr, "allimi-voice:", err)
		return 1
	}
	return 0
}

// Command allimi-voice runs the kiosk's voice models (Silero VAD, a
// SenseVoice or Whisper recogniser) through sherpa-onnx in a process of
// their own, answering the kiosk over standard input and output (package
// voice/worker). sherpa-onnx ends the process on a model it cannot use:
// then this process ends, and the kiosk says why and carries on.
//
//	allimi-voice [--vad-model FILE] [--min-silence SECONDS] [--asr-model DIR]
package main

import (
	"os"

	"allimi/voice/worker/workermain"
)

func main() {
	os.Exit(workermain.Main(os.Args[1:]))
}

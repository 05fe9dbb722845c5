// Package voice speaks and listens for the kiosk, in pure Go (central
// builds it without cgo):
//
//   - out: text normalisation so that money, dates and phone numbers are
//     read as a Korean official would say them, and speech synthesis with
//     espeak-ng, slower and clearer for seniors (Espeak, Speaker);
//   - in: WAV reading in every common format, converted to 16 kHz mono
//     (ParseWAV, Mono16k); voice activity detection as a stream of
//     speech-started/ended events or a file's segments (Detector,
//     EnergyVAD, DetectSegments); one utterance from a live stream
//     (Listen); the Recognizer interface and the checks a model directory
//     must pass before it is loaded (CheckModel, InspectONNX).
//
// The models themselves (Silero VAD, SenseVoice or Whisper) run through
// sherpa-onnx in package voice/sherpa, which needs cgo; the kiosk runs
// them in a worker process, allimi-voice (package voice/worker).
package voice

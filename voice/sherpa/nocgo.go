//go:build !cgo

package sherpa

import "allimi/voice"

// NewSilero needs cgo.
func NewSilero(model string, o SileroOptions) (voice.Detector, error) { return nil, ErrNoCgo }

// NewRecognizer needs cgo.
func NewRecognizer(info voice.ModelInfo) (voice.Recognizer, error) { return nil, ErrNoCgo }

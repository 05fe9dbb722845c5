package worker

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"allimi/voice"
)

// Detector is a voice.Detector running in a worker started with a VAD
// model (allimi-voice --vad-model).
type Detector struct{ p *Proc }

// NewDetector starts a worker for voice activity detection.
func NewDetector(ctx context.Context, argv ...string) (*Detector, error) {
	p, err := Start(ctx, argv...)
	if err != nil {
		return nil, err
	}
	return &Detector{p: p}, nil
}

func (d *Detector) events(op byte, payload []byte) ([]voice.Event, error) {
	a, err := d.p.call(op, payload)
	if err != nil {
		return nil, err
	}
	evs := make([]voice.Event, 0, len(a.Events))
	for _, e := range a.Events {
		evs = append(evs, voice.Event{Kind: e.Kind, Segment: voice.Segment{Start: e.Start, End: e.End}})
	}
	return evs, nil
}

// Accept implements voice.Detector.
func (d *Detector) Accept(samples []float32) ([]voice.Event, error) {
	b := make([]byte, 4*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(s))
	}
	return d.events(opAccept, b)
}

// Flush implements voice.Detector.
func (d *Detector) Flush() ([]voice.Event, error) { return d.events(opFlush, nil) }

// Reset implements voice.Detector; a worker that has died stays dead, and
// the next Accept says so.
func (d *Detector) Reset() { _, _ = d.p.call(opReset, nil) }

// Close implements voice.Detector.
func (d *Detector) Close() error { return d.p.Close() }

// Recognizer is a voice.Recognizer running in a worker started with a
// speech-recognition model (allimi-voice --asr-model). A worker that dies
// (sherpa-onnx aborted on the model) is started again on the next
// Transcribe; one that is abandoned (ctx ended during a decode) is killed.
type Recognizer struct {
	argv []string
	mu   sync.Mutex
	p    *Proc
}

// NewRecognizer starts a worker and waits until its model is loaded; an
// error says what sherpa-onnx said if it could not load it.
func NewRecognizer(ctx context.Context, argv ...string) (*Recognizer, error) {
	p, err := Start(ctx, argv...)
	if err != nil {
		return nil, err
	}
	return &Recognizer{argv: argv, p: p}, nil
}

// Transcribe implements voice.Recognizer.
func (r *Recognizer) Transcribe(ctx context.Context, w voice.WAV) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		p, err := Start(ctx, r.argv...)
		if err != nil {
			return "", err
		}
		r.p = p
	}
	p := r.p
	type result struct {
		a   answer
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := p.call(opTranscribe, w.Encode())
		done <- result{a, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			select {
			case <-p.done:
				r.p = nil // died: start again next time
			default:
			}
			return "", fmt.Errorf("speech recognition: %w", res.err)
		}
		return res.a.Text, nil
	case <-ctx.Done():
		// A decode cannot be interrupted inside the worker: end it.
		p.Kill()
		<-done
		r.p = nil
		return "", ctx.Err()
	}
}

// Close implements voice.Recognizer.
func (r *Recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		err := r.p.Close()
		r.p = nil
		return err
	}
	return nil
}

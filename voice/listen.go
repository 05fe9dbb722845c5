package voice

import (
	"context"
	"errors"
	"time"
)

// EndOfSpeech is the pause that ends a question at the kiosk: longer than
// the detectors' default, because seniors pause mid-sentence to find a word.
const EndOfSpeech = 800 * time.Millisecond

// ErrNoSpeech: nobody spoke while the microphone listened.
var ErrNoSpeech = errors.New("no speech heard")

// ListenOptions shape one utterance taken from a live stream.
type ListenOptions struct {
	// Max is the longest utterance kept; the rest is cut. Default 30 s.
	Max time.Duration
	// WaitForSpeech is how long to wait for the first word before giving
	// up with ErrNoSpeech; default 10 s.
	WaitForSpeech time.Duration
	// PreRoll is audio kept from before the detected start (a soft first
	// consonant); default 300 ms.
	PreRoll time.Duration
	// Tail is audio kept after the detected end; default 200 ms.
	Tail time.Duration
}

func (o *ListenOptions) defaults() {
	if o.Max <= 0 {
		o.Max = 30 * time.Second
	}
	if o.WaitForSpeech <= 0 {
		o.WaitForSpeech = 10 * time.Second
	}
	if o.PreRoll <= 0 {
		o.PreRoll = 300 * time.Millisecond
	}
	if o.Tail <= 0 {
		o.Tail = 200 * time.Millisecond
	}
}

// Listen takes one utterance from a stream of 16 kHz mono chunks (a
// microphone, or a file in tests): it waits for det to hear speech, keeps
// it from a little before its start, and returns it as 16-bit PCM when
// det hears it end, when it reaches o.Max, or when frames is closed.
// Cancelling ctx (the person pressed stop) returns what was heard so far,
// or ctx's error when nothing was. Time is counted in samples, not on the
// clock: the stream is the clock.
func Listen(ctx context.Context, frames <-chan []float32, det Detector, o ListenOptions) (WAV, error) {
	o.defaults()
	det.Reset()
	l := listener{o: o, start: -1}
	for {
		select {
		case <-ctx.Done():
			if l.start >= 0 {
				return l.cut(l.pos), nil
			}
			return WAV{}, ctx.Err()
		case f, ok := <-frames:
			if !ok {
				evs, err := det.Flush()
				if err != nil {
					return WAV{}, err
				}
				if w, done := l.events(evs); done {
					return w, nil
				}
				if l.start >= 0 {
					return l.cut(l.pos), nil
				}
				return WAV{}, ErrNoSpeech
			}
			l.buf = append(l.buf, f...)
			l.pos += len(f)
			evs, err := det.Accept(f)
			if err != nil {
				return WAV{}, err
			}
			if w, done := l.events(evs); done {
				return w, nil
			}
			if l.start >= 0 && l.pos-l.start >= samples(o.Max) {
				return l.cut(l.start + samples(o.Max)), nil
			}
			if l.start < 0 {
				if l.pos >= samples(o.WaitForSpeech) {
					return WAV{}, ErrNoSpeech
				}
				l.trim()
			}
		}
	}
}

// listener is the state of one Listen.
type listener struct {
	o     ListenOptions
	buf   []float32
	bufAt int // stream position of buf[0]
	pos   int // stream position after the last sample received
	start int // where the kept audio begins; -1 before speech
}

func samples(d time.Duration) int { return int(d * Rate / time.Second) }

// events applies det's events; done when the utterance is complete.
func (l *listener) events(evs []Event) (WAV, bool) {
	for _, e := range evs {
		from := max(0, samples(e.Segment.Start-l.o.PreRoll))
		switch e.Kind {
		case SpeechStarted:
			if l.start < 0 {
				l.start = max(from, l.bufAt)
			}
		case SpeechEnded:
			// The end event carries the exact start, which may be earlier
			// than the estimate the start event gave.
			if l.start < 0 || from < l.start {
				l.start = max(from, l.bufAt)
			}
			return l.cut(min(l.pos, samples(e.Segment.End+l.o.Tail))), true
		}
	}
	return WAV{}, false
}

// trim drops audio too old to be kept as pre-roll while waiting for speech.
// A second more than PreRoll is kept: a detector may report the start of
// speech a little after it began.
func (l *listener) trim() {
	keep := samples(l.o.PreRoll + time.Second)
	if drop := len(l.buf) - keep; drop > Rate {
		l.buf = append([]float32(nil), l.buf[drop:]...)
		l.bufAt += drop
	}
}

// cut returns the kept audio from l.start to end.
func (l *listener) cut(end int) WAV {
	from := max(l.start, l.bufAt) - l.bufAt
	to := min(end, l.pos) - l.bufAt
	if to < from {
		to = from
	}
	return NewWAV(l.buf[from:to])
}

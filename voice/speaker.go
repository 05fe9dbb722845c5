package voice

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"unicode"
)

// Player plays a WAV until it ends or ctx ends. The kiosk's is malgo on
// the sound card; tests give their own.
type Player interface {
	Play(ctx context.Context, w WAV) error
}

// Speaker reads text aloud, one text at a time: a new one, or Stop, cuts
// the one being read. It never blocks the screen: Speak returns once the
// speech is synthesized and playing.
type Speaker struct {
	TTS    Espeak
	Player Player
	Log    *slog.Logger

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Speak reads text in lang (ko, en, ja, zh, th, vi). A long text is
// synthesised a sentence or two at a time (SplitSpeech): the first part
// starts playing at once and the next is synthesised while it plays, so
// a person waits for one sentence, not for the whole answer.
func (s *Speaker) Speak(ctx context.Context, lang, text string) error {
	s.Stop()
	parts := SplitSpeech(text)
	if len(parts) == 0 {
		parts = []string{text}
	}
	first, err := s.synthesize(ctx, lang, parts[0])
	if err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	s.mu.Lock()
	s.cancel, s.done = cancel, done
	s.mu.Unlock()
	// The rest is synthesised one part ahead of the player.
	next := make(chan WAV)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(next)
		for _, p := range parts[1:] {
			w, err := s.synthesize(pctx, lang, p)
			if err != nil {
				if pctx.Err() == nil && s.Log != nil {
					s.Log.Warn("speech not synthesised", "err", err)
				}
				return
			}
			select {
			case next <- w:
			case <-pctx.Done():
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for w, ok := first, true; ok; w, ok = <-next {
			if err := s.Player.Play(pctx, w); err != nil {
				if pctx.Err() == nil && s.Log != nil {
					s.Log.Warn("speech not played", "err", err)
				}
				cancel() // the producer stops too
				return
			}
			if pctx.Err() != nil {
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	return nil
}

func (s *Speaker) synthesize(ctx context.Context, lang, text string) (WAV, error) {
	b, err := s.TTS.Synthesize(ctx, lang, text)
	if err != nil {
		return WAV{}, err
	}
	return ParseWAV(b)
}

// minSpeechPart is the shortest part SplitSpeech makes, in characters: a
// shorter sentence is joined to the next, so that the pauses between
// parts stay few.
const minSpeechPart = 40

// SplitSpeech cuts text into parts to be synthesised one after another:
// at the ends of sentences (. ? ! 。 and line breaks, but not the dots of a
// date such as "2026. 3. 1."), each part at least minSpeechPart characters
// unless it is the last.
func SplitSpeech(text string) []string {
	var parts []string
	var cur []rune
	flush := func() {
		if p := strings.TrimSpace(string(cur)); p != "" {
			parts = append(parts, p)
		}
		cur = cur[:0]
	}
	rs := []rune(text)
	for i, r := range rs {
		cur = append(cur, r)
		end := r == '\n' || r == '。' || r == '？' || r == '！' ||
			((r == '.' || r == '?' || r == '!') && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])))
		// "2026. 3. 1." is a date, read whole by Normalize: never cut it.
		if r == '.' && i > 0 && unicode.IsDigit(rs[i-1]) {
			end = false
		}
		if end && len([]rune(strings.TrimSpace(string(cur)))) >= minSpeechPart {
			flush()
		}
	}
	flush()
	return parts
}

// Stop silences the speaker and waits until it is silent.
func (s *Speaker) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel, s.done = nil, nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Wait blocks until the current speech has been played (for tools).
func (s *Speaker) Wait() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

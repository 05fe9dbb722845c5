package voice

import (
	"context"
	"log/slog"
	stdsync "sync"
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

	mu     stdsync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Speak reads text in lang (ko, en, ja, zh, th, vi).
func (s *Speaker) Speak(ctx context.Context, lang, text string) error {
	s.Stop()
	b, err := s.TTS.Synthesize(ctx, lang, text)
	if err != nil {
		return err
	}
	w, err := ParseWAV(b)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	s.mu.Lock()
	s.cancel, s.done = cancel, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		if err := s.Player.Play(pctx, w); err != nil && pctx.Err() == nil && s.Log != nil {
			s.Log.Warn("speech not played", "err", err)
		}
	}()
	return nil
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

package main

import (
	"context"
	"errors"
	"fmt"
	stdsync "sync"

	"github.com/gen2brain/malgo"

	"allimi/kiosk"
	"allimi/voice"
)

// malgoPlayer plays speech on the sound card through miniaudio (malgo),
// with miniaudio's default list of backends (PulseAudio, ALSA, …).
type malgoPlayer struct{}

func (malgoPlayer) Play(ctx context.Context, w voice.WAV) error {
	if w.Bits != 16 {
		return fmt.Errorf("play: %d-bit audio: only 16-bit PCM", w.Bits)
	}
	mctx, err := malgo.InitContext(nil, malgo.ContextConfig{}, nil)
	if err != nil {
		return fmt.Errorf("audio: %w", err)
	}
	defer func() { _ = mctx.Uninit(); mctx.Free() }()
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	cfg.Playback.Format = malgo.FormatS16
	cfg.Playback.Channels = uint32(w.Channels)
	cfg.SampleRate = uint32(w.SampleRate)

	var mu stdsync.Mutex
	pos := 0
	finished := make(chan struct{})
	var once stdsync.Once
	dev, err := malgo.InitDevice(mctx.Context, cfg, malgo.DeviceCallbacks{
		Data: func(out, _ []byte, _ uint32) {
			mu.Lock()
			n := copy(out, w.Data[pos:])
			pos += n
			rest := pos >= len(w.Data)
			mu.Unlock()
			clear(out[n:]) // silence after the end
			if rest {
				once.Do(func() { close(finished) })
			}
		},
	})
	if err != nil {
		return fmt.Errorf("audio device: %w", err)
	}
	defer dev.Uninit()
	if err := dev.Start(); err != nil {
		return fmt.Errorf("audio device: %w", err)
	}
	select {
	case <-finished:
	case <-ctx.Done():
	}
	return dev.Stop()
}

// kioskSpeaker adapts voice.Speaker to the kiosk's Speaker.
type kioskSpeaker struct{ s *voice.Speaker }

func (k kioskSpeaker) Speak(ctx context.Context, lang kiosk.Lang, text string) error {
	err := k.s.Speak(ctx, string(lang), text)
	if errors.Is(err, voice.ErrNoVoice) {
		return nil // a language without a voice is shown, not read
	}
	return err
}

func (k kioskSpeaker) Stop() { k.s.Stop() }

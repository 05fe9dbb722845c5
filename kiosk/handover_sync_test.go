package kiosk_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/kiosk"
	"allimi/sync/outbox"
	"allimi/voice"
)

func TestSyncHandover_RefusesBadQuestionsAndKeepsTheOutbox(t *testing.T) {
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	box, err := outbox.Open(db, "k1")
	require.NoError(t, err)
	h := kiosk.NewSyncHandover(box, nil)
	tests := []struct {
		name    string
		q       kiosk.HandoverQuestion
		wantErr string
	}{
		{"8 kHz audio", kiosk.HandoverQuestion{Audio: voice.WAV{SampleRate: 8000, Channels: 1, Bits: 16, Data: make([]byte, 800)}, Lang: "ko"},
			"8000 Hz, 1 channels, 16 bits: must be 16000 Hz mono 16-bit"},
		{"stereo audio", kiosk.HandoverQuestion{Audio: voice.WAV{SampleRate: 16000, Channels: 2, Bits: 16, Data: make([]byte, 800)}, Lang: "ko"},
			"must be 16000 Hz mono 16-bit"},
		{"over 60 s", kiosk.HandoverQuestion{Audio: voice.WAV{SampleRate: 16000, Channels: 1, Bits: 16, Data: make([]byte, 61*32000)}, Lang: "ko"},
			"record a shorter question"},
		{"nothing said or typed", kiosk.HandoverQuestion{Lang: "ko"}, "neither audio nor text"},
		{"channel without a number", kiosk.HandoverQuestion{Text: "질문", Lang: "ko", Reply: allimi.ChannelSMS, Name: "김영수"},
			"mobile number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, err := h.Submit(tc.q)
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Empty(t, code)
			st, err := box.State()
			require.NoError(t, err)
			assert.Zero(t, st.Pending, "nothing of a refused question is stored")
		})
	}
	_, _, err = h.Answer(context.Background(), "abc")
	assert.ErrorIs(t, err, allimi.ErrInvalid)
}

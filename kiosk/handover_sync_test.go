package kiosk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/channel"
	"allimi/internal/testaddr"
	"allimi/kiosk"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
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

func TestSyncHandover_QuestionWaitsOfflineThenIsAnsweredByCode(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	fake := channel.NewFake(channel.FakeOptions{Seed: 1})
	hs := httptest.NewServer(fake.Handler())
	t.Cleanup(func() { hs.Close(); fake.Close() })
	data := t.TempDir()
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	cred, err := st.AddKiosk("sejong-01")
	require.NoError(t, err)
	official, err := st.AddOfficial("kim.minji", false)
	require.NoError(t, err)
	require.NoError(t, st.Close())

	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	box, err := outbox.Open(db, cred.ID)
	require.NoError(t, err)
	mqttAddr := testaddr.Free(t)
	sender := uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: "tcp://" + mqttAddr, Username: cred.Username,
		Password: cred.Password}, ResendAfter: time.Second, Logger: quiet}, box)
	h := kiosk.NewSyncHandover(box, uplink.NewCentral(sender))

	// Central is not there yet: the question is kept, and "not answered yet".
	code, err := h.Submit(kiosk.HandoverQuestion{Text: "기초연금은 어디서 신청하나요?", Lang: "ko"})
	require.NoError(t, err)
	_, ok := allimi.NormalizeReceiptCode(code)
	require.True(t, ok, code)
	answer, answered, err := h.Answer(context.Background(), code)
	require.NoError(t, err)
	assert.False(t, answered)
	assert.Empty(t, answer)

	cfg := central.DefaultConfig()
	cfg.Data, cfg.MQTT, cfg.HTTP, cfg.ProviderURL, cfg.Logger = data, mqttAddr, "127.0.0.1:0", hs.URL, quiet
	srv, err := central.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sender.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool {
		s, err := box.State()
		return err == nil && s.Pending == 0
	}, 20*time.Second, 10*time.Millisecond, "central acknowledges the question")

	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	_, answered, err = h.Answer(rctx, code)
	require.NoError(t, err)
	assert.False(t, answered, "central has it; nobody answered yet")

	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.HTTPAddr()+"/api/v1/questions/1/answer",
		strings.NewReader(`{"answer":"주민센터 2층 복지팀에서 신청하세요."}`))
	req.Header.Set("Authorization", "Bearer "+official.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))

	answer, answered, err = h.Answer(rctx, strings.ToLower(strings.ReplaceAll(code, "-", " ")))
	require.NoError(t, err)
	assert.True(t, answered)
	assert.Equal(t, "주민센터 2층 복지팀에서 신청하세요.", answer)
	assert.Empty(t, fake.Messages(""), "a question answered at the kiosk sends no message")

	other := "ZZZZZ-ZZZZZ"
	if other == code {
		other = "YYYYY-YYYYY"
	}
	_, _, err = h.Answer(rctx, other)
	assert.ErrorIs(t, err, kiosk.ErrNoSuchQuestion)
	assert.Contains(t, err.Error(), fmt.Sprint(other))
}

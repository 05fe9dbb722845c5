package kioskcentral

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/channel"
	"allimi/internal/centraltest"
	"allimi/kiosk"
	"allimi/kiosk/kiosktest"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
	"allimi/voice"
)

// toneWAV is d of a 440 Hz tone, as the kiosk records it (16 kHz mono
// 16-bit).
func toneWAV(d time.Duration) voice.WAV {
	n := int(d.Seconds() * 16000)
	data := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		s := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/16000))
		binary.LittleEndian.PutUint16(data[2*i:], uint16(s))
	}
	return voice.WAV{SampleRate: 16000, Channels: 1, Bits: 16, Data: data}
}

// recording is a microphone that hands out one recording.
type recording struct{ wav voice.WAV }

func (r recording) Listen(context.Context, time.Duration) (voice.WAV, error) { return r.wav, nil }

// sameWAV compares recordings without printing their samples.
func sameWAV(t *testing.T, want, got voice.WAV, msg string) {
	t.Helper()
	assert.True(t, want.SampleRate == got.SampleRate && want.Channels == got.Channels && want.Bits == got.Bits &&
		bytes.Equal(want.Data, got.Data), "%s: got %d bytes at %d Hz, want %d bytes at %d Hz",
		msg, len(got.Data), got.SampleRate, len(want.Data), want.SampleRate)
}

// TestFlow_VoiceQuestionHandedOverAndAnsweredAtTheKiosk walks the whole
// hand-over on the screens against a real central, outbox and sender: a
// spoken question the kiosk cannot transcribe is sent to an official,
// who answers over central's API; the person reads the answer by the code
// on their slip.
func TestFlow_VoiceQuestionHandedOverAndAnsweredAtTheKiosk(t *testing.T) {
	c := newCentral(t, "k1")
	official := c.AddOfficial("kim.minji")
	c.Start()
	ks := startKioskSync(t, c)

	wav := toneWAV(3 * time.Second)
	ix, err := kiosk.LoadConsultIndex(nil, quietLogger()) // the built-in one
	require.NoError(t, err)
	a := kiosk.NewAdviser(ix)
	a.Listener = recording{wav: wav} // and no recogniser installed
	a.Handover = kiosk.NewSyncHandover(ks.outbox, uplink.NewCentral(ks.sender))
	opt := ks.options(c)
	opt.Voice = a
	k := kiosktest.New(t, opt)

	k.Tap("home.ask")
	k.Tap("ask.speak")
	k.RequireScreen("ask-voice-offer")
	k.RequireShows(k.UI.T("ask.no_recognizer"))
	k.Tap("ask.send_recording")
	k.TapCard(k.UI.T("handover.slip_name"))
	k.Tap("nav.next")
	k.RequireScreen("handover-slip")
	code := k.UI.Session().Ask.Handover.Code
	_, ok := allimi.NormalizeReceiptCode(code)
	require.True(t, ok, "a receipt code: %q", code)
	k.RequireShows(code)
	k.Tap("done.finish")
	ks.waitDelivered(t, c)

	// Central has the recording, whole.
	api := func(method, path, body string) (int, []byte) {
		req, err := http.NewRequest(method, c.URL()+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+official.Token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}
	status, body := api(http.MethodGet, "/api/v1/questions", "")
	require.Equal(t, http.StatusOK, status, string(body))
	var list struct{ Questions []allimi.Question }
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Questions, 1)
	q := list.Questions[0]
	assert.Equal(t, code, q.Code)
	assert.Equal(t, "kiosk", q.Reply)
	assert.Equal(t, "ko", q.Lang)
	assert.Equal(t, len(wav.Data), q.AudioBytes)
	assert.Empty(t, q.Damaged)
	status, audio := api(http.MethodGet, fmt.Sprintf("/api/v1/questions/%d/audio", q.ID), "")
	require.Equal(t, http.StatusOK, status)
	got, err := voice.ParseWAV(audio)
	require.NoError(t, err)
	sameWAV(t, wav, got, "the official hears what the kiosk recorded")

	check := func(typed string) {
		t.Helper()
		if k.Screen() != "home" {
			k.Tap("nav.home")
		}
		k.Tap("home.ask")
		k.Tap("ask.check")
		k.TypePH("XXXX-XXXX-XXXX", typed)
		k.Tap("handover.check_go")
	}
	// Not answered yet.
	check(strings.ToLower(code))
	k.RequireScreen("handover-check")
	k.RequireShows(k.UI.T("handover.not_yet"))

	const answer = "주민센터 2층 복지팀에 신분증을 가지고 오시면 바로 신청하실 수 있습니다."
	status, body = api(http.MethodPost, fmt.Sprintf("/api/v1/questions/%d/answer", q.ID), `{"answer":"`+answer+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))

	check(code)
	k.RequireScreen("handover-answer")
	k.RequireShows(answer)

	// A code central never gave.
	other := "22222-22222"
	require.NotEqual(t, code, other)
	check(other)
	k.RequireScreen("handover-check")
	k.RequireShows(k.UI.T("handover.code_unknown"))

	// Central gone: the kiosk says so.
	require.NoError(t, c.Server.Close())
	check(code)
	k.RequireScreen("handover-check")
	k.RequireShows(k.UI.T("handover.offline"))
}

func TestSyncHandover_QuestionWaitsOfflineThenIsAnsweredByCode(t *testing.T) {
	quiet := quietLogger()
	fake := channel.NewFake(channel.FakeOptions{Seed: 1})
	hs := httptest.NewServer(fake.Handler())
	t.Cleanup(func() { hs.Close(); fake.Close() })
	c := centraltest.New(t, func(cfg *central.Config) { cfg.ProviderURL = hs.URL })
	cred := c.AddKiosk("sejong-01")
	official := c.AddOfficial("kim.minji")

	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	box, err := outbox.Open(db, cred.ID)
	require.NoError(t, err)
	sender := uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: c.Broker(), Username: cred.Username,
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

	c.Start()
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

	req, _ := http.NewRequest(http.MethodPost, c.URL()+"/api/v1/questions/1/answer",
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

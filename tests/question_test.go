package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/internal/testaddr"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
	"allimi/voice"
)

// koreanQuestionPCM speaks a question with espeak-ng and converts it with
// sox to what the kiosk records: 16 kHz mono 16-bit. The pause after it
// makes it long enough (about 15 s, 15 chunks) for central to be killed
// in the middle of the chunks.
func koreanQuestionPCM(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	raw, wav := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "q.wav")
	out, err := exec.Command("espeak-ng", "-v", "ko", "-w", raw, "기초연금은 언제 어디서 신청할 수 있나요? 통장으로 들어오나요?").CombinedOutput()
	require.NoError(t, err, "espeak-ng: %s", out)
	out, err = exec.Command("sox", raw, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", wav, "pad", "0", "10").CombinedOutput()
	require.NoError(t, err, "sox: %s", out)
	b, err := os.ReadFile(wav)
	require.NoError(t, err)
	w, err := voice.ParseWAV(b)
	require.NoError(t, err)
	require.Equal(t, 16000, w.SampleRate)
	require.Equal(t, 1, w.Channels)
	require.Equal(t, 16, w.Bits)
	return w.Data
}

func officialQuestions(t *testing.T, c *central, token string) []allimi.Question {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+c.http+"/api/v1/questions?all=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct{ Questions []allimi.Question }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body.Questions
}

func TestQuestion_SpokenAtAKioskSurvivesCentralKilledMidChunksAndIsAnswered(t *testing.T) {
	pcm := koreanQuestionPCM(t)
	chunks := allimi.QuestionChunks(len(pcm))
	require.GreaterOrEqual(t, chunks, 10)

	data := t.TempDir()
	cred := addKiosk(t, data, "sejong-01")
	var official struct{ ID, Token string }
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "official", "add", "--data", data, "--id", "kim.minji", "--json"), &official))

	// The kiosk, with central down: the question goes into its outbox.
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	box, err := outbox.Open(db, cred.ID)
	require.NoError(t, err)
	code, err := allimi.NewQuestionCode()
	require.NoError(t, err)
	contact := allimi.Citizen{Name: "박순자", Mobile: "010-2222-3333"}
	drafts, err := outbox.QuestionDrafts(allimi.QuestionPayload{Code: code, Lang: "ko", Reply: "kakao"}, contact, pcm)
	require.NoError(t, err)
	_, err = box.Append(drafts...)
	require.NoError(t, err)
	total := int64(chunks + 1)

	fakes := startFakes(t)
	c := &central{data: data, mqtt: testaddr.Free(t), http: testaddr.Free(t), args: []string{"--provider-url", "http://" + fakes.addr}}
	c.start(t)

	// One record in flight at a time, so that the kill lands among the chunks.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sender := uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: "tcp://" + c.mqtt, Username: cred.Username,
		Password: cred.Password}, Window: 1, ResendAfter: time.Second, Logger: quiet}, box)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sender.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	deadline := time.Now().Add(time.Minute)
	for c.stats(t).Records.Stored < 3 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	c.kill()
	// What central holds is read from its file while it is down.
	store, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	held, err := store.Stats()
	require.NoError(t, err)
	require.NoError(t, store.Close())
	seen := held.Records.Stored
	c.start(t)
	require.Less(t, seen, total, "the kill must land before the question is complete")
	require.Eventually(t, func() bool {
		st, err := box.State()
		return err == nil && st.Pending == 0
	}, time.Minute, 10*time.Millisecond, "the kiosk's outbox empties")
	st := c.stats(t)
	assert.Equal(t, total, st.Records.Stored, "every chunk and the question stored exactly once")
	assert.Zero(t, st.Records.Rejected)
	t.Logf("%d chunks of %.1f s; stored before the kill: %d; resends central recognised: %d",
		chunks, float64(len(pcm))/allimi.QuestionBytesPerSecond, seen, st.Records.Duplicates)

	qs := officialQuestions(t, c, official.Token)
	require.Len(t, qs, 1, "the question arrived once")
	q := qs[0]
	assert.Empty(t, q.Damaged)
	assert.Equal(t, code, q.Code)
	assert.Equal(t, len(pcm), q.AudioBytes)

	// The official signs in over HTTP, plays the recording and answers.
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar}
	resp, err := web.PostForm("http://"+c.http+"/officials/login", url.Values{"id": {"kim.minji"}, "token": {official.Token}})
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "답변을 기다리는 질문 1건")
	audioURL := fmt.Sprintf("http://%s/officials/questions/%d/audio", c.http, q.ID)
	resp, err = web.Get(audioURL)
	require.NoError(t, err)
	wav, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	w, err := voice.ParseWAV(wav)
	require.NoError(t, err)
	assert.Equal(t, pcm, w.Data, "the official hears exactly what the kiosk recorded")

	answer := "기초연금은 주민센터 복지팀에서 신청하시고, 매달 25일에 통장으로 들어옵니다."
	// As the browser does: the form carries the page's anti-forgery token.
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(page))
	require.NotNil(t, csrf, "the officials' page carries an anti-forgery token")
	resp, err = web.PostForm(fmt.Sprintf("http://%s/officials/questions/%d/answer", c.http, q.ID), url.Values{"answer": {answer}, "csrf": {csrf[1]}})
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "음성은 보관 정책에 따라 삭제되었습니다")
	assert.Contains(t, string(page), answer)
	assert.Contains(t, string(page), "</html>", "the whole page is rendered")

	// KakaoTalk gets the answer.
	var msgs []struct{ Recipient, Status, Text string }
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + fakes.addr + "/_fake/messages?channel=kakao")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		msgs = nil
		return json.NewDecoder(resp.Body).Decode(&msgs) == nil && len(msgs) > 0
	}, 30*time.Second, 20*time.Millisecond)
	require.Len(t, msgs, 1)
	assert.Equal(t, "accepted", msgs[0].Status)
	assert.Equal(t, contact.Mobile, msgs[0].Recipient)
	assert.Contains(t, msgs[0].Text, answer)

	resp, err = web.Get(audioURL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusGone, resp.StatusCode, "the recording is gone once answered")

	// The person comes back to the kiosk with the slip.
	api := uplink.NewCentral(sender)
	rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer rcancel()
	require.Eventually(t, func() bool { return sender.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	got, answered, err := api.QuestionAnswer(rctx, code)
	require.NoError(t, err)
	assert.True(t, answered)
	assert.Equal(t, answer, got)

	// A typed question answered at the kiosk: no message to anyone.
	code2, err := allimi.NewQuestionCode()
	require.NoError(t, err)
	drafts, err = outbox.QuestionDrafts(allimi.QuestionPayload{Code: code2, Lang: "ko", Reply: allimi.ReplyAtKiosk,
		Text: "경로당 난방비 지원도 있나요?"}, allimi.Citizen{}, nil)
	require.NoError(t, err)
	_, err = box.Append(drafts...)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(officialQuestions(t, c, official.Token)) == 2 }, 30*time.Second, 20*time.Millisecond)
	_, answered, err = api.QuestionAnswer(rctx, code2)
	require.NoError(t, err)
	assert.False(t, answered)
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/api/v1/questions/%d/answer", c.http, q.ID+1),
		strings.NewReader(`{"answer":"네, 동절기 난방비를 지원합니다. 주민센터로 오세요."}`))
	req.Header.Set("Authorization", "Bearer "+official.Token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got, answered, err = api.QuestionAnswer(rctx, code2)
	require.NoError(t, err)
	assert.True(t, answered)
	assert.Equal(t, "네, 동절기 난방비를 지원합니다. 주민센터로 오세요.", got)
	resp, err = http.Get("http://" + fakes.addr + "/_fake/messages")
	require.NoError(t, err)
	var all []json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&all))
	resp.Body.Close()
	assert.Len(t, all, 1, "the kiosk-reply question sent nothing")

	// No recording or chunk is left in central's file.
	c.kill()
	store, _, err = bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	defer store.Close()
	recordings, stray, err := store.QuestionAudioCount()
	require.NoError(t, err)
	assert.Zero(t, recordings)
	assert.Zero(t, stray)
}

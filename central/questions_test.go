package central_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/channel"
	"allimi/sync/outbox"
	"allimi/sync/uplink"
	"allimi/sync/wire"
)

// withOfficial stops the fixture's central, registers an official (as
// `allimi central official add` does, central stopped) and starts it again.
func withOfficial(t *testing.T, f *kioskFixture, id string) allimi.OfficialCredentials {
	t.Helper()
	require.NoError(t, f.srv.Close())
	st, _, err := bolt.OpenData(f.data, bolt.StoreOptions{})
	require.NoError(t, err)
	cred, err := st.AddOfficial(id, false)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	f.cfg.HTTP = "127.0.0.1:0"
	f.start(t)
	require.Eventually(t, func() bool { return f.sender.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	return cred
}

// ask leaves a question at the fixture's kiosk, as the kiosk does: its
// records in the outbox, on their way to central. It returns the receipt
// code.
func ask(t *testing.T, f *kioskFixture, q allimi.QuestionPayload, contact allimi.Citizen, pcm []byte) string {
	t.Helper()
	code, err := allimi.NewQuestionCode()
	require.NoError(t, err)
	q.Code = code
	drafts, err := outbox.QuestionDrafts(q, contact, pcm)
	require.NoError(t, err)
	_, err = f.outbox.Append(drafts...)
	require.NoError(t, err)
	return code
}

// answer posts an official's answer to question id through the API.
func answer(t *testing.T, base, token string, id uint64, text string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+fmt.Sprintf("/api/v1/questions/%d/answer", id), strings.NewReader(fmt.Sprintf(`{"answer":%q}`, text)))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func apiQuestions(t *testing.T, base, token string) []allimi.Question {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/questions?all=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct{ Questions []allimi.Question }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body.Questions
}

func TestQuestions_FromKioskToOfficialToPhoneWithSMSFallback(t *testing.T) {
	f := newKioskFixture(t)
	cred := withOfficial(t, f, "kim.minji")
	base := "http://" + f.srv.HTTPAddr()
	require.NoError(t, f.fake.SetFault(channel.Fault{Channel: allimi.ChannelKakao, Kind: channel.FaultNotUser, Rate: 1}))

	pcm := make([]byte, 2*allimi.QuestionChunkSize+640)
	for i := range pcm {
		pcm[i] = byte(i % 251)
	}
	contact := allimi.Citizen{Name: "박순자", Mobile: "010-2222-3333"}
	code := ask(t, f, allimi.QuestionPayload{Lang: "ko", Reply: "kakao"}, contact, pcm)

	var q allimi.Question
	require.Eventually(t, func() bool {
		qs := apiQuestions(t, base, cred.Token)
		if len(qs) == 1 {
			q = qs[0]
		}
		return len(qs) == 1
	}, 20*time.Second, 20*time.Millisecond)
	assert.Empty(t, q.Damaged)
	assert.Equal(t, code, q.Code)

	// Before the answer, the kiosk hears "not yet".
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, answered, err := f.api.QuestionAnswer(ctx, code)
	require.NoError(t, err)
	assert.False(t, answered)

	// Signed out: no page, no recording.
	resp, err := http.Get(base + fmt.Sprintf("/officials/questions/%d/audio", q.ID))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar}
	resp, err = web.PostForm(base+"/officials/login", url.Values{"id": {"kim.minji"}, "token": {"wrong"}})
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, string(page), "아이디나 토큰이 맞지 않습니다.")
	resp, err = web.PostForm(base+"/officials/login", url.Values{"id": {"kim.minji"}, "token": {cred.Token}})
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "답변을 기다리는 질문 1건")

	resp, err = web.Get(base + fmt.Sprintf("/officials/questions/%d", q.ID))
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(page), "<audio controls")
	assert.Contains(t, string(page), "2.1초", "the recording's length")
	assert.Contains(t, string(page), "답변하기", "the whole page is rendered, down to the answer form")
	assert.Contains(t, string(page), "</html>")
	assert.Contains(t, string(page), "박*자, 010-****-3333")
	assert.NotContains(t, string(page), "010-2222-3333")
	csrf := csrfOf(t, string(page))

	resp, err = web.Get(base + fmt.Sprintf("/officials/questions/%d/audio", q.ID))
	require.NoError(t, err)
	wav, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "audio/wav", resp.Header.Get("Content-Type"))
	require.Len(t, wav, 44+len(pcm))
	assert.Equal(t, "RIFF", string(wav[:4]))
	assert.Equal(t, pcm, wav[44:])
	req, _ := http.NewRequest(http.MethodGet, base+fmt.Sprintf("/officials/questions/%d/audio", q.ID), nil)
	req.Header.Set("Range", "bytes=44-99")
	resp, err = web.Do(req)
	require.NoError(t, err)
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode, "players seek with ranges")
	assert.Equal(t, pcm[:56], part)

	answer := "기초연금은 주민센터 2층 복지팀에서 신청하실 수 있습니다. 신분증을 가져오세요."
	noRedirect := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.PostForm(base+fmt.Sprintf("/officials/questions/%d/answer", q.ID), url.Values{"answer": {"  "}, "csrf": {csrf}})
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "an empty answer is refused")
	assert.Contains(t, string(page), "답변을 저장하지 못했습니다. 비어 있지 않은지, 800자를 넘지 않는지 확인해 주세요.")
	resp, err = noRedirect.PostForm(base+fmt.Sprintf("/officials/questions/%d/answer", q.ID), url.Values{"answer": {answer}, "csrf": {csrf}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	// KakaoTalk refuses her (not a user): the answer goes by SMS/LMS.
	var sms []channel.FakeMessage
	require.Eventually(t, func() bool { sms = f.smsTo(contact.Mobile); return len(sms) > 0 }, 20*time.Second, 20*time.Millisecond)
	require.Len(t, sms, 1)
	assert.Contains(t, sms[0].Text, answer)
	assert.Contains(t, sms[0].Text, code)
	kakao := f.fake.Messages(allimi.ChannelKakao)
	require.Len(t, kakao, 1)
	assert.Equal(t, "rejected", kakao[0].Status)
	require.Eventually(t, func() bool {
		qs := apiQuestions(t, base, cred.Token)
		return len(qs) == 1 && qs[0].Delivery == "sms (fallback from kakao)"
	}, 10*time.Second, 20*time.Millisecond)

	resp, err = web.Get(base + fmt.Sprintf("/officials/questions/%d/audio", q.ID))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusGone, resp.StatusCode, "the recording is deleted once answered")

	got, answered, err := f.api.QuestionAnswer(ctx, strings.ToLower(strings.ReplaceAll(code, "-", "")))
	require.NoError(t, err)
	assert.True(t, answered)
	assert.Equal(t, answer, got)

	// The JSON API refuses a second answer and a malformed body.
	for _, tc := range []struct {
		body string
		want int
		msg  string
	}{
		{`{"answer":"다른 답"}`, http.StatusConflict, "already answered by kim.minji"},
		{`{"answr":"x"}`, http.StatusBadRequest, `unknown field \"answr\"`},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+fmt.Sprintf("/api/v1/questions/%d/answer", q.ID), strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+cred.Token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, tc.want, resp.StatusCode)
		assert.Contains(t, string(b), tc.msg)
	}
}

func TestQuestions_UnknownCodesAreRefusedThenLimitedPerKiosk(t *testing.T) {
	f := newKioskFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := f.api.QuestionAnswer(ctx, "not a code")
	var re *uplink.ReplyError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid", re.Code)
	for i := 0; i < 9; i++ {
		_, _, err = f.api.QuestionAnswer(ctx, "ZZZZZ-ZZZZZ")
		require.ErrorAs(t, err, &re)
		require.Equal(t, "not-found", re.Code, "try %d", i+2)
		assert.Contains(t, re.Msg, "no such question")
	}
	_, _, err = f.api.QuestionAnswer(ctx, "ZZZZZ-ZZZZZ")
	require.True(t, errors.As(err, &re))
	assert.Equal(t, "too-many-tries", re.Code)
}

// csrfOf is the anti-forgery token in a page's forms.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, m, "the page's forms carry an anti-forgery token")
	return m[1]
}

func TestOfficials_SessionsSurviveARestartButNotANewTokenOrTampering(t *testing.T) {
	f := newKioskFixture(t)
	cred := withOfficial(t, f, "kim.minji")
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := web.PostForm("http://"+f.srv.HTTPAddr()+"/officials/login", url.Values{"id": {"kim.minji"}, "token": {cred.Token}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "allimi_official" {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	assert.True(t, cookie.HttpOnly)

	status := func(c *http.Cookie) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+f.srv.HTTPAddr()+"/officials/questions", nil)
		req.AddCookie(c)
		resp, err := (&http.Client{CheckRedirect: web.CheckRedirect}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, status(cookie))
	tampered := *cookie
	tampered.Value = "A" + cookie.Value[1:]
	if cookie.Value[0] == 'A' {
		tampered.Value = "B" + cookie.Value[1:]
	}
	assert.Equal(t, http.StatusSeeOther, status(&tampered), "a session id central did not give is refused")

	// A restart keeps the session; a new token ends it.
	require.NoError(t, f.srv.Close())
	f.start(t)
	assert.Equal(t, http.StatusOK, status(cookie))
	require.NoError(t, f.srv.Close())
	st, _, err := bolt.OpenData(f.data, bolt.StoreOptions{})
	require.NoError(t, err)
	_, err = st.AddOfficial("kim.minji", true)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	f.start(t)
	assert.Equal(t, http.StatusSeeOther, status(cookie), "sessions of the old token end with --rotate")
}

// questionEvent builds a question-kind event of kiosk k1 whose payload is
// given raw, as a faulty or hostile kiosk might send it.
func questionEvent(seq uint64, kind string, c allimi.Citizen, payload string) allimi.Event {
	return allimi.Event{V: 1, Kiosk: "k1", Seq: seq, HLC: allimi.NextHLC(0, time.Now()), Kind: kind, Citizen: c,
		Payload: json.RawMessage(payload)}
}

func TestIngest_MalformedQuestionsAreRefusedAndStoredDataIsIntact(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	official, err := st.AddOfficial("kim", false)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	up := wire.UpTopic("k1")

	// A good typed question first.
	good := questionEvent(1, allimi.KindQuestion, allimi.Citizen{}, `{"code":"ABCDE-FGHJK","lang":"ko","text":"질문","reply":"kiosk","audioBytes":0,"chunks":0}`)
	rk.publish(t, up, marshal(t, good))
	rk.waitAck(t, 1)

	contact := allimi.Citizen{Name: "박순자", Mobile: "010-2222-3333"}
	bad := []struct {
		name   string
		event  allimi.Event
		reason string
	}{
		{"truncated chunk", questionEvent(2, allimi.KindQuestionAudio, allimi.Citizen{},
			`{"code":"BCDEF-GHJKL","index":0,"chunks":2,"size":40000,"data":"AAAA"}`), "chunk 0 of 2 has 3 bytes, must have 32768"},
		{"garbage base64", questionEvent(2, allimi.KindQuestionAudio, allimi.Citizen{},
			`{"code":"BCDEF-GHJKL","index":0,"chunks":1,"size":4,"data":"!!!!"}`), "illegal base64"},
		{"over 60 s", questionEvent(2, allimi.KindQuestion, allimi.Citizen{},
			`{"code":"BCDEF-GHJKL","lang":"ko","reply":"kiosk","audioBytes":1920002,"chunks":59,"sha256":"`+strings.Repeat("a", 64)+`"}`),
			"record a shorter question"},
		{"unknown reply channel", questionEvent(2, allimi.KindQuestion, contact,
			`{"code":"BCDEF-GHJKL","lang":"ko","text":"q","reply":"fax","audioBytes":0,"chunks":0}`), `payload.reply "fax"`},
		{"number not a mobile", questionEvent(2, allimi.KindQuestion, allimi.Citizen{Name: "박순자", Mobile: "02-555-1234"},
			`{"code":"BCDEF-GHJKL","lang":"ko","text":"q","reply":"sms","audioBytes":0,"chunks":0}`),
			"citizen: invalid mobile number (value withheld: personal data)"},
	}
	for _, b := range bad {
		rk.publish(t, up, marshal(t, b.event))
	}
	ok := questionEvent(2, allimi.KindQuestion, allimi.Citizen{}, `{"code":"CDEFG-HJKLM","lang":"ko","text":"두 번째","reply":"kiosk","audioBytes":0,"chunks":0}`)
	rk.publish(t, up, marshal(t, ok))
	rk.waitAck(t, 2)

	s := tc.stats(t)
	assert.EqualValues(t, 2, s.Records.Stored)
	assert.EqualValues(t, len(bad), s.Records.Rejected)
	resp := getAs(t, tc.http+"/api/v1/rejections", adminToken(t, tc.cfg.Data))
	var rj struct{ Rejections []allimi.Rejection }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rj))
	resp.Body.Close()
	for _, b := range bad {
		found := false
		for _, got := range rj.Rejections {
			found = found || strings.Contains(got.Reason, b.reason)
			assert.NotContains(t, got.Reason, "02-555-1234", "no personal data in the rejection list")
		}
		assert.True(t, found, "%s: no rejection mentions %q", b.name, b.reason)
	}
	qs := apiQuestions(t, tc.http, official.Token)
	require.Len(t, qs, 2, "the good questions are intact, nothing of the bad ones stored")
	assert.Equal(t, "두 번째", qs[0].Text)
	assert.Equal(t, "질문", qs[1].Text)
}

func TestQuestions_SixtySecondsArriveWholeThroughTheEmbeddedBroker(t *testing.T) {
	f := newKioskFixture(t)
	cred := withOfficial(t, f, "kim")
	pcm := make([]byte, allimi.MaxQuestionAudioBytes)
	for i := range pcm {
		pcm[i] = byte(i * 13)
	}
	code, err := allimi.NewQuestionCode()
	require.NoError(t, err)
	drafts, err := outbox.QuestionDrafts(allimi.QuestionPayload{Code: code, Lang: "ko", Reply: "kiosk"}, allimi.Citizen{}, pcm)
	require.NoError(t, err)
	require.Len(t, drafts, allimi.MaxQuestionChunks+1)
	start := time.Now()
	_, err = f.outbox.Append(drafts...)
	require.NoError(t, err)
	appended := time.Since(start)
	require.Eventually(t, func() bool {
		st, err := f.outbox.State()
		return err == nil && st.Pending == 0
	}, 60*time.Second, 10*time.Millisecond)
	t.Logf("60 s question: appended in %s, acknowledged by central %s after the append", appended, time.Since(start)-appended)
	qs := apiQuestions(t, "http://"+f.srv.HTTPAddr(), cred.Token)
	require.Len(t, qs, 1)
	assert.Empty(t, qs[0].Damaged)
	assert.Equal(t, allimi.MaxQuestionAudioBytes, qs[0].AudioBytes)
	assert.Equal(t, "kept", qs[0].Audio)
}

func TestQuestions_AnswerWaitsOutAnOutageAcrossARestartAndIsSentOnce(t *testing.T) {
	f := newKioskFixture(t)
	cred := withOfficial(t, f, "kim")
	require.NoError(t, f.fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultError, Rate: 1}))
	contact := allimi.Citizen{Name: "최영호", Mobile: "010-4444-5555"}
	ask(t, f, allimi.QuestionPayload{Lang: "ko", Reply: "sms", Text: "버스 요금 할인은 몇 살부터인가요?"}, contact, nil)
	base := "http://" + f.srv.HTTPAddr()
	require.Eventually(t, func() bool { return len(apiQuestions(t, base, cred.Token)) == 1 }, 20*time.Second, 20*time.Millisecond)
	id := apiQuestions(t, base, cred.Token)[0].ID

	answer(t, base, cred.Token, id, "만 65세부터입니다.")
	// The gateway fails the first try; the answer stays queued.
	require.Eventually(t, func() bool { return f.fake.Stats().Faults[allimi.ChannelSMS] > 0 }, 20*time.Second, 10*time.Millisecond)
	assert.Empty(t, f.smsTo(contact.Mobile))
	assert.Equal(t, "queued", apiQuestions(t, base, cred.Token)[0].Delivery)

	require.NoError(t, f.srv.Close())
	require.NoError(t, f.fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultError, Rate: 0}))
	f.start(t)
	base = "http://" + f.srv.HTTPAddr()
	require.Eventually(t, func() bool { return len(f.smsTo(contact.Mobile)) > 0 }, 20*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return apiQuestions(t, base, cred.Token)[0].Delivery == "sms" }, 20*time.Second, 10*time.Millisecond)
	sms := f.smsTo(contact.Mobile)
	require.Len(t, sms, 1, "sent once")
	assert.Contains(t, sms[0].Text, "만 65세부터입니다.")
}

// The slip's QR code leads to /r/{code}: it says whether an official has
// answered, then shows the answer; each look is in the audit log.
func TestQuestions_SlipPageShowsTheAnswerOnceGiven(t *testing.T) {
	f := newKioskFixture(t)
	cred := withOfficial(t, f, "kim")
	code := ask(t, f, allimi.QuestionPayload{Lang: "ko", Reply: "kiosk", Text: "등본은 어디서 떼나요?"}, allimi.Citizen{}, nil)
	base := "http://" + f.srv.HTTPAddr()
	require.Eventually(t, func() bool { return len(apiQuestions(t, base, cred.Token)) == 1 }, 20*time.Second, 20*time.Millisecond)
	id := apiQuestions(t, base, cred.Token)[0].ID

	page := func(code string) (int, string) {
		resp, err := http.Get(base + "/r/" + code)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		require.Contains(t, string(b), "</html>", "the whole page")
		return resp.StatusCode, string(b)
	}
	audited := func() int {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/audit/verify", nil)
		req.Header.Set("Authorization", "Bearer "+f.admin)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var r allimi.AuditReport
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		require.Zero(t, r.Broken)
		return r.Entries
	}
	before := audited()
	status, body := page(code)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, before+1, audited(), "a look at the question is audited")
	assert.Contains(t, body, "등본은 어디서 떼나요?")
	assert.Contains(t, body, "아직 답변이 없습니다")

	given := "가까운 행정복지센터나 정부24에서\n무료로 떼실 수 있습니다."
	answer(t, base, cred.Token, id, given)

	// As a person types it from the slip: lower case, no dash.
	status, body = page(strings.ToLower(strings.ReplaceAll(code, "-", "")))
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "가까운 행정복지센터나 정부24에서\n무료로 떼실 수 있습니다.")
	assert.NotContains(t, body, "아직 답변이 없습니다")
	assert.Equal(t, before+3, audited(), "the answer, then the second look")

	// A code that is no question's is the sign-up receipt's form, as before.
	other, err := allimi.NewQuestionCode()
	require.NoError(t, err)
	_, body = page(other)
	assert.Contains(t, body, "생년월일")
	assert.NotContains(t, body, "답변")
	assert.Equal(t, before+3, audited(), "no question, no view")
}

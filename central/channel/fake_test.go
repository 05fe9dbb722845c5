package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func TestFake_MessagesEndpointListsByChannel(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	for _, ch := range []allimi.Channel{allimi.ChannelKakao, allimi.ChannelToss} {
		_, err := env.adapters[ch].Send(context.Background(), testMessages(ch, string(ch), 2))
		require.NoError(t, err)
	}
	var kakao []map[string]any
	getJSON(t, env.srv.URL+"/_fake/messages?channel=kakao", &kakao)
	require.Len(t, kakao, 2)
	m := kakao[0]
	assert.Equal(t, "kakao", m["channel"])
	assert.Equal(t, "010-2000-0000", m["recipient"])
	assert.Equal(t, "accepted", m["status"])
	assert.Equal(t, "kakao-0", m["idempotencyKey"])
	assert.Equal(t, "[알리미] 홍길동0님, 건강검진 안내입니다. 자세히 보기: https://allimi.example/n/kakao0", m["text"])

	var all []map[string]any
	getJSON(t, env.srv.URL+"/_fake/messages", &all)
	assert.Len(t, all, 4)

	resp, err := http.Get(env.srv.URL + "/_fake/messages?channel=pigeon")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestFake_StatsAndReset(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Faults: []Fault{{Channel: allimi.ChannelToss, Kind: FaultNotUser, Rate: 1}}}, nil)
	_, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "s", 3))
	require.NoError(t, err)
	_, err = env.adapters[allimi.ChannelToss].Send(context.Background(), testMessages(allimi.ChannelToss, "s", 2))
	require.NoError(t, err)

	var st map[string]map[string]any
	getJSON(t, env.srv.URL+"/_fake/stats", &st)
	assert.EqualValues(t, 3, st["accepted"]["kakao"])
	assert.EqualValues(t, 0, st["accepted"]["toss"])
	assert.EqualValues(t, 2, st["rejected"]["toss"])
	assert.EqualValues(t, 0, st["duplicates"]["kakao"])
	assert.EqualValues(t, 1, st["requests"]["kakao"])
	assert.EqualValues(t, 0, st["requests"]["naver"], "every channel is listed")

	req, _ := http.NewRequest(http.MethodDelete, env.srv.URL+"/_fake/messages", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Empty(t, env.fake.Messages(""))
	assert.Zero(t, env.fake.Stats().Accepted[allimi.ChannelKakao])
	// After a reset the same keys are new again.
	res, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "s", 3))
	require.NoError(t, err)
	assert.Equal(t, Accepted, res[0].Status)
	assert.EqualValues(t, 3, env.fake.Stats().Accepted[allimi.ChannelKakao])
}

func TestFake_LeanKeepsKeysNotTexts(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, nil)
	batch := testMessages(allimi.ChannelKakao, "lean", 5)
	_, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	_, err = env.adapters[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	got := env.fake.Messages(allimi.ChannelKakao)
	require.Len(t, got, 5)
	for i, m := range got {
		assert.Equal(t, batch[i].Key, m.IdempotencyKey)
		assert.Equal(t, "accepted", m.Status)
		assert.Empty(t, m.Text)
	}
	assert.EqualValues(t, 5, env.fake.Stats().Duplicates[allimi.ChannelKakao], "dedupe still works")
}

func TestFake_MalformedRequestsAre400InTheProviderShape(t *testing.T) {
	f := NewFake(FakeOptions{Logger: quiet})
	defer f.Close()
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	cfg := DefaultConfig()
	kakaoURL := srv.URL + "/alimtalk/v2.3/appkeys/" + cfg.Kakao.AppKey + "/messages"
	smsURL := srv.URL + "/sms/v3.0/appKeys/" + cfg.SMS.AppKey + "/sender/sms"
	tossURL := srv.URL + "/toss/v1/push"
	naverURL := srv.URL + "/naver/v1/notices"
	for _, tc := range []struct {
		name, url, ctype, body, want string
		header                       map[string]string
	}{
		{"kakao not JSON", kakaoURL, "application/json", "{", `"resultCode":-9997`, map[string]string{"X-Secret-Key": cfg.Kakao.SecretKey}},
		{"kakao not JSON content type", kakaoURL, "text/plain", "{}", `"resultCode":-9996`, map[string]string{"X-Secret-Key": cfg.Kakao.SecretKey}},
		{"kakao no recipients", kakaoURL, "application/json", `{"senderKey":"` + cfg.Kakao.SenderKey + `","templateCode":"T","recipientList":[]}`,
			`"resultCode":-2001`, map[string]string{"X-Secret-Key": cfg.Kakao.SecretKey}},
		{"kakao unknown sender key", kakaoURL, "application/json", `{"senderKey":"x","templateCode":"T","recipientList":[{"recipientNo":"01012345678"}]}`,
			`"resultCode":-2017`, map[string]string{"X-Secret-Key": cfg.Kakao.SecretKey}},
		{"sms wrong field type", smsURL, "application/json", `{"body":1}`, `"resultCode":-9997`, map[string]string{"X-Secret-Key": cfg.SMS.SecretKey}},
		{"sms no body", smsURL, "application/json", `{"sendNo":"15880000","recipientList":[{"recipientNo":"01012345678"}]}`,
			`"resultCode":-2014`, map[string]string{"X-Secret-Key": cfg.SMS.SecretKey}},
		{"toss no key", tossURL, "application/json", `{"messages":[{"phone":"01012345678","body":"x"}]}`, `"INVALID_REQUEST"`,
			map[string]string{"Authorization": "Bearer " + cfg.Toss.Token, "Idempotency-Key": "k"}},
		{"toss no idempotency key", tossURL, "application/json", `{"messages":[]}`, `"INVALID_REQUEST"`,
			map[string]string{"Authorization": "Bearer " + cfg.Toss.Token}},
		{"naver no key", naverURL, "application/json", `{"messages":[{"phone":"01012345678","body":"x"}]}`, `"INVALID_REQUEST"`,
			map[string]string{"Authorization": "Bearer " + cfg.NaverApp.Token, "Idempotency-Key": "k"}},
		{"naver too many", naverURL, "application/json", `{"messages":[` + strings.Repeat(`{"key":"k","phone":"01012345678","body":"x"},`, 100) +
			`{"key":"k","phone":"01012345678","body":"x"}]}`, `"INVALID_REQUEST"`,
			map[string]string{"Authorization": "Bearer " + cfg.NaverApp.Token, "Idempotency-Key": "k"}},
		{"naver no idempotency key", naverURL, "application/json", `{"messages":[]}`, `"INVALID_REQUEST"`,
			map[string]string{"Authorization": "Bearer " + cfg.NaverApp.Token}},
		{"naver not JSON", naverURL, "application/json", `{`, `"code":"-9997"`,
			map[string]string{"Authorization": "Bearer " + cfg.NaverApp.Token, "Idempotency-Key": "k"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(b))
			assert.Contains(t, string(b), tc.want)
		})
	}
}

func TestFake_InboxShowsEachPhonesMessagesNewestFirst(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	k := testMessages(allimi.ChannelKakao, "ib", 1)
	s := testMessages(allimi.ChannelSMS, "ib2", 1)
	s[0].Text = "[알리미] 두 번째 <안내>"
	_, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), k)
	require.NoError(t, err)
	_, err = env.adapters[allimi.ChannelSMS].Send(context.Background(), s) // the same phone
	require.NoError(t, err)

	resp, err := http.Get(env.srv.URL + "/_fake/inbox")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	assert.Equal(t, 1, strings.Count(page, `<div class="number">010-2000-0000</div>`), "one card per phone")
	assert.Contains(t, page, `class="badge kakao"`)
	assert.Contains(t, page, `class="badge sms"`)
	assert.Contains(t, page, "두 번째 &lt;안내&gt;", "texts are escaped")
	assert.Less(t, strings.Index(page, "두 번째"), strings.Index(page, "홍길동0님"), "newest first")
}

// receiptSink is central's receipt webhook, for tests: it hands each
// receipt to the test.
type receiptSink struct {
	srv  *httptest.Server
	got  chan Receipt
	fail int // answer this many POSTs with 503 first
	mu   sync.Mutex
}

func newReceiptSink(t *testing.T, fail int) *receiptSink {
	s := &receiptSink{got: make(chan Receipt, 10000), fail: fail}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.fail > 0 {
			s.fail--
			s.mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		s.mu.Unlock()
		var b ReceiptBatch
		if r.URL.Path != "/api/v1/receipts" || json.NewDecoder(r.Body).Decode(&b) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, rc := range b.Receipts {
			s.got <- rc
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// wait collects n receipts, or fails after a generous deadline.
func (s *receiptSink) wait(t *testing.T, n int) map[string]Receipt {
	t.Helper()
	out := map[string]Receipt{}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for len(out) < n {
		select {
		case rc := <-s.got:
			out[rc.IdempotencyKey] = rc
		case <-deadline.C:
			t.Fatalf("got %d receipts of %d", len(out), n)
		}
	}
	return out
}

func TestFake_PostsReceiptsNamingTheKeys(t *testing.T) {
	for _, tc := range []struct {
		name          string
		undeliverable float64
		failFirst     int
		want          string
	}{
		{"delivered", 0, 0, ReceiptDelivered},
		{"undeliverable", 1, 0, ReceiptFailed},
		{"webhook down at first", 0, 2, ReceiptDelivered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := newReceiptSink(t, tc.failFirst)
			env := newFakeEnv(t, FakeOptions{ReceiptsURL: sink.srv.URL + "/api/v1/receipts", Undeliverable: tc.undeliverable,
				ReceiptInterval: 5 * time.Millisecond}, nil)
			batch := testMessages(allimi.ChannelKakao, "rc", 30)
			res, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), batch)
			require.NoError(t, err)
			got := sink.wait(t, len(batch))
			for i, m := range batch {
				rc, ok := got[m.Key]
				require.True(t, ok, m.Key)
				assert.Equal(t, allimi.ChannelKakao, rc.Channel)
				assert.Equal(t, tc.want, rc.Status)
				assert.Equal(t, res[i].ProviderID, rc.ProviderID)
				assert.False(t, rc.At.IsZero())
				if tc.want == ReceiptFailed {
					assert.NotEmpty(t, rc.Reason)
				}
			}
			st := env.fake.Stats().Receipts
			assert.EqualValues(t, 0, st.Dropped)
			if tc.failFirst > 0 {
				assert.GreaterOrEqual(t, st.FailedPosts, int64(1))
			}
		})
	}
}

func TestFake_NoReceiptForADuplicateOrARejection(t *testing.T) {
	sink := newReceiptSink(t, 0)
	env := newFakeEnv(t, FakeOptions{ReceiptsURL: sink.srv.URL + "/api/v1/receipts", ReceiptInterval: 5 * time.Millisecond}, nil)
	batch := testMessages(allimi.ChannelToss, "dup", 3)
	batch[2].Recipient = "010-2000-00" // refused locally, never sent
	for range 2 {
		_, err := env.adapters[allimi.ChannelToss].Send(context.Background(), batch)
		require.NoError(t, err)
	}
	require.NoError(t, env.fake.Close()) // flushes what is queued
	got := sink.wait(t, 2)
	assert.Len(t, got, 2)
	select {
	case rc := <-sink.got:
		t.Fatalf("unexpected receipt %+v", rc)
	default:
	}
}

func TestFake_ReceiptQueueIsBounded(t *testing.T) {
	// Nothing listens at the webhook: receipts pile up to the bound.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	env := newFakeEnv(t, FakeOptions{ReceiptsURL: url, ReceiptQueue: 10, ReceiptInterval: time.Hour}, nil)
	_, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "q", 25))
	require.NoError(t, err)
	st := env.fake.Stats().Receipts
	assert.EqualValues(t, 10, st.Queued)
	assert.EqualValues(t, 15, st.Dropped)
}

func TestParseFault(t *testing.T) {
	got, err := ParseFault("kakao=notuser:0.1")
	require.NoError(t, err)
	assert.Equal(t, []Fault{{allimi.ChannelKakao, FaultNotUser, 0.1}}, got)
	got, err = ParseFault(" sms = error:1, ratelimit:0.5 ")
	require.NoError(t, err)
	assert.Equal(t, []Fault{{allimi.ChannelSMS, FaultError, 1}, {allimi.ChannelSMS, FaultRateLimit, 0.5}}, got)
	got, err = ParseFault("kakao.sens=outage:1")
	require.NoError(t, err, "one of kakao's providers")
	assert.Equal(t, []Fault{{FakeSENS, FaultOutage, 1}}, got)
	for _, bad := range []string{"kakao", "kakao=notuser", "pigeon=error:1", "kakao=meltdown:1", "kakao=error:2", "kakao=error:x", "kakao=error:NaN", "kakao.pigeon=error:1"} {
		t.Run(bad, func(t *testing.T) {
			_, err := ParseFault(bad)
			assert.Error(t, err)
		})
	}
}

func TestFake_RandomFaultsAreReproducibleWithASeed(t *testing.T) {
	run := func() []bool {
		env := newFakeEnv(t, FakeOptions{Seed: 42, Faults: []Fault{{Channel: allimi.ChannelToss, Kind: FaultError, Rate: 0.5}}}, nil)
		var out []bool
		for i := range 20 {
			_, err := env.adapters[allimi.ChannelToss].Send(context.Background(), testMessages(allimi.ChannelToss, "r"+string(rune('a'+i)), 1))
			out = append(out, err == nil)
		}
		return out
	}
	first := run()
	assert.Equal(t, first, run())
	assert.Contains(t, first, true)
	assert.Contains(t, first, false)
}

func TestFake_Latency(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Latency: time.Hour}, func(c *Config) { c.Toss.Timeout = 30 * time.Millisecond })
	_, err := env.adapters[allimi.ChannelToss].Send(context.Background(), testMessages(allimi.ChannelToss, "lat", 1))
	var ue *UnavailableError
	require.ErrorAs(t, err, &ue, "an hour is past the request timeout")
}

// A fault on "kakao" strikes both of its providers; "kakao.nhn" and
// "kakao.sens" one each, set at start or at run time.
func TestFake_KakaoFaultsByProvider(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Faults: []Fault{{Channel: allimi.ChannelKakao, Kind: FaultError, Rate: 1}}}, nil)
	assert.Equal(t, "error:1", env.fake.Faults()[FakeNHN])
	assert.Equal(t, "error:1", env.fake.Faults()[FakeSENS])
	assert.Equal(t, "error:1", env.fake.Faults()[allimi.ChannelKakao])

	resp, err := http.Post(env.srv.URL+"/_fake/faults", "application/json", strings.NewReader(`{"kakao.sens":"none","kakao.nhn":"outage:1"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "error:1,outage:1", env.fake.Faults()[FakeNHN])
	assert.Empty(t, env.fake.Faults()[FakeSENS])

	// The kakao channel then goes through SENS (after NHN's failures) and
	// the fake lists it under kakao, and under kakao.sens.
	a := env.adapters[allimi.ChannelKakao]
	for i := range defaultFailoverAfter - 1 {
		_, err := a.Send(context.Background(), testMessages(allimi.ChannelKakao, fmt.Sprint("f", i), 1))
		require.Error(t, err)
	}
	_, err = a.Send(context.Background(), testMessages(allimi.ChannelKakao, "ok", 2))
	require.NoError(t, err)
	var sens []map[string]any
	getJSON(t, env.srv.URL+"/_fake/messages?channel=kakao.sens", &sens)
	require.Len(t, sens, 2, "NHN failed, and did not have it")
	assert.Equal(t, "kakao", sens[0]["channel"])
	assert.Equal(t, "kakao.sens", sens[0]["provider"])
	assert.Len(t, env.fake.Messages(allimi.ChannelKakao), 2)
	assert.Empty(t, env.fake.Messages(FakeNHN))
	var st struct {
		Accepted  map[string]int64            `json:"accepted"`
		Providers map[string]map[string]int64 `json:"providers"`
	}
	getJSON(t, env.srv.URL+"/_fake/stats", &st)
	assert.EqualValues(t, 2, st.Accepted["kakao"])
	assert.EqualValues(t, 2, st.Providers["kakao.sens"]["accepted"])
	assert.EqualValues(t, defaultFailoverAfter, st.Providers["kakao.nhn"]["faults"])
}

package channel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// wireEnv is a fake behind a recorder: the adapters' requests are checked
// by the fake and kept for the test to read as raw JSON.
func wireEnv(t *testing.T, change func(*Config)) (*recorder, map[allimi.Channel]Adapter, Config) {
	t.Helper()
	f := NewFake(FakeOptions{Logger: quiet, Templates: map[string]string{testTemplateCode: testTemplate}})
	rec := &recorder{next: f.Handler(), reqs: make(chan recorded, 16)}
	srv := httptest.NewServer(rec)
	t.Cleanup(func() { srv.Close(); f.Close() })
	cfg := DefaultConfig()
	cfg.SetBaseURL(srv.URL)
	if change != nil {
		change(&cfg)
	}
	ads, err := New(cfg, nil)
	require.NoError(t, err)
	SetLogger(ads, quiet)
	return rec, ads, cfg
}

func lastRequest(t *testing.T, rec *recorder) (recorded, map[string]any) {
	t.Helper()
	select {
	case r := <-rec.reqs:
		var body map[string]any
		require.NoError(t, json.Unmarshal(r.body, &body), string(r.body))
		return r, body
	default:
		t.Fatal("no request was recorded")
	}
	return recorded{}, nil
}

func obj(t *testing.T, v any, path string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%s is not an object: %#v", path, v)
	return m
}

func list(t *testing.T, v any, path string) []any {
	t.Helper()
	l, ok := v.([]any)
	require.True(t, ok, "%s is not a list: %#v", path, v)
	return l
}

func TestKakao_RequestHasNHNAlimTalkShape(t *testing.T) {
	rec, ads, cfg := wireEnv(t, nil)
	batch := testMessages(allimi.ChannelKakao, "wire", 2)
	batch[0].Fallback = &Fallback{Title: "건강검진 안내", Text: "[알리미] 긴 대체 문자", LMS: true}
	batch[1].Fallback = &Fallback{Text: "[알리미] 짧은 대체 문자"}
	_, err := ads[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)

	r, body := lastRequest(t, rec)
	assert.Equal(t, "POST", r.method)
	assert.Equal(t, "/alimtalk/v2.3/appkeys/"+cfg.Kakao.AppKey+"/messages", r.uri)
	assert.Equal(t, cfg.Kakao.SecretKey, r.header.Get("X-Secret-Key"))
	assert.Equal(t, "application/json;charset=UTF-8", r.header.Get("Content-Type"))
	assert.Equal(t, cfg.Kakao.SenderKey, body["senderKey"])
	assert.Equal(t, testTemplateCode, body["templateCode"])
	rl := list(t, body["recipientList"], "recipientList")
	require.Len(t, rl, 2)

	r0 := obj(t, rl[0], "recipientList[0]")
	assert.Equal(t, digitsOf(t, batch[0].Recipient), r0["recipientNo"], "digits only")
	assert.Equal(t, batch[0].Key, r0["recipientGroupingKey"])
	assert.Equal(t, map[string]any{"name": "홍길동0", "link": batch[0].Link}, r0["templateParameter"])
	assert.NotContains(t, r0, "content", "/messages carries parameters, not the text")
	assert.Equal(t, map[string]any{"isResend": true, "resendType": "LMS", "resendTitle": "건강검진 안내",
		"resendContent": "[알리미] 긴 대체 문자", "resendSendNo": cfg.Kakao.ResendSendNo}, r0["resendParameter"])

	r1 := obj(t, rl[1], "recipientList[1]")
	assert.Equal(t, map[string]any{"isResend": true, "resendType": "SMS",
		"resendContent": "[알리미] 짧은 대체 문자", "resendSendNo": cfg.Kakao.ResendSendNo}, r1["resendParameter"])
	assert.Len(t, r0, 4, "recipientNo, templateParameter, resendParameter, recipientGroupingKey: %v", r0)
}

func TestKakao_RawRequestCarriesContent(t *testing.T) {
	rec, ads, cfg := wireEnv(t, func(c *Config) { c.Kakao.Raw = true })
	batch := testMessages(allimi.ChannelKakao, "raw", 1)
	_, err := ads[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	r, body := lastRequest(t, rec)
	assert.Equal(t, "/alimtalk/v2.3/appkeys/"+cfg.Kakao.AppKey+"/raw-messages", r.uri)
	r0 := obj(t, list(t, body["recipientList"], "recipientList")[0], "recipientList[0]")
	assert.Equal(t, batch[0].Text, r0["content"])
	assert.Equal(t, batch[0].Title, r0["templateTitle"])
	assert.NotContains(t, r0, "templateParameter")
}

// SENS carries the kakao channel when NHN cannot be reached (failover.go).
func TestKakao_SENSRequestHasSENSShapeAndSignature(t *testing.T) {
	rec, ads, cfg := wireEnv(t, func(c *Config) { c.Kakao.URL = closedURL(t) })
	batch := testMessages(allimi.ChannelKakao, "sens", 2)
	batch[0].Fallback = &Fallback{Title: "건강검진 안내", Text: "[알리미] 대체 문자", LMS: true}
	before := time.Now().UnixMilli()
	res, err := ads[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	assert.Equal(t, Accepted, res[0].Status)
	assert.Equal(t, "A000", res[0].Code)

	r, body := lastRequest(t, rec)
	path := "/alimtalk/v2/services/" + cfg.Naver.ServiceID + "/messages"
	assert.Equal(t, path, r.uri)
	ts := r.header.Get("x-ncp-apigw-timestamp")
	ms, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err, "milliseconds")
	assert.GreaterOrEqual(t, ms, before)
	assert.Equal(t, cfg.Naver.AccessKey, r.header.Get("x-ncp-iam-access-key"))
	// The signature, computed here independently of SENSSignature.
	mac := hmac.New(sha256.New, []byte(cfg.Naver.SecretKey))
	mac.Write([]byte("POST " + path + "\n" + ts + "\n" + cfg.Naver.AccessKey))
	assert.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), r.header.Get("x-ncp-apigw-signature-v2"))
	assert.Equal(t, batch[0].Key+","+batch[1].Key, r.header.Get(NaverKeysHeader))

	assert.Equal(t, cfg.Naver.PlusFriendID, body["plusFriendId"])
	assert.Equal(t, testTemplateCode, body["templateCode"])
	ms0 := obj(t, list(t, body["messages"], "messages")[0], "messages[0]")
	assert.Equal(t, digitsOf(t, batch[0].Recipient), ms0["to"])
	assert.Equal(t, "82", ms0["countryCode"])
	assert.Equal(t, batch[0].Text, ms0["content"])
	assert.Equal(t, true, ms0["useSmsFailover"])
	assert.Equal(t, map[string]any{"type": "LMS", "from": cfg.Naver.FailoverFrom, "subject": "건강검진 안내",
		"content": "[알리미] 대체 문자"}, ms0["failoverConfig"])
	ms1 := obj(t, list(t, body["messages"], "messages")[1], "messages[1]")
	assert.NotContains(t, ms1, "useSmsFailover")
	assert.NotContains(t, ms1, "failoverConfig")
}

func TestSENSSignature_MatchesTheDocumentedConstruction(t *testing.T) {
	// The three parts, a newline between them, HMAC-SHA256, base64.
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write([]byte("POST /alimtalk/v2/services/ncp:x/messages\n1700000000000\nak"))
	assert.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		SENSSignature("secret", "POST", "/alimtalk/v2/services/ncp:x/messages", "1700000000000", "ak"))
}

func TestFake_RefusesABadOrStaleSENSSignature(t *testing.T) {
	f := NewFake(FakeOptions{Logger: quiet})
	defer f.Close()
	cfg := DefaultConfig().Naver
	path := "/alimtalk/v2/services/" + cfg.ServiceID + "/messages"
	body := `{"plusFriendId":"@allimi","templateCode":"T","messages":[{"to":"01012345678","content":"x"}]}`
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).UnixMilli(), 10)
	for _, tc := range []struct {
		name, ts, sig string
		want          int
	}{
		{"good", now, SENSSignature(cfg.SecretKey, "POST", path, now, cfg.AccessKey), 202},
		{"wrong secret", now, SENSSignature("nope", "POST", path, now, cfg.AccessKey), 401},
		{"other path signed", now, SENSSignature(cfg.SecretKey, "POST", "/other", now, cfg.AccessKey), 401},
		{"stale timestamp", stale, SENSSignature(cfg.SecretKey, "POST", path, stale, cfg.AccessKey), 401},
		{"no signature", now, "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-ncp-apigw-timestamp", tc.ts)
			req.Header.Set("x-ncp-iam-access-key", cfg.AccessKey)
			if tc.sig != "" {
				req.Header.Set("x-ncp-apigw-signature-v2", tc.sig)
			}
			w := httptest.NewRecorder()
			f.Handler().ServeHTTP(w, req)
			assert.Equal(t, tc.want, w.Code, w.Body.String())
			if tc.want == 401 {
				assert.Contains(t, w.Body.String(), `"errorCode":"200"`, "the API gateway's shape")
			}
		})
	}
}

func TestSMS_RequestHasNHNSMSShape(t *testing.T) {
	rec, ads, cfg := wireEnv(t, nil)
	batch := testMessages(allimi.ChannelSMS, "sms", 2) // [0] SMS, [1] LMS
	_, err := ads[allimi.ChannelSMS].Send(context.Background(), batch)
	require.NoError(t, err)

	for _, want := range []struct {
		path, template string
		m              Message
	}{
		{"/sender/sms", cfg.SMS.SMSTemplateID, batch[0]},
		{"/sender/mms", cfg.SMS.LMSTemplateID, batch[1]},
	} {
		r, body := lastRequest(t, rec)
		assert.Equal(t, "/sms/v3.0/appKeys/"+cfg.SMS.AppKey+want.path, r.uri)
		assert.Equal(t, cfg.SMS.SecretKey, r.header.Get("X-Secret-Key"))
		assert.Equal(t, want.template, body["templateId"])
		assert.Equal(t, "##body##", body["body"])
		assert.Equal(t, cfg.SMS.SendNo, body["sendNo"])
		if want.m.LMS {
			assert.Equal(t, want.m.Title, body["title"])
		} else {
			assert.NotContains(t, body, "title")
		}
		rl := list(t, body["recipientList"], "recipientList")
		require.Len(t, rl, 1)
		assert.Equal(t, map[string]any{
			"recipientNo":          digitsOf(t, want.m.Recipient),
			"templateParameter":    map[string]any{"body": want.m.Text},
			"recipientGroupingKey": want.m.Key,
		}, rl[0])
	}
}

func TestNaver_RequestHasTheAssumedNoticeShape(t *testing.T) {
	rec, ads, cfg := wireEnv(t, nil)
	batch := testMessages(allimi.ChannelNaver, "notice", 2)
	res, err := ads[allimi.ChannelNaver].Send(context.Background(), batch)
	require.NoError(t, err)
	assert.Equal(t, Accepted, res[0].Status)
	r, body := lastRequest(t, rec)
	assert.Equal(t, "/naver/v1/notices", r.uri)
	assert.Equal(t, "Bearer "+cfg.NaverApp.Token, r.header.Get("Authorization"))
	assert.Len(t, r.header.Get("Idempotency-Key"), 32)
	assert.Empty(t, r.header.Get("x-ncp-apigw-signature-v2"), "not SENS")
	m0 := obj(t, list(t, body["messages"], "messages")[0], "messages[0]")
	assert.Equal(t, map[string]any{"key": batch[0].Key, "phone": digitsOf(t, batch[0].Recipient),
		"title": batch[0].Title, "body": batch[0].Text, "link": batch[0].Link, "templateCode": testTemplateCode}, m0)

	// The same batch again has the same Idempotency-Key, and is answered
	// with the original message ids.
	again, err := ads[allimi.ChannelNaver].Send(context.Background(), batch)
	require.NoError(t, err)
	r2, _ := lastRequest(t, rec)
	assert.Equal(t, r.header.Get("Idempotency-Key"), r2.header.Get("Idempotency-Key"))
	assert.Equal(t, res[1].ProviderID, again[1].ProviderID)
}

func TestToss_RequestHasTheAssumedShape(t *testing.T) {
	rec, ads, cfg := wireEnv(t, nil)
	batch := testMessages(allimi.ChannelToss, "toss", 2)
	_, err := ads[allimi.ChannelToss].Send(context.Background(), batch)
	require.NoError(t, err)
	r, body := lastRequest(t, rec)
	assert.Equal(t, "/toss/v1/push", r.uri)
	assert.Equal(t, "Bearer "+cfg.Toss.Token, r.header.Get("Authorization"))
	assert.Len(t, r.header.Get("Idempotency-Key"), 32)
	m0 := obj(t, list(t, body["messages"], "messages")[0], "messages[0]")
	assert.Equal(t, map[string]any{"key": batch[0].Key, "phone": digitsOf(t, batch[0].Recipient),
		"title": batch[0].Title, "body": batch[0].Text, "link": batch[0].Link}, m0)

	// The same batch again has the same Idempotency-Key.
	_, err = ads[allimi.ChannelToss].Send(context.Background(), batch)
	require.NoError(t, err)
	r2, _ := lastRequest(t, rec)
	assert.Equal(t, r.header.Get("Idempotency-Key"), r2.header.Get("Idempotency-Key"))
}

package channel

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"allimi"
)

// Providers' answers are a trust boundary: whatever a provider (or
// something in its place) sends back, each adapter returns an error or one
// result per message with a known status, never a panic. The adapters run
// as in production, their HTTP client answered by the fuzzed bytes.

// cannedTransport answers every request with one status and body.
type cannedTransport struct {
	status int
	body   []byte
	// refuseNHN refuses NHN AlimTalk's connections: the kakao channel
	// then reads SENS's answers (failover.go).
	refuseNHN bool
}

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if c.refuseNHN && strings.HasPrefix(r.URL.Path, "/alimtalk/v2.3/") {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return &http.Response{StatusCode: c.status, Status: strconv.Itoa(c.status), Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

func FuzzProviderResponse(f *testing.F) {
	// Each provider's success and refusal shapes, as the fakes answer.
	f.Add(uint8(0), uint16(200), []byte(`{"header":{"resultCode":0,"resultMessage":"success","isSuccessful":true},"message":{"requestId":"r1","senderGroupingKey":"","sendResults":[{"recipientSeq":1,"recipientNo":"01012345678","resultCode":0,"resultMessage":"","recipientGroupingKey":"a1-1-kakao"},{"recipientSeq":2,"resultCode":-3019,"resultMessage":"not a kakao user","recipientGroupingKey":"a1-2-kakao"}]}}`))
	f.Add(uint8(0), uint16(400), []byte(`{"header":{"resultCode":-1001,"resultMessage":"bad appKey","isSuccessful":false}}`))
	f.Add(uint8(4), uint16(202), []byte(`{"requestId":"n1","requestTime":"2026-11-23T10:00:00.000","statusCode":"202","statusName":"success","messages":[{"messageId":"m1","to":"01012345678","countryCode":"82","requestStatusCode":"A000","requestStatusName":"success","useSmsFailover":true},{"messageId":"m2","to":"01000000000","requestStatusCode":"E901","requestStatusName":"fail"}]}`))
	f.Add(uint8(4), uint16(429), []byte(`{"status":429,"errorMessage":"too many"}`))
	f.Add(uint8(2), uint16(200), []byte(`{"header":{"resultCode":0,"resultMessage":"SUCCESS","isSuccessful":true},"body":{"data":{"requestId":"s1","statusCode":"2","senderGroupingKey":"","sendResultList":[{"recipientNo":"01012345678","resultCode":0,"resultMessage":"SUCCESS","recipientSeq":1,"recipientGroupingKey":"a1-1-sms"},{"recipientNo":"01000000000","resultCode":-2019,"resultMessage":"bad number","recipientSeq":2,"recipientGroupingKey":"a1-2-sms"}]}}}`))
	f.Add(uint8(3), uint16(200), []byte(`{"results":[{"messageId":"t1","key":"a1-1-toss","status":"accepted"},{"key":"a1-2-toss","status":"rejected","code":"NOT_TOSS_USER","reason":"not a toss user"}]}`))
	f.Add(uint8(3), uint16(503), []byte(`{"error":{"code":"UNAVAILABLE","message":"later"}}`))
	f.Add(uint8(1), uint16(200), []byte(`{"results":[{"messageId":"n1","key":"a1-1-naver","status":"accepted"},{"key":"a1-2-naver","status":"rejected","code":"NOT_NAVER_USER","reason":"no naver account"}]}`))
	f.Add(uint8(2), uint16(200), []byte(`not json`))
	// The fifth is the kakao channel through SENS.
	channels := []allimi.Channel{allimi.ChannelKakao, allimi.ChannelNaver, allimi.ChannelSMS, allimi.ChannelToss, allimi.ChannelKakao}
	cfg := DefaultConfig()
	cfg.SetBaseURL("http://provider.invalid")
	f.Fuzz(func(t *testing.T, which uint8, status uint16, body []byte) {
		ch := channels[int(which)%len(channels)]
		viaSENS := int(which)%len(channels) == 4
		st := int(status)
		if st < 100 || st > 599 {
			st = 100 + st%500
		}
		ads, err := New(cfg, &http.Client{Transport: cannedTransport{status: st, body: body, refuseNHN: viaSENS}})
		if err != nil {
			t.Fatal(err)
		}
		SetLogger(ads, quiet)
		a := ads[ch]
		batch := []Message{
			{Key: "a1-1-" + string(ch), Recipient: "010-1234-5678", Template: "T1", Params: ParamsOf("name", "김"), Title: "안내", Text: "알림 본문", Link: "http://x/n/1"},
			{Key: "a1-2-" + string(ch), Recipient: "010-0000-0000", Template: "T1", Params: ParamsOf("name", "이"), Title: "안내", Text: "알림 본문", Link: "http://x/n/2",
				Fallback: &Fallback{Title: "안내", Text: "문자 본문"}},
		}
		res, err := a.Send(context.Background(), batch)
		if err != nil {
			return
		}
		if len(res) != len(batch) {
			t.Fatalf("%s: %d results for %d messages", ch, len(res), len(batch))
		}
		for i, r := range res {
			if r.Status != Accepted && r.Status != Rejected && r.Status != Retry {
				t.Fatalf("%s: result %d has status %d (%q)", ch, i, r.Status, r.Status)
			}
			if r.Key != batch[i].Key {
				t.Fatalf("%s: result %d is for %q, not %q", ch, i, r.Key, batch[i].Key)
			}
		}
	})
}

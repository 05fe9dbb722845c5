package channel

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sensSend serves SENS AlimTalk's send API (see sens.go), checking the
// API gateway's signature the way the gateway does.
func (f *Fake) sensSend(w http.ResponseWriter, r *http.Request) {
	cfg := f.cfg.Naver
	if r.PathValue("serviceId") != cfg.ServiceID {
		providerError(w, fkSENS, http.StatusNotFound, "404", "No such service: "+r.PathValue("serviceId"))
		return
	}
	if err := f.checkSENSSignature(r); err != nil {
		// The API gateway's answer to a bad signature.
		providerError(w, fkSENS, http.StatusUnauthorized, "200", "Authentication Failed: "+err.Error())
		return
	}
	var req sensRequest
	if !decodeBody(w, r, fkSENS, &req) {
		return
	}
	var keys []string
	if h := r.Header.Get(NaverKeysHeader); h != "" {
		keys = strings.Split(h, ",")
	}
	switch {
	case req.PlusFriendID != cfg.PlusFriendID:
		providerError(w, fkSENS, http.StatusBadRequest, "400", fmt.Sprintf("plusFriendId %q is not a channel of this service", req.PlusFriendID))
		return
	case req.TemplateCode == "":
		providerError(w, fkSENS, http.StatusBadRequest, "400", "templateCode is required")
		return
	case len(req.Messages) == 0 || len(req.Messages) > sensMaxBatch:
		providerError(w, fkSENS, http.StatusBadRequest, "400", fmt.Sprintf("messages: %d entries, must be 1 to 100", len(req.Messages)))
		return
	case keys != nil && len(keys) != len(req.Messages):
		providerError(w, fkSENS, http.StatusBadRequest, "400", fmt.Sprintf("%s: %d keys for %d messages", NaverKeysHeader, len(keys), len(req.Messages)))
		return
	}
	msgs := make([]fakeMsg, len(req.Messages))
	for j := range req.Messages {
		nm := &req.Messages[j]
		m := &msgs[j]
		m.recipient = nm.To
		if keys != nil {
			m.key = strings.TrimSpace(keys[j])
		}
		m.title, m.text = nm.Title, nm.Content // kept even when Lean: see take
		switch {
		case !validNumber(nm.To):
			m.code, m.reason = "3008", "전화번호 오류 (invalid number)"
		case nm.Content == "":
			m.code, m.reason = "3013", "메시지가 비어 있음 (empty message)"
		}
	}
	start := uint32(f.start.Unix())
	out := f.take(fkSENS, msgs, "3019", "카카오톡 유저가 아님 (not a KakaoTalk user)",
		func(id uint64, _ int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", start, id) })
	now := time.Now()
	resp := sensResponse{RequestID: "RSSA-" + f.requestID(), RequestTime: now.Format("2006-01-02T15:04:05.000"),
		StatusCode: "202", StatusName: "success", Messages: make([]sensMessageReply, len(out))}
	for j, o := range out {
		nm := &req.Messages[j]
		mr := &resp.Messages[j]
		mr.MessageID, mr.To, mr.CountryCode, mr.UseSmsFailover = o.providerID, nm.To, "82", nm.UseSmsFailover
		if o.accepted {
			mr.RequestStatusCode, mr.RequestStatusName, mr.RequestStatusDesc = "A000", "success", "성공"
		} else {
			mr.RequestStatusCode, mr.RequestStatusName, mr.RequestStatusDesc = o.code, "fail", o.reason
		}
	}
	writeJSON(w, http.StatusAccepted, &resp)
}

// checkSENSSignature verifies the x-ncp-apigw-* headers: the access key,
// a timestamp within 5 minutes, and the HMAC over method, path, timestamp
// and access key.
func (f *Fake) checkSENSSignature(r *http.Request) error {
	cfg := f.cfg.Naver
	ts := r.Header.Get("X-Ncp-Apigw-Timestamp")
	ak := r.Header.Get("X-Ncp-Iam-Access-Key")
	sig := r.Header.Get("X-Ncp-Apigw-Signature-V2")
	if ts == "" || ak == "" || sig == "" {
		return fmt.Errorf("x-ncp-apigw-timestamp, x-ncp-iam-access-key and x-ncp-apigw-signature-v2 are required")
	}
	if ak != cfg.AccessKey {
		return fmt.Errorf("unknown access key")
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q is not milliseconds since 1970", ts)
	}
	if d := time.Since(time.UnixMilli(ms)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp is %s away from now (at most 5m)", d.Round(time.Second))
	}
	want := SENSSignature(cfg.SecretKey, r.Method, r.URL.RequestURI(), ts, ak)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return fmt.Errorf("signature does not match")
	}
	return nil
}

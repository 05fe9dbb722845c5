package channel

// KakaoTalk AlimTalk through Naver Cloud SENS (Simple & Easy Notification
// Service), AlimTalk v2: the kakao channel's second provider, used when NHN
// Cloud is down (failover.go). Configured by the [naver] section
// (NaverConfig), whose name predates the Naver app notice. The shape
// (api.ncloud-docs.com/docs/sens-alimtalk-send, and sens-overview for the
// signature):
//
//	POST {base}/alimtalk/v2/services/{serviceId}/messages
//	x-ncp-apigw-timestamp: {ms since 1970}
//	x-ncp-iam-access-key: {accessKey}
//	x-ncp-apigw-signature-v2: base64(HMAC-SHA256(secretKey,
//	    "POST {path}\n{timestamp}\n{accessKey}"))
//
//	{"plusFriendId": "@…", "templateCode": "…",
//	 "messages": [{                                         // at most 100
//	   "countryCode": "82", "to": "01012345678", "title": "…", "content": "…",
//	   "useSmsFailover": true,
//	   "failoverConfig": {"type": "SMS"|"LMS", "from": "…", "subject": "…", "content": "…"}}]}
//
//	→ 202 {"requestId": "…", "requestTime": "…", "statusCode": "202", "statusName": "success",
//	       "messages": [{"messageId": "…", "countryCode": "82", "to": "…", "content": "…",
//	         "requestStatusCode": "A000", "requestStatusName": "success",
//	         "requestStatusDesc": "성공", "useSmsFailover": true}]}
//
// Authentication failures come from the API gateway:
// 401 {"error": {"errorCode": "200", "message": "Authentication Failed", "details": "…"}}.
//
// SENS has no per-message field for a caller's key. We send the batch's
// idempotency keys in a request header, X-Allimi-Idempotency-Keys: the keys
// comma-separated in the order of "messages" (keys never contain a comma).
// A real gateway ignores it; the fake deduplicates by it (unless NoDedupe).
// Once-only at the real SENS therefore rests on the dispatcher never
// resending an accepted message: a request whose answer was lost is looked
// up by number and content first (sens_find.go). Receipts are matched by
// messageId (ProviderID).
//
// requestStatusCode "A000" is accepted; anything else is Rejected (the fake
// reports its "notuser" fault as 3019, the reception code Naver uses for
// "not a KakaoTalk user", which the real service reports later through
// GET …/messages/{messageId} as messageStatusCode).
//
// SENS AlimTalk reaches the person in KakaoTalk (it is Kakao's AlimTalk
// resold by Naver Cloud), not in the Naver app: the naver channel is the
// Naver app notice (naver.go).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"allimi"
)

// sensMaxBatch is SENS's messages limit.
const sensMaxBatch = 100

// NaverKeysHeader carries the batch's idempotency keys, comma-separated in
// message order (our extension, see above).
const NaverKeysHeader = "X-Allimi-Idempotency-Keys"

type sensRequest struct {
	PlusFriendID string        `json:"plusFriendId"`
	TemplateCode string        `json:"templateCode"`
	Messages     []sensMessage `json:"messages"`
}

type sensMessage struct {
	CountryCode    string        `json:"countryCode,omitempty"`
	To             string        `json:"to"`
	Title          string        `json:"title,omitempty"`
	Content        string        `json:"content"`
	UseSmsFailover bool          `json:"useSmsFailover,omitzero"`
	FailoverConfig *sensFailover `json:"failoverConfig,omitempty"`
}

type sensFailover struct {
	Type    string `json:"type,omitempty"`
	From    string `json:"from,omitempty"`
	Subject string `json:"subject,omitempty"`
	Content string `json:"content,omitempty"`
}

type sensResponse struct {
	RequestID   string             `json:"requestId"`
	RequestTime string             `json:"requestTime"`
	StatusCode  string             `json:"statusCode"`
	StatusName  string             `json:"statusName"`
	Messages    []sensMessageReply `json:"messages"`
}

type sensMessageReply struct {
	MessageID         string `json:"messageId"`
	To                string `json:"to"`
	CountryCode       string `json:"countryCode,omitempty"`
	Content           string `json:"content,omitempty"`
	RequestStatusCode string `json:"requestStatusCode"`
	RequestStatusName string `json:"requestStatusName"`
	RequestStatusDesc string `json:"requestStatusDesc"`
	UseSmsFailover    bool   `json:"useSmsFailover"`
}

type sens struct {
	*sender
	cfg  NaverConfig
	url  string
	path string // what the signature covers
}

// sensConfigured says whether the [naver] section sets SENS up: any of its
// credentials given. Without them the kakao channel has no second provider.
func sensConfigured(cfg NaverConfig) bool {
	return strings.TrimSpace(cfg.ServiceID+cfg.AccessKey+cfg.SecretKey+cfg.PlusFriendID) != ""
}

func newSENS(cfg NaverConfig, client *http.Client) (*sens, error) {
	base, err := cfg.baseURL("naver")
	if err != nil {
		return nil, err
	}
	if err := required("naver", "serviceId", cfg.ServiceID, "accessKey", cfg.AccessKey,
		"secretKey", cfg.SecretKey, "plusFriendId", cfg.PlusFriendID); err != nil {
		return nil, err
	}
	full := base + "/alimtalk/v2/services/" + url.PathEscape(cfg.ServiceID) + "/messages"
	u, err := url.Parse(full)
	if err != nil {
		return nil, err
	}
	s := newSender(allimi.ChannelKakao, cfg.Endpoint, client, sensMaxBatch)
	s.bucket = bucketSENS
	return &sens{sender: s, cfg: cfg, url: full, path: u.RequestURI()}, nil
}

func (n *sens) Channel() allimi.Channel { return allimi.ChannelKakao }
func (n *sens) MaxBatch() int           { return sensMaxBatch }

// SENSSignature is the x-ncp-apigw-signature-v2 of a request: the method,
// a space and the path with its query, the timestamp and the access key, one
// per line, signed with HMAC-SHA256 under the secret key, in base64.
func SENSSignature(secretKey, method, pathAndQuery, timestamp, accessKey string) string {
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write([]byte(method + " " + pathAndQuery + "\n" + timestamp + "\n" + accessKey))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (n *sens) Send(ctx context.Context, batch []Message) ([]Result, error) {
	if err := n.begin(ctx, batch); err != nil {
		return nil, err
	}
	res, out := prepare(batch)
	out = rejectIf(res, out, needTemplate)
	out = rejectIf(res, out, needText)
	groups := groupBy(out, func(o *outgoing) string { return o.m.Template })
	err := sendGroups(res, groups, func(g []outgoing) error { return n.sendOne(ctx, g, res) })
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (n *sens) sendOne(ctx context.Context, g []outgoing, res []Result) error {
	req := sensRequest{PlusFriendID: n.cfg.PlusFriendID, TemplateCode: g[0].m.Template, Messages: make([]sensMessage, len(g))}
	keys := make([]string, len(g))
	for j, o := range g {
		keys[j] = o.m.Key
		m := &req.Messages[j]
		m.CountryCode, m.To, m.Title, m.Content = "82", o.digits, o.m.Title, o.m.Text
		if fb := o.m.Fallback; fb != nil {
			m.UseSmsFailover = true
			m.FailoverConfig = &sensFailover{Type: smsType(fb.LMS), From: n.cfg.FailoverFrom, Content: fb.Text}
			if fb.LMS {
				m.FailoverConfig.Subject = fb.Title
			}
		}
	}
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	h := http.Header{
		"X-Ncp-Apigw-Timestamp":    {ts},
		"X-Ncp-Iam-Access-Key":     {n.cfg.AccessKey},
		"X-Ncp-Apigw-Signature-V2": {SENSSignature(n.cfg.SecretKey, http.MethodPost, n.path, ts, n.cfg.AccessKey)},
		NaverKeysHeader:            {strings.Join(keys, ",")},
	}
	var resp sensResponse
	if _, err := n.post(ctx, n.url, h, &req, &resp, sensRefusal); err != nil {
		return err
	}
	if len(resp.Messages) != len(g) {
		return n.malformed(http.StatusAccepted, "%d messages for %d sent", len(resp.Messages), len(g))
	}
	for j, mr := range resp.Messages {
		o := g[j]
		if mr.To != "" && mr.To != o.digits {
			return n.malformed(http.StatusAccepted, "messages[%d] is for another number", j)
		}
		r := &res[o.i]
		r.Code, r.Reason, r.ProviderID = mr.RequestStatusCode, mr.RequestStatusDesc, mr.MessageID
		if mr.RequestStatusCode == "A000" {
			r.Status = Accepted
		} else {
			r.Status = Rejected
		}
	}
	return nil
}

// sensRefusal reads the API gateway's error body, or SENS's own.
func sensRefusal(_ int, body []byte) *ProviderError {
	var r struct {
		Error *struct {
			ErrorCode string `json:"errorCode"`
			Message   string `json:"message"`
			Details   string `json:"details"`
		} `json:"error"`
		StatusCode   string `json:"statusCode"`
		StatusName   string `json:"statusName"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &r) != nil {
		return nil
	}
	if r.Error != nil {
		msg := r.Error.Message
		if r.Error.Details != "" {
			msg += ": " + r.Error.Details
		}
		return &ProviderError{Code: r.Error.ErrorCode, Message: msg}
	}
	if r.StatusCode != "" || r.ErrorMessage != "" {
		return &ProviderError{Code: r.StatusCode, Message: strings.TrimSpace(r.StatusName + " " + r.ErrorMessage)}
	}
	return nil
}

package channel

// KakaoTalk AlimTalk through NHN Cloud Notification, API v2.3
// (docs.nhncloud.com, "Notification > KakaoTalk Bizmessage > 알림톡 > API v2.3
// Guide"; source github.com/TOAST-DOCS/Alimtalk, ko/alimtalk-api-guide.md):
//
//	POST {base}/alimtalk/v2.3/appkeys/{appkey}/messages        (template substitution)
//	POST {base}/alimtalk/v2.3/appkeys/{appkey}/raw-messages    (full text; KakaoConfig.Raw)
//	X-Secret-Key: {secretKey}
//	Content-Type: application/json;charset=UTF-8
//
//	{"senderKey": "…40 chars…", "templateCode": "…≤20 chars…",
//	 "recipientList": [{                                    // at most 1,000
//	   "recipientNo": "01012345678",
//	   "templateParameter": {"name": "…"},                  // /messages: #{name} in the template
//	   "content": "…", "templateTitle": "…",                 // /raw-messages instead
//	   "resendParameter": {"isResend": true, "resendType": "SMS"|"LMS",
//	     "resendTitle": "…", "resendContent": "…", "resendSendNo": "…"},
//	   "recipientGroupingKey": "…≤100 chars…"}]}
//
//	→ 200 {"header": {"resultCode": 0, "resultMessage": "success", "isSuccessful": true},
//	       "message": {"requestId": "…", "senderGroupingKey": "…",
//	         "sendResults": [{"recipientSeq": 1, "recipientNo": "…", "resultCode": 0,
//	           "resultMessage": "…", "recipientGroupingKey": "…"}]}}
//
// Our idempotency key travels in recipientGroupingKey, the caller's own key
// per recipient: NHN returns it in sendResults and in message queries, the
// fake deduplicates by it, and receipts name it. (NHN's own
// X-NC-API-IDEMPOTENCY-KEY header is per request and fails a repeated
// request as a whole, -1005, so it cannot make a partly new batch safe.)
//
// resultCode 0 is accepted. Kakao's delivery codes (error-code.md, "발송
// 결과 코드") come later through message queries; the fake reports its
// "notuser" fault at once as 3019 "메시지를 발송할 수 없음 — 카카오톡 유저가
// 아님". 3019 and every other non-zero code is Rejected, except the
// transient ones in kakaoRetryCodes.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"allimi"
)

// kakaoMaxBatch is NHN's recipientList limit.
const kakaoMaxBatch = 1000

// Kakao (NHN) per-recipient codes worth sending again: system errors and
// Kakao communication failures.
var kakaoRetryCodes = map[int]bool{-9999: true, 2001: true, 3000: true, 3006: true, 3010: true, 3012: true}

// KakaoNotTalkUser is the code for "not a KakaoTalk user" (NHN error-code.md,
// 3019).
const KakaoNotTalkUser = 3019

type kakaoRequest struct {
	SenderKey         string           `json:"senderKey"`
	TemplateCode      string           `json:"templateCode"`
	RequestDate       string           `json:"requestDate,omitempty"`
	SenderGroupingKey string           `json:"senderGroupingKey,omitempty"`
	RecipientList     []kakaoRecipient `json:"recipientList"`
}

type kakaoRecipient struct {
	RecipientNo          string       `json:"recipientNo"`
	TemplateParameter    Params       `json:"templateParameter,omitempty"`
	Content              string       `json:"content,omitempty"`
	TemplateTitle        string       `json:"templateTitle,omitempty"`
	ResendParameter      *kakaoResend `json:"resendParameter,omitempty"`
	RecipientGroupingKey string       `json:"recipientGroupingKey,omitempty"`
}

// kakaoInbound is a send request as the fake reads it: a server takes
// templateParameter as any JSON object.
type kakaoInbound struct {
	SenderKey         string `json:"senderKey"`
	TemplateCode      string `json:"templateCode"`
	SenderGroupingKey string `json:"senderGroupingKey"`
	RecipientList     []struct {
		RecipientNo          string            `json:"recipientNo"`
		TemplateParameter    map[string]string `json:"templateParameter"`
		Content              string            `json:"content"`
		TemplateTitle        string            `json:"templateTitle"`
		RecipientGroupingKey string            `json:"recipientGroupingKey"`
	} `json:"recipientList"`
}

type kakaoResend struct {
	IsResend      bool   `json:"isResend"`
	ResendType    string `json:"resendType,omitempty"`
	ResendTitle   string `json:"resendTitle,omitempty"`
	ResendContent string `json:"resendContent,omitempty"`
	ResendSendNo  string `json:"resendSendNo,omitempty"`
}

// nhnHeader is the header of every NHN Cloud answer (AlimTalk and SMS).
type nhnHeader struct {
	ResultCode    int    `json:"resultCode"`
	ResultMessage string `json:"resultMessage"`
	IsSuccessful  bool   `json:"isSuccessful"`
}

type kakaoResponse struct {
	Header  nhnHeader             `json:"header"`
	Message *kakaoResponseMessage `json:"message"`
}

type kakaoResponseMessage struct {
	RequestID         string            `json:"requestId"`
	SenderGroupingKey string            `json:"senderGroupingKey,omitempty"`
	SendResults       []kakaoSendResult `json:"sendResults"`
}

type kakaoSendResult struct {
	RecipientSeq         int    `json:"recipientSeq"`
	RecipientNo          string `json:"recipientNo"`
	ResultCode           int    `json:"resultCode"`
	ResultMessage        string `json:"resultMessage"`
	RecipientGroupingKey string `json:"recipientGroupingKey,omitempty"`
}

type kakao struct {
	*sender
	cfg    KakaoConfig
	url    string
	list   string // the message list query (kakao_find.go)
	header http.Header
}

func newKakao(cfg KakaoConfig, client *http.Client) (*kakao, error) {
	base, err := cfg.baseURL("kakao")
	if err != nil {
		return nil, err
	}
	if err := required("kakao", "appKey", cfg.AppKey, "secretKey", cfg.SecretKey, "senderKey", cfg.SenderKey); err != nil {
		return nil, err
	}
	path := "/messages"
	if cfg.Raw {
		path = "/raw-messages"
	}
	return &kakao{
		sender: newSender(allimi.ChannelKakao, cfg.Endpoint, client, kakaoMaxBatch),
		cfg:    cfg,
		url:    base + "/alimtalk/v2.3/appkeys/" + url.PathEscape(cfg.AppKey) + path,
		list:   base + "/alimtalk/v2.3/appkeys/" + url.PathEscape(cfg.AppKey) + "/messages",
		header: http.Header{"X-Secret-Key": {cfg.SecretKey}},
	}, nil
}

func (k *kakao) Channel() allimi.Channel { return allimi.ChannelKakao }
func (k *kakao) MaxBatch() int           { return kakaoMaxBatch }

func (k *kakao) Send(ctx context.Context, batch []Message) ([]Result, error) {
	if err := k.begin(ctx, batch); err != nil {
		return nil, err
	}
	res, out := prepare(batch)
	out = rejectIf(res, out, needTemplate)
	if k.cfg.Raw {
		out = rejectIf(res, out, needText)
	}
	// One request has one templateCode.
	groups := groupBy(out, func(o *outgoing) string { return o.m.Template })
	err := sendGroups(res, groups, func(g []outgoing) error { return k.sendOne(ctx, g, res) })
	if err != nil {
		return nil, err
	}
	return res, nil
}

// needTemplate: AlimTalk cannot be sent without a template code.
func needTemplate(m *Message) (code, reason string) {
	if m.Template == "" {
		return "no-template", "AlimTalk needs a template code"
	}
	return "", ""
}

// needText: a message with nothing to say would fail its whole request.
func needText(m *Message) (code, reason string) {
	if m.Text == "" {
		return "no-text", "the message has no text"
	}
	return "", ""
}

func (k *kakao) sendOne(ctx context.Context, g []outgoing, res []Result) error {
	req := kakaoRequest{SenderKey: k.cfg.SenderKey, TemplateCode: g[0].m.Template, SenderGroupingKey: g[0].m.Group,
		RecipientList: make([]kakaoRecipient, len(g))}
	for j, o := range g {
		r := &req.RecipientList[j]
		r.RecipientNo, r.RecipientGroupingKey = o.digits, o.m.Key
		if k.cfg.Raw {
			r.Content, r.TemplateTitle = o.m.Text, o.m.Title
		} else {
			r.TemplateParameter = o.m.Params
		}
		if fb := o.m.Fallback; fb != nil {
			r.ResendParameter = &kakaoResend{IsResend: true, ResendType: smsType(fb.LMS),
				ResendTitle: fb.Title, ResendContent: fb.Text, ResendSendNo: k.cfg.ResendSendNo}
			if !fb.LMS {
				r.ResendParameter.ResendTitle = ""
			}
		}
	}
	var resp kakaoResponse
	if _, err := k.post(ctx, k.url, k.header, &req, &resp, nhnRefusal); err != nil {
		return err
	}
	if !resp.Header.IsSuccessful {
		return &ProviderError{Channel: k.ch, StatusCode: http.StatusOK,
			Code: strconv.Itoa(resp.Header.ResultCode), Message: resp.Header.ResultMessage}
	}
	if resp.Message == nil || len(resp.Message.SendResults) != len(g) {
		n := 0
		if resp.Message != nil {
			n = len(resp.Message.SendResults)
		}
		return k.malformed(http.StatusOK, "%d sendResults for %d recipients", n, len(g))
	}
	for j, sr := range resp.Message.SendResults {
		o := g[j]
		if sr.RecipientSeq >= 1 && sr.RecipientSeq <= len(g) {
			o = g[sr.RecipientSeq-1]
		}
		if sr.RecipientGroupingKey != "" && sr.RecipientGroupingKey != o.m.Key {
			return k.malformed(http.StatusOK, "sendResults[%d] names key %q, expected %q", j, sr.RecipientGroupingKey, o.m.Key)
		}
		r := &res[o.i]
		r.Code, r.Reason = strconv.Itoa(sr.ResultCode), sr.ResultMessage
		r.ProviderID = resp.Message.RequestID + "/" + strconv.Itoa(sr.RecipientSeq)
		r.Status = nhnStatus(sr.ResultCode, kakaoRetryCodes)
	}
	return nil
}

func smsType(lms bool) string {
	if lms {
		return "LMS"
	}
	return "SMS"
}

// nhnRefusal reads NHN's error body ({"header": {"resultCode": -1001, …}}).
func nhnRefusal(_ int, body []byte) *ProviderError {
	var r struct {
		Header *nhnHeader `json:"header"`
	}
	if json.Unmarshal(body, &r) != nil || r.Header == nil {
		return nil
	}
	return &ProviderError{Code: fmt.Sprint(r.Header.ResultCode), Message: r.Header.ResultMessage}
}

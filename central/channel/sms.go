package channel

// SMS and LMS through NHN Cloud Notification SMS, API v3.0
// (docs.nhncloud.com, "Notification > SMS > API v3.0 Guide"; source
// github.com/TOAST-DOCS/SMS, ko/api-guide.md and ko/error-code.md):
//
//	POST {base}/sms/v3.0/appKeys/{appKey}/sender/sms    (SMS: body ≤ 90 bytes EUC-KR)
//	POST {base}/sms/v3.0/appKeys/{appKey}/sender/mms    (LMS: title ≤ 40 bytes, body ≤ 2,000 bytes)
//	X-Secret-Key: {secretKey}
//
//	{"templateId": "…", "title": "…" (mms), "body": "…", "sendNo": "15880000",
//	 "recipientList": [{"recipientNo": "01012345678",       // at most 1,000
//	   "templateParameter": {"body": "…"}, "recipientGroupingKey": "…"}]}
//
//	→ 200 {"header": {"isSuccessful": true, "resultCode": 0, "resultMessage": "SUCCESS"},
//	       "body": {"data": {"requestId": "…", "statusCode": "2", "senderGroupingKey": "…",
//	         "sendResultList": [{"recipientNo": "…", "resultCode": 0, "resultMessage": "SUCCESS",
//	           "recipientSeq": 1, "recipientGroupingKey": "…"}]}}}
//
// One request has one body for all its recipients, but every message of a
// batch has its own text. NHN substitutes ##key## in the body per recipient
// from templateParameter when the request names a template (and, since API
// v2.2, the request's body wins over the template's). So with
// SMSTemplateID/LMSTemplateID configured — templates registered with body
// "##body##", one of each send type because a template has one — a batch goes
// in one request per type and LMS title, the text in templateParameter.body.
// Without them, one request per distinct (type, title, text).
//
// Our idempotency key travels in recipientGroupingKey; the fake deduplicates
// by it (the real NHN SMS does not deduplicate).
//
// resultCode 0 is accepted; -2021 (queue failure) and -9999 (system error)
// are Retry; everything else (-2019 invalid number, -2023 characters EUC-KR
// cannot carry …) is Rejected.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"allimi"
)

const smsMaxBatch = 1000

var smsRetryCodes = map[int]bool{-2021: true, -9999: true}

type smsRequest struct {
	TemplateID        string         `json:"templateId,omitempty"`
	Title             string         `json:"title,omitempty"`
	Body              string         `json:"body"`
	SendNo            string         `json:"sendNo"`
	SenderGroupingKey string         `json:"senderGroupingKey,omitempty"`
	RecipientList     []smsRecipient `json:"recipientList"`
}

type smsRecipient struct {
	RecipientNo          string            `json:"recipientNo"`
	TemplateParameter    map[string]string `json:"templateParameter,omitempty"`
	RecipientGroupingKey string            `json:"recipientGroupingKey,omitempty"`
}

type smsResponse struct {
	Header nhnHeader        `json:"header"`
	Body   *smsResponseBody `json:"body"`
}

type smsResponseBody struct {
	Data *smsResponseData `json:"data"`
}

type smsResponseData struct {
	RequestID         string          `json:"requestId"`
	StatusCode        string          `json:"statusCode"`
	SenderGroupingKey string          `json:"senderGroupingKey,omitempty"`
	SendResultList    []smsSendResult `json:"sendResultList"`
}

type smsSendResult struct {
	RecipientNo          string `json:"recipientNo"`
	ResultCode           int    `json:"resultCode"`
	ResultMessage        string `json:"resultMessage"`
	RecipientSeq         int    `json:"recipientSeq"`
	RecipientGroupingKey string `json:"recipientGroupingKey,omitempty"`
}

// smsBodyParam is the templateParameter key the SMS templates substitute.
const smsBodyParam = "body"

type sms struct {
	*sender
	cfg      SMSConfig
	smsURL   string
	mmsURL   string
	header   http.Header
	template bool
}

func newSMS(cfg SMSConfig, client *http.Client) (*sms, error) {
	base, err := cfg.baseURL("sms")
	if err != nil {
		return nil, err
	}
	if err := required("sms", "appKey", cfg.AppKey, "secretKey", cfg.SecretKey, "sendNo", cfg.SendNo); err != nil {
		return nil, err
	}
	prefix := base + "/sms/v3.0/appKeys/" + url.PathEscape(cfg.AppKey) + "/sender/"
	return &sms{
		sender:   newSender(allimi.ChannelSMS, cfg.Endpoint, client, smsMaxBatch),
		cfg:      cfg,
		smsURL:   prefix + "sms",
		mmsURL:   prefix + "mms",
		header:   http.Header{"X-Secret-Key": {cfg.SecretKey}},
		template: cfg.SMSTemplateID != "" && cfg.LMSTemplateID != "",
	}, nil
}

func (s *sms) Channel() allimi.Channel { return allimi.ChannelSMS }
func (s *sms) MaxBatch() int           { return smsMaxBatch }

type smsGroup struct {
	lms         bool
	title, text string
}

func (s *sms) Send(ctx context.Context, batch []Message) ([]Result, error) {
	if err := s.begin(ctx, batch); err != nil {
		return nil, err
	}
	res, out := prepare(batch)
	out = rejectIf(res, out, needText)
	out = rejectIf(res, out, func(m *Message) (string, string) {
		if m.LMS && m.Title == "" {
			// NHN refuses the whole request for it [-2014].
			return "no-title", "an LMS needs a title"
		}
		return "", ""
	})
	groups := groupBy(out, func(o *outgoing) smsGroup {
		g := smsGroup{lms: o.m.LMS}
		if o.m.LMS {
			g.title = o.m.Title
		}
		if !s.template {
			g.text = o.m.Text
		}
		return g
	})
	err := sendGroups(res, groups, func(g []outgoing) error { return s.sendOne(ctx, g, res) })
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *sms) sendOne(ctx context.Context, g []outgoing, res []Result) error {
	first := g[0].m
	req := smsRequest{Body: first.Text, SendNo: s.cfg.SendNo, SenderGroupingKey: first.Group, RecipientList: make([]smsRecipient, len(g))}
	u := s.smsURL
	if first.LMS {
		u, req.Title = s.mmsURL, first.Title
	}
	if s.template {
		req.TemplateID, req.Body = s.cfg.SMSTemplateID, "##"+smsBodyParam+"##"
		if first.LMS {
			req.TemplateID = s.cfg.LMSTemplateID
		}
	}
	for j, o := range g {
		r := &req.RecipientList[j]
		r.RecipientNo, r.RecipientGroupingKey = o.digits, o.m.Key
		if s.template {
			r.TemplateParameter = map[string]string{smsBodyParam: o.m.Text}
		}
	}
	var resp smsResponse
	if _, err := s.post(ctx, u, s.header, &req, &resp, nhnRefusal); err != nil {
		return err
	}
	if !resp.Header.IsSuccessful {
		return &ProviderError{Channel: s.ch, StatusCode: http.StatusOK,
			Code: strconv.Itoa(resp.Header.ResultCode), Message: resp.Header.ResultMessage}
	}
	if resp.Body == nil || resp.Body.Data == nil || len(resp.Body.Data.SendResultList) != len(g) {
		n := 0
		if resp.Body != nil && resp.Body.Data != nil {
			n = len(resp.Body.Data.SendResultList)
		}
		return s.malformed(http.StatusOK, "%d sendResultList entries for %d recipients", n, len(g))
	}
	data := resp.Body.Data
	for j, sr := range data.SendResultList {
		o := g[j]
		if sr.RecipientSeq >= 1 && sr.RecipientSeq <= len(g) {
			o = g[sr.RecipientSeq-1]
		}
		if sr.RecipientGroupingKey != "" && sr.RecipientGroupingKey != o.m.Key {
			return s.malformed(http.StatusOK, "sendResultList[%d] names key %q, expected %q", j, sr.RecipientGroupingKey, o.m.Key)
		}
		r := &res[o.i]
		r.Code, r.Reason = strconv.Itoa(sr.ResultCode), sr.ResultMessage
		r.ProviderID = data.RequestID + "/" + strconv.Itoa(sr.RecipientSeq)
		r.Status = nhnStatus(sr.ResultCode, smsRetryCodes)
	}
	return nil
}

package channel

// Naver Cloud SENS AlimTalk's message list query (the kakao channel's
// second provider), v2
// (api.ncloud-docs.com/docs/sens-alimtalk-list):
//
//	GET {base}/alimtalk/v2/services/{serviceId}/messages
//	    ?plusFriendId=@…&requestStartTime=YYYY-MM-DD HH:mm:ss&requestEndTime=YYYY-MM-DD HH:mm:ss
//	    &to=01012345678&pageSize=100[&nextToken=…]                 (or requestId)
//	x-ncp-apigw-timestamp, x-ncp-iam-access-key, x-ncp-apigw-signature-v2 (over the path and query)
//
//	→ 200 {"statusCode": "200", "statusName": "success", "nextToken": "…",
//	       "messages": [{"requestId": "…", "messageId": "…", "requestTime": "…",
//	         "plusFriendId": "@…", "templateCode": "…", "countryCode": "82", "to": "…",
//	         "content": "…", "requestStatusCode": "A000", "requestStatusName": "success",
//	         "messageStatusCode": "0000", …}]}
//	→ 404 with an empty body: no such messages.
//
// SENS keeps no key of ours, and its requestId comes back only with the
// send's answer, which is what a crash loses. So Find lists what was sent
// to the message's number since the intent (or, for many messages,
// everything sent in that time), and the message is the one whose content
// is ours: every Allimi message holds its own detail link, so no other
// message has the same content. requestStatusCode A000 was taken; anything
// else was refused and may be sent again.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// sensPageSize is the most SENS lists in one page.
const sensPageSize = 100

type sensListResponse struct {
	StatusCode string       `json:"statusCode"`
	StatusName string       `json:"statusName"`
	NextToken  string       `json:"nextToken"`
	Messages   []sensListed `json:"messages"`
}

type sensListed struct {
	RequestID         string `json:"requestId"`
	MessageID         string `json:"messageId"`
	RequestTime       string `json:"requestTime"`
	PlusFriendID      string `json:"plusFriendId"`
	TemplateCode      string `json:"templateCode"`
	To                string `json:"to"`
	Content           string `json:"content"`
	RequestStatusCode string `json:"requestStatusCode"`
	MessageStatusCode string `json:"messageStatusCode"`
}

// sensByNumber is the most messages Find looks up one number at a time;
// more are looked up by listing everything the window holds, page by page
// (what a crash's reconciliation asks about is often thousands of
// messages, mostly never sent, and SENS mostly idle).
const sensByNumber = 8

// Find implements Finder.
func (n *sens) Find(ctx context.Context, since time.Time, msgs []Message) ([]Result, error) {
	res, _ := notFound(msgs)
	from, to := window(since)
	base := url.Values{"plusFriendId": {n.cfg.PlusFriendID},
		"requestStartTime": {from.Format("2006-01-02 15:04:05")},
		"requestEndTime":   {to.Format("2006-01-02 15:04:05")},
		"pageSize":         {strconv.Itoa(sensPageSize)}}
	if len(msgs) > sensByNumber {
		// The whole window: each listed message taken marks one of ours
		// with its number and content.
		want := map[string][]int{}
		for i, m := range msgs {
			if digits, ok := mobileDigits(m.Recipient); ok {
				k := digits + "\x00" + m.Text
				want[k] = append(want[k], i)
			}
		}
		err := n.list(ctx, base, func(l *sensListed) bool {
			k := l.To + "\x00" + l.Content
			if l.RequestStatusCode != "A000" || len(want[k]) == 0 {
				return false
			}
			i := want[k][0]
			want[k] = want[k][1:]
			r := &res[i]
			r.Status, r.Code, r.Reason, r.ProviderID = Accepted, l.RequestStatusCode, "found by the message list query", l.MessageID
			return false
		})
		if err != nil {
			return nil, err
		}
		return res, nil
	}
	for i, m := range msgs {
		digits, ok := mobileDigits(m.Recipient)
		if !ok {
			continue // never sent: prepare refuses it
		}
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("to", digits)
		if m.Template != "" {
			q.Set("templateCode", m.Template)
		}
		err := n.list(ctx, q, func(l *sensListed) bool {
			if l.To == digits && l.Content == m.Text && l.RequestStatusCode == "A000" {
				r := &res[i]
				r.Status, r.Code, r.Reason, r.ProviderID = Accepted, l.RequestStatusCode, "found by the message list query", l.MessageID
				return true
			}
			return false
		})
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// list reads every page of the message list query q, handing each message
// to found until it says it has what it wanted. A 404 is an empty list.
func (n *sens) list(ctx context.Context, q url.Values, found func(*sensListed) bool) error {
	for {
		var resp sensListResponse
		pathQuery := n.path + "?" + q.Encode()
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		h := http.Header{
			"X-Ncp-Apigw-Timestamp":    {ts},
			"X-Ncp-Iam-Access-Key":     {n.cfg.AccessKey},
			"X-Ncp-Apigw-Signature-V2": {SENSSignature(n.cfg.SecretKey, http.MethodGet, pathQuery, ts, n.cfg.AccessKey)},
		}
		_, err := n.get(ctx, n.url+"?"+q.Encode(), h, &resp, sensRefusal)
		var pe *ProviderError
		if errors.As(err, &pe) && pe.StatusCode == http.StatusNotFound {
			return nil // none
		}
		if err != nil {
			return err
		}
		for i := range resp.Messages {
			if found(&resp.Messages[i]) {
				return nil
			}
		}
		if resp.NextToken == "" || len(resp.Messages) == 0 {
			return nil
		}
		q.Set("nextToken", resp.NextToken)
	}
}

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
// to the message's number since the intent, and the message is the one
// whose content is ours: every Allimi message holds its own detail link,
// so no other message has the same content. requestStatusCode A000 was
// taken; anything else was refused and may be sent again.

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

// Find implements Finder.
func (n *sens) Find(ctx context.Context, since time.Time, msgs []Message) ([]Result, error) {
	res, _ := notFound(msgs)
	from, to := window(since)
	for i, m := range msgs {
		digits, ok := mobileDigits(m.Recipient)
		if !ok {
			continue // never sent: prepare refuses it
		}
		q := url.Values{"plusFriendId": {n.cfg.PlusFriendID},
			"requestStartTime": {from.Format("2006-01-02 15:04:05")},
			"requestEndTime":   {to.Format("2006-01-02 15:04:05")},
			"to":               {digits}, "pageSize": {strconv.Itoa(sensPageSize)}}
		if m.Template != "" {
			q.Set("templateCode", m.Template)
		}
	pages:
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
				break // none
			}
			if err != nil {
				return nil, err
			}
			for _, l := range resp.Messages {
				if l.To == digits && l.Content == m.Text && l.RequestStatusCode == "A000" {
					r := &res[i]
					r.Status, r.Code, r.Reason, r.ProviderID = Accepted, l.RequestStatusCode, "found by the message list query", l.MessageID
					break pages
				}
			}
			if resp.NextToken == "" || len(resp.Messages) == 0 {
				break
			}
			q.Set("nextToken", resp.NextToken)
		}
	}
	return res, nil
}

package channel

// NHN Cloud AlimTalk's message list query, API v2.3 (alimtalk-api-guide.md,
// "메시지 리스트 조회" / "List Messages"):
//
//	GET {base}/alimtalk/v2.3/appkeys/{appkey}/messages
//	    ?startRequestDate=yyyy-MM-dd HH:mm&endRequestDate=yyyy-MM-dd HH:mm   (or requestId)
//	    &senderGroupingKey=…&recipientGroupingKey=…&pageNum=1&pageSize=1000
//	X-Secret-Key: {secretKey}
//
//	→ 200 {"header": {"resultCode": 0, "resultMessage": "success", "isSuccessful": true},
//	       "messageSearchResultResponse": {"messages": [{"requestId": "…", "recipientSeq": 1,
//	         "recipientNo": "…", "requestDate": "…", "messageStatus": "COMPLETED"|"FAILED"|"CANCEL",
//	         "resultCode": "…", "senderGroupingKey": "…", "recipientGroupingKey": "…"}],
//	         "totalCount": 1}}
//
// The request id comes back only with the send's answer, which is what a
// crash loses; so a request carries the send-intent's name as its
// senderGroupingKey (Message.Group), and Find lists that group: one query
// per batch, a page per 1,000 messages. A message without a group is
// looked up by its recipientGroupingKey. A message listed, whatever its
// delivery status, was taken (its receipt tells the rest), except one
// CANCELled before it went.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// nhnPageSize is the most NHN lists in one page.
const nhnPageSize = 1000

type kakaoListResponse struct {
	Header nhnHeader `json:"header"`
	Body   *struct {
		Messages   []kakaoListed `json:"messages"`
		TotalCount int           `json:"totalCount"`
	} `json:"messageSearchResultResponse"`
}

type kakaoListed struct {
	RequestID            string `json:"requestId"`
	RecipientSeq         int    `json:"recipientSeq"`
	RecipientNo          string `json:"recipientNo"`
	RequestDate          string `json:"requestDate"`
	MessageStatus        string `json:"messageStatus"`
	ResultCode           string `json:"resultCode"`
	SenderGroupingKey    string `json:"senderGroupingKey"`
	RecipientGroupingKey string `json:"recipientGroupingKey"`
}

// Find implements Finder.
func (k *kakao) Find(ctx context.Context, since time.Time, msgs []Message) ([]Result, error) {
	res, idx := notFound(msgs)
	from, to := window(since)
	base := url.Values{
		"startRequestDate": {from.Format("2006-01-02 15:04")},
		"endRequestDate":   {to.Format("2006-01-02 15:04")},
	}
	groups, loose := groupsOf(msgs)
	list := func(name, value string) error {
		q := url.Values{name: {value}}
		for k, v := range base {
			q[k] = v
		}
		for page := 1; ; page++ {
			q.Set("pageNum", strconv.Itoa(page))
			q.Set("pageSize", strconv.Itoa(nhnPageSize))
			var resp kakaoListResponse
			if _, err := k.get(ctx, k.list+"?"+q.Encode(), k.header, &resp, nhnRefusal); err != nil {
				return err
			}
			if !resp.Header.IsSuccessful {
				return &ProviderError{Channel: k.ch, StatusCode: http.StatusOK,
					Code: strconv.Itoa(resp.Header.ResultCode), Message: resp.Header.ResultMessage}
			}
			if resp.Body == nil {
				return k.malformed(http.StatusOK, "no messageSearchResultResponse")
			}
			for _, m := range resp.Body.Messages {
				i, ok := idx[m.RecipientGroupingKey]
				if !ok || m.MessageStatus == "CANCEL" {
					continue
				}
				r := &res[i]
				r.Status, r.Code, r.Reason = Accepted, m.ResultCode, "found by the message list query"
				r.ProviderID = m.RequestID + "/" + strconv.Itoa(m.RecipientSeq)
			}
			if len(resp.Body.Messages) < nhnPageSize || page*nhnPageSize >= resp.Body.TotalCount {
				return nil
			}
		}
	}
	for _, g := range groups {
		if err := list("senderGroupingKey", g); err != nil {
			return nil, err
		}
	}
	for _, i := range loose {
		if err := list("recipientGroupingKey", msgs[i].Key); err != nil {
			return nil, err
		}
	}
	return res, nil
}

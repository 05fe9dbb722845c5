package channel

// NHN Cloud SMS's send list query, API v3.0 (api-guide.md, "발송 리스트 검색"):
//
//	GET {base}/sms/v3.0/appKeys/{appKey}/sender/sms     (and …/sender/mms for LMS)
//	    ?startRequestDate=yyyy-MM-dd HH:mm:ss&endRequestDate=yyyy-MM-dd HH:mm:ss   (or requestId)
//	    &senderGroupingKey=…&recipientGroupingKey=…&pageNum=1&pageSize=1000
//	X-Secret-Key: {secretKey}
//
//	→ 200 {"header": {"isSuccessful": true, "resultCode": 0, "resultMessage": "SUCCESS"},
//	       "body": {"pageNum": 1, "pageSize": 1000, "totalCount": 1,
//	         "data": [{"requestId": "…", "recipientSeq": 1, "recipientNo": "…", "requestDate": "…",
//	           "msgStatus": "3", "msgStatusName": "성공", "resultCode": "…",
//	           "senderGroupingKey": "…", "recipientGroupingKey": "…"}]}}
//
// As for AlimTalk (kakao_find.go), a request carries the send-intent's
// name as its senderGroupingKey and Find lists that group. msgStatus 0
// failed, 1 requested, 2 processing, 3 succeeded: all taken; 4 (reservation
// cancelled) and 5 (refused as a duplicate) were not.

import (
	"context"
	"net/url"
	"time"
)

type smsListResponse struct {
	Header nhnHeader `json:"header"`
	Body   *struct {
		TotalCount int         `json:"totalCount"`
		Data       []smsListed `json:"data"`
	} `json:"body"`
}

type smsListed struct {
	RequestID            string `json:"requestId"`
	RecipientSeq         int    `json:"recipientSeq"`
	RecipientNo          string `json:"recipientNo"`
	RequestDate          string `json:"requestDate"`
	MsgStatus            string `json:"msgStatus"`
	MsgStatusName        string `json:"msgStatusName"`
	ResultCode           string `json:"resultCode"`
	SenderGroupingKey    string `json:"senderGroupingKey"`
	RecipientGroupingKey string `json:"recipientGroupingKey"`
}

// Find implements Finder.
func (s *sms) Find(ctx context.Context, since time.Time, msgs []Message) ([]Result, error) {
	res, idx := notFound(msgs)
	from, to := window(since)
	list := func(u, name, value string) error {
		q := url.Values{name: {value},
			"startRequestDate": {from.Format("2006-01-02 15:04:05")},
			"endRequestDate":   {to.Format("2006-01-02 15:04:05")}}
		return nhnList(ctx, s.sender, u, s.header, q, func(resp *smsListResponse) (nhnHeader, []nhnListed, int, bool) {
			if resp.Body == nil {
				return resp.Header, nil, 0, false
			}
			out := make([]nhnListed, len(resp.Body.Data))
			for i, m := range resp.Body.Data {
				out[i] = nhnListed{requestID: m.RequestID, seq: m.RecipientSeq, key: m.RecipientGroupingKey,
					resultCode: m.ResultCode, taken: m.MsgStatus != "4" && m.MsgStatus != "5"}
			}
			return resp.Header, out, resp.Body.TotalCount, true
		}, func(m nhnListed) { m.mark(res, idx, "found by the send list query") })
	}
	type query struct {
		lms   bool
		group string
	}
	done := map[query]bool{}
	for _, m := range msgs {
		u := s.smsURL
		if m.LMS {
			u = s.mmsURL
		}
		if m.Group == "" {
			if err := list(u, "recipientGroupingKey", m.Key); err != nil {
				return nil, err
			}
			continue
		}
		if q := (query{m.LMS, m.Group}); !done[q] {
			done[q] = true
			if err := list(u, "senderGroupingKey", m.Group); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

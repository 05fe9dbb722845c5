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
	groups, loose := groupsOf(msgs)
	list := func(name, value string) error {
		q := url.Values{name: {value},
			"startRequestDate": {from.Format("2006-01-02 15:04")},
			"endRequestDate":   {to.Format("2006-01-02 15:04")}}
		return nhnList(ctx, k.sender, k.list, k.header, q, func(resp *kakaoListResponse) (nhnHeader, []nhnListed, int, bool) {
			if resp.Body == nil {
				return resp.Header, nil, 0, false
			}
			out := make([]nhnListed, len(resp.Body.Messages))
			for i, m := range resp.Body.Messages {
				out[i] = nhnListed{requestID: m.RequestID, seq: m.RecipientSeq, key: m.RecipientGroupingKey,
					resultCode: m.ResultCode, taken: m.MessageStatus != "CANCEL"}
			}
			return resp.Header, out, resp.Body.TotalCount, true
		}, func(m nhnListed) { m.mark(res, idx, "found by the message list query") })
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

// nhnListed is what Find needs of one message an NHN Cloud list query names.
type nhnListed struct {
	requestID  string
	seq        int
	key        string // its recipientGroupingKey: our Message.Key
	resultCode string
	taken      bool // false: cancelled or refused before it went
}

// mark records in res, found by idx, that the provider took m.
func (m nhnListed) mark(res []Result, idx map[string]int, reason string) {
	i, ok := idx[m.key]
	if !ok || !m.taken {
		return
	}
	r := &res[i]
	r.Status, r.Code, r.Reason = Accepted, m.resultCode, reason
	r.ProviderID = m.requestID + "/" + strconv.Itoa(m.seq)
}

// nhnList reads every page of an NHN Cloud list query at u with q
// (AlimTalk's message list and SMS's send list share the header, the
// paging and when to stop), handing each message to found. page reads one
// answer of type R: its header, messages, the total the provider counts,
// and false when the answer has no list.
func nhnList[R any](ctx context.Context, s *sender, u string, header http.Header, q url.Values,
	page func(*R) (nhnHeader, []nhnListed, int, bool), found func(nhnListed)) error {
	for n := 1; ; n++ {
		q.Set("pageNum", strconv.Itoa(n))
		q.Set("pageSize", strconv.Itoa(nhnPageSize))
		var resp R
		if _, err := s.get(ctx, u+"?"+q.Encode(), header, &resp, nhnRefusal); err != nil {
			return err
		}
		h, msgs, total, ok := page(&resp)
		if !h.IsSuccessful {
			return &ProviderError{Channel: s.ch, StatusCode: http.StatusOK, Code: strconv.Itoa(h.ResultCode), Message: h.ResultMessage}
		}
		if !ok {
			return s.malformed(http.StatusOK, "no list in the answer")
		}
		for _, m := range msgs {
			found(m)
		}
		if len(msgs) < nhnPageSize || n*nhnPageSize >= total {
			return nil
		}
	}
}

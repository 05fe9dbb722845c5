package channel

// The Naver app notice's result query, as assumed (naver.go: Naver
// publishes no such API), in the same style as its send and as Toss's
// (toss_find.go):
//
//	POST {base}/naver/v1/notices/query
//	Authorization: Bearer {token}
//
//	{"keys": ["…"]}                                          // at most 100
//
//	→ 200 {"results": [{"key": "…", "status": "accepted"|"notFound", "messageId": "…"}]}

import (
	"context"
	"net/http"
	"time"
)

// Find implements Finder.
func (n *naver) Find(ctx context.Context, _ time.Time, msgs []Message) ([]Result, error) {
	res, idx := notFound(msgs)
	hdr := http.Header{"Authorization": {"Bearer " + n.token}}
	for start := 0; start < len(msgs); start += naverMaxBatch {
		part := msgs[start:min(start+naverMaxBatch, len(msgs))]
		q := tossQuery{Keys: make([]string, len(part))}
		for j, m := range part {
			q.Keys[j] = m.Key
		}
		var resp tossResponse
		if _, err := n.post(ctx, n.url+"/query", hdr, &q, &resp, tossRefusal); err != nil {
			return nil, err
		}
		for _, r := range resp.Results {
			if i, ok := idx[r.Key]; ok && r.Status == "accepted" {
				res[i].Status, res[i].ProviderID, res[i].Reason = Accepted, r.MessageID, "found by the result query"
			}
		}
	}
	return res, nil
}

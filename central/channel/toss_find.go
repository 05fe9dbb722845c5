package channel

// Toss push's result query, as assumed (toss.go: Toss publishes no push
// API), in the same style as its send:
//
//	POST {base}/toss/v1/push/query
//	Authorization: Bearer {token}
//
//	{"keys": ["…"]}                                          // at most 500
//
//	→ 200 {"results": [{"key": "…", "status": "accepted"|"notFound", "messageId": "…"}]}

import (
	"context"
	"net/http"
	"time"
)

type tossQuery struct {
	Keys []string `json:"keys"`
}

// Find implements Finder.
func (t *toss) Find(ctx context.Context, _ time.Time, msgs []Message) ([]Result, error) {
	res, idx := notFound(msgs)
	hdr := http.Header{"Authorization": {"Bearer " + t.token}}
	for start := 0; start < len(msgs); start += tossMaxBatch {
		part := msgs[start:min(start+tossMaxBatch, len(msgs))]
		q := tossQuery{Keys: make([]string, len(part))}
		for j, m := range part {
			q.Keys[j] = m.Key
		}
		var resp tossResponse
		if _, err := t.post(ctx, t.url+"/query", hdr, &q, &resp, tossRefusal); err != nil {
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

package channel

// The Naver app notice: the naver channel, a notice in the Naver app's
// notification tab. Naver publishes no API through which a sender can put a
// notice there (its developer site documents login, search and maps), so,
// as for Toss push (toss.go), this is an assumed JSON webhook in the style
// of the public APIs we know (Bearer token, Idempotency-Key header, camelCase
// JSON, error objects with code and message):
//
//	POST {base}/naver/v1/notices
//	Authorization: Bearer {token}
//	Idempotency-Key: {hex SHA-256 of the batch's keys, first 32 characters}
//
//	{"messages": [{"key": "…", "phone": "01012345678",      // at most 100
//	   "title": "…", "body": "…", "link": "https://…", "templateCode": "…"}]}
//
//	→ 200 {"results": [{"key": "…", "status": "accepted"|"rejected"|"retry",
//	         "code": "…", "reason": "…", "messageId": "…"}]}
//	→ 401 {"error": {"code": "UNAUTHORIZED", "message": "…"}}
//	→ 429 (Retry-After), 5xx {"error": {"code": "…", "message": "…"}}
//
// Each message carries our idempotency key; the provider answers a key it
// has already accepted with the original result. "rejected" with code
// NOT_NAVER_USER (NaverNotUser) is a phone with no Naver account that takes
// notices: the dispatcher falls back, as for "not a KakaoTalk user".
// INVALID_PHONE and EMPTY_BODY are rejected too. templateCode is the
// template's code, if the notice has one (Naver may show notices of one
// template together); it is optional. MaxBatch 100 is the batch size of
// the channel's earlier provider, SENS, kept so that the dispatcher's
// batches do not change. Its result query is in naver_find.go.

import (
	"context"
	"net/http"

	"allimi"
)

const naverMaxBatch = 100

// NaverNotUser is the code for a phone without a Naver account that takes
// app notices.
const NaverNotUser = "NOT_NAVER_USER"

type naverRequest struct {
	Messages []naverMessage `json:"messages"`
}

type naverMessage struct {
	Key          string `json:"key"`
	Phone        string `json:"phone"`
	Title        string `json:"title,omitempty"`
	Body         string `json:"body"`
	Link         string `json:"link,omitempty"`
	TemplateCode string `json:"templateCode,omitempty"`
}

// naver is the Naver app notice adapter. Its answers have Toss's shape
// (tossResponse).
type naver struct {
	*sender
	url   string
	token string
}

func newNaver(cfg NaverAppConfig, client *http.Client) (*naver, error) {
	base, err := cfg.baseURL("naverApp")
	if err != nil {
		return nil, err
	}
	if err := required("naverApp", "token", cfg.Token); err != nil {
		return nil, err
	}
	return &naver{sender: newSender(allimi.ChannelNaver, cfg.Endpoint, client, naverMaxBatch),
		url: base + "/naver/v1/notices", token: cfg.Token}, nil
}

func (n *naver) Channel() allimi.Channel { return allimi.ChannelNaver }
func (n *naver) MaxBatch() int           { return naverMaxBatch }

func (n *naver) Send(ctx context.Context, batch []Message) ([]Result, error) {
	if err := n.begin(ctx, batch); err != nil {
		return nil, err
	}
	res, out := prepare(batch)
	out = rejectIf(res, out, needText)
	if len(out) == 0 {
		return res, nil
	}
	req := naverRequest{Messages: make([]naverMessage, len(out))}
	for j, o := range out {
		req.Messages[j] = naverMessage{Key: o.m.Key, Phone: o.digits, Title: o.m.Title, Body: o.m.Text,
			Link: o.m.Link, TemplateCode: o.m.Template}
	}
	hdr := http.Header{
		"Authorization":   {"Bearer " + n.token},
		"Idempotency-Key": {batchKey(out)},
	}
	var resp tossResponse
	if _, err := n.post(ctx, n.url, hdr, &req, &resp, tossRefusal); err != nil {
		return nil, err
	}
	if err := webhookResults(n.sender, out, res, resp.Results); err != nil {
		return nil, err
	}
	return res, nil
}

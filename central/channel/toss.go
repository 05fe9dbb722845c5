package channel

// Toss push. Toss has no public API for sending notifications to its users
// (its developer site documents payments only), so this is an assumed JSON
// webhook in the style of Toss Payments' API (Bearer token, Idempotency-Key
// header, camelCase JSON, error objects with code and message):
//
//	POST {base}/toss/v1/push
//	Authorization: Bearer {token}
//	Idempotency-Key: {hex SHA-256 of the batch's keys, first 32 characters}
//
//	{"messages": [{"key": "…", "phone": "01012345678", "title": "…",   // at most 500
//	   "body": "…", "link": "https://…"}]}
//
//	→ 200 {"results": [{"key": "…", "status": "accepted"|"rejected"|"retry",
//	         "code": "…", "reason": "…", "messageId": "…"}]}
//	→ 401 {"error": {"code": "UNAUTHORIZED", "message": "…"}}
//
// Each message carries our idempotency key; the provider answers a key it
// has already accepted with the original result. MaxBatch 500 is our choice:
// about 250 KB of JSON at Allimi's message sizes, small enough that one slow
// request does not hold many people's notices.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"allimi"
)

const tossMaxBatch = 500

type tossRequest struct {
	Messages []tossMessage `json:"messages"`
}

type tossMessage struct {
	Key   string `json:"key"`
	Phone string `json:"phone"`
	Title string `json:"title,omitempty"`
	Body  string `json:"body"`
	Link  string `json:"link,omitempty"`
}

type tossResponse struct {
	Results []tossResult `json:"results"`
}

type tossResult struct {
	Key       string `json:"key"`
	Status    string `json:"status"`
	Code      string `json:"code,omitempty"`
	Reason    string `json:"reason,omitempty"`
	MessageID string `json:"messageId,omitempty"`
}

// TossNotUser is the code the fake gives a phone that has no Toss account.
const TossNotUser = "NOT_TOSS_USER"

type toss struct {
	*sender
	url   string
	token string
}

func newToss(cfg TossConfig, client *http.Client) (*toss, error) {
	base, err := cfg.baseURL("toss")
	if err != nil {
		return nil, err
	}
	if err := required("toss", "token", cfg.Token); err != nil {
		return nil, err
	}
	return &toss{sender: newSender(allimi.ChannelToss, cfg.Endpoint, client, tossMaxBatch),
		url: base + "/toss/v1/push", token: cfg.Token}, nil
}

func (t *toss) Channel() allimi.Channel { return allimi.ChannelToss }
func (t *toss) MaxBatch() int           { return tossMaxBatch }

func (t *toss) Send(ctx context.Context, batch []Message) ([]Result, error) {
	if err := t.begin(ctx, batch); err != nil {
		return nil, err
	}
	res, out := prepare(batch)
	out = rejectIf(res, out, needText)
	if len(out) == 0 {
		return res, nil
	}
	req := tossRequest{Messages: make([]tossMessage, len(out))}
	for j, o := range out {
		req.Messages[j] = tossMessage{Key: o.m.Key, Phone: o.digits, Title: o.m.Title, Body: o.m.Text, Link: o.m.Link}
	}
	hdr := http.Header{
		"Authorization":   {"Bearer " + t.token},
		"Idempotency-Key": {batchKey(out)},
	}
	var resp tossResponse
	if _, err := t.post(ctx, t.url, hdr, &req, &resp, tossRefusal); err != nil {
		return nil, err
	}
	if err := webhookResults(t.sender, out, res, resp.Results); err != nil {
		return nil, err
	}
	return res, nil
}

// webhookResults reads the assumed webhooks' per-message results (Toss
// push, the Naver app notice) into res: one per message sent, in order,
// each naming its key.
func webhookResults(s *sender, out []outgoing, res []Result, got []tossResult) error {
	if len(got) != len(out) {
		return s.malformed(http.StatusOK, "%d results for %d messages", len(got), len(out))
	}
	for j, tr := range got {
		o := out[j]
		if tr.Key != o.m.Key {
			return s.malformed(http.StatusOK, "results[%d] names key %q, expected %q", j, tr.Key, o.m.Key)
		}
		r := &res[o.i]
		r.Code, r.Reason, r.ProviderID = tr.Code, tr.Reason, tr.MessageID
		switch tr.Status {
		case "accepted":
			r.Status = Accepted
		case "rejected":
			r.Status = Rejected
		case "retry":
			r.Status = Retry
		default:
			return s.malformed(http.StatusOK, "results[%d] has status %q", j, tr.Status)
		}
	}
	return nil
}

// batchKey is a webhook request's Idempotency-Key: the first 32 hex
// characters of the SHA-256 of its messages' keys, each followed by a comma.
func batchKey(out []outgoing) string {
	h := sha256.New()
	for _, o := range out {
		h.Write([]byte(o.m.Key))
		h.Write([]byte{','})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// tossRefusal reads {"error": {"code": …, "message": …}}.
func tossRefusal(_ int, body []byte) *ProviderError {
	var r struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil || r.Error == nil {
		return nil
	}
	return &ProviderError{Code: r.Error.Code, Message: r.Error.Message}
}

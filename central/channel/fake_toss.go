package channel

import (
	"fmt"
	"net/http"
	"strconv"
)

// tossSend serves the assumed Toss push API (see toss.go).
func (f *Fake) tossSend(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.cfg.Toss.Token {
		providerError(w, fkToss, http.StatusUnauthorized, "UNAUTHORIZED", "missing or invalid bearer token")
		return
	}
	if r.Header.Get("Idempotency-Key") == "" {
		providerError(w, fkToss, http.StatusBadRequest, "INVALID_REQUEST", "the Idempotency-Key header is required")
		return
	}
	var req tossRequest
	if !decodeBody(w, r, fkToss, &req) {
		return
	}
	if len(req.Messages) == 0 || len(req.Messages) > tossMaxBatch {
		providerError(w, fkToss, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("messages: %d entries, must be 1 to %d", len(req.Messages), tossMaxBatch))
		return
	}
	msgs := make([]fakeMsg, len(req.Messages))
	for j := range req.Messages {
		tm := &req.Messages[j]
		if tm.Key == "" {
			providerError(w, fkToss, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("messages[%d].key is required", j))
			return
		}
		m := &msgs[j]
		m.key, m.recipient = tm.Key, tm.Phone
		if !f.opts.Lean {
			m.title, m.text = tm.Title, tm.Body
		}
		switch {
		case !validNumber(tm.Phone):
			m.code, m.reason = "INVALID_PHONE", "phone is not a mobile number"
		case tm.Body == "":
			m.code, m.reason = "EMPTY_BODY", "body is empty"
		}
	}
	prefix := "tm_" + strconv.FormatInt(f.start.Unix(), 36) + "_"
	out := f.take(fkToss, msgs, TossNotUser, "no Toss account for this phone",
		func(id uint64, _ int) string { return prefix + strconv.FormatUint(id, 36) })
	resp := tossResponse{Results: make([]tossResult, len(out))}
	for j, o := range out {
		tr := &resp.Results[j]
		tr.Key, tr.MessageID = msgs[j].key, o.providerID
		if o.accepted {
			tr.Status = "accepted"
		} else {
			tr.Status, tr.Code, tr.Reason = "rejected", o.code, o.reason
		}
	}
	writeJSON(w, http.StatusOK, &resp)
}

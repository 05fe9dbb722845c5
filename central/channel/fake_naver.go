package channel

import (
	"fmt"
	"net/http"
	"strconv"
)

// naverSend serves the assumed Naver app notice API (see naver.go).
func (f *Fake) naverSend(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.cfg.NaverApp.Token {
		providerError(w, fkNaver, http.StatusUnauthorized, "UNAUTHORIZED", "missing or invalid bearer token")
		return
	}
	if r.Header.Get("Idempotency-Key") == "" {
		providerError(w, fkNaver, http.StatusBadRequest, "INVALID_REQUEST", "the Idempotency-Key header is required")
		return
	}
	var req naverRequest
	if !decodeBody(w, r, fkNaver, &req) {
		return
	}
	if len(req.Messages) == 0 || len(req.Messages) > naverMaxBatch {
		providerError(w, fkNaver, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("messages: %d entries, must be 1 to %d", len(req.Messages), naverMaxBatch))
		return
	}
	msgs := make([]fakeMsg, len(req.Messages))
	for j := range req.Messages {
		nm := &req.Messages[j]
		if nm.Key == "" {
			providerError(w, fkNaver, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("messages[%d].key is required", j))
			return
		}
		m := &msgs[j]
		m.key, m.recipient = nm.Key, nm.Phone
		if !f.opts.Lean {
			m.title, m.text = nm.Title, nm.Body
		}
		switch {
		case !validNumber(nm.Phone):
			m.code, m.reason = "INVALID_PHONE", "phone is not a mobile number"
		case nm.Body == "":
			m.code, m.reason = "EMPTY_BODY", "body is empty"
		}
	}
	prefix := f.naverPrefix()
	out := f.take(fkNaver, msgs, NaverNotUser, "no Naver account takes notices for this phone",
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

// naverPrefix starts the fake's Naver notice ids.
func (f *Fake) naverPrefix() string { return "nv_" + strconv.FormatInt(f.start.Unix(), 36) + "_" }

// naverQuery serves the assumed Naver app notice result query
// (naver_find.go).
func (f *Fake) naverQuery(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.cfg.NaverApp.Token {
		providerError(w, fkNaver, http.StatusUnauthorized, "UNAUTHORIZED", "missing or invalid bearer token")
		return
	}
	var req tossQuery
	if !decodeBody(w, r, fkNaver, &req) {
		return
	}
	if len(req.Keys) == 0 || len(req.Keys) > naverMaxBatch {
		providerError(w, fkNaver, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("keys: must be 1 to %d", naverMaxBatch))
		return
	}
	resp := tossResponse{Results: make([]tossResult, len(req.Keys))}
	prefix := f.naverPrefix()
	f.mu.Lock()
	for j, k := range req.Keys {
		resp.Results[j] = tossResult{Key: k, Status: "notFound"}
		if id, ok := f.accepted[fkNaver][k]; ok {
			resp.Results[j].Status, resp.Results[j].MessageID = "accepted", prefix+strconv.FormatUint(id, 36)
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, &resp)
}

package channel

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// lookup wraps a provider's result query: counted, and failed (HTTP 500 in
// the provider's shape) under the lookup fault. Queries take no latency:
// they are small.
func (f *Fake) lookup(ch int, h func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.counts[ch].Lookups++
		fail := f.rollLocked(ch, FaultLookup)
		f.mu.Unlock()
		if fail {
			providerError(w, ch, http.StatusInternalServerError, "-9999", "System error (fake lookup fault).")
			return
		}
		h(w, r)
	})
}

// fakeFound is an accepted message as a result query shows it.
type fakeFound struct {
	key, group, providerID, recipient string
	at                                time.Time
}

// foundLocked lists the accepted messages of ch named by a sender grouping
// key or by a recipient grouping key (one of them): every acceptance, so
// that under NoDedupe a repeat shows as often as it was taken.
func (f *Fake) foundLocked(ch int, group, key string) []fakeFound {
	var keys []string
	switch {
	case group != "":
		keys = f.groups[ch][group] // one entry per acceptance
	case key != "":
		if _, ok := f.accepted[ch][key]; ok {
			for range 1 + f.repeats[ch][key] {
				keys = append(keys, key)
			}
		}
	}
	out := make([]fakeFound, 0, len(keys))
	for _, k := range keys {
		ff := fakeFound{key: k, group: group}
		if id := f.accepted[ch][k]; !f.opts.Lean && id >= 1 && int(id) <= len(f.recs) {
			r := &f.recs[id-1]
			ff.providerID, ff.recipient, ff.at = r.providerID, r.recipient, time.Unix(0, r.at)
		}
		out = append(out, ff)
	}
	return out
}

// page cuts a list to pageNum (from 1) of pageSize.
func page[T any](all []T, pageNum, pageSize int) []T {
	start := (pageNum - 1) * pageSize
	if start >= len(all) {
		return nil
	}
	return all[start:min(start+pageSize, len(all))]
}

// nhnPaging reads pageNum (default 1) and pageSize (default 15, at most
// 1,000) as NHN does.
func nhnPaging(r *http.Request) (num, size int, ok bool) {
	num, size = 1, 15
	if v := r.URL.Query().Get("pageNum"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, false
		}
		num = n
	}
	if v := r.URL.Query().Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > nhnPageSize {
			return 0, 0, false
		}
		size = n
	}
	return num, size, true
}

// nhnWindow checks that a list query names a request id or a request date
// window in layout. The fake does not filter by the dates.
func nhnWindow(r *http.Request, layout string) bool {
	q := r.URL.Query()
	if q.Get("requestId") != "" {
		return true
	}
	_, err1 := time.ParseInLocation(layout, q.Get("startRequestDate"), kst)
	_, err2 := time.ParseInLocation(layout, q.Get("endRequestDate"), kst)
	return err1 == nil && err2 == nil
}

func splitProviderID(id string) (requestID string, seq int) {
	req, s, _ := strings.Cut(id, "/")
	n, _ := strconv.Atoi(s)
	return req, n
}

// kakaoList serves NHN AlimTalk's message list (kakao_find.go).
func (f *Fake) kakaoList(w http.ResponseWriter, r *http.Request) {
	cfg := f.cfg.Kakao
	if r.PathValue("appkey") != cfg.AppKey {
		providerError(w, fkKakao, http.StatusUnauthorized, "-1000", "Invalid appKey.")
		return
	}
	if r.Header.Get("X-Secret-Key") != cfg.SecretKey {
		providerError(w, fkKakao, http.StatusUnauthorized, "-1001", "Invalid secretKey.")
		return
	}
	if !nhnWindow(r, "2006-01-02 15:04") {
		providerError(w, fkKakao, http.StatusBadRequest, "-2001", "requestId, or startRequestDate and endRequestDate (yyyy-MM-dd HH:mm), are required.")
		return
	}
	num, size, ok := nhnPaging(r)
	if !ok {
		providerError(w, fkKakao, http.StatusBadRequest, "-2001", "pageNum must be at least 1 and pageSize 1 to 1000.")
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	all := f.foundLocked(fkKakao, q.Get("senderGroupingKey"), q.Get("recipientGroupingKey"))
	f.mu.Unlock()
	var resp kakaoListResponse
	resp.Header = nhnHeader{ResultCode: 0, ResultMessage: "success", IsSuccessful: true}
	resp.Body = &struct {
		Messages   []kakaoListed `json:"messages"`
		TotalCount int           `json:"totalCount"`
	}{Messages: []kakaoListed{}, TotalCount: len(all)}
	for _, m := range page(all, num, size) {
		reqID, seq := splitProviderID(m.providerID)
		l := kakaoListed{RequestID: reqID, RecipientSeq: seq, RecipientNo: m.recipient, MessageStatus: "COMPLETED",
			ResultCode: "MRC01", SenderGroupingKey: m.group, RecipientGroupingKey: m.key}
		if !m.at.IsZero() {
			l.RequestDate = m.at.In(kst).Format("2006-01-02 15:04:05.0")
		}
		resp.Body.Messages = append(resp.Body.Messages, l)
	}
	writeJSON(w, http.StatusOK, &resp)
}

// smsList serves NHN SMS's send list (sms_find.go), for SMS and LMS alike.
func (f *Fake) smsList(w http.ResponseWriter, r *http.Request) {
	cfg := f.cfg.SMS
	if r.PathValue("appKey") != cfg.AppKey || r.Header.Get("X-Secret-Key") != cfg.SecretKey {
		providerError(w, fkSMS, http.StatusUnauthorized, "-1000", "Invalid appKey or secretKey.")
		return
	}
	if !nhnWindow(r, "2006-01-02 15:04:05") {
		providerError(w, fkSMS, http.StatusBadRequest, "-2001", "requestId, or startRequestDate and endRequestDate (yyyy-MM-dd HH:mm:ss), are required.")
		return
	}
	num, size, ok := nhnPaging(r)
	if !ok {
		providerError(w, fkSMS, http.StatusBadRequest, "-2001", "pageNum must be at least 1 and pageSize 1 to 1000.")
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	all := f.foundLocked(fkSMS, q.Get("senderGroupingKey"), q.Get("recipientGroupingKey"))
	f.mu.Unlock()
	var resp smsListResponse
	resp.Header = nhnHeader{ResultCode: 0, ResultMessage: "SUCCESS", IsSuccessful: true}
	resp.Body = &struct {
		TotalCount int         `json:"totalCount"`
		Data       []smsListed `json:"data"`
	}{TotalCount: len(all), Data: []smsListed{}}
	for _, m := range page(all, num, size) {
		reqID, seq := splitProviderID(m.providerID)
		l := smsListed{RequestID: reqID, RecipientSeq: seq, RecipientNo: m.recipient, MsgStatus: "3", MsgStatusName: "성공",
			ResultCode: "1000", SenderGroupingKey: m.group, RecipientGroupingKey: m.key}
		if !m.at.IsZero() {
			l.RequestDate = m.at.In(kst).Format("2006-01-02 15:04:05.0")
		}
		resp.Body.Data = append(resp.Body.Data, l)
	}
	writeJSON(w, http.StatusOK, &resp)
}

// sensList serves SENS AlimTalk's message list (sens_find.go): by
// number within a request time window, newest last; 404 with an empty body
// when nothing matches, as SENS answers.
func (f *Fake) sensList(w http.ResponseWriter, r *http.Request) {
	cfg := f.cfg.Naver
	if r.PathValue("serviceId") != cfg.ServiceID {
		providerError(w, fkSENS, http.StatusNotFound, "404", "No such service: "+r.PathValue("serviceId"))
		return
	}
	if err := f.checkSENSSignature(r); err != nil {
		providerError(w, fkSENS, http.StatusUnauthorized, "200", "Authentication Failed: "+err.Error())
		return
	}
	q := r.URL.Query()
	const layout = "2006-01-02 15:04:05"
	from, err1 := time.ParseInLocation(layout, q.Get("requestStartTime"), kst)
	to, err2 := time.ParseInLocation(layout, q.Get("requestEndTime"), kst)
	switch {
	case q.Get("requestId") == "" && (err1 != nil || err2 != nil):
		providerError(w, fkSENS, http.StatusBadRequest, "400", "requestId, or requestStartTime and requestEndTime (YYYY-MM-DD HH:mm:ss), are required")
		return
	case q.Get("requestId") == "" && q.Get("plusFriendId") != cfg.PlusFriendID:
		providerError(w, fkSENS, http.StatusBadRequest, "400", "plusFriendId is required and must be a channel of this service")
		return
	}
	size := 20
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > sensPageSize {
			providerError(w, fkSENS, http.StatusBadRequest, "400", "pageSize must be 1 to 100")
			return
		}
		size = n
	}
	start := 0
	if v := q.Get("nextToken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			providerError(w, fkSENS, http.StatusBadRequest, "400", "nextToken is not one this service gave")
			return
		}
		start = n
	}
	to1, msgID := q.Get("to"), q.Get("messageId")
	var all []sensListed
	f.mu.Lock()
	for i := range f.recs {
		rec := &f.recs[i]
		at := time.Unix(0, rec.at)
		if int(rec.ch) != fkSENS || !rec.accepted || (to1 != "" && rec.recipient != to1) ||
			(msgID != "" && rec.providerID != msgID) || (err1 == nil && (at.Before(from) || at.After(to))) {
			continue
		}
		all = append(all, sensListed{MessageID: rec.providerID, RequestTime: at.In(kst).Format("2006-01-02T15:04:05.000"),
			PlusFriendID: cfg.PlusFriendID, To: rec.recipient, Content: rec.text, RequestStatusCode: "A000"})
	}
	f.mu.Unlock()
	if start >= len(all) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	resp := sensListResponse{StatusCode: "200", StatusName: "success", Messages: all[start:min(start+size, len(all))]}
	if start+size < len(all) {
		resp.NextToken = strconv.Itoa(start + size)
	}
	writeJSON(w, http.StatusOK, &resp)
}

// tossQuery serves the assumed Toss result query (toss_find.go).
func (f *Fake) tossQuery(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.cfg.Toss.Token {
		providerError(w, fkToss, http.StatusUnauthorized, "UNAUTHORIZED", "missing or invalid bearer token")
		return
	}
	var req tossQuery
	if !decodeBody(w, r, fkToss, &req) {
		return
	}
	if len(req.Keys) == 0 || len(req.Keys) > tossMaxBatch {
		providerError(w, fkToss, http.StatusBadRequest, "INVALID_REQUEST", "keys: must be 1 to 500")
		return
	}
	resp := tossResponse{Results: make([]tossResult, len(req.Keys))}
	prefix := "tm_" + strconv.FormatInt(f.start.Unix(), 36) + "_"
	f.mu.Lock()
	for j, k := range req.Keys {
		resp.Results[j] = tossResult{Key: k, Status: "notFound"}
		if id, ok := f.accepted[fkToss][k]; ok {
			resp.Results[j].Status, resp.Results[j].MessageID = "accepted", prefix+strconv.FormatUint(id, 36)
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, &resp)
}

package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"allimi"
)

func (s *Server) notifyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/notifications", s.agency(s.handlePostNotification))
	mux.HandleFunc("GET /api/v1/notifications/{id}", s.agency(s.handleGetNotification))
	mux.HandleFunc("GET /api/v1/deadletters", s.admin(s.handleDeadLetters))
	mux.HandleFunc("POST /api/v1/deadletters/replay", s.admin(s.handleReplay))
	mux.HandleFunc("POST /api/v1/deadletters/{id}/replay", s.admin(s.handleReplay))
	mux.HandleFunc("POST /api/v1/receipts", s.handleReceipts)
	mux.HandleFunc("GET /stats", s.handleStatsPage)
}

// agency lets through requests bearing an agency's token.
func (s *Server) agency(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		id, found := "", false
		if ok {
			id, found = s.Store.AgencyByToken(tok)
		}
		if !found {
			writeError(w, http.StatusUnauthorized, errors.New("agency token required (Authorization: Bearer, from `allimi central agency add`)"))
			return
		}
		h(w, r, id)
	}
}

// NotificationResponse answers a POST: what was accepted and for how many.
type NotificationResponse struct {
	ID            uint64                  `json:"id"`
	Type          allimi.NotificationType `json:"type"`
	Status        string                  `json:"status"`
	Recipients    int64                   `json:"recipients"`
	NotSubscribed int64                   `json:"notSubscribed"`
	Deliveries    int64                   `json:"deliveries"`
	Urgent        bool                    `json:"urgent"`
	Repeat        bool                    `json:"repeat,omitempty"`
	// Channels is where the deliveries stand per channel (GET only).
	Channels map[allimi.Channel]ChannelStatus `json:"channels,omitempty"`
}

func responseOf(n allimi.Notification) NotificationResponse {
	return NotificationResponse{ID: n.ID, Type: n.Type, Status: n.Status, Recipients: n.Recipients,
		NotSubscribed: n.NotSubscribed, Deliveries: n.Deliveries, Urgent: n.Urgent}
}

func (s *Server) handlePostNotification(w http.ResponseWriter, r *http.Request, agency string) {
	s.allowLong(w)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	ndjson := mt == "application/x-ndjson" || mt == "application/ndjson"
	if !ndjson {
		limitBody(w, r, maxNotificationJSON) // the route allows maxNotificationBody, for NDJSON
	}
	req, err := allimi.DecodeNotificationRequest(r.Body, ndjson)
	if err != nil {
		if limit, ok := bodyTooLarge(r); ok {
			how := "send NDJSON in several notifications"
			if !ndjson {
				how = "send a large list of citizens as NDJSON (Content-Type: application/x-ndjson)"
			}
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body larger than %d bytes: %s", limit, how)})
			return
		}
		writeFieldError(w, err)
		return
	}
	if !s.checkAgencyPolicy(w, agency, req) {
		return
	}
	idem := r.Header.Get("Idempotency-Key")
	if len(idem) > 200 {
		writeFieldError(w, allimi.FieldErr("Idempotency-Key", "longer than 200 characters"))
		return
	}
	n, repeat, err := s.Notify.Create(agency, idem, req)
	if n.ID == 0 {
		writeFieldError(w, err)
		return
	}
	if !repeat {
		s.counted(n.Type)
		s.Log.Info("notification accepted", "id", n.ID, "agency", agency, "type", n.Type, "campaign", n.Campaign)
	}
	if err != nil { // stored, but its expansion failed
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	resp := responseOf(n)
	resp.Repeat = repeat
	code := http.StatusAccepted
	if repeat {
		code = http.StatusOK
	}
	writeJSON(w, code, resp)
}

func writeFieldError(w http.ResponseWriter, err error) {
	var fe *allimi.FieldError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fe.Error(), "field": fe.Field, "reason": fe.Reason})
	case errors.As(err, &mbe):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body larger than %d bytes: send NDJSON in several notifications", mbe.Limit)})
	default:
		writeError(w, http.StatusInternalServerError, err)
	}
}

func (s *Server) handleGetNotification(w http.ResponseWriter, r *http.Request, agency string) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("notification id %q: not a number", r.PathValue("id")))
		return
	}
	n, err := s.Store.GetNotification(id)
	if errors.Is(err, allimi.ErrNotFound) || (err == nil && n.Agency != agency) {
		writeError(w, http.StatusNotFound, fmt.Errorf("notification %d: not found", id))
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	states, err := s.Store.NotificationChannels(n.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	resp := responseOf(n)
	resp.Channels = channelStatus(n, states)
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	limit := 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			limit = min(n, 100000)
		}
	}
	dls, total, err := s.Store.DeadLetters(limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "deadletters": dls})
}

func (s *Server) handleReplay(w http.ResponseWriter, r *http.Request) {
	s.allowLong(w) // a whole dead-letter queue may go back
	n, err := s.Notify.ReplayDeadLetters(r.PathValue("id"))
	switch {
	case err != nil:
		writeError(w, statusOf(err), err)
	default:
		writeJSON(w, http.StatusOK, map[string]int{"replayed": n})
	}
}

// handleReceipts takes providers' delivery receipts. Providers authenticate
// with the receipt token of keys.json, as a bearer token or a token query
// parameter (for webhooks that can only be configured with a URL).
func (s *Server) handleReceipts(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("token")
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.Keys.ReceiptToken)) != 1 {
		writeError(w, http.StatusUnauthorized, errors.New("receipt token required"))
		return
	}
	var body struct {
		Receipts []allimi.ProviderReceipt `json:"receipts"`
	}
	s.allowLong(w)
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil { // under the route's limit (httplimits.go)
		if writeTooLarge(w, r) {
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf("receipts: %v", err))
		return
	}
	applied, ignored, err := s.Notify.ApplyReceipts(body.Receipts)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"applied": applied, "ignored": ignored})
}

// statsView is what the delivery table's page shows.
type statsView struct {
	Rows []statsRow
	// People are the subscribers per channel and their shares.
	People SubscriberStats
}

type statsRow struct {
	Type, Channel string
	M             map[string]int64
}

func (s *Server) handleStatsPage(w http.ResponseWriter, _ *http.Request) {
	ds, err := s.Store.DeliveryStats()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	var v statsView
	for _, ti := range allimi.Types() {
		for _, ch := range allimi.Channels {
			if m := ds[string(ti.ID)][string(ch)]; m != nil {
				v.Rows = append(v.Rows, statsRow{ti.Name + " (" + string(ti.ID) + ")", string(ch), m})
			}
		}
	}
	if v.People, err = s.subscriberStats(); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = statsPage.Execute(w, v)
}

// checkAgencyPolicy answers 403 (and returns false) when agency may not
// send req; nothing is stored then.
func (s *Server) checkAgencyPolicy(w http.ResponseWriter, agency string, req *allimi.NotificationRequest) bool {
	p, err := s.Store.AgencyPolicyOf(agency)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return false
	}
	err = p.Permits(agency, req)
	var fe *allimi.FieldError
	if errors.As(err, &fe) {
		s.Log.Warn("notification refused by the agency's policy", "agency", agency, "field", fe.Field)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": fe.Error(), "field": fe.Field, "reason": fe.Reason})
		return false
	}
	return true
}

// maxNotificationBody bounds an agency request: about 2 M listed citizens as NDJSON.
const maxNotificationBody = 256 << 20

var statsPage = template.Must(template.New("stats").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>알리미 발송 현황</title>
<style>body{font-family:sans-serif;font-size:18px;margin:1.5em;color:#111}table{border-collapse:collapse}
th,td{border:1px solid #888;padding:.3em .6em;text-align:right}th{background:#eee}td.l{text-align:left}</style></head>
<body><h1>알리미 발송 현황</h1>
<table><tr><th>알림 유형</th><th>채널</th><th>구독자</th><th>발송</th><th>전달</th><th>실패</th><th>대체 발송(문자)</th><th>재시도</th><th>보류(DLQ)</th></tr>
{{range .Rows}}<tr><td class="l">{{.Type}}</td><td class="l">{{.Channel}}</td><td>{{.M.subscribers}}</td><td>{{.M.sent}}</td><td>{{.M.delivered}}</td><td>{{.M.failed}}</td><td>{{.M.fellBack}}</td><td>{{.M.retried}}</td><td>{{.M.deadLetter}}</td></tr>
{{end}}</table>
<h2>채널별 구독자</h2>
<table><tr><th>채널</th><th>구독자(명)</th><th>점유율</th></tr>
{{range .People.Channels}}<tr><td class="l">{{.Name}}</td><td>{{.Subscribers}}</td><td>{{printf "%.1f" .Share}} %</td></tr>
{{end}}<tr><td class="l">합계(중복 제외)</td><td>{{.People.Total}}</td><td></td></tr></table></body></html>`))

package central

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"allimi"
	"allimi/central/api"
)

func (s *Server) notifyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/notifications", s.agency(s.handlePostNotification))
	mux.HandleFunc("GET /api/v1/notifications/{id}", s.agency(s.handleGetNotification))
	mux.HandleFunc("GET /api/v1/deadletters", s.api.Admin(s.handleDeadLetters))
	mux.HandleFunc("POST /api/v1/deadletters/replay", s.api.Admin(s.handleReplay))
	mux.HandleFunc("POST /api/v1/deadletters/{id}/replay", s.api.Admin(s.handleReplay))
	mux.HandleFunc("POST /api/v1/receipts", s.handleReceipts)
	mux.HandleFunc("GET /stats", s.handleStatsPage)
}

// agency lets through requests bearing an agency's token.
func (s *Server) agency(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		id, found := "", false
		if ok {
			id, found = s.store.AgencyByToken(tok)
		}
		if !found {
			api.WriteError(w, http.StatusUnauthorized, errors.New("agency token required (Authorization: Bearer, from `allimi central agency add`)"))
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
}

func responseOf(n allimi.Notification) NotificationResponse {
	return NotificationResponse{ID: n.ID, Type: n.Type, Status: n.Status, Recipients: n.Recipients,
		NotSubscribed: n.NotSubscribed, Deliveries: n.Deliveries, Urgent: n.Urgent}
}

func (s *Server) handlePostNotification(w http.ResponseWriter, r *http.Request, agency string) {
	s.api.AllowLong(w)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	ndjson := mt == "application/x-ndjson" || mt == "application/ndjson"
	if !ndjson {
		api.LimitBody(w, r, api.MaxNotificationJSON) // the route allows maxNotificationBody, for NDJSON
	}
	req, err := allimi.DecodeNotificationRequest(r.Body, ndjson)
	if err != nil {
		if limit, ok := api.BodyTooLarge(r); ok {
			how := "send NDJSON in several notifications"
			if !ndjson {
				how = "send a large list of citizens as NDJSON (Content-Type: application/x-ndjson)"
			}
			api.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body larger than %d bytes: %s", limit, how)})
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
	n, repeat, err := s.dispatch.Create(agency, idem, req)
	if n.ID == 0 {
		writeFieldError(w, err)
		return
	}
	if !repeat {
		s.metrics.notifications.WithLabelValues(string(n.Type)).Inc()
		s.log.Info("notification accepted", "id", n.ID, "agency", agency, "type", n.Type, "campaign", n.Campaign)
	}
	if err != nil { // stored, but its expansion failed
		api.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	resp := responseOf(n)
	resp.Repeat = repeat
	code := http.StatusAccepted
	if repeat {
		code = http.StatusOK
	}
	api.WriteJSON(w, code, resp)
}

func writeFieldError(w http.ResponseWriter, err error) {
	var fe *allimi.FieldError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &fe):
		api.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": fe.Error(), "field": fe.Field, "reason": fe.Reason})
	case errors.As(err, &mbe):
		api.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body larger than %d bytes: send NDJSON in several notifications", mbe.Limit)})
	default:
		api.WriteError(w, http.StatusInternalServerError, err)
	}
}

func (s *Server) handleGetNotification(w http.ResponseWriter, r *http.Request, agency string) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, fmt.Errorf("notification id %q: not a number", r.PathValue("id")))
		return
	}
	n, err := s.store.GetNotification(id)
	if errors.Is(err, allimi.ErrNotFound) || (err == nil && n.Agency != agency) {
		api.WriteError(w, http.StatusNotFound, fmt.Errorf("notification %d: not found", id))
		return
	}
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, responseOf(n))
}

func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	limit := 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			limit = min(n, 100000)
		}
	}
	dls, total, err := s.store.DeadLetters(limit)
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"total": total, "deadletters": dls})
}

func (s *Server) handleReplay(w http.ResponseWriter, r *http.Request) {
	s.api.AllowLong(w) // a whole dead-letter queue may go back
	n, err := s.dispatch.ReplayDeadLetters(r.PathValue("id"))
	switch {
	case errors.Is(err, allimi.ErrNotFound):
		api.WriteError(w, http.StatusNotFound, err)
	case errors.Is(err, allimi.ErrInvalid):
		api.WriteError(w, http.StatusBadRequest, err)
	case err != nil:
		api.WriteError(w, http.StatusInternalServerError, err)
	default:
		api.WriteJSON(w, http.StatusOK, map[string]int{"replayed": n})
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
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.keys.ReceiptToken)) != 1 {
		api.WriteError(w, http.StatusUnauthorized, errors.New("receipt token required"))
		return
	}
	var body struct {
		Receipts []allimi.ProviderReceipt `json:"receipts"`
	}
	s.api.AllowLong(w)
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil { // under the route's limit (httplimits.go)
		if api.WriteTooLarge(w, r) {
			return
		}
		api.WriteError(w, http.StatusBadRequest, fmt.Errorf("receipts: %v", err))
		return
	}
	applied, ignored, err := s.dispatch.ApplyReceipts(body.Receipts)
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]int{"applied": applied, "ignored": ignored})
}

func (s *Server) handleStatsPage(w http.ResponseWriter, _ *http.Request) {
	ds, err := s.store.DeliveryStats()
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, err)
		return
	}
	type row struct {
		Type, Channel string
		M             map[string]int64
	}
	var rows []row
	for _, ti := range allimi.Types {
		for _, ch := range allimi.Channels {
			if m := ds[string(ti.ID)][string(ch)]; m != nil {
				rows = append(rows, row{ti.Name + " (" + string(ti.ID) + ")", string(ch), m})
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = api.StatsPage.Execute(w, rows)
}

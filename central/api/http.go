package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"allimi"
)

// maxCatalogBody bounds a catalog upload.
const maxCatalogBody = 64 << 20

func (s *Server) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleHealth)
	mux.Handle("GET /metrics", s.Metrics)
	// Open since the first central (scripts and monitors read the totals),
	// but the kiosks and their record counts only for staff.
	mux.HandleFunc("GET /api/v1/stats", s.handleStats)
	// The ministry's tables (stats.go): staff only, as the kiosks' part of
	// the stats above.
	mux.HandleFunc("GET /api/v1/stats/subscribers", s.staff(s.handleSubscriberStats))
	mux.HandleFunc("GET /api/v1/stats/messages", s.staff(s.handleMessageStats))
	mux.HandleFunc("GET /api/v1/conflicts", s.staff(s.handleConflicts))
	// Counts per knowledge-base entry: nothing about a person or a kiosk.
	mux.HandleFunc("GET /api/v1/consult/feedback", s.handleFeedback)
	mux.HandleFunc("GET /api/v1/backup", s.admin(s.handleBackup))
	mux.HandleFunc("POST /api/v1/enrol", s.handleEnrol)
	mux.HandleFunc("POST /api/v1/kiosks/{id}/enrol", s.admin(s.handleAddEnrolment))
	mux.HandleFunc("GET /api/v1/audit/verify", s.admin(s.handleAuditVerify))
	mux.HandleFunc("GET /r/{code}", s.handleReceipt)
	mux.HandleFunc("POST /r/{code}", s.handleReceipt)
	mux.HandleFunc("GET /api/v1/consult/kb", s.handleGetConsultKB)
	mux.HandleFunc("POST /api/v1/consult/kb", s.admin(s.handleConsultKB))
	mux.HandleFunc("POST /api/v1/conflicts/{id}/resolve", s.admin(s.handleResolve))
	mux.HandleFunc("GET /api/v1/rejections", s.staff(s.handleRejections))
	mux.HandleFunc("PUT /api/v1/catalogs/{name}", s.admin(s.handlePutCatalog))
	if s.Notify != nil {
		s.notifyRoutes(mux)
	}
	if s.Programs != nil {
		s.programRoutes(mux)
	}
	if s.Types != nil {
		s.typeRoutes(mux)
	}
	s.questionRoutes(mux)
	if d := s.Details; d != nil {
		mux.Handle("/n/", d.Handler())
	}
	return s.guard(mux)
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	code, body := s.Health()
	writeJSON(w, code, body)
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.Store.Stats()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if !s.isAdmin(r) && s.official(r) == "" {
		// Which kiosks exist and how many records each sent are what a
		// Receipt-code guesser wants first.
		st.Kiosks = nil
	} else {
		privatePage(w)
	}
	ds, err := s.Store.DeliveryStats()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	// People per channel: counts, naming nobody (open, like the rest).
	people, err := s.Store.ChannelSubscribers()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		allimi.RegistryStats
		Delivery             allimi.DeliveryStats     `json:"delivery"`
		SubscribersByChannel map[allimi.Channel]int64 `json:"subscribersByChannel"`
	}{st, ds, people})
}

func (s *Server) handleConflicts(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Store.Conflicts(r.URL.Query().Get("all") != "")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conflicts": cs})
}

func (s *Server) handleResolve(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("conflict id %q: not a number", r.PathValue("id")))
		return
	}
	var body struct {
		Decision allimi.ConsentAction `json:"decision"`
		Official string               `json:"official"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil { // under the route's limit (httplimits.go)
		if writeTooLarge(w, r) {
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf("body: %v", err))
		return
	}
	switch err := s.Store.ResolveConflict(id, body.Decision, body.Official); {
	case err != nil:
		writeError(w, statusOf(err), err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"resolved": id})
	}
}

func (s *Server) handleRejections(w http.ResponseWriter, _ *http.Request) {
	rs, err := s.Store.Rejections(100)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rejections": rs})
}

func (s *Server) handlePutCatalog(w http.ResponseWriter, r *http.Request) {
	s.allowLong(w)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCatalogBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if len(body) > maxCatalogBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("catalog larger than %d bytes", maxCatalogBody))
		return
	}
	var version uint64
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("version %q: not a number", v))
			return
		}
	}
	m, err := s.Catalogs.PublishCatalog(r.PathValue("name"), version, body)
	switch {
	case errors.Is(err, allimi.ErrInvalid):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, m)
	}
}

// admin lets through only requests bearing the admin token of keys.json.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.Keys.AdminToken)) != 1 {
			writeError(w, http.StatusUnauthorized, errors.New("admin token required (Authorization: Bearer, from keys.json)"))
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// statusOf is the HTTP status of an error a store or service returned:
// the domain's errors by what they mean, anything else central's fault.
func statusOf(err error) int {
	switch {
	case errors.Is(err, allimi.ErrAudioDeleted):
		return http.StatusGone
	case errors.Is(err, allimi.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, allimi.ErrAlreadyAnswered):
		return http.StatusConflict
	case errors.Is(err, allimi.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

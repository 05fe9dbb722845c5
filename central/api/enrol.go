package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"allimi"
	"allimi/central/throttle"
)

// EnrolResponse is what a kiosk gets for its code: its config file.
type EnrolResponse struct {
	allimi.KioskCredentials
	Broker string `json:"broker"`
	// TLS, when the embedded broker runs TLS: the CA to trust the broker
	// by, and the kiosk's client certificate and key, all PEM.
	TLS *EnrolTLS `json:"tls,omitempty"`
}

// EnrolTLS is a kiosk's TLS material, as its config file holds it.
type EnrolTLS struct {
	CA   string `json:"ca"`
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// Why central refused a code, in the "reason" of its answer: the kiosk
// says it in the person's language, the "error" says it in English.
const (
	EnrolReasonUnknown    = "unknown"
	EnrolReasonUsed       = "used"
	EnrolReasonExpired    = "expired"
	EnrolReasonThrottled  = "throttled"
	EnrolReasonBadRequest = "bad-request"
)

// EnrolError is central's answer to a refused code.
type EnrolError struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

func writeEnrolError(w http.ResponseWriter, code int, reason string, err error) {
	writeJSON(w, code, EnrolError{Error: err.Error(), Reason: reason})
}

// handleEnrol: POST /api/v1/enrol {"code":"…"}.
func (s *Server) handleEnrol(w http.ResponseWriter, r *http.Request) {
	// Wrong codes are counted per address: one address guessing does not
	// keep another kiosk from enrolling (limits.go).
	tries, client := s.Limits.Enrol, throttle.Client(r.RemoteAddr)
	if err := tries.Allow(client, ""); err != nil {
		writeEnrolError(w, http.StatusTooManyRequests, EnrolReasonThrottled, fmt.Errorf("%w: wait, then try the code again", err))
		return
	}
	var body struct {
		Code string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil { // under the route's limit (httplimits.go)
		if limit, ok := bodyTooLarge(r); ok {
			writeEnrolError(w, http.StatusRequestEntityTooLarge, EnrolReasonBadRequest, fmt.Errorf(`body larger than %d bytes: want {"code":"XXXX-XXXX-XXXX"}`, limit))
			return
		}
		writeEnrolError(w, http.StatusBadRequest, EnrolReasonBadRequest, fmt.Errorf(`body: want {"code":"XXXX-XXXX-XXXX"}: %v`, err))
		return
	}
	cred, err := s.Store.RedeemEnrolment(body.Code)
	switch {
	case errors.Is(err, allimi.ErrEnrolUnknown):
		if _, err := tries.Count(client, ""); err != nil && !errors.Is(err, throttle.ErrBusy) {
			s.Log.Error("enrolment: counting a wrong code", "err", err)
		}
		writeEnrolError(w, http.StatusNotFound, EnrolReasonUnknown, err)
	case errors.Is(err, allimi.ErrEnrolUsed):
		writeEnrolError(w, http.StatusGone, EnrolReasonUsed, err)
	case errors.Is(err, allimi.ErrEnrolExpired):
		writeEnrolError(w, http.StatusGone, EnrolReasonExpired, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		resp := EnrolResponse{KioskCredentials: cred, Broker: s.Config.Broker}
		if s.Certs != nil {
			cert, key, err := s.Certs(cred.Username)
			if err != nil {
				s.Log.Error("kiosk enrolled without its client certificate", "kiosk", cred.ID, "err", err)
				writeError(w, http.StatusInternalServerError, fmt.Errorf("client certificate: %w (ask for a new code)", err))
				return
			}
			resp.TLS = &EnrolTLS{CA: string(s.ServerCA), Cert: string(cert), Key: string(key)}
		}
		s.Log.Info("kiosk enrolled", "kiosk", cred.ID, "clientCert", resp.TLS != nil)
		writeJSON(w, http.StatusOK, resp)
	}
}

// handleAddEnrolment: POST /api/v1/kiosks/{id}/enrol (admin) {"ttl":"24h"}.
func (s *Server) handleAddEnrolment(w http.ResponseWriter, r *http.Request) {
	ttl := 24 * time.Hour
	var body struct {
		TTL string `json:"ttl"`
	}
	err := json.NewDecoder(r.Body).Decode(&body) // under the route's limit (httplimits.go)
	if writeTooLarge(w, r) {
		return
	}
	if err == nil && body.TTL != "" {
		d, err := time.ParseDuration(body.TTL)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("ttl %q: %v", body.TTL, err))
			return
		}
		ttl = d
	}
	code, expires, err := s.Store.AddEnrolment(r.PathValue("id"), ttl)
	switch {
	case errors.Is(err, allimi.ErrInvalid):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"kiosk": r.PathValue("id"), "code": code, "expires": expires})
	}
}

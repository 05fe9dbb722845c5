package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"allimi"
	"allimi/consult"
)

// handleConsultKB: POST /api/v1/consult/kb {"add":[…],"retire":[ids]}.
func (s *Server) handleConsultKB(w http.ResponseWriter, r *http.Request) {
	var u consult.Update
	s.allowLong(w)
	d := json.NewDecoder(r.Body) // under the route's limit (httplimits.go)
	d.DisallowUnknownFields()
	if err := d.Decode(&u); err != nil {
		if writeTooLarge(w, r) {
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf("body: %v (want {\"add\":[entries],\"retire\":[ids]})", err))
		return
	}
	m, kb, err := s.Catalogs.UpdateConsultKB(u)
	switch {
	case errors.Is(err, allimi.ErrInvalid):
		writeError(w, http.StatusBadRequest, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"version": m.Version, "entries": len(kb.Entries), "active": len(kb.Active())})
	}
}

// handleGetConsultKB: GET /api/v1/consult/kb, the version and counts.
func (s *Server) handleGetConsultKB(w http.ResponseWriter, _ *http.Request) {
	kb, version, err := s.Catalogs.ConsultKB()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": version, "entries": len(kb.Entries), "active": len(kb.Active())})
}

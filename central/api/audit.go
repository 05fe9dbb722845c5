package api

import (
	"errors"
	"net/http"

	"allimi"
)

func (s *Server) handleAuditVerify(w http.ResponseWriter, _ *http.Request) {
	s.allowLong(w) // the whole chain is read
	r, err := s.Store.VerifyAudit()
	switch {
	case errors.Is(err, allimi.ErrAuditBroken):
		writeJSON(w, http.StatusConflict, r)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, r)
	}
}

package api

import (
	"errors"
	"net/http"

	"allimi"
)

func (s *Server) handleAuditVerify(w http.ResponseWriter, _ *http.Request) {
	s.AllowLong(w) // the whole chain is read
	r, err := s.Store.VerifyAudit()
	switch {
	case errors.Is(err, allimi.ErrAuditBroken):
		WriteJSON(w, http.StatusConflict, r)
	case err != nil:
		WriteError(w, http.StatusInternalServerError, err)
	default:
		WriteJSON(w, http.StatusOK, r)
	}
}

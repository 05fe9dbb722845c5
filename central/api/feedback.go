package api

import (
	"net/http"
)

func (s *Server) handleFeedback(w http.ResponseWriter, _ *http.Request) {
	fs, err := s.Store.Feedback()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"feedback": fs})
}

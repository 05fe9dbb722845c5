package central

import (
	"net/http"
)

func (s *api) handleFeedback(w http.ResponseWriter, _ *http.Request) {
	fs, err := s.store.Feedback()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"feedback": fs})
}

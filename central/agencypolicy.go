package central

import (
	"errors"
	"net/http"

	"allimi"
	"allimi/central/api"
)

// checkAgencyPolicy answers 403 (and returns false) when agency may not
// send req; nothing is stored then.
func (s *Server) checkAgencyPolicy(w http.ResponseWriter, agency string, req *allimi.NotificationRequest) bool {
	p, err := s.store.AgencyPolicyOf(agency)
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, err)
		return false
	}
	err = p.Permits(agency, req)
	var fe *allimi.FieldError
	if errors.As(err, &fe) {
		s.log.Warn("notification refused by the agency's policy", "agency", agency, "field", fe.Field)
		api.WriteJSON(w, http.StatusForbidden, map[string]string{"error": fe.Error(), "field": fe.Field, "reason": fe.Reason})
		return false
	}
	return true
}

package central

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"allimi"
	"allimi/assets"
	"allimi/consult"
	"allimi/sync/catalog"
)

// consultKB is the knowledge base kiosks have: the published catalog, or
// the one the binaries ship with.
func (s *Server) ConsultKB() (consult.KB, uint64, error) {
	c, ok, err := s.store.Catalog(consult.CatalogName)
	if err != nil {
		return consult.KB{}, 0, err
	}
	body := assets.ConsultKB()
	if ok {
		body = c.Body
	}
	kb, err := consult.DecodeCatalog(body)
	return kb, c.Manifest.Version, err
}

// UpdateConsultKB applies officials' additions and retirements to the
// knowledge base and publishes it to every kiosk as the next version.
func (s *Server) UpdateConsultKB(u consult.Update) (catalog.Manifest, consult.KB, error) {
	s.kbMu.Lock()
	defer s.kbMu.Unlock()
	kb, _, err := s.ConsultKB()
	if err != nil {
		return catalog.Manifest{}, kb, fmt.Errorf("current knowledge base: %w", err)
	}
	next, err := kb.Apply(u)
	if err != nil {
		return catalog.Manifest{}, kb, fmt.Errorf("%w: %w", err, allimi.ErrInvalid)
	}
	body, err := consult.EncodeCatalog(next)
	if err != nil {
		return catalog.Manifest{}, kb, err
	}
	m, err := s.PublishCatalog(consult.CatalogName, 0, body)
	return m, next, err
}

// handleConsultKB: POST /api/v1/consult/kb {"add":[…],"retire":[ids]}.
func (s *api) handleConsultKB(w http.ResponseWriter, r *http.Request) {
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
	m, kb, err := s.catalogs.UpdateConsultKB(u)
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
func (s *api) handleGetConsultKB(w http.ResponseWriter, _ *http.Request) {
	kb, version, err := s.catalogs.ConsultKB()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": version, "entries": len(kb.Entries), "active": len(kb.Active())})
}

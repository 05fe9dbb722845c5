package central

import (
	"fmt"

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

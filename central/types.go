package central

import (
	"context"
	"fmt"
	"slices"
	"time"

	"allimi"
	"allimi/central/notify"
	"allimi/central/template"
	"allimi/central/typefile"
	"allimi/internal/periodic"
)

// Notification types as data: an administrator puts a type's file
// (central/typefile) with `allimi central type put` or PUT
// /api/v1/types/{id}; central checks it whole, keeps it as the type's next
// version (allimi.TypeDefs), makes it known (allimi.PutType), writes with
// its templates from then on, and publishes the types' catalog, from which
// the kiosks offer it at sign-up.

// loadTypes makes known the types put before (at start; and on a shared
// database, those another central put since), with their templates on
// top of tmpl. A stored type that no longer checks is left out, loudly.
func (s *Server) loadTypes(tmpl *template.Set) (*template.Set, bool, error) {
	defs, err := s.store.TypeDefs()
	if err != nil {
		return tmpl, false, fmt.Errorf("types put: %w", err)
	}
	var todo []allimi.TypeDef
	for _, d := range defs {
		if s.typeVersions[d.ID] != d.Version { // not what this central uses
			todo = append(todo, d)
		}
	}
	tmpl, applied, errs := typefile.Apply(todo, tmpl)
	for _, err := range errs {
		s.log.Error("a type put earlier no longer checks: left out", "err", err)
	}
	for _, ti := range applied {
		s.typeVersions[ti.ID] = ti.Version
	}
	return tmpl, len(applied) > 0, nil
}

// PutType checks a type's file, keeps it as the type's next version and
// makes it known: its templates are used from now on and the kiosks are
// given the types' catalog. A file that does not check is refused with
// every problem named (an error wrapping allimi.ErrInvalid), and nothing
// changes.
func (s *Server) PutType(id allimi.NotificationType, file []byte) (allimi.TypeInfo, error) {
	s.typesMu.Lock()
	defer s.typesMu.Unlock()
	info, set, err := typefile.Check(id, string(id)+".toml", file, s.tmpl.Load(), s.progs)
	if err != nil {
		return info, err
	}
	def, err := s.store.PutTypeDef(allimi.TypeDef{ID: id, File: file})
	if err != nil {
		return info, err
	}
	info.Version = def.Version
	if err := allimi.PutType(info); err != nil {
		return info, err
	}
	s.typeVersions[id] = def.Version
	s.useTemplates(set)
	s.log.Info("notification type put", "type", id, "version", def.Version, "name", info.Name)
	if err := s.publishTypes(); err != nil {
		s.log.Warn("types' catalog not published yet", "err", err)
	}
	return info, nil
}

// Types lists the types known now, the built-in ones and those put.
func (s *Server) Types() []allimi.TypeInfo { return allimi.Types() }

// TypeVersions lists every version put of a type.
func (s *Server) TypeVersions(id allimi.NotificationType) ([]allimi.TypeDef, error) {
	return s.store.TypeDefVersions(id)
}

// useTemplates makes every dispatcher of this central write with tmpl.
func (s *Server) useTemplates(tmpl *template.Set) {
	s.tmpl.Store(tmpl)
	s.dispatch.SetTemplates(tmpl)
	s.slots.each(func(d *notify.Dispatcher) { d.SetTemplates(tmpl) })
}

// publishTypes stores and publishes the types' catalog: every type put,
// as known now, when it differs from the one published.
func (s *Server) publishTypes() error {
	defs, err := s.store.TypeDefs()
	if err != nil || len(defs) == 0 {
		return err
	}
	body, err := typefile.Catalog(defs)
	if err != nil {
		return err
	}
	if c, ok, err := s.store.Catalog(allimi.TypesCatalog); err == nil && ok && slices.Equal(c.Body, body) {
		return nil
	}
	_, err = s.PublishCatalog(allimi.TypesCatalog, 0, body)
	return err
}

// typesEvery is how often a central on a shared database looks for the
// types another central put.
const typesEvery = 5 * time.Second

// refreshTypesEvery takes up, every period until ctx ends, the types other
// centrals on the database put.
func (s *Server) refreshTypesEvery(ctx context.Context, period time.Duration) {
	periodic.Every(ctx, period, func() {
		s.typesMu.Lock()
		defer s.typesMu.Unlock()
		tmpl, changed, err := s.loadTypes(s.tmpl.Load())
		if err != nil {
			s.log.Warn("looking for types put elsewhere failed", "err", err)
			return
		}
		if changed {
			s.useTemplates(tmpl)
			if err := s.publishTypes(); err != nil {
				s.log.Warn("types' catalog not published yet", "err", err)
			}
		}
	})
}

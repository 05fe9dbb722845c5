package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"allimi"
	"allimi/central/typefile"
)

// Types are the notification types as data: those known, every version of
// one, and a type's file put by an administrator (central.Server).
type Types interface {
	PutType(id allimi.NotificationType, file []byte) (allimi.TypeInfo, error)
	Types() []allimi.TypeInfo
	TypeVersions(id allimi.NotificationType) ([]allimi.TypeDef, error)
}

func (s *Server) typeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/types", s.handleListTypes)
	mux.HandleFunc("GET /api/v1/types/{id}", s.admin(s.handleGetType))
	mux.HandleFunc("PUT /api/v1/types/{id}", s.admin(s.handlePutType))
}

// typeView is a type as the API shows it.
type typeView struct {
	ID           allimi.NotificationType `json:"id"`
	Name         string                  `json:"name"`
	Names        map[string]string       `json:"names,omitempty"`
	Descs        map[string]string       `json:"descs,omitempty"`
	Params       []string                `json:"params"`
	Labels       map[string]string       `json:"labels,omitempty"`
	Capabilities []allimi.Capability     `json:"capabilities"`
	Payable      bool                    `json:"payable"`
	Version      uint64                  `json:"version"`
}

func viewOfType(ti allimi.TypeInfo) typeView {
	params := ti.Params
	if params == nil {
		params = []string{}
	}
	return typeView{ID: ti.ID, Name: ti.Name, Names: ti.Names, Descs: ti.Descs, Params: params, Labels: ti.Labels,
		Capabilities: ti.Capabilities, Payable: ti.ID.Payable(), Version: ti.Version}
}

// handleListTypes lists the types known: nothing secret, what an agency
// needs to write a notification.
func (s *Server) handleListTypes(w http.ResponseWriter, _ *http.Request) {
	all := s.Types.Types()
	out := make([]typeView, len(all))
	for i, ti := range all {
		out[i] = viewOfType(ti)
	}
	writeJSON(w, http.StatusOK, map[string]any{"types": out})
}

// handleGetType is one type and its versions put; with ?version=N, that
// version's file as it was put.
func (s *Server) handleGetType(w http.ResponseWriter, r *http.Request) {
	id := allimi.NotificationType(r.PathValue("id"))
	ti, known := id.Info()
	versions, err := s.Types.TypeVersions(id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 || n > uint64(len(versions)) {
			writeError(w, http.StatusNotFound, fmt.Errorf("type %s: no version %q (versions 1 to %d)", id, v, len(versions)))
			return
		}
		w.Header().Set("Content-Type", "application/toml; charset=utf-8")
		_, _ = w.Write(versions[n-1].File)
		return
	}
	if !known {
		writeError(w, http.StatusNotFound, fmt.Errorf("type %q: unknown", id))
		return
	}
	type version struct {
		Version uint64 `json:"version"`
		Put     string `json:"put"`
	}
	vs := make([]version, len(versions))
	for i, d := range versions {
		vs[i] = version{d.Version, d.Put.Format("2006-01-02T15:04:05Z07:00")}
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": viewOfType(ti), "versions": vs})
}

// handlePutType takes a type's file (TOML: its [type] table and its
// channels' templates), checked whole before anything is kept.
func (s *Server) handlePutType(w http.ResponseWriter, r *http.Request) {
	id := allimi.NotificationType(r.PathValue("id"))
	limitBody(w, r, typefile.MaxSize)
	file, err := io.ReadAll(r.Body)
	if err != nil {
		if limit, ok := bodyTooLarge(r); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("a type's file is at most %d bytes", limit))
			return
		}
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if file, err = typefile.FromJSON(file); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "problems": []string{err.Error()}})
		return
	}
	ti, err := s.Types.PutType(id, file)
	if errors.Is(err, allimi.ErrInvalid) {
		// Every problem, one per line: the template, the channel, the line.
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "problems": strings.Split(err.Error(), "\n")})
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	s.Log.Info("notification type put", "type", ti.ID, "version", ti.Version)
	writeJSON(w, http.StatusOK, viewOfType(ti))
}

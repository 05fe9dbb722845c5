package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func (s *Server) handleBackup(w http.ResponseWriter, _ *http.Request) {
	if s.Backup == nil {
		writeError(w, http.StatusNotImplemented, errors.New("this central keeps its data in PostgreSQL: back it up with PostgreSQL's own tools "+
			"(pg_dump, or a streaming replica with archived WAL), and keep keys.json apart; GET /api/v1/backup copies a bbolt central's file"))
		return
	}
	s.allowLong(w) // the whole database, however long it takes to stream
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="central-%s.db"`, time.Now().UTC().Format("20060102T150405Z")))
	w.Header().Set("X-Allimi-Approximate-Size", strconv.FormatInt(s.Backup.Size(), 10))
	n, err := s.Backup.WriteBackup(w)
	if err != nil {
		// Headers are gone: the client sees a short body, which
		// VerifyBackup refuses.
		s.Log.Error("backup failed", "written", n, "err", err)
		return
	}
	s.Log.Info("backup written", "bytes", n)
}

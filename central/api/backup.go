package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func (s *Server) handleBackup(w http.ResponseWriter, _ *http.Request) {
	s.allowLong(w) // the whole database, however long it takes to stream
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="central-%s.db"`, time.Now().UTC().Format("20060102T150405Z")))
	w.Header().Set("X-Allimi-Approximate-Size", strconv.FormatInt(s.Store.Size(), 10))
	n, err := s.Store.WriteBackup(w)
	if err != nil {
		// Headers are gone: the client sees a short body, which
		// VerifyBackup refuses.
		s.Log.Error("backup failed", "written", n, "err", err)
		return
	}
	s.Log.Info("backup written", "bytes", n)
}

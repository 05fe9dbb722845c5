package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

func (s *Server) handleBackup(w http.ResponseWriter, _ *http.Request) {
	s.AllowLong(w) // the whole database, however long it takes to stream
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="central-%s.db"`, time.Now().UTC().Format("20060102T150405Z")))
	var size int64
	_ = s.Store.Db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil })
	w.Header().Set("X-Allimi-Approximate-Size", strconv.FormatInt(size, 10))
	n, err := s.Store.WriteBackup(w)
	if err != nil {
		// Headers are gone: the client sees a short body, which
		// VerifyBackup refuses.
		s.Log.Error("backup failed", "written", n, "err", err)
		return
	}
	s.Log.Info("backup written", "bytes", n)
}

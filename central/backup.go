package central

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"allimi/central/bolt"
)

// Backups. A running central writes a consistent copy of its database from
// one read transaction (GET /api/v1/backup), so writers carry on meanwhile.
// keys.json is not in it: without the keys the copy's phone numbers cannot
// be read, so keep the keys apart, and safe.

func (s *Server) handleBackup(w http.ResponseWriter, _ *http.Request) {
	s.allowLong(w) // the whole database, however long it takes to stream
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="central-%s.db"`, time.Now().UTC().Format("20060102T150405Z")))
	w.Header().Set("X-Allimi-Approximate-Size", strconv.FormatInt(s.store.Size(), 10))
	n, err := s.store.WriteBackup(w)
	if err != nil {
		// Headers are gone: the client sees a short body, which
		// VerifyBackup refuses.
		s.log.Error("backup failed", "written", n, "err", err)
		return
	}
	s.log.Info("backup written", "bytes", n)
}

// VerifyBackup checks that path is a whole central database: as long as
// its own header says, bbolt's consistency check passes, and central's
// buckets are there. A damaged file is an error, never a crash.
func VerifyBackup(path string) error { return bolt.VerifyBackup(path) }

// Compact rewrites the database of data directory dir without its free
// pages (central must be stopped). It returns the sizes before and after.
func Compact(dir string) (before, after int64, err error) {
	if before, after, err = bolt.CompactFile(filepath.Join(dir, bolt.DBFile)); err != nil {
		return 0, 0, err
	}
	return before, after, bolt.SyncDir(dir)
}

// Restore puts backup in place as the database of data directory dir
// (central must be stopped), after checking it; the database it replaces
// is kept as central.db.before-restore. The directory's keys.json must be
// the one the backup was made with.
func Restore(dir, backup string) error { return bolt.Restore(dir, backup) }

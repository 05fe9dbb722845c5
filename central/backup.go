package central

import (
	"path/filepath"

	"allimi/central/bolt"
)

// Backups. A running central writes a consistent copy of its database from
// one read transaction (GET /api/v1/backup), so writers carry on meanwhile.
// keys.json is not in it: without the keys the copy's phone numbers cannot
// be read, so keep the keys apart, and safe.

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

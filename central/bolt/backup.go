package bolt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"allimi/central/keyring"
)

// Size is the database's size in bytes, as of now.
func (s *Store) Size() int64 {
	var size int64
	_ = s.db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil })
	return size
}

// WriteBackup writes a consistent copy of the database to w.
func (s *Store) WriteBackup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// CheckKeys opens one citizen's sealed data, if there is any.
func (s *Store) CheckKeys() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		k, v := tx.Bucket(bucketCitizens).Cursor().First()
		if k == nil {
			return nil
		}
		rec, err := decodeCitizenRecord(v)
		if err != nil {
			return err
		}
		if _, err := s.openPII(k, rec.PII); err != nil {
			return errors.New("the backup was made with other keys than this directory's keys.json: restore the keys.json of the backup's central first")
		}
		return nil
	})
}

func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// coreBuckets are those every central database has had, since the first.
var coreBuckets = [][]byte{bucketEvents, bucketHW, bucketCitizens, bucketConsents, bucketMeta}

// VerifyBackup checks that path is a whole central database: as long as
// its own header says, bbolt's consistency check passes, and central's
// buckets are there. A damaged file is an error, never a crash.
func VerifyBackup(path string) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("backup %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("backup %s: not a database: %w", path, err)
	}
	defer db.Close()
	defer func() {
		// bbolt asserts on pages it cannot read.
		if r := recover(); r != nil {
			err = fmt.Errorf("backup %s: damaged: %v", path, r)
		}
	}()
	return db.View(func(tx *bbolt.Tx) error {
		// Reading past the end of a cut-off file through the mmap would
		// kill the process (SIGBUS): check its length first.
		if tx.Size() > fi.Size() {
			return fmt.Errorf("backup %s: cut off: %d of %d bytes", path, fi.Size(), tx.Size())
		}
		var first error
		for err := range tx.Check() { // read to the end: the check runs while the channel is open
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return fmt.Errorf("backup %s: damaged: %w", path, first)
		}
		// A backup made by an older central lacks the buckets added since;
		// opening the restored file creates them. The first central's
		// buckets tell a central database from any other bbolt file.
		for _, b := range coreBuckets {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("backup %s: bucket %q missing: not a central database", path, b)
			}
		}
		return nil
	})
}

// Restore puts backup in place as the database of data directory dir
// (central must be stopped), after checking it; the database it replaces
// is kept as central.db.before-restore. The directory's keys.json must be
// the one the backup was made with.
func Restore(dir, backup string) error {
	if err := VerifyBackup(backup); err != nil {
		return err
	}
	path := filepath.Join(dir, DBFile)
	if db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second}); errors.Is(err, bbolt.ErrTimeout) {
		return fmt.Errorf("open %s: %w", path, ErrInUse)
	} else if err == nil {
		db.Close()
	}
	keys, err := keyring.Load(dir)
	if err != nil {
		return err
	}
	in, err := os.Open(backup)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := path + ".restore"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	out.Close()
	// The backup must open with this directory's keys: a citizen's sealed
	// data is the proof.
	st, err := OpenStore(tmp, keys, StoreOptions{})
	if err != nil {
		os.Remove(tmp)
		return err
	}
	err = st.CheckKeys()
	st.Close()
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if _, err := os.Stat(path); err == nil {
		if err := os.Rename(path, path+".before-restore"); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

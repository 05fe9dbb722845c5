package bolt

import (
	"errors"
	"io"
	"os"

	"go.etcd.io/bbolt"
)

// WriteBackup writes a consistent copy of the database to w.
func (s *Store) WriteBackup(w io.Writer) (int64, error) {
	var n int64
	err := s.Db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// CheckKeys opens one citizen's sealed data, if there is any.
func (s *Store) CheckKeys() error {
	return s.Db.View(func(tx *bbolt.Tx) error {
		k, v := tx.Bucket(BucketCitizens).Cursor().First()
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

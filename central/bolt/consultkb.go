package bolt

import (
	"encoding/json"

	"go.etcd.io/bbolt"
)

// Catalog returns the stored catalog name, or ok false.
func (s *Store) Catalog(name string) (c storedCatalog, ok bool, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCatalogs).Get([]byte(name))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &c)
	})
	return c, ok, err
}

package bolt

import (
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/sync/catalog"
)

// The catalogs part of the store keeps the signed catalogs central publishes
// to kiosks. Its buckets, and what their keys and values hold:
var (
	bucketCatalogs = []byte("catalogs") // name → storedCatalog
)

// catalogsPart creates them when the store opens.
var catalogsPart = part{"catalogs", [][]byte{
	bucketCatalogs}}

// storedCatalog is how the catalogs bucket keeps one (as JSON).
type storedCatalog = catalog.Stored

// PutCatalog signs body as the next version of catalog name (or as version,
// when it is not zero) and stores it. A version not above the stored one is
// refused: kiosks would refuse it too.
func (s *Store) PutCatalog(name string, version uint64, body []byte) (catalog.Manifest, error) {
	var m catalog.Manifest
	if err := catalog.ValidateName(name); err != nil {
		return m, err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCatalogs)
		var cur storedCatalog
		if v := b.Get([]byte(name)); v != nil {
			if err := json.Unmarshal(v, &cur); err != nil {
				return err
			}
		}
		if version == 0 {
			version = cur.Manifest.Version + 1
		}
		if version <= cur.Manifest.Version {
			return fmt.Errorf("catalog %s: version %d is not above the current %d: %w", name, version, cur.Manifest.Version, allimi.ErrInvalid)
		}
		m = catalog.Sign(s.keys.CatalogKey(), name, version, body)
		v, _ := json.Marshal(storedCatalog{Manifest: m, Body: body})
		return b.Put([]byte(name), v)
	})
	return m, err
}

// Catalogs returns every stored catalog, by name.
func (s *Store) Catalogs() ([]storedCatalog, error) {
	var out []storedCatalog
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCatalogs).ForEach(func(_, v []byte) error {
			var c storedCatalog
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

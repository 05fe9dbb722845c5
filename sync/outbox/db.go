package outbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
)

// DBFile is the kiosk's one bbolt file in its data directory: its outbox,
// and the catalogs a catalog.Store (allimi/sync/catalog) installs beside it.
const DBFile = "kiosk.db"

// OpenDB opens (creating) the kiosk's bbolt file in dir.
func OpenDB(dir string) (*bbolt.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("kiosk data directory: %w", err)
	}
	path := filepath.Join(dir, DBFile)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second,
		// Address space, not memory: a growing file needs no remap.
		InitialMmapSize: 256 << 20})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: another kiosk process is using it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

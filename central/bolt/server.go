package bolt

import (
	"path/filepath"

	"allimi/central/keyring"
)

// DBFile is the name of central's bbolt file in the data directory.
const DBFile = "central.db"

// OpenData opens the data directory's keys and store, for commands that work
// while central is stopped.
func OpenData(dir string, opt StoreOptions) (*Store, *keyring.Keys, error) {
	keys, err := keyring.Load(dir)
	if err != nil {
		return nil, nil, err
	}
	st, err := OpenStore(filepath.Join(dir, DBFile), keys, opt)
	if err != nil {
		return nil, nil, err
	}
	return st, keys, nil
}

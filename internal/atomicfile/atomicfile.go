// Package atomicfile replaces a file whole or not at all: the data goes to
// a new file beside it, is synced, and is renamed over the old one, so a
// power cut leaves either the old file or the new, never an empty or half
// one (keys, kiosk credentials, downloaded catalogs).
package atomicfile

import (
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// Write replaces path with data. The new file's mode is perm less the
// umask, whatever the old file's was: a file once too open is not kept so.
func Write(path string, data []byte, perm os.FileMode) error {
	t, err := renameio.NewPendingFile(path, renameio.WithPermissions(perm), renameio.WithTempDir(filepath.Dir(path)))
	if err != nil {
		return err
	}
	defer t.Cleanup()
	if _, err := t.Write(data); err != nil {
		return err
	}
	return t.CloseAtomicallyReplace()
}

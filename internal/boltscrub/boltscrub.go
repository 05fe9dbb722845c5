// Package boltscrub overwrites the free pages of a bbolt file with zeros, so
// that what was deleted from it cannot be read back from the file.
//
// bbolt never writes a page in place: a deleted value stays, byte for byte,
// on the page that held it until that page is reused, which may be never.
// The kiosk deletes a sign-up once central has it, and a deletion that
// leaves the name and mobile number readable with `strings kiosk.db` is not
// one.
package boltscrub

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"go.etcd.io/bbolt"
)

// ErrReaders is returned by Free when read transactions were open: one of
// them may still see a page that a later transaction freed, so no free page
// is touched. Try again once they are done (the next deletion will do).
var ErrReaders = errors.New("read transactions open, free pages not scrubbed")

// Free writes zeros over every free page of db that is not all zeros
// already, syncs the file, and returns how many pages it wrote.
//
// It runs inside a write transaction, so no other writer can allocate a
// page while it works. A free page may still be in use by a read
// transaction that began before the page was freed (bbolt keeps such pages
// "pending"); bbolt does not tell free from pending pages, so Free refuses
// with ErrReaders while any read transaction is open. Read transactions that
// begin while Free runs see only the last committed tree, which holds no
// free page. db must keep its statistics (the default), which count the open
// read transactions.
func Free(db *bbolt.DB) (int, error) {
	written := 0
	err := hold(db, func(tx *bbolt.Tx) error {
		if db.Stats().OpenTxN > 0 {
			return ErrReaders
		}
		f, err := os.OpenFile(db.Path(), os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("scrub %s: %w", db.Path(), err)
		}
		defer f.Close()
		size := db.Info().PageSize
		page, zero := make([]byte, size), make([]byte, size)
		// Pages 0 and 1 are the meta pages, never free.
		for id := 2; ; id++ {
			info, err := tx.Page(id)
			if err != nil {
				return fmt.Errorf("scrub %s page %d: %w", db.Path(), id, err)
			}
			if info == nil {
				break // beyond the high-water mark
			}
			if info.Type != "free" {
				continue
			}
			off := int64(id) * int64(size)
			if _, err := f.ReadAt(page, off); err != nil {
				return fmt.Errorf("scrub %s page %d: %w", db.Path(), id, err)
			}
			if bytes.Equal(page, zero) {
				continue
			}
			if _, err := f.WriteAt(zero, off); err != nil {
				return fmt.Errorf("scrub %s page %d: %w", db.Path(), id, err)
			}
			written++
		}
		if written > 0 {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("scrub %s: %w", db.Path(), err)
			}
		}
		return nil
	})
	return written, err
}

// hold runs fn in a write transaction that it then rolls back: the
// transaction only keeps other writers out while fn works on the file
// beside bbolt, and committing it would write and sync a meta page for
// nothing, a second sync on every kiosk ack.
func hold(db *bbolt.DB, fn func(*bbolt.Tx) error) error {
	tx, err := db.Begin(true)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

package boltscrub

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

var secret = []byte("김영희 010-1234-5678 1948-05-17")

func openDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "scrub.db"), 0o600,
		// As the kiosk does: a growing file needs no remap, which would wait
		// for the reader one test holds open.
		&bbolt.Options{InitialMmapSize: 16 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func fileHas(t *testing.T, db *bbolt.DB, b []byte) bool {
	t.Helper()
	data, err := os.ReadFile(db.Path())
	require.NoError(t, err)
	return bytes.Contains(data, b)
}

// put writes n records that hold the secret, and some that stay.
func put(t *testing.T, db *bbolt.DB, n int) {
	t.Helper()
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("outbox"))
		if err != nil {
			return err
		}
		for i := range n {
			if err := b.Put(fmt.Appendf(nil, "rec-%04d", i), append(fmt.Appendf(nil, "%d ", i), secret...)); err != nil {
				return err
			}
		}
		kept, err := tx.CreateBucketIfNotExists([]byte("kept"))
		if err != nil {
			return err
		}
		return kept.Put([]byte("catalog"), bytes.Repeat([]byte("k"), 3000))
	}))
}

func deleteAll(t *testing.T, db *bbolt.DB) {
	t.Helper()
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket([]byte("outbox")).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	}))
}

func TestFree_DeletedValuesAreGoneFromTheFile(t *testing.T) {
	db := openDB(t)
	put(t, db, 200) // several leaf pages
	deleteAll(t, db)
	// What the scrub is for: bbolt leaves the deleted bytes on free pages.
	require.True(t, fileHas(t, db, secret), "the deleted values should still be in the file before scrubbing")

	n, err := Free(db)
	require.NoError(t, err)
	assert.Positive(t, n)
	assert.False(t, fileHas(t, db, secret), "a deleted value is still readable in the file")

	// Nothing that stays was touched, and the file is consistent.
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		assert.Equal(t, bytes.Repeat([]byte("k"), 3000), tx.Bucket([]byte("kept")).Get([]byte("catalog")))
		for err := range tx.Check() {
			return err
		}
		return nil
	}))
	// A second scrub finds only what the first one's commit freed: bbolt's
	// previous freelist page.
	again, err := Free(db)
	require.NoError(t, err)
	assert.LessOrEqual(t, again, 1)
	assert.Less(t, again, n)
}

func TestFree_ReopenedFileStillWorks(t *testing.T) {
	db := openDB(t)
	put(t, db, 200)
	deleteAll(t, db)
	_, err := Free(db)
	require.NoError(t, err)
	path := db.Path()
	require.NoError(t, db.Close())

	db, err = bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	put(t, db, 50) // reuses the scrubbed pages
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		assert.Equal(t, 50, tx.Bucket([]byte("outbox")).Stats().KeyN)
		for err := range tx.Check() {
			return err
		}
		return nil
	}))
}

func TestFree_LeavesPagesAloneWhileAReaderIsOpen(t *testing.T) {
	db := openDB(t)
	put(t, db, 200)
	reader, err := db.Begin(false) // sees the records about to be deleted
	require.NoError(t, err)
	deleteAll(t, db)

	_, err = Free(db)
	require.ErrorIs(t, err, ErrReaders)
	// The reader still reads what it saw, whole.
	v := reader.Bucket([]byte("outbox")).Get([]byte("rec-0007"))
	assert.Equal(t, append([]byte("7 "), secret...), v)
	require.NoError(t, reader.Rollback())

	_, err = Free(db)
	require.NoError(t, err)
	assert.False(t, fileHas(t, db, secret))
}

// Free writes through the file, not through bbolt: it holds the writer lock
// but commits nothing, so a kiosk's ack costs no extra meta page and sync.
func TestFree_CommitsNoTransaction(t *testing.T) {
	db := openDB(t)
	put(t, db, 200)
	deleteAll(t, db)
	txid := func() int {
		tx, err := db.Begin(false)
		require.NoError(t, err)
		defer tx.Rollback()
		return tx.ID()
	}
	before := txid()

	n, err := Free(db)
	require.NoError(t, err)
	require.NotZero(t, n, "the deleted records' pages should have been scrubbed")
	assert.Equal(t, before, txid(), "Free committed a transaction")
	assert.False(t, fileHas(t, db, secret))
}

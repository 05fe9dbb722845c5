package bolt

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi/central/keyring"
)

// Every bucket of the parts is read by Reader or left with a reason: a
// bucket added to a part fails here until the port copies it or says why
// not.
func TestReader_CoversEveryBucketOfTheParts(t *testing.T) {
	read := map[string]bool{}
	for _, b := range readByReader {
		assert.False(t, read[string(b)], "%s read twice", b)
		read[string(b)] = true
	}
	for _, p := range parts {
		for _, b := range p.buckets {
			_, why := notReadWhy[string(b)]
			assert.True(t, read[string(b)] != why, "bucket %s of part %s: read by Reader xor left with a reason", b, p.name)
		}
	}
}

// A file whose personal data is in an older format is refused: central
// migrates it when it opens it, and Reader only reads.
func TestOpenReader_RefusesAnOlderFormat(t *testing.T) {
	dir := t.TempDir()
	keys, err := keyring.Load(dir)
	require.NoError(t, err)
	path := filepath.Join(dir, DBFile)
	st, err := OpenStore(path, keys, StoreOptions{})
	require.NoError(t, err)
	require.NoError(t, st.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyPIIFormat, u64(1)) }))
	require.NoError(t, st.Close())
	_, err = OpenReader(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "start central on it once")

	st, err = OpenStore(path, keys, StoreOptions{}) // migrates
	require.NoError(t, err)
	require.NoError(t, st.Close())
	r, err := OpenReader(path)
	require.NoError(t, err)
	require.NoError(t, r.Close())
}

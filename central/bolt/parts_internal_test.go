package bolt

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi/central/keyring"
)

// Every bucket belongs to exactly one part, and a new store holds the
// parts' buckets and nothing else of its own (the detail pages, a package
// of their own, bring theirs when links are on).
func TestParts_EachBucketBelongsToOnePartAndANewStoreHasThemAll(t *testing.T) {
	owner := map[string]string{}
	for _, p := range parts {
		require.NotEmpty(t, p.buckets, p.name)
		for _, b := range p.buckets {
			prev, dup := owner[string(b)]
			assert.False(t, dup, "bucket %s in part %s and in part %s", b, p.name, prev)
			owner[string(b)] = p.name
		}
	}

	dir := t.TempDir()
	keys, err := keyring.Load(dir)
	require.NoError(t, err)
	st, err := OpenStore(filepath.Join(dir, DBFile), keys, StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	var have []string
	require.NoError(t, st.db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			have = append(have, string(name))
			return nil
		})
	}))
	want := make([]string, 0, len(owner))
	for b := range owner {
		want = append(want, b)
	}
	assert.ElementsMatch(t, want, have)
}

package bolt

import (
	"testing"

	"allimi/internal/loadgen"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

func TestSeedSubscribers_KeyOrderLeavesNoFreePages(t *testing.T) {
	old := seedChunk
	seedChunk = 500
	t.Cleanup(func() { seedChunk = old })
	s, _, err := OpenData(t.TempDir(), StoreOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	types := []allimi.NotificationType{allimi.TypeHealthCheckup}
	require.NoError(t, loadgen.Seed(s, 6000, types, []allimi.Channel{allimi.ChannelKakao}))
	n, err := s.Subscribers()
	require.NoError(t, err)
	assert.EqualValues(t, 6000, n)

	// Twelve transactions, each appending: the pages each one copies are
	// a few at the buckets' right edges, not most of the file.
	st := s.db.Stats()
	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		pages := tx.Size() / int64(s.db.Info().PageSize)
		assert.Less(t, int64(st.FreePageN), pages/10, "%d free of %d pages", st.FreePageN, pages)
		subs := tx.Bucket(bucketSubs).Stats()
		assert.EqualValues(t, 6000, subs.KeyN)
		assert.Greater(t, float64(subs.LeafInuse)/float64(subs.LeafAlloc), 0.9, "subs pages full")
		return nil
	}))

	// Seeding again adds nobody twice.
	require.NoError(t, loadgen.Seed(s, 6100, types, []allimi.Channel{allimi.ChannelKakao}))
	n, err = s.Subscribers()
	require.NoError(t, err)
	assert.EqualValues(t, 6100, n)
}

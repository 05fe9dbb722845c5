package bolt

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

// addTestRecipients adds recipients in calls of the given sizes, every
// third with parameters of its own, and returns what was added in order.
func addTestRecipients(t *testing.T, s *Store, n *allimi.Notification, sizes ...int) []newRecipient {
	var all []newRecipient
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		for _, size := range sizes {
			add := make([]newRecipient, size)
			for i := range add {
				seq := len(all) + i + 1
				add[i] = newRecipient{ck: bytes.Repeat([]byte{byte(seq)}, 32), mask: byte(seq%3 + 1)}
				if seq%3 == 0 {
					add[i].params = map[string]string{"place": fmt.Sprintf("보건소 %d", seq)}
				}
			}
			if err := s.addRecipients(tx, n, add); err != nil {
				return err
			}
			all = append(all, add...)
		}
		return nil
	}))
	return all
}

func TestRecipients_BlocksGrowAcrossCallsAndReadBack(t *testing.T) {
	s, _, err := OpenData(t.TempDir(), StoreOptions{LinkBase: "http://127.0.0.1:8080"})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	n := &allimi.Notification{ID: 9}
	// 5 then 40 crosses the first block's end from inside it; 1 and 30
	// extend a block that is part full.
	want := addTestRecipients(t, s, n, 5, 40, 1, 30)
	assert.EqualValues(t, 76, n.Recipients)

	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		assert.Equal(t, (76+recipientsPerBlock-1)/recipientsPerBlock, tx.Bucket(bucketRecipients).Stats().KeyN, "76 recipients in blocks")
		tokens := map[uint64]bool{}
		for i, w := range want {
			seq := uint32(i + 1)
			r, ok, err := getRecipient(tx, n.ID, seq)
			require.NoError(t, err)
			require.True(t, ok, "recipient %d", seq)
			assert.Equal(t, seq, r.Seq)
			assert.Equal(t, w.ck, r.CK, "recipient %d", seq)
			assert.Equal(t, w.mask, r.Mask, "recipient %d", seq)
			assert.Equal(t, w.params, r.Params, "recipient %d", seq)
			assert.False(t, tokens[r.Token], "token numbers are distinct")
			tokens[r.Token] = true
		}
		for _, seq := range []uint32{0, 77, 3 * recipientsPerBlock, 3*recipientsPerBlock + 1, 1 << 31} {
			_, ok, err := getRecipient(tx, n.ID, seq)
			require.NoError(t, err)
			assert.False(t, ok, "no recipient %d", seq)
		}
		_, ok, err := getRecipient(tx, n.ID+1, 1)
		require.NoError(t, err)
		assert.False(t, ok, "another notification has none")

		// Walking the blocks from the middle of one, as the dispatcher does.
		c := tx.Bucket(bucketRecipients).Cursor()
		var seqs []uint32
		for k, v := c.Seek(recipientBlockKey(n.ID, 30)); k != nil; k, v = c.Next() {
			b, err := openRecipientBlock(k, v)
			require.NoError(t, err)
			require.NoError(t, b.SkipTo(30))
			for {
				r, ok, err := b.Next()
				require.NoError(t, err)
				if !ok {
					break
				}
				seqs = append(seqs, r.Seq)
			}
		}
		require.Len(t, seqs, 47)
		assert.Equal(t, uint32(30), seqs[0])
		assert.Equal(t, uint32(76), seqs[46])
		return nil
	}))
}

func TestRecipients_DamagedBlockIsAnErrorAndSparesTheOthers(t *testing.T) {
	s, _, err := OpenData(t.TempDir(), StoreOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	n := &allimi.Notification{ID: 4}
	addTestRecipients(t, s, n, 70)
	const b = recipientsPerBlock
	require.NotZero(t, (2*b)%3, "the second block's last recipient has no parameters: 42 bytes")
	k := recipientBlockKey(n.ID, b+1)
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketRecipients)
		v := bytes.Clone(bk.Get(k))
		return bk.Put(k, v[:len(v)-20]) // cut short in its last recipient
	}))
	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		_, _, err := getRecipient(tx, n.ID, 2*b)
		require.ErrorIs(t, err, errDamagedRecipients)
		assert.Contains(t, err.Error(), "damaged recipients entry")
		r, ok, err := getRecipient(tx, n.ID, 2*b-1)
		require.NoError(t, err, "the block's intact head still reads")
		assert.True(t, ok)
		assert.Equal(t, uint32(2*b-1), r.Seq)
		for _, seq := range []uint32{1, b, 2*b + 1, 70} {
			_, ok, err := getRecipient(tx, n.ID, seq)
			require.NoError(t, err)
			assert.True(t, ok, "recipient %d in another block", seq)
		}
		return nil
	}))

	// Adding to a notification whose last block is missing refuses.
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketRecipients).Delete(recipientBlockKey(n.ID, 70))
	}))
	err = s.db.Update(func(tx *bbolt.Tx) error {
		return s.addRecipients(tx, n, []newRecipient{{ck: make([]byte, 32), mask: 1}})
	})
	require.ErrorIs(t, err, errDamagedRecipients)
	assert.Contains(t, err.Error(), "notification 4: recipients before 71")
}

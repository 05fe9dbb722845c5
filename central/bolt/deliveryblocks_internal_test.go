package bolt

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

func openBlocksTestStore(t *testing.T) *Store {
	t.Helper()
	s, _, err := OpenData(t.TempDir(), StoreOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestDeliveryBlocks_RecordsReadBackBySlotAndChannel(t *testing.T) {
	s := openBlocksTestStore(t)
	kakao := func(seq uint32) allimi.DeliveryRef {
		return allimi.DeliveryRef{Notification: 7, Seq: seq, Channel: allimi.ChannelKakao}
	}
	want := map[allimi.DeliveryRef]allimi.DeliveryRecord{}
	for _, seq := range []uint32{1, 2, 5, 32, 33, 64, 70} {
		d := allimi.DeliveryRecord{State: allimi.DeliveryAccepted, Attempts: byte(seq % 5), Flags: byte(seq % 2), First: int64(seq) * 1000, Updated: int64(seq)*1000 + 1}
		if seq%2 == 0 {
			d.State, d.Reason = allimi.DeliveryRetrying, "provider 503 서버 점검"
		}
		want[kakao(seq)] = d
	}
	sms := allimi.DeliveryRef{Notification: 7, Seq: 5, Channel: allimi.ChannelSMS}
	want[sms] = allimi.DeliveryRecord{State: allimi.DeliveryFellBack, Flags: allimi.DeliveryFallback, First: 9, Updated: 10, Reason: "not a KakaoTalk user"}
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		w := newDeliveryWriter(tx, s.log)
		for ref, d := range want {
			require.NoError(t, w.Put(ref, d))
		}
		got, ok := w.Get(kakao(2))
		assert.True(t, ok, "the writer reads its own changes before flush")
		assert.Equal(t, want[kakao(2)], got)
		require.Error(t, w.Put(kakao(0), allimi.DeliveryRecord{State: allimi.DeliveryAccepted}), "there is no recipient 0")
		return w.Flush()
	}))
	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		assert.Equal(t, 4, tx.Bucket(bucketDeliveries).Stats().KeyN, "kakao blocks 0, 1, 2 and one sms block")
		for ref, d := range want {
			got, ok, err := getDelivery(tx, ref)
			require.NoError(t, err)
			assert.True(t, ok, ref.Key())
			assert.Equal(t, d, got, ref.Key())
		}
		for _, ref := range []allimi.DeliveryRef{kakao(0), kakao(3), kakao(31), kakao(34), kakao(71), kakao(96), {Notification: 7, Seq: 1, Channel: allimi.ChannelSMS}, {Notification: 8, Seq: 1, Channel: allimi.ChannelKakao}} {
			_, ok, err := getDelivery(tx, ref)
			require.NoError(t, err)
			assert.False(t, ok, "no record for %s", ref.Key())
		}
		state, _, err := s.DeliveryStatus(kakao(3))
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryQueued, state, "no record reads as queued")
		return nil
	}))
	state, reason, err := s.DeliveryStatus(kakao(64))
	require.NoError(t, err)
	assert.Equal(t, allimi.DeliveryRetrying, state)
	assert.Equal(t, "provider 503 서버 점검", reason)

	// A later transaction changes one record and keeps its neighbours.
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		w := newDeliveryWriter(tx, s.log)
		d, ok := w.Get(kakao(2))
		require.True(t, ok)
		d.State, d.Reason = allimi.DeliveryDelivered, ""
		require.NoError(t, w.Put(kakao(2), d))
		return w.Flush()
	}))
	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		got, _, err := getDelivery(tx, kakao(2))
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryDelivered, got.State)
		assert.Empty(t, got.Reason)
		for _, seq := range []uint32{1, 5, 32} {
			got, _, err := getDelivery(tx, kakao(seq))
			require.NoError(t, err)
			assert.Equal(t, want[kakao(seq)], got, "recipient %d untouched", seq)
		}
		return nil
	}))
}

func TestDeliveryBlocks_DamagedEntryKeepsWhatCameBeforeIt(t *testing.T) {
	s := openBlocksTestStore(t)
	ref := func(seq uint32) allimi.DeliveryRef {
		return allimi.DeliveryRef{Notification: 3, Seq: seq, Channel: allimi.ChannelKakao}
	}
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		w := newDeliveryWriter(tx, s.log)
		for seq := uint32(1); seq <= 10; seq++ {
			require.NoError(t, w.Put(ref(seq), allimi.DeliveryRecord{State: allimi.DeliveryAccepted, First: 1, Updated: 2}))
		}
		return w.Flush()
	}))
	k := deliveryBlockKey(ref(1))
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDeliveries)
		v := bytes.Clone(b.Get(k))
		return b.Put(k, v[:len(v)-15]) // the last record (20 bytes) cut short
	}))

	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		_, _, err := getDelivery(tx, ref(10))
		require.ErrorIs(t, err, errDamagedDeliveries)
		assert.Contains(t, err.Error(), "damaged deliveries entry")
		d, ok, err := getDelivery(tx, ref(8))
		require.NoError(t, err, "records before the damage still read")
		assert.True(t, ok)
		assert.Equal(t, allimi.DeliveryAccepted, d.State)
		return nil
	}))

	// Writing into the block goes on, keeps the records before the damage
	// and says where it was.
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		w := newDeliveryWriter(tx, s.log)
		require.NoError(t, w.Put(ref(11), allimi.DeliveryRecord{State: allimi.DeliveryAccepted, First: 5, Updated: 5}))
		require.Len(t, w.damaged, 1)
		assert.Equal(t, "a3-1-kakao", w.damaged[0].Key())
		return w.Flush()
	}))
	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		for seq := uint32(1); seq <= 11; seq++ {
			_, ok, err := getDelivery(tx, ref(seq))
			require.NoError(t, err, "the entry is whole again")
			assert.Equal(t, seq != 10, ok, "recipient %d", seq)
		}
		return nil
	}))
}

package bolt

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/detail"
	"allimi/internal/loadgen"
)

func TestExpandCampaign_ChunksAreSendableAndEveryLinkResolves(t *testing.T) {
	old := expandChunk
	expandChunk = 3
	t.Cleanup(func() { expandChunk = old })

	s, _, err := OpenData(t.TempDir(), StoreOptions{LinkBase: "http://127.0.0.1:8080"})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, loadgen.Seed(s, 7, []allimi.NotificationType{allimi.TypeHealthCheckup}, []allimi.Channel{allimi.ChannelKakao}))
	req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Urgent: true, Params: map[string]string{"year": "2026"}}
	req.Audience.All = true
	n, _, err := s.CreateNotification("nhis", "", req)
	require.NoError(t, err)

	var seen []int64
	n, err = s.ExpandCampaign(n.ID, func(n allimi.Notification) { seen = append(seen, n.Recipients) })
	require.NoError(t, err)
	assert.Equal(t, []int64{3, 6, 7}, seen, "each chunk is handed over as soon as it is stored")
	assert.Equal(t, allimi.StatusSending, n.Status)
	assert.EqualValues(t, 7, n.PerChannel[allimi.ChannelKakao])

	births := map[string]bool{}
	for i := 1; i <= 7; i++ {
		births[loadgen.Signup("seed", uint64(i), nil, s.now()).Citizen.BirthDate] = true
	}
	tokens := map[uint64]bool{}
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		for seq := uint32(1); seq <= 7; seq++ {
			r, ok, err := getRecipient(tx, n.ID, seq)
			require.NoError(t, err)
			require.True(t, ok, "recipient %d", seq)
			assert.Equal(t, seq, r.Seq)
			assert.False(t, tokens[r.Token], "token numbers are distinct")
			tokens[r.Token] = true

			// Not sent yet: no page.
			_, ok, err = s.ResolveToken(tx, r.Token, s.links.Secret(n.ID, seq))
			require.NoError(t, err)
			assert.False(t, ok, "recipient %d: a page before any provider accepted the message", seq)

			ref := allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: allimi.ChannelKakao}
			dv := newDeliveryWriter(tx, s.log)
			require.NoError(t, dv.Put(ref, allimi.DeliveryRecord{State: allimi.DeliveryAccepted}))
			require.NoError(t, dv.Flush())
			res, ok, err := s.ResolveToken(tx, r.Token, s.links.Secret(n.ID, seq))
			shared, birth := res.Shared, res.BirthDate
			require.NoError(t, err)
			require.True(t, ok, "recipient %d", seq)
			assert.Equal(t, detail.NoticeKey(n.ID), shared)
			assert.True(t, births[birth])

			wrong := s.links.Secret(n.ID, seq%7+1)
			_, ok, err = s.ResolveToken(tx, r.Token, wrong)
			require.NoError(t, err)
			assert.False(t, ok, "another recipient's secret opens nothing")
		}
		_, ok, err := s.ResolveToken(tx, 1<<39, [16]byte{})
		require.NoError(t, err)
		assert.False(t, ok, "a token number never issued")
		assert.Equal(t, 3, tx.Bucket(bucketTokenRanges).Stats().KeyN, "one token range per chunk")
		return nil
	}))
}

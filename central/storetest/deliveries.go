package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// DeliveriesBackend is what the Deliveries suite needs of a store: the
// interface, the registry that makes people subscribers, and
// notifications to deliver. A Backend is one.
type DeliveriesBackend interface {
	allimi.Registry
	allimi.Notifications
	allimi.Deliveries
}

// Deliveries checks what allimi.Deliveries says before any dispatch: the
// table counts subscribers per type and channel, a delivery nothing has
// tried is queued, and dead letters are refused by key. (Making dead
// letters takes the dispatcher's side of the store: the DeliveryQueue
// suite lists and replays them.)
func Deliveries[B DeliveriesBackend](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"StatsCountSubscribers", deliveriesStats[B]},
		{"UntriedIsQueued", deliveriesQueued[B]},
		{"DeadLettersByKey", deliveriesDeadLetters[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func deliveriesStats[B DeliveriesBackend](t *testing.T, b B) {
	st, err := b.DeliveryStats()
	require.NoError(t, err)
	assert.Zero(t, st[string(allimi.TypeHealthCheckup)][string(allimi.ChannelSMS)]["subscribers"])
	subscribe(t, b)
	st, err = b.DeliveryStats()
	require.NoError(t, err)
	hc := st[string(allimi.TypeHealthCheckup)]
	assert.EqualValues(t, 2, hc[string(allimi.ChannelSMS)]["subscribers"], "kim and lee; park withdrew")
	assert.EqualValues(t, 1, hc[string(allimi.ChannelKakao)]["subscribers"])
	assert.Zero(t, hc[string(allimi.ChannelNaver)]["subscribers"])
	assert.EqualValues(t, 1, st[string(allimi.TypeVaccination)][string(allimi.ChannelNaver)]["subscribers"])
}

func deliveriesQueued[B DeliveriesBackend](t *testing.T, b B) {
	subscribe(t, b)
	n, _ := create(t, b, "health-centre", "", checkupRequest(kim, lee))
	for _, ref := range []allimi.DeliveryRef{
		{Notification: n.ID, Seq: 1, Channel: allimi.ChannelKakao},
		{Notification: n.ID, Seq: 1, Channel: allimi.ChannelSMS},
		{Notification: n.ID, Seq: 2, Channel: allimi.ChannelSMS},
	} {
		st, reason, err := b.DeliveryStatus(ref)
		require.NoError(t, err, ref.Key())
		assert.Equal(t, "queued", st.String(), ref.Key())
		assert.Empty(t, reason, ref.Key())
	}
}

func deliveriesDeadLetters[B DeliveriesBackend](t *testing.T, b B) {
	dl, total, err := b.DeadLetters(10)
	require.NoError(t, err)
	assert.Empty(t, dl)
	assert.Zero(t, total)
	n, err := b.ReplayDeadLetters("")
	require.NoError(t, err)
	assert.Zero(t, n, "nothing to replay")
	for _, bad := range []string{"x", "a1-2", "a1-2-fax", "b1-2-sms", "a-1-sms"} {
		_, err := b.ReplayDeadLetters(bad)
		assert.ErrorIs(t, err, allimi.ErrInvalid, "key %q", bad)
	}
	_, err = b.ReplayDeadLetters(allimi.DeliveryRef{Notification: 7, Seq: 1, Channel: allimi.ChannelSMS}.Key())
	assert.ErrorIs(t, err, allimi.ErrNotFound, "a delivery that is no dead letter")
}

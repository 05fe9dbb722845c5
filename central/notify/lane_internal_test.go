package notify

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/channel"
)

// lostCommits is a store whose reads can be made to fail once f has read
// everything, as on PostgreSQL when the database restarts: a snapshot's
// COMMIT goes out on a connection the server has just closed, and the
// read fails after every one of its rows was answered.
type lostCommits struct {
	testStore
	mu sync.Mutex
	// sending counts the reads that gave recipients to send.
	sending int
	// lose says whether a read fails: the sending-th read that gave
	// recipients, or none.
	lose func(sending int, gave bool) bool
}

func (s *lostCommits) ReadDeliveries(f func(allimi.DeliveryReader) error) error {
	gave := false
	if err := s.testStore.ReadDeliveries(func(tx allimi.DeliveryReader) error {
		gave = false
		return f(&givenRecipients{DeliveryReader: tx, gave: &gave})
	}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gave {
		s.sending++
	}
	if s.lose != nil && s.lose(s.sending, gave) {
		return errors.New("unexpected EOF: the server closed the connection at COMMIT")
	}
	return nil
}

// givenRecipients notes whether a read gave a recipient to send.
type givenRecipients struct {
	allimi.DeliveryReader
	gave *bool
}

func (r *givenRecipients) Recipients(n *allimi.Notification, ch allimi.Channel, after uint32, each func(uint32, *allimi.Outgoing) bool) error {
	return r.DeliveryReader.Recipients(n, ch, after, func(seq uint32, o *allimi.Outgoing) bool {
		*r.gave = *r.gave || o != nil
		return each(seq, o)
	})
}

// refsOf are the deliveries of a batch, with their due times.
func refsOf(b batch) []dueKey {
	out := make([]dueKey, len(b.items))
	for i := range b.items {
		out[i] = dueKeyOf(&b.items[i])
	}
	return out
}

// A read that fails at its very end claims nothing: the next read gives
// the same recipients and due entries, which a fresh lane would give.
// (The lane claimed them as it read: after a read whose snapshot's
// COMMIT failed with the database restarting, the next read went on after
// them, the batches after moved the progress past them, and the 1,000
// recipients of a whole send slot's chunk were never sent.)
func TestLane_ReadFailingAtItsEndClaimsNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		s := open(t, 20, allimi.ChannelKakao)
		n := campaign(t, s)
		now := time.Now()
		retry := allimi.DeliveryRef{Notification: n.ID, Seq: 15, Channel: allimi.ChannelKakao}
		require.NoError(t, s.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
			if err := tx.PutDelivery(retry, allimi.DeliveryRecord{State: allimi.DeliveryRetrying, Attempts: 1,
				First: now.Add(-time.Minute).UnixMilli(), Updated: now.Add(-time.Minute).UnixMilli()}); err != nil {
				return err
			}
			return tx.PutDue(allimi.DueEntry{Ref: retry, At: now.Add(-time.Second)})
		}))
		ls := &lostCommits{testStore: s}
		d := newTestDispatcher(t, ls, &scripted{ch: allimi.ChannelKakao, status: channel.Accepted})
		d.Watch(n)

		want, _, err := d.nextBatch(newLane(allimi.ChannelKakao), 7, now)
		require.NoError(t, err)
		require.Len(t, want.items, 7)
		assert.Equal(t, retry, want.items[0].Ref, "the due retry first")
		assert.Equal(t, uint32(6), want.progress[n.ID], "then fresh recipients 1 to 6")

		l := newLane(allimi.ChannelKakao)
		ls.lose = func(int, bool) bool { return true }
		_, _, err = d.nextBatch(l, 7, now)
		require.Error(t, err)
		ls.lose = nil
		got, _, err := d.nextBatch(l, 7, now)
		require.NoError(t, err)
		assert.Equal(t, refsOf(want), refsOf(got), "what the failed read had read")
		assert.Equal(t, want.progress, got.progress)

		after, _, err := d.nextBatch(l, 7, now)
		require.NoError(t, err)
		require.NotEmpty(t, after.items)
		assert.Equal(t, uint32(7), after.items[0].Ref.Seq, "a read that succeeded is claimed: the next goes on after it")
		assert.True(t, after.items[0].Due.IsZero(), "the retry is in flight, not read again")
	})
}

// The same in a running dispatcher: its reader's second read fails at its
// end; every recipient is still sent, once, before the notification is
// done.
func TestDispatcher_ReadFailingAtItsEndLosesNoRecipient(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		s := open(t, 20, allimi.ChannelKakao)
		n := campaign(t, s)
		ls := &lostCommits{testStore: s, lose: func(sending int, gave bool) bool { return gave && sending == 2 }}
		kakao := &scripted{ch: allimi.ChannelKakao, status: channel.Accepted} // 7 a batch
		d := newTestDispatcher(t, ls, kakao, &scripted{ch: allimi.ChannelNaver}, &scripted{ch: allimi.ChannelToss},
			&scripted{ch: allimi.ChannelSMS}) // a notification is done once every lane is through it
		d.Watch(n)
		running(t, d)

		require.Eventually(t, func() bool {
			n, err := s.GetNotification(n.ID)
			return err == nil && n.Status == allimi.StatusDone
		}, 10*time.Second, 5*time.Millisecond)
		ls.mu.Lock()
		assert.GreaterOrEqual(t, ls.sending, 2, "the second read of recipients failed")
		ls.mu.Unlock()
		sent := kakao.sent()
		seen := map[string]bool{}
		for _, k := range sent {
			assert.False(t, seen[k], "%s sent twice", k)
			seen[k] = true
		}
		assert.Len(t, seen, 20, "every recipient sent before the notification is done")
		st, err := s.DeliveryStats()
		require.NoError(t, err)
		assert.EqualValues(t, 20, st[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)][MetricSent])
		for seq := uint32(1); seq <= 20; seq++ {
			state, _, err := s.DeliveryStatus(allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: allimi.ChannelKakao})
			require.NoError(t, err)
			assert.Equal(t, allimi.DeliveryAccepted, state, "recipient %d", seq)
		}
	})
}

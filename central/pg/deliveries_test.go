package pg

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// citizens are n made-up people numbered from first.
func citizens(first, n int) []allimi.Citizen {
	out := make([]allimi.Citizen, n)
	for i := range out {
		k := first + i
		out[i] = allimi.Citizen{Name: fmt.Sprintf("시민%d", k), Mobile: fmt.Sprintf("010-8%03d-%04d", k/10000, k%10000),
			BirthDate: time.Date(1940+k%50, time.Month(1+k%12), 1+k%28, 0, 0, 0, 0, time.UTC).Format(allimi.DateLayout)}
	}
	return out
}

func checkup(people ...allimi.Citizen) *allimi.NotificationRequest {
	req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Params: map[string]string{"year": "2026"}}
	req.Audience.All = len(people) == 0
	for _, c := range people {
		req.Audience.Citizens = append(req.Audience.Citizens, allimi.RecipientRequest{Mobile: c.Mobile, BirthDate: c.BirthDate})
	}
	return req
}

// withdraw turns a seeded person's grant on ch into a withdrawal, as the
// registry stores one that won.
func (c *conformanceStore) withdraw(t *testing.T, p allimi.Citizen, typ allimi.NotificationType, ch allimi.Channel) {
	t.Helper()
	tag, err := c.pool.Exec(context.Background(), `UPDATE consents SET action = 'withdraw' WHERE ck = $1 AND type = $2 AND channel = $3`,
		c.keys.CitizenKey(p.Mobile, p.BirthDate), string(typ), string(ch))
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
}

// A listed audience resolves against the consents as they stand: each
// person with an active grant once, on the channels still granted.
func TestNotifications_ListedAgainstConsents(t *testing.T) {
	c := openConformance(t)
	ps := citizens(1, 4)
	c.Seed(t, ps[:3], allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS)
	c.Seed(t, ps[3:], allimi.TypeVaccination, allimi.ChannelSMS)
	c.withdraw(t, ps[1], allimi.TypeHealthCheckup, allimi.ChannelKakao)
	c.withdraw(t, ps[2], allimi.TypeHealthCheckup, allimi.ChannelKakao)
	c.withdraw(t, ps[2], allimi.TypeHealthCheckup, allimi.ChannelSMS)
	n, repeat, err := c.CreateNotification("health-centre", "k1", checkup(ps[0], ps[1], ps[2], ps[3], ps[0]))
	require.NoError(t, err)
	assert.False(t, repeat)
	assert.EqualValues(t, 2, n.Recipients)
	assert.EqualValues(t, 2, n.NotSubscribed, "one withdrew from both channels, one takes other notices")
	assert.EqualValues(t, 3, n.Deliveries)
	assert.Equal(t, map[allimi.Channel]int64{allimi.ChannelKakao: 1, allimi.ChannelSMS: 2}, n.PerChannel)

	// The same key at once from many goroutines (or processes): one
	// notification.
	var wg sync.WaitGroup
	ids := make([]uint64, 8)
	for i := range ids {
		wg.Go(func() {
			m, _, err := c.CreateNotification("health-centre", "k2", checkup(ps[0]))
			assert.NoError(t, err)
			ids[i] = m.ID
		})
	}
	wg.Wait()
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(ids))), 1, "%v", ids)
	active, err := c.ActiveNotifications()
	require.NoError(t, err)
	assert.Len(t, active, 2)
}

// A campaign expands in chunks, in the order of the people's keys, each
// subscriber once, whoever expands it and however many at once.
func TestNotifications_CampaignInChunks(t *testing.T) {
	old := expandChunk
	expandChunk = 7
	t.Cleanup(func() { expandChunk = old })
	c := openConformance(t)
	ps := citizens(1, 600)
	c.Seed(t, ps[:400], allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS)
	c.Seed(t, ps[400:550], allimi.TypeHealthCheckup, allimi.ChannelSMS)
	c.Seed(t, ps[550:], allimi.TypeVaccination, allimi.ChannelSMS)
	n, _, err := c.CreateNotification("health-centre", "", checkup())
	require.NoError(t, err)

	var wg sync.WaitGroup
	var mu sync.Mutex
	steps := 0
	for range 3 {
		wg.Go(func() {
			done, err := c.ExpandCampaign(n.ID, func(allimi.Notification) { mu.Lock(); steps++; mu.Unlock() })
			assert.NoError(t, err)
			assert.EqualValues(t, 550, done.Recipients)
		})
	}
	wg.Wait()
	assert.GreaterOrEqual(t, steps, 550/7, "each is called after every step")
	got, err := c.GetNotification(n.ID)
	require.NoError(t, err)
	assert.Equal(t, allimi.StatusSending, got.Status)
	assert.EqualValues(t, 550, got.Recipients)
	assert.EqualValues(t, 950, got.Deliveries)
	assert.Nil(t, got.Cursor)

	// Read back across pages, with the callback reading as the
	// dispatcher's does: every recipient once, in the keys' order.
	var cks [][]byte
	seen := map[allimi.Citizen]bool{}
	require.NoError(t, c.ReadDeliveries(func(r allimi.DeliveryReader) error {
		return r.Recipients(&got, allimi.ChannelSMS, 0, func(seq uint32, o *allimi.Outgoing) bool {
			require.NotNil(t, o)
			assert.EqualValues(t, len(cks)+1, seq)
			again, err := r.Outgoing(&got, o.Ref)
			require.NoError(t, err)
			assert.Equal(t, o.Citizen, again.Citizen)
			seen[o.Citizen] = true
			cks = append(cks, c.keys.CitizenKey(o.Citizen.Mobile, o.Citizen.BirthDate))
			return true
		})
	}))
	assert.Len(t, seen, 550)
	assert.True(t, slices.IsSortedFunc(cks, bytes.Compare), "in the order of their keys")
}

// UpdateDeliveries runs f again when another writer got there first:
// nothing concurrent writers read and write back is lost.
func TestUpdateDeliveries_ConcurrentWriters(t *testing.T) {
	c := openConformance(t)
	c.Seed(t, citizens(1, 3), allimi.TypeHealthCheckup, allimi.ChannelSMS)
	n, _, err := c.CreateNotification("health-centre", "", checkup(citizens(1, 3)...))
	require.NoError(t, err)
	ref := allimi.DeliveryRef{Notification: n.ID, Seq: 1, Channel: allimi.ChannelSMS}
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				assert.NoError(t, c.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
					m, err := tx.Notification(n.ID)
					if err != nil {
						return err
					}
					if m.Progress == nil {
						m.Progress = map[allimi.Channel]uint32{}
					}
					m.Progress[allimi.ChannelNaver]++
					if err := tx.PutNotification(&m); err != nil {
						return err
					}
					rec, _, err := tx.Delivery(ref)
					if err != nil {
						return err
					}
					rec.Attempts++
					if err := tx.PutDelivery(ref, rec); err != nil {
						return err
					}
					return tx.CountDeliveries(n.Type, allimi.ChannelSMS, "accepted", 1)
				}))
			}
		})
	}
	wg.Wait()
	got, err := c.GetNotification(n.ID)
	require.NoError(t, err)
	assert.EqualValues(t, writers*each, got.Progress[allimi.ChannelNaver])
	require.NoError(t, c.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		rec, ok, err := tx.Delivery(ref)
		assert.True(t, ok)
		assert.EqualValues(t, writers*each, rec.Attempts)
		return err
	}))
	st, err := c.DeliveryStats()
	require.NoError(t, err)
	assert.EqualValues(t, writers*each, st[string(n.Type)][string(allimi.ChannelSMS)]["accepted"])
}

// The due queue and send-intents are read across pages, in order, with
// the callback reading as the dispatcher's does.
func TestDeliveryQueue_LongQueues(t *testing.T) {
	c := openConformance(t)
	c.Seed(t, citizens(1, 3), allimi.TypeHealthCheckup, allimi.ChannelSMS)
	n, _, err := c.CreateNotification("health-centre", "", checkup(citizens(1, 3)...))
	require.NoError(t, err)
	t0 := time.Now().Truncate(time.Millisecond)
	const count = 3*page + 5
	require.NoError(t, c.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		for i := range count {
			r := allimi.DeliveryRef{Notification: n.ID, Seq: uint32(1 + i%3), Channel: allimi.ChannelSMS}
			if err := tx.PutDue(allimi.DueEntry{Ref: r, At: t0.Add(time.Duration(count-i/3) * time.Millisecond)}); err != nil {
				return err
			}
			r.Seq = uint32(i + 1)
			if err := tx.PutSendIntent(allimi.SendIntent{Ref: r, At: int64(i), Group: uint64(i)}); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, c.ReadDeliveries(func(r allimi.DeliveryReader) error {
		var es []allimi.DueEntry
		require.NoError(t, r.Due(allimi.ChannelSMS, func(e allimi.DueEntry) bool {
			_, err := r.Notification(e.Ref.Notification)
			require.NoError(t, err)
			es = append(es, e)
			return true
		}))
		assert.Len(t, es, count)
		assert.True(t, slices.IsSortedFunc(es, func(a, b allimi.DueEntry) int {
			return cmpDue(a, b)
		}), "earliest first")
		var seqs []uint32
		require.NoError(t, r.SendIntents(allimi.ChannelSMS, func(si allimi.SendIntent) bool {
			seqs = append(seqs, si.Ref.Seq)
			return true
		}))
		assert.Len(t, seqs, count)
		assert.True(t, slices.IsSorted(seqs))
		return nil
	}))
}

func cmpDue(a, b allimi.DueEntry) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return int(a.Ref.Seq) - int(b.Ref.Seq)
}

// Dead letters are refused by a key that names none, or none at all.
func TestDeliveries_ReplayRefuses(t *testing.T) {
	c := openConformance(t)
	for _, bad := range []string{"x", "a1-2", "a1-2-fax", "b1-2-sms", "a-1-sms"} {
		_, err := c.ReplayDeadLetters(bad)
		assert.ErrorIs(t, err, allimi.ErrInvalid, "key %q", bad)
	}
	_, err := c.ReplayDeadLetters(allimi.DeliveryRef{Notification: 7, Seq: 1, Channel: allimi.ChannelSMS}.Key())
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	n, err := c.ReplayDeadLetters("")
	require.NoError(t, err)
	assert.Zero(t, n)
	st, reason, err := c.DeliveryStatus(allimi.DeliveryRef{Notification: 7, Seq: 1, Channel: allimi.ChannelSMS})
	require.NoError(t, err)
	assert.Equal(t, allimi.DeliveryQueued, st)
	assert.Empty(t, reason)
}

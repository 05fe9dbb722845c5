package pg

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/pgtest"
)

// Whatever the notification and however far its expansion has come, the
// slots' ranges deal each recipient to its own slot (SlotOf), once.
func TestSlotRange_DealsEachRecipientToItsSlotOnce(t *testing.T) {
	for _, id := range []uint64{1, 2, 7, 8, 13} {
		for _, total := range []int64{1, 999, 1000, 1001, 7999, 8000, 8001, 23456} {
			seen := make([]int, total+1)
			for slot := range SendSlots {
				after := uint32(0)
				for {
					lo, hi, ok := slotRange(id, slot, after, total)
					if !ok {
						break
					}
					require.Greater(t, hi, lo)
					require.GreaterOrEqual(t, lo, int64(after))
					for seq := lo + 1; seq <= hi; seq++ {
						require.Equal(t, slot, SlotOf(id, uint32(seq)), "notification %d recipient %d", id, seq)
						seen[seq]++
					}
					after = uint32(hi)
				}
			}
			for seq := int64(1); seq <= total; seq++ {
				require.Equal(t, 1, seen[seq], "notification %d of %d: recipient %d", id, total, seq)
			}
		}
	}
	// A campaign's chunks go round every slot.
	slots := map[int]bool{}
	for c := range uint32(SendSlots) {
		slots[SlotOf(5, c*SlotChunk+1)] = true
	}
	assert.Len(t, slots, SendSlots)
}

// takeSlot takes slot i's lease for owner, which must be free.
func takeSlot(t *testing.T, s *Store, i int, owner string) *Slot {
	t.Helper()
	l, ok := s.takeLease(context.Background(), SlotLease(i), owner)
	require.True(t, ok, "slot %d free", i)
	return s.Slot(l, i)
}

// Each slot's view reads its own recipients, keeps its own progress, and
// the last slot through the notification marks it done; the whole
// notification's progress is the slots' least. A slot taken over cannot
// write any more.
func TestSlot_OwnRecipientsOwnProgressAndTheLastFinishes(t *testing.T) {
	c := openConformance(t)
	const people = 2500
	c.Seed(t, citizens(1, people), allimi.TypeHealthCheckup, allimi.ChannelKakao)
	n, _, err := c.CreateNotification("health-centre", "all", checkup())
	require.NoError(t, err)
	n, err = c.ExpandCampaign(n.ID, nil)
	require.NoError(t, err)
	require.EqualValues(t, people, n.Recipients)
	require.Equal(t, allimi.StatusSending, n.Status)

	slots := make([]*Slot, SendSlots)
	for i := range slots {
		slots[i] = takeSlot(t, c.Store, i, "test")
	}
	// Reading: a slot's recipients only, and its progress ends at the
	// last recipient.
	total := 0
	for i, sl := range slots {
		var sent []uint32
		var last uint32
		require.NoError(t, sl.ReadDeliveries(func(tx allimi.DeliveryReader) error {
			vn, err := tx.Notification(n.ID)
			if err != nil {
				return err
			}
			assert.Empty(t, vn.Progress, "slot %d has not started", i)
			return tx.Recipients(&vn, allimi.ChannelKakao, 0, func(seq uint32, o *allimi.Outgoing) bool {
				if o != nil {
					sent = append(sent, seq)
					assert.Equal(t, seq, o.Ref.Seq)
				}
				last = seq
				return true
			})
		}))
		for _, seq := range sent {
			require.Equal(t, i, SlotOf(n.ID, seq))
		}
		assert.EqualValues(t, people, last, "slot %d's progress reaches the last recipient", i)
		total += len(sent)
	}
	assert.Equal(t, people, total, "every recipient read by one slot")

	// Progress: each slot's own; the notification is done when the last
	// slot is through.
	finish := func(sl *Slot) error {
		return sl.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
			vn, err := tx.Notification(n.ID)
			if err != nil {
				return err
			}
			for _, ch := range allimi.Channels {
				vn.Advance(ch, uint32(people))
			}
			return tx.PutNotification(&vn)
		})
	}
	for i, sl := range slots[:SendSlots-1] {
		require.NoError(t, finish(sl), "slot %d", i)
	}
	require.NoError(t, slots[0].ReadDeliveries(func(tx allimi.DeliveryReader) error {
		vn, err := tx.Notification(n.ID)
		assert.EqualValues(t, people, vn.Progress[allimi.ChannelKakao], "slot 0's own progress")
		return err
	}))
	whole, err := c.GetNotification(n.ID)
	require.NoError(t, err)
	assert.Equal(t, allimi.StatusSending, whole.Status, "one slot is not through")
	assert.Zero(t, whole.Progress[allimi.ChannelKakao], "the least of the slots'")

	// The last slot's lease taken over: its holder's writes are refused.
	last := slots[SendSlots-1]
	_, err = c.pool.Exec(context.Background(), `UPDATE leases SET expires = clock_timestamp() WHERE name = $1`, SlotLease(SendSlots-1))
	require.NoError(t, err)
	taker := takeSlot(t, c.Store, SendSlots-1, "another")
	require.ErrorIs(t, finish(last), ErrLeaseLost)
	whole, err = c.GetNotification(n.ID)
	require.NoError(t, err)
	assert.Equal(t, allimi.StatusSending, whole.Status, "nothing of the refused write kept")

	require.NoError(t, finish(taker))
	whole, err = c.GetNotification(n.ID)
	require.NoError(t, err)
	assert.Equal(t, allimi.StatusDone, whole.Status, "the last slot through marks it done")
	assert.EqualValues(t, people, whole.Progress[allimi.ChannelKakao])
}

// Slots finishing a notification at once: one of them sees the others'
// progress and marks it done.
func TestSlot_FinishingAtOnceMarksDone(t *testing.T) {
	c := openConformance(t)
	c.Seed(t, citizens(1, 20), allimi.TypeHealthCheckup, allimi.ChannelKakao)
	for round := range 5 {
		n, _, err := c.CreateNotification("health-centre", "round-"+string(rune('a'+round)), checkup())
		require.NoError(t, err)
		n, err = c.ExpandCampaign(n.ID, nil)
		require.NoError(t, err)
		var wg sync.WaitGroup
		for i := range SendSlots {
			sl := takeSlot(t, c.Store, i, "round")
			wg.Go(func() {
				assert.NoError(t, sl.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
					vn, err := tx.Notification(n.ID)
					if err != nil {
						return err
					}
					for _, ch := range allimi.Channels {
						vn.Advance(ch, uint32(n.Recipients))
					}
					return tx.PutNotification(&vn)
				}))
			})
		}
		wg.Wait()
		whole, err := c.GetNotification(n.ID)
		require.NoError(t, err)
		require.Equal(t, allimi.StatusDone, whole.Status, "round %d", round)
		_, err = c.pool.Exec(context.Background(), `DELETE FROM leases WHERE name LIKE 'send/%'`)
		require.NoError(t, err)
	}
}

// held counts the slots each sharer runs f for.
type held struct {
	mu  sync.Mutex
	now map[int]map[int]bool // sharer → slots
}

func (h *held) f(who int) func(ctx context.Context, slot int, st *Slot) {
	return func(ctx context.Context, slot int, st *Slot) {
		h.mu.Lock()
		if h.now[who] == nil {
			h.now[who] = map[int]bool{}
		}
		h.now[who][slot] = true
		h.mu.Unlock()
		<-ctx.Done()
		h.mu.Lock()
		delete(h.now[who], slot)
		h.mu.Unlock()
	}
}

func (h *held) counts() (a, b int, overlap bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.now[0] {
		overlap = overlap || h.now[1][s]
	}
	return len(h.now[0]), len(h.now[1]), overlap
}

// Two centrals share the slots out evenly, never one slot both; when one
// stops, the other takes every slot.
func TestShare_SlotsSpreadAndTakenOverWhenOneStops(t *testing.T) {
	c := openStore(t)
	other := c.others(t, 1)[0]
	h := &held{now: map[int]map[int]bool{}}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { c.Share(ctxA, h.f(0)) })
	wg.Go(func() { other.Share(ctxB, h.f(1)) })
	defer func() { stopA(); stopB(); wg.Wait() }()

	deadline := time.Now().Add(45 * time.Second)
	for {
		a, b, overlap := h.counts()
		require.False(t, overlap, "a slot run by both")
		if a == SendSlots/2 && b == SendSlots/2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "not shared out evenly: %d and %d", a, b)
		time.Sleep(20 * time.Millisecond)
	}
	stopB()
	deadline = time.Now().Add(30 * time.Second)
	for {
		a, _, _ := h.counts()
		if a == SendSlots {
			break
		}
		require.True(t, time.Now().Before(deadline), "the one left holds %d slots", a)
		time.Sleep(20 * time.Millisecond)
	}
}

// StrandedReceipts lists the receipts kept as early whose delivery has
// been accepted since, and no other.
func TestStrandedReceipts_OnlyThoseWhoseDeliveryWasAccepted(t *testing.T) {
	c := openConformance(t)
	c.Seed(t, citizens(1, 4), allimi.TypeHealthCheckup, allimi.ChannelKakao)
	n, _, err := c.CreateNotification("health-centre", "all", checkup())
	require.NoError(t, err)
	n, err = c.ExpandCampaign(n.ID, nil)
	require.NoError(t, err)
	ref := func(seq uint32) allimi.DeliveryRef {
		return allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: allimi.ChannelKakao}
	}
	receipt := func(seq uint32) allimi.ProviderReceipt {
		return allimi.ProviderReceipt{Channel: allimi.ChannelKakao, IdempotencyKey: ref(seq).Key(), Status: "delivered"}
	}
	states := map[uint32]allimi.DeliveryState{1: allimi.DeliveryAccepted, 2: allimi.DeliveryRetrying, 3: allimi.DeliveryAccepted, 4: allimi.DeliveryAccepted}
	require.NoError(t, c.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		for seq, state := range states {
			if err := tx.PutDelivery(ref(seq), allimi.DeliveryRecord{State: state, Attempts: 1, First: 1, Updated: 1}); err != nil {
				return err
			}
		}
		for _, seq := range []uint32{1, 2, 4} {
			if err := tx.PutEarlyReceipt(ref(seq), receipt(seq)); err != nil {
				return err
			}
		}
		return nil
	}))
	got, err := c.StrandedReceipts(10)
	require.NoError(t, err)
	assert.Equal(t, []allimi.ProviderReceipt{receipt(1), receipt(4)}, got)
	got, err = c.StrandedReceipts(1)
	require.NoError(t, err)
	assert.Equal(t, []allimi.ProviderReceipt{receipt(1)}, got, "at most limit")
}

// A database upgraded while a notification is being sent by one central
// (schema 11, its progress in the notification): every slot starts from
// that progress, and nothing handed over is sent again.
func TestMigrate_SlotsStartFromTheProgressOfANotificationBeingSent(t *testing.T) {
	url := pgtest.URL(t)
	_, err := migrateTo(context.Background(), url, 11)
	require.NoError(t, err)
	exec(t, url, `INSERT INTO notifications (id, agency, active, body) VALUES
		(1, 'nhis', true, '{"id":1,"status":"sending","recipients":5000,"progress":{"kakao":1500,"sms":5000}}'),
		(2, 'nhis', false, '{"id":2,"status":"done","recipients":10,"progress":{"kakao":10}}')`)
	_, err = Migrate(context.Background(), url)
	require.NoError(t, err)
	st, err := Open(context.Background(), url)
	require.NoError(t, err)
	defer st.Close()
	for i := range SendSlots {
		l, ok := st.takeLease(context.Background(), SlotLease(i), "test")
		require.True(t, ok)
		require.NoError(t, st.Slot(l, i).ReadDeliveries(func(tx allimi.DeliveryReader) error {
			n, err := tx.Notification(1)
			assert.Equal(t, map[allimi.Channel]uint32{allimi.ChannelKakao: 1500, allimi.ChannelSMS: 5000}, n.Progress, "slot %d", i)
			return err
		}))
	}
	n, err := st.GetNotification(1)
	require.NoError(t, err)
	assert.EqualValues(t, 1500, n.Progress[allimi.ChannelKakao])
	var rows int
	require.NoError(t, st.pool.QueryRow(context.Background(), `SELECT count(*) FROM slot_progress WHERE notification = 2`).Scan(&rows))
	assert.Zero(t, rows, "a finished notification needs none")
}

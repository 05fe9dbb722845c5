package pg

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// Several centrals on one database send at once. A notification's
// recipients are dealt to SendSlots send slots, SlotChunk consecutive
// recipients at a time, round the slots starting at the notification's
// own (SlotOf), so that a campaign's chunks are spread over every slot and
// single messages over the slots too. Each slot is leased by one central
// at a time (Share) and sent by a dispatcher of its own on the slot's view
// of the store (Slot): it reads only its slot's recipients, due entries
// and send-intents, keeps its own progress per notification and channel
// (slot_progress), counts its deliveries in its own rows, and writes
// under the slot's lease, refused once another central has taken the
// slot over. The last slot through a notification marks it done.
const (
	SendSlots = 8
	SlotChunk = 1000
)

// SlotOf is the send slot of recipient seq of notification id.
func SlotOf(id uint64, seq uint32) int {
	return int((id + uint64(seq-1)/SlotChunk) % SendSlots)
}

// slotSQL is SlotOf over a table's notification and seq columns.
const slotSQL = `((notification + (seq - 1) / 1000) % 8)`

// SlotLease names slot i's lease.
func SlotLease(i int) string { return fmt.Sprintf("send/%d", i) }

// Slot is the store as the holder of send slot i's lease sees it: the
// dispatcher's view (notify.Store) of that slot's share of the sending.
type Slot struct {
	*Store
	lease Lease
	slot  int
}

// Slot is s for the holder of slot i's lease l.
func (s *Store) Slot(l Lease, i int) *Slot {
	if i < 0 || i >= SendSlots {
		panic(fmt.Sprintf("send slot %d out of range", i))
	}
	return &Slot{Store: s, lease: l, slot: i}
}

// ReadDeliveries implements allimi.DeliveryQueue for the slot.
func (s *Slot) ReadDeliveries(f func(allimi.DeliveryReader) error) error {
	return s.snapshot(s.ctx(), func(tx pgx.Tx) error {
		t := &deliveryTx{s: s.Store, ctx: s.ctx(), tx: tx, slot: s.slot}
		return t.done(f(t))
	})
}

// UpdateDeliveries implements allimi.DeliveryQueue for the slot, under
// its lease.
func (s *Slot) UpdateDeliveries(f func(allimi.DeliveryTx) error) error {
	return s.updateDeliveries(&s.lease, s.slot, f)
}

// slotProgress reads slot's progress in notification id (slot < 0: the
// progress of the notification as a whole, every slot's least). ok is
// false when no slot has any.
func slotProgress(ctx context.Context, q rowsQuerier, id uint64, slot int) (map[allimi.Channel]uint32, bool, error) {
	rows, err := q.Query(ctx, `SELECT slot, channel, seq FROM slot_progress WHERE notification = $1`, id)
	if err != nil {
		return nil, false, err
	}
	per := map[int16]map[allimi.Channel]uint32{}
	var sl int16
	var ch string
	var seq int32
	if _, err := pgx.ForEachRow(rows, []any{&sl, &ch, &seq}, func() error {
		if per[sl] == nil {
			per[sl] = map[allimi.Channel]uint32{}
		}
		per[sl][allimi.Channel(ch)] = uint32(seq)
		return nil
	}); err != nil {
		return nil, false, err
	}
	if len(per) == 0 {
		return map[allimi.Channel]uint32{}, false, nil
	}
	if slot >= 0 {
		p := per[int16(slot)]
		if p == nil {
			p = map[allimi.Channel]uint32{}
		}
		return p, true, nil
	}
	all := map[allimi.Channel]uint32{}
	for _, ch := range allimi.Channels {
		least := uint32(0)
		for i := range SendSlots {
			p := per[int16(i)][ch]
			if i == 0 || p < least {
				least = p
			}
		}
		if least > 0 {
			all[ch] = least
		}
	}
	return all, true, nil
}

// slotNotification reads notification id as slot sees it: its progress
// is the slot's.
func (t *deliveryTx) slotNotification(id uint64) (allimi.Notification, error) {
	n, err := getNotification(t.ctx, t.tx, id, false)
	if err != nil {
		return n, err
	}
	if n.Progress, _, err = slotProgress(t.ctx, t.tx, id, t.slot); err != nil {
		return n, err
	}
	return n, nil
}

// putSlotNotification stores the slot's progress in n; when the slot has
// been through every recipient and every other slot has too, it marks the
// notification done (of the slots finishing at once, SERIALIZABLE lets
// one see the others).
func (t *deliveryTx) putSlotNotification(n *allimi.Notification) error {
	chs, seqs := make([]string, 0, len(n.Progress)), make([]int32, 0, len(n.Progress))
	for _, ch := range allimi.Channels {
		if p, ok := n.Progress[ch]; ok {
			chs, seqs = append(chs, string(ch)), append(seqs, int32(p))
		}
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO slot_progress (notification, slot, channel, seq)
		SELECT $1, $2, * FROM unnest($3::text[], $4::integer[])
		ON CONFLICT (notification, slot, channel) DO UPDATE SET seq = greatest(slot_progress.seq, EXCLUDED.seq)`,
		n.ID, int16(t.slot), chs, seqs); err != nil {
		return err
	}
	if n.Status != allimi.StatusDone {
		return nil
	}
	return finishIfAllSent(t.ctx, t.tx, n.ID)
}

// finishIfAllSent marks notification id done if it is sending and every
// slot has been through every recipient.
func finishIfAllSent(ctx context.Context, tx pgx.Tx, id uint64) error {
	whole, err := getNotification(ctx, tx, id, true)
	if err != nil {
		return err
	}
	if whole.Status != allimi.StatusSending {
		return nil
	}
	if whole.Progress, _, err = slotProgress(ctx, tx, id, -1); err != nil {
		return err
	}
	if !whole.AllSent() {
		return nil
	}
	whole.Status = allimi.StatusDone
	return putNotification(ctx, tx, &whole)
}

// withSlotProgress sets n's progress to its slots' when they have any:
// on a database where the slots send, the notification's own is never
// moved.
func withSlotProgress(ctx context.Context, tx rowsQuerier, n *allimi.Notification) error {
	p, ok, err := slotProgress(ctx, tx, n.ID, -1)
	if err != nil || !ok {
		return err
	}
	n.Progress = p
	return nil
}

// rowsQuerier runs queries: a pool or a transaction.
type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// slotRange is the next range of recipients of notification id, among
// (after, total], that belong to slot: (lo, hi]; ok is false when there
// is none.
func slotRange(id uint64, slot int, after uint32, total int64) (lo, hi int64, ok bool) {
	c := int64(after) / SlotChunk // the chunk of recipient after+1
	c += (int64(slot) - (int64(id%SendSlots)+c)%SendSlots + SendSlots) % SendSlots
	lo = max(int64(after), c*SlotChunk)
	if lo >= total {
		return 0, 0, false
	}
	return lo, min((c+1)*SlotChunk, total), true
}

// memberPrefix names the leases that say which centrals are alive to
// share the send slots.
const memberPrefix = "member/"

// Share runs f for each send slot this process holds, until ctx ends.
// The centrals on the database share the slots out evenly: each says it
// is alive (a lease of its own, member/…), counts the living and holds
// no more than its share (SendSlots over them, rounded up). It takes
// free slots, or slots whose holder let their lease run out (it died or
// stalled), up to its share, and gives up at once what is over it when
// another central joins. f's ctx ends when the slot's lease is lost or
// given up; what f writes through st is refused once the slot is another
// central's.
func (s *Store) Share(ctx context.Context, f func(ctx context.Context, slot int, st *Slot)) {
	owner := leaseOwner()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.lead(ctx, memberPrefix+owner, owner, false, func(ctx context.Context, _ Lease) { <-ctx.Done() })
	}()
	type holding struct{ cancel context.CancelFunc }
	var mu sync.Mutex
	held := map[int]*holding{}
	holds := func(i int) bool {
		mu.Lock()
		defer mu.Unlock()
		return held[i] != nil
	}
	start := rand.IntN(SendSlots) // centrals starting at once try different slots first
	for ctx.Err() == nil {
		live, err := s.liveMembers(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("counting the centrals that send failed", "err", err)
		}
		live = max(live, 1)
		share := (SendSlots + live - 1) / live
		mu.Lock()
		for i := 0; i < SendSlots && len(held) > share; i++ {
			if h := held[i]; h != nil {
				h.cancel() // given up at once (holdLease), for a newcomer
				delete(held, i)
			}
		}
		want := share - len(held)
		mu.Unlock()
		for k := 0; k < SendSlots && want > 0; k++ {
			i := (start + k) % SendSlots
			if holds(i) {
				continue
			}
			l, ok := s.takeLease(ctx, SlotLease(i), owner)
			if !ok {
				continue
			}
			want--
			sctx, cancel := context.WithCancel(ctx)
			h := &holding{cancel}
			mu.Lock()
			held[i] = h
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.log.Info("sending", "slot", i, "fence", l.Fence)
				s.holdLease(sctx, l, owner, func(ctx context.Context, l Lease) { f(ctx, i, s.Slot(l, i)) })
				s.log.Info("no longer sending", "slot", i, "fence", l.Fence)
				mu.Lock()
				if held[i] == h {
					delete(held, i) // lost: taken over, or not renewed in time
				}
				mu.Unlock()
				cancel()
			}()
		}
		select {
		case <-ctx.Done():
		case <-time.After(leasePoll):
		}
	}
}

// liveMembers counts the centrals whose member lease is alive, and
// forgets those gone for an hour.
func (s *Store) liveMembers(ctx context.Context) (int, error) {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name LIKE $1 AND expires < clock_timestamp() - interval '1 hour'`,
		memberPrefix+"%"); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM leases WHERE name LIKE $1 AND expires > clock_timestamp()`,
		memberPrefix+"%").Scan(&n)
	return n, err
}

// SlotHolders counts, per central (its lease owner's name), the send
// slots it holds now.
func (s *Store) SlotHolders(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT owner, count(*) FROM leases WHERE name LIKE 'send/%' AND expires > clock_timestamp() GROUP BY owner`)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	var owner string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&owner, &n}, func() error {
		out[owner] = n
		return nil
	})
	return out, err
}

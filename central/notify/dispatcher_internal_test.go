package notify

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/channel"
	"allimi/central/template"
)

// waitStat waits until the statistics count want of outcome on ch.
func waitStat(t *testing.T, s testStore, ch allimi.Channel, outcome string, want int64) {
	t.Helper()
	var got int64
	ok := assert.Eventually(t, func() bool {
		st, err := s.DeliveryStats()
		require.NoError(t, err)
		got = st[string(allimi.TypeHealthCheckup)][string(ch)][outcome]
		return got >= want
	}, 20*time.Second, 5*time.Millisecond)
	require.True(t, ok, "%s %s: %d, want %d", ch, outcome, got, want)
}

func TestDispatcher_SendsEveryRecipientOnceOnEachChannel(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		s := open(t, 75, allimi.ChannelKakao, allimi.ChannelSMS)
		fake := channel.NewFake(channel.FakeOptions{NoDedupe: true})
		srv := httptest.NewServer(fake.Handler())
		t.Cleanup(srv.Close)
		cfg := channel.DefaultConfig()
		cfg.SetBaseURL(srv.URL)
		adapters, err := channel.New(cfg, nil)
		require.NoError(t, err)
		d := newTestDispatcher(t, s, adapters[allimi.ChannelKakao], adapters[allimi.ChannelNaver],
			adapters[allimi.ChannelToss], adapters[allimi.ChannelSMS]) // a notification is done once every lane is through it
		running(t, d)

		req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Urgent: true, Params: map[string]string{"year": "2026"}}
		req.Audience.All = true
		n, repeat, err := d.Create("nhis", "k1", req)
		require.NoError(t, err)
		assert.False(t, repeat)
		assert.EqualValues(t, 75, n.Recipients)

		waitStat(t, s, allimi.ChannelKakao, MetricSent, 75)
		waitStat(t, s, allimi.ChannelSMS, MetricSent, 75)
		require.Eventually(t, func() bool {
			n, err := s.GetNotification(n.ID)
			return err == nil && n.Status == allimi.StatusDone
		}, 10*time.Second, 5*time.Millisecond, "every channel went through every recipient")
		fs := fake.Stats()
		for _, ch := range []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS} {
			assert.EqualValues(t, 75, fs.Accepted[ch], "%s", ch)
			assert.Zero(t, fs.Repeats[ch], "%s: nobody got it twice", ch)
			st, _, err := s.DeliveryStatus(allimi.DeliveryRef{Notification: n.ID, Seq: 75, Channel: ch})
			require.NoError(t, err)
			assert.Equal(t, allimi.DeliveryAccepted, st)
		}
		assert.Zero(t, intents(t, s), "every request's answer is recorded")

		again, repeat, err := d.Create("nhis", "k1", req)
		require.NoError(t, err)
		assert.True(t, repeat, "the same idempotency key")
		assert.Equal(t, n.ID, again.ID)
	})
}

func TestDispatcher_RejectedMessengerFallsBackToSMSWhichDeadLettersThenReplays(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		s := open(t, 20, allimi.ChannelKakao) // no SMS of their own: a fallback is due
		kakao := &scripted{ch: allimi.ChannelKakao, status: channel.Rejected}
		sms := &scripted{ch: allimi.ChannelSMS, status: channel.Rejected}
		d := newTestDispatcher(t, s, kakao, sms)
		n := campaign(t, s)
		d.Watch(n)
		running(t, d)

		waitStat(t, s, allimi.ChannelSMS, MetricDeadLetter, 20)
		st, err := s.DeliveryStats()
		require.NoError(t, err)
		hc := st[string(allimi.TypeHealthCheckup)]
		assert.EqualValues(t, 20, hc["kakao"][MetricFellBack])
		assert.Zero(t, hc["kakao"][MetricDeadLetter], "a messenger falls back, it is not dead-lettered")
		assert.EqualValues(t, 20, hc["sms"][MetricFailed])
		assert.Len(t, kakao.sent(), 20)
		assert.Len(t, sms.sent(), 20)

		ref := allimi.DeliveryRef{Notification: n.ID, Seq: 7, Channel: allimi.ChannelKakao}
		state, reason, err := s.DeliveryStatus(ref)
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryFellBack, state)
		assert.Equal(t, "3019 not a user", reason)
		ref.Channel = allimi.ChannelSMS
		state, _, err = s.DeliveryStatus(ref)
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryDeadLetter, state)
		dls, total, err := s.DeadLetters(5)
		require.NoError(t, err)
		assert.Equal(t, 20, total)
		require.Len(t, dls, 5)
		assert.Equal(t, allimi.ChannelSMS, dls[0].Channel)
		assert.Equal(t, 1, dls[0].Attempts)

		// An operator replays one: it is sent again, and parked again.
		sms.mu.Lock()
		sms.status = channel.Accepted
		sms.mu.Unlock()
		replayed, err := d.ReplayDeadLetters(ref.Key())
		require.NoError(t, err)
		assert.Equal(t, 1, replayed)
		waitStat(t, s, allimi.ChannelSMS, MetricSent, 1)
		state, _, err = s.DeliveryStatus(ref)
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryAccepted, state)
		_, total, err = s.DeadLetters(5)
		require.NoError(t, err)
		assert.Equal(t, 19, total)
		assert.Len(t, sms.sent(), 21)
	})
}

func TestReceipts_OneAheadOfItsAcceptanceWaitsForIt(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		s := open(t, 3, allimi.ChannelKakao)
		kakao := &scripted{ch: allimi.ChannelKakao, status: channel.Accepted}
		d := newTestDispatcher(t, s, kakao, &scripted{ch: allimi.ChannelSMS, status: channel.Accepted})
		n := campaign(t, s)
		ref := func(seq uint32, ch allimi.Channel) allimi.DeliveryRef {
			return allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: ch}
		}
		receipt := func(seq uint32, status string) allimi.ProviderReceipt {
			return allimi.ProviderReceipt{Channel: allimi.ChannelKakao, IdempotencyKey: ref(seq, allimi.ChannelKakao).Key(), Status: status, Reason: "blocked"}
		}

		applied, ignored, err := d.ApplyReceipts([]allimi.ProviderReceipt{receipt(1, "delivered"),
			{Channel: allimi.ChannelKakao, IdempotencyKey: "nonsense", Status: "delivered"}})
		require.NoError(t, err)
		assert.Equal(t, 1, applied, "kept for its acceptance")
		assert.Equal(t, 1, ignored)

		d.Watch(n)
		running(t, d)
		waitStat(t, s, allimi.ChannelKakao, MetricSent, 3)
		waitStat(t, s, allimi.ChannelKakao, MetricDelivered, 1)
		state, _, err := s.DeliveryStatus(ref(1, allimi.ChannelKakao))
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryDelivered, state, "the early receipt applied at the acceptance")

		applied, ignored, err = d.ApplyReceipts([]allimi.ProviderReceipt{receipt(1, "delivered"), receipt(2, "failed"), receipt(3, "pending")})
		require.NoError(t, err)
		assert.Equal(t, 1, applied)
		assert.Equal(t, 2, ignored, "a repeat and an unknown status")
		state, reason, err := s.DeliveryStatus(ref(2, allimi.ChannelKakao))
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryFellBack, state)
		assert.Equal(t, "receipt: blocked", reason)
		waitStat(t, s, allimi.ChannelSMS, MetricSent, 1)
		state, _, err = s.DeliveryStatus(ref(2, allimi.ChannelSMS))
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryAccepted, state, "the failed AlimTalk went by SMS")
	})
}

func TestDispatcher_QuietHoursHoldOnlyNonUrgentNotices(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		s := open(t, 5, allimi.ChannelKakao)
		d := newTestDispatcher(t, s, &scripted{ch: allimi.ChannelKakao, status: channel.Accepted})
		night := time.Date(2026, 3, 2, 23, 0, 0, 0, allimi.KST)
		d.cfg.Now = func() time.Time { return night }
		for _, urgent := range []bool{false, true} {
			req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Urgent: urgent, Params: map[string]string{"year": "2026"}}
			req.Audience.All = true
			_, _, err := d.Create("nhis", "", req)
			require.NoError(t, err)
		}
		l := newLane(allimi.ChannelKakao)
		b, _, err := d.nextBatch(l, 100, night)
		require.NoError(t, err)
		require.Len(t, b.items, 5, "the urgent notice's")
		for _, it := range b.items {
			assert.True(t, it.N.Urgent)
		}
		morning := time.Date(2026, 3, 3, 8, 0, 0, 0, allimi.KST)
		b, _, err = d.nextBatch(l, 100, morning)
		require.NoError(t, err)
		require.Len(t, b.items, 5, "the held notice's, at 08:00")
		for _, it := range b.items {
			assert.False(t, it.N.Urgent)
		}
	})
}

// Two centrals on one store: the one that takes a notification does not
// run the lanes (it does not lead); the one that does finds it by
// rescanning, sends it once, and does not take it up again once done.
func TestDispatcher_RescanSendsWhatAnotherCentralStored(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		s := open(t, 30, allimi.ChannelSMS)
		fake := channel.NewFake(channel.FakeOptions{NoDedupe: true})
		srv := httptest.NewServer(fake.Handler())
		t.Cleanup(srv.Close)
		cfg := channel.DefaultConfig()
		cfg.SetBaseURL(srv.URL)
		adapters, err := channel.New(cfg, nil)
		require.NoError(t, err)
		all := []channel.Adapter{adapters[allimi.ChannelKakao], adapters[allimi.ChannelNaver], adapters[allimi.ChannelToss], adapters[allimi.ChannelSMS]}
		taker := newTestDispatcher(t, s, all...) // never Run
		leader := newTestDispatcher(t, s, all...)
		leader.cfg.Rescan = 20 * time.Millisecond
		running(t, leader)
		// Another that leaves expansions to the leader (a send slot other
		// than 0): it never expands the orphan below.
		bystander := newTestDispatcher(t, s)
		bystander.cfg.Rescan, bystander.cfg.LeaveExpansions = 5*time.Millisecond, true
		expansions := 0
		bystanderStore := &countingExpansions{Store: s, n: &expansions}
		bystander.store = bystanderStore
		running(t, bystander)

		req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Urgent: true, Params: map[string]string{"year": "2026"}}
		req.Audience.All = true
		n, _, err := taker.Create("nhis", "k1", req)
		require.NoError(t, err)
		waitStat(t, s, allimi.ChannelSMS, MetricSent, 30)
		require.Eventually(t, func() bool {
			n, err := s.GetNotification(n.ID)
			return err == nil && n.Status == allimi.StatusDone
		}, 10*time.Second, 5*time.Millisecond)
		time.Sleep(10 * leader.cfg.Rescan) // rescans after it is done
		assert.EqualValues(t, 30, fake.Stats().Accepted[allimi.ChannelSMS])
		assert.Zero(t, fake.Stats().Repeats[allimi.ChannelSMS], "nobody got it twice")
		leader.mu.Lock()
		assert.Empty(t, leader.active, "a finished notification is not taken up again")
		leader.mu.Unlock()

		// A campaign whose central died before expanding it: the leader
		// expands it and sends it.
		req.Params = map[string]string{"year": "2027"}
		orphan, _, err := s.CreateNotification("nhis", "k2", req)
		require.NoError(t, err)
		require.Equal(t, allimi.StatusExpanding, orphan.Status)
		waitStat(t, s, allimi.ChannelSMS, MetricSent, 60)
		require.Eventually(t, func() bool {
			n, err := s.GetNotification(orphan.ID)
			return err == nil && n.Status == allimi.StatusDone
		}, 10*time.Second, 5*time.Millisecond)
		assert.EqualValues(t, 60, fake.Stats().Accepted[allimi.ChannelSMS])
		assert.Zero(t, fake.Stats().Repeats[allimi.ChannelSMS])
		bystanderStore.mu.Lock()
		assert.Zero(t, expansions, "the bystander left the expansion to the leader")
		bystanderStore.mu.Unlock()
	})
}

// countingExpansions counts the expansions asked of a store.
type countingExpansions struct {
	Store
	mu sync.Mutex
	n  *int
}

func (c *countingExpansions) ExpandCampaign(id uint64, each func(allimi.Notification)) (allimi.Notification, error) {
	c.mu.Lock()
	*c.n++
	c.mu.Unlock()
	return c.Store.ExpandCampaign(id, each)
}

// A receipt kept as early whose delivery was accepted without seeing it
// (a send slot's commit, on a shared database) is settled afterwards;
// one still ahead of its acceptance stays kept.
func TestReceipts_StrandedAfterTheirAcceptanceAreSettled(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		s := open(t, 3, allimi.ChannelKakao, allimi.ChannelSMS)
		d := newTestDispatcher(t, s, &scripted{ch: allimi.ChannelKakao, status: channel.Accepted})
		n := campaign(t, s)
		ref := func(seq uint32) allimi.DeliveryRef {
			return allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: allimi.ChannelKakao}
		}
		receipt := func(seq uint32) allimi.ProviderReceipt {
			return allimi.ProviderReceipt{Channel: allimi.ChannelKakao, IdempotencyKey: ref(seq).Key(), Status: "delivered"}
		}
		// 1 accepted with its receipt stranded; 2 retrying, its receipt
		// genuinely early; 3 accepted, no receipt.
		require.NoError(t, s.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
			for seq, state := range map[uint32]allimi.DeliveryState{1: allimi.DeliveryAccepted, 2: allimi.DeliveryRetrying, 3: allimi.DeliveryAccepted} {
				if err := tx.PutDelivery(ref(seq), allimi.DeliveryRecord{State: state, Attempts: 1, First: 1, Updated: 1}); err != nil {
					return err
				}
			}
			if err := tx.PutEarlyReceipt(ref(1), receipt(1)); err != nil {
				return err
			}
			return tx.PutEarlyReceipt(ref(2), receipt(2))
		}))

		settled, err := d.SettleStranded([]allimi.ProviderReceipt{receipt(1), receipt(2), receipt(3),
			{Channel: allimi.ChannelKakao, IdempotencyKey: "nonsense", Status: "delivered"}})
		require.NoError(t, err)
		assert.Equal(t, 1, settled)
		state, _, err := s.DeliveryStatus(ref(1))
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryDelivered, state, "the stranded receipt applied")
		state, _, err = s.DeliveryStatus(ref(3))
		require.NoError(t, err)
		assert.Equal(t, allimi.DeliveryAccepted, state, "no receipt kept: untouched")
		waitStat(t, s, allimi.ChannelKakao, MetricDelivered, 1)
		require.NoError(t, s.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
			_, kept, err := tx.EarlyReceipt(ref(1))
			assert.False(t, kept, "forgotten once applied")
			_, kept, err2 := tx.EarlyReceipt(ref(2))
			assert.True(t, kept, "still ahead of its acceptance")
			return errors.Join(err, err2)
		}))

		// Again: nothing more to do.
		settled, err = d.SettleStranded([]allimi.ProviderReceipt{receipt(1)})
		require.NoError(t, err)
		assert.Zero(t, settled)
	})
}

// concurrent is a provider that takes a little time per request and
// notes the most requests it had at once.
type concurrent struct {
	scripted
	now, most atomic.Int32
}

func (a *concurrent) Send(ctx context.Context, msgs []channel.Message) ([]channel.Result, error) {
	n := a.now.Add(1)
	defer a.now.Add(-1)
	for m := a.most.Load(); n > m && !a.most.CompareAndSwap(m, n); m = a.most.Load() {
	}
	time.Sleep(3 * time.Millisecond)
	return a.scripted.Send(ctx, msgs)
}

// Dispatchers sharing room for requests (one process's send slots) keep,
// all together, no more requests in flight than it has.
func TestShared_BoundsRequestsInFlightAcrossDispatchers(t *testing.T) {
	s := stores[1].open(t, 300, allimi.ChannelKakao)
	kakao := &concurrent{scripted: scripted{ch: allimi.ChannelKakao, status: channel.Accepted}}
	tmpl, err := template.Default()
	require.NoError(t, err)
	cfg := DefaultConfig()
	cfg.Shared = NewShared(2)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n := campaign(t, s)
	var ds []*Dispatcher
	for range 3 {
		d := New(s, map[allimi.Channel]channel.Adapter{allimi.ChannelKakao: kakao}, tmpl, cfg, NewMetrics(), log)
		d.Watch(n)
		running(t, d)
		ds = append(ds, d)
	}
	// One breaker per provider for all of them: what trips one trips all.
	for range cfg.BreakerFailures {
		ds[0].trip(allimi.ChannelKakao, &channel.UnavailableError{Err: errors.New("down")})
	}
	open, _ := ds[2].breakers[allimi.ChannelKakao].isOpen(time.Now())
	assert.True(t, open, "tripped by another dispatcher's failures")
	ds[1].breakers[allimi.ChannelKakao].mu.Lock()
	ds[1].breakers[allimi.ChannelKakao].openUntil = time.Time{} // closed again, for the sending below
	ds[1].breakers[allimi.ChannelKakao].mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for len(kakao.sent()) < 300 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.GreaterOrEqual(t, len(kakao.sent()), 300)
	assert.LessOrEqual(t, kakao.most.Load(), int32(2), "at most the two requests there is room for")
}

package notify

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/channel"
)

// intentRig is a store with one campaign to n people on one channel, a
// dispatcher, and the fake providers in the mode that takes every request
// as new (as NHN Cloud does).
type intentRig struct {
	ch   allimi.Channel
	s    testStore
	d    *Dispatcher
	fake *channel.Fake
	a    channel.Adapter
	n    allimi.Notification
}

func newIntentRig(t *testing.T, s testStore, ch allimi.Channel) *intentRig {
	t.Helper()
	n := campaign(t, s)
	fake := channel.NewFake(channel.FakeOptions{NoDedupe: true})
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	cfg := channel.DefaultConfig()
	cfg.SetBaseURL(srv.URL)
	adapters, err := channel.New(cfg, nil)
	require.NoError(t, err)
	r := &intentRig{ch: ch, s: s, fake: fake, a: adapters[ch], n: n}
	r.d = r.dispatcher(t)
	return r
}

// dispatcher is a new dispatcher on the same store: central after a restart.
func (r *intentRig) dispatcher(t *testing.T) *Dispatcher {
	d := newTestDispatcher(t, r.s, r.a)
	n, err := r.s.GetNotification(r.n.ID)
	if err == nil {
		d.track(n)
	}
	return d
}

// writeIntents commits the intents of batches about to be sent, as the
// committer's transaction does.
func (d *Dispatcher) writeIntents(jobs []*job, now time.Time) error {
	return d.store.UpdateDeliveries(func(tx allimi.DeliveryTx) error { return putIntents(tx, jobs, now) })
}

// crashAfterIntent reads the campaign's next batch, commits its intents and,
// if send, sends it; then "crashes": the answer is never recorded.
func (r *intentRig) crashAfterIntent(t *testing.T, send bool) *job {
	t.Helper()
	b, _, err := r.d.nextBatch(newLane(r.ch), r.a.MaxBatch(), r.d.cfg.Now())
	require.NoError(t, err)
	require.NotEmpty(t, b.items)
	j := &job{b: b}
	require.NoError(t, r.d.writeIntents([]*job{j}, r.d.cfg.Now()))
	if send {
		r.d.send(context.Background(), r.ch, r.a, j)
		require.NoError(t, j.sendErr)
		require.NoError(t, j.err)
	}
	return j
}

// pending is what a restarted lane would send now.
func (r *intentRig) pending(t *testing.T, d *Dispatcher) []allimi.Outgoing {
	t.Helper()
	b, _, err := d.nextBatch(newLane(r.ch), r.a.MaxBatch(), d.cfg.Now())
	require.NoError(t, err)
	return b.items
}

func (r *intentRig) intents(t *testing.T) int { return intents(t, r.s) }

func TestSendIntents_ProviderHasTheMessageSoItIsMarkedSentNotResent(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		for _, ch := range allimi.Channels {
			t.Run(string(ch), func(t *testing.T) {
				r := newIntentRig(t, open(t, 30, ch), ch)
				j := r.crashAfterIntent(t, true)
				require.EqualValues(t, 30, r.fake.Stats().Accepted[ch])

				d := r.dispatcher(t)
				stale, err := d.staleIntents(ch)
				require.NoError(t, err)
				require.Len(t, stale, 30, "every message of the lost request has an intent")
				left, err := d.reconcile(context.Background(), r.a, stale)
				require.NoError(t, err)
				assert.Empty(t, left)

				assert.Empty(t, r.pending(t, d), "nothing is sent again")
				assert.Zero(t, r.intents(t))
				for _, it := range j.b.items {
					st, _, err := r.s.DeliveryStatus(it.Ref)
					require.NoError(t, err)
					assert.Equal(t, allimi.DeliveryAccepted, st, "%s", it.Ref.Key())
				}
				stats, err := r.s.DeliveryStats()
				require.NoError(t, err)
				assert.EqualValues(t, 30, stats[string(allimi.TypeHealthCheckup)][string(ch)][MetricSent])
				fs := r.fake.Stats()
				assert.EqualValues(t, 30, fs.Accepted[ch])
				assert.Zero(t, fs.Repeats[ch])
				assert.Positive(t, fs.Lookups[ch], "the provider was asked")
				n, err := r.s.GetNotification(r.n.ID)
				require.NoError(t, err)
				assert.EqualValues(t, 30, n.Progress[ch], "the lane goes on after the lost request")
			})
		}
	})
}

func TestSendIntents_ProviderHasNoSuchMessageSoItIsSentOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
		for _, ch := range allimi.Channels {
			t.Run(string(ch), func(t *testing.T) {
				r := newIntentRig(t, open(t, 30, ch), ch)
				j := r.crashAfterIntent(t, false) // the crash came before the request left
				require.Zero(t, r.fake.Stats().Requests[ch])

				d := r.dispatcher(t)
				stale, err := d.staleIntents(ch)
				require.NoError(t, err)
				left, err := d.reconcile(context.Background(), r.a, stale)
				require.NoError(t, err)
				assert.Empty(t, left)
				assert.Zero(t, r.intents(t))

				items := r.pending(t, d)
				require.Len(t, items, len(j.b.items), "each message is queued to be sent")
				again := &job{b: batch{items: items}}
				require.NoError(t, d.writeIntents([]*job{again}, d.cfg.Now()))
				d.send(context.Background(), ch, r.a, again)
				require.NoError(t, d.commit(ch, []*job{again}, nil, d.cfg.Now()))

				assert.Empty(t, r.pending(t, d), "sent once: nothing left")
				assert.Zero(t, r.intents(t))
				fs := r.fake.Stats()
				assert.EqualValues(t, 30, fs.Accepted[ch])
				assert.Zero(t, fs.Repeats[ch])
				for _, it := range j.b.items {
					st, _, err := r.s.DeliveryStatus(it.Ref)
					require.NoError(t, err)
					assert.Equal(t, allimi.DeliveryAccepted, st, "%s", it.Ref.Key())
				}
			})
		}
	})
}

func TestSendIntents_QueryFailingKeepsTheIntentSendsNothingAndAsksAgain(t *testing.T) {
	forEachStore(t, testQueryFailingKeepsTheIntent)
}

func testQueryFailingKeepsTheIntent(t *testing.T, open func(*testing.T, int, ...allimi.Channel) testStore) {
	r := newIntentRig(t, open(t, 30, allimi.ChannelKakao), allimi.ChannelKakao)
	r.crashAfterIntent(t, true)
	require.NoError(t, r.fake.SetFault(channel.Fault{Channel: allimi.ChannelKakao, Kind: channel.FaultLookup, Rate: 1}))

	d := r.dispatcher(t)
	stale, err := d.staleIntents(allimi.ChannelKakao)
	require.NoError(t, err)
	left, err := d.reconcile(context.Background(), r.a, stale)
	require.Error(t, err, "the provider could not be asked")
	assert.Len(t, left, 30, "nothing is settled")
	assert.Equal(t, 30, r.intents(t), "the intents stay")
	assert.Empty(t, r.pending(t, d), "nothing is sent blindly")
	assert.EqualValues(t, 1, r.fake.Stats().Requests[allimi.ChannelKakao], "no request after the lost one")

	// The provider answers again: the question is asked again, and the
	// message it has is not sent a second time.
	require.NoError(t, r.fake.SetFault(channel.Fault{Channel: allimi.ChannelKakao, Kind: channel.FaultLookup}))
	lookups := r.fake.Stats().Lookups[allimi.ChannelKakao]
	d.reconcileLater(context.Background(), r.a, left)
	assert.Greater(t, r.fake.Stats().Lookups[allimi.ChannelKakao], lookups, "asked again")
	assert.Zero(t, r.intents(t))
	assert.Empty(t, r.pending(t, d))
	fs := r.fake.Stats()
	assert.EqualValues(t, 30, fs.Accepted[allimi.ChannelKakao])
	assert.Zero(t, fs.Repeats[allimi.ChannelKakao])
	stats, err := r.s.DeliveryStats()
	require.NoError(t, err)
	assert.EqualValues(t, 30, stats[string(allimi.TypeHealthCheckup)]["kakao"][MetricSent])
}

package pg

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// leaders runs Lead on n stores of one database and tells which runs f.
type leaders struct {
	running atomic.Int32 // how many fs run now
	most    atomic.Int32 // the most that ever ran at once
	who     chan int     // each f's store, as it starts
	leases  chan Lease
}

func (l *leaders) job(i int) func(ctx context.Context, lease Lease) {
	return func(ctx context.Context, lease Lease) {
		n := l.running.Add(1)
		for m := l.most.Load(); n > m && !l.most.CompareAndSwap(m, n); m = l.most.Load() {
		}
		l.who <- i
		l.leases <- lease
		<-ctx.Done()
		l.running.Add(-1)
	}
}

func TestLead_OneAtATimeTakenOverWhenTheLeaderGoesOrStalls(t *testing.T) {
	c := openStore(t)
	stores := append([]*Store{c.Store}, c.others(t, 2)...)
	l := &leaders{who: make(chan int, 10), leases: make(chan Lease, 10)}
	cancels := make([]context.CancelFunc, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		wg.Add(1)
		go func() { defer wg.Done(); st.Lead(ctx, "dispatch", l.job(i)) }()
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	}()

	first, lease1 := <-l.who, <-l.leases
	// The leader stops (central stopped): it gives the lease up, another
	// takes it over with the next fence, and only one runs.
	cancels[first]()
	second, lease2 := <-l.who, <-l.leases
	assert.NotEqual(t, first, second)
	assert.Greater(t, lease2.Fence, lease1.Fence)
	time.Sleep(2 * leasePoll) // the third tries, and must not get in
	assert.Equal(t, int32(1), l.most.Load(), "never two leaders at once")

	// The leader stalls past its lease (its renewals stop reaching the
	// database: here the lease is made to run out): the third takes it
	// over, and the stalled one's writes under its old fence are refused,
	// with nothing of them kept.
	_, err := c.pool.Exec(context.Background(), `UPDATE leases SET expires = clock_timestamp() - interval '1 second', owner = 'stalled'
		WHERE name = 'dispatch'`)
	require.NoError(t, err)
	var third int
	select {
	case third = <-l.who:
	case <-time.After(30 * time.Second):
		t.Fatal("nobody took over a lease that ran out")
	}
	lease3 := <-l.leases
	assert.Greater(t, lease3.Fence, lease2.Fence)
	err = stores[second].Fenced(lease2).UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		return tx.CountDeliveries(allimi.TypeHealthCheckup, allimi.ChannelSMS, "sent", 1)
	})
	require.ErrorIs(t, err, ErrLeaseLost)
	require.NoError(t, stores[third].Fenced(lease3).UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		return tx.CountDeliveries(allimi.TypeHealthCheckup, allimi.ChannelSMS, "sent", 1)
	}))
	stats, err := c.DeliveryStats()
	require.NoError(t, err)
	assert.EqualValues(t, 1, stats[string(allimi.TypeHealthCheckup)][string(allimi.ChannelSMS)]["sent"], "only the leader's write is kept")

	// Confirmations' and answers' send-intents too: the stalled one's
	// are refused (it sends nothing), the leader's kept.
	in := allimi.QueueIntent{At: time.Now().UnixMilli(), Group: 7}
	require.ErrorIs(t, stores[second].Fenced(lease2).PutQueueIntents(allimi.ChannelSMS, []string{"late"}, in), ErrLeaseLost)
	require.NoError(t, stores[third].Fenced(lease3).PutQueueIntents(allimi.ChannelSMS, []string{"now"}, in))
	kept, err := c.QueueIntents(allimi.ChannelSMS, []string{"late", "now"})
	require.NoError(t, err)
	assert.Equal(t, map[string]allimi.QueueIntent{"now": in}, kept)
}

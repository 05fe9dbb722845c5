package notify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/channel"
	"allimi/central/memstore"
	"allimi/central/template"
	"allimi/internal/loadgen"
)

// testStore is what the dispatcher's tests need of a store: what the
// dispatcher uses, and what officials read.
type testStore interface {
	Store
	allimi.Deliveries
}

// stores are the implementations the dispatcher is tested against. Each
// opens a store in which people citizens subscribe to health checkups on
// the channels given.
var stores = []struct {
	name string
	open func(t *testing.T, people int, chs ...allimi.Channel) testStore
}{
	{"bolt", func(t *testing.T, people int, chs ...allimi.Channel) testStore {
		s, _, err := bolt.OpenData(t.TempDir(), bolt.StoreOptions{LinkBase: "http://127.0.0.1:8080",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		require.NoError(t, loadgen.Seed(s, people, []allimi.NotificationType{allimi.TypeHealthCheckup}, chs))
		return s
	}},
	{"memory", func(t *testing.T, people int, chs ...allimi.Channel) testStore {
		s := memstore.New(nil)
		var mask byte
		for _, ch := range chs {
			mask |= allimi.ChannelBit(ch)
		}
		for i := range people {
			s.Subscribe(allimi.Citizen{Name: fmt.Sprintf("시민%d", i+1), Mobile: fmt.Sprintf("010-3%03d-%04d", i/10000, i%10000),
				BirthDate: "1950-01-01"}, allimi.TypeHealthCheckup, mask)
		}
		return s
	}},
}

// forEachStore runs test against every implementation.
func forEachStore(t *testing.T, test func(t *testing.T, open func(t *testing.T, people int, chs ...allimi.Channel) testStore)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { test(t, st.open) })
	}
}

// campaign makes an urgent health-checkup campaign to every subscriber
// and expands it.
func campaign(t *testing.T, s testStore) allimi.Notification {
	t.Helper()
	req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Urgent: true, Params: map[string]string{"year": "2026"}}
	req.Audience.All = true
	n, _, err := s.CreateNotification("nhis", "", req)
	require.NoError(t, err)
	n, err = s.ExpandCampaign(n.ID, func(allimi.Notification) {})
	require.NoError(t, err)
	return n
}

func newTestDispatcher(t *testing.T, s Store, adapters ...channel.Adapter) *Dispatcher {
	t.Helper()
	tmpl, err := template.Default()
	require.NoError(t, err)
	m := map[allimi.Channel]channel.Adapter{}
	for _, a := range adapters {
		m[a.Channel()] = a
	}
	return New(s, m, tmpl, DefaultConfig(), NewMetrics(), slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// running runs d until the test ends.
func running(t *testing.T, d *Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// scripted is a provider that answers every message with one status and
// remembers the keys it was sent.
type scripted struct {
	ch     allimi.Channel
	status channel.Status
	mu     sync.Mutex
	keys   []string
}

func (a *scripted) Channel() allimi.Channel { return a.ch }
func (a *scripted) MaxBatch() int           { return 7 }

func (a *scripted) Send(_ context.Context, msgs []channel.Message) ([]channel.Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := make([]channel.Result, len(msgs))
	for i, m := range msgs {
		a.keys = append(a.keys, m.Key)
		res[i] = channel.Result{Key: m.Key, Status: a.status, Code: "3019", Reason: "not a user"}
	}
	return res, nil
}

func (a *scripted) sent() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.keys...)
}

// intents counts the send-intents on every channel.
func intents(t *testing.T, s Store) int {
	t.Helper()
	n := 0
	require.NoError(t, s.ReadDeliveries(func(tx allimi.DeliveryReader) error {
		for _, ch := range allimi.Channels {
			if err := tx.SendIntents(ch, func(allimi.SendIntent) bool { n++; return true }); err != nil {
				return err
			}
		}
		return nil
	}))
	return n
}

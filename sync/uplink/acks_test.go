package uplink

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/internal/testaddr"
	"allimi/sync/transport"
	"allimi/sync/wire"
)

// Acks that arrive while the outbox is busy applying one are applied
// together, in one transaction that deletes what the highest covers: a
// kiosk slower to delete than central is to commit does not fall further
// and further behind, one transaction and sync per ack.
func TestSender_AppliesAcksThatArrivedTogetherInOneTransaction(t *testing.T) {
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, srv.AddHook(new(auth.AllowHook), nil))
	addr := testaddr.Free(t)
	require.NoError(t, srv.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})))
	require.NoError(t, srv.Serve())
	t.Cleanup(func() { _ = srv.Close() })

	f := newOutboxFixture(t)
	f.appendN(1, 6)
	s := NewSender(Config{Conn: transport.Conn{Broker: "tcp://" + addr}, Logger: slog.New(slog.DiscardHandler)}, f.box)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	// Connected is said before the broker has the subscription (it is
	// sent on connection, answered later): an ack published in between
	// would reach no one, so wait for the broker to know the subscriber.
	require.Eventually(t, func() bool {
		return s.Status().Connected && len(srv.Topics.Subscribers(wire.AckTopic("k1")).Subscriptions) > 0
	}, 30*time.Second, 10*time.Millisecond)
	txid := func() int {
		tx, err := f.db.Begin(false)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		return tx.ID()
	}
	publishAck := func(upTo uint64) {
		b, err := json.Marshal(wire.Ack{V: 1, Kiosk: "k1", UpTo: upTo})
		require.NoError(t, err)
		require.NoError(t, srv.Publish(wire.AckTopic("k1"), b, false, 1))
	}
	// A writer (a screen saving a sign-up, say) holds the file: the first
	// ack waits for it, and the next two arrive meanwhile.
	before := txid()
	writer, err := f.db.Begin(true)
	require.NoError(t, err)
	t.Cleanup(func() { _ = writer.Rollback() }) // before the sender stops, should a check fail
	publishAck(2)
	require.Eventually(t, func() bool {
		s.acks.mu.Lock()
		defer s.acks.mu.Unlock()
		return s.acks.received == 1 && len(s.acks.pending) == 0 // taken by the applier, which now waits
	}, 30*time.Second, 10*time.Millisecond)
	publishAck(4)
	publishAck(5)
	require.Eventually(t, func() bool {
		s.acks.mu.Lock()
		defer s.acks.mu.Unlock()
		return len(s.acks.pending) == 2
	}, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, writer.Rollback())

	require.Eventually(t, func() bool { return s.Status().LastAck == 5 }, 30*time.Second, 10*time.Millisecond)
	assert.Equal(t, before+2, txid(), "the ack up to 2, then one transaction for 4 and 5")
	assert.Equal(t, []uint64{6}, f.pendingSeqs(0, 100))
	assert.Equal(t, 5, s.Status().Acked)
}

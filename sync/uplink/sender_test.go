package uplink

import (
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/internal/testaddr"
	"allimi/internal/testlog"
	"allimi/sync/transport"
	"allimi/sync/wire"
)

var resendWaits = regexp.MustCompile(`msg="no ack progress, resending" .*waited=(\S+)`)

func waits(log string) []string {
	var out []string
	for _, m := range resendWaits.FindAllStringSubmatch(log, -1) {
		out = append(out, m[1])
	}
	return out
}

// A central that takes records but cannot store them (a full disk) does
// not ack: the kiosk sends its window again less and less often, and
// starts again from the shortest wait once central's ack moves.
func TestSender_BacksOffResendsWhileCentralDoesNotAck(t *testing.T) {
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, srv.AddHook(new(auth.AllowHook), nil))
	addr := testaddr.Free(t)
	require.NoError(t, srv.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})))
	require.NoError(t, srv.Serve())
	t.Cleanup(func() { _ = srv.Close() })

	f := newOutboxFixture(t)
	f.appendN(1, 3)
	var log testlog.Buffer
	s := NewSender(Config{Conn: transport.Conn{Broker: "tcp://" + addr}, Window: 3,
		ResendAfter: 100 * time.Millisecond, MaxResendAfter: 400 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}, f.box)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	require.Eventually(t, func() bool { return len(waits(log.String())) >= 5 }, 30*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{"100ms", "200ms", "400ms", "400ms", "400ms"}, waits(log.String())[:5],
		"each resend without an ack doubles the wait, up to MaxResendAfter")

	ack, err := json.Marshal(wire.Ack{V: 1, Kiosk: "k1", UpTo: 1})
	require.NoError(t, err)
	require.NoError(t, srv.Publish(wire.AckTopic("k1"), ack, true, 1))
	require.Eventually(t, func() bool { return s.Status().LastAck == 1 }, 30*time.Second, 10*time.Millisecond)
	// (A resend decided just before the ack arrived may still log 400ms.)
	require.Eventually(t, func() bool {
		w := waits(log.String())
		return w[len(w)-1] == "100ms"
	}, 30*time.Second, 10*time.Millisecond, "an ack that moves starts the waits again from ResendAfter")
	assert.Equal(t, 2, f.state().Pending)
}

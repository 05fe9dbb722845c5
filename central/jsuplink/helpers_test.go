package jsuplink_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/ingest"
	"allimi/central/jsuplink"
	"allimi/central/natsconf"
	"allimi/internal/natstest"
	"allimi/internal/testlog"
	"allimi/sync/transport"
)

const (
	centralPassword = "central-secret"
	// wait is how long a test waits for what must happen.
	wait = 30 * time.Second
	// quiet is how long a test listens for what must not happen after
	// what it waited for has.
	quiet = time.Second
)

// kiosk is a kiosk's login and its password.
type kiosk = natstest.Kiosk

func newKiosk(t *testing.T, id string) kiosk { return natstest.NewKiosk(t, id) }

func users(ks ...kiosk) []allimi.KioskUser { return natstest.Users(ks...) }

// startServer runs one server with JetStream, kiosks ks and central's user.
func startServer(t *testing.T, ks ...kiosk) *natstest.Server {
	t.Helper()
	return natstest.Start(t, natstest.Single(t, centralPassword, users(ks...)...))
}

// testLogger keeps what the uplinks log, shown when the test fails.
func testLogger(t *testing.T) *slog.Logger {
	lb := &testlog.Buffer{}
	t.Cleanup(func() {
		logged := lb.String()
		// Central's permissions (natsconf) cover all the uplink does.
		if strings.Contains(strings.ToLower(logged), "permissions violation") {
			t.Errorf("the servers refused central something")
		}
		if t.Failed() {
			t.Logf("uplink log:\n%s", logged)
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openUplink opens central's uplink to urls, as central's user, with
// change applied to its configuration; it is closed when the test ends.
func openUplink(t *testing.T, urls []string, change func(*jsuplink.Config)) *jsuplink.Uplink {
	t.Helper()
	cfg := jsuplink.Config{URLs: urls, User: natsconf.CentralUsername, Password: centralPassword, Logger: testLogger(t)}
	if change != nil {
		change(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*natstest.ReadyTimeout)
	defer cancel()
	u, err := jsuplink.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(u.Close)
	return u
}

// record is one message Consume handed over.
type record struct {
	worker, topic, payload string
}

// taken collects what Consume hands over; ack decides whether each is
// acknowledged (nil: all are).
type taken struct {
	mu   sync.Mutex
	recs []record
	got  chan struct{}
	ack  func(r record, deliveries int) bool
}

func newTaken(ack func(r record, deliveries int) bool) *taken {
	return &taken{got: make(chan struct{}, 1), ack: ack}
}

// consume runs u.Consume as worker until the test ends.
func (tk *taken) consume(t *testing.T, u *jsuplink.Uplink, worker string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		u.Consume(ctx, func(m ingest.Message) { tk.take(worker, m) })
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func (tk *taken) take(worker string, m ingest.Message) {
	r := record{worker: worker, topic: m.Topic(), payload: string(m.Payload())}
	tk.mu.Lock()
	tk.recs = append(tk.recs, r)
	n := 0
	for _, o := range tk.recs {
		if o.topic == r.topic && o.payload == r.payload {
			n++
		}
	}
	tk.mu.Unlock()
	if tk.ack == nil || tk.ack(r, n) {
		m.Ack()
	}
	select {
	case tk.got <- struct{}{}:
	default:
	}
}

func (tk *taken) all() []record {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return append([]record(nil), tk.recs...)
}

// count is how many times a record with topic and payload came.
func (tk *taken) count(topic, payload string) int {
	n := 0
	for _, r := range tk.all() {
		if r.topic == topic && r.payload == payload {
			n++
		}
	}
	return n
}

// waitUntil waits until cond holds of what came, at most within.
func (tk *taken) waitUntil(t *testing.T, within time.Duration, what string, cond func([]record) bool) {
	t.Helper()
	deadline := time.After(within)
	for !cond(tk.all()) {
		select {
		case <-tk.got:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: not within %s; %d records came", what, within, len(tk.all()))
		}
	}
}

// waitCount waits until the record with topic and payload has come n times.
func (tk *taken) waitCount(t *testing.T, topic, payload string, n int) {
	t.Helper()
	tk.waitUntil(t, wait, fmt.Sprintf("%s %q %d times", topic, payload, n), func([]record) bool { return tk.count(topic, payload) >= n })
}

// mqttKiosk is a kiosk's paho client, with the options kiosks use
// (sync/transport), and what it has received.
type mqttKiosk struct {
	paho.Client
	mu  sync.Mutex
	got []string // topic payload
	ch  chan struct{}
}

// connectKiosk connects kiosk k to the first of brokers that answers and
// subscribes at QoS 1 to filters.
func connectKiosk(t *testing.T, brokers []string, k kiosk, filters ...string) *mqttKiosk {
	t.Helper()
	mk := &mqttKiosk{ch: make(chan struct{}, 1)}
	o := transport.Conn{Broker: strings.Join(brokers, ","), ClientID: "allimi-kiosk-" + k.ID, Username: k.Username, Password: k.Password}.ClientOptions()
	o.SetConnectRetry(false)
	o.SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(time.Second)
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		mk.mu.Lock()
		mk.got = append(mk.got, m.Topic()+" "+string(m.Payload()))
		mk.mu.Unlock()
		m.Ack()
		select {
		case mk.ch <- struct{}{}:
		default:
		}
	})
	mk.Client = paho.NewClient(o)
	tok := mk.Connect()
	require.True(t, tok.WaitTimeout(wait), "kiosk %s connects", k.ID)
	require.NoError(t, tok.Error(), "kiosk %s connects", k.ID)
	t.Cleanup(func() { mk.Disconnect(100) })
	if len(filters) > 0 {
		subs := map[string]byte{}
		for _, f := range filters {
			subs[f] = 1
		}
		tok := mk.SubscribeMultiple(subs, nil)
		require.True(t, tok.WaitTimeout(wait), "SUBACK")
		require.NoError(t, tok.Error())
		for f, code := range tok.(*paho.SubscribeToken).Result() {
			require.Equal(t, byte(1), code, "SUBACK of %s", f)
		}
	}
	return mk
}

// publish publishes at QoS 1 and waits for the PUBACK, at most within.
func (mk *mqttKiosk) publish(t *testing.T, topic, payload string, within time.Duration) {
	t.Helper()
	tok := mk.Publish(topic, 1, false, payload)
	require.True(t, tok.WaitTimeout(within), "PUBACK of %s %q", topic, payload)
	require.NoError(t, tok.Error(), "publish %s %q", topic, payload)
}

// received counts the messages with topic and payload the kiosk got.
func (mk *mqttKiosk) received(topic, payload string) int {
	mk.mu.Lock()
	defer mk.mu.Unlock()
	n := 0
	for _, g := range mk.got {
		if g == topic+" "+payload {
			n++
		}
	}
	return n
}

func (mk *mqttKiosk) waitFor(t *testing.T, topic, payload string) {
	t.Helper()
	deadline := time.After(wait)
	for mk.received(topic, payload) == 0 {
		select {
		case <-mk.ch:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("kiosk: no %s %q within %s", topic, payload, wait)
		}
	}
}

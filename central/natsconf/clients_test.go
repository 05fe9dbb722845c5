package natsconf_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/natsconf"
	"allimi/internal/natstest"
	"allimi/sync/transport"
)

const (
	centralPassword = "central-secret"
	// wait is how long a test waits for a message that must arrive.
	wait = 20 * time.Second
	// quiet is how long a test listens for a message that must not arrive
	// after one published later has.
	quiet = 500 * time.Millisecond
)

// kiosk is a kiosk's login and its password.
type kiosk = natstest.Kiosk

func newKiosk(t *testing.T, id string) kiosk { return natstest.NewKiosk(t, id) }

func users(ks ...kiosk) []allimi.KioskUser { return natstest.Users(ks...) }

// inbox collects the messages an MQTT or NATS subscription delivers.
type inbox struct {
	mu   sync.Mutex
	msgs []msg
	got  chan struct{}
}

type msg struct {
	topic, payload string
	retained       bool
}

func newInbox() *inbox { return &inbox{got: make(chan struct{}, 1)} }

func (b *inbox) add(m msg) {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
	select {
	case b.got <- struct{}{}:
	default:
	}
}

func (b *inbox) all() []msg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]msg(nil), b.msgs...)
}

// has says whether a message with this topic and payload arrived.
func (b *inbox) has(topic, payload string) bool {
	for _, m := range b.all() {
		if m.topic == topic && m.payload == payload {
			return true
		}
	}
	return false
}

// waitFor waits until a message with this topic and payload arrives.
func (b *inbox) waitFor(t *testing.T, topic, payload string) msg {
	t.Helper()
	return b.waitLong(t, topic, payload, wait)
}

// waitLong is waitFor with a limit of its own.
func (b *inbox) waitLong(t *testing.T, topic, payload string, wait time.Duration) msg {
	t.Helper()
	deadline := time.After(wait)
	for {
		for _, m := range b.all() {
			if m.topic == topic && m.payload == payload {
				return m
			}
		}
		select {
		case <-b.got:
		case <-deadline:
			t.Fatalf("no %q on %s within %s; got %s", short(payload), topic, wait, b)
		}
	}
}

// mqttClient is a paho client with the options kiosks and central use
// (sync/transport: persistent session, QoS 1, manual acks), reaching the
// brokers in order.
type mqttClient struct {
	paho.Client
	in *inbox
}

// connectMQTT connects user to the first of brokers that answers, and
// subscribes at QoS 1 to filters on the first connection only: a
// persistent session keeps them on the broker's side.
func connectMQTT(t *testing.T, brokers []string, clientID, user, password string, filters ...string) (*mqttClient, error) {
	t.Helper()
	in := newInbox()
	o := transport.Conn{Broker: brokers[0], ClientID: clientID, Username: user, Password: password}.ClientOptions()
	for _, b := range brokers[1:] {
		o.AddBroker(b)
	}
	o.SetConnectRetry(false)
	o.SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(time.Second)
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		in.add(msg{topic: m.Topic(), payload: string(m.Payload()), retained: m.Retained()})
		m.Ack()
	})
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(wait) {
		return nil, fmt.Errorf("connect %s: timed out", user)
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(100) })
	mc := &mqttClient{Client: c, in: in}
	if len(filters) > 0 {
		subs := map[string]byte{}
		for _, f := range filters {
			subs[f] = 1
		}
		codes := mc.subscribe(t, subs)
		for f, code := range codes {
			if code != 1 {
				return nil, fmt.Errorf("subscribe %s: SUBACK code %#x", f, code)
			}
		}
	}
	return mc, nil
}

// subscribe subscribes to filters and returns the broker's SUBACK code of
// each (0x80: refused).
func (c *mqttClient) subscribe(t *testing.T, filters map[string]byte) map[string]byte {
	t.Helper()
	tok := c.SubscribeMultiple(filters, nil)
	require.True(t, tok.WaitTimeout(wait), "SUBACK")
	require.NoError(t, tok.Error())
	return tok.(*paho.SubscribeToken).Result()
}

// publish publishes at QoS 1 and waits for the broker's PUBACK.
func (c *mqttClient) publish(t *testing.T, topic, payload string, retained bool) {
	t.Helper()
	c.publishWithin(t, topic, payload, retained, wait)
}

// publishWithin is publish with a limit of its own. A publish the
// connection's loss ended (the server it was on killed, or the client's
// session taken over on another: NATS closes the older connection) is
// made again, as central's own publishers do, until the limit.
func (c *mqttClient) publishWithin(t *testing.T, topic, payload string, retained bool, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		tok := c.Publish(topic, 1, retained, payload)
		require.True(t, tok.WaitTimeout(time.Until(deadline)), "PUBACK for %s", topic)
		err := tok.Error()
		if err == nil {
			return
		}
		require.True(t, time.Now().Before(deadline), "publish %s: %v", topic, err)
		time.Sleep(200 * time.Millisecond)
	}
}

func mustMQTT(t *testing.T, brokers []string, clientID, user, password string, filters ...string) *mqttClient {
	t.Helper()
	c, err := connectMQTT(t, brokers, clientID, user, password, filters...)
	require.NoError(t, err, "%s connects to %v", user, brokers)
	return c
}

// kioskMQTT is kiosk k connected as a kiosk is (client id
// allimi-kiosk-ID), subscribed to what sync/uplink subscribes to.
func kioskMQTT(t *testing.T, brokers []string, k kiosk) *mqttClient {
	t.Helper()
	return mustMQTT(t, brokers, "allimi-kiosk-"+k.ID, k.Username, k.Password, kioskFilters(k.ID)...)
}

// centralNATS is central's user on the NATS client port, subscribed to
// every kiosk's records and requests.
func centralNATS(t *testing.T, url string) *inbox {
	t.Helper()
	nc, err := nats.Connect(url, nats.UserInfo(natsconf.CentralUsername, centralPassword), nats.MaxReconnects(-1))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	in := newInbox()
	for _, s := range []string{"allimi.v1.kiosk.*.up", "allimi.v1.kiosk.*.req"} {
		_, err := nc.Subscribe(s, func(m *nats.Msg) { in.add(msg{topic: m.Subject, payload: string(m.Data)}) })
		require.NoError(t, err)
	}
	require.NoError(t, nc.Flush())
	require.NoError(t, nc.LastError())
	return in
}

func (b *inbox) String() string {
	var s []string
	for _, m := range b.all() {
		s = append(s, fmt.Sprintf("%s %q (retained %v)", m.topic, short(m.payload), m.retained))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// short is a payload as a failure message shows it.
func short(p string) string {
	if len(p) > 40 {
		return fmt.Sprintf("%s… (%d bytes)", p[:40], len(p))
	}
	return p
}

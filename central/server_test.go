package central_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/internal/centraltest"
	"allimi/internal/loadgen"
	"allimi/sync/catalog"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
	"allimi/sync/wire"
)

// testCentral is a real central on loopback ports with its embedded
// broker (centraltest), seen through the fields these tests use.
type testCentral struct {
	srv  *central.Server
	cfg  central.Config
	mqtt string // tcp://…
	http string // http://…
}

func startCentral(t *testing.T, data string, opts ...func(*central.Config)) *testCentral {
	t.Helper()
	c := centraltest.Start(t, append([]func(*central.Config){func(cfg *central.Config) { cfg.Data = data }}, opts...)...)
	return seen(c)
}

// seen is c as these tests see it.
func seen(c *centraltest.Central) *testCentral {
	return &testCentral{srv: c.Server, cfg: c.Config, mqtt: c.Broker(), http: c.URL()}
}

// addKiosk registers a kiosk; central must be stopped, so the test adds
// kiosks before starting it.
func addKiosk(t *testing.T, data, id string) allimi.KioskCredentials {
	t.Helper()
	st, keys, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	cred, err := st.AddKiosk(id)
	require.NoError(t, err)
	cred.CatalogKey = catalog.EncodePublicKey(keys.CatalogPublicKey())
	return cred
}

func (tc *testCentral) stats(t *testing.T) allimi.RegistryStats {
	t.Helper()
	resp := getAs(t, tc.http+"/api/v1/stats", adminToken(t, tc.cfg.Data))
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st allimi.RegistryStats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// rawKiosk is a bare MQTT client with a kiosk's credentials: it sends
// whatever bytes a test gives it and collects acks.
type rawKiosk struct {
	client paho.Client
	acks   chan wire.Ack
	lost   chan error
}

func connectRaw(t *testing.T, broker string, cred allimi.KioskCredentials) *rawKiosk {
	t.Helper()
	rk := &rawKiosk{acks: make(chan wire.Ack, 100), lost: make(chan error, 1)}
	opts := paho.NewClientOptions().AddBroker(broker).SetClientID("allimi-kiosk-" + cred.ID).
		SetUsername(cred.Username).SetPassword(cred.Password).SetProtocolVersion(4).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectionLostHandler(func(_ paho.Client, err error) { rk.lost <- err })
	rk.client = paho.NewClient(opts)
	tok := rk.client.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
	sub := rk.client.Subscribe(wire.AckTopic(cred.ID), 1, func(_ paho.Client, m paho.Message) {
		a, err := wire.DecodeAck(m.Payload())
		if err == nil {
			rk.acks <- a
		}
	})
	require.True(t, sub.WaitTimeout(10*time.Second))
	require.NoError(t, sub.Error())
	t.Cleanup(func() { rk.client.Disconnect(100) })
	return rk
}

func (rk *rawKiosk) publish(t *testing.T, topic string, payload []byte) {
	t.Helper()
	tok := rk.client.Publish(topic, 1, false, payload)
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
}

// waitAck waits for an ack up to want, failing after a generous deadline.
func (rk *rawKiosk) waitAck(t *testing.T, want uint64) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case a := <-rk.acks:
			if a.UpTo == want {
				return
			}
			require.Less(t, a.UpTo, want, "ack went past what was sent")
		case <-deadline:
			t.Fatalf("no ack up to %d", want)
		}
	}
}

// event builds a valid signup of person n from kiosk.
func event(t *testing.T, kiosk string, seq, n uint64) allimi.Event {
	t.Helper()
	d := loadgen.Signup(kiosk, n, []allimi.Channel{allimi.ChannelKakao}, time.Now())
	p, err := json.Marshal(d.Payload)
	require.NoError(t, err)
	e := allimi.Event{V: 1, Kiosk: kiosk, Seq: seq, HLC: allimi.NextHLC(0, time.Now()), Kind: d.Kind, Citizen: d.Citizen, Payload: p}
	require.NoError(t, e.Validate(time.Now()))
	return e
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestIngest_BadPayloadsAreRefusedAndTheConnectionSurvives(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	up := wire.UpTopic("k1")

	rk.publish(t, up, marshal(t, event(t, "k1", 1, 1)))
	rk.waitAck(t, 1)

	v2 := event(t, "k1", 2, 2)
	v2.V = 2
	other := event(t, "k1", 2, 2)
	other.Kiosk = "k2"
	badDate := event(t, "k1", 2, 2)
	badDate.Citizen.BirthDate = "2023-02-30"
	bad := []struct {
		name    string
		payload []byte
		reason  string
	}{
		{"malformed JSON", []byte(`{"v":1,"kiosk":"k1","seq":`), "malformed payload"},
		{"not JSON at all", []byte("\x00\x01hello"), "malformed payload"},
		{"unknown version", marshal(t, v2), "unsupported message version"},
		{"oversize", append([]byte(`{"v":1,"pad":"`), []byte(strings.Repeat("x", wire.MaxEventSize))...), "payload too large"},
		{"kiosk id differs from topic", marshal(t, other), `payload says kiosk "k2"`},
		{"impossible date", marshal(t, badDate), "citizen: invalid date of birth (value withheld: personal data)"},
	}
	for _, b := range bad {
		rk.publish(t, up, b.payload)
	}
	// A good record after the bad ones: once it is acked, all were processed.
	rk.publish(t, up, marshal(t, event(t, "k1", 2, 2)))
	rk.waitAck(t, 2)

	assert.True(t, rk.client.IsConnected(), "the kiosk's connection survives bad payloads")
	st := tc.stats(t)
	assert.EqualValues(t, 2, st.Records.Stored)
	assert.EqualValues(t, len(bad), st.Records.Rejected)
	assert.EqualValues(t, 2, st.Subscribers)

	resp := getAs(t, tc.http+"/api/v1/rejections", adminToken(t, tc.cfg.Data))
	defer resp.Body.Close()
	var rj struct{ Rejections []allimi.Rejection }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rj))
	require.Len(t, rj.Rejections, len(bad))
	for _, r := range rj.Rejections {
		assert.NotContains(t, r.Reason, "2023-02-30", "no personal data in the rejection list")
	}
	for _, b := range bad {
		found := false
		for _, got := range rj.Rejections {
			found = found || strings.Contains(got.Reason, b.reason)
			assert.Equal(t, "k1", got.Kiosk)
		}
		assert.True(t, found, "%s: no rejection mentions %q", b.name, b.reason)
	}
}

func TestIngest_ReplayedAndGappedSequenceNumbers(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	up := wire.UpTopic("k1")
	e1, e2, e3, e4 := event(t, "k1", 1, 1), event(t, "k1", 2, 2), event(t, "k1", 3, 3), event(t, "k1", 4, 4)

	rk.publish(t, up, marshal(t, e1))
	rk.publish(t, up, marshal(t, e2))
	rk.waitAck(t, 2)

	// A replay is stored once and answered with the current mark.
	rk.publish(t, up, marshal(t, e1))
	rk.waitAck(t, 2)
	st := tc.stats(t)
	assert.EqualValues(t, 2, st.Records.Stored)
	assert.EqualValues(t, 1, st.Records.Duplicates)

	// A gap: 4 is kept, but the ack stays at 2 until 3 arrives.
	rk.publish(t, up, marshal(t, e4))
	rk.waitAck(t, 2)
	assert.EqualValues(t, 2, tc.stats(t).Kiosks["k1"])
	rk.publish(t, up, marshal(t, e3))
	rk.waitAck(t, 4)
	st = tc.stats(t)
	assert.EqualValues(t, 4, st.Records.Stored)
	assert.EqualValues(t, 4, st.Subscribers)
	assert.EqualValues(t, 4, st.Kiosks["k1"])
}

func TestBroker_RefusesWrongCredentialsAndStolenClientIDs(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	other := addKiosk(t, data, "k2")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", 1, 1)))
	rk.waitAck(t, 1)

	cases := []struct{ name, clientID, user, pass string }{
		{"wrong password", "allimi-kiosk-k1", cred.Username, "not-the-password"},
		{"unknown user", "allimi-kiosk-k9", "kiosk-k9", cred.Password},
		{"no credentials", "allimi-kiosk-k1", "", ""},
		{"another kiosk's client id", "allimi-kiosk-k1", other.Username, other.Password},
		{"central's name", "allimi-central", "allimi-central", cred.Password},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := paho.NewClientOptions().AddBroker(tc.mqtt).SetClientID(c.clientID).
				SetUsername(c.user).SetPassword(c.pass).SetProtocolVersion(4)
			cl := paho.NewClient(opts)
			tok := cl.Connect()
			require.True(t, tok.WaitTimeout(10*time.Second))
			require.Error(t, tok.Error())
			assert.Regexp(t, "bad user name or password|not Authorized", tok.Error().Error())
		})
	}
	assert.True(t, rk.client.IsConnected(), "refused strangers do not disturb the kiosk's session")
	st := tc.stats(t)
	assert.EqualValues(t, 1, st.Records.Stored)
	assert.EqualValues(t, 1, st.Subscribers)
}

func TestBroker_ConfinesAKioskToItsOwnTopics(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	addKiosk(t, data, "k2")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)

	// k1 may not subscribe to k2's acks, nor to everything.
	for _, filter := range []string{wire.AckTopic("k2"), "#", "allimi/v1/kiosk/+/up"} {
		tok := rk.client.Subscribe(filter, 1, func(paho.Client, paho.Message) {})
		require.True(t, tok.WaitTimeout(10*time.Second))
		res := tok.(*paho.SubscribeToken).Result()
		assert.EqualValues(t, 0x80, res[filter], "subscription to %s must be refused", filter)
	}
	// k1 publishing as k2 on k2's topic: the broker drops it and, as MQTT
	// 3.1.1 has no negative PUBACK, cuts k1 off.
	rk.client.Publish(wire.UpTopic("k2"), 1, false, marshal(t, event(t, "k2", 1, 7)))
	select {
	case <-rk.lost:
	case <-time.After(20 * time.Second):
		t.Fatal("the broker kept a kiosk that published on another kiosk's topic")
	}
	rk = connectRaw(t, tc.mqtt, cred)
	rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", 1, 1)))
	rk.waitAck(t, 1)
	st := tc.stats(t)
	assert.EqualValues(t, 1, st.Records.Stored)
	assert.NotContains(t, st.Kiosks, "k2")
}

func TestCatalog_ReachesAKioskAndNewVersionsReplaceIt(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	keys, err := keyring.Load(data)
	require.NoError(t, err)

	put := func(body string) *http.Response {
		req, err := http.NewRequest(http.MethodPut, tc.http+"/api/v1/catalogs/subsidy", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+keys.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	require.Equal(t, http.StatusOK, put(`{"services":1}`).StatusCode)

	cs, installed := runCatalogKiosk(t, tc, cred)

	waitVersion := func(v uint64) {
		t.Helper()
		select {
		case got := <-installed:
			require.Equal(t, v, got)
		case <-time.After(20 * time.Second):
			t.Fatalf("catalog version %d never installed", v)
		}
	}
	waitVersion(1)
	require.Equal(t, http.StatusOK, put(`{"services":2}`).StatusCode)
	waitVersion(2)
	_, body, err := cs.Get("subsidy")
	require.NoError(t, err)
	assert.JSONEq(t, `{"services":2}`, string(body))

	// Without the admin token nothing changes.
	req, _ := http.NewRequest(http.MethodPut, tc.http+"/api/v1/catalogs/subsidy", strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	v, err := cs.Versions()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"subsidy": 2}, v)
}

// runCatalogKiosk runs a kiosk's sender against tc until the test ends and
// reports each catalog version it installs.
func runCatalogKiosk(t *testing.T, tc *testCentral, cred allimi.KioskCredentials) (*catalog.Store, <-chan uint64) {
	t.Helper()
	kdb, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { kdb.Close() })
	ob, err := outbox.Open(kdb, cred.ID)
	require.NoError(t, err)
	pub, err := catalog.DecodePublicKey(cred.CatalogKey)
	require.NoError(t, err)
	cs, err := catalog.NewStore(kdb, pub)
	require.NoError(t, err)
	installed := make(chan uint64, 10)
	cs.OnInstalled = func(m catalog.Manifest) { installed <- m.Version }
	sender := uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: tc.mqtt, Username: cred.Username, Password: cred.Password},
		Catalogs: cs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sender.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return cs, installed
}

package jsuplink_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/ingest"
	"allimi/central/jsuplink"
	"allimi/central/natsconf"
	"allimi/internal/natstest"
	"allimi/sync/wire"
)

// streamOf is the uplink's stream as central's user sees it on url.
func streamOf(t *testing.T, url string) jetstream.Stream {
	t.Helper()
	nc, err := nats.Connect(url, nats.UserInfo(natsconf.CentralUsername, centralPassword))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	s, err := js.Stream(ctx, jsuplink.DefaultStream)
	require.NoError(t, err)
	return s
}

func TestConsume_DeliversKioskRecordsWithTheirMQTTTopic(t *testing.T) {
	a, b := newKiosk(t, "kiosk-a"), newKiosk(t, "kiosk-b")
	s := startServer(t, a, b)
	u := openUplink(t, []string{s.ClientURL()}, nil)
	assert.True(t, u.IsConnected())
	assert.Equal(t, 1, u.Replicas(), "a single server keeps the stream alone")
	tk := newTaken(nil)
	tk.consume(t, u, "w1")

	ka := connectKiosk(t, []string{s.MQTTURL()}, a)
	kb := connectKiosk(t, []string{s.MQTTURL()}, b)
	ka.publish(t, wire.UpTopic(a.ID), "a record 1", wait)
	kb.publish(t, wire.UpTopic(b.ID), "b record 1", wait)
	ka.publish(t, wire.UpTopic(a.ID), "a record 2", wait)
	tk.waitCount(t, "allimi/v1/kiosk/kiosk-a/up", "a record 1", 1)
	tk.waitCount(t, "allimi/v1/kiosk/kiosk-b/up", "b record 1", 1)
	tk.waitCount(t, "allimi/v1/kiosk/kiosk-a/up", "a record 2", 1)

	// Acknowledged, they leave the stream (work-queue retention).
	st := streamOf(t, s.ClientURL())
	info := st.CachedInfo()
	assert.Equal(t, jetstream.WorkQueuePolicy, info.Config.Retention)
	assert.Equal(t, jetstream.FileStorage, info.Config.Storage)
	assert.Equal(t, []string{"allimi.v1.kiosk.*.up"}, info.Config.Subjects)
	deadline := time.Now().Add(wait)
	for {
		i, err := st.Info(context.Background())
		require.NoError(t, err)
		if i.State.Msgs == 0 && i.State.LastSeq == 3 {
			break
		}
		require.True(t, time.Now().Before(deadline), "stream still holds %d of %d records", i.State.Msgs, i.State.LastSeq)
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(quiet)
	assert.Len(t, tk.all(), 3, "each record once: %v", tk.all())
}

func TestConsume_RedeliversWhatIsNotAcknowledged(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := startServer(t, a)
	const ackWait = time.Second
	u := openUplink(t, []string{s.ClientURL()}, func(c *jsuplink.Config) { c.AckWait = ackWait })
	// "kept" is acknowledged only at its second delivery, as if the
	// first commit had never happened.
	tk := newTaken(func(r record, deliveries int) bool { return r.payload != "kept" || deliveries >= 2 })
	tk.consume(t, u, "w1")

	k := connectKiosk(t, []string{s.MQTTURL()}, a)
	k.publish(t, wire.UpTopic(a.ID), "kept", wait)
	k.publish(t, wire.UpTopic(a.ID), "acked", wait)
	tk.waitCount(t, wire.UpTopic(a.ID), "acked", 1)
	tk.waitCount(t, wire.UpTopic(a.ID), "kept", 2)

	time.Sleep(3 * ackWait)
	assert.Equal(t, 1, tk.count(wire.UpTopic(a.ID), "acked"), "an acknowledged record does not come again")
	assert.Equal(t, 2, tk.count(wire.UpTopic(a.ID), "kept"), "acknowledged at its second delivery, it does not come a third time")
}

func TestConsume_AWorkerClosedLeavesWhatItHeldToAnother(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := startServer(t, a)
	short := func(c *jsuplink.Config) { c.AckWait = time.Second }
	u1 := openUplink(t, []string{s.ClientURL()}, short)
	dying := newTaken(func(record, int) bool { return false }) // takes, never commits
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		u1.Consume(context.Background(), func(m ingest.Message) { dying.take("w1", m) })
	}()

	k := connectKiosk(t, []string{s.MQTTURL()}, a)
	k.publish(t, wire.UpTopic(a.ID), "held by w1", wait)
	dying.waitCount(t, wire.UpTopic(a.ID), "held by w1", 1)
	u1.Close()
	assert.False(t, u1.IsConnected())
	select {
	case <-returned:
	case <-time.After(wait):
		t.Fatal("Consume goes on after Close")
	}

	u2 := openUplink(t, []string{s.ClientURL()}, short)
	tk := newTaken(nil)
	tk.consume(t, u2, "w2")
	tk.waitCount(t, wire.UpTopic(a.ID), "held by w1", 1)
}

func TestConsume_HoldsAtMostMaxInFlight(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := startServer(t, a)
	u := openUplink(t, []string{s.ClientURL()}, func(c *jsuplink.Config) { c.MaxInFlight = 5 })
	var mu sync.Mutex
	var held []ingest.Message
	tk := newTaken(func(record, int) bool { return false })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		u.Consume(ctx, func(m ingest.Message) {
			mu.Lock()
			held = append(held, m)
			mu.Unlock()
			tk.take("w1", m)
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	ackHeld := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range held {
			m.Ack()
		}
		held = nil
	}

	k := connectKiosk(t, []string{s.MQTTURL()}, a)
	for i := range 12 {
		k.publish(t, wire.UpTopic(a.ID), fmt.Sprintf("record %d", i), wait)
	}
	for _, want := range []int{5, 10, 12} {
		tk.waitUntil(t, wait, fmt.Sprintf("%d records", want), func(rs []record) bool { return len(rs) >= want })
		time.Sleep(quiet)
		assert.Len(t, tk.all(), want, "no more than 5 held at once")
		ackHeld()
	}
	for i := range 12 {
		assert.Equal(t, 1, tk.count(wire.UpTopic(a.ID), fmt.Sprintf("record %d", i)), "record %d", i)
	}
}

func TestConsume_TwoWorkersShareEveryRecordOnce(t *testing.T) {
	a, b := newKiosk(t, "kiosk-a"), newKiosk(t, "kiosk-b")
	s := startServer(t, a, b)
	small := func(c *jsuplink.Config) { c.FetchBatch = 10 }
	tk := newTaken(nil)
	tk.consume(t, openUplink(t, []string{s.ClientURL()}, small), "w1")
	tk.consume(t, openUplink(t, []string{s.ClientURL()}, small), "w2")

	const n = 150 // per kiosk
	var wg sync.WaitGroup
	for _, k := range []kiosk{a, b} {
		mk := connectKiosk(t, []string{s.MQTTURL()}, k)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				mk.publish(t, wire.UpTopic(k.ID), fmt.Sprintf("%s record %d", k.ID, i), wait)
			}
		}()
	}
	wg.Wait()
	tk.waitUntil(t, wait, "every record", func(rs []record) bool { return len(rs) >= 2*n })
	time.Sleep(quiet)

	perWorker := map[string]int{}
	seen := map[record]int{}
	for _, r := range tk.all() {
		perWorker[r.worker]++
		seen[record{topic: r.topic, payload: r.payload}]++
	}
	for _, k := range []kiosk{a, b} {
		for i := range n {
			assert.Equal(t, 1, seen[record{topic: wire.UpTopic(k.ID), payload: fmt.Sprintf("%s record %d", k.ID, i)}], "%s record %d", k.ID, i)
		}
	}
	assert.Len(t, tk.all(), 2*n)
	assert.NotZero(t, perWorker["w1"], "w1's share: %v", perWorker)
	assert.NotZero(t, perWorker["w2"], "w2's share: %v", perWorker)
}

func TestServeRequests_EachAnsweredOnceAndTheKioskGetsTheReply(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := startServer(t, a)
	var answered [2]atomic.Int32
	for i := range answered {
		u := openUplink(t, []string{s.ClientURL()}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		require.NoError(t, u.ServeRequests(ctx, func(_ context.Context, kiosk string, payload []byte) ([]byte, bool) {
			answered[i].Add(1)
			if string(payload) == "unanswered" {
				return nil, false
			}
			return []byte(kiosk + " asked " + string(payload)), true
		}))
	}

	k := connectKiosk(t, []string{s.MQTTURL()}, a, wire.ReplyTopic(a.ID))
	const n = 20
	for i := range n {
		k.publish(t, wire.RequestTopic(a.ID), fmt.Sprintf("request %d", i), wait)
	}
	k.publish(t, wire.RequestTopic(a.ID), "unanswered", wait)
	for i := range n {
		k.waitFor(t, wire.ReplyTopic(a.ID), fmt.Sprintf("kiosk-a asked request %d", i))
	}
	time.Sleep(quiet)
	for i := range n {
		assert.Equal(t, 1, k.received(wire.ReplyTopic(a.ID), fmt.Sprintf("kiosk-a asked request %d", i)), "reply %d", i)
	}
	assert.Equal(t, int32(n+1), answered[0].Load()+answered[1].Load(), "each request answered by one worker (%d, %d)",
		answered[0].Load(), answered[1].Load())
	assert.Zero(t, k.received(wire.ReplyTopic(a.ID), "kiosk-a asked unanswered"))
}

func TestOpen_ConcurrentWorkersAgreeOnTheStream(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := startServer(t, a)
	const workers = 4
	errs := make([]error, workers)
	ups := make([]*jsuplink.Uplink, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			ups[i], errs[i] = jsuplink.Open(ctx, jsuplink.Config{URLs: []string{s.ClientURL()}, User: natsconf.CentralUsername,
				Password: centralPassword, Logger: testLogger(t)})
		}()
	}
	wg.Wait()
	for i := range workers {
		require.NoError(t, errs[i], "worker %d", i)
		t.Cleanup(ups[i].Close)
	}

	st := streamOf(t, s.ClientURL())
	info := st.CachedInfo()
	assert.Equal(t, jetstream.WorkQueuePolicy, info.Config.Retention)
	assert.Equal(t, 1, info.Config.Replicas)
	assert.Equal(t, 1, info.State.Consumers, "one consumer shared by all")
	c, err := st.Consumer(context.Background(), jsuplink.DefaultConsumer)
	require.NoError(t, err)
	assert.Equal(t, jetstream.AckExplicitPolicy, c.CachedInfo().Config.AckPolicy)
	assert.Equal(t, jsuplink.DefaultAckWait, c.CachedInfo().Config.AckWait)
	assert.Equal(t, jsuplink.DefaultMaxAckPending, c.CachedInfo().Config.MaxAckPending)

	// Opening again with other tunables updates the consumer in place.
	openUplink(t, []string{s.ClientURL()}, func(c *jsuplink.Config) { c.AckWait = 90 * time.Second })
	c, err = st.Consumer(context.Background(), jsuplink.DefaultConsumer)
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, c.CachedInfo().Config.AckWait)

	tk := newTaken(nil)
	for i, u := range ups {
		tk.consume(t, u, fmt.Sprintf("w%d", i))
	}
	connectKiosk(t, []string{s.MQTTURL()}, a).publish(t, wire.UpTopic(a.ID), "one record", wait)
	tk.waitCount(t, wire.UpTopic(a.ID), "one record", 1)
	time.Sleep(quiet)
	assert.Len(t, tk.all(), 1)
}

func TestParseURLs(t *testing.T) {
	got, err := jsuplink.ParseURLs("nats://h1:4222, nats://h2:4222,tls://h3:4443")
	require.NoError(t, err)
	assert.Equal(t, []string{"nats://h1:4222", "nats://h2:4222", "tls://h3:4443"}, got)
	for _, bad := range []string{"", "h1:4222", "http://h1:4222", "nats://", "nats://h1", "nats://h1:4222,", "nats://u:p@h1:4222", "nats://h1:4222/x"} {
		_, err := jsuplink.ParseURLs(bad)
		assert.ErrorContains(t, err, "want nats://host:port", "%q", bad)
	}
}

func TestOpen_ClearErrors(t *testing.T) {
	s := startServer(t)
	open := func(cfg jsuplink.Config) error {
		t.Helper()
		cfg.Logger = testLogger(t)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		u, err := jsuplink.Open(ctx, cfg)
		if err == nil {
			u.Close()
		}
		return err
	}

	t.Run("malformed URL", func(t *testing.T) {
		err := open(jsuplink.Config{URLs: []string{s.ClientURL(), "nats//oops"}, User: natsconf.CentralUsername, Password: centralPassword})
		assert.ErrorContains(t, err, `uplink URL "nats//oops": want nats://host:port`)
		err = open(jsuplink.Config{User: natsconf.CentralUsername, Password: centralPassword})
		assert.ErrorContains(t, err, "no server URL")
	})

	t.Run("wrong password", func(t *testing.T) {
		err := open(jsuplink.Config{URLs: []string{s.ClientURL()}, User: natsconf.CentralUsername, Password: "not it"})
		require.Error(t, err)
		assert.ErrorIs(t, err, nats.ErrAuthorization)
		assert.Contains(t, err.Error(), `the servers refused user "allimi-central"`)
	})

	t.Run("no server", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		l.Close()
		err = open(jsuplink.Config{URLs: []string{"nats://" + addr}, User: natsconf.CentralUsername, Password: centralPassword})
		assert.ErrorContains(t, err, "nats://"+addr)
		assert.ErrorIs(t, err, nats.ErrNoServers)
	})

	t.Run("JetStream not enabled", func(t *testing.T) {
		url := startWithoutJetStream(t)
		err := open(jsuplink.Config{URLs: []string{url}, User: natsconf.CentralUsername, Password: centralPassword})
		require.Error(t, err)
		assert.ErrorIs(t, err, jetstream.ErrJetStreamNotEnabled)
		assert.Contains(t, err.Error(), "JetStream is not enabled on the servers")
	})
}

// startWithoutJetStream runs a server from natsconf's file without its
// jetstream and mqtt blocks (MQTT needs JetStream) and returns its client
// URL once it takes connections.
func startWithoutJetStream(t *testing.T) string {
	t.Helper()
	cfg := natstest.Single(t, centralPassword)
	text, err := cfg.Render()
	require.NoError(t, err)
	stripped := regexp.MustCompile(`(?s)\n(jetstream|mqtt) \{\n.*?\n\}\n`).ReplaceAllString(string(text), "\n")
	require.NotContains(t, stripped, "jetstream")
	require.NotContains(t, stripped, "mqtt")
	file := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(file, []byte(stripped), 0o600))
	s := natstest.Run(t, file, cfg)
	deadline := time.Now().Add(natstest.ReadyTimeout)
	for {
		c, err := net.DialTimeout("tcp", cfg.Listen, time.Second)
		if err == nil {
			c.Close()
			return s.ClientURL()
		}
		require.False(t, s.Exited(), "server exited:\n%s", s.Log())
		require.True(t, time.Now().Before(deadline), "server not listening:\n%s", s.Log())
		time.Sleep(50 * time.Millisecond)
	}
}

func TestConsume_CreatesTheStreamAgainWhenTheServersLostIt(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	s := startServer(t, a)
	tk := newTaken(nil)
	tk.consume(t, openUplink(t, []string{s.ClientURL()}, nil), "w1")
	k := connectKiosk(t, []string{s.MQTTURL()}, a)
	k.publish(t, wire.UpTopic(a.ID), "before", wait)
	tk.waitCount(t, wire.UpTopic(a.ID), "before", 1)

	// As if a server's storage had been wiped.
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(natsconf.CentralUsername, centralPassword))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	require.NoError(t, js.DeleteStream(context.Background(), jsuplink.DefaultStream))

	deadline := time.Now().Add(wait)
	for {
		c, err := js.Consumer(context.Background(), jsuplink.DefaultStream, jsuplink.DefaultConsumer)
		if err == nil {
			assert.Equal(t, jetstream.AckExplicitPolicy, c.CachedInfo().Config.AckPolicy)
			break
		}
		require.True(t, time.Now().Before(deadline), "stream and consumer not made again: %v", err)
		time.Sleep(100 * time.Millisecond)
	}
	k.publish(t, wire.UpTopic(a.ID), "after", wait)
	tk.waitCount(t, wire.UpTopic(a.ID), "after", 1)
}

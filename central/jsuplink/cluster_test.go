package jsuplink_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/jsuplink"
	"allimi/internal/natstest"
	"allimi/sync/wire"
)

// failover bounds how long the cluster takes to carry on without a server
// killed: JetStream's elections, paho's and nats.go's reconnections (5 to
// 60 s in central/natsconf's cluster tests on two busy cores).
const failover = 90 * time.Second

// resendAfter is how long the test's kiosks wait for records to arrive
// before they send again what has not: a kiosk's uplink.Config.ResendAfter.
const resendAfter = 5 * time.Second

// urlsFrom are the servers' URLs (client or MQTT), from the i-th on.
func urlsFrom(servers []*natstest.Server, first int, url func(*natstest.Server) string) []string {
	var urls []string
	for i := range servers {
		urls = append(urls, url(servers[(first+i)%len(servers)]))
	}
	return urls
}

func TestCluster_RecordsSurviveAServerKilledWhileKiosksPublish(t *testing.T) {
	a, b := newKiosk(t, "kiosk-a"), newKiosk(t, "kiosk-b")
	servers := natstest.StartCluster(t, natstest.Cluster(t, 3, centralPassword, users(a, b)...))
	client := func(s *natstest.Server) string { return s.ClientURL() }
	mqtt := func(s *natstest.Server) string { return s.MQTTURL() }

	// Two workers, first reaching different servers. An ack sent while
	// the consumer has no leader is lost, and the record comes again
	// after AckWait: short here, so that the stream empties soon.
	short := func(c *jsuplink.Config) { c.AckWait = 5 * time.Second }
	u1 := openUplink(t, urlsFrom(servers, 1, client), short)
	u2 := openUplink(t, urlsFrom(servers, 2, client), short)
	assert.Equal(t, 3, u1.Replicas(), "a cluster of 3 keeps the stream on 3")
	st := streamOf(t, servers[1].ClientURL())
	assert.Equal(t, 3, st.CachedInfo().Config.Replicas)
	tk := newTaken(nil)
	tk.consume(t, u1, "w1")
	tk.consume(t, u2, "w2")

	kiosks := map[string]*mqttKiosk{
		a.ID: connectKiosk(t, urlsFrom(servers, 0, mqtt), a),
		b.ID: connectKiosk(t, urlsFrom(servers, 1, mqtt), b),
	}
	for _, s := range servers {
		s.WaitMQTTStreams(t)
	}

	// The server that leads the stream dies with SIGKILL a third of the
	// way through: the stream has no leader until the other two elect one.
	info, err := st.Info(context.Background())
	require.NoError(t, err)
	require.NotNil(t, info.Cluster)
	var victim *natstest.Server
	for _, s := range servers {
		if s.Config.Name == info.Cluster.Leader {
			victim = s
		}
	}
	require.NotNil(t, victim, "stream leader %q", info.Cluster.Leader)
	t.Logf("killing %s, the stream's leader", victim.Config.Name)

	const n = 250 // per kiosk
	payload := func(id string, i int) string { return fmt.Sprintf("%s record %d", id, i) }
	var published atomic.Int32
	var wg sync.WaitGroup
	for id, k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A window of records in flight, as a kiosk sends them,
			// then every PUBACK awaited.
			var toks []paho.Token
			for i := range n {
				toks = append(toks, k.Publish(wire.UpTopic(id), 1, false, payload(id, i)))
				published.Add(1)
				time.Sleep(2 * time.Millisecond)
			}
			// A publish on the connection to the server killed may
			// fail: the kiosk sends it again, as any record central has
			// not acknowledged.
			failed := 0
			for _, tok := range toks {
				if !tok.WaitTimeout(failover) || tok.Error() != nil {
					failed++
				}
			}
			if failed > 0 {
				t.Logf("%s: %d publishes not acknowledged", id, failed)
			}
		}()
	}
	for published.Load() < 2*n/3 {
		time.Sleep(5 * time.Millisecond)
	}
	victim.Kill(t)
	wg.Wait()

	// missing are the records no worker has taken.
	missing := func() map[string][]int {
		seen := map[string]bool{}
		for _, r := range tk.all() {
			seen[r.topic+" "+r.payload] = true
		}
		out := map[string][]int{}
		for id := range kiosks {
			for i := range n {
				if !seen[wire.UpTopic(id)+" "+payload(id, i)] {
					out[id] = append(out[id], i)
				}
			}
		}
		return out
	}
	count := func(m map[string][]int) int {
		c := 0
		for _, is := range m {
			c += len(is)
		}
		return c
	}

	// As a kiosk does, each sends again what central has not taken (a
	// kiosk waits for central's ack, which follows the commit): NATS
	// acknowledged at QoS 1 what it could not put into a stream without a
	// leader.
	deadline := time.Now().Add(2 * failover)
	resends := 0
	for {
		tk.waitUntil(t, time.Until(deadline), "records after the kill", func([]record) bool { return true })
		wait := time.Now().Add(resendAfter)
		for time.Now().Before(wait) && count(missing()) > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		m := missing()
		if count(m) == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "records never taken: %v", m)
		resends++
		t.Logf("resend %d: %d records not taken yet: %v", resends, count(m), m)
		for id, is := range m {
			for _, i := range is {
				kiosks[id].publish(t, wire.UpTopic(id), payload(id, i), failover)
			}
		}
	}

	// The workers carry on until the consumer has nothing left to hand
	// out or waiting for an ack (duplicates, sent again by paho or by the
	// kiosks, among what was left); the stream's sequence says how many
	// messages it took.
	for _, s := range servers {
		if s != victim {
			st = streamOf(t, s.ClientURL())
			break
		}
	}
	drained := time.Now().Add(failover)
	for {
		c, err := st.Consumer(context.Background(), jsuplink.DefaultConsumer)
		if err == nil {
			ci := c.CachedInfo()
			if ci.NumPending == 0 && ci.NumAckPending == 0 {
				break
			}
			if !time.Now().Before(drained) {
				t.Fatalf("the workers left records: pending %d, ack pending %d, redelivered %d, delivered %+v, ack floor %+v",
					ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.Delivered, ci.AckFloor)
			}
		}
		require.True(t, time.Now().Before(drained), "consumer: %v", err)
		time.Sleep(100 * time.Millisecond)
	}
	if i, err := st.Info(context.Background()); err == nil {
		t.Logf("the stream took %d messages and holds %d", i.State.LastSeq, i.State.Msgs)
	}
	perWorker := map[string]int{}
	for _, r := range tk.all() {
		perWorker[r.worker]++
	}
	t.Logf("%d deliveries of %d records (%d resend rounds), per worker %v", len(tk.all()), 2*n, resends, perWorker)
	assert.Zero(t, count(missing()))
	assert.True(t, u1.IsConnected() || u2.IsConnected())
}

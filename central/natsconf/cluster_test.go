package natsconf_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/internal/natstest"
	"allimi/sync/catalog"
	"allimi/sync/wire"
)

// mqttURLs are the servers' MQTT URLs, from the i-th on, then the others:
// a client tries them in this order.
func mqttURLs(servers []*natstest.Server, first int) []string {
	var urls []string
	for i := range servers {
		urls = append(urls, servers[(first+i)%len(servers)].MQTTURL())
	}
	return urls
}

func TestCluster_KioskAndCentralOnDifferentServers(t *testing.T) {
	a, b := newKiosk(t, "kiosk-a"), newKiosk(t, "kiosk-b")
	cfgs := natstest.Cluster(t, 3, centralPassword, users(a)...)
	servers := natstest.StartCluster(t, cfgs)
	assertMQTTReplicas(t, servers[0], 3)
	mqttLed(t, servers)

	viaNATS := centralNATS(t, servers[1].ClientURL())
	c := centralMQTT(t, mqttURLs(servers, 2))
	c.publish(t, catalog.Topic("subsidy"), "manifest v3", true)
	c.publish(t, wire.AckTopic(a.ID), "a up to 5", true)

	ka := kioskMQTT(t, mqttURLs(servers, 0), a)
	ka.in.waitFor(t, catalog.Topic("subsidy"), "manifest v3")
	ka.in.waitFor(t, wire.AckTopic(a.ID), "a up to 5")
	ka.publish(t, wire.UpTopic(b.ID), "forged record", false)
	ka.publish(t, wire.UpTopic(a.ID), "record 6", false)
	viaNATS.waitFor(t, "allimi.v1.kiosk.kiosk-a.up", "record 6")
	c.in.waitFor(t, wire.UpTopic(a.ID), "record 6")
	time.Sleep(quiet)
	assert.False(t, viaNATS.has("allimi.v1.kiosk.kiosk-b.up", "forged record"))
	assert.False(t, c.in.has(wire.UpTopic(b.ID), "forged record"))

	// A kiosk added reaches every server by a reload of each, none
	// restarted.
	_, err := connectMQTT(t, mqttURLs(servers, 1), "allimi-kiosk-b", b.Username, b.Password)
	require.Error(t, err)
	for i, s := range servers {
		pid := s.PID()
		cfgs[i].Kiosks = users(a, b)
		s.Reload(t, cfgs[i])
		assert.Equal(t, pid, s.PID())
	}
	for i := range servers {
		kb := mustMQTT(t, []string{servers[i].MQTTURL()}, fmt.Sprintf("allimi-kiosk-b-%d", i), b.Username, b.Password, kioskFilters(b.ID)...)
		kb.in.waitFor(t, catalog.Topic("subsidy"), "manifest v3")
		kb.publish(t, wire.UpTopic(b.ID), fmt.Sprintf("b via server %d", i+1), false)
		viaNATS.waitFor(t, "allimi.v1.kiosk.kiosk-b.up", fmt.Sprintf("b via server %d", i+1))
		c.in.waitFor(t, wire.UpTopic(b.ID), fmt.Sprintf("b via server %d", i+1))
		kb.Disconnect(100)
	}
	assert.True(t, ka.IsConnectionOpen(), "kiosk-a carried on through the reloads")
}

func TestCluster_MQTTSessionSurvivesAServerKilled(t *testing.T) {
	a := newKiosk(t, "kiosk-a")
	servers := natstest.StartCluster(t, natstest.Cluster(t, 3, centralPassword, users(a)...))
	viaNATS := centralNATS(t, servers[2].ClientURL())
	c := centralMQTT(t, mqttURLs(servers, 2))
	mqttLed(t, servers)

	// The kiosk subscribes once; after the kill it must not need to.
	k := kioskMQTT(t, mqttURLs(servers, 0), a)
	k.publish(t, wire.UpTopic(a.ID), "before", false)
	c.in.waitFor(t, wire.UpTopic(a.ID), "before")
	viaNATS.waitFor(t, "allimi.v1.kiosk.kiosk-a.up", "before")

	servers[0].Kill(t)
	// Published while the kiosk is cut off: its session, replicated on
	// the two servers left, holds this for it. The streams and consumers
	// the dead server led elect new leaders first: 5 to 25 s here.
	c.publishWithin(t, wire.ReplyTopic(a.ID), "while you were away", false, failover)
	c.publishWithin(t, wire.AckTopic(a.ID), "a up to 1", true, failover)

	// Paho reconnects to the next server, with the same client id and
	// its persistent session.
	k.in.waitLong(t, wire.ReplyTopic(a.ID), "while you were away", failover)
	k.in.waitLong(t, wire.AckTopic(a.ID), "a up to 1", failover)
	require.True(t, k.IsConnectionOpen())
	k.publishWithin(t, wire.UpTopic(a.ID), "after", false, failover)
	c.in.waitLong(t, wire.UpTopic(a.ID), "after", failover)
	viaNATS.waitLong(t, "allimi.v1.kiosk.kiosk-a.up", "after", failover)

	// The killed server comes back (healthy: JetStream current).
	servers[0].Restart(t)
}

// mqttLed waits until every server reports the MQTT streams led and
// current: a retained message published before is lost (see
// natstest.WaitMQTTStreams). An MQTT client must have connected.
func mqttLed(t *testing.T, servers []*natstest.Server) {
	t.Helper()
	for _, s := range servers {
		s.WaitMQTTStreams(t)
	}
}

// failover bounds how long a cluster takes to carry on without a server
// killed: JetStream's elections, paho's reconnection.
const failover = 90 * time.Second

// assertMQTTReplicas checks that the MQTT streams are kept on replicas
// servers, as the monitoring endpoint reports them.
func assertMQTTReplicas(t *testing.T, s *natstest.Server, replicas int) {
	t.Helper()
	// The streams are made when the first MQTT client connects.
	_ = mustMQTT(t, []string{s.MQTTURL()}, "allimi-central-probe", "allimi-central", centralPassword)
	resp, err := http.Get("http://" + s.Config.Monitor + "/jsz?streams=true&config=true")
	require.NoError(t, err)
	defer resp.Body.Close()
	var jsz struct {
		AccountDetails []struct {
			Streams []struct {
				Name   string `json:"name"`
				Config struct {
					Replicas int `json:"num_replicas"`
				} `json:"config"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&jsz))
	seen := 0
	for _, a := range jsz.AccountDetails {
		for _, st := range a.Streams {
			assert.Equal(t, replicas, st.Config.Replicas, "stream %s", st.Name)
			seen++
		}
	}
	assert.NotZero(t, seen, "MQTT streams")
}

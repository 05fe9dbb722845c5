package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/internal/pgtest"
	"allimi/internal/testaddr"
)

// uplinkCentral starts `central serve --store URL --uplink nats://…`.
func uplinkCentral(t *testing.T, url, keys, uplink string, extra ...string) *central {
	t.Helper()
	c := &central{data: keys, http: testaddr.Free(t)}
	args := append([]string{"central", "serve", "--store", url, "--keys", keys, "--uplink", uplink, "--http", c.http}, extra...)
	c.proc = start(t, "central", allimiBin, args...)
	c.waitHealthy(t)
	return c
}

// Three NATS servers (JetStream R3), two centrals on one PostgreSQL
// database consuming the uplink together, twenty kiosks draining 5,000
// records over MQTT; one NATS server killed with SIGKILL mid-drain →
// every record stored exactly once, every kiosk's outbox empty (each
// kiosk deletes a record only on central's ack).
func TestUplink_TwoCentralsOnNATSAndOneServerKilledMidDrain(t *testing.T) {
	url, keys := pgtest.URL(t), t.TempDir()
	runAllimi(t, "central", "migrate", "--store", url)
	const kiosks, each = 20, drainRecords / 20
	var creds []kioskCred
	for i := range kiosks {
		var c kioskCred
		require.NoError(t, json.Unmarshal(runAllimi(t, "central", "kiosk", "add", "--store", url, "--keys", keys,
			"--id", fmt.Sprintf("uplink-%d", i+1), "--json"), &c))
		creds = append(creds, c)
	}
	servers := startNATSClusterFrom(t, []string{"--store", url, "--data", keys})
	var nats, mqtt []string
	for _, s := range servers {
		nats = append(nats, s.ClientURL())
		mqtt = append(mqtt, s.MQTTURL())
	}
	a := uplinkCentral(t, url, keys, strings.Join(nats, ","))
	b := uplinkCentral(t, url, keys, strings.Join(nats[1:], ",")+","+nats[0])

	// Each kiosk has its records queued while offline, then syncs through
	// the first server (the others after it).
	kdata := make([]string, kiosks)
	broker := strings.Join(mqtt, ",")
	var sims []*proc
	for i, c := range creds {
		kdata[i] = t.TempDir()
		r := parseSim(t, string(runAllimi(t, simArgs(broker, c, kdata[i], "--signups", fmt.Sprint(each))...)))
		require.Equal(t, each, r.Pending)
	}
	for i, c := range creds {
		sims = append(sims, start(t, "kiosk-sim", allimiBin, simArgs(broker, c, kdata[i], "--wait", "--window", slowWindow, "--timeout", "5m")...))
	}
	seen := a.waitStored(t, 1000)
	servers[0].Kill(t)
	require.Less(t, seen, int64(drainRecords), "the kill must land mid-drain")

	for i, sim := range sims {
		sim.wait(t, 5*time.Minute)
		require.NoError(t, sim.err, sim.logText())
		res := parseSim(t, sim.output())
		assert.Zero(t, res.Pending, "kiosk %d", i+1)
		assert.Equal(t, each, res.Acked, "kiosk %d", i+1)
	}
	for _, c := range []*central{a, b} {
		s := c.stats(t)
		assert.EqualValues(t, drainRecords, s.Records.Stored, "records stored once each")
		assert.EqualValues(t, drainRecords, s.Subscribers)
		assert.Zero(t, s.Records.Rejected)
	}
	servers[0].Restart(t)

	// /healthz says the uplink is up.
	resp, err := http.Get("http://" + a.http + "/healthz")
	require.NoError(t, err)
	var h struct {
		Status string
		Uplink bool
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	resp.Body.Close()
	assert.Equal(t, "ok", h.Status)
	assert.True(t, h.Uplink)
}

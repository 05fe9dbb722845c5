package tests

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/keyring"
	"allimi/central/natsconf"
	"allimi/internal/natstest"
	"allimi/internal/testaddr"
)

// natsServer is a NATS server run from the file `allimi central
// nats-config` wrote for central's data.
type natsServer struct {
	*natstest.Server
	args []string // the nats-config flags that wrote its file
}

func startNATS(t *testing.T, data string) *natsServer {
	t.Helper()
	n := writeNATSConfig(t, data, natsconf.Config{Listen: testaddr.Free(t), MQTT: testaddr.Free(t), Monitor: testaddr.Free(t), JetStreamDir: t.TempDir()})
	n.Ready(t)
	return n
}

// writeNATSConfig writes the file of a server with cfg's addresses and
// directory with nats-config, and runs the server without waiting for it.
func writeNATSConfig(t *testing.T, data string, cfg natsconf.Config) *natsServer {
	t.Helper()
	return writeNATSConfigFrom(t, []string{"--data", data}, cfg)
}

// writeNATSConfigFrom is writeNATSConfig with nats-config reading central
// as from says (--data DIR, or --store URL --data KEYS).
func writeNATSConfigFrom(t *testing.T, from []string, cfg natsconf.Config) *natsServer {
	t.Helper()
	file := filepath.Join(t.TempDir(), "nats.conf")
	n := &natsServer{args: append(append([]string{"central", "nats-config"}, from...), "--out", file, "--listen", cfg.Listen,
		"--mqtt", cfg.MQTT, "--jetstream-dir", cfg.JetStreamDir, "--monitor", cfg.Monitor)}
	if cfg.Cluster != nil {
		n.args = append(n.args, "--cluster-listen", cfg.Cluster.Listen, "--routes", strings.Join(cfg.Cluster.Routes, ","))
	}
	runAllimi(t, n.args...)
	n.Server = natstest.Run(t, file, cfg)
	return n
}

// startNATSCluster runs three servers from files nats-config wrote, each
// with its own addresses and directory and the same routes.
func startNATSCluster(t *testing.T, data string) []*natsServer {
	t.Helper()
	return startNATSClusterFrom(t, []string{"--data", data})
}

// startNATSClusterFrom is startNATSCluster with nats-config reading
// central as from says.
func startNATSClusterFrom(t *testing.T, from []string) []*natsServer {
	t.Helper()
	cfgs := make([]natsconf.Config, 3)
	var routes []string
	for i := range cfgs {
		cfgs[i] = natsconf.Config{Listen: testaddr.Free(t), MQTT: testaddr.Free(t), Monitor: testaddr.Free(t), JetStreamDir: t.TempDir(),
			Cluster: &natsconf.Cluster{Listen: testaddr.Free(t)}}
		routes = append(routes, "nats://"+cfgs[i].Cluster.Listen)
	}
	servers := make([]*natsServer, len(cfgs))
	for i, cfg := range cfgs {
		cfg.Cluster.Routes = routes
		servers[i] = writeNATSConfigFrom(t, from, cfg)
	}
	for _, s := range servers {
		s.Ready(t)
	}
	return servers
}

// rewrite runs nats-config again, as an operator does after adding a
// kiosk, and has the running server reload the file.
func (n *natsServer) rewrite(t *testing.T) {
	t.Helper()
	runAllimi(t, n.args...)
	n.Signal(t)
}

// centralFlags make central use the NATS server, with its password from
// keys.json as nats-config wrote its hash.
func (n *natsServer) centralFlags(t *testing.T, data string) []string {
	t.Helper()
	keys, err := keyring.Load(data)
	require.NoError(t, err)
	return []string{"--broker", n.MQTTURL(), "--broker-username", natsconf.CentralUsername, "--broker-password", keys.BrokerPassword}
}

func TestNATS_CentralAndKioskInteroperate(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "nats-a")
	n := startNATS(t, data)
	c := startCentral(t, data, n.centralFlags(t, data)...)
	broker := n.MQTTURL()

	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--signups", "5000", "--wait")...)))
	assert.Equal(t, drainRecords, r.Enqueued)
	assert.Equal(t, drainRecords, r.Acked)
	assert.Zero(t, r.Pending)
	assertAllStoredOnce(t, c, broker, cred, kdata)

	// A kiosk added later (central stopped for `kiosk add`, the NATS
	// server running on) syncs once the file is rewritten and reloaded.
	c.kill()
	pid := n.PID()
	other := addKiosk(t, data, "nats-b")
	n.rewrite(t)
	assert.Equal(t, pid, n.PID(), "reloaded, not restarted")
	c.start(t)
	r = parseSim(t, string(runAllimi(t, simArgs(broker, other, t.TempDir(), "--signups", "50", "--wait")...)))
	assert.Equal(t, 50, r.Acked)
	assert.Zero(t, r.Pending)
	assert.EqualValues(t, drainRecords+50, c.stats(t).Records.Stored)
}

func TestNATS_ClusterServerKilledMidDrainLosesAndDuplicatesNothing(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "nats-cluster")
	servers := startNATSCluster(t, data)
	// Each side is given every server, its own first: the kiosk the first
	// server, central the third. The kiosk's server dies mid-drain; the
	// kiosk moves to the next one, with its session.
	urls := func(first int) string {
		var u []string
		for i := range servers {
			u = append(u, servers[(first+i)%len(servers)].MQTTURL())
		}
		return strings.Join(u, ",")
	}
	flags := servers[2].centralFlags(t, data)
	flags[1] = urls(2)
	c := startCentral(t, data, flags...)
	broker := urls(0)

	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--signups", "5000")...)))
	require.Equal(t, drainRecords, r.Pending)
	sim := start(t, "kiosk-sim", allimiBin, simArgs(broker, cred, kdata, "--wait", "--window", slowWindow, "--timeout", "5m")...)
	seen := c.waitStored(t, 1000)
	servers[0].Kill(t)
	require.Less(t, seen, int64(drainRecords), "the kill must land mid-drain")

	sim.wait(t, 5*time.Minute)
	require.NoError(t, sim.err, sim.logText())
	res := parseSim(t, sim.output())
	assert.Zero(t, res.Pending)
	assert.Equal(t, drainRecords, res.Acked)
	// The kiosk's own server stayed down until here: it finished through
	// another.
	assertAllStoredOnce(t, c, broker, cred, kdata)
	servers[0].Restart(t)
}

func TestNATS_WrongPasswordIsAClearErrorAndKeepsTheOutbox(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "nats-wrong-pw")
	n := startNATS(t, data)
	c := startCentral(t, data, n.centralFlags(t, data)...)
	broker := n.MQTTURL()
	bad := cred
	bad.Password = "not-the-password"

	cmd := exec.Command(allimiBin, simArgs(broker, bad, kdata, "--signups", "3", "--wait", "--timeout", "1m")...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "refused kiosk nats-wrong-pw")
	assert.Equal(t, 3, pendingOnDisk(t, broker, cred, kdata), "records stay queued")
	assert.Zero(t, c.stats(t).Records.Stored)

	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--wait")...)))
	assert.Zero(t, r.Pending)
	assert.EqualValues(t, 3, c.stats(t).Subscribers)
}

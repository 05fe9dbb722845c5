package tests

import (
	"path/filepath"
	"testing"

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
	cfg := natsconf.Config{Listen: testaddr.Free(t), MQTT: testaddr.Free(t), Monitor: testaddr.Free(t), JetStreamDir: t.TempDir()}
	file := filepath.Join(t.TempDir(), "nats.conf")
	n := &natsServer{args: []string{"central", "nats-config", "--data", data, "--out", file, "--listen", cfg.Listen,
		"--mqtt", cfg.MQTT, "--jetstream-dir", cfg.JetStreamDir, "--monitor", cfg.Monitor}}
	runAllimi(t, n.args...)
	n.Server = natstest.Run(t, file, cfg)
	n.Ready(t)
	return n
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

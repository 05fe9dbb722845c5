package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/internal/pgtest"
	"allimi/internal/testaddr"
)

// mosquitto is Debian's broker, configured as an operator would run it for
// Allimi: a password per kiosk, an ACL that keeps each kiosk to its topics,
// and no limit on what it queues for central (whose session must never drop
// messages; kiosks bound their own windows).
type mosquitto struct {
	*proc
	addr, dir string
}

const centralBrokerPassword = "central-secret"

func startMosquitto(t *testing.T, kiosks ...kioskCred) *mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("mosquitto is not installed: run `make deps` (Debian package mosquitto)")
	}
	m := &mosquitto{addr: testaddr.Free(t), dir: t.TempDir()}
	pw := filepath.Join(m.dir, "passwd")
	acl := filepath.Join(m.dir, "acl")
	users := map[string]string{"allimi-central": centralBrokerPassword}
	aclText := "user allimi-central\ntopic readwrite allimi/#\n"
	for _, k := range kiosks {
		users[k.Username] = k.Password
		aclText += fmt.Sprintf("\nuser %s\ntopic write allimi/v1/kiosk/%s/up\ntopic read allimi/v1/kiosk/%s/ack\ntopic read allimi/v1/catalog/#\n", k.Username, k.ID, k.ID)
	}
	require.NoError(t, os.WriteFile(pw, nil, 0o600))
	for u, p := range users {
		out, err := exec.Command("mosquitto_passwd", "-b", pw, u, p).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	require.NoError(t, os.WriteFile(acl, []byte(aclText), 0o600))
	host, port, _ := strings.Cut(m.addr, ":")
	conf := filepath.Join(m.dir, "mosquitto.conf")
	user := ""
	if os.Geteuid() == 0 {
		// Started as root, mosquitto drops to user "mosquitto", which cannot
		// read the test's private directory.
		user = "user root\n"
	}
	require.NoError(t, os.WriteFile(conf, []byte(user+fmt.Sprintf(`listener %s %s
allow_anonymous false
password_file %s
acl_file %s
persistence false
max_queued_messages 0
max_inflight_messages 1000
set_tcp_nodelay true
log_dest stderr
`, port, host, pw, acl)), 0o600))
	m.proc = start(t, "mosquitto", bin, "-c", conf)
	m.waitListening(t)
	return m
}

func (m *mosquitto) restart(t *testing.T) {
	t.Helper()
	m.proc = start(t, "mosquitto", m.cmd.Path, m.cmd.Args[1:]...)
	m.waitListening(t)
}

func (m *mosquitto) waitListening(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out, err := exec.Command("mosquitto_pub", "-h", strings.Split(m.addr, ":")[0], "-p", strings.Split(m.addr, ":")[1],
			"-u", "allimi-central", "-P", centralBrokerPassword, "-i", "allimi-probe", "-t", "allimi/probe", "-m", "x").CombinedOutput()
		if err == nil {
			return
		}
		select {
		case <-m.done:
			t.Fatalf("mosquitto exited: %v %s\n%s", m.err, out, m.logText())
		default:
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("mosquitto not listening within 20 s")
}

// centralFlags make central use m instead of its embedded broker.
func (m *mosquitto) centralFlags() []string {
	return []string{"--broker", "tcp://" + m.addr, "--broker-username", "allimi-central", "--broker-password", centralBrokerPassword}
}

func TestMosquitto_CentralAndKioskInteroperate(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "mosq")
	m := startMosquitto(t, cred)
	c := startCentral(t, data, m.centralFlags()...)
	broker := "tcp://" + m.addr

	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--signups", "5000", "--wait")...)))
	assert.Equal(t, drainRecords, r.Enqueued)
	assert.Equal(t, drainRecords, r.Acked)
	assert.Zero(t, r.Pending)
	assertAllStoredOnce(t, c, broker, cred, kdata)
}

func TestMosquitto_BrokerKilledMidDrainLosesAndDuplicatesNothing(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "mosq-restart")
	m := startMosquitto(t, cred)
	c := startCentral(t, data, m.centralFlags()...)
	broker := "tcp://" + m.addr

	sim := start(t, "kiosk-sim", allimiBin, simArgs(broker, cred, kdata, "--signups", "5000", "--wait", "--window", slowWindow, "--timeout", "5m")...)
	seen := c.waitStored(t, 1000)
	m.kill() // the broker forgets every session and queued message
	require.Less(t, seen, int64(drainRecords), "the kill must land mid-drain")
	m.restart(t)

	sim.wait(t, 5*time.Minute)
	require.NoError(t, sim.err, sim.logText())
	res := parseSim(t, sim.output())
	assert.Zero(t, res.Pending)
	assertAllStoredOnce(t, c, broker, cred, kdata)
}

// Two centrals on one PostgreSQL database sharing one Mosquitto: each
// keeps a session of its own and subscribes in one shared-subscription
// group, so the broker gives each record to one of them: every record
// stored once, none read twice (no duplicates counted), the kiosk's
// outbox empty.
func TestMosquitto_TwoCentralsOnOneDatabaseShareTheBroker(t *testing.T) {
	url, keys := pgtest.URL(t), t.TempDir()
	runAllimi(t, "central", "migrate", "--store", url)
	var cred kioskCred
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "kiosk", "add", "--store", url, "--keys", keys,
		"--id", "mosq-shared", "--json"), &cred))
	m := startMosquitto(t, cred)
	var cs []*central
	for range 2 {
		c := &central{data: keys, http: testaddr.Free(t)}
		args := append([]string{"central", "serve", "--store", url, "--keys", keys, "--http", c.http}, m.centralFlags()...)
		c.proc = start(t, "central", allimiBin, args...)
		c.waitHealthy(t)
		cs = append(cs, c)
	}
	broker := "tcp://" + m.addr
	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, t.TempDir(), "--signups", "2000", "--wait", "--timeout", "2m")...)))
	assert.Equal(t, 2000, r.Acked)
	assert.Zero(t, r.Pending)
	for i, c := range cs {
		s := c.stats(t)
		assert.EqualValues(t, 2000, s.Records.Stored, "central %d", i+1)
		assert.Zero(t, s.Records.Duplicates, "no record read by both centrals")
		assert.Contains(t, c.logText(), "connected to broker", "central %d", i+1)
		assert.NotContains(t, c.logText(), "lost the broker", "central %d: no client id taken over", i+1)
	}
}

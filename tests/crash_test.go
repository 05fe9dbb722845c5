package tests

import (
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const drainRecords = 5000

// slowWindow keeps few records in flight so that a drain lasts long enough
// to be cut in the middle; the contract does not depend on the window.
const slowWindow = "10"

// assertAllStoredOnce checks the end state every crash test must reach.
func assertAllStoredOnce(t *testing.T, c *central, broker string, cred kioskCred, kioskData string) {
	t.Helper()
	s := c.stats(t)
	assert.EqualValues(t, drainRecords, s.Subscribers, "subscribers")
	assert.EqualValues(t, drainRecords, s.Records.Stored, "records stored once each")
	assert.Zero(t, s.Records.Rejected)
	assert.Zero(t, pendingOnDisk(t, broker, cred, kioskData), "kiosk outbox empty")
}

func TestCrash_CentralKilledMidDrainLosesAndDuplicatesNothing(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "crash-central")
	c := startCentral(t, data)
	broker := "tcp://" + c.mqtt

	// A kiosk that was offline: 5,000 signups queued on disk.
	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--signups", "5000")...)))
	require.Equal(t, drainRecords, r.Enqueued)
	require.Equal(t, drainRecords, r.Pending)

	sim := start(t, "kiosk-sim", allimiBin, simArgs(broker, cred, kdata, "--wait", "--window", slowWindow, "--timeout", "5m")...)
	seen := c.waitStored(t, 1000)
	c.kill()
	require.Less(t, seen, int64(drainRecords), "the kill must land mid-drain")

	c.start(t) // same data, same ports
	sim.wait(t, 5*time.Minute)
	require.NoError(t, sim.err, sim.logText())
	res := parseSim(t, sim.output())
	assert.Zero(t, res.Pending)
	assert.Equal(t, drainRecords, res.Acked)
	assertAllStoredOnce(t, c, broker, cred, kdata)
}

func TestCrash_KioskKilledMidDrainLosesAndDuplicatesNothing(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "crash-kiosk")
	c := startCentral(t, data)
	broker := "tcp://" + c.mqtt

	sim := start(t, "kiosk-sim", allimiBin, simArgs(broker, cred, kdata, "--signups", "5000", "--wait", "--window", slowWindow)...)
	seen := c.waitStored(t, 1000)
	sim.kill()
	require.Less(t, seen, int64(drainRecords), "the kill must land mid-drain")

	// The kiosk comes back after its power cut and drains what is left.
	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--signups", "0", "--wait")...)))
	assert.Zero(t, r.Pending)
	assert.Zero(t, r.Enqueued)
	assertAllStoredOnce(t, c, broker, cred, kdata)
}

func TestKioskSim_WrongPasswordIsAClearErrorAndKeepsTheOutbox(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "wrong-pw")
	c := startCentral(t, data)
	broker := "tcp://" + c.mqtt
	bad := cred
	bad.Password = "not-the-password"

	cmd := exec.Command(allimiBin, simArgs(broker, bad, kdata, "--signups", "3", "--wait", "--timeout", "1m")...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "refused kiosk wrong-pw")
	assert.Contains(t, string(out), "check its user name and password")
	assert.Equal(t, 3, pendingOnDisk(t, broker, cred, kdata), "records stay queued")
	assert.Zero(t, c.stats(t).Records.Stored)

	// With the right password the same records go through.
	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--wait")...)))
	assert.Zero(t, r.Pending)
	assert.EqualValues(t, 3, c.stats(t).Subscribers)
}

func TestKioskSim_BadArgumentsExitWithCode2(t *testing.T) {
	for _, args := range [][]string{
		{"kiosk-sim", "--id", "Bad ID", "--data", t.TempDir()},
		{"kiosk-sim", "--id", "k", "--data", t.TempDir(), "--channels", "pigeon"},
		{"kiosk-sim", "--id", "k", "--data", t.TempDir(), "--signups", "-1"},
	} {
		cmd := exec.Command(allimiBin, args...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "%v", args)
		assert.Equal(t, 2, ee.ExitCode(), "%v: %s", args, out)
		assert.Contains(t, string(out), "allimi:")
	}
}

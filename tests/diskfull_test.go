package tests

import (
	"allimi/internal/testaddr"

	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallDisk mounts a tmpfs of size bytes at a new directory: a disk that
// fills up for real.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (make test on the CI machine runs as root)")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	require.NoError(t, err, "mount tmpfs: %s", out)
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file that leaves about leave bytes free on dir's disk.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(dir, &st))
	free := int64(st.Bavail) * st.Bsize
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for n := free - leave; n > 0; n -= int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), n)]); err != nil {
			break // full a little early: fine
		}
	}
	return path
}

func TestDiskFull_CentralWaitsLosesNothingAndRecovers(t *testing.T) {
	disk := smallDisk(t, "64m")
	data, kdata := filepath.Join(disk, "central"), t.TempDir()
	cred := addKiosk(t, data, "disk-full")
	c := startCentral(t, data)
	broker := "tcp://" + c.mqtt

	const n = 1000
	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--signups", "1000")...)))
	require.Equal(t, n, r.Pending)
	filler := fill(t, disk, 16<<10)
	sim := start(t, "kiosk-sim", allimiBin, simArgs(broker, cred, kdata, "--wait", "--timeout", "5m")...)

	// Central cannot commit: it says so, acknowledges nothing, keeps serving.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(c.logText(), "no space left on device") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	require.Contains(t, c.logText(), "commit failed", "central logs why it is not storing")
	assert.Contains(t, c.logText(), "no space left on device")
	stored := c.stats(t).Records.Stored
	assert.Less(t, stored, int64(n), "the disk filled before everything was stored")

	// Space comes back: everything arrives, once.
	require.NoError(t, os.Remove(filler))
	sim.wait(t, 5*time.Minute)
	require.NoError(t, sim.err, sim.logText())
	res := parseSim(t, sim.output())
	assert.Zero(t, res.Pending)
	assert.Equal(t, n, res.Acked, "the kiosk kept everything until central had it")
	s := c.stats(t)
	assert.EqualValues(t, n, s.Records.Stored, "every record stored once")
	assert.EqualValues(t, n, s.Subscribers)
	assert.Zero(t, s.Records.Rejected)
}

func TestDiskFull_KioskRefusesNewRecordsClearlyAndKeepsItsQueue(t *testing.T) {
	data := t.TempDir()
	disk := smallDisk(t, "32m")
	kdata := filepath.Join(disk, "kiosk")
	cred := addKiosk(t, data, "kiosk-full")
	broker := "tcp://" + testaddr.Free(t) // no central yet: the kiosk is offline

	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--signups", "100")...)))
	require.Equal(t, 100, r.Pending)
	filler := fill(t, disk, 8<<10)

	cmd := exec.Command(allimiBin, simArgs(broker, cred, kdata, "--signups", "2000")...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "a full disk cannot take 2,000 more records")
	assert.Contains(t, string(out), "no space left on device")

	require.NoError(t, os.Remove(filler))
	assert.Equal(t, 100, pendingOnDisk(t, broker, cred, kdata), "what was saved stays saved; nothing half-written")
	c := startCentral(t, data)
	res := parseSim(t, string(runAllimi(t, simArgs("tcp://"+c.mqtt, cred, kdata, "--signups", "1", "--wait")...)))
	assert.Zero(t, res.Pending)
	assert.EqualValues(t, 101, c.stats(t).Records.Stored)
}

// The finding: after a disk-full episode with 5,000 sign-ups queued,
// central's broker session dropped every 10-20 s, the broker re-sent
// thousands of messages at every reconnection, nothing was stored for
// minutes, /healthz said "ok", and only a restart recovered.
func TestDiskFull_BacklogOf5000IsStoredOnceWithoutARestartWhenSpaceReturns(t *testing.T) {
	disk := smallDisk(t, "64m")
	data, kdata := filepath.Join(disk, "central"), t.TempDir()
	cred := addKiosk(t, data, "backlog")
	c := startCentral(t, data)
	broker := "tcp://" + c.mqtt

	const n = 5000
	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--signups", strconv.Itoa(n))...)))
	require.Equal(t, n, r.Pending)
	filler := fill(t, disk, 16<<10)
	// A window as large as the backlog: all 5,000 are in flight to central
	// at once, and again at every resend, while it cannot store them.
	sim := start(t, "kiosk-sim", allimiBin, simArgs(broker, cred, kdata, "--wait", "--timeout", "5m", "--window", strconv.Itoa(n))...)

	// Central says it is not storing, and why, while the disk is full.
	var full readiness
	require.Eventually(t, func() bool {
		full = c.ready(t, "/readyz")
		return full.Code == http.StatusServiceUnavailable && full.Ingest.Error != ""
	}, 60*time.Second, 50*time.Millisecond, "readiness while the disk is full")
	assert.True(t, full.Broker, "its broker is fine: the store is not")
	assert.Contains(t, full.Status, "not storing: disk full: ")
	assert.Contains(t, full.Status, "no space left on device")
	assert.Regexp(t, `\d+ records waiting`, full.Status)
	h := c.ready(t, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, h.Code, "/healthz no longer says ok while nothing is stored")
	assert.Contains(t, h.Status, "not storing: disk full")

	// The bad day: the kiosk sends its whole window again and again while
	// the disk stays full (three resends, some 35 s with its back-off).
	require.Eventually(t, func() bool {
		return strings.Count(sim.logText(), "no ack progress, resending") >= 3
	}, 2*time.Minute, 100*time.Millisecond, "the kiosk resends while central cannot store")
	require.Less(t, c.stats(t).Records.Stored, int64(n), "the disk filled before everything was stored")

	// Space returns: everything is stored within a minute, by the same
	// central process.
	require.NoError(t, os.Remove(filler))
	freed := time.Now()
	require.Eventually(t, func() bool { return c.stats(t).Records.Stored >= n }, 60*time.Second, 50*time.Millisecond,
		"the backlog is stored within a minute of space returning")
	t.Logf("the %d-record backlog was stored %s after space returned", n, time.Since(freed).Round(100*time.Millisecond))
	require.Eventually(t, func() bool { return c.ready(t, "/readyz").Code == http.StatusOK }, 60*time.Second, 50*time.Millisecond)
	ok := c.ready(t, "/readyz")
	assert.Equal(t, "ok", ok.Status)
	assert.True(t, ok.Ingest.Storing)

	sim.wait(t, 2*time.Minute)
	require.NoError(t, sim.err, sim.logText())
	res := parseSim(t, sim.output())
	assert.Zero(t, res.Pending)
	assert.Equal(t, n, res.Acked, "the kiosk kept everything until central had it")
	s := c.stats(t)
	assert.EqualValues(t, n, s.Records.Stored, "every record stored once")
	assert.EqualValues(t, n, s.Subscribers)
	assert.Zero(t, s.Records.Rejected)

	select {
	case <-c.done:
		t.Fatal("central exited")
	default:
	}
	log := c.logText()
	t.Logf("central's broker session: %d reconnections, %d records shed (sent again by the kiosk), %d duplicates received",
		strings.Count(log, "lost the broker"), int(c.metric(t, "allimi_ingest_shed_total")), s.Records.Duplicates)
	assert.NotContains(t, log, "lost the broker", "central's own broker session held throughout")
	assert.NotContains(t, log, "client store quota reached", "the broker dropped nothing for central")
}

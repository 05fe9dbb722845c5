package tests

import (
	"allimi/internal/testaddr"

	"os"
	"os/exec"
	"path/filepath"
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
	r := parseSim(t, string(allimi(t, simArgs(broker, cred, kdata, "--signups", "1000")...)))
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

	r := parseSim(t, string(allimi(t, simArgs(broker, cred, kdata, "--signups", "100")...)))
	require.Equal(t, 100, r.Pending)
	filler := fill(t, disk, 8<<10)

	cmd := exec.Command(allimiBin, simArgs(broker, cred, kdata, "--signups", "2000")...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "a full disk cannot take 2,000 more records")
	assert.Contains(t, string(out), "no space left on device")

	require.NoError(t, os.Remove(filler))
	assert.Equal(t, 100, pendingOnDisk(t, broker, cred, kdata), "what was saved stays saved; nothing half-written")
	c := startCentral(t, data)
	res := parseSim(t, string(allimi(t, simArgs("tcp://"+c.mqtt, cred, kdata, "--signups", "1", "--wait")...)))
	assert.Zero(t, res.Pending)
	assert.EqualValues(t, 101, c.stats(t).Records.Stored)
}

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Debian packages hold the FHS layout and units that make central
// start at boot and the kiosk own the screen. Installing them into a
// Debian 12 tree is tests/install_test.go.
func TestPackage_DebsHoldTheBinariesConfigAndHardenedUnits(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatalf("dpkg-deb: %v (Debian's dpkg)", err)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../scripts/package.sh")
	cmd.Env = append(os.Environ(), "BIN="+filepath.Dir(allimiBin), "OUT="+out, "VERSION=1.2.3")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)

	contents := func(deb string) string {
		b, err := exec.Command("dpkg-deb", "--contents", deb).CombinedOutput()
		require.NoError(t, err, "%s", b)
		return string(b)
	}
	field := func(deb, name string) string {
		b, err := exec.Command("dpkg-deb", "--field", deb, name).CombinedOutput()
		require.NoError(t, err, "%s", b)
		return strings.TrimSpace(string(b))
	}

	central := filepath.Join(out, "allimi-central_1.2.3_amd64.deb")
	c := contents(central)
	for _, p := range []string{"./usr/bin/allimi", "./etc/allimi/central.yaml", "./lib/systemd/system/allimi-central.service",
		"./lib/systemd/system/allimi-central-worker@.service", "./etc/allimi/worker.env"} {
		assert.Contains(t, c, p)
	}
	assert.Regexp(t, `drwxr-xr-x root/root\s+0 \S+ \S+ \./\n`, c, "the package must not change / to 0700")
	assert.Equal(t, "allimi-central", field(central, "Package"))
	assert.Equal(t, "1.2.3", field(central, "Version"))

	kiosk := filepath.Join(out, "allimi-kiosk_1.2.3_amd64.deb")
	k := contents(kiosk)
	assert.Contains(t, k, "./usr/bin/allimi-kiosk")
	// The voice worker and the speech libraries it is pointed at.
	assert.Contains(t, k, "./usr/bin/allimi-voice")
	assert.Contains(t, k, "./usr/lib/allimi-kiosk/libsherpa-onnx-c-api.so")
	assert.Contains(t, k, "./usr/lib/allimi-kiosk/libonnxruntime.so")
	assert.Contains(t, k, "./lib/systemd/system/allimi-kiosk.service")
	assert.Contains(t, field(kiosk, "Depends"), "cage")

	// Unpacked, the units parse and central's is hardened.
	root := t.TempDir()
	for _, deb := range []string{central, kiosk} {
		b, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput()
		require.NoError(t, err, "%s", b)
	}
	unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/allimi-central.service"))
	require.NoError(t, err)
	for _, line := range []string{"User=allimi", "StateDirectory=allimi", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "Restart=on-failure",
		"ExecStart=/usr/bin/allimi central serve --data /var/lib/allimi --config /etc/allimi/central.yaml"} {
		assert.Contains(t, string(unit), line)
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		b, err := exec.Command("systemd-analyze", "security", "--offline=yes", filepath.Join(root, "lib/systemd/system/allimi-central.service")).CombinedOutput()
		require.NoError(t, err, "%s", b)
		assert.Regexp(t, `Overall exposure level for allimi-central.service: [0-2]\.\d OK`, string(b))
		b, err = exec.Command("systemd-analyze", "security", "--offline=yes", filepath.Join(root, "lib/systemd/system/allimi-central-worker@.service")).CombinedOutput()
		require.NoError(t, err, "the workers' unit parses: %s", b)
		assert.Regexp(t, `Overall exposure level for allimi-central-worker@\S*\.service: [0-2]\.\d OK`, string(b))
		b, err = exec.Command("systemd-analyze", "security", "--offline=yes", filepath.Join(root, "lib/systemd/system/allimi-kiosk.service")).CombinedOutput()
		require.NoError(t, err, "the kiosk's unit parses: %s", b)
	}
	// The shipped config is one central serve accepts.
	cfg := filepath.Join(root, "etc/allimi/central.yaml")
	b, err = exec.Command(allimiBin, "central", "serve", "--config", cfg, "--data", t.TempDir(), "--http", "bad address").CombinedOutput()
	require.Error(t, err)
	assert.NotContains(t, string(b), "central.yaml:", "the config file itself is fine: %s", b)
}

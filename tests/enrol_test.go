package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnrol_OfficialIssuesACodeTheKioskFetchesItsCredentials(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	addKiosk(t, data, "unused") // central's keys and a first kiosk
	c := startCentral(t, data)

	// Central is serving: the command asks it over HTTP.
	var issued struct{ Kiosk, Code string }
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "kiosk", "enrol", "--data", data, "--id", "buyeo-03",
		"--url", "http://"+c.http, "--json"), &issued))
	require.Equal(t, "buyeo-03", issued.Kiosk)

	config := filepath.Join(t.TempDir(), "etc", "kiosk.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(config), 0o700))
	require.NoError(t, os.WriteFile(config, []byte(`{"region":"충남/부여군","staff":[{"id":"o-1","name":"박주무관","pinHash":"x"}]}`), 0o600))
	out, err := exec.Command(kioskBin, "--enrol", issued.Code, "--central", "http://"+c.http, "--config", config).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "enrolled as kiosk buyeo-03")

	fi, err := os.Stat(config)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "readable by the kiosk's user only")
	var cfg struct {
		ID, Username, Password, Broker, CatalogKey, Region string
		Staff                                              []map[string]string
	}
	b, _ := os.ReadFile(config)
	require.NoError(t, json.Unmarshal(b, &cfg))
	assert.Equal(t, "buyeo-03", cfg.ID)
	assert.Equal(t, "tcp://"+c.mqtt, cfg.Broker)
	assert.Equal(t, "충남/부여군", cfg.Region, "the rest of the config stays")
	assert.Len(t, cfg.Staff, 1)

	// The fetched credentials sync.
	cred := kioskCred{ID: cfg.ID, Username: cfg.Username, Password: cfg.Password}
	r := parseSim(t, string(runAllimi(t, simArgs(cfg.Broker, cred, kdata, "--signups", "3", "--wait")...)))
	assert.Zero(t, r.Pending)
	assert.Equal(t, 3, r.Acked)

	// A used code is refused with a clear message.
	out, err = exec.Command(kioskBin, "--enrol", issued.Code, "--central", "http://"+c.http, "--config", config).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "already used")
}

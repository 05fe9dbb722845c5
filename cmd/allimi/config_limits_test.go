package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central"
)

func TestLoadConfigFile_SMSQuotasPerKiosk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.yaml")
	require.NoError(t, os.WriteFile(path, []byte("sms-per-kiosk-hour: 20\nsms-per-kiosk-day: 100\n"), 0o600))
	cmd := serveCmd()
	require.NoError(t, cmd.Flags().Parse([]string{"--sms-per-kiosk-day", "150"}))
	cfg := central.DefaultConfig()
	assert.Equal(t, 60, cfg.Limits.SMSPerHour, "the default")
	require.NoError(t, loadConfigFile(path, &cfg, cmd.Flags()))
	assert.Equal(t, 20, cfg.Limits.SMSPerHour)
	assert.Equal(t, 300, cfg.Limits.SMSPerDay, "--sms-per-kiosk-day was given: the file does not override it")
}

func TestTrustedProxies_FlagAndConfigKey(t *testing.T) {
	cmd := serveCmd()
	err := cmd.Flags().Parse([]string{"--http-trusted-proxies", "10.0.0.5,proxy.local"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `trusted proxy "proxy.local"`)

	cmd = serveCmd()
	require.NoError(t, cmd.Flags().Parse([]string{"--http-trusted-proxies", "10.0.0.5, 10.1.0.0/16"}))
	assert.Equal(t, "10.0.0.5/32,10.1.0.0/16", cmd.Flags().Lookup("http-trusted-proxies").Value.String())

	path := filepath.Join(t.TempDir(), "central.yaml")
	require.NoError(t, os.WriteFile(path, []byte("http-trusted-proxies: 192.168.1.1\n"), 0o600))
	cfg := central.DefaultConfig()
	require.NoError(t, loadConfigFile(path, &cfg, serveCmd().Flags()))
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("192.168.1.1/32")}, cfg.TrustedProxies)

	require.NoError(t, os.WriteFile(path, []byte("http-trusted-proxies: nonsense\n"), 0o600))
	err = loadConfigFile(path, &cfg, serveCmd().Flags())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "http-trusted-proxies: trusted proxy \"nonsense\"")
}

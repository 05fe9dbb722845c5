package main

import (
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

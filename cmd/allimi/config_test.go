package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central"
)

func TestLoadConfigFile_FileSetsWhatFlagsDoNotAndFlagsWin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
data: /var/lib/allimi
http: 0.0.0.0:8080
link-base: https://allimi.example.kr
providers:
  kakao:
    url: https://api-alimtalk.cloud.toast.com
    appKey: real-app-key
    secretKey: real-secret
    timeout: 5s
    rate: 500
  sms:
    sendNo: "0212345678"
`), 0o600))
	cmd := serveCmd()
	require.NoError(t, cmd.Flags().Parse([]string{"--http", "127.0.0.1:9999"}))
	cfg := central.DefaultConfig()
	require.NoError(t, loadConfigFile(path, &cfg, cmd.Flags()))
	assert.Equal(t, "/var/lib/allimi", cfg.Data)
	assert.Equal(t, "https://allimi.example.kr", cfg.Dispatch.LinkBase)
	assert.Equal(t, "https://api-alimtalk.cloud.toast.com", cfg.Providers.Kakao.URL)
	assert.Equal(t, "real-app-key", cfg.Providers.Kakao.AppKey)
	assert.Equal(t, 5*time.Second, cfg.Providers.Kakao.Timeout)
	assert.EqualValues(t, 500, cfg.Providers.Kakao.Rate)
	assert.Equal(t, "0212345678", cfg.Providers.SMS.SendNo)
	assert.NotEmpty(t, cfg.Providers.SMS.AppKey, "what the file leaves out keeps its default")

	flagged := central.DefaultConfig()
	require.NoError(t, loadConfigFile(path, &flagged, cmd.Flags()))
	assert.Equal(t, central.DefaultConfig().HTTP, flagged.HTTP, "--http was given: the file does not override it")
}

func TestLoadConfigFile_UnknownKeyIsAClearError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "central.yaml")
	require.NoError(t, os.WriteFile(path, []byte("htpp: 1.2.3.4:80\n"), 0o600))
	cfg := central.DefaultConfig()
	err := loadConfigFile(path, &cfg, serveCmd().Flags())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "htpp")
	assert.Contains(t, err.Error(), path)
}

func TestLoadConfigFile_DispatchSettingsAndTheirLimits(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("senders: 8\nbreaker-failures: 3\nbreaker-cooldown: 1m\nretry-horizon: 2h\n"), 0o600))
	cmd := serveCmd()
	require.NoError(t, cmd.Flags().Parse([]string{"--senders", "2"}))
	cfg := central.DefaultConfig()
	require.NoError(t, loadConfigFile(good, &cfg, cmd.Flags()))
	assert.Equal(t, central.DefaultConfig().Dispatch.Senders, cfg.Dispatch.Senders, "--senders was given: the file does not override it")
	assert.Equal(t, 3, cfg.Dispatch.BreakerFailures)
	assert.Equal(t, time.Minute, cfg.Dispatch.BreakerCooldown)
	assert.Equal(t, 2*time.Hour, cfg.Dispatch.Horizon)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("senders: 0\n"), 0o600))
	cfg = central.DefaultConfig()
	err := loadConfigFile(bad, &cfg, serveCmd().Flags())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "senders 0: must be 1 to 64")
	var u usageError
	assert.True(t, asUsage(err, &u), "exit code 2")
}

func TestConfigFile_TLSKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tls.yaml")
	require.NoError(t, os.WriteFile(path, []byte("tls-cert: /etc/allimi/broker.pem\ntls-key: /etc/allimi/broker-key.pem\n"+
		"tls-server-ca: /etc/allimi/ca.pem\ntls-require-client-cert: true\npublic-broker: ssl://central.example.kr:8883\n"), 0o600))
	cmd := serveCmd()
	require.NoError(t, cmd.Flags().Parse([]string{"--tls-key", "/run/key.pem"}))
	cfg := central.DefaultConfig()
	require.NoError(t, loadConfigFile(path, &cfg, cmd.Flags()))
	assert.Equal(t, "/etc/allimi/broker.pem", cfg.TLSCert)
	assert.Empty(t, cfg.TLSKey, "--tls-key was given: the file does not override it (the flag's value is set by cobra, not here)")
	assert.Equal(t, "/etc/allimi/ca.pem", cfg.TLSServerCA)
	assert.True(t, cfg.TLSRequireClientCert)
	assert.Equal(t, "ssl://central.example.kr:8883", cfg.PublicBroker)
}

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

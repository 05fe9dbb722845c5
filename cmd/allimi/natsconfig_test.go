package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/central/pg"
	"allimi/internal/pgtest"
)

// runNATSConfig runs `central nats-config` with args.
func runNATSConfig(t *testing.T, args ...string) error {
	t.Helper()
	c := centralCmd()
	c.SetArgs(append([]string{"nats-config"}, args...))
	c.SetOut(new(strings.Builder))
	c.SetErr(new(strings.Builder))
	return c.Execute()
}

func TestNATSConfig_WritesEveryKioskAndCentral(t *testing.T) {
	data := t.TempDir()
	st, keys, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	a, err := st.AddKiosk("sejong-01")
	require.NoError(t, err)
	b, err := st.AddKiosk("sejong-02")
	require.NoError(t, err)
	require.NoError(t, st.Close())

	out := filepath.Join(t.TempDir(), "nats.conf")
	js := t.TempDir()
	require.NoError(t, runNATSConfig(t, "--data", data, "--out", out, "--listen", "127.0.0.1:4222", "--mqtt", "0.0.0.0:1883",
		"--jetstream-dir", js, "--cluster-listen", "10.0.0.1:6222", "--routes", "nats://10.0.0.1:6222,nats://10.0.0.2:6222,nats://10.0.0.3:6222"))
	fi, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "password hashes")
	b2, err := os.ReadFile(out)
	require.NoError(t, err)
	conf := string(b2)
	for _, want := range []string{`listen: "127.0.0.1:4222"`, `listen: "0.0.0.0:1883"`, `store_dir: "` + js + `"`,
		`user: "kiosk-sejong-01"`, `user: "kiosk-sejong-02"`, `user: "allimi-central"`, `listen: "10.0.0.1:6222"`,
		`routes: ["nats://10.0.0.1:6222", "nats://10.0.0.2:6222", "nats://10.0.0.3:6222"]`, `stream_replicas: 3`, `server_name: "allimi-`} {
		assert.Contains(t, conf, want)
	}
	for _, secret := range []string{a.Password, b.Password, keys.BrokerPassword} {
		assert.NotContains(t, conf, secret, "no password in clear")
	}
	// Central's hash is of keys.json's broker password.
	i := strings.Index(conf, `user: "allimi-central"`)
	require.Positive(t, i)
	_, rest, _ := strings.Cut(conf[i:], `password: "`)
	hash, _, _ := strings.Cut(rest, `"`)
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte(keys.BrokerPassword)))
}

func TestNATSConfig_Refuses(t *testing.T) {
	data := t.TempDir()
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	out := filepath.Join(t.TempDir(), "nats.conf")
	base := []string{"--out", out, "--jetstream-dir", t.TempDir()}
	for name, c := range map[string]struct {
		args  []string
		want  string
		usage bool
	}{
		"postgres unreachable":    {append([]string{"--store", "postgres://allimi:secret@127.0.0.1:1/allimi?connect_timeout=2", "--data", data}, base...), "127.0.0.1:1", false},
		"store not postgres":      {append([]string{"--store", "mysql://db", "--data", data}, base...), "postgres://", true},
		"no data directory":       {append([]string{"--data", filepath.Join(data, "missing")}, base...), "central.db", true},
		"routes without listener": {append([]string{"--data", data, "--routes", "nats://10.0.0.1:6222"}, base...), "--cluster-listen", true},
		"listener without routes": {append([]string{"--data", data, "--cluster-listen", "10.0.0.1:6222"}, base...), "--routes", true},
		"bad address":             {append([]string{"--data", data, "--mqtt", "1883"}, base...), "MQTT address", true},
		"bad route":               {append([]string{"--data", data, "--cluster-listen", "10.0.0.1:6222", "--routes", "10.0.0.1:6222"}, base...), "nats://", true},
	} {
		err := runNATSConfig(t, c.args...)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
		assert.NotContains(t, err.Error(), "secret", "%s: the store's password is not shown", name)
		var u usageError
		assert.Equal(t, c.usage, asUsage(err, &u), "%s: a usage error (exit 2)", name)
		_, statErr := os.Stat(out)
		assert.True(t, os.IsNotExist(statErr), "%s: no file written", name)
	}
}

// On PostgreSQL the kiosks are read from the database (while central
// serves), central's password from keys.json in --data.
func TestNATSConfig_FromPostgres(t *testing.T) {
	url := pgtest.URL(t)
	_, err := pg.Migrate(context.Background(), url)
	require.NoError(t, err)
	keysDir := t.TempDir()
	keys, err := keyring.Load(keysDir)
	require.NoError(t, err)
	st, err := pg.Open(context.Background(), url, pg.WithKeys(keys))
	require.NoError(t, err)
	a, err := st.AddKiosk("sejong-01")
	require.NoError(t, err)
	require.NoError(t, st.Close())

	out := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, runNATSConfig(t, "--store", url, "--data", keysDir, "--out", out, "--jetstream-dir", t.TempDir()))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	conf := string(b)
	assert.Contains(t, conf, `user: "kiosk-sejong-01"`)
	assert.Contains(t, conf, `user: "allimi-central"`)
	assert.NotContains(t, conf, a.Password)

	// The server's listeners are recorded for central serve --uplink, and
	// writing it again updates them.
	require.NoError(t, runNATSConfig(t, "--store", url, "--data", keysDir, "--out", out, "--jetstream-dir", t.TempDir(),
		"--name", "n1", "--listen", "10.0.0.1:4222", "--mqtt", "10.0.0.1:1883"))
	require.NoError(t, runNATSConfig(t, "--store", url, "--data", keysDir, "--out", out, "--jetstream-dir", t.TempDir(),
		"--name", "n1", "--listen", "10.0.0.1:4222", "--mqtt", "10.0.0.1:1993"))
	st, err = pg.Open(context.Background(), url)
	require.NoError(t, err)
	defer st.Close()
	servers, err := st.NATSServers()
	require.NoError(t, err)
	assert.Contains(t, servers, pg.NATSServer{Name: "n1", Listen: "10.0.0.1:4222", MQTT: "10.0.0.1:1993"})
}

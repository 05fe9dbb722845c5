package natsconf

import (
	"testing"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// hash is a bcrypt hash (of "pw", cost 4).
const hash = "$2a$04$1G1n8l5x5pJ0k3sZy9F6Eus2ZJq0Qm3Qf1v8kqz7bQyq9Xn3l6o8W"

func config() Config {
	return Config{Name: "n1", Listen: "127.0.0.1:4222", MQTT: "0.0.0.0:1883", JetStreamDir: `/srv/nats "js"\dir`,
		CentralPasswordHash: hash, Kiosks: []allimi.KioskUser{{ID: "k1", Username: "kiosk-k1", PasswordHash: hash}}}
}

func TestRender_NATSReadsWhatWasMeant(t *testing.T) {
	b, err := config().Render()
	require.NoError(t, err)
	m, err := conf.Parse(string(b))
	require.NoError(t, err, string(b))
	assert.Equal(t, `/srv/nats "js"\dir`, m["jetstream"].(map[string]any)["store_dir"], "quotes and backslashes escaped")
	users := m["authorization"].(map[string]any)["users"].([]any)
	require.Len(t, users, 2)
	central, kiosk := users[0].(map[string]any), users[1].(map[string]any)
	assert.Equal(t, CentralUsername, central["user"])
	assert.Equal(t, hash, central["password"], "a quoted $ is no variable")
	cperms := central["permissions"].(map[string]any)
	assert.Equal(t, []any{"allimi", "allimi.>", "$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>"}, cperms["publish"].(map[string]any)["allow"])
	assert.Equal(t, []any{"allimi", "allimi.>", "_INBOX.>"}, cperms["subscribe"].(map[string]any)["allow"])
	assert.NotContains(t, central, "allowed_connection_types", "central's workers speak NATS, its ingest MQTT")
	assert.Equal(t, "kiosk-k1", kiosk["user"])
	assert.Equal(t, []any{"MQTT"}, kiosk["allowed_connection_types"])
	perms := kiosk["permissions"].(map[string]any)
	assert.Equal(t, []any{"allimi.v1.kiosk.k1.up", "allimi.v1.kiosk.k1.req"}, perms["publish"].(map[string]any)["allow"])
	assert.Equal(t, []any{"allimi.v1.kiosk.k1.ack", "allimi.v1.kiosk.k1.reply", "allimi.v1.catalog", "allimi.v1.catalog.>"},
		perms["subscribe"].(map[string]any)["allow"])
	assert.NotContains(t, m, "cluster", "a single server")
	assert.NotContains(t, m["mqtt"], "stream_replicas")
}

func TestRender_Cluster(t *testing.T) {
	for _, c := range []struct {
		name     string
		cluster  Cluster
		replicas int64
	}{
		{"every server in the routes", Cluster{Name: "a", Listen: "10.0.0.1:6222", Routes: []string{"nats://10.0.0.1:6222", "nats://10.0.0.2:6222", "nats://10.0.0.3:6222"}}, 3},
		{"the others only", Cluster{Name: "a", Listen: "10.0.0.1:6222", Routes: []string{"nats://10.0.0.2:6222", "nats://10.0.0.3:6222"}}, 3},
		{"two servers", Cluster{Name: "a", Listen: "10.0.0.1:6222", Routes: []string{"nats://10.0.0.2:6222"}}, 2},
		{"five servers, three copies", Cluster{Name: "a", Listen: "10.0.0.1:6222", Routes: []string{"nats://10.0.0.2:6222", "nats://10.0.0.3:6222", "nats://10.0.0.4:6222", "nats://10.0.0.5:6222"}}, 3},
		{"as told", Cluster{Name: "a", Listen: "10.0.0.1:6222", Routes: []string{"nats://10.0.0.2:6222", "nats://10.0.0.3:6222"}, Replicas: 1}, 1},
	} {
		cfg := config()
		cfg.Cluster = &c.cluster
		b, err := cfg.Render()
		require.NoError(t, err, c.name)
		m, err := conf.Parse(string(b))
		require.NoError(t, err, c.name)
		assert.Equal(t, c.replicas, m["mqtt"].(map[string]any)["stream_replicas"], c.name)
		assert.Equal(t, "a", m["cluster"].(map[string]any)["name"], c.name)
		assert.Len(t, m["cluster"].(map[string]any)["routes"], len(c.cluster.Routes), c.name)
	}
}

func TestRender_Refuses(t *testing.T) {
	for name, change := range map[string]func(*Config){
		"no name":                func(c *Config) { c.Name = "" },
		"bad listen":             func(c *Config) { c.Listen = "4222" },
		"bad MQTT":               func(c *Config) { c.MQTT = "" },
		"no JetStream directory": func(c *Config) { c.JetStreamDir = "" },
		"central in clear":       func(c *Config) { c.CentralPasswordHash = "secret" },
		"kiosk in clear":         func(c *Config) { c.Kiosks[0].PasswordHash = "secret" },
		"kiosk id":               func(c *Config) { c.Kiosks[0].ID = "K 1" },
		"user name not the id's": func(c *Config) { c.Kiosks[0].Username = "kiosk-k2" },
		"a hash with a quote":    func(c *Config) { c.Kiosks[0].PasswordHash = hash[:59] + `"` },
		"cluster without routes": func(c *Config) { c.Cluster = &Cluster{Name: "a", Listen: "10.0.0.1:6222"} },
		"route not nats://": func(c *Config) {
			c.Cluster = &Cluster{Name: "a", Listen: "10.0.0.1:6222", Routes: []string{"10.0.0.2:6222"}}
		},
	} {
		cfg := config()
		cfg.Kiosks = append([]allimi.KioskUser(nil), cfg.Kiosks...)
		change(&cfg)
		_, err := cfg.Render()
		assert.Error(t, err, name)
	}
}

func TestSubjects(t *testing.T) {
	assert.Equal(t, "allimi.v1.kiosk.*.up", Subject("allimi/v1/kiosk/+/up"))
	assert.Equal(t, []string{"allimi.v1.catalog", "allimi.v1.catalog.>"}, Subjects("allimi/v1/catalog/#"))
	assert.Equal(t, []string{"allimi.v1.kiosk.k1.ack"}, Subjects("allimi/v1/kiosk/k1/ack"))
}

package central

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/pg"
)

func TestMQTTOfUplink(t *testing.T) {
	servers := []pg.NATSServer{
		{Name: "n1", Listen: "10.0.0.1:4222", MQTT: "10.0.0.1:1883"},
		{Name: "n2", Listen: "0.0.0.0:4223", MQTT: "0.0.0.0:1884"},
		{Name: "n3", Listen: "10.0.0.3:4222", MQTT: "[::]:1885"},
	}
	got, err := mqttOfUplink([]string{"nats://10.0.0.1:4222", " nats://nats-2.local:4223", "nats://10.0.0.3:4222"}, servers)
	require.NoError(t, err)
	assert.Equal(t, []string{"tcp://10.0.0.1:1883", "tcp://nats-2.local:1884", "tcp://10.0.0.3:1885"}, got)

	_, err = mqttOfUplink([]string{"nats://10.0.0.9:4222"}, servers)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nats-config --store")
	assert.Contains(t, err.Error(), "--uplink-mqtt")
	_, err = mqttOfUplink([]string{"tcp://10.0.0.1:4222"}, servers)
	assert.ErrorContains(t, err, "want nats://host:port")
}

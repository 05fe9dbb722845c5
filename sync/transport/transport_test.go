package transport

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConn_BrokersOneOrSeveral(t *testing.T) {
	for broker, want := range map[string][]string{
		"tcp://10.0.0.1:1883":                            {"tcp://10.0.0.1:1883"},
		"tcp://10.0.0.1:1883,tcp://10.0.0.2:1883":        {"tcp://10.0.0.1:1883", "tcp://10.0.0.2:1883"},
		" ssl://a.example:8883 , ssl://b.example:8883 ,": {"ssl://a.example:8883", "ssl://b.example:8883"},
		"": nil,
	} {
		c := Conn{Broker: broker}
		assert.Equal(t, want, c.Brokers(), "%q", broker)
		if len(want) == 0 {
			continue
		}
		o := c.ClientOptions()
		var got []string
		for _, u := range o.Servers {
			got = append(got, u.String())
		}
		assert.Equal(t, want, got, "paho tries every server, in order")
	}
}

func TestConn_BuffersPlainTCPOnly(t *testing.T) {
	assert.NotNil(t, Conn{Broker: "tcp://a:1883,mqtt://b:1883"}.ClientOptions().CustomOpenConnectionFn)
	assert.Nil(t, Conn{Broker: "ssl://a:8883"}.ClientOptions().CustomOpenConnectionFn)
	assert.Nil(t, Conn{Broker: "tcp://a:1883,ssl://b:8883"}.ClientOptions().CustomOpenConnectionFn, "TLS buffers its records itself")
}

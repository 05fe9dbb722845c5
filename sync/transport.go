package sync

import (
	"crypto/tls"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Conn describes how to reach a broker.
type Conn struct {
	Broker   string // tcp://host:port, ssl://host:port
	ClientID string
	Username string
	Password string
	TLS      *tls.Config
}

// ClientOptions returns paho options both sides share: a stable client id and
// a persistent session (the broker keeps QoS 1 messages for us while we are
// away), manual acknowledgement (a message is acknowledged to the broker only
// once what it carries is committed), and reconnection with exponential
// backoff capped at MaxReconnectInterval.
func (c Conn) ClientOptions() *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(c.Broker).
		SetClientID(c.ClientID).
		SetUsername(c.Username).
		SetPassword(c.Password).
		SetCleanSession(false).
		SetAutoAckDisabled(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(500 * time.Millisecond).
		SetMaxReconnectInterval(10 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetKeepAlive(15 * time.Second).
		SetPingTimeout(5 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetOrderMatters(true).
		SetProtocolVersion(4)
	if c.TLS != nil {
		o.SetTLSConfig(c.TLS)
	}
	return o
}

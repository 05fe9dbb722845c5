package transport

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/proxy"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Conn describes how to reach a broker.
type Conn struct {
	// Broker is tcp://host:port or ssl://host:port; or several, separated
	// by commas (the servers of a NATS cluster), tried in order at every
	// connection, so that a client moves to another server when its own
	// dies.
	Broker   string
	ClientID string
	Username string
	Password string
	TLS      *tls.Config
	// Clean asks for a clean session: for a client that only publishes
	// (central's publisher on a NATS uplink, one per process), whose
	// session the broker need not keep.
	Clean bool
}

// ClientOptions returns paho options both sides share: a stable client id and
// a persistent session (the broker keeps QoS 1 messages for us while we are
// away), manual acknowledgement (a message is acknowledged to the broker only
// once what it carries is committed), and reconnection with exponential
// backoff capped at MaxReconnectInterval.
func (c Conn) ClientOptions() *mqtt.ClientOptions {
	o := mqtt.NewClientOptions()
	brokers := c.Brokers()
	if len(brokers) == 0 {
		brokers = []string{c.Broker} // paho says what is wrong with it
	}
	plain := true
	for _, b := range brokers {
		o.AddBroker(b)
		if u, err := url.Parse(b); err != nil || (u.Scheme != "tcp" && u.Scheme != "mqtt") {
			plain = false
		}
	}
	o.SetClientID(c.ClientID).
		SetUsername(c.Username).
		SetPassword(c.Password).
		SetCleanSession(c.Clean).
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
	if plain {
		o.SetCustomOpenConnectionFn(openBuffered)
	}
	return o
}

// Brokers are the broker URLs in Broker, in order.
func (c Conn) Brokers() []string {
	var out []string
	for b := range strings.SplitSeq(c.Broker, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// openBuffered opens a plain TCP connection the way paho does (its dialer,
// a SOCKS proxy from ALL_PROXY if one is set) and buffers what is read from
// it. Paho reads each packet's fixed header a byte at a time: on a bare TCP
// connection that is three or more read system calls for every message and
// every PUBACK, which at a kiosk's 1,000 records in flight costs more CPU
// than decoding them. A TLS connection buffers its records itself.
func openBuffered(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	d := o.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: o.ConnectTimeout}
	}
	conn, err := proxy.FromEnvironmentUsing(d).Dial("tcp", uri.Host)
	if err != nil {
		return nil, err
	}
	return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}, nil
}

// bufferedConn is a connection whose reads go through a buffer; paho reads
// it from one goroutine.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ClientTLS builds a TLS configuration for a kiosk: ca is the PEM file of
// the CA that signed the broker's certificate (empty: the system's roots);
// cert and key, when given, are the kiosk's client certificate.
func ClientTLS(ca, cert, key string) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("TLS CA: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA %s: no PEM certificate in it", ca)
		}
	}
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("a TLS client certificate needs both its certificate and its key")
	}
	if cert != "" {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate: %w", err)
		}
		t.Certificates = []tls.Certificate{c}
	}
	return t, nil
}

// ClientTLSFrom is ClientTLS for values that are each either PEM text or
// the path of a PEM file: enrolment gives a kiosk its CA, certificate and
// key as PEM, kept in its config file (mode 0600) rather than in files of
// their own, which the kiosk's user could not create in /etc/allimi.
func ClientTLSFrom(ca, cert, key string) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := pemOrFile(ca)
		if err != nil {
			return nil, fmt.Errorf("TLS CA: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA: no PEM certificate in it")
		}
	}
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("a TLS client certificate needs both its certificate and its key")
	}
	if cert != "" {
		cb, err := pemOrFile(cert)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate: %w", err)
		}
		kb, err := pemOrFile(key)
		if err != nil {
			return nil, fmt.Errorf("TLS client key: %w", err)
		}
		c, err := tls.X509KeyPair(cb, kb)
		if err != nil {
			return nil, fmt.Errorf("TLS client certificate: %w", err)
		}
		t.Certificates = []tls.Certificate{c}
	}
	return t, nil
}

func pemOrFile(s string) ([]byte, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-----BEGIN ") {
		return []byte(s), nil
	}
	return os.ReadFile(s)
}

package central

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"allimi/central/ingest"
	"allimi/central/keyring"
	"allimi/central/kioskca"
	"allimi/sync/wire"
)

// Central's own identity on the embedded broker.
const (
	centralUsername = "allimi-central"
	centralClientID = "allimi-central"
)

// authHook authenticates kiosks against the registry and confines each to
// its own topics: it may publish only on its up topic and read only its ack
// topic and the catalogs.
type authHook struct {
	mqtt.HookBase
	store           *opened
	centralPassword []byte
	kioskCA         *x509.Certificate // nil without TLS
}

func (h *authHook) ID() string { return "allimi-auth" }

func (h *authHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

// OnConnectAuthenticate also pins the client id to the user: a kiosk that
// connected with another kiosk's client id would take over its session.
func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user := string(pk.Connect.Username)
	if user == centralUsername {
		// Central's tools (benchmarks, probes) use client ids of their own
		// under central's name, so as not to take over the ingest session.
		ok := subtle.ConstantTimeCompare(pk.Connect.Password, h.centralPassword) == 1 &&
			(cl.ID == centralClientID || strings.HasPrefix(cl.ID, centralClientID+"-"))
		if !ok {
			h.Log.Warn("central credentials refused", "remote", cl.Net.Remote)
		}
		return ok
	}
	if h.locked(cl, user) {
		return false
	}
	id, ok := h.store.CheckKiosk(user, string(pk.Connect.Password))
	if !ok || cl.ID != "allimi-kiosk-"+id {
		h.Log.Warn("kiosk refused", "username", user, "client", cl.ID, "remote", cl.Net.Remote)
		h.failed(cl, user)
		return false
	}
	// A certificate central gave one kiosk is that kiosk's only: with
	// another kiosk's password it would hide who connected.
	if tc, isTLS := cl.Net.Conn.(*tls.Conn); isTLS && h.kioskCA != nil {
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 &&
			certs[0].CheckSignatureFrom(h.kioskCA) == nil && certs[0].Subject.CommonName != user {
			h.Log.Warn("kiosk refused: its client certificate is another kiosk's", "username", user,
				"certificate", certs[0].Subject.CommonName, "remote", cl.Net.Remote)
			return false
		}
	}
	return true
}

func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	user := string(cl.Properties.Username)
	if user == centralUsername {
		return true
	}
	id, ok := strings.CutPrefix(user, "kiosk-")
	if !ok {
		return false
	}
	if write {
		return topic == wire.UpTopic(id) || topic == wire.RequestTopic(id)
	}
	return topic == wire.AckTopic(id) || topic == wire.ReplyTopic(id) || strings.HasPrefix(topic, "allimi/v1/catalog/")
}

// embeddedBroker is the mochi-mqtt broker central runs unless told to use
// an external one.
type embeddedBroker struct {
	server *mqtt.Server
	socket string // central's own way in: a unix socket, never on the network
	// preLogin is the TCP listener's accounting of sockets not logged in.
	preLogin *preLoginListener
	log      *slog.Logger
}

// handOver gives in every kiosk record the broker accepts, as the
// kiosk's connection reads it: an inline subscription, instead of
// central's MQTT client subscribing over the socket. That spares each
// record a copy, a write to central's socket and a read from it, and a
// PUBACK back: about a sixth of the CPU of a kiosk's drain. Nothing is
// less durable for it: the broker acknowledges a kiosk's publish before
// any subscriber has it either way, and the kiosk keeps every record until
// central's own ack, after the commit, says it is stored.
func (b *embeddedBroker) handOver(in *ingest.Service) error {
	in.UpInline = true
	return b.server.Subscribe(wire.UpFilter, 1, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		in.Offer(pk.TopicName, bytes.Clone(pk.Payload))
	})
}

func startBroker(cfg Config, store *opened, keys *keyring.Keys, ca *kioskca.CA, log *slog.Logger) (*embeddedBroker, error) {
	caps := mqtt.NewDefaultServerCapabilities()
	// Kiosks keep their own windows far below this; it bounds a misbehaving
	// client. Central holds at most ingestHold unacknowledged records and
	// sheds the rest itself, so the broker never reaches this for central.
	caps.MaximumInflight = 2 * ingest.Hold
	caps.MaximumPacketSize = maxInboundPacket
	// The inline client publishes catalog bodies, far larger than any packet a client may send.
	srv := mqtt.New(&mqtt.Options{Capabilities: caps, InlineClient: true, Logger: log.With("component", "broker")})
	hook := &authHook{store: store, centralPassword: []byte(keys.BrokerPassword)}
	if ca != nil {
		hook.kioskCA = ca.Cert
	}
	if err := srv.AddHook(hook, nil); err != nil {
		return nil, err
	}
	if err := srv.AddHook(&preLoginHook{}, nil); err != nil {
		return nil, err
	}
	tlsCfg, err := brokerTLS(cfg, ca)
	if err != nil {
		return nil, err
	}
	pre, ln, err := listenPreLogin(cfg.MQTT, tlsCfg, log.With("component", "broker"))
	if err != nil {
		return nil, fmt.Errorf("MQTT listener on %s: %w", cfg.MQTT, err)
	}
	if err := srv.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("MQTT listener on %s: %w", cfg.MQTT, err)
	}
	name := "broker.sock" // the bbolt file's lock keeps one central per data directory
	if cfg.Store != "" {
		// Centrals on one database may share the directory of keys.json.
		name = fmt.Sprintf("broker-%d.sock", os.Getpid())
	}
	sock, err := filepath.Abs(filepath.Join(cfg.Data, name))
	if err != nil {
		return nil, err
	}
	if len(sock) > 100 { // sun_path is 108 bytes
		f, err := os.CreateTemp("", "allimi-broker-*.sock")
		if err != nil {
			return nil, err
		}
		sock = f.Name()
		f.Close()
	}
	if err := srv.AddListener(listeners.NewUnixSock(listeners.Config{ID: "central", Address: sock})); err != nil {
		return nil, fmt.Errorf("broker socket %s: %w", sock, err)
	}
	if err := srv.Serve(); err != nil {
		return nil, err
	}
	return &embeddedBroker{server: srv, socket: sock, preLogin: pre, log: log.With("component", "broker")}, nil
}

// PublishRetained publishes a retained message through the broker's inline
// client: no packet is read, so maxInboundPacket does not apply. Kiosks
// receive it as QoS 1 (server.go processPublish).
func (b *embeddedBroker) publishRetained(topic string, payload []byte) error {
	if err := b.server.Publish(topic, payload, true, 1); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// PublishRetained publishes a retained message: into the embedded broker
// directly, else through the ingest's connection to the external one.
func (s *Server) publishRetained(topic string, payload []byte) error {
	if s.broker != nil {
		return s.broker.publishRetained(topic, payload)
	}
	s.ingest.PublishRetained(topic, payload)
	return nil
}

// Close ends every connection and waits for it before it closes the broker:
// mochi v2.7.9's Close can deadlock otherwise. Its closeListenerClients
// read-locks the client list twice (Clients.GetByListener calls Len), and
// a clean-session client ending at that moment asks for the write lock in
// between (attachClient's Clients.Delete): both wait for ever, and central
// with them (seen in `make test`: a test's cleanup hung 18 minutes).
func (b *embeddedBroker) Close() error {
	_ = b.preLogin.Close() // refuses new sockets, ends every one accepted
	for _, cl := range b.server.Clients.GetAll() {
		if cl.Net.Conn != nil { // not the inline client
			cl.Stop(errors.New("central is stopping"))
		}
	}
	ended := make(chan struct{})
	go func() { b.server.Listeners.ClientsWg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		// Not expected: every connection was closed. mochi's Close waits
		// for them too, and says nothing of which.
		b.log.Warn("broker connections still open after they were closed: closing the broker anyway")
	}
	err := b.server.Close()
	os.Remove(b.socket)
	return err
}

// brokerTLS builds the listener's TLS configuration: a certificate and key
// turn TLS on. Kiosks' client certificates are checked against central's
// kiosk CA and the --tls-ca file: required with either
// --tls-require-client-cert or --tls-ca, else checked when given.
func brokerTLS(cfg Config, ca *kioskca.CA) (*tls.Config, error) {
	if cfg.TLSCert == "" && cfg.TLSKey == "" {
		if cfg.TLSCA != "" {
			return nil, fmt.Errorf("--tls-ca needs --tls-cert and --tls-key")
		}
		if cfg.TLSRequireClientCert {
			return nil, fmt.Errorf("--tls-require-client-cert needs --tls-cert and --tls-key")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	t := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	pool := x509.NewCertPool()
	if cfg.TLSCA != "" {
		if pool, err = loadPool(cfg.TLSCA); err != nil {
			return nil, err
		}
	}
	if ca != nil {
		pool.AddCert(ca.Cert)
	}
	t.ClientCAs, t.ClientAuth = pool, tls.VerifyClientCertIfGiven
	if cfg.TLSCA != "" || cfg.TLSRequireClientCert {
		t.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return t, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS CA %s: no PEM certificate in it", path)
	}
	return pool, nil
}

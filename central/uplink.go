package central

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"allimi/central/jsuplink"
	"allimi/central/natsconf"
	"allimi/central/pg"
	"allimi/sync/transport"
)

// openUplink connects to the NATS uplink: the JetStream consumer of the
// records (s.uplink), and the MQTT connection through which the ingest
// publishes acks and catalogs, returned, with a client id of this
// process's own and a clean session (it only publishes).
func (s *Server) openUplink(ctx context.Context, cfg Config) (transport.Conn, error) {
	urls, err := jsuplink.ParseURLs(cfg.Uplink)
	if err != nil {
		return transport.Conn{}, err
	}
	mqtt := transport.Conn{Broker: cfg.UplinkMQTT}.Brokers()
	if len(mqtt) == 0 {
		lister, ok := s.store.Store.(interface {
			NATSServers() ([]pg.NATSServer, error)
		})
		if !ok {
			return transport.Conn{}, fmt.Errorf("--uplink: give the servers' MQTT listeners with --uplink-mqtt (only a PostgreSQL store records them)")
		}
		servers, err := lister.NATSServers()
		if err != nil {
			return transport.Conn{}, err
		}
		if mqtt, err = mqttOfUplink(urls, servers); err != nil {
			return transport.Conn{}, err
		}
	}
	host, _ := os.Hostname()
	if s.uplink, err = jsuplink.Open(ctx, jsuplink.Config{URLs: urls, User: natsconf.CentralUsername, Password: s.keys.BrokerPassword,
		Name: fmt.Sprintf("allimi-central %s:%d", host, os.Getpid()), Logger: s.log.With("component", "uplink")}); err != nil {
		return transport.Conn{}, err
	}
	s.ingest.UpInline, s.ingest.RequestsElsewhere = true, true
	return transport.Conn{Broker: strings.Join(mqtt, ","), ClientID: fmt.Sprintf("%s-%s-%d", centralClientID, host, os.Getpid()),
		Username: natsconf.CentralUsername, Password: s.keys.BrokerPassword, Clean: true}, nil
}

// mqttOfUplink finds, for each NATS server of the uplink (nats://host:port,
// as --uplink gives them), the MQTT listener nats-config recorded for it
// (tcp://host:port), through which central publishes what kiosks must
// find retained. A server recorded as listening on every address
// (0.0.0.0:4222) is the uplink's host on those ports.
func mqttOfUplink(uplink []string, servers []pg.NATSServer) ([]string, error) {
	var out []string
	for _, raw := range uplink {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Scheme != "nats" || u.Port() == "" {
			return nil, fmt.Errorf("--uplink %q: want nats://host:port", raw)
		}
		mqtt, ok := "", false
		for _, s := range servers {
			if mqtt, ok = listenerFor(u.Hostname(), u.Port(), s); ok {
				break
			}
		}
		if !ok {
			return nil, fmt.Errorf("--uplink %s: no NATS server with that client listener is recorded in the store: "+
				"write its configuration with `allimi central nats-config --store … --listen %s --mqtt HOST:PORT …`, or give central its MQTT listeners with --uplink-mqtt",
				raw, u.Host)
		}
		out = append(out, mqtt)
	}
	return out, nil
}

// listenerFor is s's MQTT listener as tcp://host:port when s's client
// listener is host:port (or port on every address).
func listenerFor(host, port string, s pg.NATSServer) (string, bool) {
	lh, lp, err := net.SplitHostPort(s.Listen)
	if err != nil || lp != port || !(lh == host || unspecified(lh)) {
		return "", false
	}
	mh, mp, err := net.SplitHostPort(s.MQTT)
	if err != nil {
		return "", false
	}
	if unspecified(mh) {
		mh = host
	}
	return "tcp://" + net.JoinHostPort(mh, mp), true
}

func unspecified(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// sharedClientID is the MQTT client id of a central sharing an external
// broker with others on one database: its host's name and HTTP address,
// which no two centrals share and a restarted one keeps (so the broker
// keeps its session), in the characters every broker takes.
func sharedClientID(httpAddr string) string {
	host, _ := os.Hostname()
	id := []byte(fmt.Sprintf("%s-%s-%s", centralClientID, host, httpAddr))
	for i, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			id[i] = '-'
		}
	}
	return string(id)
}

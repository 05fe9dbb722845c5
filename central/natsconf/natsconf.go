// Package natsconf writes the configuration file of a NATS server (built
// from the Go module go.mod pins, as bin/nats-server) that is central's
// broker at national scale: JetStream, an MQTT listener kiosks reach with
// the paho client they already use, one user per kiosk confined to its own
// topics, and central's user for the whole uplink. `allimi central
// nats-config` and internal/natstest both write their files with it.
//
// A kiosk added while the servers run reaches them by writing the file
// again and reloading it (SIGHUP, or `nats-server --signal reload=PID`):
// users and permissions reload without a restart.
package natsconf

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"allimi"
	"allimi/internal/atomicfile"
	"allimi/sync/catalog"
	"allimi/sync/wire"
)

// CentralUsername is central's user on the broker: the name its embedded
// broker gives it too, so that `central serve --broker … --broker-username`
// reads the same on every broker.
const CentralUsername = "allimi-central"

// MaxPayload is the largest message the servers take (max_payload). A
// catalog body is published, retained, as one message, and JetStream's
// file store, which keeps retained messages, refuses any record over
// 32 MiB; NATS itself warns about payloads over 8 MiB. This is as much as
// the store takes, with room for the subject and headers of a record.
const MaxPayload = 32<<20 - 8<<10

// MaxCatalogBody is the largest catalog body the servers carry: half of
// what kiosks accept (catalog.MaxBodySize). The rest of MaxPayload is
// left for the headers NATS adds to an MQTT message.
const MaxCatalogBody = MaxPayload - 4<<10

// jsAPITimeout bounds MQTT's calls to JetStream in a cluster: longer than
// an election.
const jsAPITimeout = "20s"

// topicRoot is the first level of every topic of Allimi's.
const topicRoot = "allimi"

// Config is one server's configuration.
type Config struct {
	// Name is the server's name (server_name): unique in a cluster and
	// kept across restarts, since JetStream knows its peers by it.
	Name string
	// Listen is the NATS client listener, host:port; Monitor, when set,
	// the HTTP monitoring listener (/healthz).
	Listen, Monitor string
	// MQTT is the MQTT listener kiosks reach, host:port.
	MQTT string
	// JetStreamDir is where JetStream keeps its streams: the MQTT
	// sessions, the messages kept for QoS 1 subscribers and the retained
	// messages (acks, catalogs).
	JetStreamDir string
	// Cluster is nil for a single server.
	Cluster *Cluster
	// CentralPasswordHash is the bcrypt hash of central's password
	// (keyring.Keys.BrokerPassword): NATS checks a "$2a$…" password as a
	// hash, so the file holds no password in clear.
	CentralPasswordHash string
	// Kiosks are the kiosks' logins, each with the bcrypt hash of its
	// password as central keeps it.
	Kiosks []allimi.KioskUser
}

// Cluster is how a server joins the others.
type Cluster struct {
	Name   string   // the same on every server
	Listen string   // this server's route listener, host:port
	Routes []string // nats://host:port of the servers (this one may be among them)
	// Replicas is how many servers keep each of the MQTT streams
	// (sessions, QoS 1 messages, retained messages): 0 for as many as
	// there are servers in Routes and this one, at most 3.
	Replicas int
}

// Write renders c and replaces path with it atomically (mode 0600: the
// file holds password hashes), so that a server reloading it reads the
// old file or the new, never half of one.
func (c Config) Write(path string) error {
	b, err := c.Render()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Render returns the configuration file's text.
func (c Config) Render() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("# Written by `allimi central nats-config`: run it again rather than edit this\n")
	b.WriteString("# file, then reload the server (kill -HUP PID, or nats-server --signal reload=PID).\n")
	kv(&b, "", "server_name", quote(c.Name))
	kv(&b, "", "listen", quote(c.Listen))
	if c.Monitor != "" {
		kv(&b, "", "http", quote(c.Monitor))
	}
	kv(&b, "", "max_payload", strconv.Itoa(MaxPayload))

	b.WriteString("\njetstream {\n")
	kv(&b, "  ", "store_dir", quote(c.JetStreamDir))
	b.WriteString("}\n\nmqtt {\n")
	kv(&b, "  ", "listen", quote(c.MQTT))
	if c.Cluster != nil {
		kv(&b, "  ", "stream_replicas", strconv.Itoa(c.Cluster.replicas()))
		// When a server dies, the streams and consumers it led elect
		// another leader within JetStream's election timeout (4 to 9 s).
		// MQTT's calls to JetStream meanwhile (a session loaded, its
		// subscriptions restored as a client reconnects elsewhere) must
		// outlast that: at the default 5 s a restored subscription that
		// times out is dropped from the session, and what was queued for
		// it with it.
		kv(&b, "  ", "js_api_timeout", quote(jsAPITimeout))
	}
	b.WriteString("}\n")

	if c.Cluster != nil {
		b.WriteString("\ncluster {\n")
		kv(&b, "  ", "name", quote(c.Cluster.Name))
		kv(&b, "  ", "listen", quote(c.Cluster.Listen))
		routes := make([]string, len(c.Cluster.Routes))
		for i, r := range c.Cluster.Routes {
			routes[i] = quote(r)
		}
		kv(&b, "  ", "routes", "["+strings.Join(routes, ", ")+"]")
		b.WriteString("}\n")
	}

	b.WriteString("\nauthorization {\n  users: [\n")
	user(&b, CentralUsername, c.CentralPasswordHash, centralPermissions(), nil)
	for _, k := range c.Kiosks {
		// A kiosk speaks MQTT only: its login opens no NATS connection.
		user(&b, k.Username, k.PasswordHash, kioskPermissions(k.ID), []string{"MQTT"})
	}
	b.WriteString("  ]\n}\n")
	return []byte(b.String()), nil
}

func (c Config) check() error {
	var errs []error
	if c.Name == "" || strings.ContainsAny(c.Name, " \t\r\n\"\\") {
		errs = append(errs, fmt.Errorf("server name %q: a name without spaces or quotes", c.Name))
	}
	for what, addr := range map[string]string{"listen": c.Listen, "MQTT": c.MQTT} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s address %q: want host:port", what, addr))
		}
	}
	if c.Monitor != "" {
		if _, _, err := net.SplitHostPort(c.Monitor); err != nil {
			errs = append(errs, fmt.Errorf("monitor address %q: want host:port", c.Monitor))
		}
	}
	if c.JetStreamDir == "" {
		errs = append(errs, errors.New("no JetStream directory"))
	}
	if !bcryptHash(c.CentralPasswordHash) {
		errs = append(errs, errors.New("central's password hash is no bcrypt hash"))
	}
	for _, k := range c.Kiosks {
		if err := allimi.ValidateKioskID(k.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		if k.Username != allimi.KioskUsername(k.ID) {
			errs = append(errs, fmt.Errorf("kiosk %s: user name %q, want %q", k.ID, k.Username, allimi.KioskUsername(k.ID)))
		}
		if !bcryptHash(k.PasswordHash) {
			errs = append(errs, fmt.Errorf("kiosk %s: its password hash is no bcrypt hash", k.ID))
		}
	}
	if cl := c.Cluster; cl != nil {
		if cl.Name == "" || strings.ContainsAny(cl.Name, " \t\r\n\"\\") {
			errs = append(errs, fmt.Errorf("cluster name %q: a name without spaces or quotes", cl.Name))
		}
		if _, _, err := net.SplitHostPort(cl.Listen); err != nil {
			errs = append(errs, fmt.Errorf("cluster listen address %q: want host:port", cl.Listen))
		}
		if len(cl.Routes) == 0 {
			errs = append(errs, errors.New("a cluster needs routes (nats://host:port of the servers)"))
		}
		for _, r := range cl.Routes {
			if !strings.HasPrefix(r, "nats://") || strings.ContainsAny(r, " \t\r\n\"\\,") {
				errs = append(errs, fmt.Errorf("route %q: want nats://host:port", r))
			}
		}
		if cl.Replicas < 0 || cl.Replicas > 5 {
			errs = append(errs, fmt.Errorf("replicas %d: from 1 to 5 (0 for as many servers as there are, at most 3)", cl.Replicas))
		}
	}
	return errors.Join(errs...)
}

// replicas is Replicas, or as many servers as the routes name with this
// one, at most 3.
func (cl *Cluster) replicas() int {
	if cl.Replicas > 0 {
		return cl.Replicas
	}
	servers := map[string]bool{cl.Listen: true}
	for _, r := range cl.Routes {
		servers[strings.TrimPrefix(r, "nats://")] = true
	}
	return min(len(servers), 3)
}

// bcryptHash says whether h is a bcrypt hash NATS takes as one
// ($2a$, $2b$, $2x$, $2y$ and a cost): anything else it would compare as a
// password in clear.
func bcryptHash(h string) bool {
	if len(h) != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || !strings.ContainsRune("abxy", rune(h[2])) {
		return false
	}
	return !strings.ContainsAny(h, "\"\\ \t\r\n")
}

// permissions are what a user may publish and read, as NATS subjects.
type permissions struct {
	publish, subscribe []string
}

// kioskPermissions confine kiosk id to its own topics: it publishes its
// records and requests, and reads central's acks and replies to it and the
// catalogs. What MQTT needs inside NATS ($MQTT.sub.… delivery subjects of
// its QoS 1 subscriptions, the JetStream API the server calls for its
// sessions and retained messages) the server allows an MQTT client itself.
func kioskPermissions(id string) permissions {
	return permissions{
		publish:   []string{Subject(wire.UpTopic(id)), Subject(wire.RequestTopic(id))},
		subscribe: append([]string{Subject(wire.AckTopic(id)), Subject(wire.ReplyTopic(id))}, Subjects(catalog.Filter)...),
	}
}

// centralPermissions are the whole uplink, as central's embedded broker
// and the Mosquitto configuration give it: every topic under allimi/ (every
// kiosk's records and requests in; acks, replies and catalogs out), and
// the JetStream API and inboxes with which central keeps its own durable
// consumer of the records.
func centralPermissions() permissions {
	all := Subjects(topicRoot + "/#")
	return permissions{
		publish:   append(all, "$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>"),
		subscribe: append(all, "_INBOX.>"),
	}
}

// Subject is the NATS subject of an MQTT topic or of a filter without a
// trailing "#": levels are separated by dots, "+" is "*". Topics here
// have no dots, spaces or NATS wildcards of their own.
func Subject(topic string) string {
	levels := strings.Split(topic, "/")
	for i, l := range levels {
		if l == "+" {
			levels[i] = "*"
		}
	}
	return strings.Join(levels, ".")
}

// Subjects are the subjects an MQTT filter reads: a trailing "#" matches
// its parent level too (MQTT-4.7.1-2), so "a/#" is both "a" and "a.>".
// NATS checks the permission of each: allowing "a.>" alone refuses a
// subscription to "a/#".
func Subjects(filter string) []string {
	if parent, ok := strings.CutSuffix(filter, "/#"); ok {
		s := Subject(parent)
		return []string{s, s + ".>"}
	}
	return []string{Subject(filter)}
}

func user(b *strings.Builder, name, hash string, p permissions, connTypes []string) {
	fmt.Fprintf(b, "    {\n      user: %s\n      password: %s\n", quote(name), quote(hash))
	fmt.Fprintf(b, "      permissions: {\n        publish: {allow: %s}\n        subscribe: {allow: %s}\n      }\n",
		list(p.publish), list(p.subscribe))
	if len(connTypes) > 0 {
		fmt.Fprintf(b, "      allowed_connection_types: %s\n", list(connTypes))
	}
	b.WriteString("    }\n")
}

func kv(b *strings.Builder, indent, key, value string) {
	fmt.Fprintf(b, "%s%s: %s\n", indent, key, value)
}

func list(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// quote makes a double-quoted NATS configuration string, in which "$"
// starts no variable (a bcrypt hash unquoted would be read as one).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

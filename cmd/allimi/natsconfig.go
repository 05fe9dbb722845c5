package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/central/natsconf"
	"allimi/central/pg"
	"allimi/sync/catalog"
)

func centralNATSConfigCmd() *cobra.Command {
	var data, store, out, name, monitor string
	cfg := natsconf.Config{Listen: "127.0.0.1:4222", MQTT: "0.0.0.0:1883", JetStreamDir: "./nats-jetstream"}
	cl := natsconf.Cluster{Name: "allimi"}
	c := &cobra.Command{
		Use:   "nats-config",
		Short: "Write the configuration of a NATS server (JetStream, MQTT for kiosks) with every kiosk's login; run it again and reload the servers when kiosks change",
		Long: `Writes the configuration file of a NATS server (bin/nats-server) that carries
the kiosks' MQTT uplink: JetStream in --jetstream-dir, the MQTT listener kiosks
connect to, and one user per kiosk (its user name and the bcrypt hash of its
password, as central keeps them) that may publish only its own records and
requests and read only its acks, its replies and the catalogs. Central's user,
allimi-central, has the whole uplink; its password is brokerPassword in
keys.json (--data), so run central with
  --broker tcp://MQTT-ADDR --broker-username allimi-central --broker-password PASSWORD

The file is replaced atomically. After a kiosk is added or enrolled, run this
again and reload each running server, which keeps every connection:
  nats-server --signal reload=PID        (or kill -HUP PID)

For a cluster, give each server its own --listen, --mqtt, --jetstream-dir and
--cluster-listen, and all of them the same --routes (nats://host:port of every
server's cluster listener).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cl.Listen != "" || len(cl.Routes) > 0 {
				if cl.Listen == "" || len(cl.Routes) == 0 {
					return usageError{errors.New("a cluster needs both --cluster-listen and --routes")}
				}
				cfg.Cluster = &cl
			}
			if monitor != "" {
				cfg.Monitor = monitor
			}
			if name == "" {
				name = defaultServerName(cfg.Listen)
			}
			cfg.Name = name
			dir, err := filepath.Abs(cfg.JetStreamDir)
			if err != nil {
				return usageError{err}
			}
			cfg.JetStreamDir = dir

			kiosks, tooLarge, err := kioskUsers(store, data)
			if err != nil {
				return err
			}
			keys, err := loadKeys(data)
			if err != nil {
				return err
			}
			hash, err := bcrypt.GenerateFromPassword([]byte(keys.BrokerPassword), bcrypt.DefaultCost)
			if err != nil {
				return err
			}
			cfg.CentralPasswordHash = string(hash)
			cfg.Kiosks = kiosks
			if _, err := cfg.Render(); err != nil {
				return usageError{err}
			}
			if err := cfg.Write(out); err != nil {
				return err
			}
			if store != "" {
				// central serve --uplink finds this server's MQTT
				// listener here.
				if err := recordNATSServer(cmd.Context(), store, pg.NATSServer{Name: cfg.Name, Listen: cfg.Listen, MQTT: cfg.MQTT}); err != nil {
					return err
				}
			}
			for _, c := range tooLarge {
				fmt.Fprintf(os.Stderr, "warning: %s\n", c)
			}
			fmt.Fprintf(os.Stderr, "wrote %s: server %s, %d kiosks; reload running servers with `nats-server --signal reload=PID`\n",
				out, cfg.Name, len(kiosks))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&data, "data", central.DefaultConfig().Data, "central's data directory: keys.json (central's password) and, without --store, central.db (the kiosks; central must be stopped)")
	f.StringVar(&store, "store", "", "central's PostgreSQL store (postgres://…) to read the kiosks from, instead of central.db in --data")
	f.StringVar(&out, "out", "", "configuration file to write (replaced atomically, mode 0600)")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "NATS client listener, host:port (central's workers)")
	f.StringVar(&cfg.MQTT, "mqtt", cfg.MQTT, "MQTT listener kiosks connect to, host:port")
	f.StringVar(&cfg.JetStreamDir, "jetstream-dir", cfg.JetStreamDir, "JetStream's directory (MQTT sessions, queued and retained messages)")
	f.StringVar(&name, "name", "", "server name, unique in the cluster and kept across restarts (default allimi-HOST-PORT of --listen)")
	f.StringVar(&monitor, "monitor", "", "HTTP monitoring listener, host:port (/healthz, /jsz); none by default")
	f.StringVar(&cl.Listen, "cluster-listen", "", "this server's cluster listener, host:port (a cluster only)")
	f.StringSliceVar(&cl.Routes, "routes", nil, "comma-separated nats://host:port of every server's cluster listener (a cluster only)")
	f.StringVar(&cl.Name, "cluster-name", cl.Name, "the cluster's name, the same on every server")
	f.IntVar(&cl.Replicas, "replicas", 0, "servers that keep each MQTT stream (default: the servers in --routes, at most 3)")
	_ = c.MarkFlagRequired("out")
	return c
}

// defaultServerName names a server after its host and client port:
// unique in a cluster of servers on different hosts or ports, and the same
// at every run, as JetStream needs.
// recordNATSServer records in the store a server nats-config wrote.
func recordNATSServer(ctx context.Context, store string, srv pg.NATSServer) error {
	st, err := pg.Open(ctx, store)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.PutNATSServer(srv); err != nil {
		return fmt.Errorf("recording server %s in the store: %w", srv.Name, err)
	}
	return nil
}

func defaultServerName(listen string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "nats"
	}
	host, _, _ = strings.Cut(host, ".")
	_, port, _ := net.SplitHostPort(listen)
	return "allimi-" + host + "-" + port
}

// loadKeys reads central's keys.json, which must exist: a configuration
// for a central that does not exist yet would give it a password it never
// learns.
func loadKeys(data string) (*keyring.Keys, error) {
	if _, err := os.Stat(filepath.Join(data, keyring.KeysFile)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageError{fmt.Errorf("no %s in %s: give central's data directory with --data", keyring.KeysFile, data)}
		}
		return nil, err
	}
	return keyring.Load(data)
}

// kioskUsers lists the kiosks' logins from the store central uses, and
// says which stored catalogs the servers cannot carry.
//
// On PostgreSQL (--store postgres://…) they are read while central serves;
// central.db only while central is stopped (bbolt's lock).
func kioskUsers(store, data string) ([]allimi.KioskUser, []string, error) {
	if store != "" {
		u, err := url.Parse(store)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, nil, usageError{errors.New("--store: want a postgres://… URL")}
		}
		// PostgreSQL is read while central serves: a kiosk added or
		// enrolled meanwhile is in the next file (and reload).
		st, err := pg.Open(context.Background(), store)
		if err != nil {
			return nil, nil, err
		}
		defer st.Close()
		return listKiosks(st)
	}
	if _, err := os.Stat(filepath.Join(data, bolt.DBFile)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, usageError{fmt.Errorf("no %s in %s: give central's data directory with --data", bolt.DBFile, data)}
		}
		return nil, nil, err
	}
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	if errors.Is(err, bolt.ErrInUse) {
		return nil, nil, fmt.Errorf("%w (central.db is read only while central is stopped; NATS keeps the kiosks' sessions meanwhile)", err)
	}
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	return listKiosks(st)
}

// listKiosks lists the kiosks' logins from a store, and says which of its
// catalogs the servers cannot carry.
func listKiosks(st interface {
	allimi.KioskUsers
	catalog.Keeper
}) ([]allimi.KioskUser, []string, error) {
	kiosks, err := st.KioskUsers()
	if err != nil {
		return nil, nil, err
	}
	cats, err := st.Catalogs()
	if err != nil {
		return nil, nil, err
	}
	var tooLarge []string
	for _, c := range cats {
		if c.Manifest.Size > natsconf.MaxCatalogBody {
			tooLarge = append(tooLarge, fmt.Sprintf("catalog %s (%d bytes) is larger than NATS carries (%d bytes): kiosks will not get it through these servers",
				c.Manifest.Name, c.Manifest.Size, natsconf.MaxCatalogBody))
		}
	}
	return kiosks, tooLarge, nil
}

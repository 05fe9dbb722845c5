// Package centraltest starts a real central in a test's own process: its
// embedded MQTT broker on a free loopback port, its HTTP API on loopback,
// its store in a temporary directory, stopped when the test ends.
//
// It is the one way tests outside package central get a central to talk
// to (kiosk flows, central's own end-to-end tests in package central_test).
// Tests that need central as a separate process, to kill it, run the
// allimi binary instead (package tests).
package centraltest

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"allimi"

	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/internal/testaddr"
)

// Central is a central for one test. New prepares it; Start runs it.
type Central struct {
	t testing.TB
	// Config is what Start starts central with. New fills it (data in
	// t.TempDir(), broker on a free loopback port, HTTP on 127.0.0.1:0,
	// logs discarded); a test changes it before Start.
	Config central.Config
	// Server is the running central; nil before Start.
	Server *central.Server
}

// Start prepares a central, changed by opts, and starts it.
func Start(t testing.TB, opts ...func(*central.Config)) *Central {
	t.Helper()
	c := New(t, opts...)
	c.Start()
	return c
}

// New prepares a central without starting it: its data directory and
// broker address are chosen, so that a test can register kiosks first
// (central holds its store open while it runs) or start a kiosk that
// finds no broker yet. opts change the configuration, in order.
func New(t testing.TB, opts ...func(*central.Config)) *Central {
	t.Helper()
	cfg := central.DefaultConfig()
	cfg.Data, cfg.MQTT, cfg.HTTP = t.TempDir(), testaddr.Free(t), "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, o := range opts {
		o(&cfg)
	}
	return &Central{t: t, Config: cfg}
}

// Start starts central with Config and stops it when the test ends. After
// Server.Close, Start starts it again on the same data and broker address.
func (c *Central) Start() {
	c.t.Helper()
	srv, err := central.Start(context.Background(), c.Config)
	if err != nil {
		c.t.Fatalf("start central: %v", err)
	}
	c.Server = srv
	c.t.Cleanup(func() { srv.Close() })
}

// Broker is the URL kiosks connect to: tcp://host:port, or ssl:// when
// central runs TLS.
func (c *Central) Broker() string {
	if c.Config.TLSCert != "" {
		return "ssl://" + c.Config.MQTT
	}
	return "tcp://" + c.Config.MQTT
}

// URL is the base of central's HTTP API, http://host:port; central must
// be running.
func (c *Central) URL() string {
	c.t.Helper()
	if c.Server == nil {
		c.t.Fatal("centraltest: URL before Start")
	}
	return "http://" + c.Server.HTTPAddr()
}

// Keys are central's keys and tokens (the admin token among them); they
// exist once a kiosk was added or central was started.
func (c *Central) Keys() *keyring.Keys {
	c.t.Helper()
	keys, err := keyring.Load(c.Config.Data)
	if err != nil {
		c.t.Fatalf("central's keys: %v", err)
	}
	return keys
}

// AdminToken is the token of central's staff-only API.
func (c *Central) AdminToken() string {
	c.t.Helper()
	return c.Keys().AdminToken
}

// Store opens central's store for f, as `allimi central kiosk add` and
// the like do, and closes it after. Central must be stopped: it holds the
// store open while it runs.
func (c *Central) Store(f func(st *bolt.Store, keys *keyring.Keys)) {
	c.t.Helper()
	st, keys, err := bolt.OpenData(c.Config.Data, bolt.StoreOptions{})
	if err != nil {
		c.t.Fatalf("open central's data: %v", err)
	}
	defer st.Close()
	f(st, keys)
}

// AddKiosk registers kiosk id (central stopped, see Store).
func (c *Central) AddKiosk(id string) allimi.KioskCredentials {
	c.t.Helper()
	var cred allimi.KioskCredentials
	c.Store(func(st *bolt.Store, _ *keyring.Keys) {
		var err error
		if cred, err = st.AddKiosk(id); err != nil {
			c.t.Fatalf("add kiosk %s: %v", id, err)
		}
	})
	return cred
}

// AddOfficial registers official id, who answers questions over the API
// with the returned token (central stopped, see Store).
func (c *Central) AddOfficial(id string) allimi.OfficialCredentials {
	c.t.Helper()
	var cred allimi.OfficialCredentials
	c.Store(func(st *bolt.Store, _ *keyring.Keys) {
		var err error
		if cred, err = st.AddOfficial(id, false); err != nil {
			c.t.Fatalf("add official %s: %v", id, err)
		}
	})
	return cred
}

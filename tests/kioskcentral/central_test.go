// Package kioskcentral walks the kiosk's screens against a real central
// started in the test's process (internal/centraltest: embedded MQTT
// broker, store, HTTP API), with the kiosk's real outbox and sender; and
// tests the kiosk's parts that talk to central (enrolment, questions
// handed over) the same way.
//
// These tests live here, not in kiosk/, because the kiosk never imports
// central, its tests neither (kiosk/imports_test.go). They drive the
// screens with kiosk/kiosktest.
package kioskcentral

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/internal/centraltest"
	"allimi/kiosk"
	"allimi/kiosk/kiosktest"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
)

// testCentral is a central (not started until Start) with one kiosk
// registered.
type testCentral struct {
	*centraltest.Central
	t    *testing.T
	cred allimi.KioskCredentials
}

// newCentral registers kiosk id in a fresh central data directory (central
// must be stopped for that) without starting it.
func newCentral(t *testing.T, id string) *testCentral {
	t.Helper()
	c := centraltest.New(t)
	return &testCentral{Central: c, t: t, cred: c.AddKiosk(id)}
}

func (c *testCentral) stats() allimi.RegistryStats {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.URL()+"/api/v1/stats", nil)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.AdminToken()) // the statistics are staff-only
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	var st allimi.RegistryStats
	require.NoError(c.t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// kioskSync is a kiosk's real outbox and sender, connected to c's broker.
type kioskSync struct {
	outbox *outbox.Outbox
	sender *uplink.Sender
	spy    *spyRecorder
	today  *kiosk.BoltToday
}

func startKioskSync(t *testing.T, c *testCentral) *kioskSync {
	t.Helper()
	db, err := outbox.OpenDB(filepath.Join(t.TempDir(), "kiosk"))
	require.NoError(t, err)
	ob, err := outbox.Open(db, c.cred.ID)
	require.NoError(t, err)
	today, err := kiosk.OpenBoltToday(db)
	require.NoError(t, err)
	s := uplink.NewSender(uplink.Config{
		Conn:   transport.Conn{Broker: c.Broker(), Username: c.cred.Username, Password: c.cred.Password},
		Logger: quietLogger(),
	}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		db.Close()
	})
	return &kioskSync{outbox: ob, sender: s, spy: &spyRecorder{inner: ob}, today: today}
}

func (ks *kioskSync) options(c *testCentral) kiosk.Options {
	return kiosk.Options{
		Config:   kiosk.Config{ID: c.cred.ID, Staff: []kiosk.StaffMember{{ID: "official-07", Name: "박주무관", PINHash: testPINHash}}},
		Recorder: ks.spy,
		Health:   kiosk.SyncHealth{Outbox: ks.outbox, Sender: ks.sender},
		Today:    ks.today,
	}
}

// waitDelivered waits until central has acknowledged everything the kiosk
// wrote: the outbox is empty, and central's high-water mark is the last seq.
func (ks *kioskSync) waitDelivered(t *testing.T, c *testCentral) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, ks.sender.WaitDrained(ctx), "outbox not drained")
	st, err := ks.outbox.State()
	require.NoError(t, err)
	hw, err := c.Server.HW(c.cred.ID)
	require.NoError(t, err)
	assert.Equal(t, st.LastSeq, hw, "central's high-water mark")
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// spyRecorder passes records to an inner Recorder and keeps the events.
type spyRecorder struct {
	inner  kiosk.Recorder
	mu     sync.Mutex
	events []allimi.Event
}

func (s *spyRecorder) Append(drafts ...outbox.Draft) ([]allimi.Event, error) {
	evs, err := s.inner.Append(drafts...)
	if err == nil {
		s.mu.Lock()
		s.events = append(s.events, evs...)
		s.mu.Unlock()
	}
	return evs, err
}

func (s *spyRecorder) Events() []allimi.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]allimi.Event(nil), s.events...)
}

// testPINHash is the hash of PIN 2468 at bcrypt's lowest cost, to keep the
// tests fast; the kiosk accepts any cost.
var testPINHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("2468"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// signUpSelf walks the wizard as a person: who, what, where, consent.
func signUpSelf(t *testing.T, k *kiosktest.Kiosk, name, mobile string, types []allimi.NotificationType, channels []allimi.Channel) {
	t.Helper()
	k.Tap("home.notify")
	k.FillWho(name, mobile, 1948, 5, 17)
	k.Tap("nav.next")
	k.RequireScreen("signup-types")
	for _, ty := range types {
		k.TapCard(k.TypeName(ty))
	}
	k.Tap("nav.next")
	k.RequireScreen("signup-channels")
	for _, ch := range channels {
		k.TapCard(k.ChannelName(ch))
	}
	k.Tap("nav.next")
	k.RequireScreen("signup-consent")
}

// signInStaff opens staff mode with the test PIN.
func signInStaff(k *kiosktest.Kiosk) {
	k.Tap("home.staff")
	k.RequireScreen("staff-pin")
	for _, d := range "2468" {
		k.TapText(string(d))
	}
	k.Tap("staff.ok")
	k.RequireScreen("staff-menu")
}

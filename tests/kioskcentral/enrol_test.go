package kioskcentral

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/internal/loadgen"
	"allimi/kiosk"
	"allimi/kiosk/kiosktest"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
)

// The enrolment screen's fields, by their placeholders.
const (
	addressField = "http://central:8080"
	codeField    = "XXXX-XXXX-XXXX"
)

// enrolCentral is a real central (embedded broker, bbolt, HTTP API) that
// issues enrolment codes through its admin API, as `allimi central kiosk
// enrol` does while central serves.
type enrolCentral struct {
	*testCentral
	admin string
}

func startEnrolCentral(t *testing.T, opts ...func(*central.Config)) *enrolCentral {
	t.Helper()
	c := newCentral(t, "first-kiosk") // central's keys exist once a kiosk is added
	for _, o := range opts {
		o(&c.Config)
	}
	c.Start()
	return &enrolCentral{testCentral: c, admin: c.AdminToken()}
}

func (c *enrolCentral) url() string { return c.URL() }

// issue asks central for a one-time code for kiosk id.
func (c *enrolCentral) issue(t *testing.T, id, ttl string) (code string, expires time.Time) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.url()+"/api/v1/kiosks/"+id+"/enrol", strings.NewReader(`{"ttl":"`+ttl+`"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.admin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Code    string
		Expires time.Time
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Code, out.Expires
}

// newFirstRunKiosk is a kiosk started with a config that has no id.
func newFirstRunKiosk(t *testing.T, fr *kiosk.FirstRun, cfg kiosk.Config) *kiosktest.Kiosk {
	t.Helper()
	return kiosktest.New(t, kiosk.Options{Config: cfg, FirstRun: fr})
}

func TestEnrolScreen_FirstRunEnrolsSyncsAndGoesHome(t *testing.T) {
	c := startEnrolCentral(t)
	code, _ := c.issue(t, "gongju-01", "1h")
	config := filepath.Join(t.TempDir(), "kiosk.json")
	// What the package or an installer put there before enrolment stays.
	require.NoError(t, os.WriteFile(config, []byte(`{"region":"충남/공주시"}`), 0o644))

	var started *uplink.Sender
	fr := &kiosk.FirstRun{ConfigPath: config, CentralURL: "http://127.0.0.1:1", Ready: func(cfg kiosk.Config) (kiosk.Options, error) {
		db, err := outbox.OpenDB(filepath.Join(t.TempDir(), "kiosk"))
		if err != nil {
			return kiosk.Options{}, err
		}
		ob, err := outbox.Open(db, cfg.ID)
		if err != nil {
			return kiosk.Options{}, err
		}
		started = uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: cfg.Broker, Username: cfg.Username, Password: cfg.Password},
			Logger: quietLogger()}, ob)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = started.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done; db.Close() })
		return kiosk.Options{Recorder: ob, Health: kiosk.SyncHealth{Outbox: ob, Sender: started}}, nil
	}}
	k := newFirstRunKiosk(t, fr, kiosk.Config{Region: "충남/공주시", Path: config})
	k.RequireScreen("enrol")
	assert.Contains(t, k.UI.ReadAloudText(), k.UI.T("enrol.intro"))

	// The address as started (--central) is wrong; the official fixes it
	// and types the code, both on the screen's keyboard.
	address := k.EntryPH(addressField)
	assert.Equal(t, "http://127.0.0.1:1", address.Text)
	k.TypeOnKeys(addressField, c.url())
	assert.Equal(t, c.url(), address.Text, "addresses are typed in small letters")
	k.TypeOnKeys(codeField, strings.ReplaceAll(code, "-", ""))
	k.Tap("enrol.submit")

	k.RequireScreen("home")
	assert.Equal(t, "gongju-01", k.UI.Config().ID)
	assert.NotContains(t, k.ShownText(), k.UI.T("home.unregistered"), "the home screen is an enrolled kiosk's")
	fi, err := os.Stat(config)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the credentials are the kiosk user's only")
	saved, err := kiosk.LoadConfig(config)
	require.NoError(t, err)
	assert.Equal(t, "gongju-01", saved.ID)
	assert.NotEmpty(t, saved.Password)
	assert.NotEmpty(t, saved.CatalogKey)
	assert.Equal(t, "tcp://"+c.Config.MQTT, saved.Broker)
	assert.Equal(t, "충남/공주시", saved.Region, "the rest of the config stays")

	// The kiosk went on with sync started on the new credentials, without
	// a restart: central accepts them.
	require.NotNil(t, started)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, waitConnected(ctx, started))

	// The idle timer clears to the home screen now, not the enrolment one.
	k.Tap("home.notify")
	k.Clock.Advance(time.Duration(kiosk.DefaultIdleSeconds+kiosk.DefaultIdleWarningSeconds+1) * time.Second)
	k.RequireScreen("home")
}

// waitConnected waits until the sender has connected to the broker (its
// credentials were accepted).
func waitConnected(ctx context.Context, s *uplink.Sender) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !s.Status().Connected {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

func TestEnrolScreen_RefusedCodesSayWhyInTheKiosksLanguage(t *testing.T) {
	c := startEnrolCentral(t)
	used, _ := c.issue(t, "nonsan-02", "1h")
	_, err := kiosk.Enrol(context.Background(), nil, c.url(), used, filepath.Join(t.TempDir(), "other.json"))
	require.NoError(t, err, "spent by another kiosk")
	expired, until := c.issue(t, "nonsan-03", "1s")
	// The code's lifetime is what is tested: wait until central's clock
	// has passed it.
	time.Sleep(time.Until(until) + 10*time.Millisecond)

	cases := []struct {
		name, address, code, key string
		args                     []any
	}{
		{"used", c.url(), used, "enrol.err_used", nil},
		{"expired", c.url(), expired, "enrol.err_expired", nil},
		{"unknown", c.url(), "AAAA-BBBB-CCCC", "enrol.err_unknown", nil},
		{"too short", c.url(), "AAAA-BBBB", "enrol.err_code", nil},
		{"not an address", "central:8080", used, "enrol.err_address", []any{"address", "central:8080"}},
		{"nobody there", "http://127.0.0.1:1", used, "enrol.err_unreachable", []any{"address", "http://127.0.0.1:1"}},
	}
	for _, l := range []kiosk.Lang{kiosk.LangKo, kiosk.LangVi} {
		for _, tc := range cases {
			t.Run(string(l)+"/"+tc.name, func(t *testing.T) {
				config := filepath.Join(t.TempDir(), "kiosk.json")
				before := []byte(`{"staff":[{"id":"o-1","name":"박주무관","pinHash":"x"}]}`)
				require.NoError(t, os.WriteFile(config, before, 0o600))
				k := newFirstRunKiosk(t, &kiosk.FirstRun{ConfigPath: config, CentralURL: tc.address}, kiosk.Config{Path: config})
				k.UI.SetPrefs(kiosk.Prefs{Lang: l})
				k.TypeOnKeys(codeField, tc.code)
				k.Tap("enrol.submit")

				k.RequireScreen("enrol")
				k.RequireShows(l.T(tc.key, tc.args...))
				assert.Contains(t, k.UI.ReadAloudText(), l.T(tc.key, tc.args...), "the message is read aloud too")
				after, err := os.ReadFile(config)
				require.NoError(t, err)
				assert.Equal(t, string(before), string(after), "a refused code changes nothing")
				assert.Empty(t, k.UI.Config().ID)
			})
		}
	}
}

func TestEnrol_BrokenConfigIsRefusedBeforeTheCodeIsSpent(t *testing.T) {
	c := startEnrolCentral(t)
	code, _ := c.issue(t, "boryeong-04", "1h")
	config := filepath.Join(t.TempDir(), "kiosk.json")
	require.NoError(t, os.WriteFile(config, []byte(`{"staff":[`), 0o600))

	_, err := kiosk.Enrol(context.Background(), nil, c.url(), code, config)
	var ie *kiosk.InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "enrol.err_config", ie.Key)
	b, _ := os.ReadFile(config)
	assert.Equal(t, `{"staff":[`, string(b), "the file is left for a person to fix")

	// Fixed, the same code still works: it was not spent.
	require.NoError(t, os.WriteFile(config, []byte(`{}`), 0o600))
	cfg, err := kiosk.Enrol(context.Background(), nil, c.url(), code, config)
	require.NoError(t, err)
	assert.Equal(t, "boryeong-04", cfg.ID)
}

// selfSignedServer writes a self-signed certificate for 127.0.0.1: the
// broker's, and the CA kiosks are told to trust it by.
func selfSignedServer(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "central"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(k)
	require.NoError(t, err)
	cert, key = filepath.Join(dir, "broker.pem"), filepath.Join(dir, "broker-key.pem")
	require.NoError(t, os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return cert, key
}

func TestEnrol_OverTLSTheKioskGetsItsCertificateAndSyncs(t *testing.T) {
	cert, key := selfSignedServer(t, t.TempDir())
	ec := startEnrolCentral(t, func(cfg *central.Config) {
		cfg.TLSCert, cfg.TLSKey, cfg.TLSRequireClientCert = cert, key, true
	})
	code, _ := ec.issue(t, "yesan-06", "1h")

	config := filepath.Join(t.TempDir(), "kiosk.json")
	kc, err := kiosk.Enrol(context.Background(), nil, ec.url(), code, config)
	require.NoError(t, err)
	require.NotNil(t, kc.TLS, "central runs TLS: the config gets the kiosk's certificate")
	assert.Equal(t, "ssl://"+ec.Config.MQTT, kc.Broker)
	assert.Contains(t, kc.TLS.Key, "PRIVATE KEY")
	fi, err := os.Stat(config)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the key is in the config: the kiosk user's only")

	// The kiosk syncs with what the config now holds.
	conn, err := kc.Conn()
	require.NoError(t, err)
	db, err := outbox.OpenDB(filepath.Join(t.TempDir(), "kiosk"))
	require.NoError(t, err)
	defer db.Close()
	ob, err := outbox.Open(db, kc.ID)
	require.NoError(t, err)
	kakao := []allimi.Channel{allimi.ChannelKakao}
	_, err = ob.Append(loadgen.Signup(kc.ID, 1, kakao, time.Now()), loadgen.Signup(kc.ID, 2, kakao, time.Now()))
	require.NoError(t, err)
	s := uplink.NewSender(uplink.Config{Conn: conn, Logger: quietLogger()}, ob)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	require.NoError(t, s.WaitDrained(ctx))
	hw, err := ec.Server.HW(kc.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 2, hw)
	cancel()
	<-done

	// The same credentials without the certificate are refused.
	noCert := kc
	noCert.TLS = &kiosk.TLSConfig{CA: kc.TLS.CA}
	conn, err = noCert.Conn()
	require.NoError(t, err)
	opts := conn.ClientOptions().SetClientID("allimi-kiosk-" + kc.ID).SetConnectRetry(false).SetAutoReconnect(false)
	cl := paho.NewClient(opts)
	tok := cl.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	assert.Error(t, tok.Error(), "a kiosk without a client certificate is refused")
}

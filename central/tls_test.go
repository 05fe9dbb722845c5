package central_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/api"
	"allimi/central/bolt"
	"allimi/central/kioskca"
	"allimi/internal/loadgen"
	"allimi/internal/testaddr"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
)

// testPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir, returning their paths.
type testPKI struct{ ca, serverCert, serverKey, clientCert, clientKey string }

func newPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "allimi test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	p := testPKI{ca: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)

	issue := func(name string, serial int64, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		require.NoError(t, err)
		kb, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		cert, keyPath := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, cert, "CERTIFICATE", der)
		writePEM(t, keyPath, "EC PRIVATE KEY", kb)
		return cert, keyPath
	}
	p.serverCert, p.serverKey = issue("server", 2, x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	p.clientCert, p.clientKey = issue("kiosk", 3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

func TestTLS_KioskSyncsOverMutualTLSAndPlainIsRefused(t *testing.T) {
	data := t.TempDir()
	pki := newPKI(t, t.TempDir())
	cred := addKiosk(t, data, "tls1")
	cfg := central.DefaultConfig()
	cfg.Data, cfg.MQTT, cfg.HTTP = data, testaddr.Free(t), "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = pki.serverCert, pki.serverKey, pki.ca
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := central.Start(context.Background(), cfg)
	require.NoError(t, err)
	defer srv.Close()

	broker := "ssl://" + cfg.MQTT
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Plain MQTT, and TLS without a client certificate, are refused.
	for name, conn := range map[string]transport.Conn{
		"plain":          {Broker: "tcp://" + cfg.MQTT},
		"no client cert": {Broker: broker, TLS: mustTLS(t, pki.ca, "", "")},
	} {
		conn.ClientID, conn.Username, conn.Password = "allimi-kiosk-tls1", cred.Username, cred.Password
		opts := conn.ClientOptions().SetConnectRetry(false).SetAutoReconnect(false).SetConnectTimeout(3 * time.Second)
		c := paho.NewClient(opts)
		tok := c.Connect()
		require.True(t, tok.WaitTimeout(10*time.Second), name)
		assert.Error(t, tok.Error(), name)
	}

	kdb, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	defer kdb.Close()
	ob, err := outbox.Open(kdb, "tls1")
	require.NoError(t, err)
	kakao := []allimi.Channel{allimi.ChannelKakao}
	_, err = ob.Append(loadgen.Signup("tls1", 1, kakao, time.Now()), loadgen.Signup("tls1", 2, kakao, time.Now()),
		loadgen.Signup("tls1", 3, kakao, time.Now()))
	require.NoError(t, err)
	sender := uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: broker, Username: cred.Username, Password: cred.Password,
		TLS: mustTLS(t, pki.ca, pki.clientCert, pki.clientKey)}, Logger: quiet}, ob)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go sender.Run(ctx)
	require.NoError(t, sender.WaitDrained(ctx))
	hw, err := srv.HW("tls1")
	require.NoError(t, err)
	assert.EqualValues(t, 3, hw)
}

func mustTLS(t *testing.T, ca, cert, key string) *tls.Config {
	t.Helper()
	c, err := transport.ClientTLS(ca, cert, key)
	require.NoError(t, err)
	return c
}

func TestTLS_BadConfigurationIsAClearError(t *testing.T) {
	pki := newPKI(t, t.TempDir())
	cases := []struct {
		name          string
		cert, key, ca string
		want          string
	}{
		{"CA without certificate", "", "", pki.ca, "--tls-ca needs --tls-cert and --tls-key"},
		{"missing key file", pki.serverCert, "/nonexistent/key.pem", "", "TLS certificate"},
		{"CA file is not PEM", pki.serverCert, pki.serverKey, pki.serverKey, "no PEM certificate"},
		{"client certificates required without TLS", "", "", "", "--tls-require-client-cert needs --tls-cert and --tls-key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := central.DefaultConfig()
			cfg.Data, cfg.MQTT, cfg.HTTP = t.TempDir(), testaddr.Free(t), "127.0.0.1:0"
			cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = c.cert, c.key, c.ca
			cfg.TLSRequireClientCert = c.cert == "" && c.ca == ""
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			_, err := central.Start(context.Background(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// tryConnect connects once with conn and reports the broker's answer.
func tryConnect(t *testing.T, conn transport.Conn) error {
	t.Helper()
	opts := conn.ClientOptions().SetConnectRetry(false).SetAutoReconnect(false).SetConnectTimeout(3 * time.Second)
	c := paho.NewClient(opts)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	if tok.Error() == nil {
		c.Disconnect(0)
	}
	return tok.Error()
}

// issueCode issues a code for id (central stopped) and returns it.
func issueCode(t *testing.T, data, id string) string {
	t.Helper()
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	code, _, err := st.AddEnrolment(id, time.Hour)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	return code
}

func TestTLS_EnrolmentGivesAClientCertificateTheBrokerRequires(t *testing.T) {
	data := t.TempDir()
	pki := newPKI(t, t.TempDir())
	addKiosk(t, data, "first") // central's keys
	code := issueCode(t, data, "tls-enrol-1")
	cfg := central.DefaultConfig()
	cfg.Data, cfg.MQTT, cfg.HTTP = data, testaddr.Free(t), "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey, cfg.TLSRequireClientCert = pki.serverCert, pki.serverKey, true
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := central.Start(context.Background(), cfg)
	require.NoError(t, err)
	defer srv.Close()

	// Central made its kiosk CA on first use; its key is central's alone.
	fi, err := os.Stat(filepath.Join(data, kioskca.KeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	caPEM, err := os.ReadFile(filepath.Join(data, kioskca.CertFile))
	require.NoError(t, err)

	status, body := postJSON(t, "http://"+srv.HTTPAddr()+"/api/v1/enrol", "", `{"code":"`+code+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	var got api.EnrolResponse
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.NotNil(t, got.TLS, "central runs TLS: the kiosk gets a client certificate")
	assert.Equal(t, "ssl://"+cfg.MQTT, got.Broker)
	serverCA, err := os.ReadFile(pki.serverCert)
	require.NoError(t, err)
	assert.Equal(t, string(serverCA), got.TLS.CA, "the kiosk trusts the broker by the last certificate of --tls-cert")
	blk, _ := pem.Decode([]byte(got.TLS.Cert))
	require.NotNil(t, blk)
	cert, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	assert.Equal(t, got.Username, cert.Subject.CommonName)
	caBlk, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(caBlk.Bytes)
	require.NoError(t, err)
	assert.NoError(t, cert.CheckSignatureFrom(ca), "signed by central's kiosk CA")

	// The server certificate is for 127.0.0.1, signed by the test CA.
	withCert, err := transport.ClientTLSFrom(pki.ca, got.TLS.Cert, got.TLS.Key)
	require.NoError(t, err)
	withoutCert, err := transport.ClientTLSFrom(pki.ca, "", "")
	require.NoError(t, err)
	base := transport.Conn{Broker: got.Broker, ClientID: "allimi-kiosk-" + got.ID, Username: got.Username, Password: got.Password}
	cases := []struct {
		name string
		tls  *tls.Config
		ok   bool
	}{
		{"enrolled certificate", withCert, true},
		{"no client certificate", withoutCert, false},
		{"a certificate of another CA", mustTLS(t, pki.ca, pki.clientCert, pki.clientKey), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := base
			conn.TLS = c.tls
			err := tryConnect(t, conn)
			if c.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}

	// Another kiosk connects with its own certificate, and not with this
	// kiosk's.
	require.NoError(t, srv.Close())
	otherCode := issueCode(t, data, "tls-other")
	srv, err = central.Start(context.Background(), cfg)
	require.NoError(t, err)
	status, body = postJSON(t, "http://"+srv.HTTPAddr()+"/api/v1/enrol", "", `{"code":"`+otherCode+`"}`)
	require.Equal(t, http.StatusOK, status, body)
	var other api.EnrolResponse
	require.NoError(t, json.Unmarshal([]byte(body), &other))
	conn := transport.Conn{Broker: other.Broker, ClientID: "allimi-kiosk-" + other.ID, Username: other.Username, Password: other.Password,
		TLS: mustTLSFrom(t, pki.ca, other.TLS.Cert, other.TLS.Key)}
	assert.NoError(t, tryConnect(t, conn), "its own certificate")
	conn.TLS = withCert
	assert.Error(t, tryConnect(t, conn), "a certificate is its own kiosk's only")

	// Restarted, central keeps its CA: the kiosk's certificate still works.
	require.NoError(t, srv.Close())
	srv, err = central.Start(context.Background(), cfg)
	require.NoError(t, err)
	defer srv.Close()
	again, err := os.ReadFile(filepath.Join(data, kioskca.CertFile))
	require.NoError(t, err)
	assert.Equal(t, string(caPEM), string(again))
	conn = base
	conn.TLS = withCert
	assert.NoError(t, tryConnect(t, conn))
}

func TestTLS_KioskCAHalfMissingIsAClearError(t *testing.T) {
	data := t.TempDir()
	pki := newPKI(t, t.TempDir())
	cfg := central.DefaultConfig()
	cfg.Data, cfg.MQTT, cfg.HTTP = data, testaddr.Free(t), "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = pki.serverCert, pki.serverKey
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := central.Start(context.Background(), cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	// The key lost (a backup without it): central refuses to start rather
	// than make a new CA that no enrolled kiosk's certificate matches.
	require.NoError(t, os.Remove(filepath.Join(data, kioskca.KeyFile)))
	_, err = central.Start(context.Background(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "restore it")
	assert.FileExists(t, filepath.Join(data, kioskca.CertFile), "nothing is removed")
}

func mustTLSFrom(t *testing.T, ca, cert, key string) *tls.Config {
	t.Helper()
	c, err := transport.ClientTLSFrom(ca, cert, key)
	require.NoError(t, err)
	return c
}

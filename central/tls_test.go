package central_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/sync"
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
	cfg.Data, cfg.MQTT, cfg.HTTP = data, freeAddr(t), "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = pki.serverCert, pki.serverKey, pki.ca
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := central.Start(context.Background(), cfg)
	require.NoError(t, err)
	defer srv.Close()

	broker := "ssl://" + cfg.MQTT
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Plain MQTT, and TLS without a client certificate, are refused.
	for name, conn := range map[string]sync.Conn{
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

	kdb, err := sync.OpenKioskDB(t.TempDir())
	require.NoError(t, err)
	defer kdb.Close()
	ob, err := sync.OpenOutbox(kdb, "tls1")
	require.NoError(t, err)
	kakao := []allimi.Channel{allimi.ChannelKakao}
	_, err = ob.Append(sync.SyntheticSignup("tls1", 1, kakao, time.Now()), sync.SyntheticSignup("tls1", 2, kakao, time.Now()),
		sync.SyntheticSignup("tls1", 3, kakao, time.Now()))
	require.NoError(t, err)
	sender := sync.NewSender(sync.SenderConfig{Conn: sync.Conn{Broker: broker, Username: cred.Username, Password: cred.Password,
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
	c, err := sync.ClientTLS(ca, cert, key)
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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := central.DefaultConfig()
			cfg.Data, cfg.MQTT, cfg.HTTP = t.TempDir(), freeAddr(t), "127.0.0.1:0"
			cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = c.cert, c.key, c.ca
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			_, err := central.Start(context.Background(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

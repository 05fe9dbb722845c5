package central

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"allimi/internal/atomicfile"
)

// Kiosk client certificates. When the embedded broker runs TLS, central
// gives each kiosk it enrols a client certificate signed by a CA of its
// own, made on first use and kept beside keys.json: kiosk-ca.pem (the
// certificate) and kiosk-ca-key.pem (0600; back it up with keys.json).
// The broker then verifies kiosks' certificates against it, and with
// --tls-require-client-cert refuses a kiosk that has none.
const (
	KioskCAFile    = "kiosk-ca.pem"
	KioskCAKeyFile = "kiosk-ca-key.pem"
)

// Lifetimes: the CA outlives any kiosk; a kiosk's certificate lasts
// until it is enrolled again (a new code gives a new one).
const (
	kioskCAValidity   = 20 * 365 * 24 * time.Hour
	kioskCertValidity = 10 * 365 * 24 * time.Hour
)

type kioskCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// loadKioskCA reads the kiosk CA in dir, making it when there is none.
func loadKioskCA(dir string) (*kioskCA, error) {
	certPath, keyPath := filepath.Join(dir, KioskCAFile), filepath.Join(dir, KioskCAKeyFile)
	certPEM, errC := os.ReadFile(certPath)
	keyPEM, errK := os.ReadFile(keyPath)
	switch {
	case errors.Is(errC, fs.ErrNotExist) && errors.Is(errK, fs.ErrNotExist):
		return newKioskCA(certPath, keyPath)
	case errC != nil:
		return nil, fmt.Errorf("kiosk CA: %w (restore it with %s from the backup, or remove both to make a new CA and enrol every kiosk again)", errC, KioskCAKeyFile)
	case errK != nil:
		return nil, fmt.Errorf("kiosk CA key: %w (restore it with %s from the backup, or remove both to make a new CA and enrol every kiosk again)", errK, KioskCAFile)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("kiosk CA %s, %s: %w", certPath, keyPath, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("kiosk CA %s: %w", certPath, err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !cert.IsCA {
		return nil, fmt.Errorf("kiosk CA %s: not a CA certificate with an ECDSA key", certPath)
	}
	return &kioskCA{cert: cert, key: key, pem: certPEM}, nil
}

func newKioskCA(certPath, keyPath string) (*kioskCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "Allimi kiosk CA", Organization: []string{"Allimi"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(kioskCAValidity), IsCA: true, BasicConstraintsValid: true,
		MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: a certificate without its key would be a CA that can
	// sign nothing.
	if err := atomicfile.Write(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return nil, fmt.Errorf("kiosk CA key: %w", err)
	}
	if err := atomicfile.Write(certPath, certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("kiosk CA: %w", err)
	}
	return &kioskCA{cert: cert, key: key, pem: certPEM}, nil
}

// issue signs a client certificate for a kiosk's MQTT user name.
func (ca *kioskCA) issue(username string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: username, Organization: []string{"Allimi kiosks"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(kioskCertValidity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// serverCA is the PEM a kiosk trusts for the broker's certificate: the
// --tls-server-ca file, else the last certificate of --tls-cert's chain
// (the CA, when the file holds the chain; the certificate itself when it
// is self-signed).
func serverCA(cfg Config) ([]byte, error) {
	if cfg.TLSServerCA != "" {
		b, err := os.ReadFile(cfg.TLSServerCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-server-ca: %w", err)
		}
		if _, err := x509.ParseCertificate(firstPEM(b)); err != nil {
			return nil, fmt.Errorf("--tls-server-ca %s: no PEM certificate in it", cfg.TLSServerCA)
		}
		return b, nil
	}
	b, err := os.ReadFile(cfg.TLSCert)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	var last *pem.Block
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			last = blk
		}
	}
	if last == nil {
		return nil, fmt.Errorf("TLS certificate %s: no PEM certificate in it", cfg.TLSCert)
	}
	return pem.EncodeToMemory(last), nil
}

func firstPEM(b []byte) []byte {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil
	}
	return blk.Bytes
}

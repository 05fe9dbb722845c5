package kioskca

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

// The CA's files in central's data directory.
const (
	CertFile = "kiosk-ca.pem"
	KeyFile  = "kiosk-ca-key.pem"
)

// Lifetimes: the CA outlives any kiosk; a kiosk's certificate lasts
// until it is enrolled again (a new code gives a new one).
const (
	kioskCAValidity   = 20 * 365 * 24 * time.Hour
	kioskCertValidity = 10 * 365 * 24 * time.Hour
)

// CA signs the client certificates of enrolled kiosks.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// Load reads the kiosk CA in dir, making it when there is none.
func Load(dir string) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	certPEM, errC := os.ReadFile(certPath)
	keyPEM, errK := os.ReadFile(keyPath)
	switch {
	case errors.Is(errC, fs.ErrNotExist) && errors.Is(errK, fs.ErrNotExist):
		return New(certPath, keyPath)
	case errC != nil:
		return nil, fmt.Errorf("kiosk CA: %w (restore it with %s from the backup, or remove both to make a new CA and enrol every kiosk again)", errC, KeyFile)
	case errK != nil:
		return nil, fmt.Errorf("kiosk CA key: %w (restore it with %s from the backup, or remove both to make a new CA and enrol every kiosk again)", errK, CertFile)
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
	return &CA{Cert: cert, key: key, pem: certPEM}, nil
}

// New makes a CA and writes its certificate and key (0600) to the paths given.
func New(certPath, keyPath string) (*CA, error) {
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
	return &CA{Cert: cert, key: key, pem: certPEM}, nil
}

// Issue signs a client certificate for a kiosk's MQTT user name.
func (ca *CA) Issue(username string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: username, Organization: []string{"Allimi kiosks"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(kioskCertValidity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
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

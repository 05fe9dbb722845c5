package central

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

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

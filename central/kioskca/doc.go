// Package kioskca is the certificate authority of enrolled kiosks. When
// the embedded broker runs TLS, central gives each kiosk it enrols a client
// certificate signed by a CA of its own, made on first use and kept beside
// keys.json: kiosk-ca.pem (the certificate) and kiosk-ca-key.pem (0600;
// back it up with keys.json). The broker then verifies kiosks'
// certificates against it, and with --tls-require-client-cert refuses a
// kiosk that has none.
package kioskca

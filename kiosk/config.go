// Package kiosk holds the kiosk's screens, theme and configuration.
//
// It must not import fyne.io/fyne/v2/app: the screens are built against the
// fyne.Window interface so that tests render them with Fyne's test driver
// (fyne.io/fyne/v2/test), which needs neither cgo nor an X display. Only
// cmd/allimi-kiosk creates the real (GLFW) application.
package kiosk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// DefaultBroker is the MQTT broker a kiosk connects to when its config
// names none (make demo runs central's embedded broker there).
const DefaultBroker = "tcp://127.0.0.1:1883"

// Defaults of the optional settings.
const (
	DefaultIdleSeconds        = 60
	DefaultIdleWarningSeconds = 10
	DefaultReceiptURL         = "http://127.0.0.1:8080/r/"
)

// Config is a kiosk's configuration, as written by
// `allimi central kiosk add --json` and read from the file given by
// allimi-kiosk's --config flag:
//
//	{"id":"demo-kiosk","username":"...","password":"...",
//	 "broker":"tcp://127.0.0.1:1883","catalogKey":"base64",
//	 "staff":[{"id":"official-01","name":"김주무관","pinHash":"$2a$10$..."}],
//	 "idleSeconds":60,"receiptURL":"https://allimi.example/r/"}
//
// Every field is optional; the staff list is added by hand (or by a
// provisioning tool) after `kiosk add`.
type Config struct {
	// ID is the kiosk's identifier, registered at central.
	ID string `json:"id,omitempty"`
	// Username and Password are the kiosk's MQTT credentials.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Broker is the MQTT broker URL; DefaultBroker when empty.
	Broker string `json:"broker,omitempty"`
	// CatalogKey is central's catalogue signing key, base64.
	CatalogKey string `json:"catalogKey,omitempty"`
	// TLS is how the kiosk reaches an ssl:// broker: enrolment fills it
	// in when central runs TLS.
	TLS *TLSConfig `json:"tls,omitempty"`
	// Region is where the kiosk's community centre is, "시도" or
	// "시도/시군구" (e.g. "경기/성남시"): 보조금 찾기 lists local
	// governments' services of this region only. Empty lists all.
	Region string `json:"region,omitempty"`

	// Staff are the officials who may open staff mode, each with a
	// salted hash of their PIN (HashPIN; `allimi-kiosk --hash-pin`).
	Staff []StaffMember `json:"staff,omitempty"`
	// IdleSeconds without a touch before the kiosk warns that it will
	// clear the screen; IdleWarningSeconds the warning's countdown.
	IdleSeconds        int `json:"idleSeconds,omitempty"`
	IdleWarningSeconds int `json:"idleWarningSeconds,omitempty"`
	// ReceiptURL is where a receipt's QR code points, followed by the
	// receipt code: central's page to check or withdraw a sign-up.
	ReceiptURL string `json:"receiptURL,omitempty"`

	// Path is the file the config was loaded from; empty when none was
	// loaded. It is not part of the JSON.
	Path string `json:"-"`
}

// TLSConfig holds the CA that signed the broker's certificate and the
// kiosk's client certificate and key, each PEM text (as enrolment writes
// them) or the path of a PEM file.
type TLSConfig struct {
	CA   string `json:"ca,omitempty"`
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
}

// Loaded reports whether the config came from a file.
func (c Config) Loaded() bool { return c.Path != "" }

// WithDefaults returns c with the defaults filled in.
func (c Config) WithDefaults() Config {
	if c.Broker == "" {
		c.Broker = DefaultBroker
	}
	if c.IdleSeconds <= 0 {
		c.IdleSeconds = DefaultIdleSeconds
	}
	if c.IdleWarningSeconds <= 0 {
		c.IdleWarningSeconds = DefaultIdleWarningSeconds
	}
	if c.ReceiptURL == "" {
		c.ReceiptURL = DefaultReceiptURL
	}
	return c
}

// ParseConfig decodes a kiosk config from JSON and fills in the defaults.
// Unknown fields are ignored, so central may add fields before the kiosk
// knows them.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &c); err != nil {
			return Config{}, fmt.Errorf("kiosk config: %w", err)
		}
	}
	return c.WithDefaults(), nil
}

// LoadConfig reads and decodes the kiosk config file at path. An empty
// path gives the default config (nothing loaded).
func LoadConfig(path string) (Config, error) {
	if path == "" {
		return Config{}.WithDefaults(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("kiosk config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

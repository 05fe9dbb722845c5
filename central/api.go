package central

import (
	"log/slog"
	"net/http"
	"net/netip"

	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/consult"
	"allimi/sync/catalog"
)

// api is central's HTTP side: the API of agencies, officials, kiosks'
// enrolment and providers' receipts, and the pages people and officials
// open. Its handlers call the stores and services it is given.
type api struct {
	log   *slog.Logger
	store *bolt.Store
	keys  *keyring.Keys
	cfg   apiConfig
	// metrics serves GET /metrics.
	metrics http.Handler
	// health reports whether central stores what kiosks send (GET /healthz).
	health func() (int, map[string]any)
	// catalogs publishes signed catalogs and edits the knowledge base.
	catalogs catalogs
	// answers checks and sends officials' answers; nil without an SMS
	// gateway.
	answers answers
	// certs issues an enrolled kiosk's client certificate, and serverCA is
	// what it trusts the broker by; nil unless the embedded broker runs TLS.
	certs    func(username string) (cert, key []byte, err error)
	serverCA []byte
	// more adds the routes of other parts (notifications).
	more func(*http.ServeMux)
}

// apiConfig is what of central's configuration the HTTP side uses.
type apiConfig struct {
	HTTPTimeouts   HTTPTimeouts
	TrustedProxies []netip.Prefix
	// LinkBase is central's public URL (cookies get Secure when it is https).
	LinkBase string
	// Broker is the broker address enrolled kiosks are told to use.
	Broker string
	// DeleteAnsweredAudio deletes a question's recording once answered.
	DeleteAnsweredAudio bool
}

// catalogs publishes what kiosks download.
type catalogs interface {
	PublishCatalog(name string, version uint64, body []byte) (catalog.Manifest, error)
	UpdateConsultKB(u consult.Update) (catalog.Manifest, consult.KB, error)
	ConsultKB() (consult.KB, uint64, error)
}

// answers is the queue of officials' answers to send.
type answers interface {
	// CheckAnswer says whether an answer can be sent as a message.
	CheckAnswer(text string) error
	// Poke sends what is queued now.
	Poke()
}

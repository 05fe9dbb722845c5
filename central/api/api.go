package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"allimi"

	"allimi/central/detail"
	"allimi/central/keyring"
	"allimi/central/throttle"
	"allimi/consult"
	"allimi/sync/catalog"
)

// Server is central's HTTP side: the API of agencies, officials, kiosks'
// enrolment and providers' receipts, and the pages people and officials
// open. Its handlers call the stores and services it is given.
type Server struct {
	Log   *slog.Logger
	Store Store
	// Backup writes GET /api/v1/backup; nil when the store is backed up
	// by its own tools (PostgreSQL: pg_dump, a streaming replica).
	Backup Backup
	// Limits count failed guesses (persisted, central/throttle).
	Limits Limits
	// Details serves the notices' detail pages (/n/); nil without links.
	Details *detail.Store
	Keys    *keyring.Keys
	Config  Config
	// Metrics serves GET /metrics.
	Metrics http.Handler
	// Health reports whether central stores what kiosks send (GET /healthz).
	Health func() (int, map[string]any)
	// Catalogs publishes signed catalogs and edits the knowledge base.
	Catalogs Catalogs
	// Answers checks and sends officials' answers; nil without an SMS
	// gateway.
	Answers Answers
	// Certs issues an enrolled kiosk's client certificate, and ServerCA is
	// what it trusts the broker by; nil unless the embedded broker runs TLS.
	Certs    func(username string) (cert, key []byte, err error)
	ServerCA []byte
	// Notify takes agencies' notifications and providers' receipts.
	Notify Notify
	// Programs takes agencies' enrolments in programs of notifications;
	// nil: none.
	Programs Programs
	// Types lists the notification types and takes an administrator's
	// (PUT /api/v1/types/{id}); nil: none.
	Types Types
	// Accepted counts a new notification (central's metrics); may be nil.
	Accepted func(allimi.NotificationType)
}

// Store is what the HTTP side reads and changes (central/bolt's Store).
type Store interface {
	allimi.Registry
	allimi.Questions
	allimi.AuditLog
	allimi.Kiosks
	allimi.Agencies
	allimi.Officials
	allimi.Notifications
	allimi.Deliveries
	allimi.DeliveryReports
	allimi.SubscriberReports
}

// Backup is a store that writes a copy of itself (central/bolt's file).
type Backup interface {
	// Size is about how many bytes WriteBackup writes.
	Size() int64
	// WriteBackup writes a consistent copy of the whole store.
	WriteBackup(w io.Writer) (int64, error)
}

// Limits are the attempt limiters of what people and officials guess at
// over HTTP, each persisted so that a restart unlocks nothing.
type Limits struct {
	// Receipt: wrong dates of birth on /r/{code}, per code and per address.
	Receipt *throttle.Limiter
	// Enrol: unknown enrolment codes, per address.
	Enrol *throttle.Limiter
	// Official: refused sign-ins, per official id and per address.
	Official *throttle.Limiter
	// Now is the limiters' clock.
	Now func() time.Time
}

// Config is what of central's configuration the HTTP side uses.
type Config struct {
	HTTPTimeouts   HTTPTimeouts
	TrustedProxies []netip.Prefix
	// LinkBase is central's public URL (cookies get Secure when it is https).
	LinkBase string
	// Broker is the broker address enrolled kiosks are told to use.
	Broker string
	// DeleteAnsweredAudio deletes a question's recording once answered.
	DeleteAnsweredAudio bool
}

// Catalogs publishes what kiosks download.
type Catalogs interface {
	PublishCatalog(name string, version uint64, body []byte) (catalog.Manifest, error)
	UpdateConsultKB(u consult.Update) (catalog.Manifest, consult.KB, error)
	ConsultKB() (consult.KB, uint64, error)
}

// Notify is the notifications' service (central/notify): it stores a
// notification and has it sent, applies providers' delivery receipts and
// sends dead letters again.
type Notify interface {
	// Create stores a validated request and starts sending it; repeat
	// says the agency's Idempotency-Key was seen before. A zero
	// notification with an error means nothing was stored.
	Create(agency, idemKey string, req *allimi.NotificationRequest) (n allimi.Notification, repeat bool, err error)
	// ApplyReceipts applies providers' receipts, counting those applied
	// and those ignored (unknown, repeated).
	ApplyReceipts(rs []allimi.ProviderReceipt) (applied, ignored int, err error)
	// ReplayDeadLetters queues dead letters again: the one named by key,
	// or all when key is empty.
	ReplayDeadLetters(key string) (int, error)
}

// counted counts a new notification of type t.
func (s *Server) counted(t allimi.NotificationType) {
	if s.Accepted != nil {
		s.Accepted(t)
	}
}

// Answers is the queue of officials' answers to send.
type Answers interface {
	// CheckAnswer says whether an answer can be sent as a message.
	CheckAnswer(text string) error
	// Poke sends what is queued now.
	Poke()
}

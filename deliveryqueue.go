package allimi

import "time"

// Delivery states (DeliveryState). A delivery has no record while queued.
const (
	DeliveryQueued   DeliveryState = iota
	DeliveryAccepted               // the provider took it
	DeliveryDelivered
	DeliveryFailed   // failed on this channel and nothing more to do here
	DeliveryFellBack // failed on this channel; an SMS/LMS took over
	DeliveryRetrying
	DeliveryDeadLetter
	DeliveryExpired
)

// DeliveryFallback flags an SMS/LMS standing in for a messenger that could
// not deliver (DeliveryRecord.Flags, DueEntry.Flags).
const DeliveryFallback byte = 1

// DeliveryRecord is where one delivery stands, as the dispatcher stores it.
type DeliveryRecord struct {
	State    DeliveryState
	Attempts byte
	Flags    byte
	First    int64 // unix milliseconds of the first attempt
	Updated  int64 // unix milliseconds
	Reason   string
}

// DueEntry is a delivery waiting in the due queue until At: a retry, a
// fallback to SMS, or a replayed dead letter. A delivery of a fresh
// recipient is not in the due queue: the notification's progress on the
// channel says whether it was read.
type DueEntry struct {
	Ref   DeliveryRef
	At    time.Time // millisecond precision
	Flags byte
}

// Outgoing is one delivery about to be sent: to whom, of what, and where it
// stood before.
type Outgoing struct {
	Ref     DeliveryRef
	N       *Notification
	Citizen Citizen
	// Lang is the language the recipient signed up in (ConsentPayload.Lang),
	// kept with their personal data; empty means DefaultLanguage (a
	// sign-up that named none, or a person imported without one).
	Lang string
	// Region is where the recipient signed up: the region of the kiosk of
	// their last sign-up (KioskRegions), "" when it had none. The dated
	// statistics count the delivery under it (DeliveryCell.Region).
	Region string
	Mask   byte              // the recipient's consented channels (ChannelBit)
	Params map[string]string // the recipient's own parameters
	Token  uint64            // the number of the recipient's detail page token
	Prev   DeliveryRecord    // the stored record, zero if none
	// Due is the time of the due entry it was read from; zero for a fresh
	// recipient.
	Due   time.Time
	Flags byte
}

// SendIntent says that a message is about to be, or perhaps was, handed to
// a provider: it is committed before the request and deleted with the
// record of the answer, so one left over is a request whose answer was
// lost (central/notify/sendintents.go).
type SendIntent struct {
	Ref   DeliveryRef
	At    int64  // unix ms the intent was committed, just before its request
	Group uint64 // names the request for the provider's query
	Flags byte   // the delivery's flags
	// Fresh: read from the notification's recipients beyond the stored
	// progress, which the lane's start moves past it; else from the due
	// queue, whose entry the intent replaces.
	Fresh bool
}

// ProviderReceipt is a provider's word on a delivery it accepted (POST
// /api/v1/receipts).
type ProviderReceipt struct {
	Channel        Channel   `json:"channel"`
	IdempotencyKey string    `json:"idempotencyKey"`
	ProviderID     string    `json:"providerId"`
	Status         string    `json:"status"` // delivered | failed
	Reason         string    `json:"reason"`
	At             time.Time `json:"at"`
}

// Advance moves the notification's progress on ch up to recipient seq
// (never back) and marks it done once every channel has been through every
// recipient. It reports whether the progress moved.
func (n *Notification) Advance(ch Channel, seq uint32) bool {
	if n.Progress == nil {
		n.Progress = map[Channel]uint32{}
	}
	moved := seq > n.Progress[ch]
	if moved {
		n.Progress[ch] = seq
	}
	if n.Status == StatusSending && n.AllSent() {
		n.Status = StatusDone
	}
	return moved
}

// AllSent reports whether every channel has been through every recipient.
func (n *Notification) AllSent() bool {
	for _, ch := range Channels {
		if int64(n.Progress[ch]) < n.Recipients {
			return false
		}
	}
	return true
}

// DeliveryQueue is the dispatcher's storage: the recipients of the
// notifications, the due queue, the delivery records, send-intents, early
// receipts, dead letters and the delivery statistics. It keeps what it is
// given; what a delivery's outcome means (a retry, a fallback, a dead
// letter) is the dispatcher's to decide.
type DeliveryQueue interface {
	// ReadDeliveries runs f on one consistent snapshot.
	ReadDeliveries(f func(DeliveryReader) error) error
	// UpdateDeliveries runs f in one transaction: everything it changes is
	// stored together, or nothing when f returns an error (which
	// UpdateDeliveries returns). f may be run again after a conflict with
	// another writer, so it must start afresh each time.
	UpdateDeliveries(f func(DeliveryTx) error) error
	// DetailLink is the link to a recipient's detail page (Outgoing.Token),
	// one for all its channels: keyed, so unguessable, and the same at
	// every resend, so a resent message is the same message. It is a path (/n/…) when the store
	// serves no detail pages.
	DetailLink(ref DeliveryRef, token uint64) string
}

// DeliveryReader reads the dispatcher's storage within a snapshot or a
// transaction.
type DeliveryReader interface {
	// Notification reads one notification (ErrNotFound if none).
	Notification(id uint64) (Notification, error)
	// Due calls each with ch's due entries, earliest first, until it
	// returns false; entries not yet due are given too.
	Due(ch Channel, each func(DueEntry) bool) error
	// Recipients calls each with n's recipients after seq after, in order
	// (they are numbered 1 to n.Recipients), until it returns false: with
	// the delivery on ch, or nil for a recipient without ch. Those given are not yet in the due queue nor
	// recorded: Prev and Due are zero.
	Recipients(n *Notification, ch Channel, after uint32, each func(seq uint32, o *Outgoing) bool) error
	// Outgoing prepares delivery ref of n (a due entry's, or a send-intent's)
	// with its stored record; an error when n has no recipient ref.Seq.
	Outgoing(n *Notification, ref DeliveryRef) (Outgoing, error)
	// SendIntents calls each with ch's send-intents until it returns false.
	SendIntents(ch Channel, each func(SendIntent) bool) error
}

// DeliveryTx changes the dispatcher's storage within UpdateDeliveries.
// What it reads sees its own changes.
type DeliveryTx interface {
	DeliveryReader
	// PutNotification stores a notification's progress and status.
	PutNotification(n *Notification) error
	// Delivery reads a delivery's record; ok is false when it has none.
	Delivery(ref DeliveryRef) (rec DeliveryRecord, ok bool, err error)
	// PutDelivery stores a delivery's record, replacing the earlier one.
	PutDelivery(ref DeliveryRef, rec DeliveryRecord) error
	// PutDue queues a delivery to be sent at e.At.
	PutDue(e DueEntry) error
	// DeleteDue takes a delivery's entry of time at out of the due queue.
	DeleteDue(ref DeliveryRef, at time.Time) error
	// PutDeadLetter parks a delivery in the dead-letter queue.
	PutDeadLetter(ref DeliveryRef, dl DeadLetter) error
	// EarlyReceipt is a receipt kept for a delivery not yet recorded as
	// accepted; ok is false when there is none.
	EarlyReceipt(ref DeliveryRef) (r ProviderReceipt, ok bool, err error)
	// PutEarlyReceipt keeps a receipt that came ahead of its acceptance.
	PutEarlyReceipt(ref DeliveryRef, r ProviderReceipt) error
	// DeleteEarlyReceipt forgets a kept receipt.
	DeleteEarlyReceipt(ref DeliveryRef) error
	// SendIntent reads a delivery's send-intent; ok is false when it has none.
	SendIntent(ref DeliveryRef) (si SendIntent, ok bool, err error)
	// PutSendIntent stores a send-intent, replacing its delivery's earlier one.
	PutSendIntent(si SendIntent) error
	// DeleteSendIntent forgets a delivery's send-intent.
	DeleteSendIntent(ref DeliveryRef) error
	// CountDeliveries adds n to the statistics (DeliveryStats) of type t,
	// channel ch and outcome.
	CountDeliveries(t NotificationType, ch Channel, outcome string, n int64) error
	// CountDailyDeliveries adds n to a figure of the dated statistics
	// (DeliveryReports.DailyDeliveries).
	CountDailyDeliveries(c DeliveryCell, n int64) error
}

// QueueIntent says that a message of a durable send queue (sign-up
// confirmations, officials' answers) is about to be, or perhaps was, handed
// to a provider: the queues' counterpart of SendIntent
// (central/notify/sendonce.go).
type QueueIntent struct {
	At    int64  // unix ms the intent was committed, just before its request
	Group uint64 // names the request for the provider's query
}

// QueueIntents keeps the send-intents of the durable send queues, by
// channel and message key.
type QueueIntents interface {
	// QueueIntents reads the intents of those of keys that have one.
	QueueIntents(ch Channel, keys []string) (map[string]QueueIntent, error)
	// PutQueueIntents stores in for every one of keys, in one transaction,
	// replacing their earlier intents.
	PutQueueIntents(ch Channel, keys []string, in QueueIntent) error
	// QueueSettled forgets the intents of messages whose answers are
	// recorded; a key without one is no error.
	QueueSettled(ch Channel, keys ...string) error
}

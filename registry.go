package allimi

import "time"

// Rejection records a refused up message (no payload: it may hold personal data).
type Rejection struct {
	ID     uint64    `json:"id"`
	At     time.Time `json:"at"`
	Kiosk  string    `json:"kiosk"`
	Reason string    `json:"reason"`
}

// RegistryStats are the registry's counters.
type RegistryStats struct {
	Subscribers int64 `json:"subscribers"`
	Records     struct {
		Stored     int64 `json:"stored"`
		Duplicates int64 `json:"duplicates"`
		Rejected   int64 `json:"rejected"`
	} `json:"records"`
	// Active counts active grants per notification type and channel.
	Active    map[string]map[string]int64 `json:"active"`
	Conflicts int                         `json:"conflicts"`
	Kiosks    map[string]uint64           `json:"kiosks,omitempty"` // high-water mark per kiosk; staff only
}

// ReceiptView is what the receipt page shows.
type ReceiptView struct {
	CitizenKey []byte // for the audit log
	Code       string
	Name       string // masked
	Kiosk      string
	Received   time.Time
	Verified   bool
	Consents   []ReceiptConsent // active grants
}

// ReceiptConsent is one type the person is signed up for.
type ReceiptConsent struct {
	Type     string   // its Korean name
	Channels []string // 카카오톡, 네이버, 토스, 문자
}

// channelNames are the channels as a receipt page names them.
var channelNames = map[Channel]string{ChannelKakao: "카카오톡", ChannelNaver: "네이버", ChannelToss: "토스", ChannelSMS: "문자"}

// ReceiptConsents lists a person's active grants as the receipt page
// shows them: each type by its Korean name, in the order of Types, with
// its channels' names in the order granted gives them.
func ReceiptConsents(granted map[NotificationType][]Channel) []ReceiptConsent {
	var out []ReceiptConsent
	for _, ti := range Types() {
		chs := granted[ti.ID]
		if len(chs) == 0 {
			continue
		}
		names := make([]string, len(chs))
		for i, ch := range chs {
			names[i] = channelNames[ch]
		}
		out = append(out, ReceiptConsent{Type: ti.Name, Channels: names})
	}
	return out
}

// BenefitsOutcome says what one catalog's matching did.
type BenefitsOutcome struct {
	Changed      int    // services new or changed in the catalog
	Profiles     int    // people whose conditions were matched
	Recipients   int    // people told
	Notification uint64 // the notice, 0 when nobody was told
}

// FeedbackCount is what people said of one knowledge-base entry.
type FeedbackCount struct {
	Entry      string `json:"entry"`
	Helpful    uint64 `json:"helpful"`
	NotHelpful uint64 `json:"notHelpful"`
}

// Incoming is one message from a kiosk's up topic, decoded and validated by
// the caller: either an Event or the reason it was refused.
type Incoming struct {
	Kiosk  string // from the topic, which the broker's ACL vouches for
	Event  *Event
	Reject error
	// Consents is the event's decoded payload when the caller already has
	// it; otherwise Commit decodes it.
	Consents *ConsentPayload
	// Prepared is what the registry's Prepare computed for the event ahead
	// of its transaction, in the registry's own form; Commit prepares the
	// records that arrive without it.
	Prepared any
}

// CommitOutcome says what a Registry.Commit did.
type CommitOutcome struct {
	Stored, Duplicates, Rejected int
	// Confirmations counts sign-ups made without a verified number, whose
	// owners central now tells by SMS.
	Confirmations int
	// HW holds, for every kiosk seen in the batch, the highest sequence
	// number up to which central now holds every record.
	HW map[string]uint64
}

// PendingConfirmation is a sign-up made without a verified number, whose
// owner is still to be told by SMS.
type PendingConfirmation struct {
	Key     []byte // the queue's key, handed back to DoneConfirmations
	Citizen Citizen
	At      time.Time
}

// Registry keeps what kiosks record: their events, stored once each; the
// citizens and their consents that the events change; the conflicts
// between kiosks and their resolution; and the counters of all this.
type Registry interface {
	// Prepare computes, ahead of the transaction, what storing in needs
	// and reads nothing stored (sealing, hashing), into in.Prepared.
	Prepare(in *Incoming)
	// Commit stores a batch atomically: new events and their effect on
	// citizens and consents (each change in the audit log), refusals (in
	// Rejections), and the kiosks' high-water marks. An event already
	// stored (same kiosk and seq), in an earlier batch or earlier in this
	// one, is a duplicate: counted, and it changes nothing.
	Commit(batch []Incoming) (CommitOutcome, error)
	// ConsentOf is a person's current consent for a type and channel
	// (the mobile number as NormalizeMobile writes it); false when they
	// never gave or withdrew one.
	ConsentOf(mobile, birthDate string, t NotificationType, ch Channel) (ConsentAction, bool, error)
	// LanguageOf is the language a person last signed up in
	// (ConsentPayload.Lang; empty means DefaultLanguage), as each delivery
	// to them reads it (Outgoing.Lang); false when central knows no such
	// person.
	LanguageOf(mobile, birthDate string) (string, bool, error)
	// Conflicts lists conflicts as officials see them (Conflict.Shown),
	// unresolved ones only unless all is set.
	Conflicts(all bool) ([]Conflict, error)
	// ResolveConflict records an official's decision (grant or withdraw)
	// and sets the consent, superseding every older change. An unknown id
	// is ErrNotFound; another decision, an empty official or a conflict
	// already resolved is ErrInvalid.
	ResolveConflict(id uint64, decision ConsentAction, official string) error
	// Stats reads the counters.
	Stats() (RegistryStats, error)
	// Subscribers counts people with at least one active grant.
	Subscribers() (int64, error)
	// HW is the highest sequence number up to which every record of the
	// kiosk is stored.
	HW(kiosk string) (uint64, error)
	// Rejections lists the most recent refused messages, newest first.
	Rejections(limit int) ([]Rejection, error)
	// Receipt is a sign-up's receipt page, for the person who gives the
	// receipt code and their date of birth: ErrNotFound otherwise, the
	// same for a wrong date as for an unknown code. A sign-up is found
	// under its payload's receipt code, or ReceiptCode(kiosk, seq) when it
	// has none; a code that already opens a sign-up keeps opening that one
	// (the later sign-up is kept without a page). Consents lists the
	// person's active grants, in the order of Types.
	Receipt(code, birthDate string) (ReceiptView, error)
	// Feedback counts the kiosks' feedback answers.
	Feedback() ([]FeedbackCount, error)
}

// Confirmations is the queue of sign-ups whose owners central tells by SMS
// (a sign-up without a verified number).
type Confirmations interface {
	// PendingConfirmations returns up to n confirmations still to send.
	PendingConfirmations(n int) ([]PendingConfirmation, error)
	// DoneConfirmations removes sent confirmations by their keys; a key
	// already removed is no error.
	DoneConfirmations(keys [][]byte) error
	// ConfirmationsPending counts the queue.
	ConfirmationsPending() (int, error)
}

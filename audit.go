package allimi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Person string    `json:"person,omitempty"` // pseudonym: not reversible without central's keys
	By     string    `json:"by,omitempty"`     // kiosk/seq, official, or "web"
	What   string    `json:"what,omitempty"`   // e.g. "grant health-checkup kakao"
	// Items are the changes of one committed batch of kiosk records, when
	// it held more than one: one entry per batch, whose hash covers every
	// Item. Entries written before batches were audited as one have none,
	// and hash as they always did (the field is left out of their JSON).
	Items []AuditItem `json:"items,omitempty"`
	Prev  string      `json:"prev"` // hash of the entry before (hex), "" for the first
	Hash  string      `json:"hash"` // SHA-256 of prev and this entry without its hash
}

// AuditItem is one change within a batch entry: what an entry of its own
// would have said.
type AuditItem struct {
	Person string `json:"person,omitempty"`
	By     string `json:"by,omitempty"`
	What   string `json:"what,omitempty"`
}

func (e *AuditEntry) Digest() string {
	c := *e
	c.Hash = ""
	b, _ := json.Marshal(c)
	h := sha256.New()
	h.Write([]byte(e.Prev))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditReport is what VerifyAudit found.
type AuditReport struct {
	Entries int    `json:"entries"`
	Head    string `json:"head"`
	// Broken is the first entry whose hash or link does not hold; 0 when
	// the chain is whole.
	Broken uint64 `json:"broken,omitempty"`
	Reason string `json:"reason,omitempty"`
}

var ErrAuditBroken = errors.New("audit log broken")

// AuditLog is the tamper-evident log of who saw or changed whose data:
// each entry carries the digest of the one before it.
type AuditLog interface {
	// AuditView records that a person's data was shown (kind says where,
	// what says which).
	AuditView(kind string, ck []byte, what string) error
	// VerifyAudit walks the chain and reports the first break, if any,
	// then also as an error wrapping ErrAuditBroken. An entry changed,
	// removed or put out of order breaks the chain, and so does removing
	// the last ones.
	VerifyAudit() (AuditReport, error)
}

// Audit kinds.
const (
	AuditConsent    = "consent"     // a kiosk's record changed consents
	AuditResolution = "resolution"  // an official settled a conflict
	AuditDetailView = "detail-view" // a recipient opened a notice's detail page
	AuditReceipt    = "receipt-view"
)

// AuditAnswer is an official's answer to a question; AuditQuestionAudio a
// play of a question's recording.
const (
	AuditAnswer        = "question-answer"
	AuditQuestionAudio = "question-audio"
	// AuditQuestionView is a look at a question's answer through the
	// code on its slip (the QR code's page).
	AuditQuestionView = "question-view"
)

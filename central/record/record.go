// Package record is a kiosk record as every store of central keeps it
// (central/bolt, central/pg): its key, the copy kept of it sealed under
// that key, its consent-log entry and its line in the audit log, and the
// work of computing these ahead of the transaction that stores it, so
// that a copy made in one store opens and verifies in the other.
package record

import (
	"encoding/binary"
	"fmt"

	"allimi"
	"allimi/central/keyring"
	"allimi/internal/jsonfast"
)

// Key names a record: its kiosk, a zero byte and its seq, big-endian.
// Its kept copy is sealed under it.
func Key(kiosk string, seq uint64) []byte {
	k := make([]byte, 0, len(kiosk)+9)
	k = append(k, kiosk...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// ToKeep is the copy of a record a store keeps: an audio chunk without
// its audio, which lives with its question so that the retention policy
// can delete it.
func ToKeep(e *allimi.Event) *allimi.Event {
	if e.Kind != allimi.KindQuestionAudio {
		return e
	}
	c := *e
	c.Payload = []byte(`{"audio":"kept with the question"}`)
	return &c
}

// LogEntry is what the consent log keeps of a record's payload: the
// consent changes and whether the number was verified. It is written from
// the decoded payload, not copied from the kiosk's bytes, so that no field
// the kiosk sent (known or not) reaches the store in plaintext.
func LogEntry(p *allimi.ConsentPayload) ([]byte, error) {
	return jsonfast.Marshal(allimi.ConsentPayload{Consents: p.Consents, Verified: p.Verified})
}

// Prepared is the part of storing a record that reads nothing stored:
// serialising, sealing and keying it, done by a store's Prepare before
// the batch's transaction (the ingest does it as each record arrives), so
// that it runs while the store commits the batch before. A field left
// empty (a step that failed) is computed by the store's Commit, which then
// reports the failure.
type Prepared struct {
	Sealed   []byte           // the record as kept, sealed under Key
	CK       []byte           // the person's key (records about a person)
	PII      []byte           // their personal data and language sealed under CK (sign-ups)
	LogEntry []byte           // the consent log entry
	Audit    allimi.AuditItem // the record's line in its batch's audit entry
	Audited  bool
}

// Prepare computes what storing in needs, or returns nil for a refusal or
// a record already prepared.
func Prepare(keys *keyring.Keys, in *allimi.Incoming) *Prepared {
	e := in.Event
	if _, done := in.Prepared.(*Prepared); in.Reject != nil || e == nil || done {
		return nil
	}
	p := &Prepared{}
	if plain, err := jsonfast.Marshal(ToKeep(e)); err == nil {
		p.Sealed = keys.Seal(plain, Key(e.Kiosk, e.Seq))
	}
	switch e.Kind {
	case allimi.KindFeedback, allimi.KindQuestionAudio, allimi.KindQuestion:
	default:
		if c := in.Consents; c != nil {
			p.CK = keys.CitizenKey(e.Citizen.Mobile, e.Citizen.BirthDate)
			if e.Kind == allimi.KindSignup {
				p.PII = keys.SealPerson(e.Citizen, c.Lang, p.CK)
			}
			if entry, err := LogEntry(c); err == nil {
				p.LogEntry = entry
			}
			p.Audit, p.Audited = AuditItem(keys, p.CK, e, c.AuditSummary()), true
		}
	}
	return p
}

// AuditItem is a record's line in its batch's audit entry: the person by
// pseudonym, the record by kiosk and seq, and what it changed.
func AuditItem(keys *keyring.Keys, ck []byte, e *allimi.Event, what string) allimi.AuditItem {
	it := allimi.AuditItem{By: fmt.Sprintf("%s/%d", e.Kiosk, e.Seq), What: what}
	if ck != nil {
		it.Person = keys.Pseudonym(ck)
	}
	return it
}

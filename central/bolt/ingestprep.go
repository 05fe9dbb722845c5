package bolt

import (
	"fmt"

	"allimi/internal/jsonfast"

	"allimi"
)

// prepared is the part of storing an event that reads nothing stored:
// serialising, sealing and keying it. Done before the batch's transaction
// (the ingest does it as each record arrives), it runs while the store
// commits the batch before, instead of inside the one transaction that
// every record waits on. Each field is empty when not prepared, and Commit
// then computes it as it always did.
type prepared struct {
	sealed   []byte           // the event as kept, sealed under its key
	ck       []byte           // the person's key (events about a person)
	pii      []byte           // their personal data sealed under ck (sign-ups)
	logEntry []byte           // the consent log entry
	audit    allimi.AuditItem // the event's line in the batch's audit entry
	audited  bool
}

// Prepare fills in.Prepared for an event; for a refusal it does nothing. A
// step that fails is left for Commit, which reports it.
func (s *Store) Prepare(in *allimi.Incoming) {
	e := in.Event
	if _, done := in.Prepared.(*prepared); in.Reject != nil || e == nil || done {
		return
	}
	p := &prepared{}
	if plain, err := jsonfast.Marshal(eventToKeep(e)); err == nil {
		p.sealed = s.keys.Seal(plain, eventKey(e.Kiosk, e.Seq))
	}
	switch e.Kind {
	case allimi.KindFeedback, allimi.KindQuestionAudio, allimi.KindQuestion:
	default:
		if c := in.Consents; c != nil {
			p.ck = s.keys.CitizenKey(e.Citizen.Mobile, e.Citizen.BirthDate)
			if e.Kind == allimi.KindSignup {
				p.pii = s.keys.Seal(encodePII(e.Citizen), p.ck)
			}
			if entry, err := consentLogEntry(c); err == nil {
				p.logEntry = entry
			}
			p.audit, p.audited = s.auditItem(p.ck, fmt.Sprintf("%s/%d", e.Kiosk, e.Seq), c.AuditSummary()), true
		}
	}
	in.Prepared = p
}

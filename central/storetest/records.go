package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"allimi"
)

// The people of the suites.
var (
	kim  = allimi.Citizen{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}
	lee  = allimi.Citizen{Name: "이영희", Mobile: "010-9876-5432", BirthDate: "1948-11-30"}
	park = allimi.Citizen{Name: "박민수", Mobile: "010-5555-1212", BirthDate: "1955-05-05"}
)

// kiosk numbers a kiosk's records as its outbox does, from 1.
type kiosk struct {
	id  string
	seq uint64
}

// record is the kiosk's next record, made at wall-clock time at (its
// hybrid clock) and validated as kiosks and central validate.
func (k *kiosk) record(t *testing.T, kind string, c allimi.Citizen, payload any, at time.Time) allimi.Event {
	t.Helper()
	k.seq++
	return event(t, k.id, k.seq, kind, c, payload, at)
}

// signup is the kiosk's next sign-up record.
func (k *kiosk) signup(t *testing.T, c allimi.Citizen, p allimi.ConsentPayload, at time.Time) allimi.Event {
	t.Helper()
	return k.record(t, allimi.KindSignup, c, p, at)
}

// consent is the kiosk's next record of changes to a person's consents.
func (k *kiosk) consent(t *testing.T, c allimi.Citizen, cs []allimi.Consent, at time.Time) allimi.Event {
	t.Helper()
	return k.record(t, allimi.KindConsent, c, allimi.ConsentPayload{Consents: cs, Verified: true}, at)
}

// event builds record seq of a kiosk.
func event(t *testing.T, kiosk string, seq uint64, kind string, c allimi.Citizen, payload any, at time.Time) allimi.Event {
	t.Helper()
	b, err := json.Marshal(payload)
	require.NoError(t, err)
	e := allimi.Event{V: allimi.EventVersion, Kiosk: kiosk, Seq: seq, HLC: allimi.NextHLC(0, at), Kind: kind, Citizen: c, Payload: b}
	require.NoError(t, e.Validate(time.Now()), "the suite's own record must be valid")
	return e
}

// changes are one action on one type over channels, by the person, at at.
func changes(action allimi.ConsentAction, at time.Time, typ allimi.NotificationType, chs ...allimi.Channel) []allimi.Consent {
	out := make([]allimi.Consent, len(chs))
	for i, ch := range chs {
		out[i] = allimi.Consent{Type: typ, Channel: ch, Action: action, By: allimi.Actor{Kind: allimi.ActorSelf}, At: at}
	}
	return out
}

func grants(at time.Time, typ allimi.NotificationType, chs ...allimi.Channel) []allimi.Consent {
	return changes(allimi.ActionGrant, at, typ, chs...)
}

func withdrawals(at time.Time, typ allimi.NotificationType, chs ...allimi.Channel) []allimi.Consent {
	return changes(allimi.ActionWithdraw, at, typ, chs...)
}

// commit commits events in one batch, as central's ingest does once it
// has decoded and validated them.
func commit(t *testing.T, b allimi.Registry, events ...allimi.Event) allimi.CommitOutcome {
	t.Helper()
	batch := make([]allimi.Incoming, len(events))
	for i := range events {
		batch[i] = allimi.Incoming{Kiosk: events[i].Kiosk, Event: &events[i]}
	}
	out, err := b.Commit(batch)
	require.NoError(t, err)
	return out
}

// consentOf is a person's consent on a channel, "" when they have none.
func consentOf(t *testing.T, b allimi.Registry, c allimi.Citizen, typ allimi.NotificationType, ch allimi.Channel) allimi.ConsentAction {
	t.Helper()
	a, ok, err := b.ConsentOf(c.Mobile, c.BirthDate, typ, ch)
	require.NoError(t, err)
	if !ok {
		require.Empty(t, a, "ConsentOf: an action with found false")
		return ""
	}
	return a
}

// active is the count of active grants Stats gives for a type and channel.
func active(t *testing.T, b allimi.Registry, typ allimi.NotificationType, ch allimi.Channel) int64 {
	t.Helper()
	st, err := b.Stats()
	require.NoError(t, err)
	return st.Active[string(typ)][string(ch)]
}

// auditEntries counts the audit log's entries, failing t if it is broken.
func auditEntries(t *testing.T, b allimi.AuditLog) int {
	t.Helper()
	r, err := b.VerifyAudit()
	require.NoError(t, err)
	require.Zero(t, r.Broken)
	return r.Entries
}

// typeName is a notification type's Korean name, as receipts show it.
func typeName(typ allimi.NotificationType) string {
	ti, _ := typ.Info()
	return ti.Name
}

package allimi

import (
	"fmt"
	"strings"
	"time"
)

// ConsentAction is what a consent change does.
type ConsentAction string

// Consent actions.
const (
	ActionGrant    ConsentAction = "grant"
	ActionWithdraw ConsentAction = "withdraw"
)

// ConsentMethod is how an official took a person's consent on their behalf.
type ConsentMethod string

// Consent methods an official may record.
const (
	MethodSpoken      ConsentMethod = "spoken"      // said in person at the counter
	MethodPaper       ConsentMethod = "paper"       // signed a paper form
	MethodVaccination ConsentMethod = "vaccination" // given with the vaccination consent form
)

// Actor says who made a consent change: the person themselves, an official
// on their behalf (with the official's id and how consent was taken), or
// central (an official resolving a conflict at central's console).
type Actor struct {
	Kind     string        `json:"kind"` // "self", "official" or "central"
	Official string        `json:"official,omitempty"`
	Method   ConsentMethod `json:"method,omitempty"`
}

// Actor kinds.
const (
	ActorSelf     = "self"
	ActorOfficial = "official"
	ActorCentral  = "central"
)

// Validate checks the actor.
func (a Actor) Validate() error {
	switch a.Kind {
	case ActorSelf:
		if a.Official != "" || a.Method != "" {
			return fmt.Errorf("by: a person acting for themselves has no official or method: %w", ErrInvalid)
		}
	case ActorOfficial, ActorCentral:
		if strings.TrimSpace(a.Official) == "" {
			return fmt.Errorf("by.official: empty: an official's id is required: %w", ErrInvalid)
		}
		if a.Kind == ActorOfficial {
			switch a.Method {
			case MethodSpoken, MethodPaper, MethodVaccination:
			default:
				return fmt.Errorf("by.method %q: must be spoken, paper or vaccination: %w", a.Method, ErrInvalid)
			}
		}
	default:
		return fmt.Errorf("by.kind %q: must be self, official or central: %w", a.Kind, ErrInvalid)
	}
	return nil
}

// Consent is one grant or withdrawal of one notification type on one channel.
type Consent struct {
	Type    NotificationType `json:"type"`
	Channel Channel          `json:"channel"`
	Action  ConsentAction    `json:"action"`
	By      Actor            `json:"by"`
	At      time.Time        `json:"at"` // wall clock of the kiosk, for people; ordering uses the event's HLC
}

// Validate checks every field of the consent.
func (c Consent) Validate() error {
	if err := c.Type.Validate(); err != nil {
		return err
	}
	if err := c.Channel.Validate(); err != nil {
		return err
	}
	if c.Action != ActionGrant && c.Action != ActionWithdraw {
		return fmt.Errorf("action %q: must be grant or withdraw: %w", c.Action, ErrInvalid)
	}
	if err := c.By.Validate(); err != nil {
		return err
	}
	if c.At.IsZero() {
		return fmt.Errorf("at: missing: %w", ErrInvalid)
	}
	return nil
}

// AuditSummary says what a record's consent changes were, for the audit
// log: no personal data, one "action type channel" per change, with the
// official and how consent was taken when an official made it.
func (p *ConsentPayload) AuditSummary() string {
	var b []byte
	for i, c := range p.Consents {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = fmt.Appendf(b, "%s %s %s", c.Action, c.Type, c.Channel)
		if c.By.Kind == ActorOfficial {
			b = fmt.Appendf(b, " by %s (%s)", c.By.Official, c.By.Method)
		}
	}
	return string(b)
}

// TouchesNewBenefits says whether a record's payload concerns new-benefits
// notices: it carries conditions, or changes a new-benefits consent. A
// store then keeps, replaces or forgets the person's conditions.
func (p *ConsentPayload) TouchesNewBenefits() bool {
	if len(p.Profile) > 0 {
		return true
	}
	for _, c := range p.Consents {
		if c.Type == TypeNewBenefits {
			return true
		}
	}
	return false
}

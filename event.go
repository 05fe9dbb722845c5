package allimi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"allimi/internal/jsonfast"
)

// EventVersion is the version of the sync event this build writes and reads.
const EventVersion = 1

// Event kinds.
const (
	KindSignup  = "signup"  // a person signs up: who they are and what they consent to
	KindConsent = "consent" // later changes to a known person's consents
	// KindFeedback is a "was this helpful?" answer about a consultation
	// answer: it names no person.
	KindFeedback = "feedback"
)

// Event is the append-only record a kiosk sends to central. The pair
// (Kiosk, Seq) identifies it: central stores each pair once, whatever the
// number of times it arrives. HLC is a hybrid logical clock (milliseconds
// since the epoch shifted left 16 bits, plus a counter) that orders a kiosk's
// events even when its wall clock steps back.
type Event struct {
	V       int             `json:"v"`
	Kiosk   string          `json:"kiosk"`
	Seq     uint64          `json:"seq"`
	HLC     uint64          `json:"hlc"`
	Kind    string          `json:"kind"`
	Citizen Citizen         `json:"citizen"`
	Payload json.RawMessage `json:"payload"`
	Sig     string          `json:"sig,omitempty"` // reserved for per-kiosk signatures; unused in v1
}

// ConsentPayload is the payload of signup and consent events.
type ConsentPayload struct {
	Consents []Consent `json:"consents"`
	// Verified is true when the kiosk confirmed the mobile number by SMS
	// code; false means central confirms it when the record arrives.
	Verified bool `json:"verified"`
	// Profile is the person's Subsidy 24 conditions (the JSON of a
	// subsidy profile), sent only with a grant of TypeNewBenefits: central
	// keeps it to tell them of services that turn eligible for them.
	Profile json.RawMessage `json:"profile,omitempty"`
	// Region is where they live, "시도" or "시도/시군구", for local services.
	Region string `json:"region,omitempty"`
	// Receipt is the code on a sign-up's slip (NewReceiptCode), drawn at
	// random by the kiosk; central indexes the sign-up under it. A sign-up
	// without one (from an earlier kiosk) is indexed under
	// ReceiptCode(kiosk, seq), the code such kiosks printed.
	Receipt string `json:"receipt,omitempty"`
	// Lang is the language the kiosk was in when the person signed up,
	// one of Languages; empty (a kiosk built before sign-ups recorded it)
	// means DefaultLanguage. Central keeps it with the person: a later
	// sign-up replaces it. Only a sign-up carries one.
	Lang string `json:"lang,omitempty"`
}

// MaxProfileSize bounds ConsentPayload.Profile.
const MaxProfileSize = 4 << 10

// FeedbackPayload is the payload of a feedback event: which knowledge-base
// entry was shown and whether it helped. The question asked is not sent: it
// may identify the person.
type FeedbackPayload struct {
	Entry   string `json:"entry"`
	Helpful bool   `json:"helpful"`
}

var entryIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var kioskIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateKioskID checks a kiosk id: lower-case letters, digits and dashes,
// up to 63 characters, so that it is safe inside MQTT topics and user names.
func ValidateKioskID(id string) error {
	if !kioskIDPattern.MatchString(id) {
		return fmt.Errorf("kiosk id %q: use 1-63 lower-case letters, digits and dashes: %w", id, ErrInvalid)
	}
	return nil
}

// HLCTime is the wall-clock part of a hybrid logical clock value.
func HLCTime(hlc uint64) time.Time { return time.UnixMilli(int64(hlc >> 16)) }

// NextHLC returns a clock value after last and not before now.
func NextHLC(last uint64, now time.Time) uint64 {
	wall := uint64(now.UnixMilli()) << 16
	if wall > last {
		return wall
	}
	return last + 1
}

// Validate checks the whole event, normalising the citizen in place. Kiosks
// call it before they append, central before it stores: both sides refuse
// the same things.
func (e *Event) Validate(now time.Time) error {
	_, err := e.ValidatePayload(now)
	return err
}

// ValidatePayload is Validate that also returns the decoded payload.
func (e *Event) ValidatePayload(now time.Time) (ConsentPayload, error) {
	var p ConsentPayload
	if e.V != EventVersion {
		return p, fmt.Errorf("v=%d: this build speaks version %d: %w", e.V, EventVersion, ErrUnsupportedVersion)
	}
	if err := ValidateKioskID(e.Kiosk); err != nil {
		return p, err
	}
	if e.Seq == 0 {
		return p, fmt.Errorf("seq: must start at 1: %w", ErrInvalid)
	}
	if e.HLC == 0 {
		return p, fmt.Errorf("hlc: missing: %w", ErrInvalid)
	}
	switch e.Kind {
	case KindFeedback:
		_, err := e.Feedback()
		return p, err
	case KindQuestionAudio:
		_, err := e.QuestionAudio()
		return p, err
	case KindQuestion:
		_, err := e.Question()
		return p, err
	}
	if e.Kind != KindSignup && e.Kind != KindConsent {
		return p, fmt.Errorf("kind %q: must be signup, consent, feedback, question-audio or question: %w", e.Kind, ErrInvalid)
	}
	if err := e.Citizen.Validate(now); err != nil {
		return p, &CitizenError{Err: err}
	}
	p, err := e.Consents()
	if err != nil {
		return p, err
	}
	if len(p.Consents) == 0 {
		return p, fmt.Errorf("payload.consents: empty: %w", ErrInvalid)
	}
	if len(p.Consents) > len(Types())*len(Channels) {
		return p, fmt.Errorf("payload.consents: %d entries, at most %d: %w", len(p.Consents), len(Types())*len(Channels), ErrInvalid)
	}
	if p.Receipt != "" {
		switch {
		case e.Kind != KindSignup:
			return p, fmt.Errorf("payload.receipt: only a sign-up has a receipt code: %w", ErrInvalid)
		case !IsRandomReceiptCode(p.Receipt):
			// Not quoted: a receipt code is half of what opens the sign-up's page.
			return p, fmt.Errorf("payload.receipt: must be %d letters of the receipt alphabet as XXXX-XXXX-XXXX: %w", ReceiptCodeLetters, ErrInvalid)
		}
	}
	if p.Lang != "" {
		if e.Kind != KindSignup {
			return p, fmt.Errorf("payload.lang: only a sign-up records a language: %w", ErrInvalid)
		}
		if err := ValidateLanguage("payload.lang", p.Lang); err != nil {
			return p, err
		}
	}
	if len(p.Profile) > 0 || p.Region != "" {
		granted := false
		for _, c := range p.Consents {
			granted = granted || (c.Type == TypeNewBenefits && c.Action == ActionGrant)
		}
		switch {
		case !granted:
			return p, fmt.Errorf("payload.profile: only with a grant of %s: %w", TypeNewBenefits, ErrInvalid)
		case len(p.Profile) > MaxProfileSize:
			return p, fmt.Errorf("payload.profile: %d bytes, at most %d: %w", len(p.Profile), MaxProfileSize, ErrInvalid)
		case len(p.Profile) > 0 && !json.Valid(p.Profile):
			return p, fmt.Errorf("payload.profile: not JSON: %w", ErrInvalid)
		case len(p.Region) > 100:
			return p, fmt.Errorf("payload.region: too long: %w", ErrInvalid)
		}
	}
	for i, c := range p.Consents {
		if err := c.Validate(); err != nil {
			return p, fmt.Errorf("payload.consents[%d]: %w", i, err)
		}
		if c.By.Kind == ActorCentral {
			// Only central's own console resolves conflicts; a kiosk
			// claiming to be central would override people's choices.
			return p, fmt.Errorf("payload.consents[%d]: by.kind central: a kiosk cannot act as central: %w", i, ErrInvalid)
		}
	}
	return p, nil
}

// CitizenError is a validation error in an event's citizen. Its message
// quotes what was typed, for the person at the kiosk; Redacted says what was
// wrong without the personal data, for central's logs and rejection list.
type CitizenError struct{ Err error }

func (e *CitizenError) Error() string { return "citizen: " + e.Err.Error() }
func (e *CitizenError) Unwrap() error { return e.Err }

// Redacted names the problem without quoting personal data.
func (e *CitizenError) Redacted() string {
	msg := e.Err.Error()
	for _, field := range []string{"name", "mobile number", "date of birth"} {
		if strings.HasPrefix(msg, field) {
			return "citizen: invalid " + field + " (value withheld: personal data)"
		}
	}
	return "citizen: invalid (value withheld: personal data)"
}

// Feedback decodes and checks the payload of a feedback event, which must
// name no citizen.
func (e *Event) Feedback() (FeedbackPayload, error) {
	var f FeedbackPayload
	if e.Citizen != (Citizen{}) {
		return f, fmt.Errorf("citizen: a feedback record names nobody: %w", ErrInvalid)
	}
	if err := e.decodePayload(&f); err != nil {
		return f, err
	}
	if !entryIDPattern.MatchString(f.Entry) {
		return f, fmt.Errorf("payload.entry %q: 1-64 letters, digits, _ or -: %w", f.Entry, ErrInvalid)
	}
	return f, nil
}

// Consents decodes the payload of a signup or consent event (Validate
// checks it).
func (e *Event) Consents() (ConsentPayload, error) {
	var p ConsentPayload
	err := e.decodePayload(&p)
	return p, err
}

// decodePayload decodes the event's payload into v, the payload type of its
// kind, the same way for every kind: a field v does not have, or anything
// after the JSON value, is refused rather than dropped, so that central
// never applies half of what a kiosk meant; the record shows in central's
// rejection list instead. The error names the kind. Kiosks build payloads
// from these same types, so every field they send is known; a payload
// field added later needs central upgraded before the kiosks.
func (e *Event) decodePayload(v any) error {
	if jsonfast.Decode(e.Payload, v) {
		return nil
	}
	// Refused by the fast decoder: encoding/json gives the verdict.
	d := json.NewDecoder(bytes.NewReader(e.Payload))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s payload: %v: %w", e.Kind, err, ErrInvalid)
	}
	// A second token, not Decoder.More: More reports false for a stray
	// "}" or "]" after the value.
	if _, err := d.Token(); err != io.EOF {
		return fmt.Errorf("%s payload: data after the JSON value: %w", e.Kind, ErrInvalid)
	}
	return nil
}

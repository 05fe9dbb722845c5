package kiosk

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"allimi"
	"allimi/sync/outbox"
)

// Session is one person's visit: what they have typed and chosen so far.
// It lives only in memory and is cleared when they finish, say "not now",
// go home or walk away (idle), so the next person sees none of it.
type Session struct {
	Name   string
	Mobile string
	// BirthYear, BirthMonth and BirthDay are 0 until chosen.
	BirthYear, BirthMonth, BirthDay int

	Types    map[allimi.NotificationType]bool
	Channels map[allimi.Channel]bool

	// Official is the signed-in official registering on the person's
	// behalf (assisted sign-up and withdrawal); nil when the person acts
	// for themselves. Method is how the official took consent.
	Official *StaffMember
	Method   allimi.ConsentMethod

	// Verified is set when the person typed the SMS code; verifyAsked
	// once a code was asked for (or tried), so it is asked for once.
	Verified    bool
	verifyAsked bool

	// Lang is the language the sign-up record names
	// (allimi.ConsentPayload.Lang): the screen's when the person finishes
	// (finishSignup sets it); empty names none, which central reads as
	// Korean.
	Lang Lang

	// receipt is set once the record is stored: a second tap on the
	// button that stores it (a double tap, a tap while the screen
	// changes) returns it instead of storing a second record.
	receipt *Receipt

	// Subsidy holds the answers to 보조금 찾기's questions; NewBenefits
	// is set when the person accepted its offer to be told of new
	// benefits, and carries what the sign-up record sends with them.
	Subsidy     SubsidyAnswers
	NewBenefits *NewBenefitsOffer

	// Ask is 말로 물어보기's question and answers.
	Ask AskState

	// drawCode draws the sign-up's receipt code (Options.ReceiptCode);
	// nil: allimi.NewReceiptCode.
	drawCode func() (string, error)
}

// NewSession returns an empty session with SMS chosen: every mobile phone
// can receive one, so it is the choice that always works.
func NewSession() *Session {
	return &Session{
		Types:    map[allimi.NotificationType]bool{},
		Channels: map[allimi.Channel]bool{allimi.ChannelSMS: true},
	}
}

// Clear forgets everything in the session (not how it draws codes).
func (s *Session) Clear() {
	draw := s.drawCode
	*s = *NewSession()
	s.drawCode = draw
}

// Empty reports whether nothing has been typed or chosen beyond the
// defaults.
func (s *Session) Empty() bool {
	return s.Name == "" && s.Mobile == "" && s.BirthYear == 0 && s.BirthMonth == 0 && s.BirthDay == 0 &&
		len(s.chosenTypes()) == 0 && s.Official == nil && s.receipt == nil &&
		len(s.chosenChannels()) == 1 && s.Channels[allimi.ChannelSMS] &&
		s.Subsidy.Empty() && s.NewBenefits == nil && s.Ask.Empty()
}

// BirthDate is the chosen date as YYYY-MM-DD ("" when incomplete).
func (s *Session) BirthDate() string {
	if s.BirthYear == 0 || s.BirthMonth == 0 || s.BirthDay == 0 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", s.BirthYear, s.BirthMonth, s.BirthDay)
}

// InputError is a mistake in what the person entered; Key is the
// translation of the message to show them, Args its placeholders.
type InputError struct {
	Key  string
	Args []any
	Err  error
}

func (e *InputError) Error() string {
	if e.Err != nil {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Key
}
func (e *InputError) Unwrap() error { return e.Err }

// Message is the error in language l.
func (e *InputError) Message(l Lang) string { return l.T(e.Key, e.Args...) }

func inputErr(key string, err error, args ...any) error {
	return &InputError{Key: key, Err: err, Args: args}
}

// Citizen checks who the person said they are and returns it normalised.
// Each check has its own message, so the person learns which answer to fix.
func (s *Session) Citizen(now time.Time) (allimi.Citizen, error) {
	c := allimi.Citizen{Name: strings.TrimSpace(s.Name), Mobile: s.Mobile, BirthDate: s.BirthDate()}
	name, mobile, err := checkContact(s.Name, s.Mobile)
	if err != nil {
		return c, err
	}
	c.Name, c.Mobile = name, mobile
	if c.BirthDate == "" {
		return c, inputErr("err.birth_missing", nil)
	}
	t, err := time.Parse(allimi.DateLayout, c.BirthDate)
	switch {
	case err != nil:
		// The picker offers day 31 in every month: a date such as 30
		// February is caught here and named, not silently moved.
		return c, inputErr("err.birth_impossible", err, "date", c.BirthDate)
	case t.Year() < 1900:
		return c, inputErr("err.birth_old", nil)
	case t.After(now):
		return c, inputErr("err.birth_future", nil)
	}
	if err := c.Validate(now); err != nil {
		// The root package's rules are the ones central applies; a rule
		// added there and not above still stops the record here.
		return c, inputErr("err.name_invalid", err)
	}
	return c, nil
}

// checkContact checks a name and a mobile number as a sign-up does (the
// hand-over to an official asks for the same two) and returns them
// normalised; each mistake has its own message.
func checkContact(name, mobile string) (string, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return name, mobile, inputErr("err.name_empty", nil)
	case utf8.RuneCountInString(name) > 50:
		return name, mobile, inputErr("err.name_long", nil)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return name, mobile, inputErr("err.name_invalid", nil)
	}
	m, err := allimi.NormalizeMobile(mobile)
	if err != nil {
		return name, mobile, inputErr("err.mobile_invalid", err)
	}
	return name, m, nil
}

// normalizedMobile is the mobile number as 010-NNNN-NNNN, or as typed
// when it is not a valid one.
func (s *Session) normalizedMobile() string {
	if m, err := allimi.NormalizeMobile(s.Mobile); err == nil {
		return m
	}
	return s.Mobile
}

func (s *Session) chosenTypes() []allimi.NotificationType {
	var out []allimi.NotificationType
	for _, ti := range allimi.Types() {
		if s.Types[ti.ID] {
			out = append(out, ti.ID)
		}
	}
	return out
}

func (s *Session) chosenChannels() []allimi.Channel {
	var out []allimi.Channel
	for _, c := range allimi.Channels {
		if s.Channels[c] {
			out = append(out, c)
		}
	}
	return out
}

// actor is who makes the change: the person, or the official with the
// method they recorded.
func (s *Session) actor() allimi.Actor {
	if s.Official != nil {
		return allimi.Actor{Kind: allimi.ActorOfficial, Official: s.Official.ID, Method: s.Method}
	}
	return allimi.Actor{Kind: allimi.ActorSelf}
}

// SignupDraft builds the one sign-up record of the session: the person and
// one grant per chosen type and channel.
func (s *Session) SignupDraft(now time.Time) (outbox.Draft, error) {
	c, err := s.Citizen(now)
	if err != nil {
		return outbox.Draft{}, err
	}
	types, channels := s.chosenTypes(), s.chosenChannels()
	if len(types) == 0 {
		return outbox.Draft{}, inputErr("err.types_none", nil)
	}
	if len(channels) == 0 {
		return outbox.Draft{}, inputErr("err.channels_none", nil)
	}
	if s.Official != nil && s.Method == "" {
		return outbox.Draft{}, inputErr("err.method_none", nil)
	}
	// The slip's code is drawn here, at random, and travels in the record:
	// one derived from the kiosk and sequence number could be computed by
	// anyone who knows them.
	draw := s.drawCode
	if draw == nil {
		draw = allimi.NewReceiptCode
	}
	code, err := draw()
	if err != nil {
		return outbox.Draft{}, err
	}
	p := allimi.ConsentPayload{Verified: s.Verified, Receipt: code, Lang: string(s.Lang)}
	for _, t := range types {
		for _, ch := range channels {
			p.Consents = append(p.Consents, allimi.Consent{Type: t, Channel: ch, Action: allimi.ActionGrant, By: s.actor(), At: now})
		}
	}
	if nb := s.NewBenefits; nb != nil && s.Types[allimi.TypeNewBenefits] {
		// The conditions go only with the grant they were given for.
		b, err := json.Marshal(nb.Profile)
		if err != nil {
			return outbox.Draft{}, fmt.Errorf("new-benefits profile: %w", err)
		}
		p.Profile, p.Region = b, nb.Region
	}
	return outbox.Draft{Kind: allimi.KindSignup, Citizen: c, Payload: &p}, nil
}

// WithdrawDraft builds a consent record withdrawing the chosen types on
// every channel: a person who says "stop" means everywhere.
func (s *Session) WithdrawDraft(now time.Time) (outbox.Draft, error) {
	c, err := s.Citizen(now)
	if err != nil {
		return outbox.Draft{}, err
	}
	types := s.chosenTypes()
	if len(types) == 0 {
		return outbox.Draft{}, inputErr("err.types_none", nil)
	}
	if s.Official != nil && s.Method == "" {
		return outbox.Draft{}, inputErr("err.method_none", nil)
	}
	p := allimi.ConsentPayload{}
	for _, t := range types {
		for _, ch := range allimi.Channels {
			p.Consents = append(p.Consents, allimi.Consent{Type: t, Channel: ch, Action: allimi.ActionWithdraw, By: s.actor(), At: now})
		}
	}
	return outbox.Draft{Kind: allimi.KindConsent, Citizen: c, Payload: &p}, nil
}

// ErrNotRegistered means the kiosk has no outbox: it was started without a
// kiosk id, so it cannot store records.
var ErrNotRegistered = errors.New("kiosk not registered: no outbox to store records in")

// Receipt is what the person takes away: a code to check or withdraw the
// sign-up later.
type Receipt struct {
	Code  string
	Kiosk string
	Seq   uint64
}

// submit stores d through rec once per session: a repeated call returns the
// first receipt and stores nothing.
func (s *Session) submit(rec Recorder, d outbox.Draft) (Receipt, error) {
	if s.receipt != nil {
		return *s.receipt, nil
	}
	if rec == nil {
		return Receipt{}, ErrNotRegistered
	}
	evs, err := rec.Append(d)
	if err != nil {
		return Receipt{}, fmt.Errorf("store %s record: %w", d.Kind, err)
	}
	if len(evs) != 1 {
		return Receipt{}, fmt.Errorf("store %s record: outbox stored %d events, want 1", d.Kind, len(evs))
	}
	var code string
	if p, ok := d.Payload.(*allimi.ConsentPayload); ok {
		code = p.Receipt
	}
	if code == "" {
		// A withdrawal has no receipt page; its slip names the record.
		code = ReceiptCode(evs[0].Kiosk, evs[0].Seq)
	}
	r := Receipt{Code: code, Kiosk: evs[0].Kiosk, Seq: evs[0].Seq}
	s.receipt = &r
	return r, nil
}

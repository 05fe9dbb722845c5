package allimi

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AgencyCredentials are what an agency's system needs to post notifications.
type AgencyCredentials struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// AgencyPolicy is what one agency may send: the notification types it
// issues (the police send traffic fines, not vaccination dates) and the
// hosts its payment links may point at, so a leaked agency token cannot
// send every citizen a "fine" with a link to a look-alike payment site.
//
// An agency registered without a list of types (`agency add --id ID`, the
// command's contract since agencies existed, and every agency registered
// before policies) is unrestricted: any type, payment links to any https
// host. Once it has types it is held to them, and to its payment hosts:
// none listed means no payment links. Operators restrict every agency
// (README, "Security"); `agency add` without --types says so.
type AgencyPolicy struct {
	Types        []NotificationType `json:"types,omitempty"`
	PaymentHosts []string           `json:"paymentHosts,omitempty"`
}

// Checked is the policy as a store keeps it for agency id: every type one
// central knows, and payment hosts as bare host names in lower case (as
// Permits compares them); otherwise ErrInvalid, naming what is wrong.
func (p AgencyPolicy) Checked(id string) (AgencyPolicy, error) {
	for _, t := range p.Types {
		if _, ok := t.Info(); !ok {
			return p, fmt.Errorf("agency %s: notification type %q: unknown: %w", id, t, ErrInvalid)
		}
	}
	hosts := make([]string, 0, len(p.PaymentHosts))
	for _, h := range p.PaymentHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if u, err := url.Parse("https://" + h); err != nil || u.Host != h || u.Port() != "" || h == "" || strings.Contains(h, "*") {
			return p, fmt.Errorf("agency %s: payment host %q: give a host name alone, such as pay.police.go.kr: %w", id, h, ErrInvalid)
		}
		hosts = append(hosts, h)
	}
	p.PaymentHosts = hosts
	return p, nil
}

// Restricted says whether the policy limits anything: an agency without a
// list of types may send every type, with payment links to any host.
func (p AgencyPolicy) Restricted() bool { return len(p.Types) > 0 }

// Permits checks a request against the policy: a *FieldError (sent as a
// 403) when it does not allow it. A type central does not
// know, or a payment link that is no https URL, is left to the request's
// own validation (400), and so is a payment link on a type with nothing
// to pay.
func (p AgencyPolicy) Permits(agency string, req *NotificationRequest) error {
	if !p.Restricted() {
		return nil
	}
	if _, known := req.Type.Info(); known && !slices.Contains(p.Types, req.Type) {
		ts := make([]string, len(p.Types))
		for i, t := range p.Types {
			ts[i] = string(t)
		}
		return FieldErr("type", "agency %s may not send %s notifications (allowed: %s)", agency, req.Type, strings.Join(ts, ", "))
	}
	if req.PaymentURL == "" || !req.Type.Payable() {
		return nil
	}
	u, err := url.Parse(req.PaymentURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil
	}
	if !slices.Contains(p.PaymentHosts, strings.ToLower(u.Hostname())) || u.User != nil {
		allowed := "none: an operator runs `allimi central agency allow --id " + agency + " --payment-hosts …`"
		if len(p.PaymentHosts) > 0 {
			allowed = strings.Join(p.PaymentHosts, ", ")
		}
		return FieldErr("paymentUrl", "agency %s may not link to %s (allowed hosts: %s)", agency, u.Hostname(), allowed)
	}
	return nil
}

// KioskCredentials are what a kiosk needs to reach the broker.
type KioskCredentials struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Password string `json:"password"`
	// CatalogKey is central's public key for catalog signatures (base64).
	CatalogKey string `json:"catalogKey,omitempty"`
}

// KioskUsername is the broker user name of a kiosk.
func KioskUsername(id string) string { return "kiosk-" + id }

// OfficialCredentials is what `official add` prints.
type OfficialCredentials struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// Errors of Kiosks.RedeemEnrolment, as the kiosk's screen and the log say
// them; central's enrolment endpoint tells the three apart.
var (
	ErrEnrolUnknown = &kindError{"enrolment code unknown: check it, or ask for a new one", ErrNotFound}
	ErrEnrolUsed    = &kindError{"enrolment code already used: ask the official for a new one", ErrInvalid}
	ErrEnrolExpired = &kindError{"enrolment code expired: ask the official for a new one", ErrInvalid}
)

// Kiosks keeps the kiosks' broker credentials and their one-time
// enrolment codes.
type Kiosks interface {
	// AddKiosk registers a kiosk (an id ValidateKioskID accepts, else
	// ErrInvalid), or gives it a new password, which revokes the old one.
	AddKiosk(id string) (KioskCredentials, error)
	// CheckKiosk checks a broker login (KioskUsername of the id and the
	// password) and returns the kiosk's id.
	CheckKiosk(username, password string) (string, bool)
	// AddEnrolment issues a one-time code with which kiosk id fetches its
	// credentials, valid for ttl (ErrInvalid for a bad id, or a ttl not
	// between a second and 30 days).
	AddEnrolment(id string, ttl time.Duration) (code string, expires time.Time, err error)
	// RedeemEnrolment spends a code, as a person types it (any case, with
	// or without its dashes and spaces), and returns the kiosk's
	// credentials, with a new password that revokes the old one, and
	// central's catalog key. A code it does not know is ErrEnrolUnknown;
	// a code spent before, ErrEnrolUsed; one past its expiry,
	// ErrEnrolExpired.
	RedeemEnrolment(code string) (KioskCredentials, error)
}

// KioskUser is a kiosk's broker login as central keeps it: the password
// only as its bcrypt hash, which a broker that checks logins itself (NATS,
// from its configuration file) accepts as it is.
type KioskUser struct {
	ID           string
	Username     string // KioskUsername(ID)
	PasswordHash string // bcrypt ("$2a$…")
}

// KioskUsers lists the kiosks' broker logins, for `central nats-config`,
// which writes them into the NATS servers' configuration.
type KioskUsers interface {
	// KioskUsers returns every registered kiosk's login, by id; a new
	// password (AddKiosk again, or an enrolment) replaces the old hash.
	KioskUsers() ([]KioskUser, error)
}

// Agencies keeps the agencies allowed to send notifications: their
// tokens and what each may send.
type Agencies interface {
	// AddAgency registers an agency (ids as ValidateKioskID, else
	// ErrInvalid), unrestricted until SetAgencyPolicy; or gives it a new
	// token, which revokes the old one and keeps its policy.
	AddAgency(id string) (AgencyCredentials, error)
	// AgencyByToken returns the agency a token belongs to.
	AgencyByToken(tok string) (string, bool)
	// SetAgencyPolicy sets what an agency may send: ErrNotFound for an
	// agency never added, ErrInvalid for a type central does not know or a
	// payment host that is not a bare host name. Hosts are kept in lower
	// case, as Permits compares them.
	SetAgencyPolicy(id string, p AgencyPolicy) error
	// AgencyPolicyOf is what an agency may send (ErrNotFound for an agency
	// never added).
	AgencyPolicyOf(id string) (AgencyPolicy, error)
	// SetAgencyName sets the name people read for an agency (경찰청) on
	// the pages of its notices: 1-50 characters, else ErrInvalid;
	// ErrNotFound for an agency never added. A new token keeps it.
	SetAgencyName(id, name string) error
	// AgencyName is that name, "" when none was set (ErrNotFound for an
	// agency never added).
	AgencyName(id string) (string, error)
}

// ValidateAgencyName checks an agency's name as people read it.
func ValidateAgencyName(name string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(name)); n == 0 || n > 50 || strings.ContainsFunc(name, unicode.IsControl) {
		return fmt.Errorf("agency name %q: 1-50 characters, no control characters: %w", name, ErrInvalid)
	}
	return nil
}

// Officials keeps the officials of the community centres and central:
// their tokens and their browser sessions.
type Officials interface {
	// AddOfficial registers an official (1-63 lower-case letters, digits,
	// dots, dashes and underscores, else ErrInvalid), or with rotate gives
	// an existing one a new token, which revokes the old one and ends the
	// official's sessions. Adding an existing id without rotate is
	// ErrInvalid and changes nothing.
	AddOfficial(id string, rotate bool) (OfficialCredentials, error)
	// OfficialByToken returns the official a token belongs to, "" when
	// none.
	OfficialByToken(tok string) (string, error)
	// OfficialCheck checks an official's id and token.
	OfficialCheck(id, tok string) (bool, error)
	// StartOfficialSession opens a browser session for an official
	// (ErrNotFound for one never added), live from now until expires.
	StartOfficialSession(official string, now time.Time) (id string, expires time.Time, err error)
	// OfficialBySession returns the official of a session live at now, ""
	// when the session is unknown, ended or expired, or the official's
	// token changed since it started. Sessions outlive a restart.
	OfficialBySession(id string, now time.Time) (string, error)
	// EndOfficialSession ends a session; ending one that is not live is
	// no error.
	EndOfficialSession(id string) error
}

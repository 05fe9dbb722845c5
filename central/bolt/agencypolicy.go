package bolt

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.etcd.io/bbolt"

	"allimi"
)

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
	Types        []allimi.NotificationType `json:"types,omitempty"`
	PaymentHosts []string                  `json:"paymentHosts,omitempty"`
}

// SetAgencyPolicy replaces what agency id may send; its token is unchanged.
func (s *Store) SetAgencyPolicy(id string, p AgencyPolicy) error {
	for _, t := range p.Types {
		if _, ok := t.Info(); !ok {
			return fmt.Errorf("agency %s: notification type %q: unknown: %w", id, t, allimi.ErrInvalid)
		}
	}
	hosts := make([]string, 0, len(p.PaymentHosts))
	for _, h := range p.PaymentHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if u, err := url.Parse("https://" + h); err != nil || u.Host != h || u.Port() != "" || h == "" || strings.Contains(h, "*") {
			return fmt.Errorf("agency %s: payment host %q: give a host name alone, such as pay.police.go.kr: %w", id, h, allimi.ErrInvalid)
		}
		hosts = append(hosts, h)
	}
	p.PaymentHosts = hosts
	return s.Db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAgencies)
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("agency %s: not registered (run `allimi central agency add`): %w", id, allimi.ErrNotFound)
		}
		var rec agencyRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("agency %s: %w", id, err)
		}
		rec.AgencyPolicy = p
		nv, _ := json.Marshal(rec)
		return b.Put([]byte(id), nv)
	})
}

// AgencyPolicyOf returns what agency id may send.
func (s *Store) AgencyPolicyOf(id string) (AgencyPolicy, error) {
	var rec agencyRecord
	err := s.Db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketAgencies).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("agency %s: %w", id, allimi.ErrNotFound)
		}
		return json.Unmarshal(v, &rec)
	})
	return rec.AgencyPolicy, err
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

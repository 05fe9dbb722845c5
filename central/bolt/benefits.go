package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/subsidy"
)

// People who granted new-benefits told central their Subsidy 24 conditions
// (a subsidy profile) and region; central keeps them sealed, and only while
// the grant lasts. When a new Subsidy 24 catalog is published, the services
// that are new or changed are matched against every such profile, and each
// person is told of those that turned eligible for them — once per service.
var ()

// benefitProfile is how a person's conditions are kept (sealed JSON).
type benefitProfile = subsidy.Kept

// keepProfile stores (or, once no channel's grant of new-benefits is left,
// deletes) a person's conditions after an event was applied. Conditions
// central cannot match (an unknown code) are not kept, and the refusal is
// listed with the rejections; the record itself is stored, so that the
// kiosk's queue moves on and the person's other choices stand.
func (s *Store) keepProfile(tx *bbolt.Tx, e *allimi.Event, ck []byte, p *allimi.ConsentPayload) error {
	// From the consents: the subs index may be behind them (subsfold.go).
	active, err := subscribedTo(tx, ck, allimi.TypeNewBenefits)
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketProfiles)
	if !active {
		return b.Delete(ck)
	}
	if len(p.Profile) == 0 {
		return nil // a later change that does not restate the conditions keeps them
	}
	if err := subsidy.CheckConditions(p.Profile, p.Region, s.now()); err != nil {
		return s.logRejection(tx, allimi.Incoming{Kiosk: e.Kiosk, Reject: fmt.Errorf("record %d: conditions not kept: %w", e.Seq, err)})
	}
	plain, _ := json.Marshal(benefitProfile{Profile: p.Profile, Region: p.Region, At: allimi.HLCTime(e.HLC).UTC()})
	return b.Put(ck, s.keys.Seal(plain, append([]byte("profile\x00"), ck...)))
}

// NotifyNewBenefits matches the services of next that are new or changed
// since prev against every kept profile, and queues one new-benefits notice
// to everyone for whom one turned eligible (and who was not told of it
// before). version identifies next; a repeat for the same version sends
// nothing new.
func (s *Store) NotifyNewBenefits(prev, next *subsidy.Catalog, version uint64, now time.Time) (allimi.BenefitsOutcome, error) {
	var out allimi.BenefitsOutcome
	changed := next.Changed(prev)
	out.Changed = len(changed)
	if len(changed) == 0 {
		return out, nil
	}
	sub := next.Subset(changed)
	type match struct {
		ck       []byte
		services []*subsidy.Service
	}
	var matches []match
	var recipients []allimi.RecipientRequest
	err := s.db.View(func(tx *bbolt.Tx) error {
		profiles, notified := tx.Bucket(bucketProfiles), tx.Bucket(bucketBenefitNotified)
		return s.eachSubscriber(tx, allimi.TypeNewBenefits, func(ck, v []byte) error {
			sealed := profiles.Get(ck)
			if sealed == nil || len(v) < 2 {
				return nil
			}
			plain, err := s.keys.Open(sealed, append([]byte("profile\x00"), ck...))
			if err != nil {
				return fmt.Errorf("profile: %w", err)
			}
			var bp benefitProfile
			if err := json.Unmarshal(plain, &bp); err != nil {
				return fmt.Errorf("profile: %w", err)
			}
			got, ok := bp.NewlyEligible(sub, now, func(id string) bool { return notified.Get(benefitKey(ck, id)) != nil })
			if !ok {
				return nil
			}
			out.Profiles++
			if len(got) == 0 {
				return nil
			}
			cit, err := s.openPII(ck, v[1:])
			if err != nil {
				return err
			}
			matches = append(matches, match{ck: bytes.Clone(ck), services: got})
			recipients = append(recipients, subsidy.BenefitsRecipient(cit, got))
			return nil
		})
	})
	if err != nil || len(recipients) == 0 {
		return out, err
	}
	key, req := subsidy.BenefitsNotice(version, recipients)
	n, _, err := s.CreateNotification(subsidy.BenefitsAgency, key, req)
	if err != nil {
		return out, fmt.Errorf("new-benefits notice: %w", err)
	}
	// Remember who was told of what: the next catalog tells only of more.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketBenefitNotified)
		for _, m := range matches {
			for _, sv := range m.services {
				if err := b.Put(benefitKey(m.ck, sv.ID), u64(version)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	out.Recipients, out.Notification = int(n.Recipients), n.ID
	return out, err
}

func benefitKey(ck []byte, service string) []byte {
	return append(append(bytes.Clone(ck), 0), service...)
}

// ErrNoCatalog: there is no previous catalog to compare with.
var ErrNoCatalog = subsidy.ErrNoCatalog

// SubsidyCatalog decodes the kept Subsidy 24 catalog (subsidy.KeptCatalog).
func (s *Store) SubsidyCatalog() (*subsidy.Catalog, uint64, error) { return subsidy.KeptCatalog(s) }

package bolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

// benefitsAgency is the sender of new-benefits notices: central itself.
const benefitsAgency = "allimi"

type benefitProfile struct {
	Profile json.RawMessage `json:"profile"`
	Region  string          `json:"region,omitempty"`
	// At is when the person gave the conditions: an age given instead of a
	// birth date was their age then.
	At time.Time `json:"at"`
}

// ageNow is the age a profile gave at, on now (whole years later).
func ageNow(age int, at, now time.Time) int {
	if at.IsZero() || !now.After(at) {
		return age
	}
	years := now.Year() - at.Year()
	if now.YearDay() < at.YearDay() {
		years--
	}
	return age + max(years, 0)
}

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
	if err := checkBenefitProfile(p, s.now()); err != nil {
		return s.logRejection(tx, allimi.Incoming{Kiosk: e.Kiosk, Reject: fmt.Errorf("record %d: conditions not kept: %w", e.Seq, err)})
	}
	plain, _ := json.Marshal(benefitProfile{Profile: p.Profile, Region: p.Region, At: allimi.HLCTime(e.HLC).UTC()})
	return b.Put(ck, s.keys.Seal(plain, append([]byte("profile\x00"), ck...)))
}

// checkBenefitProfile checks the conditions a sign-up for new-benefits
// carries, as ingest does before anything is stored: a profile central
// could not match is refused with its record. The error names the field
// and the rule it breaks, never the value: it goes to the rejection list
// and the log, and a birth date, an income band or a disability code is
// personal data (subsidy's own messages quote the value, for a person
// checking what they typed).
func checkBenefitProfile(p *allimi.ConsentPayload, now time.Time) error {
	if len(p.Profile) == 0 && p.Region == "" {
		return nil
	}
	prof, err := subsidy.ParseProfile(p.Profile)
	if err != nil {
		return fmt.Errorf("payload.profile: not a profile (one JSON object with only %s, each of its type) %s: %w",
			"birthDate, age, sex, income, traits, household", valueWithheld, allimi.ErrInvalid)
	}
	if _, err := subsidy.NewPerson(prof, now); err != nil {
		return fmt.Errorf("payload.profile %s %s: %w", profileProblem(prof, now), valueWithheld, allimi.ErrInvalid)
	}
	if _, err := subsidy.ParseRegion(p.Region); err != nil {
		return fmt.Errorf("payload.region: not a 시도 or 시도/시군구 of Korea %s: %w", valueWithheld, allimi.ErrInvalid)
	}
	return nil
}

// profileProblem names the first field of prof that NewPerson refuses and
// the rule it breaks, by checking each field alone.
func profileProblem(prof subsidy.Profile, now time.Time) string {
	alone := func(p subsidy.Profile) bool { _, err := subsidy.NewPerson(p, now); return err != nil }
	switch {
	case prof.BirthDate != "" && alone(subsidy.Profile{BirthDate: prof.BirthDate}):
		birth, err := subsidy.ParseDate(prof.BirthDate)
		switch {
		case err != nil:
			return "birth date: not a date (YYYY-MM-DD, one that exists)"
		case birth.After(now):
			return "birth date: in the future"
		default:
			return "birth date: more than 150 years ago"
		}
	case prof.Age != nil && alone(subsidy.Profile{Age: prof.Age}):
		return "age: not 0 to 150"
	case prof.Sex != "" && alone(subsidy.Profile{Sex: prof.Sex}):
		return "sex: not M or F"
	case prof.Income != "" && alone(subsidy.Profile{Income: prof.Income}):
		return "income: not an income code (JA0201 to JA0205)"
	case prof.Traits != nil && alone(subsidy.Profile{Traits: prof.Traits}):
		return "traits: not personal-trait codes of the gov24 table, or none-of-these with another"
	case prof.Household != nil && alone(subsidy.Profile{Household: prof.Household}):
		return "household: not household codes of the gov24 table, or none-of-these with another"
	}
	return "invalid"
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
			p, err := subsidy.ParseProfile(bp.Profile)
			if err != nil {
				return nil // checked when stored; a later build's stricter rules skip it
			}
			if p.Age != nil && p.BirthDate == "" {
				a := ageNow(*p.Age, bp.At, now)
				p.Age = &a
			}
			who, err := subsidy.NewPerson(p, now)
			if err != nil {
				return nil
			}
			region, _ := subsidy.ParseRegion(bp.Region)
			out.Profiles++
			var got []*subsidy.Service
			for _, r := range sub.Match(who, subsidy.Options{Region: region}) {
				if r.Verdict == subsidy.Eligible && notified.Get(benefitKey(ck, r.Service.ID)) == nil {
					got = append(got, r.Service)
				}
			}
			if len(got) == 0 {
				return nil
			}
			cit, err := s.openPII(ck, v[1:])
			if err != nil {
				return err
			}
			service := got[0].Name
			if len(got) > 1 {
				service = fmt.Sprintf("%s 외 %d건", got[0].Name, len(got)-1)
			}
			matches = append(matches, match{ck: bytes.Clone(ck), services: got})
			recipients = append(recipients, allimi.RecipientRequest{Mobile: cit.Mobile, BirthDate: cit.BirthDate,
				Params: map[string]string{"service": service, "count": strconv.Itoa(len(got))}})
			return nil
		})
	})
	if err != nil || len(recipients) == 0 {
		return out, err
	}
	req := &allimi.NotificationRequest{Type: allimi.TypeNewBenefits, Title: "새로 받을 수 있는 혜택 안내"}
	req.Audience.Citizens = recipients
	n, _, err := s.CreateNotification(benefitsAgency, fmt.Sprintf("%s-v%d", subsidy.CatalogName, version), req)
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
var ErrNoCatalog = errors.New("no previous catalog")

// SubsidyCatalog decodes a stored Subsidy 24 catalog.
func (s *Store) SubsidyCatalog() (*subsidy.Catalog, uint64, error) {
	c, ok, err := s.Catalog(subsidy.CatalogName)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, ErrNoCatalog
	}
	cat, err := subsidy.Decode(c.Body)
	return cat, c.Manifest.Version, err
}

package subsidy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"allimi"
	"allimi/sync/catalog"
)

// Central tells people who granted new-benefits of the Subsidy 24 services
// that turn eligible for them when a new catalog is published. It keeps
// their conditions as Kept, sealed, while the grant lasts; every store of
// central matches them the same way (Eligible) and sends one notice
// (BenefitsNotice) to everyone with something new.

// BenefitsAgency is the sender of new-benefits notices: central itself.
const BenefitsAgency = "allimi"

// Kept is a person's conditions as central keeps them (as JSON, sealed).
type Kept struct {
	Profile json.RawMessage `json:"profile"`
	Region  string          `json:"region,omitempty"`
	// At is when the person gave the conditions: an age given instead of a
	// birth date was their age then.
	At time.Time `json:"at"`
}

// NewlyEligible returns the services of sub the person is eligible for on
// now and was not told of (told says, by service id); ok is false when
// their conditions cannot be read by this build (checked when stored; a
// later build's stricter rules skip them).
func (k Kept) NewlyEligible(sub *Catalog, now time.Time, told func(service string) bool) (services []*Service, ok bool) {
	p, err := ParseProfile(k.Profile)
	if err != nil {
		return nil, false
	}
	if p.Age != nil && p.BirthDate == "" {
		a := ageNow(*p.Age, k.At, now)
		p.Age = &a
	}
	who, err := NewPerson(p, now)
	if err != nil {
		return nil, false
	}
	region, _ := ParseRegion(k.Region)
	for _, r := range sub.Match(who, Options{Region: region}) {
		if r.Verdict == Eligible && !told(r.Service.ID) {
			services = append(services, r.Service)
		}
	}
	return services, true
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

// BenefitsRecipient is a person's line of a new-benefits notice, naming
// the first of the services got and how many there are.
func BenefitsRecipient(c allimi.Citizen, got []*Service) allimi.RecipientRequest {
	service := got[0].Name
	if len(got) > 1 {
		service = fmt.Sprintf("%s 외 %d건", got[0].Name, len(got)-1)
	}
	return allimi.RecipientRequest{Mobile: c.Mobile, BirthDate: c.BirthDate,
		Params: map[string]string{"service": service, "count": strconv.Itoa(len(got))}}
}

// BenefitsNotice is the new-benefits notice to recipients for catalog
// version, and its idempotency key: the same version notifies once.
func BenefitsNotice(version uint64, recipients []allimi.RecipientRequest) (idemKey string, req *allimi.NotificationRequest) {
	req = &allimi.NotificationRequest{Type: allimi.TypeNewBenefits, Title: "새로 받을 수 있는 혜택 안내"}
	req.Audience.Citizens = recipients
	return fmt.Sprintf("%s-v%d", CatalogName, version), req
}

// ErrNoCatalog: central keeps no Subsidy 24 catalog yet, so there is none
// to compare a new one with.
var ErrNoCatalog = errors.New("no previous catalog")

// CatalogKeeper is where central keeps its catalogs (sync/catalog.Keeper).
type CatalogKeeper interface {
	Catalog(name string) (catalog.Stored, bool, error)
}

// KeptCatalog decodes the Subsidy 24 catalog k keeps, and gives its
// version; ErrNoCatalog when k keeps none.
func KeptCatalog(k CatalogKeeper) (*Catalog, uint64, error) {
	c, ok, err := k.Catalog(CatalogName)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, ErrNoCatalog
	}
	cat, err := Decode(c.Body)
	return cat, c.Manifest.Version, err
}

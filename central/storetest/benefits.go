package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/subsidy"
)

// BenefitsBackend is what the Benefits suite needs of a store: the
// registry that keeps people's conditions with their new-benefits grant,
// the matching of a new Subsidy 24 catalog against them, and a restart.
type BenefitsBackend[B any] interface {
	allimi.Registry
	NotifyNewBenefits(prev, next *subsidy.Catalog, version uint64, now time.Time) (allimi.BenefitsOutcome, error)
	Reopen(t *testing.T) B
}

// Benefits checks new-benefits matching: people who granted new-benefits
// with their conditions are told once of each service that turns eligible
// for them, and no longer once they withdraw.
func Benefits[B BenefitsBackend[B]](t *testing.T, open func(*testing.T) B) {
	t.Run("ToldOnceOfEachService", func(t *testing.T) { benefitsTold(t, open(t)) })
}

// benefitsCatalog has one service per id, each open from the given age.
func benefitsCatalog(from map[string]int) *subsidy.Catalog {
	var list []subsidy.Service
	for id, age := range from {
		list = append(list, subsidy.Service{ID: id, Name: "서비스 " + id, Content: "지원",
			URL: "https://www.gov.kr/portal/rcvfvrSvc/dtlEx/" + id, Conditions: &subsidy.Conditions{AgeFrom: &age}})
	}
	return subsidy.NewCatalog(subsidy.About{Source: "storetest"}, list)
}

func benefitsTold[B BenefitsBackend[B]](t *testing.T, b B) {
	now := time.Now()
	at := now.Add(-time.Hour)
	k := &kiosk{id: "kiosk-a"}
	signup := func(c allimi.Citizen, age int) allimi.Event {
		prof, err := json.Marshal(subsidy.Profile{Age: &age})
		require.NoError(t, err)
		return k.signup(t, c, allimi.ConsentPayload{Consents: grants(at, allimi.TypeNewBenefits, allimi.ChannelKakao),
			Verified: true, Profile: prof}, at)
	}
	out := commit(t, b, signup(kim, 76), signup(lee, 30))
	require.Equal(t, 2, out.Stored)

	v1 := benefitsCatalog(map[string]int{"s1": 65})
	none := benefitsCatalog(nil)
	got, err := b.NotifyNewBenefits(none, v1, 1, now)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Changed)
	assert.Equal(t, 2, got.Profiles, "both people's conditions matched")
	assert.Equal(t, 1, got.Recipients, "kim, 76, is eligible; lee, 30, is not")
	assert.NotZero(t, got.Notification)

	again, err := b.NotifyNewBenefits(none, v1, 1, now)
	require.NoError(t, err)
	assert.Zero(t, again.Recipients, "told once")

	b = b.Reopen(t)
	v2 := benefitsCatalog(map[string]int{"s1": 65, "s2": 70})
	got, err = b.NotifyNewBenefits(v1, v2, 2, now)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Changed, "only s2 is new")
	assert.Equal(t, 1, got.Recipients, "kim is told of s2, and only of it")

	commit(t, b, k.consent(t, kim, withdrawals(at.Add(time.Minute), allimi.TypeNewBenefits, allimi.ChannelKakao), at.Add(time.Minute)))
	v3 := benefitsCatalog(map[string]int{"s1": 65, "s2": 70, "s3": 18})
	got, err = b.NotifyNewBenefits(v2, v3, 3, now)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Profiles, "kim's conditions were forgotten with her grant")
	assert.Equal(t, 1, got.Recipients, "lee, 30, is eligible for s3")
}

package central_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/channel"
	"allimi/internal/loadgen"
	"allimi/subsidy"
	"allimi/sync/outbox"
)

func intp(n int) *int { return &n }

// benefitsCatalog is a small Subsidy 24 catalog: services by id, each
// open from the given age.
func benefitsCatalog(t *testing.T, from map[string]int) []byte {
	t.Helper()
	var list []subsidy.Service
	for id, age := range from {
		list = append(list, subsidy.Service{ID: id, Name: "서비스 " + id, Content: "지원", URL: "https://www.gov.kr/portal/rcvfvrSvc/dtlEx/" + id,
			Conditions: &subsidy.Conditions{AgeFrom: intp(age)}})
	}
	b, err := subsidy.Encode(subsidy.NewCatalog(subsidy.About{Source: "test"}, list))
	require.NoError(t, err)
	return b
}

func (f *kioskFixture) putCatalog(t *testing.T, name string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://"+f.srv.HTTPAddr()+"/api/v1/catalogs/"+name, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.admin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// benefitsSignup is a sign-up for new-benefits with the person's age.
func benefitsSignup(t *testing.T, n uint64, age int) outbox.Draft {
	t.Helper()
	d := loadgen.Signup("sejong-01", n, nil, time.Now())
	p := d.Payload.(*allimi.ConsentPayload)
	p.Consents = []allimi.Consent{{Type: allimi.TypeNewBenefits, Channel: allimi.ChannelKakao, Action: allimi.ActionGrant,
		By: allimi.Actor{Kind: allimi.ActorSelf}, At: time.Now()}}
	prof, err := json.Marshal(subsidy.Profile{Age: intp(age)})
	require.NoError(t, err)
	p.Profile, p.Region, p.Verified = prof, "세종", true
	return d
}

// daytime runs the dispatcher's clock at noon in Korea: new-benefits
// notices are not urgent, and quiet hours would hold them.
func daytime(c *central.Config) {
	kst := time.FixedZone("KST", 9*3600)
	n := time.Now().In(kst)
	offset := time.Date(n.Year(), n.Month(), n.Day(), 12, 0, 0, 0, kst).Sub(n)
	c.Dispatch.Now = func() time.Time { return time.Now().Add(offset) }
}

func (f *kioskFixture) kakaoTo(mobile string) []channel.FakeMessage {
	var out []channel.FakeMessage
	for _, m := range f.fake.Messages(allimi.ChannelKakao) {
		if m.Recipient == mobile && m.Status == "accepted" {
			out = append(out, m)
		}
	}
	return out
}

func TestNewBenefits_PeopleAreToldOfServicesThatTurnEligibleForThem(t *testing.T) {
	f := newKioskFixture(t, daytime)
	senior, young := benefitsSignup(t, 1, 70), benefitsSignup(t, 2, 30)
	_, err := f.outbox.Append(senior, young)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))

	code, body := f.putCatalog(t, subsidy.CatalogName, []byte("not a catalog"))
	assert.Equal(t, http.StatusBadRequest, code, "a catalog kiosks could not read is refused: %s", body)

	// The first catalog is what people were shown: no news.
	code, body = f.putCatalog(t, subsidy.CatalogName, benefitsCatalog(t, map[string]int{"S1": 65}))
	require.Equal(t, http.StatusOK, code, body)
	// The second adds a service for people of 65 and over, and one for 80.
	code, body = f.putCatalog(t, subsidy.CatalogName, benefitsCatalog(t, map[string]int{"S1": 65, "S2": 65, "S3": 80}))
	require.Equal(t, http.StatusOK, code, body)

	require.Eventually(t, func() bool { return len(f.kakaoTo(senior.Citizen.Mobile)) == 1 }, 20*time.Second, 20*time.Millisecond)
	text := f.kakaoTo(senior.Citizen.Mobile)[0].Text
	assert.Contains(t, text, "서비스 S2")
	assert.NotContains(t, text, "서비스 S1", "S1 was there before")
	assert.NotContains(t, text, "서비스 S3", "80 and over: not for 70")
	assert.Contains(t, text, "count=1")

	// A third catalog changes S2's conditions and adds S4 for 60 and over:
	// the senior hears of S4 only, and the young person of nothing.
	code, body = f.putCatalog(t, subsidy.CatalogName, benefitsCatalog(t, map[string]int{"S1": 65, "S2": 60, "S3": 80, "S4": 60}))
	require.Equal(t, http.StatusOK, code, body)
	require.Eventually(t, func() bool { return len(f.kakaoTo(senior.Citizen.Mobile)) == 2 }, 20*time.Second, 20*time.Millisecond)
	second := f.kakaoTo(senior.Citizen.Mobile)[1].Text
	assert.Contains(t, second, "서비스 S4")
	assert.False(t, strings.Contains(second, "서비스 S2"), "told of S2 already")
	assert.Empty(t, f.kakaoTo(young.Citizen.Mobile))
}

func TestNewBenefits_AWithdrawalForgetsTheConditions(t *testing.T) {
	f := newKioskFixture(t, daytime)
	senior := benefitsSignup(t, 1, 70)
	withdraw := outbox.Draft{Kind: allimi.KindConsent, Citizen: senior.Citizen, Payload: &allimi.ConsentPayload{Consents: []allimi.Consent{
		{Type: allimi.TypeNewBenefits, Channel: allimi.ChannelKakao, Action: allimi.ActionWithdraw, By: allimi.Actor{Kind: allimi.ActorSelf}, At: time.Now()}}}}
	_, err := f.outbox.Append(senior, withdraw)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))

	code, _ := f.putCatalog(t, subsidy.CatalogName, benefitsCatalog(t, map[string]int{"S1": 65}))
	require.Equal(t, http.StatusOK, code)
	code, _ = f.putCatalog(t, subsidy.CatalogName, benefitsCatalog(t, map[string]int{"S1": 65, "S2": 65}))
	require.Equal(t, http.StatusOK, code)
	// A person who signs up after that gets the next news, and the one who
	// withdrew does not: the matching ran and skipped them.
	other := benefitsSignup(t, 3, 75)
	_, err = f.outbox.Append(other)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))
	code, _ = f.putCatalog(t, subsidy.CatalogName, benefitsCatalog(t, map[string]int{"S1": 65, "S2": 65, "S5": 70}))
	require.Equal(t, http.StatusOK, code)
	require.Eventually(t, func() bool { return len(f.kakaoTo(other.Citizen.Mobile)) == 1 }, 20*time.Second, 20*time.Millisecond)
	assert.Empty(t, f.kakaoTo(senior.Citizen.Mobile))
}

func TestNewBenefits_UnknownConditionsAreNotKeptButTheSignupIs(t *testing.T) {
	f := newKioskFixture(t)
	bad := benefitsSignup(t, 1, 70)
	bad.Payload.(*allimi.ConsentPayload).Profile = json.RawMessage(`{"age":70,"traits":["JA9999"]}`)
	_, err := f.outbox.Append(bad)
	require.NoError(t, err, "the kiosk checks the shape; central checks the codes")
	require.NoError(t, f.sender.WaitDrained(context.Background()), "the kiosk's queue moves on")
	resp := getAs(t, "http://"+f.srv.HTTPAddr()+"/api/v1/rejections", f.admin)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(b), "conditions not kept: payload.profile traits: not personal-trait codes")
	assert.NotContains(t, string(b), "JA9999", "a person's codes are not quoted")
	assert.NotContains(t, string(b), bad.Citizen.Name)

	st := f.statsJSON(t)
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeNewBenefits)][string(allimi.ChannelKakao)], "the grant itself stands")
}

func (f *kioskFixture) statsJSON(t *testing.T) allimi.RegistryStats {
	t.Helper()
	resp := getAs(t, "http://"+f.srv.HTTPAddr()+"/api/v1/stats", f.admin)
	defer resp.Body.Close()
	var st allimi.RegistryStats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

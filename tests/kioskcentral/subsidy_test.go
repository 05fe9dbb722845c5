package kioskcentral

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/kiosk"
	"allimi/kiosk/kiosktest"
	"allimi/subsidy"
)

// testSubsidyCatalog is a small catalog whose services each turn on one
// rule, and one local service of another region.
func testSubsidyCatalog() *subsidy.Catalog {
	ip := func(v int) *int { return &v }
	conds := func(from *int, codes ...string) *subsidy.Conditions {
		return &subsidy.Conditions{AgeFrom: from, Codes: codes}
	}
	svc := func(id, name string, c *subsidy.Conditions) subsidy.Service {
		return subsidy.Service{ID: id, Name: name, Content: name + " 지원내용", HowToApply: "방문||온라인",
			Reception: "주민센터", Phone: "02-120", URL: "https://www.gov.kr/portal/rcvfvrSvc/dtlEx/" + id,
			UserType: "개인", OrgType: "중앙행정기관", Org: "보건복지부", Conditions: c}
	}
	local := svc("S06", "부산 어르신 교통비", conds(ip(65)))
	local.OrgType, local.Org = "지방자치단체", "부산광역시"
	return subsidy.NewCatalog(subsidy.About{Source: "test catalog"}, []subsidy.Service{
		svc("S01", "어르신 수당", conds(ip(65))),
		svc("S02", "여성 건강 지원", conds(nil, "JA0102")),
		svc("S03", "장애인 보조기기", conds(nil, "JA0328")),
		svc("S04", "생활 안정 지원", nil),
		svc("S05", "저소득 가구 지원", conds(nil, "JA0201")),
		local,
		svc("S07", "홀로 사는 분 돌봄", conds(nil, "JA0404")),
		// Two conditions: first among the eligible when both are met,
		// last among those worth asking about when both are unknown.
		svc("S08", "여성 어르신 건강검진", conds(ip(65), "JA0102")),
	})
}

// newSubsidyKiosk is a kiosk in 경기/성남시 with the test catalog.
func newSubsidyKiosk(t *testing.T, opt kiosk.Options) *kiosktest.Kiosk {
	t.Helper()
	region, err := subsidy.ParseRegion("경기/성남시")
	require.NoError(t, err)
	opt.Subsidy = kiosk.NewSubsidyFinder(testSubsidyCatalog(), region)
	return kiosktest.New(t, opt)
}

func startSubsidy(k *kiosktest.Kiosk) {
	k.Tap("home.subsidy")
	k.RequireScreen("subsidy-start")
	k.Tap("subsidy.start")
	k.RequireScreen("subsidy-birth")
}

// codeName is how the kiosk names a 보조금24 condition code.
func codeName(k *kiosktest.Kiosk, code string) string {
	return k.UI.T("code." + strings.ToLower(code))
}

func TestSubsidy_NewBenefitsOfferStoresOneRecordAtCentral(t *testing.T) {
	c := newCentral(t, "kiosk-nb")
	c.Start()
	ks := startKioskSync(t, c)
	k := newSubsidyKiosk(t, ks.options(c))

	startSubsidy(k)
	k.SetBirth(1948, 5, 17)
	k.Tap("nav.next")
	k.TapCard(k.UI.T("subsidy.sex_m"))
	k.Tap("subsidy.unsure") // size
	k.Tap("subsidy.unsure") // income
	k.RequireScreen("subsidy-traits")
	k.TapCard(codeName(k, "JA0328"))
	k.Tap("nav.next")
	k.RequireScreen("subsidy-household")
	k.TapCard(codeName(k, subsidy.CodeNoHousehold))
	k.Tap("nav.next")
	k.RequireScreen("subsidy-results")
	want := subsidy.Profile{BirthDate: "1948-05-17", Sex: "M", Traits: []string{"JA0328"}, Household: []string{}}
	require.Equal(t, want, k.UI.Session().SubsidyProfile())

	k.Tap("subsidy.offer_yes")
	k.RequireScreen("signup-who")
	// The date of birth is the one just given; name and mobile are asked.
	assert.Equal(t, "1948-05-17", k.UI.Session().BirthDate())
	k.TypeInto("who.name_hint", "박노인")
	k.TypeInto("who.mobile_hint", "010-2468-1357")
	k.Tap("nav.next")
	k.RequireScreen("signup-channels") // the type is chosen: new benefits
	k.TapCard(k.ChannelName(allimi.ChannelKakao))
	k.Tap("nav.next")
	k.RequireScreen("signup-consent")
	// The notice names the type and the channels, and says what the
	// profile is sent for.
	k.RequireShows(k.UI.T("consent.body", "types", k.TypeName(allimi.TypeNewBenefits),
		"channels", k.ChannelName(allimi.ChannelKakao)+k.UI.T("consent.list_sep")+k.ChannelName(allimi.ChannelSMS)) +
		"\n" + k.UI.T("consent.new_benefits"))
	agree := k.Buttons(k.UI.T("consent.agree"))
	require.Len(t, agree, 1)
	test.Tap(agree[0]) // twice, as an unsteady finger does
	test.Tap(agree[0])
	k.RequireScreen("signup-done")

	evs := ks.spy.Events()
	require.Len(t, evs, 1, "one record, whatever the taps")
	e := evs[0]
	assert.Equal(t, allimi.KindSignup, e.Kind)
	p, err := e.ValidatePayload(time.Now())
	require.NoError(t, err)
	var types []allimi.NotificationType
	var chans []allimi.Channel
	for _, cs := range p.Consents {
		assert.Equal(t, allimi.ActionGrant, cs.Action)
		types = append(types, cs.Type)
		chans = append(chans, cs.Channel)
	}
	assert.Equal(t, []allimi.NotificationType{allimi.TypeNewBenefits, allimi.TypeNewBenefits}, types)
	assert.ElementsMatch(t, []allimi.Channel{allimi.ChannelSMS, allimi.ChannelKakao}, chans)
	assert.Equal(t, "경기/성남시", p.Region)
	got, err := subsidy.ParseProfile(p.Profile)
	require.NoError(t, err, "central reads the profile with the subsidy package")
	assert.Equal(t, want, got)
	assert.JSONEq(t, `{"birthDate":"1948-05-17","sex":"M","traits":["JA0328"],"household":[]}`, string(p.Profile))

	ks.waitDelivered(t, c)
	st := c.stats()
	assert.EqualValues(t, 1, st.Records.Stored)
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeNewBenefits)]["sms"])
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeNewBenefits)]["kakao"])

	k.Tap("done.finish")
	k.RequireScreen("home")
	assert.True(t, k.UI.Session().Empty(), "nothing of the person stays on the kiosk")
}

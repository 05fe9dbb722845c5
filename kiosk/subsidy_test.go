package kiosk

import (
	"context"
	"encoding/json"
	"image"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/subsidy"
	"allimi/sync/outbox"
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
func newSubsidyKiosk(t *testing.T, opt Options) (*kioskUnderTest, *subsidy.Catalog) {
	t.Helper()
	cat := testSubsidyCatalog()
	region, err := subsidy.ParseRegion("경기/성남시")
	require.NoError(t, err)
	opt.Subsidy = NewSubsidyFinder(cat, region)
	return newKiosk(t, opt), cat
}

// expectedGroups are the services cat.Match says are eligible and worth
// asking about, in the catalog's order: the oracle for the screen.
// reasons counts each one's reasons.
func expectedGroups(t *testing.T, cat *subsidy.Catalog, p subsidy.Profile, now time.Time) (eligible, check []string, reasons map[string]int) {
	t.Helper()
	who, err := subsidy.NewPerson(p, now)
	require.NoError(t, err)
	region, err := subsidy.ParseRegion("경기/성남시")
	require.NoError(t, err)
	reasons = map[string]int{}
	for _, r := range cat.Match(who, subsidy.Options{Region: region}) {
		reasons[r.Service.Name] = len(r.Reasons)
		switch r.Verdict {
		case subsidy.Eligible:
			eligible = append(eligible, r.Service.Name)
		case subsidy.NeedsCheck:
			check = append(check, r.Service.Name)
		}
	}
	return eligible, check, reasons
}

// assertShownInOrder checks the names shown: the eligible ones, most
// conditions met first, then the ones worth asking about, fewest open
// questions first; nothing else.
func assertShownInOrder(t *testing.T, shown, eligible, check []string, reasons map[string]int) {
	t.Helper()
	require.Len(t, shown, len(eligible)+len(check))
	assert.ElementsMatch(t, eligible, shown[:len(eligible)], "eligible first")
	assert.ElementsMatch(t, check, shown[len(eligible):], "then worth asking about")
	for i := 1; i < len(shown); i++ {
		a, b := shown[i-1], shown[i]
		switch {
		case i < len(eligible):
			assert.GreaterOrEqual(t, reasons[a], reasons[b], "%s before %s: more conditions met first", a, b)
		case i > len(eligible):
			assert.LessOrEqual(t, reasons[a], reasons[b], "%s before %s: fewer open questions first", a, b)
		}
	}
}

// shownNames are the catalog's service names on screen, in layout order.
func shownNames(k *kioskUnderTest, cat *subsidy.Catalog) []string {
	var out []string
	for _, s := range k.shownText() {
		for _, sv := range cat.Services() {
			// The test driver lists a card's content twice in a row.
			if s == sv.Name && (len(out) == 0 || out[len(out)-1] != s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// indexOf is the position of text among the shown texts, -1 if absent.
func indexOf(k *kioskUnderTest, text string) int {
	return slices.Index(k.shownText(), text)
}

func startSubsidy(k *kioskUnderTest) {
	k.t.Helper()
	k.tap("home.subsidy")
	k.requireScreen("subsidy-start")
	k.tap("subsidy.start")
	k.requireScreen("subsidy-birth")
}

func TestSubsidy_QuestionnaireAnswersAndSkips(t *testing.T) {
	k, cat := newSubsidyKiosk(t, Options{})
	startSubsidy(k)
	k.setBirth(1950, 3, 1)
	k.tap("nav.next")
	k.requireScreen("subsidy-sex")
	k.tapCard(k.ui.T("subsidy.sex_f"))
	k.requireScreen("subsidy-size")
	k.tapCard(k.ui.T("subsidy.size_n", "n", 1))
	k.requireScreen("subsidy-income")
	// The bands are explained in won for a household of one.
	codes, labels := k.ui.incomeLabels(1)
	require.Equal(t, subsidy.Codes(subsidy.GroupIncome), codes)
	b := subsidy.MedianIncome().Bands(1)
	assert.Contains(t, labels[1], won(b[1].Max), "the second band's upper amount for one person")
	k.tapCard(labels[1])
	k.requireScreen("subsidy-traits")
	k.tap("subsidy.unsure")
	k.requireScreen("subsidy-household")
	k.tap("nav.next") // a household of one: single-person, preselected
	k.requireScreen("subsidy-results")

	want := subsidy.Profile{BirthDate: "1950-03-01", Sex: "F", Income: "JA0202", Household: []string{"JA0404"}}
	got := k.ui.session.SubsidyProfile()
	assert.Equal(t, want, got)
	assert.Nil(t, got.Traits, "a skipped question stays unknown, not \"none\"")

	eligible, check, reasons := expectedGroups(t, cat, want, k.clock.Now())
	require.NotEmpty(t, eligible)
	require.NotEmpty(t, check)
	require.Greater(t, len(eligible)+len(check), subsidyPerPage, "more than a page")
	k.requireShows(k.ui.T("subsidy.results_counts", "eligible", len(eligible), "check", len(check)))

	// Each page: a heading before each group, eligible before the rest.
	var shown []string
	for page := 1; ; page++ {
		names := shownNames(k, cat)
		hE, hC := indexOf(k, k.ui.T("subsidy.eligible")), indexOf(k, k.ui.T("subsidy.needs_check"))
		for _, n := range names {
			i := indexOf(k, n)
			if slices.Contains(eligible, n) {
				assert.True(t, hE >= 0 && hE < i && (hC < 0 || i < hC), "%s under the eligible heading on page %d", n, page)
			} else {
				assert.True(t, hC >= 0 && hC < i, "%s under the worth-asking heading on page %d", n, page)
			}
		}
		shown = append(shown, names...)
		more := k.buttons(k.ui.T("subsidy.more"))
		require.Len(t, more, 1)
		if more[0].Disabled() {
			break
		}
		test.Tap(more[0])
		k.requireScreen("subsidy-results")
	}
	assertShownInOrder(t, shown, eligible, check, reasons)
	k.tap("subsidy.prev")

	// Each service comes with its reasons and how to apply.
	who, err := subsidy.NewPerson(want, k.clock.Now())
	require.NoError(t, err)
	r, ok := cat.Check(who, "S01")
	require.True(t, ok)
	require.Contains(t, shownNames(k, cat), r.Service.Name, "on the page shown")
	require.NotEmpty(t, r.Reasons)
	text := k.ui.ReadAloudText()
	assert.Contains(t, text, r.Reasons[0].Text())
	assert.Contains(t, text, "방문, 온라인", "신청방법, its ||-joined values said as a list")
	assert.Contains(t, text, k.ui.T("subsidy.reception"))

	// Back keeps the answers, shown as chosen.
	k.tap("nav.back")
	k.requireScreen("subsidy-household")
	k.tap("nav.back")
	k.requireScreen("subsidy-traits")
}

func TestSubsidy_SkippingEverythingNeverSaysNo(t *testing.T) {
	k, cat := newSubsidyKiosk(t, Options{})
	startSubsidy(k)
	for _, id := range []string{"subsidy-birth", "subsidy-sex", "subsidy-size", "subsidy-income", "subsidy-traits", "subsidy-household"} {
		k.requireScreen(id)
		k.tap("subsidy.unsure")
	}
	k.requireScreen("subsidy-results")
	p := k.ui.session.SubsidyProfile()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(b), "nothing told, nothing guessed")

	eligible, check, reasons := expectedGroups(t, cat, p, k.clock.Now())
	n := len(eligible) + len(check)
	require.Greater(t, n, subsidyPerPage, "the list runs over a page")
	pages := (n + subsidyPerPage - 1) / subsidyPerPage
	shown := shownNames(k, cat)
	assert.Len(t, shown, subsidyPerPage)
	for page := 2; page <= pages; page++ {
		k.tap("subsidy.more")
		k.requireScreen("subsidy-results")
		k.requireShows(k.ui.T("subsidy.page", "n", page, "total", pages))
		shown = append(shown, shownNames(k, cat)...)
	}
	assertShownInOrder(t, shown, eligible, check, reasons)
}

func TestSubsidy_ImpossibleBirthDateIsRefusedInTheLanguageShown(t *testing.T) {
	k, _ := newSubsidyKiosk(t, Options{})
	k.tapCard("English")
	startSubsidy(k)
	k.setBirth(1950, 2, 30)
	k.tap("nav.next")
	k.requireScreen("subsidy-birth")
	msg := LangEn.T("err.birth_impossible", "date", "1950-02-30")
	k.requireShows(msg)
	assert.Contains(t, k.ui.ReadAloudText(), msg)

	// "I'm not sure" goes on with the date unknown.
	k.tap("subsidy.unsure")
	k.requireScreen("subsidy-sex")
	assert.Empty(t, k.ui.session.SubsidyProfile().BirthDate)
}

func TestSubsidy_IdleResetForgetsTheAnswers(t *testing.T) {
	k, _ := newSubsidyKiosk(t, Options{})
	startSubsidy(k)
	k.setBirth(1950, 3, 1)
	k.tap("nav.next")
	k.tapCard(k.ui.T("subsidy.sex_m"))
	k.tapCard(k.ui.T("subsidy.size_n", "n", 2))
	require.False(t, k.ui.session.Empty())

	k.clock.Advance(70 * time.Second)
	k.requireScreen("home")
	assert.True(t, k.ui.session.Empty())
	assert.Equal(t, subsidy.Profile{}, k.ui.session.SubsidyProfile())
	assert.True(t, k.ui.pristine())
}

// spySpeaker keeps what it was asked to read.
type spySpeaker struct {
	said  []string
	stops int
}

func (s *spySpeaker) Speak(_ context.Context, _ Lang, text string) error {
	s.said = append(s.said, text)
	return nil
}
func (s *spySpeaker) Stop() { s.stops++ }

func TestSubsidy_ResultsAreReadAloudOnRequest(t *testing.T) {
	sp := &spySpeaker{}
	k, _ := newSubsidyKiosk(t, Options{Speaker: sp})
	startSubsidy(k)
	for range 6 {
		k.tap("subsidy.unsure")
	}
	k.requireScreen("subsidy-results")
	assert.Empty(t, sp.said, "nothing is read unasked")
	k.tap("nav.read_aloud")
	require.Len(t, sp.said, 1)
	assert.Equal(t, k.ui.ReadAloudText(), sp.said[0])
	assert.Contains(t, sp.said[0], k.ui.T("subsidy.offer_title"))
}

func TestSubsidy_DecliningTheOfferStoresNothing(t *testing.T) {
	rec := &MemoryRecorder{Kiosk: "k1"}
	k, _ := newSubsidyKiosk(t, Options{Recorder: rec})
	startSubsidy(k)
	for range 6 {
		k.tap("subsidy.unsure")
	}
	k.tap("subsidy.offer_yes")
	k.fillWho("김안함", "010-1212-3434", 1948, 5, 17)
	k.tap("nav.next")
	k.tap("nav.next")
	k.requireScreen("signup-consent")
	k.tap("consent.decline")
	k.requireScreen("signup-declined")
	assert.Empty(t, rec.Events)
	assert.True(t, k.ui.session.Empty())
}

func TestSubsidy_ProfileOnlyWithTheNewBenefitsGrant(t *testing.T) {
	s := NewSession()
	s.Name, s.Mobile, s.BirthYear, s.BirthMonth, s.BirthDay = "김영희", "010-1234-5678", 1948, 5, 17
	s.Types[allimi.TypeRelief] = true
	s.NewBenefits = &NewBenefitsOffer{Profile: subsidy.Profile{Sex: "F"}, Region: "경기"}
	d, err := s.SignupDraft(time.Now())
	require.NoError(t, err)
	p := d.Payload.(*allimi.ConsentPayload)
	assert.Empty(t, p.Profile, "the conditions go only with a grant of new benefits")
	assert.Empty(t, p.Region)
}

func TestSubsidy_DemoCatalogSaysItIsDemo(t *testing.T) {
	cat, err := demoSubsidyCatalog()
	require.NoError(t, err)
	require.True(t, cat.About.Demo)
	k := newKiosk(t, Options{Subsidy: NewSubsidyFinder(cat, subsidy.Region{})})
	k.tap("home.subsidy")
	k.requireShows(k.ui.T("subsidy.demo"))
	k.requireShows(k.ui.T("subsidy.source", "source", cat.About.Source))
}

// TestSubsidy_TranslatedReasonsFollowThePackage: the kiosk's Korean
// reason strings, built as the other languages are, give the subsidy
// package's own sentences, so the translations say what the package says.
// Income is left out: the package merges touching bands into one range.
func TestSubsidy_TranslatedReasonsFollowThePackage(t *testing.T) {
	cat := testSubsidyCatalog()
	now := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	profiles := []subsidy.Profile{
		{},
		{BirthDate: "1950-03-01", Sex: "F", Traits: []string{"JA0328"}, Household: []string{"JA0404"}},
	}
	n := 0
	for _, p := range profiles {
		who, err := subsidy.NewPerson(p, now)
		require.NoError(t, err)
		for _, r := range cat.Match(who, subsidy.Options{}) {
			for _, reason := range r.Reasons {
				if reason.Rule == subsidy.RuleIncome {
					continue
				}
				assert.Equal(t, reason.Text(), translatedReason(LangKo, reason), "%s %s %s", r.Service.ID, reason.Rule, reason.Outcome)
				assert.NotEqual(t, reason.Text(), translatedReason(LangEn, reason), "English is not Korean")
				n++
			}
		}
	}
	assert.Greater(t, n, 8, "reasons checked")
}

func TestSubsidy_ReasonsInTheLanguageShown(t *testing.T) {
	k, _ := newSubsidyKiosk(t, Options{})
	k.tapCard("English")
	startSubsidy(k)
	k.setBirth(1950, 3, 1)
	k.tap("nav.next")
	for range 5 {
		k.tap("subsidy.unsure")
	}
	k.requireScreen("subsidy-results")
	want := LangEn.T("reason.age_pass", "range", LangEn.T("reason.range_from", "from", 65), "age", 76)
	k.requireShows("• " + want)
}

func TestLoadSubsidyCatalog_InstalledThenDemo(t *testing.T) {
	body, err := subsidy.Encode(testSubsidyCatalog())
	require.NoError(t, err)
	cat, err := LoadSubsidyCatalog(func(name string) ([]byte, error) {
		assert.Equal(t, subsidy.CatalogName, name)
		return body, nil
	}, quietLogger())
	require.NoError(t, err)
	assert.Equal(t, "test catalog", cat.About.Source, "the installed catalog")
	assert.Equal(t, 8, cat.Len())

	for name, get := range map[string]func(string) ([]byte, error){
		"no store":   nil,
		"none yet":   func(string) ([]byte, error) { return nil, allimi.ErrNotFound },
		"unreadable": func(string) ([]byte, error) { return []byte("not a catalog"), nil },
	} {
		cat, err := LoadSubsidyCatalog(get, quietLogger())
		require.NoError(t, err, name)
		assert.True(t, cat.About.Demo, "%s: the demo catalog, which says so", name)
	}
}

func TestSubsidy_NewCatalogIsUsedByTheNextSearch(t *testing.T) {
	k, _ := newSubsidyKiosk(t, Options{})
	finder := k.ui.opt.Subsidy.(*SubsidyFinder)
	newer := subsidy.NewCatalog(subsidy.About{Source: "newer"}, []subsidy.Service{{ID: "N1", Name: "새 서비스", UserType: "개인"}})
	finder.SetCatalog(newer)
	startSubsidy(k)
	for range 6 {
		k.tap("subsidy.unsure")
	}
	assert.Equal(t, []string{"새 서비스"}, shownNames(k, newer))
	k.requireShows(k.ui.T("subsidy.source", "source", "newer"))
}

// draftRecorder keeps the drafts it stores.
type draftRecorder struct {
	MemoryRecorder
	drafts []outbox.Draft
}

func (d *draftRecorder) Append(drafts ...outbox.Draft) ([]allimi.Event, error) {
	d.drafts = append(d.drafts, drafts...)
	return d.MemoryRecorder.Append(drafts...)
}

// TestFlow_StaffWithdrawsNewBenefitsToo: new benefits is granted only
// from 보조금 찾기, but an official withdraws it like any other notice.
func TestFlow_StaffWithdrawsNewBenefitsToo(t *testing.T) {
	rec := &draftRecorder{MemoryRecorder: MemoryRecorder{Kiosk: "k1"}}
	k := newKiosk(t, Options{Recorder: rec, Config: Config{Staff: []StaffMember{{ID: "o1", Name: "담당", PINHash: testPINHash}}}})
	signInStaff(k)
	k.tap("staff.withdraw")
	k.typeInto("who.name_hint", "박노인")
	k.typeInto("who.mobile_hint", "010-2468-1357")
	k.setBirth(1948, 5, 17)
	k.tap("nav.next")
	k.requireScreen("staff-withdraw-confirm")
	k.requireShows(k.ui.T(typeKey(allimi.TypeNewBenefits, "name")))
	k.tapCard(k.ui.T("consent.method_spoken"))
	k.tap("withdraw.confirm")
	k.requireScreen("staff-withdraw-done")
	require.Len(t, rec.drafts, 1)
	var withdrawn []allimi.NotificationType
	for _, c := range rec.drafts[0].Payload.(*allimi.ConsentPayload).Consents {
		assert.Equal(t, allimi.ActionWithdraw, c.Action)
		withdrawn = append(withdrawn, c.Type)
	}
	assert.Contains(t, withdrawn, allimi.TypeNewBenefits)
}

// TestSubsidy_EachServiceHasTheQRCodeOfItsPage: the QR codes on a results
// page are those of the services shown (상세조회URL), in their order.
func TestSubsidy_EachServiceHasTheQRCodeOfItsPage(t *testing.T) {
	k, cat := newSubsidyKiosk(t, Options{})
	startSubsidy(k)
	for range 6 {
		k.tap("subsidy.unsure")
	}
	k.requireScreen("subsidy-results")
	var shown []image.Image
	for _, o := range k.objects() {
		// QR codes are drawn with whole pixels; icons are not.
		img, ok := o.(*canvas.Image)
		if ok && img.ScaleMode == canvas.ImageScalePixels && (len(shown) == 0 || shown[len(shown)-1] != img.Image) {
			shown = append(shown, img.Image)
		}
	}
	names := shownNames(k, cat)
	require.Len(t, names, subsidyPerPage)
	require.Len(t, shown, len(names))
	for i, name := range names {
		var url string
		for _, sv := range cat.Services() {
			if sv.Name == name {
				url = sv.URL
			}
		}
		want, err := qrImage(url, 180)
		require.NoError(t, err)
		assert.Equal(t, want.Image, shown[i], "QR code of %s", name)
	}
}

func TestSubsidy_DoubleTapOnAnAnswerAnswersOnce(t *testing.T) {
	k, _ := newSubsidyKiosk(t, Options{})
	startSubsidy(k)
	k.tap("subsidy.unsure")
	k.requireScreen("subsidy-sex")
	depth := len(k.ui.stack)
	var female *card
	for _, o := range k.objects() {
		if c, ok := o.(*card); ok && female == nil {
			female = c
		}
	}
	require.NotNil(t, female)
	test.Tap(female)
	test.Tap(female)
	k.requireScreen("subsidy-size")
	assert.Len(t, k.ui.stack, depth+1, "one screen further, not two")
	k.tap("nav.back")
	k.requireScreen("subsidy-sex")
}

func TestSubsidy_AgeInsteadOfBirthDate(t *testing.T) {
	k, cat := newSubsidyKiosk(t, Options{})
	startSubsidy(k)
	plus := k.buttons("+")
	require.Len(t, plus, 4, "year, month, day and age")
	for range 6 { // the first tap shows 65, then 66 … 70
		test.Tap(plus[3])
	}
	k.tap("nav.next")
	k.requireScreen("subsidy-sex")
	for range 5 {
		k.tap("subsidy.unsure")
	}
	k.requireScreen("subsidy-results")
	p := k.ui.session.SubsidyProfile()
	require.NotNil(t, p.Age)
	assert.Equal(t, 70, *p.Age)
	assert.Empty(t, p.BirthDate)
	eligible, _, _ := expectedGroups(t, cat, p, k.clock.Now())
	assert.Contains(t, eligible, "어르신 수당", "70 is over 65")

	// A date of birth, once given, wins over the age.
	k.tap("nav.back")
	for range 5 {
		k.tap("nav.back")
	}
	k.requireScreen("subsidy-birth")
	k.setBirth(1950, 3, 1)
	assert.Nil(t, k.ui.session.SubsidyProfile().Age)
	assert.Equal(t, "1950-03-01", k.ui.session.SubsidyProfile().BirthDate)
}

package kiosk

import (
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"allimi"
	"allimi/assets"
	"allimi/subsidy"
)

// SubsidyFinder is the home screen's 보조금 찾기: a short questionnaire,
// one question per screen, each skippable, then the Subsidy 24 services
// the person may get, matched offline against the installed catalog.
// Nothing the person answers outlives their session unless they accept
// the offer to be told of new benefits and sign up for it.
type SubsidyFinder struct {
	mu     sync.RWMutex
	cat    *subsidy.Catalog
	region subsidy.Region
	income subsidy.MedianIncomeTable
}

// NewSubsidyFinder returns the feature for catalog cat (nil: the screens
// say there is none yet) at a kiosk in region.
func NewSubsidyFinder(cat *subsidy.Catalog, region subsidy.Region) *SubsidyFinder {
	return &SubsidyFinder{cat: cat, region: region, income: subsidy.MedianIncome()}
}

// SetCatalog replaces the catalog, when central publishes a new one; the
// next search uses it.
func (f *SubsidyFinder) SetCatalog(cat *subsidy.Catalog) {
	f.mu.Lock()
	f.cat = cat
	f.mu.Unlock()
}

// Catalog is the catalog searched.
func (f *SubsidyFinder) Catalog() *subsidy.Catalog {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.cat
}

// Region is the kiosk's region.
func (f *SubsidyFinder) Region() subsidy.Region { return f.region }

// Start implements Feature. The screens are the kiosk's own (they share
// the sign-up wizard's steps for the new-benefits offer): the navigator
// shows them over f's catalog.
func (f *SubsidyFinder) Start(nav Navigator) { nav.FindSubsidies(f) }

// FindSubsidies implements Navigator: it starts 보조금 찾기's
// questionnaire afresh, searching f.
func (u *UI) FindSubsidies(f *SubsidyFinder) {
	u.finder = f
	u.session.Subsidy = SubsidyAnswers{}
	u.session.NewBenefits = nil
	u.push(subsidyStartScreen)
}

// SubsidyAnswers are a person's answers to the questionnaire. Every
// answer may be left unknown ("잘 모르겠어요"), which is never taken for
// "no". The date of birth is the session's own (BirthYear, ...), so that
// a sign-up after the results need not ask for it again.
type SubsidyAnswers struct {
	// Age is 만 나이 for a person who gives it instead of a date of
	// birth; 0 when not given (a date of birth wins).
	Age    int
	Sex    string // "", subsidy.SexMale, subsidy.SexFemale
	Income string // "" or an income code
	// Size is the household's size, 0 when unknown.
	Size int
	// Traits and Household are the codes chosen; each is known only
	// once the person went on with "다음" (none chosen there: none).
	Traits, Household           map[string]bool
	TraitsKnown, HouseholdKnown bool
	// Page is the results page shown (0-based).
	Page int
}

// Empty reports whether nothing was answered.
func (a SubsidyAnswers) Empty() bool {
	return a.Age == 0 && a.Sex == "" && a.Income == "" && a.Size == 0 && len(a.Traits) == 0 && len(a.Household) == 0 &&
		!a.TraitsKnown && !a.HouseholdKnown && a.Page == 0
}

// NewBenefitsOffer is what a sign-up for new-benefits notices sends with
// its grant: the profile the questionnaire produced and the region.
type NewBenefitsOffer struct {
	Profile subsidy.Profile
	Region  string
}

// SubsidyProfile is the person's answers as a subsidy profile: only what they
// told, nothing guessed.
func (s *Session) SubsidyProfile() subsidy.Profile {
	a := s.Subsidy
	p := subsidy.Profile{BirthDate: s.BirthDate(), Sex: a.Sex, Income: a.Income}
	if p.BirthDate == "" && a.Age > 0 {
		age := a.Age
		p.Age = &age
	}
	if a.TraitsKnown {
		p.Traits = chosenCodes(subsidy.GroupTraits, a.Traits)
	}
	if a.HouseholdKnown {
		p.Household = chosenCodes(subsidy.GroupHousehold, a.Household)
	}
	return p
}

// chosenCodes lists the codes of g chosen in m, in the table's order;
// never nil, so that "none" stays distinct from unknown.
func chosenCodes(g subsidy.Group, m map[string]bool) []string {
	out := []string{}
	for _, c := range subsidy.Codes(g) {
		if m[c] {
			out = append(out, c)
		}
	}
	return out
}

// subsidyQuestions is the number of questions, for the step label.
const subsidyQuestions = 6

// codeKey names the translation of a condition code's name.
func codeKey(code string) string { return "code." + strings.ToLower(code) }

// subsidyCodeKeys are the translated codes: those a person picks or
// sees as an income band.
func subsidyCodeKeys() []string {
	var keys []string
	for _, g := range []subsidy.Group{subsidy.GroupIncome, subsidy.GroupTraits, subsidy.GroupHousehold} {
		for _, c := range subsidy.Codes(g) {
			keys = append(keys, codeKey(c))
		}
	}
	return keys
}

// aboutCatalog adds the catalog's demo warning and source.
func (u *UI) aboutCatalog(p *page, cat *subsidy.Catalog) {
	if cat.About.Demo {
		l := p.text(u.T("subsidy.demo"))
		l.Importance = widget.DangerImportance
		l.TextStyle = fyne.TextStyle{Bold: true}
	}
	src := p.text(u.T("subsidy.source", "source", cat.About.Source))
	src.SizeName = theme.SizeNameCaptionText
}

// questionPage is a question's page: its step, and "잘 모르겠어요",
// which leaves the answer unknown and goes on.
func (u *UI) questionPage(step int, titleKey string, unsure func(), next screenID) *page {
	p := u.newPage(u.T(titleKey))
	p.step, p.steps = step, subsidyQuestions
	skip := u.button(u.T("subsidy.unsure"), theme.QuestionIcon(), widget.MediumImportance, func() {
		unsure()
		u.push(next)
	})
	p.extra = []fyne.CanvasObject{skip}
	return p
}

// subsidyStartPage says what the search does and what it keeps.
func (u *UI) subsidyStartPage() *page {
	p := u.newPage(u.T("home.subsidy"))
	cat := u.finder.Catalog()
	if cat == nil {
		p.text(u.T("subsidy.no_catalog"))
		return p
	}
	p.text(u.T("subsidy.intro"))
	u.aboutCatalog(p, cat)
	p.next = u.nextButton(u.T("subsidy.start"), func() { u.push(subsidyBirthScreen) })
	return p
}

// subsidyBirthPage (question 1): the date of birth, with the sign-up's
// spinners; the person's age is what the services ask.
func (u *UI) subsidyBirthPage() *page {
	s := u.session
	p := u.questionPage(1, "subsidy.birth_title", func() {
		s.BirthYear, s.BirthMonth, s.BirthDay, s.Subsidy.Age = 0, 0, 0, 0
	}, subsidySexScreen)
	p.text(u.T("subsidy.birth_help"))
	now := u.clock.Now()
	unset := u.T("who.unset")
	changed := func(set func(int)) func(int) {
		return func(v int) { set(v); u.Touch(); p.clearFail() }
	}
	year := newSpinner(s.BirthYear, 1900, now.Year(), 1955, []int{10, 1}, unset, changed(func(v int) { s.BirthYear = v }))
	month := newSpinner(s.BirthMonth, 1, 12, 1, []int{1}, unset, changed(func(v int) { s.BirthMonth = v }))
	day := newSpinner(s.BirthDay, 1, 31, 1, []int{1}, unset, changed(func(v int) { s.BirthDay = v }))
	// Some know their age better than the date: 만 나이 instead.
	age := newSpinner(s.Subsidy.Age, 1, 120, 65, []int{10, 1}, unset, changed(func(v int) { s.Subsidy.Age = v }))
	p.add(container.New(layout.NewFormLayout(),
		widget.NewLabel(u.T("who.year")), year.container,
		widget.NewLabel(u.T("who.month")), month.container,
		widget.NewLabel(u.T("who.day")), day.container,
		widget.NewLabelWithStyle(u.T("subsidy.age"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), age.container))
	p.say(u.T("who.year"), u.T("who.month"), u.T("who.day"), u.T("subsidy.age"))
	p.next = u.nextButton(u.T("nav.next"), func() {
		if s.BirthYear == 0 && s.BirthMonth == 0 && s.BirthDay == 0 && s.Subsidy.Age > 0 {
			u.push(subsidySexScreen)
			return
		}
		if err := checkBirth(s, now); err != nil {
			p.failErr(err, "err.birth_missing")
			return
		}
		u.push(subsidySexScreen)
	})
	return p
}

// checkBirth checks the session's date of birth as the questionnaire
// takes it: complete, on the calendar, not after today.
func checkBirth(s *Session, now time.Time) error {
	d := s.BirthDate()
	if d == "" {
		return inputErr("err.birth_missing", nil)
	}
	t, err := subsidy.ParseDate(d)
	switch {
	case err != nil:
		// Day 31 is offered in every month: 30 February is named here.
		return inputErr("err.birth_impossible", err, "date", d)
	case t.Year() < 1900:
		return inputErr("err.birth_old", nil)
	case t.After(now):
		return inputErr("err.birth_future", nil)
	}
	if _, err := subsidy.NewPerson(subsidy.Profile{BirthDate: d}, now); err != nil {
		return inputErr("err.birth_impossible", err, "date", d)
	}
	return nil
}

// choiceCards are single-choice cards: tapping one answers and goes on.
func (u *UI) choiceCards(p *page, cols int, labels []string, selected int, choose func(i int)) fyne.CanvasObject {
	var objs []fyne.CanvasObject
	for i, text := range labels {
		i := i
		l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Wrapping = fyne.TextWrapWord
		c := newCard(l, false, func() {
			u.Touch()
			if u.cur != p {
				return // a second tap of a double tap: the next question is up
			}
			choose(i)
		})
		c.Selected = i == selected
		objs = append(objs, c)
		p.say(text)
	}
	return container.NewGridWithColumns(cols, objs...)
}

// subsidySexPage (question 2).
func (u *UI) subsidySexPage() *page {
	a := &u.session.Subsidy
	p := u.questionPage(2, "subsidy.sex_title", func() { a.Sex = "" }, subsidySizeScreen)
	sexes := []string{subsidy.SexFemale, subsidy.SexMale}
	sel := -1
	for i, x := range sexes {
		if a.Sex == x {
			sel = i
		}
	}
	p.add(u.choiceCards(p, 2, []string{u.T("subsidy.sex_f"), u.T("subsidy.sex_m")}, sel, func(i int) {
		a.Sex = sexes[i]
		u.push(subsidySizeScreen)
	}))
	return p
}

// subsidySizePage (question 3): the household's size, for the income
// question's amounts.
func (u *UI) subsidySizePage() *page {
	a := &u.session.Subsidy
	p := u.questionPage(3, "subsidy.size_title", func() { a.Size = 0 }, subsidyIncomeScreen)
	n := u.finder.income.MaxSize()
	var labels []string
	for i := 1; i <= n; i++ {
		if i == n {
			labels = append(labels, u.T("subsidy.size_max", "n", i))
		} else {
			labels = append(labels, u.T("subsidy.size_n", "n", i))
		}
	}
	p.add(u.choiceCards(p, 3, labels, a.Size-1, func(i int) {
		a.Size = i + 1
		u.push(subsidyIncomeScreen)
	}))
	return p
}

// won writes an amount of won with thousands separators, rounded to
// a thousand won: the figures are a guide, not a threshold to the won.
func won(v int64) string {
	v = (v + 500) / 1000 * 1000
	s := strconv.FormatInt(v, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// incomeLabels are the income bands as the person sees them: the band's
// name and, when the household's size is known, its amounts in won.
func (u *UI) incomeLabels(size int) ([]string, []string) {
	var codes, labels []string
	for _, b := range u.finder.income.Bands(max(size, 1)) {
		codes = append(codes, b.Code)
		text := u.T(codeKey(b.Code))
		if size > 0 {
			var amount string
			switch {
			case b.Min == 0:
				amount = u.T("subsidy.income_upto", "max", won(b.Max))
			case b.Max == 0:
				amount = u.T("subsidy.income_over", "min", won(b.Min))
			default:
				amount = u.T("subsidy.income_between", "min", won(b.Min), "max", won(b.Max))
			}
			text = amount + "\n(" + text + ")"
		}
		labels = append(labels, text)
	}
	return codes, labels
}

// subsidyIncomePage (question 4): the income band, in won for the
// household's size.
func (u *UI) subsidyIncomePage() *page {
	a := &u.session.Subsidy
	p := u.questionPage(4, "subsidy.income_title", func() { a.Income = "" }, subsidyTraitsScreen)
	tb := u.finder.income
	if a.Size > 0 {
		p.text(u.T("subsidy.income_help", "n", min(a.Size, tb.MaxSize())))
	} else {
		p.text(u.T("subsidy.income_help_nosize"))
	}
	codes, labels := u.incomeLabels(a.Size)
	sel := -1
	for i, c := range codes {
		if c == a.Income {
			sel = i
		}
	}
	p.add(u.choiceCards(p, 1, labels, sel, func(i int) {
		a.Income = codes[i]
		u.push(subsidyTraitsScreen)
	}))
	if tb.Illustrative {
		note := p.text(u.T("subsidy.income_note", "year", tb.Year))
		note.SizeName = theme.SizeNameCaptionText
	} else {
		note := p.text(u.T("subsidy.income_official", "year", tb.Year))
		note.SizeName = theme.SizeNameCaptionText
	}
	return p
}

// subsidyCodesPage (questions 5 and 6): several codes of g may be chosen;
// "해당 없음" (none) goes alone. "다음" makes the answer known (none
// chosen: none of them); "잘 모르겠어요" leaves it unknown.
func (u *UI) subsidyCodesPage(step int, titleKey string, g subsidy.Group, none string, chosen *map[string]bool, known *bool, next screenID) *page {
	if *chosen == nil {
		*chosen = map[string]bool{}
		// A household of one is a single-person household; the person
		// may still unselect it.
		if g == subsidy.GroupHousehold && !*known && u.session.Subsidy.Size == 1 {
			(*chosen)["JA0404"] = true
		}
	}
	m := *chosen
	p := u.questionPage(step, titleKey, func() {
		*chosen, *known = nil, false
	}, next)
	p.text(u.T("subsidy.pick_help"))
	cards := map[string]*card{}
	var objs []fyne.CanvasObject
	for _, c := range subsidy.Codes(g) {
		c := c
		text := u.T(codeKey(c))
		l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Wrapping = fyne.TextWrapWord
		cd := newCard(l, true, nil)
		cd.Selected = m[c]
		cd.OnTapped = func() {
			u.Touch()
			m[c] = !m[c]
			if m[c] {
				// "None of these" excludes every other code, and back.
				for o, oc := range cards {
					if (c == none) != (o == none) && m[o] {
						m[o] = false
						oc.SetSelected(false)
					}
				}
			}
			cards[c].SetSelected(m[c])
		}
		cards[c] = cd
		objs = append(objs, cd)
		p.say(text)
	}
	p.add(container.NewGridWithColumns(2, objs...))
	p.next = u.nextButton(u.T("nav.next"), func() {
		*known = true
		delete(m, none) // none of these is the same as none chosen
		u.push(next)
	})
	return p
}

// subsidyPerPage is how many services a results page shows: each comes
// with its reasons, details and QR code, so a page stays quick to draw
// and to read aloud.
const subsidyPerPage = 3

// SubsidyResults are a search's results in the order the kiosk shows
// them: eligible first, those that meet the most conditions first (a
// service for people with a disability before one anyone may get); then
// worth asking about, those with the fewest open questions first; ties in
// the catalog's order. Ineligible services are left out.
func SubsidyResults(cat *subsidy.Catalog, who subsidy.Person, region subsidy.Region) []subsidy.Result {
	rs := cat.Match(who, subsidy.Options{Region: region})
	out := make([]subsidy.Result, 0, len(rs))
	for _, r := range rs {
		if r.Verdict != subsidy.Ineligible {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Verdict != b.Verdict {
			return a.Verdict == subsidy.Eligible
		}
		if a.Verdict == subsidy.Eligible {
			return len(a.Reasons) > len(b.Reasons)
		}
		return len(a.Reasons) < len(b.Reasons)
	})
	return out
}

// subsidyResultsPage lists the services found, a page at a time, and
// offers to tell the person of new benefits.
func (u *UI) subsidyResultsPage() *page {
	s := u.session
	a := &s.Subsidy
	p := u.newPage(u.T("subsidy.results_title"))
	cat := u.finder.Catalog()
	now := u.clock.Now()
	prof := s.SubsidyProfile()
	who, err := subsidy.NewPerson(prof, now)
	if cat == nil || err != nil {
		if err != nil {
			u.log.Error("subsidy profile refused", "err", err)
		}
		p.text(u.T("subsidy.no_catalog"))
		return p
	}
	results := SubsidyResults(cat, who, u.finder.region)
	nElig := 0
	for _, r := range results {
		if r.Verdict == subsidy.Eligible {
			nElig++
		}
	}
	p.heading(u.T("subsidy.results_counts", "eligible", nElig, "check", len(results)-nElig))
	u.aboutCatalog(p, cat)
	if len(results) == 0 {
		p.text(u.T("subsidy.none"))
	}
	pages := max(1, (len(results)+subsidyPerPage-1)/subsidyPerPage)
	a.Page = max(0, min(a.Page, pages-1))
	from := a.Page * subsidyPerPage
	to := min(from+subsidyPerPage, len(results))
	for i := from; i < to; i++ {
		r := results[i]
		if i == from || results[i-1].Verdict != r.Verdict {
			key := "subsidy.eligible"
			if r.Verdict != subsidy.Eligible {
				key = "subsidy.needs_check"
			}
			h := p.heading(u.T(key))
			h.SizeName = theme.SizeNameHeadingText
		}
		p.add(u.serviceCard(p, r))
	}

	if pages > 1 {
		p.text(u.T("subsidy.page", "n", a.Page+1, "total", pages))
		prev := u.button(u.T("subsidy.prev"), theme.NavigateBackIcon(), widget.MediumImportance, func() {
			a.Page--
			u.replace(subsidyResultsScreen)
		})
		more := u.button(u.T("subsidy.more"), theme.NavigateNextIcon(), widget.MediumImportance, func() {
			a.Page++
			u.replace(subsidyResultsScreen)
		})
		more.IconPlacement = widget.ButtonIconTrailingText
		if a.Page == 0 {
			prev.Disable()
		}
		if a.Page == pages-1 {
			more.Disable()
		}
		p.extra = []fyne.CanvasObject{prev, more}
	}

	p.add(widget.NewSeparator())
	p.heading(u.T("subsidy.offer_title"))
	p.text(u.T("subsidy.offer_body"))
	p.next = u.nextButton(u.T("subsidy.offer_yes"), func() {
		if u.cur != p {
			return // a double tap: the sign-up has started
		}
		region := ""
		if !u.finder.region.IsZero() {
			region = u.finder.region.String()
		}
		s.NewBenefits = &NewBenefitsOffer{Profile: prof, Region: region}
		s.Types = map[allimi.NotificationType]bool{allimi.TypeNewBenefits: true}
		u.push(whoScreen)
	})
	return p
}

// serviceCard shows one service: its name, why, what it gives, how and
// where to apply, and a QR code of its page.
func (u *UI) serviceCard(p *page, r subsidy.Result) fyne.CanvasObject {
	sv := r.Service
	name := headingLabel(sv.Name)
	p.say(sv.Name)
	objs := []fyne.CanvasObject{name}
	if sum := strings.TrimSpace(sv.Summary); sum != "" {
		objs = append(objs, wrapLabel(sum))
		p.say(sum)
	}
	said := false
	for _, reason := range r.Reasons {
		t := u.reasonText(reason)
		if t == "" {
			continue
		}
		objs = append(objs, wrapLabel("• "+t))
		p.say(t)
		said = true
	}
	if !said {
		// Eligible with no rule that applies: the service publishes
		// conditions, none of which asks anything of the person.
		t := u.T("subsidy.no_conditions")
		objs = append(objs, wrapLabel("• "+t))
		p.say(t)
	}
	field := func(key, value string) {
		value = strings.TrimSpace(strings.ReplaceAll(value, "||", ", "))
		if value == "" {
			return
		}
		l := widget.NewLabelWithStyle(u.T(key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		objs = append(objs, l, wrapLabel(value))
		p.say(u.T(key), value)
	}
	// Free text (지원대상) is shown as published, never interpreted.
	field("subsidy.target", sv.Target)
	field("subsidy.content", sv.Content)
	field("subsidy.apply", sv.HowToApply)
	field("subsidy.deadline", sv.Deadline)
	if strings.TrimSpace(sv.Reception) != "" {
		field("subsidy.reception", sv.Reception)
	} else {
		field("subsidy.org", sv.Org)
	}
	field("subsidy.phone", sv.Phone)
	body := vbox(objs...)
	var right fyne.CanvasObject
	if sv.URL != "" {
		if qr, err := qrImage(sv.URL, 180); err != nil {
			u.log.Warn("service QR code", "service", sv.ID, "err", err)
		} else {
			hint := wrapLabel(u.T("subsidy.qr"))
			hint.SizeName = theme.SizeNameCaptionText
			right = container.NewStack(spacer(200, 0), vbox(qr, hint))
			p.say(u.T("subsidy.qr"))
		}
	}
	return newCard(container.NewBorder(nil, nil, nil, right, body), false, nil)
}

// LoadSubsidyCatalog returns the catalog central published (installed
// in store under subsidy.CatalogName), or the demo catalog when there is
// none or it cannot be read; get is the store's Get (nil: no store).
func LoadSubsidyCatalog(get func(name string) ([]byte, error), log *slog.Logger) (*subsidy.Catalog, error) {
	if get != nil {
		body, err := get(subsidy.CatalogName)
		if err == nil {
			cat, err := subsidy.Decode(body)
			if err == nil {
				return cat, nil
			}
			log.Error("installed subsidy catalog unreadable; showing the demo catalog", "err", err)
		}
	}
	return demoSubsidyCatalog()
}

var demoCatalog = sync.OnceValues(func() (*subsidy.Catalog, error) {
	cat, _, err := subsidy.ImportFS(assets.SubsidyDemo())
	if err != nil {
		return nil, fmt.Errorf("demo subsidy catalog: %w", err)
	}
	return cat, nil
})

func demoSubsidyCatalog() (*subsidy.Catalog, error) { return demoCatalog() }

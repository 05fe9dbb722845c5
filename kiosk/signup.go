package kiosk

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"allimi"
)

// wizardSteps is the number of sign-up screens: who, what, where,
// consent, done. Verification by SMS code, when central is reachable,
// is part of the consent step.
const wizardSteps = 5

// startSignup begins a sign-up by the person themselves.
func (u *UI) startSignup() {
	u.session.Clear()
	u.push(whoScreen)
}

func (u *UI) nextButton(label string, f func()) *widget.Button {
	b := u.button(label, theme.NavigateNextIcon(), widget.HighImportance, f)
	b.IconPlacement = widget.ButtonIconTrailingText
	return b
}

// identityFields adds name, mobile number and date of birth to p, bound to
// the session.
func (u *UI) identityFields(p *page) {
	s := u.session
	name := widget.NewEntry()
	name.SetPlaceHolder(u.T("who.name_hint"))
	name.SetText(s.Name)
	name.OnChanged = func(v string) { s.Name = v; u.Touch(); p.clearFail() }

	mobile := widget.NewEntry()
	mobile.SetPlaceHolder(u.T("who.mobile_hint"))
	mobile.SetText(s.Mobile)
	mobile.OnChanged = func(v string) { s.Mobile = v; u.Touch(); p.clearFail() }

	now := u.clock.Now()
	unset := u.T("who.unset")
	changed := func(set func(int)) func(int) {
		return func(v int) { set(v); p.clearFail() }
	}
	year := newSpinner(s.BirthYear, 1900, now.Year(), 1955, []int{10, 1}, unset, changed(func(v int) { s.BirthYear = v }))
	month := newSpinner(s.BirthMonth, 1, 12, 1, []int{1}, unset, changed(func(v int) { s.BirthMonth = v }))
	// Day 31 is offered in every month; Session.Citizen names an
	// impossible date instead of quietly changing it.
	day := newSpinner(s.BirthDay, 1, 31, 1, []int{1}, unset, changed(func(v int) { s.BirthDay = v }))
	for _, sp := range []*spinner{year, month, day} {
		for _, b := range append(sp.minusBtns, sp.plusBtns...) {
			f := b.OnTapped
			b.OnTapped = func() { u.Touch(); f() }
		}
	}

	bold := func(k string) *widget.Label {
		p.say(u.T(k))
		return widget.NewLabelWithStyle(u.T(k), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	// Each field has its keyboard under it: the kiosk has no other.
	p.add(bold("who.name"), name, u.newTextKeyboard(name), bold("who.mobile"), mobile, u.newNumPad(mobile), bold("who.birth"))
	p.add(container.New(layout.NewFormLayout(),
		widget.NewLabel(u.T("who.year")), year.container,
		widget.NewLabel(u.T("who.month")), month.container,
		widget.NewLabel(u.T("who.day")), day.container))
	p.say(u.T("who.year"), u.T("who.month"), u.T("who.day"))
}

// whoPage (step 1): who the person is.
func (u *UI) whoPage() *page {
	p := u.newPage(u.T("who.title"))
	p.step = 1
	if o := u.session.Official; o != nil {
		p.text(u.T("who.staff_note", "name", o.Name))
	}
	u.identityFields(p)
	p.next = u.nextButton(u.T("nav.next"), func() {
		if _, err := u.session.Citizen(u.clock.Now()); err != nil {
			p.failErr(err, "err.save_failed")
			return
		}
		if u.session.NewBenefits != nil {
			// 보조금 찾기's offer: the one type is chosen already.
			u.push(channelsScreen)
			return
		}
		u.push(typesScreen)
	})
	return p
}

// optionCard is a card with an icon, a bold name and one plain sentence.
func (u *UI) optionCard(icon fyne.Resource, name, desc string, selected bool, toggle func() bool) *card {
	ic := widget.NewIcon(icon)
	iconBox := container.NewCenter(container.NewStack(spacer(64, 64), ic))
	title := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	text := container.NewBorder(nil, nil, iconBox, nil, vbox(title, wrapLabel(desc)))
	var c *card
	c = newCard(text, true, func() {
		u.Touch()
		c.SetSelected(toggle())
	})
	c.Selected = selected
	return c
}

// typesPage (step 2): which notices, each with an icon and a sentence.
func (u *UI) typesPage() *page {
	s := u.session
	p := u.newPage(u.T("types.title"))
	p.step = 2
	p.text(u.T("types.help"))
	p.add(u.typeCards(p, s, allimi.SignupTypes()))
	p.next = u.nextButton(u.T("nav.next"), func() {
		if len(s.chosenTypes()) == 0 {
			p.fail(u.T("err.types_none"))
			return
		}
		u.push(channelsScreen)
	})
	return p
}

// typeCards are notification types as cards bound to s.Types: the
// sign-up list, or every type for a withdrawal (new benefits too, which
// is granted only from 보조금 찾기 but withdrawn like any other).
func (u *UI) typeCards(p *page, s *Session, list []allimi.TypeInfo) fyne.CanvasObject {
	fg := u.theme().Color(theme.ColorNamePrimary, 0)
	var cards []fyne.CanvasObject
	for _, ti := range list {
		t := ti.ID
		name, desc := u.prefs.Lang.TypeName(t), u.prefs.Lang.TypeDesc(t)
		p.say(name + ". " + desc)
		cards = append(cards, u.optionCard(typeIcon(t, fg), name, desc, s.Types[t], func() bool {
			s.Types[t] = !s.Types[t]
			p.clearFail()
			return s.Types[t]
		}))
	}
	return container.NewGridWithColumns(2, cards...)
}

// channelsPage (step 3): where to be told; several allowed, SMS always.
func (u *UI) channelsPage() *page {
	s := u.session
	p := u.newPage(u.T("channels.title"))
	p.step = 3
	p.text(u.T("channels.help"))
	fg := u.theme().Color(theme.ColorNamePrimary, 0)
	var cards []fyne.CanvasObject
	for _, ch := range allimi.Channels {
		ch := ch
		name, desc := u.T(channelKey(ch, "name")), u.T(channelKey(ch, "desc"))
		p.say(name + ". " + desc)
		cards = append(cards, u.optionCard(channelIcon(ch, fg), name, desc, s.Channels[ch], func() bool {
			s.Channels[ch] = !s.Channels[ch]
			p.clearFail()
			return s.Channels[ch]
		}))
	}
	p.add(container.NewGridWithColumns(2, cards...))
	p.next = u.nextButton(u.T("nav.next"), func() {
		if len(s.chosenChannels()) == 0 {
			p.fail(u.T("err.channels_none"))
			return
		}
		u.push(consentScreen)
	})
	return p
}

// consentText is the consent notice for the session's choices.
func (u *UI) consentText(s *Session) string {
	var types, channels []string
	for _, t := range s.chosenTypes() {
		types = append(types, u.prefs.Lang.TypeName(t))
	}
	for _, c := range s.chosenChannels() {
		channels = append(channels, u.T(channelKey(c, "name")))
	}
	sep := u.T("consent.list_sep")
	body := u.T("consent.body", "types", strings.Join(types, sep), "channels", strings.Join(channels, sep))
	if s.NewBenefits != nil && s.Types[allimi.TypeNewBenefits] {
		body += "\n" + u.T("consent.new_benefits")
	}
	return body
}

// methodCards let an official record how consent was taken (one choice).
func (u *UI) methodCards(p *page, s *Session) fyne.CanvasObject {
	methods := []struct {
		m   allimi.ConsentMethod
		key string
	}{
		{allimi.MethodSpoken, "consent.method_spoken"},
		{allimi.MethodPaper, "consent.method_paper"},
		{allimi.MethodVaccination, "consent.method_vaccination"},
	}
	var cards []*card
	var objs []fyne.CanvasObject
	for i, m := range methods {
		i, m := i, m
		l := widget.NewLabelWithStyle(u.T(m.key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Wrapping = fyne.TextWrapWord
		c := newCard(l, true, nil)
		c.Selected = s.Method == m.m
		c.OnTapped = func() {
			u.Touch()
			s.Method = m.m
			for j, o := range cards {
				o.SetSelected(j == i)
			}
			p.clearFail()
		}
		cards = append(cards, c)
		objs = append(objs, c)
		p.say(u.T(m.key))
	}
	return container.NewGridWithColumns(3, objs...)
}

// consentPage (step 4): the notice, shown and read aloud; agree or not now.
func (u *UI) consentPage() *page {
	s := u.session
	p := u.newPage(u.T("consent.title"))
	p.step = 4
	body := u.consentText(s)
	p.text(body)
	if s.Official != nil {
		p.heading(u.T("consent.method"))
		p.add(u.methodCards(p, s))
	}
	wait := wrapLabel(u.T("nav.wait"))
	wait.Hide()
	p.add(wait)

	decline := u.button(u.T("consent.decline"), theme.CancelIcon(), widget.MediumImportance, func() {
		s.Clear()
		u.replace(declinedScreen)
	})
	var agree *widget.Button
	agree = u.button(u.T("consent.agree"), theme.ConfirmIcon(), widget.HighImportance, func() {
		if s.receipt != nil {
			return // a second tap: the record is stored already
		}
		if _, err := s.SignupDraft(u.clock.Now()); err != nil {
			p.failErr(err, "err.save_failed")
			return
		}
		if u.opt.Verifier == nil || s.Verified || s.verifyAsked {
			u.finishSignup(p)
			return
		}
		// Ask central to text a code; while it answers, the buttons wait.
		// Whatever goes wrong, the sign-up goes on unverified.
		s.verifyAsked = true
		agree.Disable()
		decline.Disable()
		wait.Show()
		mobile := s.normalizedMobile()
		u.opt.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), u.opt.VerifyTimeout)
			defer cancel()
			err := u.opt.Verifier.RequestCode(ctx, mobile)
			fyne.Do(func() {
				if u.cur != p {
					return // the person left (idle, home) meanwhile
				}
				if err != nil {
					u.log.Warn("verification code not sent; signing up unverified", "err", err)
					u.finishSignup(p)
					return
				}
				u.push(verifyScreen)
			})
		})
	})
	p.extra = []fyne.CanvasObject{decline}
	p.next = agree
	p.onShow = func() { u.speak(u.T("consent.title") + "\n" + body) }
	return p
}

// verifyPage (part of step 4): the code sent by SMS.
func (u *UI) verifyPage() *page {
	s := u.session
	p := u.newPage(u.T("verify.title"))
	p.step = 4
	mobile := s.normalizedMobile()
	p.text(u.T("verify.help", "mobile", mobile))
	code := widget.NewEntry()
	code.SetPlaceHolder("000000")
	code.OnChanged = func(string) { u.Touch(); p.clearFail() }
	p.add(widget.NewLabelWithStyle(u.T("verify.code"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), code, u.newNumPad(code))
	p.say(u.T("verify.code"))
	skip := u.button(u.T("verify.skip"), nil, widget.MediumImportance, func() { u.finishSignup(p) })
	var confirm *widget.Button
	confirm = u.button(u.T("verify.confirm"), theme.ConfirmIcon(), widget.HighImportance, func() {
		if s.receipt != nil {
			return
		}
		typed := strings.TrimSpace(code.Text)
		confirm.Disable()
		u.opt.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), u.opt.VerifyTimeout)
			defer cancel()
			ok, err := u.opt.Verifier.CheckCode(ctx, mobile, typed)
			fyne.Do(func() {
				if u.cur != p {
					return
				}
				confirm.Enable()
				switch {
				case err != nil:
					// Central went away between sending and checking:
					// it confirms the number itself later.
					u.log.Warn("verification check failed; signing up unverified", "err", err)
					u.finishSignup(p)
				case !ok:
					p.fail(u.T("verify.wrong"))
				default:
					s.Verified = true
					u.finishSignup(p)
				}
			})
		})
	})
	p.extra = []fyne.CanvasObject{skip}
	p.next = confirm
	return p
}

// finishSignup stores the one record of the session and shows the receipt.
func (u *UI) finishSignup(p *page) {
	s := u.session
	now := u.clock.Now()
	// The record names the language the person read the screens in:
	// central keeps it with them.
	s.Lang = u.Lang()
	d, err := s.SignupDraft(now)
	if err != nil {
		p.failErr(err, "err.save_failed")
		return
	}
	first := s.receipt == nil
	r, err := s.submit(u.opt.Recorder, d)
	if errors.Is(err, ErrNotRegistered) {
		p.fail(u.T("err.not_registered"))
		return
	}
	if err != nil {
		p.failErr(err, "err.save_failed")
		return
	}
	if first {
		u.logToday(d.Citizen, allimi.KindSignup, s, r.Code)
	}
	verified := s.Verified
	u.replaceScreen(screen{id: doneScreen, build: func() *page { return u.donePage(r, verified) }})
}

func (u *UI) logToday(c allimi.Citizen, kind string, s *Session, receipt string) {
	e := TodayEntry{At: u.clock.Now(), Kind: kind, Name: c.MaskedName(), Mobile: c.MaskedMobile(),
		Types: s.chosenTypes(), Receipt: receipt}
	if s.Official != nil {
		e.Official = s.Official.ID
	}
	if err := u.opt.Today.Add(e); err != nil {
		u.log.Warn("today's list not updated", "err", err)
	}
}

// donePage (step 5): the receipt code, big, and its QR code.
func (u *UI) donePage(r Receipt, verified bool) *page {
	p := u.newPage(u.T("done.title"))
	p.step = 5
	p.noBack = true
	if verified {
		p.text(u.T("done.verified"))
	} else {
		p.text(u.T("done.unverified"))
	}
	label := widget.NewLabelWithStyle(u.T("done.receipt"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	code := canvas.NewText(r.Code, u.theme().Color(theme.ColorNameForeground, 0))
	code.TextSize = 64 * u.theme().Scale
	code.TextStyle = fyne.TextStyle{Bold: true, Monospace: true}
	p.say(u.T("done.receipt"), spellOut(r.Code))
	help := wrapLabel(u.T("done.help"))
	p.say(u.T("done.help"))
	left := vbox(label, code, help)
	var right fyne.CanvasObject
	if qr, err := qrImage(ReceiptURL(u.cfg.ReceiptURL, r.Code), 300); err != nil {
		u.log.Error("receipt QR code", "err", err)
	} else {
		right = qr
	}
	p.add(container.NewBorder(nil, nil, nil, right, left))
	p.next = u.nextButton(u.T("done.finish"), u.finishSession)
	return p
}

// spellOut reads a receipt code character by character.
func spellOut(code string) string {
	return strings.Join(strings.Split(strings.ReplaceAll(code, "-", ""), ""), " ")
}

// finishSession ends the person's visit: back to the staff menu for an
// official, home otherwise; either way the session is cleared.
func (u *UI) finishSession() {
	if u.staff != nil {
		u.session.Clear()
		u.backTo(staffMenuScreen)
		return
	}
	u.Home()
}

// declinedPage: the person said "not now"; what they typed is gone.
func (u *UI) declinedPage() *page {
	p := u.newPage(u.T("consent.decline"))
	p.noBack = true
	p.text(u.T("consent.declined"))
	p.next = u.nextButton(u.T("done.finish"), u.finishSession)
	return p
}

package kiosk

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"allimi"
	"allimi/sync/uplink"
	"allimi/voice"
)

// 사람과 상담 and 답변 확인: a question the kiosk cannot answer goes to an
// official at central through the Handover (the outbox: it works with the
// network down), with the answer sent to the person's messenger or shown
// here when they come back with the receipt code of their slip.

// HandoverState is the question for an official in the making, and the
// answer looked up. It is part of the session and cleared with it; the
// recording is AskState.Audio.
type HandoverState struct {
	// Text is what the person typed (or the transcript).
	Text string
	// Reply is the channel chosen for the answer, "" with Chosen for
	// "I will come back with my slip".
	Reply  allimi.Channel
	Chosen bool
	// Name and Mobile are whom to answer, with a Reply channel.
	Name, Mobile string
	// Code is the receipt code once the question is stored: a second tap
	// on send stores nothing more.
	Code string
	// CheckDraft is the code typed on 답변 확인; Answer the answer found
	// for AnswerCode.
	CheckDraft         string
	Answer, AnswerCode string
}

const (
	// handoverMaxText bounds a typed question (characters).
	handoverMaxText = 1000
	// handoverAnswerTimeout bounds the wait for central's answer: a
	// person at the screen is told "try later", not kept waiting.
	handoverAnswerTimeout = 8 * time.Second
)

// startHandover begins a question for an official with text and audio (a
// recording already made); toReply skips to "how do you want the answer".
func (u *UI) startHandover(text string, audio voice.WAV, toReply bool) {
	if u.handover() == nil {
		return
	}
	a := &u.session.Ask
	a.Handover = HandoverState{Text: text}
	a.Audio, a.Notice = audio, ""
	if toReply {
		u.push(handoverReplyScreen)
		return
	}
	u.push(handoverQuestionScreen)
}

// startCheck opens 답변 확인.
func (u *UI) startCheck() {
	if u.handover() == nil {
		return
	}
	h := &u.session.Ask.Handover
	h.CheckDraft, h.Answer, h.AnswerCode = "", "", ""
	u.push(handoverCheckScreen)
}

// handoverQuestionPage takes the question: recorded (with the kiosk's
// microphone) or typed, or both.
func (u *UI) handoverQuestionPage() *page {
	a := &u.session.Ask
	h := &a.Handover
	p := u.newPage(u.T("handover.title"))
	p.text(u.T("handover.intro"))
	recorded := len(a.Audio.Data) > 0
	if u.listener() != nil {
		label, imp := u.T("handover.record"), widget.HighImportance
		if recorded {
			label, imp = u.T("handover.record_again"), widget.MediumImportance
		}
		rec := u.button(label, theme.MediaRecordIcon(), imp, func() { u.startListening(listenHandover) })
		p.add(u.bigButton(rec))
		p.say(label)
	}
	if recorded {
		secs := int(math.Ceil(a.Audio.Duration().Seconds()))
		p.heading(u.T("handover.recorded", "seconds", secs))
		del := u.button(u.T("handover.delete_recording"), theme.DeleteIcon(), widget.MediumImportance, func() {
			a.Audio = voice.WAV{}
			u.replace(handoverQuestionScreen)
		})
		p.add(touchWide(del))
		p.say(del.Text)
	}
	if a.Notice != "" {
		p.fail(u.T(a.Notice))
		a.Notice = ""
	}
	p.heading(u.T("handover.or_type"))
	entry := widget.NewEntry()
	entry.PlaceHolder = u.T("handover.hint")
	entry.SetText(h.Text)
	entry.OnChanged = func(v string) {
		h.Text = v
		u.Touch()
		p.clearFail()
	}
	p.add(entry, u.newTextKeyboard(entry))
	p.next = u.nextButton(u.T("nav.next"), func() {
		text := strings.TrimSpace(h.Text)
		switch {
		case text == "" && len(a.Audio.Data) == 0:
			p.fail(u.T("handover.empty"))
		case utf8.RuneCountInString(text) > handoverMaxText:
			p.fail(u.T("handover.too_long", "max", handoverMaxText))
		default:
			u.push(handoverReplyScreen)
		}
	})
	return p
}

// handoverReplyPage asks how the answer should reach the person: one of
// the messengers (or SMS), or the slip.
func (u *UI) handoverReplyPage() *page {
	h := &u.session.Ask.Handover
	p := u.newPage(u.T("handover.reply_title"))
	p.text(u.T("handover.reply_help"))
	fg := u.theme().Color(theme.ColorNamePrimary, 0)
	type option struct {
		ch   allimi.Channel // "" is the slip
		card *card
	}
	var opts []*option
	var cards []fyne.CanvasObject
	add := func(ch allimi.Channel, icon fyne.Resource, name, desc string) {
		o := &option{ch: ch}
		o.card = u.optionCard(icon, name, desc, h.Chosen && h.Reply == ch, func() bool {
			h.Reply, h.Chosen = ch, true
			for _, other := range opts {
				if other != o {
					other.card.SetSelected(false)
				}
			}
			p.clearFail()
			return true
		})
		opts = append(opts, o)
		cards = append(cards, o.card)
		p.say(name + ". " + desc)
	}
	for _, ch := range allimi.Channels {
		add(ch, channelIcon(ch, fg), u.T(channelKey(ch, "name")), u.T(channelKey(ch, "desc")))
	}
	add("", theme.NewPrimaryThemedResource(theme.DocumentIcon()), u.T("handover.slip_name"), u.T("handover.slip_desc"))
	p.add(container.NewGridWithColumns(2, cards...))
	p.next = u.nextButton(u.T("nav.next"), func() {
		switch {
		case !h.Chosen:
			p.fail(u.T("handover.reply_none"))
		case h.Reply == "":
			u.handoverSubmit(p)
		default:
			u.push(handoverContactScreen)
		}
	})
	return p
}

// handoverContactPage takes the name and mobile number the answer goes
// to, checked as a sign-up checks them.
func (u *UI) handoverContactPage() *page {
	h := &u.session.Ask.Handover
	p := u.newPage(u.T("handover.contact_title"))
	p.text(u.T("handover.contact_help", "channel", u.T(channelKey(h.Reply, "name"))))
	name := widget.NewEntry()
	name.SetPlaceHolder(u.T("who.name_hint"))
	name.SetText(h.Name)
	name.OnChanged = func(v string) { h.Name = v; u.Touch(); p.clearFail() }
	mobile := widget.NewEntry()
	mobile.SetPlaceHolder(u.T("who.mobile_hint"))
	mobile.SetText(h.Mobile)
	mobile.OnChanged = func(v string) { h.Mobile = v; u.Touch(); p.clearFail() }
	bold := func(k string) *widget.Label {
		p.say(u.T(k))
		return widget.NewLabelWithStyle(u.T(k), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	p.add(bold("who.name"), name, u.newTextKeyboard(name), bold("who.mobile"), mobile, u.newNumPad(mobile))
	p.next = u.nextButton(u.T("handover.send"), func() {
		n, m, err := checkContact(h.Name, h.Mobile)
		if err != nil {
			p.failErr(err, "handover.failed")
			return
		}
		h.Name, h.Mobile = n, m
		u.handoverSubmit(p)
	})
	return p
}

// handoverSubmit stores the question, once, and shows the slip.
func (u *UI) handoverSubmit(p *page) {
	if u.cur != p {
		return // a double tap: the slip is up
	}
	a := &u.session.Ask
	h := &a.Handover
	if h.Code == "" {
		q := HandoverQuestion{Audio: a.Audio, Text: strings.TrimSpace(h.Text), Lang: u.prefs.Lang, Reply: h.Reply}
		if q.Reply != "" {
			q.Name, q.Mobile = h.Name, h.Mobile
		}
		code, err := u.handover().Submit(q)
		if err != nil {
			p.failErr(err, "handover.failed")
			return
		}
		h.Code = code
		// The outbox has it now; the screen keeps no copy of the voice.
		a.Audio = voice.WAV{}
	}
	u.push(handoverSlipScreen)
}

// handoverSlipPage is the slip: the receipt code, very large, its QR code
// and what happens next; read aloud as it appears.
func (u *UI) handoverSlipPage() *page {
	h := &u.session.Ask.Handover
	p := u.newPage(u.T("handover.slip_title"))
	p.noBack = true // going back would ask to send again
	th := u.theme()
	label := headingLabel(u.T("handover.code"))
	code := canvas.NewText(h.Code, th.Color(theme.ColorNameForeground, 0))
	code.TextSize = 88 * th.Scale
	code.TextStyle = fyne.TextStyle{Bold: true, Monospace: true}
	p.say(u.T("handover.code"), spellOut(h.Code))
	var next string
	if h.Reply != "" {
		c := allimi.Citizen{Mobile: h.Mobile}
		next = u.T("handover.next_channel", "channel", u.T(channelKey(h.Reply, "name")), "mobile", c.MaskedMobile())
	} else {
		next = u.T("handover.next_slip")
	}
	common := u.T("handover.next_common")
	p.say(next, common)
	left := vbox(label, code, wrapLabel(next), wrapLabel(common))
	var right fyne.CanvasObject
	// The QR code leads to central's page for the code, which shows the
	// answer once an official has given it.
	if qr, err := qrImage(ReceiptURL(u.cfg.ReceiptURL, h.Code), 300); err != nil {
		u.log.Error("hand-over QR code", "err", err)
	} else {
		right = qr
		left.Add(wrapLabel(u.T("handover.qr_hint")))
		p.say(u.T("handover.qr_hint"))
	}
	p.add(container.NewBorder(nil, nil, nil, right, left))
	p.next = u.nextButton(u.T("done.finish"), u.Home)
	p.onShow = func() { u.speak(p.ReadAloudText()) }
	return p
}

// handoverCheckPage takes a receipt code on a keypad of the code's own
// letters and asks central for the answer.
func (u *UI) handoverCheckPage() *page {
	h := &u.session.Ask.Handover
	p := u.newPage(u.T("handover.check_title"))
	p.text(u.T("handover.check_help"))
	entry := widget.NewEntry()
	entry.PlaceHolder = "XXXX-XXXX-XXXX"
	entry.SetText(h.CheckDraft)
	entry.OnChanged = func(v string) {
		h.CheckDraft = v
		u.Touch()
		p.clearFail()
	}
	wait := wrapLabel(u.T("nav.wait"))
	wait.Hide()
	// The code at key size: the person compares it with the slip.
	p.add(container.NewThemeOverride(entry, keyCapTheme{u.theme()}), u.newCodePad(entry), wait)
	busy := false
	var check *widget.Button
	check = u.nextButton(u.T("handover.check_go"), func() {
		code, ok := allimi.NormalizeReceiptCode(entry.Text)
		if !ok {
			p.fail(u.T("handover.code_invalid"))
			return
		}
		if busy {
			return
		}
		busy = true
		check.Disable()
		wait.Show()
		ho := u.handover()
		u.opt.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), handoverAnswerTimeout)
			answer, ok, err := ho.Answer(ctx, code)
			cancel()
			fyne.Do(func() {
				if u.cur != p {
					return // the person left meanwhile
				}
				busy = false
				check.Enable()
				wait.Hide()
				var re *uplink.ReplyError
				switch {
				case errors.Is(err, ErrNoSuchQuestion):
					// A Handover wraps ErrNoSuchQuestion for a code it does
					// not know: check the number, the network is fine.
					p.fail(u.T("handover.code_unknown"))
				case errors.As(err, &re) && re.Code == "too-many-tries":
					p.fail(u.T("handover.too_many"))
				case err != nil:
					u.log.Warn("hand-over answer not fetched", "err", err)
					p.fail(u.T("handover.offline"))
				case !ok:
					p.note(u.T("handover.not_yet"))
				default:
					h.Answer, h.AnswerCode = answer, code
					u.push(handoverAnswerScreen)
					return
				}
				u.speak(p.err.Text)
			})
		})
	})
	p.next = check
	return p
}

// handoverAnswerPage shows the official's answer in large text and reads
// it aloud.
func (u *UI) handoverAnswerPage() *page {
	h := &u.session.Ask.Handover
	p := u.newPage(u.T("handover.answer_title"))
	p.text(u.T("handover.answer_code", "code", h.AnswerCode))
	body := p.text(strings.TrimSpace(h.Answer))
	body.SizeName = theme.SizeNameSubHeadingText
	read := u.button(u.T("ask.read_answer"), theme.VolumeUpIcon(), widget.MediumImportance, func() { u.speak(h.Answer) })
	p.add(touchWide(read))
	p.onShow = func() { u.speak(h.Answer) }
	p.next = u.nextButton(u.T("done.finish"), u.Home)
	return p
}

// newCodePad is a keypad of the receipt code's letters (allimi.CodeAlphabet:
// no 0/O or 1/I to confuse), which types the code as XXXX-XXXX-XXXX. A
// slip of an earlier kiosk (XXXXX-XXXXX) types as XXXX-XXXX-XX, which
// reads as the same code (allimi.NormalizeReceiptCode).
func (u *UI) newCodePad(entry *widget.Entry) fyne.CanvasObject {
	set := func(raw string) {
		u.Touch()
		var text strings.Builder
		for i, r := range []rune(raw) {
			if i > 0 && i%4 == 0 {
				text.WriteByte('-')
			}
			text.WriteRune(r)
		}
		entry.SetText(text.String())
	}
	raw := func() string {
		return strings.Map(func(r rune) rune {
			if r == '-' || r == ' ' {
				return -1
			}
			return r
		}, strings.ToUpper(entry.Text))
	}
	var keys []fyne.CanvasObject
	for _, r := range allimi.CodeAlphabet {
		r := r
		keys = append(keys, widget.NewButton(string(r), func() {
			if s := raw(); utf8.RuneCountInString(s) < allimi.ReceiptCodeLetters {
				set(s + string(r))
			}
		}))
	}
	clr := widget.NewButton(u.T("keyboard.clear"), func() { set("") })
	back := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() {
		if s := []rune(raw()); len(s) > 0 {
			set(string(s[:len(s)-1]))
		}
	})
	grid := container.NewThemeOverride(container.NewGridWithColumns(8, keys...), keyCapTheme{u.theme()})
	edit := container.NewThemeOverride(container.NewGridWithColumns(2, clr, back), keyCapTheme{u.theme()})
	return vbox(grid, edit)
}

package kiosk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"allimi"
)

// Staff reports the signed-in official, nil when none.
func (u *UI) Staff() *StaffMember { return u.staff }

// openStaff asks for a PIN (or goes straight to the menu when an official
// is signed in already).
func (u *UI) openStaff() {
	if u.staff != nil {
		u.push(staffMenuScreen)
		return
	}
	u.push(staffPINScreen)
}

// pinPage asks for an official's PIN on a keypad; the PIN says who signs in.
func (u *UI) pinPage() *page {
	p := u.newPage(u.T("staff.pin_title"))
	var pin string
	shown := widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true, Monospace: true})
	shown.SizeName = theme.SizeNameHeadingText
	show := func() { shown.SetText(strings.Repeat("● ", len(pin)) + " ") }
	show()
	digit := func(d string) {
		u.Touch()
		p.clearFail()
		if len(pin) < 12 {
			pin += d
			show()
		}
	}
	clear := func() { u.Touch(); pin = ""; show() }
	p.add(container.NewCenter(container.NewStack(spacer(420, 0), shown)), pinPad(digit, clear, u.T("staff.clear")))
	p.say(u.T("staff.pin"))
	p.next = u.nextButton(u.T("staff.ok"), func() {
		now := u.clock.Now()
		if left, locked := u.pins.locked(now); locked {
			p.fail(u.T("err.pin_locked", "seconds", int(math.Ceil(left.Seconds()))))
			return
		}
		if len(u.cfg.Staff) == 0 {
			p.fail(u.T("err.no_staff"))
			return
		}
		m, ok := matchPIN(u.cfg.Staff, pin)
		pin = ""
		show()
		if !ok {
			u.pins.fail(now)
			u.log.Warn("staff PIN refused")
			p.fail(u.T("err.pin_wrong"))
			return
		}
		u.pins.ok()
		u.staff = m
		u.log.Info("staff signed in", "official", m.ID)
		u.replace(staffMenuScreen)
	})
	return p
}

// staffMenuPage lists what an official can do.
func (u *UI) staffMenuPage() *page {
	p := u.newPage(u.T("staff.menu_title"))
	if u.staff == nil { // signed out by idle while the screen was built
		p.text(u.T("err.pin_wrong"))
		return p
	}
	p.text(u.T("staff.signed_in", "name", u.staff.Name, "id", u.staff.ID))
	p.back = u.Home // leaving the menu signs the official out
	items := []struct {
		key  string
		icon fyne.Resource
		do   func()
	}{
		{"staff.assisted", theme.DocumentCreateIcon(), func() {
			u.session.Clear()
			u.session.Official = u.staff
			u.push(whoScreen)
		}},
		{"staff.today", theme.ListIcon(), func() { u.push(staffTodayScreen) }},
		{"staff.withdraw", theme.DeleteIcon(), func() {
			u.session.Clear()
			u.session.Official = u.staff
			for _, ti := range allimi.Types() {
				u.session.Types[ti.ID] = true
			}
			u.push(staffWithdrawScreen)
		}},
		{"staff.sync", theme.ViewRefreshIcon(), func() { u.push(staffSyncScreen) }},
		{"staff.conflicts", theme.WarningIcon(), func() { u.push(staffConflicts) }},
		{"staff.logout", theme.LogoutIcon(), u.Home},
	}
	var objs []fyne.CanvasObject
	for _, it := range items {
		b := u.button(u.T(it.key), it.icon, widget.HighImportance, it.do)
		if it.key == "staff.logout" {
			b.Importance = widget.MediumImportance
		}
		objs = append(objs, container.NewStack(spacer(0, 110), b))
		p.say(u.T(it.key))
	}
	p.add(container.NewGridWithColumns(2, objs...))
	return p
}

// todayPage lists today's records at this kiosk, masked.
func (u *UI) todayPage() *page {
	p := u.newPage(u.T("today.title"))
	p.text(u.T("today.note"))
	entries, err := u.opt.Today.List(u.clock.Now())
	if err != nil {
		u.log.Error("today's list", "err", err)
	}
	if len(entries) == 0 {
		p.heading(u.T("today.empty"))
		return p
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].At.After(entries[j].At) })
	for _, e := range entries {
		var types []string
		for _, t := range e.Types {
			types = append(types, u.prefs.Lang.TypeName(t))
		}
		line := u.T("today.item", "time", e.At.Local().Format("15:04"), "name", e.Name, "mobile", e.Mobile,
			"types", strings.Join(types, u.T("consent.list_sep")))
		who := u.T("today.self")
		if e.Official != "" {
			who = u.T("today.assisted", "official", e.Official)
		}
		if e.Kind == allimi.KindConsent {
			who = u.T("today.withdrawn") + " · " + who
		}
		if e.Receipt != "" {
			who += " · " + e.Receipt
		}
		l := wrapLabel(line + "\n" + who)
		p.add(widget.NewCard("", "", l))
		p.say(line, who)
	}
	return p
}

// withdrawWhoPage: whose consent an official withdraws.
func (u *UI) withdrawWhoPage() *page {
	p := u.newPage(u.T("withdraw.title"))
	u.identityFields(p)
	p.next = u.nextButton(u.T("nav.next"), func() {
		if _, err := u.session.Citizen(u.clock.Now()); err != nil {
			p.failErr(err, "err.save_failed")
			return
		}
		u.push(staffWithdraw2)
	})
	return p
}

// withdrawConfirmPage: which notices (all chosen to start with) and how
// the person asked; then one consent record withdrawing them.
func (u *UI) withdrawConfirmPage() *page {
	s := u.session
	p := u.newPage(u.T("staff.withdraw"))
	p.heading(u.T("consent.method"))
	p.add(u.methodCards(p, s))
	p.heading(u.T("withdraw.types"))
	p.add(u.typeCards(p, s, allimi.Types()))
	confirm := u.button(u.T("withdraw.confirm"), theme.DeleteIcon(), widget.DangerImportance, func() {
		if s.receipt != nil {
			return
		}
		d, err := s.WithdrawDraft(u.clock.Now())
		if err != nil {
			p.failErr(err, "err.save_failed")
			return
		}
		if _, err := s.submit(u.opt.Recorder, d); err != nil {
			if errors.Is(err, ErrNotRegistered) {
				p.fail(u.T("err.not_registered"))
			} else {
				p.failErr(err, "err.save_failed")
			}
			return
		}
		u.logToday(d.Citizen, allimi.KindConsent, s, "")
		u.replace(staffWithdrawDone)
	})
	p.next = confirm
	return p
}

func (u *UI) withdrawDonePage() *page {
	p := u.newPage(u.T("staff.withdraw"))
	p.noBack = true
	p.text(u.T("withdraw.done"))
	p.next = u.nextButton(u.T("staff.menu_title"), func() {
		u.session.Clear()
		u.backTo(staffMenuScreen)
	})
	return p
}

// syncPage shows sync health: outbox, central's acknowledgements, broker
// connection and catalog versions. It refreshes every two seconds while
// shown.
func (u *UI) syncPage() *page {
	p := u.newPage(u.T("sync.title"))
	rows := container.NewVBox()
	p.add(rows)
	speechStart := len(p.speech)
	fill := func() {
		rows.RemoveAll()
		p.speech = p.speech[:speechStart]
		if u.opt.Health == nil {
			rows.Add(wrapLabel(u.T("sync.unavailable")))
			p.say(u.T("sync.unavailable"))
			return
		}
		h, err := u.opt.Health.Health()
		if err != nil {
			u.log.Error("sync health", "err", err)
			rows.Add(wrapLabel(u.T("sync.unavailable")))
			p.say(u.T("sync.unavailable"))
			return
		}
		conn := u.T("sync.disconnected")
		if h.Connected {
			conn = u.T("sync.connected")
		}
		lastAckAt := u.T("sync.never")
		if !h.LastAckAt.IsZero() {
			lastAckAt = h.LastAckAt.Local().Format("2006-01-02 15:04:05")
		}
		cats := u.T("sync.no_catalogs")
		if len(h.Catalogs) > 0 {
			var names []string
			for n := range h.Catalogs {
				names = append(names, n)
			}
			sort.Strings(names)
			var parts []string
			for _, n := range names {
				parts = append(parts, fmt.Sprintf("%s v%d", n, h.Catalogs[n]))
			}
			cats = strings.Join(parts, ", ")
		}
		form := container.New(layout.NewFormLayout())
		for _, kv := range [][2]string{
			{u.T("sync.broker"), conn},
			{u.T("sync.pending"), fmt.Sprint(h.Pending)},
			{u.T("sync.last_seq"), fmt.Sprint(h.LastSeq)},
			{u.T("sync.last_ack"), fmt.Sprint(h.LastAck)},
			{u.T("sync.last_ack_at"), lastAckAt},
			{u.T("sync.catalogs"), cats},
		} {
			form.Add(widget.NewLabelWithStyle(kv[0], fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			form.Add(wrapLabel(kv[1]))
			p.say(kv[0] + ": " + kv[1])
		}
		rows.Add(form)
	}
	fill()
	refresh := u.button(u.T("sync.refresh"), theme.ViewRefreshIcon(), widget.MediumImportance, fill)
	p.next = refresh
	var stop func()
	var tick func()
	tick = func() {
		if u.cur != p {
			return
		}
		fill()
		stop = u.clock.AfterFunc(2*time.Second, tick)
	}
	p.onShow = func() { stop = u.clock.AfterFunc(2*time.Second, tick) }
	p.onLeave = func() {
		if stop != nil {
			stop()
		}
	}
	return p
}

// conflictsPage lists the conflicts central reports; the official settles
// each after asking the person.
func (u *UI) conflictsPage() *page {
	p := u.newPage(u.T("conflict.title"))
	p.text(u.T("conflict.help"))
	list := container.NewVBox()
	p.add(list)
	speechStart := len(p.speech)
	var load func()
	show := func(cs []allimi.Conflict, err error) {
		list.RemoveAll()
		p.speech = p.speech[:speechStart]
		switch {
		case err != nil:
			u.log.Warn("conflicts not loaded", "err", err)
			list.Add(wrapLabel(u.T("conflict.unavailable")))
			p.say(u.T("conflict.unavailable"))
			return
		case len(cs) == 0:
			list.Add(headingLabel(u.T("conflict.empty")))
			p.say(u.T("conflict.empty"))
			return
		}
		for _, c := range cs {
			c := c
			line := u.T("conflict.item", "name", c.Name, "mobile", c.Mobile,
				"type", u.prefs.Lang.TypeName(c.Type), "channel", u.T(channelKey(c.Channel, "name")))
			resolve := func(d allimi.ConsentAction) func() {
				return func() {
					if u.staff == nil {
						return
					}
					official := u.staff.ID
					u.opt.Go(func() {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer cancel()
						err := u.opt.Conflicts.Resolve(ctx, c.ID, d, official)
						fyne.Do(func() {
							if u.cur != p {
								return
							}
							if err != nil {
								u.log.Warn("conflict not resolved", "id", c.ID, "err", err)
								p.fail(u.T("conflict.unavailable"))
								return
							}
							load()
						})
					})
				}
			}
			keep := u.button(u.T("conflict.keep"), theme.CancelIcon(), widget.MediumImportance, resolve(allimi.ActionWithdraw))
			restore := u.button(u.T("conflict.restore"), theme.ConfirmIcon(), widget.HighImportance, resolve(allimi.ActionGrant))
			list.Add(widget.NewCard("", "", vbox(wrapLabel(line), container.NewGridWithColumns(2, keep, restore))))
			p.say(line)
		}
	}
	load = func() {
		if u.opt.Conflicts == nil {
			show(nil, errors.New("no conflict source configured"))
			return
		}
		src := u.opt.Conflicts
		u.opt.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cs, err := src.Conflicts(ctx)
			fyne.Do(func() {
				if u.cur == p {
					show(cs, err)
				}
			})
		})
	}
	list.Add(wrapLabel(u.T("nav.wait")))
	p.onShow = load
	return p
}

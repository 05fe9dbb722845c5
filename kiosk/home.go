package kiosk

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Sizes of the home screen, on top of the theme's.
const (
	titleSize       float32 = 56
	buttonTextSize  float32 = 44
	buttonIconSize  float32 = 56
	buttonMinHeight float32 = 120
)

// homePage is the home screen: three large buttons (알림 신청, 보조금
// 찾기, 말로 물어보기) and, beside them, the language, text size,
// contrast, read-aloud and staff buttons.
func (u *UI) homePage() *page {
	p := u.newPage("")
	p.home = true
	th := u.theme()

	title := canvas.NewText(u.T("app.title"), th.Color(theme.ColorNamePrimary, 0))
	title.TextSize = titleSize * th.Scale
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.Alignment = fyne.TextAlignCenter
	subtitle := headingLabel(u.T("home.subtitle"))
	subtitle.Alignment = fyne.TextAlignCenter
	p.say(u.T("app.title"), u.T("home.subtitle"))

	big := []*widget.Button{
		u.button(u.T("home.notify"), theme.MailComposeIcon(), widget.HighImportance, u.startSignup),
		u.button(u.T("home.subsidy"), theme.SearchIcon(), widget.HighImportance, func() { u.opt.Subsidy.Start(u) }),
		u.button(u.T("home.ask"), theme.VolumeUpIcon(), widget.HighImportance, func() { u.opt.Voice.Start(u) }),
	}
	rows := make([]fyne.CanvasObject, len(big))
	for i, b := range big {
		rows[i] = container.NewStack(spacer(0, buttonMinHeight*th.Scale), b)
		p.say(b.Text)
	}
	menu := container.NewThemeOverride(container.NewGridWithRows(len(rows), rows...), bigButtonTheme{th})

	// Each language's name is drawn in that language's own font: the
	// Korean font has no Thai, the Thai font no Hangul. The text names its
	// font (FontSource) rather than sitting in a theme override, because
	// Fyne measures text with the app's theme and would size it wrongly.
	var langs []fyne.CanvasObject
	for _, l := range Langs {
		l := l
		name := canvas.NewText(l.Name(), th.Color(theme.ColorNameForeground, 0))
		name.TextSize = TextSize * th.Scale
		name.TextStyle = fyne.TextStyle{Bold: true}
		name.FontSource = nameFont(l)
		name.Alignment = fyne.TextAlignCenter
		c := newCard(container.NewCenter(name), false, func() {
			u.Touch()
			pr := u.prefs
			pr.Lang = l
			u.SetPrefs(pr)
		})
		c.Selected = l == u.prefs.Lang
		langs = append(langs, c)
		p.say(l.Name())
	}

	sizeNames := []string{"home.text_size_100", "home.text_size_125", "home.text_size_150"}
	size := u.button(u.T("home.text_size")+": "+u.T(sizeNames[u.prefs.Scale]), theme.ZoomInIcon(), widget.MediumImportance, func() {
		pr := u.prefs
		pr.Scale = (pr.Scale + 1) % len(TextScales)
		u.SetPrefs(pr)
	})
	onOff := "home.contrast_off"
	if u.prefs.HighContrast {
		onOff = "home.contrast_on"
	}
	contrast := u.button(u.T("home.contrast")+": "+u.T(onOff), theme.ColorAchromaticIcon(), widget.MediumImportance, func() {
		pr := u.prefs
		pr.HighContrast = !pr.HighContrast
		u.SetPrefs(pr)
	})
	read := u.button(u.T("nav.read_aloud"), theme.VolumeUpIcon(), widget.MediumImportance, u.speakScreen)
	staff := u.button(u.T("home.staff"), theme.AccountIcon(), widget.MediumImportance, u.openStaff)
	// The language names say what they are in every language, so they
	// need no "Language" heading; it is read aloud for those who cannot read.
	p.say(u.T("home.language"))
	side := vbox(container.NewGridWithColumns(2, langs...), widget.NewSeparator(), size, contrast)

	status := widget.NewLabelWithStyle(u.statusText(), fyne.TextAlignCenter, fyne.TextStyle{})
	status.SizeName = theme.SizeNameCaptionText
	status.Wrapping = fyne.TextWrapWord

	p.add(title, subtitle,
		container.NewBorder(nil, nil, nil, container.NewStack(spacer(460*th.Scale, 0), side), container.NewPadded(menu)),
		widget.NewSeparator(), container.NewBorder(nil, nil, staff, read, status))
	p.say(size.Text, contrast.Text, read.Text, staff.Text)
	return p
}

// statusText is the home screen's status line: the kiosk's id, or that it
// is not registered.
func (u *UI) statusText() string {
	if u.cfg.ID == "" || u.opt.Recorder == nil {
		return u.T("home.unregistered")
	}
	return u.T("home.kiosk", "id", u.cfg.ID)
}

// bigButtonTheme is the kiosk theme with larger text and icons, for the
// home screen's buttons.
type bigButtonTheme struct{ Theme }

func (t bigButtonTheme) Size(n fyne.ThemeSizeName) float32 {
	s := t.Theme.Scale
	if s <= 0 {
		s = 1
	}
	switch n {
	case theme.SizeNameText:
		return buttonTextSize * s
	case theme.SizeNameInlineIcon:
		return buttonIconSize * s
	}
	return t.Theme.Size(n)
}

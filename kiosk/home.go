package kiosk

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Texts of the home screen.
const (
	Title        = "알리미"
	Subtitle     = "무엇을 도와드릴까요?"
	LabelNotify  = "알림 신청"
	LabelSubsidy = "보조금 찾기"
	LabelAsk     = "말로 물어보기"
	ComingSoon   = "곧 제공됩니다"
)

// Sizes of the home screen, on top of the theme's.
const (
	titleSize       float32 = 80
	buttonTextSize  float32 = 44
	buttonIconSize  float32 = 64
	buttonMinHeight float32 = 140
)

// NewHome builds the kiosk's home screen for window w: the title, three
// large buttons (알림 신청, 보조금 찾기, 말로 물어보기) and a status line
// with the kiosk's id and whether a config file was loaded. The buttons
// only say that their feature is coming for now.
func NewHome(w fyne.Window, cfg Config) fyne.CanvasObject {
	title := canvas.NewText(Title, theme.Color(theme.ColorNamePrimary))
	title.TextSize = titleSize
	title.TextStyle = fyne.TextStyle{Bold: true}
	title.Alignment = fyne.TextAlignCenter

	subtitle := widget.NewLabelWithStyle(Subtitle, fyne.TextAlignCenter, fyne.TextStyle{})
	subtitle.SizeName = theme.SizeNameSubHeadingText

	comingSoon := func(label string) func() {
		return func() { dialog.ShowInformation(label, ComingSoon, w) }
	}
	buttons := []*widget.Button{
		widget.NewButtonWithIcon(LabelNotify, theme.MailComposeIcon(), comingSoon(LabelNotify)),
		widget.NewButtonWithIcon(LabelSubsidy, theme.SearchIcon(), comingSoon(LabelSubsidy)),
		widget.NewButtonWithIcon(LabelAsk, theme.VolumeUpIcon(), comingSoon(LabelAsk)),
	}
	rows := make([]fyne.CanvasObject, len(buttons))
	for i, b := range buttons {
		b.Importance = widget.HighImportance
		rows[i] = container.NewStack(minHeight(buttonMinHeight), b)
	}
	menu := container.NewThemeOverride(
		container.NewGridWithRows(len(rows), rows...),
		bigButtonTheme{},
	)

	status := widget.NewLabelWithStyle(StatusText(cfg), fyne.TextAlignCenter, fyne.TextStyle{})
	status.SizeName = theme.SizeNameCaptionText

	header := container.NewVBox(title, subtitle)
	footer := container.NewVBox(widget.NewSeparator(), status)
	return container.NewPadded(container.NewBorder(header, footer, nil, nil, container.NewPadded(menu)))
}

// StatusText is the home screen's status line: the kiosk id and where the
// config came from.
func StatusText(cfg Config) string {
	id := cfg.ID
	if id == "" {
		id = "(미등록)"
	}
	loaded := "설정 파일 없음"
	if cfg.Loaded() {
		loaded = fmt.Sprintf("설정 불러옴: %s", cfg.Path)
	}
	return fmt.Sprintf("키오스크 %s · %s", id, loaded)
}

// minHeight is an invisible object that gives a stack its minimum height.
func minHeight(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(0, h))
	return r
}

// bigButtonTheme is the kiosk theme with larger text and icons, for the
// home screen's buttons.
type bigButtonTheme struct{ Theme }

func (t bigButtonTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return buttonTextSize
	case theme.SizeNameInlineIcon:
		return buttonIconSize
	}
	return t.Theme.Size(n)
}

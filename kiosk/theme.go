package kiosk

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"allimi/assets"
)

// Text sizes of the kiosk theme, in Fyne's device-independent points. The
// kiosk is used by older people standing at arm's length from a screen, so
// everything is about twice Fyne's default.
const (
	TextSize       float32 = 26
	SubHeadingSize float32 = 34
	HeadingSize    float32 = 44
	CaptionSize    float32 = 20
)

var (
	fontRegular = fyne.NewStaticResource("NanumGothic.ttf", assets.FontRegular())
	fontBold    = fyne.NewStaticResource("NanumGothicBold.ttf", assets.FontBold())
)

// Theme is the kiosk's theme: Fyne's default light colours, the embedded
// NanumGothic font (Korean and Latin) and large text and controls.
type Theme struct{}

var _ fyne.Theme = Theme{}

// NewTheme returns the kiosk theme.
func NewTheme() fyne.Theme { return Theme{} }

// Color returns the light variant of Fyne's default colours whatever the
// system asks for: a public kiosk keeps one high-contrast look.
func (Theme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

// Font returns NanumGothic (bold for bold text). Monospace and symbol text
// keep Fyne's fonts.
func (Theme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Monospace || s.Symbol {
		return theme.DefaultTheme().Font(s)
	}
	if s.Bold {
		return fontBold
	}
	return fontRegular
}

// Icon returns Fyne's default icons.
func (Theme) Icon(n fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(n)
}

// Size returns the kiosk's large sizes.
func (Theme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return TextSize
	case theme.SizeNameSubHeadingText:
		return SubHeadingSize
	case theme.SizeNameHeadingText:
		return HeadingSize
	case theme.SizeNameCaptionText:
		return CaptionSize
	case theme.SizeNameInlineIcon:
		return 36
	case theme.SizeNamePadding:
		return 8
	case theme.SizeNameInnerPadding:
		return 16
	case theme.SizeNameScrollBar:
		return 24
	case theme.SizeNameScrollBarSmall:
		return 8
	case theme.SizeNameInputBorder:
		return 3
	case theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		return 10
	}
	return theme.DefaultTheme().Size(n)
}

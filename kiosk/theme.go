package kiosk

import (
	"image/color"
	"io/fs"
	"log/slog"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"allimi/assets"
)

// Sizes of the kiosk theme at 100 % text size, in Fyne units. Fyne draws
// one unit as one pixel on a 96 dpi screen at scale 1 (the kiosk's 21.5"
// 1920×1080 touch screens are about 102 dpi, and Fyne scales to the
// screen's density), so at 96 dpi:
//
//   - 24 pt is 24 × 96 / 72 = 32 px: body text is 32 units.
//   - 15 mm is 15 / 25.4 × 96 ≈ 56.7 px: every touch target is at least
//     MinTouch = 57 units high and wide (buttons come out at about 80).
const (
	TextSize       float32 = 32
	SubHeadingSize float32 = 38
	HeadingSize    float32 = 46
	CaptionSize    float32 = 26
	MinTouch       float32 = 57
)

// TextScales are the text-size choices the home screen cycles through.
var TextScales = []float32{1, 1.25, 1.5}

// Theme is the kiosk's theme for one language, text size and contrast: the
// language's embedded font, text at TextSize × Scale and colours whose text
// contrast is at least 7:1 (WCAG 2.x AAA), in a normal and a high-contrast
// palette.
type Theme struct {
	Lang         Lang
	Scale        float32 // one of TextScales; 0 means 1
	HighContrast bool
}

var _ fyne.Theme = Theme{}

// NewTheme returns the default kiosk theme: Korean, 100 %, normal contrast.
func NewTheme() fyne.Theme { return Theme{Lang: DefaultLang, Scale: 1} }

// Palettes. Each text colour is listed with the backgrounds it is drawn on
// in textPairs, which the contrast test checks.
var (
	normalPalette = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameBackground:          color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameForeground:          color.NRGBA{0x1A, 0x1A, 0x1A, 0xFF},
		theme.ColorNameButton:              color.NRGBA{0xE6, 0xE9, 0xEF, 0xFF},
		theme.ColorNameDisabledButton:      color.NRGBA{0xF0, 0xF0, 0xF0, 0xFF},
		theme.ColorNameDisabled:            color.NRGBA{0x4A, 0x4A, 0x4A, 0xFF},
		theme.ColorNamePrimary:             color.NRGBA{0x0B, 0x3D, 0x91, 0xFF},
		theme.ColorNameForegroundOnPrimary: color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameError:               color.NRGBA{0x9E, 0x00, 0x00, 0xFF},
		theme.ColorNameForegroundOnError:   color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameSuccess:             color.NRGBA{0x0D, 0x5C, 0x2E, 0xFF},
		theme.ColorNameForegroundOnSuccess: color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameWarning:             color.NRGBA{0xFF, 0xD5, 0x4F, 0xFF},
		theme.ColorNameForegroundOnWarning: color.NRGBA{0x1A, 0x1A, 0x1A, 0xFF},
		theme.ColorNameInputBackground:     color.NRGBA{0xF5, 0xF6, 0xF8, 0xFF},
		theme.ColorNameInputBorder:         color.NRGBA{0x4A, 0x4A, 0x4A, 0xFF},
		theme.ColorNamePlaceHolder:         color.NRGBA{0x4A, 0x4A, 0x4A, 0xFF},
		theme.ColorNameHyperlink:           color.NRGBA{0x0B, 0x3D, 0x91, 0xFF},
		theme.ColorNameFocus:               color.NRGBA{0x0B, 0x3D, 0x91, 0x80},
		theme.ColorNameHover:               color.NRGBA{0x00, 0x00, 0x00, 0x14},
		theme.ColorNamePressed:             color.NRGBA{0x00, 0x00, 0x00, 0x30},
		theme.ColorNameSelection:           color.NRGBA{0x0B, 0x3D, 0x91, 0x40},
		theme.ColorNameSeparator:           color.NRGBA{0xB0, 0xB0, 0xB0, 0xFF},
		theme.ColorNameShadow:              color.NRGBA{0x00, 0x00, 0x00, 0x40},
		theme.ColorNameOverlayBackground:   color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameMenuBackground:      color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameHeaderBackground:    color.NRGBA{0xE6, 0xE9, 0xEF, 0xFF},
		theme.ColorNameScrollBar:           color.NRGBA{0x4A, 0x4A, 0x4A, 0xFF},
		theme.ColorNameScrollBarBackground: color.NRGBA{0xE6, 0xE9, 0xEF, 0xFF},
		colorNameSelectedCard:              color.NRGBA{0xD6, 0xE4, 0xFA, 0xFF},
	}
	highContrastPalette = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameBackground:          color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		theme.ColorNameForeground:          color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameButton:              color.NRGBA{0x1F, 0x1F, 0x1F, 0xFF},
		theme.ColorNameDisabledButton:      color.NRGBA{0x14, 0x14, 0x14, 0xFF},
		theme.ColorNameDisabled:            color.NRGBA{0xC8, 0xC8, 0xC8, 0xFF},
		theme.ColorNamePrimary:             color.NRGBA{0xFF, 0xE0, 0x00, 0xFF},
		theme.ColorNameForegroundOnPrimary: color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		theme.ColorNameError:               color.NRGBA{0xFF, 0x9E, 0x9E, 0xFF},
		theme.ColorNameForegroundOnError:   color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		theme.ColorNameSuccess:             color.NRGBA{0x7C, 0xFF, 0xA8, 0xFF},
		theme.ColorNameForegroundOnSuccess: color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		theme.ColorNameWarning:             color.NRGBA{0xFF, 0xE0, 0x00, 0xFF},
		theme.ColorNameForegroundOnWarning: color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		theme.ColorNameInputBackground:     color.NRGBA{0x14, 0x14, 0x14, 0xFF},
		theme.ColorNameInputBorder:         color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNamePlaceHolder:         color.NRGBA{0xC8, 0xC8, 0xC8, 0xFF},
		theme.ColorNameHyperlink:           color.NRGBA{0xFF, 0xE0, 0x00, 0xFF},
		theme.ColorNameFocus:               color.NRGBA{0xFF, 0xE0, 0x00, 0xA0},
		theme.ColorNameHover:               color.NRGBA{0xFF, 0xFF, 0xFF, 0x1A},
		theme.ColorNamePressed:             color.NRGBA{0xFF, 0xFF, 0xFF, 0x40},
		theme.ColorNameSelection:           color.NRGBA{0xFF, 0xE0, 0x00, 0x60},
		theme.ColorNameSeparator:           color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameShadow:              color.NRGBA{0x00, 0x00, 0x00, 0x00},
		theme.ColorNameOverlayBackground:   color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		theme.ColorNameMenuBackground:      color.NRGBA{0x00, 0x00, 0x00, 0xFF},
		theme.ColorNameHeaderBackground:    color.NRGBA{0x1F, 0x1F, 0x1F, 0xFF},
		theme.ColorNameScrollBar:           color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		theme.ColorNameScrollBarBackground: color.NRGBA{0x1F, 0x1F, 0x1F, 0xFF},
		colorNameSelectedCard:              color.NRGBA{0x00, 0x33, 0x66, 0xFF},
	}
)

// colorNameSelectedCard is the background of a chosen option card.
const colorNameSelectedCard fyne.ThemeColorName = "allimiSelectedCard"

// textPairs are the (text, background) colour pairs the kiosk draws text
// with; each must reach 7:1.
var textPairs = [][2]fyne.ThemeColorName{
	{theme.ColorNameForeground, theme.ColorNameBackground},
	{theme.ColorNameForeground, theme.ColorNameButton},
	{theme.ColorNameForeground, theme.ColorNameInputBackground},
	{theme.ColorNameForeground, theme.ColorNameOverlayBackground},
	{theme.ColorNameForeground, theme.ColorNameHeaderBackground},
	{theme.ColorNameForeground, colorNameSelectedCard},
	{theme.ColorNamePlaceHolder, theme.ColorNameInputBackground},
	{theme.ColorNameDisabled, theme.ColorNameDisabledButton},
	{theme.ColorNameDisabled, theme.ColorNameBackground},
	{theme.ColorNameForegroundOnPrimary, theme.ColorNamePrimary},
	{theme.ColorNameForegroundOnError, theme.ColorNameError},
	{theme.ColorNameForegroundOnSuccess, theme.ColorNameSuccess},
	{theme.ColorNameForegroundOnWarning, theme.ColorNameWarning},
	{theme.ColorNameError, theme.ColorNameBackground},
	{theme.ColorNamePrimary, theme.ColorNameBackground},
	{theme.ColorNameHyperlink, theme.ColorNameBackground},
}

// Color returns the palette's colour whatever variant the system asks
// for: a public kiosk keeps the look its users chose on the home screen.
func (t Theme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	p := normalPalette
	if t.HighContrast {
		p = highContrastPalette
	}
	if c, ok := p[n]; ok {
		return c
	}
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

// Font returns the language's embedded font. One font does not cover all
// six languages (NanumGothic has no Thai and lacks many hanzi), so each
// language names its own; Fyne falls back to its built-in Noto Sans for
// Latin letters a font lacks.
func (t Theme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Monospace || s.Symbol {
		return theme.DefaultTheme().Font(s)
	}
	f := fontsFor(t.Lang)
	if s.Bold {
		return f.bold
	}
	return f.regular
}

// Icon returns Fyne's default icons.
func (Theme) Icon(n fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(n)
}

// Size returns the kiosk's large sizes, text scaled by the chosen text size.
func (t Theme) Size(n fyne.ThemeSizeName) float32 {
	s := t.Scale
	if s <= 0 {
		s = 1
	}
	switch n {
	case theme.SizeNameText:
		return TextSize * s
	case theme.SizeNameSubHeadingText:
		return SubHeadingSize * s
	case theme.SizeNameHeadingText:
		return HeadingSize * s
	case theme.SizeNameCaptionText:
		return CaptionSize * s
	case theme.SizeNameInlineIcon:
		return 36 * s
	case theme.SizeNamePadding:
		return 8
	case theme.SizeNameInnerPadding:
		return 18
	case theme.SizeNameLineSpacing:
		return 8
	case theme.SizeNameScrollBar:
		return 24
	case theme.SizeNameScrollBarSmall:
		return 12
	case theme.SizeNameInputBorder:
		return 3
	case theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		return 10
	}
	return theme.DefaultTheme().Size(n)
}

// langFonts is a language's regular and bold face.
type langFonts struct{ regular, bold fyne.Resource }

// fontFiles names each language's font files in assets/fonts. Korean and
// English use the Korean face of Noto Sans CJK, Japanese and Chinese its
// Japanese and Simplified Chinese faces, each subset to the characters the
// kiosk shows plus every Hangul syllable (assets/fonts/subset-cjk.sh);
// Thai uses Noto Sans Thai and Vietnamese Fyne's own Noto Sans.
//
// The Korean face replaces the NanumGothic that assets also embeds: Fyne
// parses every TrueType outline of a font up front, and NanumGothic's
// two weights alone took 70 MB of the kiosk's memory; the CFF subsets
// take a few.
var fontFiles = map[Lang][2]string{
	LangKo: {"NotoSansCJKkr-Regular-subset.otf", "NotoSansCJKkr-Bold-subset.otf"},
	LangEn: {"NotoSansCJKkr-Regular-subset.otf", "NotoSansCJKkr-Bold-subset.otf"},
	LangTh: {"NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"},
	LangJa: {"NotoSansCJKjp-Regular-subset.otf", "NotoSansCJKjp-Bold-subset.otf"},
	LangZh: {"NotoSansCJKsc-Regular-subset.otf", "NotoSansCJKsc-Bold-subset.otf"},
}

var (
	fontMu     sync.Mutex
	fontCache  = map[Lang]langFonts{}
	fontByFile = map[string]fyne.Resource{}
)

// fontsFor loads the fonts of l the first time a screen needs them: a
// kiosk that only ever shows Korean never reads the Thai or CJK files.
func fontsFor(l Lang) langFonts {
	fontMu.Lock()
	defer fontMu.Unlock()
	if f, ok := fontCache[l]; ok {
		return f
	}
	f := langFonts{regular: theme.DefaultTextFont(), bold: theme.DefaultTextBoldFont()}
	if files, ok := fontFiles[l]; ok {
		if r, b := loadFont(files[0]), loadFont(files[1]); r != nil && b != nil {
			f = langFonts{regular: r, bold: b}
		}
	}
	fontCache[l] = f
	return f
}

// loadFont reads a font file once; languages sharing a font share the
// resource, and so Fyne's parsed copy of it. fontMu is held.
func loadFont(name string) fyne.Resource {
	if r, ok := fontByFile[name]; ok {
		return r
	}
	data, err := fs.ReadFile(assets.FS(), "fonts/"+name)
	if err != nil {
		slog.Error("kiosk font missing; falling back to Fyne's", "font", name, "err", err)
		return nil
	}
	r := fyne.NewStaticResource(name, data)
	fontByFile[name] = r
	return r
}

// nameFont is the font a language's own name is drawn in on the home
// screen, whatever language the screen is in: the Korean face (which
// also has 日本語, 中文 and Latin) for four of them, Thai's, and Fyne's
// Noto Sans for Vietnamese.
func nameFont(l Lang) fyne.Resource {
	switch l {
	case LangTh:
		return fontsFor(LangTh).bold
	case LangVi:
		return theme.DefaultTextBoldFont()
	}
	return fontsFor(LangKo).bold
}

package kiosk

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2/theme"
	"github.com/stretchr/testify/assert"
)

// luminance is WCAG 2.x relative luminance of an opaque colour.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestContrast_KnownValues(t *testing.T) {
	assert.InDelta(t, 21, contrast(color.Black, color.White), 0.01)
	assert.InDelta(t, 1, contrast(color.White, color.White), 0.001)
	// #777 on white is the textbook 4.48:1.
	assert.InDelta(t, 4.48, contrast(color.NRGBA{0x77, 0x77, 0x77, 0xff}, color.White), 0.01)
}

// TestTheme_TextContrastIsAtLeast7 checks every colour pair the kiosk draws
// text with, in the normal and the high-contrast palette (WCAG AAA, 7:1).
func TestTheme_TextContrastIsAtLeast7(t *testing.T) {
	for _, hc := range []bool{false, true} {
		th := Theme{Lang: LangKo, HighContrast: hc}
		for _, p := range textPairs {
			fg, bg := th.Color(p[0], theme.VariantLight), th.Color(p[1], theme.VariantLight)
			_, _, _, a := fg.RGBA()
			assert.Equal(t, uint32(0xffff), a, "text colour %s must be opaque", p[0])
			assert.GreaterOrEqual(t, contrast(fg, bg), 7.0, "high contrast %v: %s on %s", hc, p[0], p[1])
		}
	}
}

// TestTheme_SizesMeetTheBrief: body text at least 24 pt and touch targets
// at least 15 mm, at 96 dpi where Fyne draws one unit as one pixel.
func TestTheme_SizesMeetTheBrief(t *testing.T) {
	const dpi = 96
	pt24 := 24.0 * dpi / 72
	mm15 := 15 / 25.4 * dpi
	for _, s := range TextScales {
		th := Theme{Lang: LangKo, Scale: s}
		assert.GreaterOrEqual(t, float64(th.Size(theme.SizeNameText)), pt24, "body text at %v", s)
	}
	assert.GreaterOrEqual(t, float64(MinTouch), mm15)
	assert.Less(t, TextScales[0], TextScales[1])
	assert.Less(t, TextScales[1], TextScales[2])
}

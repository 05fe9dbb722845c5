package kiosk

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"

	"allimi"
)

// Icons of the notification types and channels: plain shapes drawn for
// the kiosk on a 24×24 grid in one colour, built as static SVG in the
// theme's colour (pages are rebuilt when the theme changes). Fyne's SVG
// renderer fills with the non-zero rule whatever fill-rule says, so a
// hole is a sub-path drawn the other way round: shapes go clockwise
// (rect, disc), holes anticlockwise (hole, circle).

// rect and disc are clockwise sub-paths; hole and circle anticlockwise.
func rect(x, y, w, h float64) string { return fmt.Sprintf("M%g %gh%gv%gh%gz", x, y, w, h, -w) }
func hole(x, y, w, h float64) string { return fmt.Sprintf("M%g %gv%gh%gv%gz", x, y, h, w, -h) }
func disc(cx, cy, r float64) string {
	return fmt.Sprintf("M%g %ga%g %g 0 1 1 %g 0a%g %g 0 1 1 %g 0z", cx-r, cy, r, r, 2*r, r, r, -2*r)
}
func circle(cx, cy, r float64) string {
	return fmt.Sprintf("M%g %ga%g %g 0 1 0 %g 0a%g %g 0 1 0 %g 0z", cx-r, cy, r, r, 2*r, r, r, -2*r)
}

var typeIconPaths = map[allimi.NotificationType][]string{
	// a traffic light
	allimi.TypeTrafficPenalty: {rect(7, 1, 10, 22), circle(12, 6, 2.2), circle(12, 12, 2.2), circle(12, 18, 2.2)},
	// a notice with an exclamation mark
	allimi.TypeTrafficFine: {"M5 1h10l5 5v17H5z", hole(11, 7, 3, 8), hole(11, 17, 3, 3)},
	// a medical cross
	allimi.TypeHealthCheckup: {"M8 2h8v6h6v8h-6v6H8v-6H2V8h6z"},
	// an identity card
	allimi.TypeLicenceRenewal: {rect(1, 4, 22, 16), circle(7.5, 10.5, 2.6), hole(4, 15, 7, 2), hole(13, 8, 7, 2), hole(13, 12, 7, 2)},
	// a bus
	allimi.TypeSchoolBusTraining: {rect(3, 2, 18, 17), hole(5.5, 5, 13, 6), circle(7.5, 15, 1.5), circle(16.5, 15, 1.5), rect(5, 19, 4, 3), rect(15, 19, 4, 3)},
	// a steering wheel
	allimi.TypeSeniorDriverTraining: {disc(12, 12, 11), "M12 4A8 8 0 0 0 4.4 9.5H19.6A8 8 0 0 0 12 4z",
		"M4.2 12.5a8 8 0 0 0 5.3 7.1V13.5z", "M14.5 19.6a8 8 0 0 0 5.3-7.1L14.5 13.5z"},
	// a card with a heart
	allimi.TypeWelfareCard: {rect(1, 4, 22, 16), "M12 17l4.5-4.2a2.6 2.6 0 0 0-4.5-2.6a2.6 2.6 0 0 0-4.5 2.6z"},
	// a syringe
	allimi.TypeVaccination: {"M17.6 1.6l4.8 4.8-1.4 1.4-1.1-1.1-1.8 1.8 2 2-1.4 1.4-1-1-8.5 8.5H5.6l-2.8 2.8-1.4-1.4 2.8-2.8v-3.6l8.5-8.5-1-1 1.4-1.4 2 2 1.8-1.8-1.1-1.1z"},
	// a graduation cap
	allimi.TypeScholarship: {"M12 3L0 9l12 6 10-5v7h2V9z", "M5 14V17c0 2 3.1 4 7 4s7-2 7-4v-3l-7 3.3z"},
	// a hand holding a coin
	allimi.TypeRelief: {disc(15, 6, 5), "M1 14h4l5 2h5a1.5 1.5 0 0 1 0 3H9v1h7l6-3a1.6 1.6 0 0 0-1.6-2.7L15 16.3V16a2 2 0 0 0-2-2H9.5L6 12.5H1z"},
	// a star
	allimi.TypeNewBenefits: {"M12 1.5l3.1 6.6 7.2.9-5.3 5 1.4 7.2L12 17.6l-6.4 3.6 1.4-7.2-5.3-5 7.2-.9z"},
}

var channelIconPaths = map[allimi.Channel][]string{
	// a speech bubble
	allimi.ChannelKakao: {"M12 2C5.9 2 1 5.9 1 10.7c0 3 2 5.7 5 7.3L5 22l4.6-3.1c.8.1 1.6.2 2.4.2 6.1 0 11-3.9 11-8.7S18.1 2 12 2z"},
	// a phone showing a bell
	allimi.ChannelNaver: {rect(4, 1, 16, 22), hole(6, 4, 12, 15), "M12 6a3 3 0 0 1 3 3v3l1.5 2h-9L9 12V9a3 3 0 0 1 3-3z", "M10.5 15h3a1.5 1.5 0 0 1-3 0z"},
	// a phone with a notification badge
	allimi.ChannelToss: {rect(3, 3, 12, 19), hole(5, 6, 8, 12), disc(19.5, 5, 3.5)},
	// an envelope
	allimi.ChannelSMS: {"M2 4h20a1 1 0 0 1 1 1v1.2l-11 6.6L1 6.2V5a1 1 0 0 1 1-1z", "M1 8.5l11 6.6 11-6.6V19a1 1 0 0 1-1 1H2a1 1 0 0 1-1-1z"},
}

func svgIcon(name string, paths []string, c color.Color) fyne.Resource {
	r, g, b, _ := c.RGBA()
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#%02x%02x%02x" d="%s"/></svg>`,
		r>>8, g>>8, b>>8, strings.Join(paths, ""))
	return fyne.NewStaticResource(fmt.Sprintf("%s-%02x%02x%02x.svg", name, r>>8, g>>8, b>>8), []byte(svg))
}

// typeIcon is the icon of notification type t in colour c.
func typeIcon(t allimi.NotificationType, c color.Color) fyne.Resource {
	paths, ok := typeIconPaths[t]
	if !ok {
		// A type central added (its catalog): the notice's bell.
		t, paths = "added", typeIconPaths[allimi.TypeNewBenefits]
	}
	return svgIcon("type-"+string(t), paths, c)
}

// channelIcon is the icon of channel ch in colour c.
func channelIcon(ch allimi.Channel, c color.Color) fyne.Resource {
	return svgIcon("channel-"+string(ch), channelIconPaths[ch], c)
}

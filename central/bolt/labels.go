package bolt

import (
	"allimi"
	"allimi/central/detail"
)

// paramLabels name the notification parameters on the detail page, in the
// order they are shown.
// TODO(i18n): move to the translation files when the kiosk's i18n lands.
var paramLabels = []struct{ param, label string }{
	{"violation", "위반 내용"},
	{"amount", "금액(원)"},
	{"dueDate", "기한"},
	{"year", "대상 연도"},
	{"dose", "접종 차수"},
	{"date", "예정일"},
	{"semester", "학기"},
	{"applyUntil", "신청 기한"},
	{"service", "새로 받을 수 있는 혜택"},
	{"count", "혜택 수"},
}

// recipientFields are the lines of one recipient's detail page that are
// theirs: the notification's parameters with their own values.
func recipientFields(n *allimi.Notification, own map[string]string) []detail.Field {
	var out []detail.Field
	for _, pl := range paramLabels {
		v, ok := own[pl.param]
		if !ok {
			v, ok = n.Params[pl.param]
		}
		if ok {
			out = append(out, detail.Field{Label: pl.label, Value: v})
		}
	}
	return out
}

package detail

import (
	"slices"
	"strconv"

	"allimi"
)

// What a notification's pages show, the same on every store: the shared
// detail of the notification (NoticeDetail, under NoticeKey) and each
// recipient's own fields (RecipientFields).

// paramLabels name the notification parameters on the detail page, in the
// order they are shown, in Korean; labels (text.toml) in the other
// languages.
var paramLabels = []struct{ param, label string }{
	{"violation", "위반 내용"},
	{"amount", "금액(원)"},
	{"dueDate", "기한"},
	{"year", "대상 연도"},
	{"dose", "접종 차수"},
	{"date", "예정일"},
	{"semester", "학기"},
	{"applyFrom", "신청 시작"},
	{"applyUntil", "신청 기한"},
	{"validUntil", "사용 기한"},
	{"howToApply", "신청 방법"},
	{"place", "장소"},
	{"cancers", "받으실 암 검진"},
	{"service", "새로 받을 수 있는 혜택"},
	{"count", "혜택 수"},
}

// RecipientFields are the lines of one recipient's detail page that are
// theirs: the notification's parameters with their own values, labelled
// in Korean.
func RecipientFields(n *allimi.Notification, own map[string]string) []Field {
	return RecipientFieldsIn(n, own, allimi.DefaultLanguage)
}

// RecipientFieldsIn is RecipientFields labelled in lang (Korean for a
// label lang lacks); the values are as given.
func RecipientFieldsIn(n *allimi.Notification, own map[string]string, lang string) []Field {
	labels := paramLabelsIn(lang)
	var out []Field
	ti, _ := n.Type.Info()
	for _, pl := range typeLabels(ti) {
		v, ok := own[pl.param]
		if !ok {
			v, ok = n.Params[pl.param]
		}
		if ok {
			label := pl.label
			if l := labels[pl.param]; l != "" {
				label = l
			}
			out = append(out, Field{Label: label, Value: v})
		}
	}
	return out
}

// typeLabels are paramLabels, then the params of ti they do not name (a
// type an administrator put) labelled as ti says, or by their names.
func typeLabels(ti allimi.TypeInfo) []struct{ param, label string } {
	out := paramLabels
	for _, p := range append(slices.Clip(ti.Params), ti.Optional...) {
		if slices.ContainsFunc(paramLabels, func(pl struct{ param, label string }) bool { return pl.param == p }) {
			continue
		}
		label := ti.Labels[p]
		if label == "" {
			label = p
		}
		out = append(slices.Clip(out), struct{ param, label string }{p, label})
	}
	return out
}

// NoticeKey is the key of notification id's shared detail (PutShared).
func NoticeKey(id uint64) string { return "n" + strconv.FormatUint(id, 10) }

// NoticeDetail is what every recipient of n sees on their page: its type,
// title (the type's name when it has none), agency, fields and payment
// link, until it expires.
func NoticeDetail(n *allimi.Notification) Detail {
	ti, _ := n.Type.Info()
	title := n.Title
	if title == "" {
		title = ti.Name
	}
	fields := make([]Field, len(n.Fields))
	for i, f := range n.Fields {
		fields[i] = Field{Label: f.Label, Value: f.Value}
	}
	agency := n.Agency
	if n.AgencyName != "" {
		agency = n.AgencyName // the name people know it by, not its id
	}
	return Detail{Type: n.Type, Title: title, Agency: agency, Fields: fields, PaymentURL: n.PaymentURL, Expires: n.ExpiresAt}
}

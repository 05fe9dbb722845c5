package kiosk

import (
	"strconv"
	"strings"

	"allimi/subsidy"
)

// reasonText says why a service was listed, in the language shown.
// Korean is the subsidy package's own sentence (Reason.Text); the other
// languages build the same sentence from the reason's data with the
// kiosk's translations. Only the reasons a listed service can carry are
// translated: rules that pass (eligible) or need checking (worth asking
// about); the kiosk never lists a service someone cannot get.
func (u *UI) reasonText(r subsidy.Reason) string {
	if u.Lang() == LangKo {
		return r.Text()
	}
	return translatedReason(u.Lang(), r)
}

// translatedReason builds a reason's sentence from the kiosk's strings
// in language l.
func translatedReason(l Lang, r subsidy.Reason) string {
	var outcome string
	switch r.Outcome {
	case subsidy.Pass:
		outcome = "pass"
	case subsidy.Unknown:
		outcome = "unknown"
	default:
		return r.Text()
	}
	or, and := l.T("reason.or"), l.T("reason.and")
	codes := func(s, sep string) string {
		var names []string
		for _, c := range splitCodes(s) {
			names = append(names, codeName(l, c))
		}
		return strings.Join(names, sep)
	}
	switch r.Rule {
	case subsidy.RuleAge:
		return l.T(reasonKey("age", outcome), "range", ageRange(l, r), "age", r.Value)
	case subsidy.RuleSex:
		return l.T(reasonKey("sex", outcome), "codes", codes(r.Code, or))
	case subsidy.RuleIncome:
		return l.T(reasonKey("income", outcome), "codes", codes(r.Code, or), "value", codes(r.Value, and))
	case subsidy.RuleTraits:
		return l.T(reasonKey("traits", outcome), "codes", codes(r.Code, or), "value", codes(r.Value, and))
	case subsidy.RuleHousehold:
		return l.T(reasonKey("household", outcome), "codes", codes(r.Code, or), "value", codes(r.Value, and))
	case subsidy.RuleCriteria:
		return l.T("reason.criteria")
	}
	return r.Text()
}

// reasonKey names a reason's sentence: rule and outcome.
func reasonKey(rule, outcome string) string { return "reason." + rule + "_" + outcome }

// reasonKeys are the sentence keys reasonText builds.
func reasonKeys() []string {
	var keys []string
	for _, rule := range []string{"age", "sex", "income", "traits", "household"} {
		keys = append(keys, reasonKey(rule, "pass"), reasonKey(rule, "unknown"))
	}
	return keys
}

// ageRange says an age reason's bounds, as far as its codes name them.
func ageRange(l Lang, r subsidy.Reason) string {
	from := strings.Contains(r.Code, subsidy.CodeAgeFrom)
	to := strings.Contains(r.Code, subsidy.CodeAgeTo)
	f, t := strconv.Itoa(r.From), strconv.Itoa(r.To)
	switch {
	case from && to:
		return l.T("reason.range_both", "from", f, "to", t)
	case from:
		return l.T("reason.range_from", "from", f)
	}
	return l.T("reason.range_to", "to", t)
}

// codeName is a condition code's name in the language shown.
func codeName(l Lang, code string) string {
	switch code {
	case "JA0101":
		return l.T("subsidy.sex_m")
	case "JA0102":
		return l.T("subsidy.sex_f")
	}
	if g, ok := subsidy.CodeGroup(code); ok && (g == subsidy.GroupIncome || g == subsidy.GroupTraits || g == subsidy.GroupHousehold) {
		return l.T(codeKey(code))
	}
	return subsidy.CodeName(code)
}

func splitCodes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "||")
}

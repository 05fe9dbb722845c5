package subsidy

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func intp(n int) *int { return &n }

// conds is a conditions row with age bounds (nil: null) and codes set.
func conds(from, to *int, codes ...string) *Conditions {
	return &Conditions{AgeFrom: from, AgeTo: to, Codes: codes}
}

var asOf2026 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func person(t *testing.T, p Profile) Person {
	t.Helper()
	who, err := NewPerson(p, asOf2026)
	require.NoError(t, err)
	return who
}

// reason is what a test expects of one reason.
type reason struct {
	rule  Rule
	code  string
	value string
}

func TestMatch_RulesAndReasons(t *testing.T) {
	none, noHouse := []string{}, []string{}
	tests := []struct {
		name     string
		userType string
		cond     *Conditions
		profile  Profile
		verdict  Verdict
		reasons  []reason
	}{
		// Rule 1: age.
		{"age below the lower bound", "개인", conds(intp(65), nil), Profile{Age: intp(62)},
			Ineligible, []reason{{RuleAge, "JA0110", "62"}}},
		{"age on the lower bound", "개인", conds(intp(65), nil), Profile{Age: intp(65)},
			Eligible, []reason{{RuleAge, "JA0110", "65"}}},
		{"age above the upper bound", "개인", conds(nil, intp(34)), Profile{Age: intp(35)},
			Ineligible, []reason{{RuleAge, "JA0111", "35"}}},
		{"age inside both bounds", "개인", conds(intp(19), intp(34)), Profile{Age: intp(34)},
			Eligible, []reason{{RuleAge, "JA0110||JA0111", "34"}}},
		{"age below both bounds cites the lower", "개인", conds(intp(19), intp(34)), Profile{Age: intp(18)},
			Ineligible, []reason{{RuleAge, "JA0110", "18"}}},
		{"age unknown with a bound", "개인", conds(nil, intp(64)), Profile{},
			NeedsCheck, []reason{{RuleAge, "JA0111", ""}}},
		{"age bounds 0 and 120 are open", "개인", conds(intp(0), intp(120)), Profile{},
			Eligible, nil},
		{"age bounds below 0 and above 120 are open", "개인", conds(intp(-3), intp(999)), Profile{Age: intp(40)},
			Eligible, nil},
		{"an upper bound of 0 is a bound", "개인", conds(nil, intp(0)), Profile{Age: intp(1)},
			Ineligible, []reason{{RuleAge, "JA0111", "1"}}},
		{"birth date wins over age", "개인", conds(intp(65), nil), Profile{BirthDate: "1961-05-02", Age: intp(70)},
			Ineligible, []reason{{RuleAge, "JA0110", "64"}}},
		{"birth date on the birthday", "개인", conds(intp(65), nil), Profile{BirthDate: "1961-05-01"},
			Eligible, []reason{{RuleAge, "JA0110", "65"}}},

		// Rule 2: sex.
		{"sex other than the one set", "개인", conds(nil, nil, "JA0102"), Profile{Sex: "M"},
			Ineligible, []reason{{RuleSex, "JA0102", "M"}}},
		{"sex the one set", "개인", conds(nil, nil, "JA0102"), Profile{Sex: "F"},
			Eligible, []reason{{RuleSex, "JA0102", "F"}}},
		{"sex unknown", "개인", conds(nil, nil, "JA0101"), Profile{},
			NeedsCheck, []reason{{RuleSex, "JA0101", ""}}},
		{"both sexes set is no condition", "개인", conds(nil, nil, "JA0101", "JA0102"), Profile{},
			Eligible, nil},

		// Rule 3: income.
		{"income band not among those set", "개인", conds(nil, nil, "JA0201", "JA0202"), Profile{Income: "JA0203"},
			Ineligible, []reason{{RuleIncome, "JA0201||JA0202", "JA0203"}}},
		{"income band among those set", "개인", conds(nil, nil, "JA0201", "JA0202"), Profile{Income: "JA0202"},
			Eligible, []reason{{RuleIncome, "JA0201||JA0202", "JA0202"}}},
		{"income unknown", "개인", conds(nil, nil, "JA0205"), Profile{},
			NeedsCheck, []reason{{RuleIncome, "JA0205", ""}}},
		{"all five income bands is no condition", "개인", conds(nil, nil, "JA0201", "JA0202", "JA0203", "JA0204", "JA0205"), Profile{},
			Eligible, nil},

		// Rule 4: personal traits.
		{"traits: none held fails", "개인", conds(nil, nil, "JA0328"), Profile{Traits: none},
			Ineligible, []reason{{RuleTraits, "JA0328", "JA0322"}}},
		{"traits: JA0322 is the same as []", "개인", conds(nil, nil, "JA0328"), Profile{Traits: []string{"JA0322"}},
			Ineligible, []reason{{RuleTraits, "JA0328", "JA0322"}}},
		{"traits: other ones held fail", "개인", conds(nil, nil, "JA0328", "JA0329"), Profile{Traits: []string{"JA0302"}},
			Ineligible, []reason{{RuleTraits, "JA0328||JA0329", "JA0302"}}},
		{"traits: one of S held passes", "개인", conds(nil, nil, "JA0328", "JA0329"), Profile{Traits: []string{"JA0302", "JA0329"}},
			Eligible, []reason{{RuleTraits, "JA0328||JA0329", "JA0302||JA0329"}}},
		{"traits unknown", "개인", conds(nil, nil, "JA0328"), Profile{},
			NeedsCheck, []reason{{RuleTraits, "JA0328", ""}}},
		{"traits: JA0322 in S is no condition", "개인", conds(nil, nil, "JA0328", "JA0322"), Profile{Traits: none},
			Eligible, nil},

		// Rule 5: household.
		{"household: none held fails", "개인", conds(nil, nil, "JA0404"), Profile{Household: noHouse},
			Ineligible, []reason{{RuleHousehold, "JA0404", "JA0410"}}},
		{"household: one of S held passes", "개인", conds(nil, nil, "JA0404", "JA0403"), Profile{Household: []string{"JA0404"}},
			Eligible, []reason{{RuleHousehold, "JA0403||JA0404", "JA0404"}}},
		{"household unknown", "개인", conds(nil, nil, "JA0412"), Profile{Traits: none},
			NeedsCheck, []reason{{RuleHousehold, "JA0412", ""}}},
		{"household: JA0410 in S is no condition", "개인", conds(nil, nil, "JA0410", "JA0412"), Profile{},
			Eligible, nil},

		// Rule 6: who it is for; before rule 7.
		{"사용자구분 법인/시설/단체 only", "법인/시설/단체", nil, Profile{},
			Ineligible, []reason{{RuleAudience, "법인/시설/단체", ""}}},
		{"사용자구분 소상공인 only", "소상공인", conds(nil, nil), Profile{},
			Ineligible, []reason{{RuleAudience, "소상공인", ""}}},
		{"사용자구분 법인/시설/단체 and 소상공인", "법인/시설/단체||소상공인", nil, Profile{},
			Ineligible, []reason{{RuleAudience, "법인/시설/단체||소상공인", ""}}},
		{"사용자구분 with 개인 is for persons", "개인||소상공인", conds(nil, nil), Profile{},
			Eligible, nil},
		{"사용자구분 with 가구 is for persons", "가구||법인/시설/단체", conds(nil, nil), Profile{},
			Eligible, nil},
		{"business codes only", "", conds(nil, nil, "JA1102", "JA1201"), Profile{},
			Ineligible, []reason{{RuleAudience, "JA1102||JA1201", ""}}},
		{"organisation code only", "개인", conds(nil, nil, "JA2102"), Profile{},
			Ineligible, []reason{{RuleAudience, "JA2102", ""}}},
		{"business code with a household code is for persons", "", conds(nil, nil, "JA1102", "JA0404"), Profile{Household: []string{"JA0404"}},
			Eligible, []reason{{RuleHousehold, "JA0404", "JA0404"}}},
		{"business code with an age bound is for persons", "", conds(intp(65), nil, "JA1101"), Profile{Age: intp(70)},
			Eligible, []reason{{RuleAge, "JA0110", "70"}}},
		{"business code with open age bounds is not for persons", "", conds(intp(0), intp(200), "JA1101"), Profile{},
			Ineligible, []reason{{RuleAudience, "JA1101", ""}}},
		{"audience fails together with age", "소상공인", conds(intp(65), nil), Profile{Age: intp(40)},
			Ineligible, []reason{{RuleAge, "JA0110", "40"}, {RuleAudience, "소상공인", ""}}},

		// Rule 7: no conditions row.
		{"no conditions row", "개인||가구", nil, Profile{Age: intp(70), Sex: "F"},
			NeedsCheck, []reason{{RuleCriteria, "", ""}}},
		{"empty conditions row", "개인", conds(nil, nil), Profile{},
			Eligible, nil},
		{"unknown codes are ignored", "개인", conds(nil, nil, "JA9999"), Profile{},
			Eligible, nil},

		// Rule 8: a failure wins over unknowns, every failure and every unknown listed.
		{"fail and unknown", "개인", conds(intp(65), nil, "JA0102"), Profile{Age: intp(50)},
			Ineligible, []reason{{RuleAge, "JA0110", "50"}}},
		{"every failure listed", "개인", conds(intp(65), nil, "JA0102", "JA0201", "JA0328", "JA0404"),
			Profile{Age: intp(50), Sex: "M", Income: "JA0205", Traits: none, Household: noHouse},
			Ineligible, []reason{{RuleAge, "JA0110", "50"}, {RuleSex, "JA0102", "M"}, {RuleIncome, "JA0201", "JA0205"}, {RuleTraits, "JA0328", "JA0322"}, {RuleHousehold, "JA0404", "JA0410"}}},
		{"every unknown listed", "개인", conds(intp(65), nil, "JA0102", "JA0201", "JA0328", "JA0404"), Profile{},
			NeedsCheck, []reason{{RuleAge, "JA0110", ""}, {RuleSex, "JA0102", ""}, {RuleIncome, "JA0201", ""}, {RuleTraits, "JA0328", ""}, {RuleHousehold, "JA0404", ""}}},
		{"every pass listed", "개인", conds(intp(65), nil, "JA0102", "JA0201"), Profile{Age: intp(80), Sex: "F", Income: "JA0201"},
			Eligible, []reason{{RuleAge, "JA0110", "80"}, {RuleSex, "JA0102", "F"}, {RuleIncome, "JA0201", "JA0201"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCatalog(About{Source: "test"}, []Service{{ID: "S1", Name: "서비스", UserType: tt.userType, Conditions: tt.cond}})
			res, ok := c.Check(person(t, tt.profile), "S1")
			require.True(t, ok)
			assert.Equal(t, tt.verdict, res.Verdict)
			var got []reason
			for _, r := range res.Reasons {
				got = append(got, reason{r.Rule, r.Code, r.Value})
				assert.NotEmpty(t, r.Text(), "every reason has a sentence")
				assert.NotContains(t, r.Text(), "{", "no variable left unfilled")
			}
			assert.Equal(t, tt.reasons, got)

			// Match agrees with Check, and leaves out the ineligible unless All.
			all := c.Match(person(t, tt.profile), Options{All: true})
			require.Len(t, all, 1)
			assert.Equal(t, res.Verdict, all[0].Verdict)
			assert.Equal(t, len(res.Reasons), len(all[0].Reasons))
			for i := range min(len(res.Reasons), len(all[0].Reasons)) {
				assert.Equal(t, res.Reasons[i], all[0].Reasons[i])
			}
			some := c.Match(person(t, tt.profile), Options{})
			assert.Equal(t, tt.verdict != Ineligible, len(some) == 1)
		})
	}
}

func TestReason_TextSaysTheSpecExample(t *testing.T) {
	c := NewCatalog(About{}, []Service{{ID: "S1", Conditions: conds(intp(65), nil)}})
	res, _ := c.Check(person(t, Profile{Age: intp(62)}), "S1")
	require.Len(t, res.Reasons, 1)
	assert.Equal(t, "만 65세 이상만 받을 수 있어요 (지금 만 62세)", res.Reasons[0].Text())
}

func TestReason_TextNamesCodesAndBands(t *testing.T) {
	tests := []struct {
		cond    *Conditions
		profile Profile
		want    string
	}{
		{conds(nil, nil, "JA0201", "JA0202", "JA0203"), Profile{Income: "JA0205"}, "중위소득 100% 이하인 가구만 받을 수 있어요 (지금 중위소득 200% 초과)"},
		{conds(nil, nil, "JA0202", "JA0203"), Profile{Income: "JA0201"}, "중위소득 51~100%인 가구만 받을 수 있어요 (지금 중위소득 50% 이하)"},
		{conds(nil, nil, "JA0201", "JA0204"), Profile{Income: "JA0203"}, "중위소득 50% 이하 또는 중위소득 101~200%인 가구만 받을 수 있어요 (지금 중위소득 76~100%)"},
		{conds(nil, nil, "JA0204", "JA0205"), Profile{Income: "JA0201"}, "중위소득 100% 초과인 가구만 받을 수 있어요 (지금 중위소득 50% 이하)"},
		{conds(nil, nil, "JA0328", "JA0329"), Profile{Traits: []string{}}, "장애인 또는 국가보훈대상자에 해당하는 분만 받을 수 있어요 (지금 해당 없음)"},
		{conds(nil, nil, "JA0102"), Profile{Sex: "M"}, "여성만 받을 수 있어요"},
		{conds(intp(19), intp(34)), Profile{}, "만 19세부터 34세까지만 받을 수 있어서 나이를 확인해야 해요"},
		{conds(nil, intp(17)), Profile{Age: intp(12)}, "만 17세 이하인 분이 받을 수 있는데, 지금 만 12세라 해당돼요"},
		{nil, Profile{}, "공개된 자격 조건이 없어서 담당 기관에 확인해야 해요"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			c := NewCatalog(About{}, []Service{{ID: "S1", Conditions: tt.cond}})
			res, _ := c.Check(person(t, tt.profile), "S1")
			require.Len(t, res.Reasons, 1)
			assert.Equal(t, tt.want, res.Reasons[0].Text())
		})
	}
}

func TestResult_JSONShape(t *testing.T) {
	c := NewCatalog(About{}, []Service{
		{ID: "S1", Name: "기초연금 & 돌봄", Conditions: conds(intp(65), nil)},
		{ID: "S2", Name: "아무나", Conditions: conds(nil, nil)},
	})
	res := c.Match(person(t, Profile{Age: intp(62)}), Options{All: true})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as the CLI writes
	require.NoError(t, enc.Encode(res))
	b := buf.Bytes()
	var got []map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, []map[string]any{
		{"serviceId": "S1", "name": "기초연금 & 돌봄", "verdict": "ineligible", "reasons": []any{
			map[string]any{"rule": "age", "code": "JA0110", "value": "62", "text": "만 65세 이상만 받을 수 있어요 (지금 만 62세)"},
		}},
		{"serviceId": "S2", "name": "아무나", "verdict": "eligible", "reasons": []any{}},
	}, got)
	assert.NotContains(t, string(b), `\u0026`, "names are written as they are")
}

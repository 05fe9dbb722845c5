package subsidy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSentences_EmbeddedFileLoads(t *testing.T) {
	s, err := loadSentences(reasonsKo)
	require.NoError(t, err)
	for k, rule := range ruleOrder {
		for _, o := range ruleVars[rule].outcomes {
			assert.NotEmpty(t, s.rules[k][o], "%s %s", rule, o)
		}
	}
	assert.Equal(t, "장애인", CodeName("JA0328"))
	assert.Equal(t, "JA9999", CodeName("JA9999"), "a code without a name shows as itself")
}

func TestSentences_RefusesBrokenFiles(t *testing.T) {
	good := string(reasonsKo)
	tests := []struct{ name, old, new, says string }{
		{"unknown variable", `fail = "{range}만 받을 수 있어요 (지금 만 {age}세)"`, `fail = "{range}만 받을 수 있어요 (지금 만 {나이}세)"`, "age.fail: variable {나이}"},
		{"variable of another rule", `fail = "{codes}만 받을 수 있어요"`, `fail = "{codes}만 받을 수 있어요 ({age})"`, "sex.fail: variable {age}"},
		{"unclosed brace", `fail = "{codes}만 받을 수 있어요"`, `fail = "{codes만 받을 수 있어요"`, "sex.fail: a { without its }"},
		{"missing sentence", `unknown = "공개된 자격 조건이 없어서 담당 기관에 확인해야 해요"`, ``, "criteria.unknown: missing"},
		{"outcome a rule does not have", `[audience]`, "[audience]\npass = \"x\"", `[audience]: "pass"`},
		{"missing code name", `JA0328 = "장애인"`, ``, "JA0328 has no name"},
		{"unknown table", `[join]`, "[joins]\nor = \"x\"\n[join]", "unknown key joins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, good, tt.old)
			_, err := loadSentences([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			assert.ErrorContains(t, err, tt.says)
		})
	}
}

func TestReason_TextOfAReasonMatchNeverMakes(t *testing.T) {
	assert.Empty(t, Reason{Rule: RuleAudience, Outcome: Pass}.Text())
	assert.Empty(t, Reason{Rule: "colour", Outcome: Fail}.Text())
}

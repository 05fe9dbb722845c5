package allimi_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"allimi"
)

func TestEnrolCode_TypedAnyWayIsTheSameCode(t *testing.T) {
	code := allimi.NewEnrolCode()
	assert.Regexp(t, regexp.MustCompile(`^[`+allimi.CodeAlphabet+`]{4}-[`+allimi.CodeAlphabet+`]{4}-[`+allimi.CodeAlphabet+`]{4}$`), code)
	assert.NotEqual(t, code, allimi.NewEnrolCode(), "drawn at random")
	plain := code[:4] + code[5:9] + code[10:]
	for _, typed := range []string{code, plain, " " + code[:4] + " " + code[5:9] + " " + code[10:] + " "} {
		assert.Equal(t, code, allimi.NormalizeEnrolCode(typed), typed)
		assert.Equal(t, allimi.EnrolCodeKey(code), allimi.EnrolCodeKey(typed), typed)
	}
	assert.NotEqual(t, allimi.EnrolCodeKey(code), allimi.EnrolCodeKey(allimi.NewEnrolCode()))
}

func TestCheckEnrolment(t *testing.T) {
	assert.NoError(t, allimi.CheckEnrolment("sejong-01", time.Hour))
	assert.ErrorIs(t, allimi.CheckEnrolment("Sejong 01", time.Hour), allimi.ErrInvalid)
	assert.ErrorIs(t, allimi.CheckEnrolment("sejong-01", 0), allimi.ErrInvalid)
	assert.ErrorIs(t, allimi.CheckEnrolment("sejong-01", allimi.MaxEnrolTTL+time.Second), allimi.ErrInvalid)
}

package template

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func TestSystem_DefaultMessagesRender(t *testing.T) {
	s, err := DefaultSystem()
	require.NoError(t, err)
	text, lms, err := s.Render(VerificationCode, map[string]string{"code": "482913", "minutes": "5"})
	require.NoError(t, err)
	assert.Contains(t, text, "482913")
	assert.False(t, lms, "a code fits one SMS: %d bytes", EUCKRLen(text))

	text, lms, err = s.Render(SignupConfirmation, map[string]string{"name": "김순자", "date": "11월 23일"})
	require.NoError(t, err)
	assert.Contains(t, text, "김순자님")
	assert.True(t, lms, "the confirmation is long: LMS")

	_, _, err = s.Render(VerificationCode, map[string]string{"code": "1"})
	assert.ErrorIs(t, err, ErrMissingValue)
	_, _, err = s.Render("birthday-greeting", nil)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
}

func TestSystem_LoadRefusesBadFiles(t *testing.T) {
	good := "[signup-confirmation]\nbody = \"{{name}} {{date}}\"\n[verification-code]\nbody = \"{{code}} {{minutes}}\"\n" +
		"[question-answer]\nbody = \"{{name}} {{code}} {{answer}}\"\n"
	for name, tc := range map[string]struct{ file, want string }{
		"unknown variable": {"[signup-confirmation]\nbody = \"{{name}} {{amount}}\"\n[verification-code]\nbody = \"{{code}}\"\n", "unknown variable {{amount}}"},
		"missing message":  {"[verification-code]\nbody = \"{{code}}\"\n", "missing message [signup-confirmation]"},
		"unknown message":  {good + "[hello]\nbody = \"hi\"\n", "unknown message [hello]"},
		"unknown key":      {good + "[verification-code.x]\n", "verification-code"},
		"not TOML":         {"[verification-code\n", SystemFile},
	} {
		_, err := LoadSystem(fstest.MapFS{SystemFile: {Data: []byte(tc.file)}})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
		assert.ErrorIs(t, err, allimi.ErrInvalid, name)
	}
	_, err := LoadSystem(fstest.MapFS{SystemFile: {Data: []byte(good)}})
	assert.NoError(t, err)
}

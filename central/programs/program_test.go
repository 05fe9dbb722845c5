package programs

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func TestDefault_LoadsTheShippedPrograms(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	var ids []string
	for _, p := range s.All() {
		ids = append(ids, p.ID)
	}
	assert.Equal(t, []string{"health-checkup", "licence-renewal", "traffic-penalty", "vaccination"}, ids)
	v, ok := s.Get("vaccination")
	require.True(t, ok)
	assert.Len(t, v.Steps, 7)
	assert.Equal(t, []string{"dose1.administered", "dose2.administered"}, v.Events())
	p, ok := s.Get("penalty")
	require.True(t, ok)
	assert.Equal(t, []string{"paid"}, p.Events())
}

const goodStep = `
[[step]]
id = "remind"
anchor = "due"
days = -1
at = "10:00"
title = "하루 전"
set = { dueDate = "{{due}}" }
body = "{{name}}님 {{due}} {{link}}"
`

func load(t *testing.T, files map[string]string) error {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	_, err := Load(fsys)
	return err
}

// A mistake in a program file stops the load with a message naming the
// file, the step and what is wrong.
func TestLoad_RefusesMistakesNamingFileAndStep(t *testing.T) {
	head := "name = \"x\"\ntype = \"licence-renewal\"\n[[anchor]]\nid = \"due\"\nlabel = \"기한\"\n"
	require.NoError(t, load(t, map[string]string{"renewal.toml": head + goodStep}))
	for _, c := range []struct{ name, file, want string }{
		{"unknown variable", head + `
[[step]]
id = "remind"
anchor = "due"
days = -1
at = "10:00"
title = "t"
set = { dueDate = "{{due}}" }
body = "{{name}}님 {{amount}} {{link}}"
`, `renewal.toml: step 1 (remind): kakao: body line 1: unknown variable "amount"`},
		{"no link", head + `
[[step]]
id = "remind"
on = "enrolled"
title = "t"
set = { dueDate = "{{due}}" }
body = "{{name}}님"
`, "step 1 (remind): kakao: body has no {{link}}"},
		{"bad time", head + `
[[step]]
id = "remind"
anchor = "due"
at = "25:00"
title = "t"
set = { dueDate = "{{due}}" }
body = "{{link}}"
`, `step 1 (remind): at "25:00"`},
		{"unknown anchor", head + `
[[step]]
id = "remind"
anchor = "dose1"
at = "10:00"
title = "t"
set = { dueDate = "{{due}}" }
body = "{{link}}"
`, `step 1 (remind): anchor "dose1": not one of the program's`},
		{"type param unset", head + `
[[step]]
id = "remind"
on = "enrolled"
title = "t"
body = "{{link}}"
`, "the type's parameter dueDate is neither set nor a param"},
		{"event and time", head + `
[[step]]
id = "remind"
on = "renewed"
anchor = "due"
title = "t"
set = { dueDate = "{{due}}" }
body = "{{link}}"
`, "either on an event (sent at once) or at a time"},
		{"too long for AlimTalk", head + `
[[step]]
id = "remind"
on = "enrolled"
title = "t"
set = { dueDate = "{{due}}" }
body = "` + strings.Repeat("가", 1001) + `{{link}}"
`, "renewal.toml: step 1 (remind)"},
		{"unknown key", head + goodStep + "\ncolour = \"red\"\n", `unknown key`},
		{"unknown type", "name = \"x\"\ntype = \"hair-cut\"\n", `type "hair-cut": unknown`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := load(t, map[string]string{"renewal.toml": c.file})
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	err := load(t, map[string]string{"a.toml": "aliases = [\"b\"]\n" + head + goodStep, "b.toml": head + goodStep})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"b" is also a's`)
}

// A step's time of day in quiet hours (21:00-08:00 KST) is moved to 08:00.
func TestSchedule_MovesTimedStepsOutOfQuietHours(t *testing.T) {
	night := "name = \"x\"\ntype = \"licence-renewal\"\n[[anchor]]\nid = \"due\"\nlabel = \"기한\"\n" + `
[[step]]
id = "late"
anchor = "due"
days = -1
at = "22:30"
stale = "anchor-day"
title = "t"
set = { dueDate = "{{due}}" }
body = "{{link}}"
`
	fsys := fstest.MapFS{"night.toml": &fstest.MapFile{Data: []byte(night)}}
	s, err := Load(fsys)
	require.NoError(t, err)
	p, _ := s.Get("night")
	due := time.Date(2027, 3, 10, 14, 0, 0, 0, allimi.KST)
	steps := p.Schedule(map[string]time.Time{"due": due}, due.AddDate(0, 0, -5))
	require.Len(t, steps, 1)
	assert.True(t, time.Date(2027, 3, 10, 8, 0, 0, 0, allimi.KST).Equal(*steps[0].Due), "%v", steps[0].Due)
	assert.True(t, time.Date(2027, 3, 10, 0, 0, 0, 0, allimi.KST).Equal(*steps[0].Stale))
	assert.Equal(t, allimi.StepStale, p.Schedule(map[string]time.Time{"due": due}, due)[0].State, "past its day at enrolment")
}

// A step may be placed at an offset from its anchor (an hour before an
// appointment) and, when urgent, stays in quiet hours and goes at once.
func TestSchedule_OffsetSteps(t *testing.T) {
	file := "name = \"x\"\ntype = \"licence-renewal\"\n[[anchor]]\nid = \"due\"\nlabel = \"기한\"\n" + `
[[step]]
id = "hour-before"
anchor = "due"
offset = "-1h"
urgent = true
stale = "anchor"
title = "t"
set = { dueDate = "{{due}}" }
body = "{{link}}"

[[step]]
id = "quiet"
anchor = "due"
offset = "-1h"
title = "t"
set = { dueDate = "{{due}}" }
body = "{{link}}"
`
	s, err := Load(fstest.MapFS{"soon.toml": &fstest.MapFile{Data: []byte(file)}})
	require.NoError(t, err)
	p, _ := s.Get("soon")
	due := time.Date(2027, 3, 10, 6, 30, 0, 0, allimi.KST)
	steps := p.Schedule(map[string]time.Time{"due": due}, due.AddDate(0, 0, -1))
	assert.True(t, due.Add(-time.Hour).Equal(*steps[0].Due), "05:30, quiet hours or not: %v", steps[0].Due)
	assert.True(t, steps[0].Urgent)
	assert.True(t, time.Date(2027, 3, 10, 8, 0, 0, 0, allimi.KST).Equal(*steps[1].Due), "moved to 08:00: %v", steps[1].Due)
	assert.False(t, steps[1].Urgent)

	bad := strings.Replace(file, `offset = "-1h"`, `offset = "-1h"`+"\nat = \"10:00\"", 1)
	_, err = Load(fstest.MapFS{"soon.toml": &fstest.MapFile{Data: []byte(bad)}})
	assert.ErrorContains(t, err, "offset, or days and at: not both")
}

// The demo's programs (make demo: central serve --programs
// scripts/demo-programs) load beside those shipped.
func TestWithDir_LoadsTheDemosPrograms(t *testing.T) {
	s, err := WithDir("../../scripts/demo-programs")
	require.NoError(t, err)
	p, ok := s.Get("vaccination-demo")
	require.True(t, ok)
	assert.Len(t, p.Steps, 7)
	_, ok = s.Get("vaccination")
	assert.True(t, ok, "the shipped ones too")
	_, err = WithDir("no-such-dir")
	assert.ErrorContains(t, err, "programs directory")
}

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
)

// people is a people file of kiosk-sim --people: Lan in Vietnamese,
// Somchai in Thai, Kim with no language (Korean).
var people = []struct {
	line string
	who  allimi.Citizen
	lang string
}{
	{`{"name":"Nguyễn Thị Lan","mobile":"010-3100-0001","birthDate":"1988-03-01","types":["vaccination","health-checkup"],"channels":["kakao","sms"],"lang":"vi"}`,
		allimi.Citizen{Name: "Nguyễn Thị Lan", Mobile: "010-3100-0001", BirthDate: "1988-03-01"}, "vi"},
	{`{"name":"Somchai Jaidee","mobile":"01031000002","birthDate":"1979-11-30","types":["relief"],"channels":["sms"],"lang":"th"}`,
		allimi.Citizen{Name: "Somchai Jaidee", Mobile: "010-3100-0002", BirthDate: "1979-11-30"}, "th"},
	{`{"name":"김순자","mobile":"010-3100-0003","birthDate":"1948-05-17","types":["welfare-card"],"channels":["kakao"]}`,
		allimi.Citizen{Name: "김순자", Mobile: "010-3100-0003", BirthDate: "1948-05-17"}, ""},
}

func writePeople(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "people.ndjson")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return path
}

// TestKioskSim_PeopleFileSignsThemUpInTheirLanguage: kiosk-sim --people
// appends a sign-up for each person of the file, with --signups' synthetic
// ones, and central keeps each person with the language of their line.
func TestKioskSim_PeopleFileSignsThemUpInTheirLanguage(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	cred := addKiosk(t, data, "people")
	c := startCentral(t, data)
	broker := "tcp://" + c.mqtt
	var lines []string
	for _, p := range people {
		lines = append(lines, p.line)
	}
	file := writePeople(t, lines...)

	r := parseSim(t, string(runAllimi(t, simArgs(broker, cred, kdata, "--people", file, "--signups", "2", "--wait", "--timeout", "2m")...)))
	assert.Equal(t, len(people)+2, r.Enqueued)
	assert.Equal(t, len(people)+2, r.Acked)
	assert.Zero(t, r.Pending)
	s := c.stats(t)
	assert.EqualValues(t, len(people)+2, s.Records.Stored)
	assert.Zero(t, s.Records.Rejected)

	c.kill()
	// What central holds is read from its file while it is down.
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	for _, p := range people {
		lang, found, err := st.LanguageOf(p.who.Mobile, p.who.BirthDate)
		require.NoError(t, err)
		assert.True(t, found, p.who.Name)
		assert.Equal(t, p.lang, lang, p.who.Name)
	}
	a, found, err := st.ConsentOf(people[0].who.Mobile, people[0].who.BirthDate, allimi.TypeHealthCheckup, allimi.ChannelSMS)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, allimi.ActionGrant, a, "Lan's line granted health checkups by SMS")
}

// TestKioskSim_BadPeopleFileAppendsNothing: a people file with a bad line
// is refused (exit code 2) with the line and the field named, before
// anything is appended: the good lines before it are not queued either.
func TestKioskSim_BadPeopleFileAppendsNothing(t *testing.T) {
	good := people[0].line
	for _, tc := range []struct {
		name, line, want string
	}{
		{"unknown type", strings.Replace(good, `"vaccination"`, `"parking"`, 1), `line 2: types[0]: notification type "parking": unknown`},
		{"unknown channel", strings.Replace(good, `"kakao"`, `"pigeon"`, 1), `line 2: channels[0]: channel "pigeon": unknown`},
		{"bad mobile", strings.Replace(good, `010-3100-0001`, `011-3100-0001`, 1), `line 2: mobile: mobile number "011-3100-0001"`},
		{"bad birth date", strings.Replace(good, `1988-03-01`, `1988-13-01`, 1), `line 2: birthDate: date of birth "1988-13-01"`},
		{"unknown lang", strings.Replace(good, `"vi"`, `"fr"`, 1), `line 2: lang "fr": must be one of ko, en, ja, zh, th, vi`},
		{"unknown field", strings.Replace(good, `"lang"`, `"locale"`, 1), `line 2: json: unknown field "locale"`},
		{"truncated line", good[:50], `line 2: truncated`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kdata := t.TempDir()
			file := writePeople(t, people[1].line, tc.line, people[2].line)
			cmd := exec.Command(allimiBin, "kiosk-sim", "--id", "k", "--data", kdata, "--people", file, "--signups", "3", "--json")
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "%s", out)
			assert.Equal(t, 2, ee.ExitCode(), "%s", out)
			assert.Contains(t, string(out), "--people "+file+": "+tc.want)
			assert.Zero(t, pendingOnDisk(t, "tcp://127.0.0.1:1", kioskCred{ID: "k"}, kdata), "nothing appended, not even --signups'")
		})
	}
}

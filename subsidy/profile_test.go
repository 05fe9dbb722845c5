package subsidy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func date(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := ParseDate(s)
	require.NoError(t, err)
	return d
}

func TestFullAge(t *testing.T) {
	tests := []struct {
		birth, asOf string
		want        int
	}{
		{"1951-04-02", "2026-04-01", 74},
		{"1951-04-02", "2026-04-02", 75},
		{"1951-04-02", "2026-12-31", 75},
		{"2026-04-02", "2026-04-02", 0},
		// Born on 29 February: a year completes on 1 March in common years.
		{"1960-02-29", "2025-02-28", 64},
		{"1960-02-29", "2025-03-01", 65},
		{"1960-02-29", "2024-02-28", 63},
		{"1960-02-29", "2024-02-29", 64},
		{"1960-12-31", "2025-01-01", 64},
	}
	for _, tt := range tests {
		t.Run(tt.birth+"→"+tt.asOf, func(t *testing.T) {
			assert.Equal(t, tt.want, FullAge(date(t, tt.birth), date(t, tt.asOf)))
		})
	}
}

func TestParseDate_RefusesImpossibleAndMalformedDates(t *testing.T) {
	for _, s := range []string{"2025-02-29", "2026-13-01", "2026-04-31", "2026-4-1", "26-04-01", "2026/04/01", "", "yesterday", "2026-04-01T00:00:00Z"} {
		t.Run(s, func(t *testing.T) {
			_, err := ParseDate(s)
			assert.ErrorIs(t, err, ErrBadDate)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), s)
		})
	}
	d, err := ParseDate("2024-02-29")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), d)
}

func TestParseProfile_ReadsTheSpecExample(t *testing.T) {
	p, err := ParseProfile([]byte(`{"birthDate": "1951-04-02", "sex": "F", "income": "JA0202",
		"traits": ["JA0328"], "household": ["JA0404"]}`))
	require.NoError(t, err)
	assert.Equal(t, Profile{BirthDate: "1951-04-02", Sex: "F", Income: "JA0202", Traits: []string{"JA0328"}, Household: []string{"JA0404"}}, p)

	// [] is "none of them", absent is unknown.
	p, err = ParseProfile([]byte(`{"age": 75, "traits": []}`))
	require.NoError(t, err)
	assert.NotNil(t, p.Traits)
	assert.Empty(t, p.Traits)
	assert.Nil(t, p.Household)
	require.NotNil(t, p.Age)
	assert.Equal(t, 75, *p.Age)
}

func TestParseProfile_RefusesMalformedJSON(t *testing.T) {
	tests := []struct{ name, in, says string }{
		{"not JSON", `age: 75`, "not a JSON object"},
		{"a list", `[{"age": 75}]`, "not a JSON object"},
		{"empty", ``, "not a JSON object"},
		{"cut short", `{"age": 75`, "malformed JSON"},
		{"trailing comma", `{"age": 75,}`, "line 1 column"},
		{"age as text", `{"age": "75"}`, "age is string"},
		{"age not whole", `{"age": 75.5}`, "age is number"},
		{"traits not a list", `{"traits": "JA0328"}`, "traits is string"},
		{"sex as a number", `{"sex": 1}`, "sex is number"},
		{"unknown key", `{"age": 75, "birthdate": "1951-04-02"}`, `unknown key "birthdate"`},
		{"two objects", `{"age": 75} {"age": 76}`, "data after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProfile([]byte(tt.in))
			assert.ErrorIs(t, err, ErrBadProfile)
			assert.ErrorContains(t, err, tt.says)
		})
	}
}

func TestNewPerson_RefusesBadValues(t *testing.T) {
	asOf := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    Profile
		is   error
		says string
	}{
		{"birth date after the as-of date", Profile{BirthDate: "2026-05-02"}, ErrBadDate, "after the as-of date"},
		{"impossible birth date", Profile{BirthDate: "1951-02-29"}, ErrBadDate, "does not exist"},
		{"malformed birth date", Profile{BirthDate: "02.04.1951"}, ErrBadDate, "YYYY-MM-DD"},
		{"birth date too long ago", Profile{BirthDate: "1800-01-01"}, ErrBadDate, "more than 150 years"},
		{"negative age", Profile{Age: intp(-1)}, ErrBadProfile, "age -1"},
		{"age beyond any", Profile{Age: intp(151)}, ErrBadProfile, "age 151"},
		{"sex in lower case", Profile{Sex: "f"}, ErrBadProfile, `sex "f"`},
		{"sex in words", Profile{Sex: "female"}, ErrBadProfile, `sex "female"`},
		{"unknown income code", Profile{Income: "JA0299"}, ErrUnknownCode, "JA0299"},
		{"income code of another group", Profile{Income: "JA0404"}, ErrUnknownCode, "household code, not a income code"},
		{"unknown trait code", Profile{Traits: []string{"JA0399"}}, ErrUnknownCode, "JA0399"},
		{"household code among traits", Profile{Traits: []string{"JA0404"}}, ErrUnknownCode, "JA0404 is a household code"},
		{"trait code in household", Profile{Household: []string{"JA0328"}}, ErrUnknownCode, "JA0328 is a personal-trait code"},
		{"none of these with a trait", Profile{Traits: []string{"JA0322", "JA0328"}}, ErrBadProfile, "goes alone"},
		{"none of these with a household code", Profile{Household: []string{"JA0404", "JA0410"}}, ErrBadProfile, "goes alone"},
		{"age-bound code as a trait", Profile{Traits: []string{"JA0110"}}, ErrUnknownCode, "JA0110"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPerson(tt.p, asOf)
			assert.ErrorIs(t, err, tt.is)
			assert.ErrorIs(t, err, allimi.ErrInvalid, "exit code 2 material")
			assert.ErrorContains(t, err, tt.says)
		})
	}
}

func TestNewPerson_BirthDateWinsOverAge(t *testing.T) {
	who, err := NewPerson(Profile{BirthDate: "1951-04-02", Age: intp(30)}, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	age, ok := who.Age()
	assert.True(t, ok)
	assert.Equal(t, 74, age)

	who, err = NewPerson(Profile{}, time.Now())
	require.NoError(t, err)
	_, ok = who.Age()
	assert.False(t, ok)
}

// TestProfile_JSONRoundTrip: central stores profiles as the spec's JSON;
// [] (none) and absent (unknown) survive the trip.
func TestProfile_JSONRoundTrip(t *testing.T) {
	for _, p := range []Profile{
		{},
		{Age: intp(75), Traits: []string{}},
		{BirthDate: "1951-04-02", Sex: "F", Income: "JA0202", Traits: []string{"JA0328"}, Household: []string{}},
	} {
		b, err := json.Marshal(p)
		require.NoError(t, err)
		back, err := ParseProfile(b)
		require.NoError(t, err, string(b))
		assert.Equal(t, p, back, string(b))
	}
	b, err := json.Marshal(Profile{Household: []string{}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"household": []}`, string(b))
}

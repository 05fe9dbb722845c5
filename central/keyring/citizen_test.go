package keyring

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func TestCitizen_RoundTripsAndReadsOldJSON(t *testing.T) {
	c := allimi.Citizen{Name: "김순자", Mobile: "010-1234-5678", BirthDate: "1948-03-01"}
	got, err := DecodeCitizen(EncodeCitizen(c))
	require.NoError(t, err)
	assert.Equal(t, c, got)
	assert.Less(t, len(EncodeCitizen(c)), 40, "the compact form is what a campaign reads a million times")

	old, _ := json.Marshal(c)
	got, err = DecodeCitizen(old)
	require.NoError(t, err)
	assert.Equal(t, c, got)
}

func TestCitizen_DamagedIsAnError(t *testing.T) {
	full := EncodeCitizen(allimi.Citizen{Name: "이", Mobile: "010-0000-0000", BirthDate: "1950-01-01"})
	for name, b := range map[string][]byte{
		"empty":       nil,
		"unknown":     {0x7f, 1, 'a'},
		"truncated":   full[:len(full)-3],
		"trailing":    append(append([]byte{}, full...), 0),
		"huge length": {citizenBinary, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		_, err := DecodeCitizen(b)
		assert.ErrorIs(t, err, ErrDamagedCitizen, name)
	}
}

// TestPerson_KeepsTheLanguageAndReadsOldEncodings: the language a person
// signed up in is kept with their personal data; what earlier builds
// sealed (version 1, JSON) reads with no language, which means Korean.
func TestPerson_KeepsTheLanguageAndReadsOldEncodings(t *testing.T) {
	c := allimi.Citizen{Name: "Nguyễn Thị Lan", Mobile: "010-1234-5678", BirthDate: "1988-03-01"}
	got, lang, err := DecodePerson(EncodePerson(c, "vi"))
	require.NoError(t, err)
	assert.Equal(t, c, got)
	assert.Equal(t, "vi", lang)
	got, err = DecodeCitizen(EncodePerson(c, "vi"))
	require.NoError(t, err)
	assert.Equal(t, c, got, "a reader of the citizen alone skips the language")

	// An empty language is written exactly as earlier builds wrote a citizen.
	v1 := []byte{citizenBinary}
	for _, s := range []string{c.Name, c.Mobile, c.BirthDate} {
		v1 = append(append(v1, byte(len(s))), s...)
	}
	assert.Equal(t, v1, EncodePerson(c, ""))
	assert.Equal(t, v1, EncodeCitizen(c))
	old, _ := json.Marshal(c)
	for name, b := range map[string][]byte{"version 1": v1, "JSON": old} {
		got, lang, err := DecodePerson(b)
		require.NoError(t, err, name)
		assert.Equal(t, c, got, name)
		assert.Empty(t, lang, name)
	}

	full := EncodePerson(c, "th")
	for name, b := range map[string][]byte{
		"truncated": full[:len(full)-1],
		"trailing":  append(append([]byte{}, full...), 0),
		"no lang":   append([]byte{personBinary}, v1[1:]...),
	} {
		_, _, err := DecodePerson(b)
		assert.ErrorIs(t, err, ErrDamagedCitizen, name)
	}

	keys, err := Load(t.TempDir())
	require.NoError(t, err)
	ck := keys.CitizenKey(c.Mobile, c.BirthDate)
	got, lang, err = keys.OpenPerson(keys.SealPerson(c, "th", ck), ck)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	assert.Equal(t, "th", lang)
}

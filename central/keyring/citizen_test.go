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

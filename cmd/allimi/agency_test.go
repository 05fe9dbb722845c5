package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
)

func runAgency(t *testing.T, args ...string) error {
	t.Helper()
	c := centralAgencyCmd()
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	return c.Execute()
}

func TestAgencyCommands_AddAndAllowSetWhatAnAgencyMaySend(t *testing.T) {
	data := t.TempDir()
	policy := func() allimi.AgencyPolicy {
		st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
		require.NoError(t, err)
		defer st.Close()
		p, err := st.AgencyPolicyOf("police")
		require.NoError(t, err)
		return p
	}
	// The contract since agencies existed: `agency add --id ID --json`
	// registers an agency, unrestricted.
	require.NoError(t, runAgency(t, "add", "--data", data, "--id", "police", "--json"))
	assert.False(t, policy().Restricted())
	err := runAgency(t, "add", "--data", data, "--id", "police", "--payment-hosts", "pay.police.go.kr")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--payment-hosts restricts an agency's links, and needs --types")
	require.Error(t, runAgency(t, "allow", "--data", data, "--id", "police"), "allow without --types would lift every restriction")

	require.NoError(t, runAgency(t, "add", "--data", data, "--id", "police", "--types", "traffic-penalty,traffic-fine",
		"--payment-hosts", "pay.police.go.kr", "--json"))
	assert.Equal(t, allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeTrafficPenalty, allimi.TypeTrafficFine},
		PaymentHosts: []string{"pay.police.go.kr"}}, policy())
	// A new token without --types keeps the lists: renewing a token must
	// not lift an agency's restrictions.
	require.NoError(t, runAgency(t, "add", "--data", data, "--id", "police", "--json"))
	assert.Equal(t, allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeTrafficPenalty, allimi.TypeTrafficFine},
		PaymentHosts: []string{"pay.police.go.kr"}}, policy())

	err = runAgency(t, "allow", "--data", data, "--id", "police", "--types", "parking")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"parking": not a notification type`)
	require.NoError(t, runAgency(t, "allow", "--data", data, "--id", "police", "--types", "traffic-fine"))
	assert.Equal(t, allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeTrafficFine}}, policy(),
		"allow replaces both lists: no --payment-hosts, no payment links")
}

// --name gives the agency the name its notices' pages show; a new token
// without it keeps it; a bad one is refused before anything changes.
func TestAgencyCommands_NameShownOnItsPages(t *testing.T) {
	data := t.TempDir()
	name := func() string {
		st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
		require.NoError(t, err)
		defer st.Close()
		n, err := st.AgencyName("police")
		require.NoError(t, err)
		return n
	}
	require.NoError(t, runAgency(t, "add", "--data", data, "--id", "police", "--name", "경찰청", "--json"))
	assert.Equal(t, "경찰청", name())
	require.NoError(t, runAgency(t, "add", "--data", data, "--id", "police", "--json"))
	assert.Equal(t, "경찰청", name(), "a new token keeps it")
	err := runAgency(t, "add", "--data", data, "--id", "police", "--name", " ")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1-50 characters")
	assert.Equal(t, "경찰청", name())
}

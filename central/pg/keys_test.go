package pg

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/keyring"
)

func TestOpen_RefusesOtherKeysAndKeepsTheData(t *testing.T) {
	c := openStore(t) // records c.keys' check value
	_, err := c.AddKiosk("kiosk-1")
	require.NoError(t, err)

	other, err := keyring.Load(t.TempDir())
	require.NoError(t, err)
	_, err = Open(context.Background(), c.url, WithKeys(other))
	require.ErrorIs(t, err, ErrOtherKeys)
	assert.Contains(t, err.Error(), "same keys.json")

	// The same keys again, and a tool without keys, still open it.
	c.Reopen(t)
	users, err := c.KioskUsers()
	require.NoError(t, err)
	require.Len(t, users, 1)
	noKeys, err := Open(context.Background(), c.url)
	require.NoError(t, err)
	noKeys.Close()
}

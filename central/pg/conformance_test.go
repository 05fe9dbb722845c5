package pg

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"allimi/central/keyring"
	"allimi/central/storetest"
	"allimi/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The conformance suites of the interfaces Store implements so far, run
// against a real PostgreSQL, a fresh database each.
func TestConformance_Kiosks(t *testing.T)    { storetest.Kiosks(t, openConformance) }
func TestConformance_Agencies(t *testing.T)  { storetest.Agencies(t, openConformance) }
func TestConformance_Officials(t *testing.T) { storetest.Officials(t, openConformance) }

// conformanceStore is a Store on a migrated database of its own, with
// keys as central's data directory has them.
type conformanceStore struct {
	*Store
	url  string
	keys *keyring.Keys
}

func openConformance(t *testing.T) *conformanceStore {
	t.Helper()
	keys, err := keyring.Load(t.TempDir())
	require.NoError(t, err)
	c := &conformanceStore{url: pgtest.URL(t), keys: keys}
	_, err = Migrate(context.Background(), c.url)
	require.NoError(t, err)
	c.open(t)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (c *conformanceStore) open(t *testing.T) {
	t.Helper()
	st, err := Open(context.Background(), c.url, WithKeys(c.keys))
	require.NoError(t, err)
	c.Store = st
}

// Reopen closes the pool and opens the same database again, as a restart
// of central would.
func (c *conformanceStore) Reopen(t *testing.T) *conformanceStore {
	t.Helper()
	require.NoError(t, c.Close())
	c.open(t)
	return c
}

package storetest

import (
	"crypto/ed25519"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/catalog"
)

// CatalogsBackend is what the Catalogs suite needs of a store: its
// catalogs, the public key their signatures verify with (central's
// catalog key), and a restart.
type CatalogsBackend[B any] interface {
	catalog.Keeper
	CatalogPublicKey() ed25519.PublicKey
	Reopen(t *testing.T) B
}

// Catalogs checks catalog.Keeper: catalogs kept signed with central's key,
// each version above the one before, all durable.
func Catalogs[B CatalogsBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"KeptSigned", catalogsKeptSigned[B]},
		{"VersionsOnlyGoUp", catalogsVersions[B]},
		{"BadNameRefused", catalogsBadName[B]},
		{"Durable", catalogsDurable[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func catalogsKeptSigned[B CatalogsBackend[B]](t *testing.T, b B) {
	_, ok, err := b.Catalog("subsidy24")
	require.NoError(t, err)
	assert.False(t, ok, "nothing kept yet")
	body := []byte(`{"services":[]}`)
	m, err := b.PutCatalog("subsidy24", 0, body)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), m.Version, "the first version is 1")
	require.NoError(t, m.Verify(b.CatalogPublicKey(), body), "signed with central's catalog key")
	c, ok, err := b.Catalog("subsidy24")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, m, c.Manifest)
	assert.Equal(t, body, c.Body)
}

func catalogsVersions[B CatalogsBackend[B]](t *testing.T, b B) {
	_, err := b.PutCatalog("consult-kb", 5, []byte("a"))
	require.NoError(t, err)
	m, err := b.PutCatalog("consult-kb", 0, []byte("b"))
	require.NoError(t, err)
	assert.Equal(t, uint64(6), m.Version, "0 is the next version")
	for _, v := range []uint64{6, 3} {
		_, err = b.PutCatalog("consult-kb", v, []byte("c"))
		assert.ErrorIs(t, err, allimi.ErrInvalid, "version %d is not above 6", v)
	}
	c, _, err := b.Catalog("consult-kb")
	require.NoError(t, err)
	assert.Equal(t, []byte("b"), c.Body, "a refused version changes nothing")
	_, err = b.PutCatalog("other", 0, []byte("x"))
	require.NoError(t, err)
	all, err := b.Catalogs()
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, "consult-kb", all[0].Manifest.Name, "by name")
	assert.Equal(t, "other", all[1].Manifest.Name)
}

func catalogsBadName[B CatalogsBackend[B]](t *testing.T, b B) {
	for _, name := range []string{"", "Subsidy", "-x", "a/b"} {
		_, err := b.PutCatalog(name, 0, []byte("x"))
		assert.ErrorIs(t, err, allimi.ErrInvalid, "name %q", name)
	}
	all, err := b.Catalogs()
	require.NoError(t, err)
	assert.Empty(t, all)
}

func catalogsDurable[B CatalogsBackend[B]](t *testing.T, b B) {
	m, err := b.PutCatalog("subsidy24", 0, []byte("body"))
	require.NoError(t, err)
	b = b.Reopen(t)
	c, ok, err := b.Catalog("subsidy24")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, m, c.Manifest)
	assert.Equal(t, []byte("body"), c.Body)
}

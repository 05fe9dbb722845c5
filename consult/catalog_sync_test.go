package consult_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi/assets"
	"allimi/consult"
	"allimi/sync/catalog"
)

// The knowledge base travels to kiosks as a signed catalog: central signs
// the body, a kiosk's catalog.Store verifies and installs it, and the kiosk
// decodes what it installed into the same knowledge base.
func TestKB_RoundTripsThroughSignedCatalog(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	kb, err := consult.DecodeCatalog(assets.ConsultKB())
	require.NoError(t, err)
	// An official retires one entry and adds one at central.
	kb, err = kb.Apply(consult.Update{
		Add:    []consult.Entry{{ID: "central-1", Question: "경로당 냉방비 지원", Answer: "■ 지원\n- 여름철"}},
		Retire: []string{kb.Entries[0].ID},
	})
	require.NoError(t, err)
	body, err := consult.EncodeCatalog(kb)
	require.NoError(t, err)
	m := catalog.Sign(priv, consult.CatalogName, 2, body)

	db, err := bbolt.Open(filepath.Join(t.TempDir(), "kiosk.db"), 0o600, nil)
	require.NoError(t, err)
	defer db.Close()
	store, err := catalog.NewStore(db, pub)
	require.NoError(t, err)
	require.NoError(t, store.Offer(catalog.BodyTopic(consult.CatalogName), body))
	require.NoError(t, store.Offer(catalog.Topic(consult.CatalogName), m.Encode()))

	gotM, gotBody, err := store.Get(consult.CatalogName)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), gotM.Version)
	got, err := consult.DecodeCatalog(gotBody)
	require.NoError(t, err)
	assert.Equal(t, kb, got)
	ix, err := consult.NewIndex(got, consult.DefaultLexicon())
	require.NoError(t, err)
	assert.Equal(t, len(kb.Entries)-1, ix.Len(), "the retired entry is not searched")
	_, ok := ix.Entry("central-1")
	assert.True(t, ok)

	// A later body altered on the way is refused; the installed one stays.
	kb3, err := kb.Apply(consult.Update{Add: []consult.Entry{{ID: "central-2", Question: "경로당 난방비", Answer: "■ 겨울철"}}})
	require.NoError(t, err)
	body3, err := consult.EncodeCatalog(kb3)
	require.NoError(t, err)
	m3 := catalog.Sign(priv, consult.CatalogName, 3, body3)
	tampered := append([]byte(nil), body3...)
	tampered[len(tampered)-10] ^= 1
	require.NoError(t, store.Offer(catalog.BodyTopic(consult.CatalogName), tampered))
	require.NoError(t, store.Offer(catalog.Topic(consult.CatalogName), m3.Encode()), "waits for a body that matches")
	gotM, _, err = store.Get(consult.CatalogName)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), gotM.Version)
	require.NoError(t, store.Offer(catalog.BodyTopic(consult.CatalogName), body3))
	_, gotBody, err = store.Get(consult.CatalogName)
	require.NoError(t, err)
	got, err = consult.DecodeCatalog(gotBody)
	require.NoError(t, err)
	assert.Equal(t, kb3, got, "the genuine body installs")
}

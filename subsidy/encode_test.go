package subsidy_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi/subsidy"
	"allimi/sync/catalog"
)

func intp(n int) *int { return &n }

func sampleCatalog(names ...string) *subsidy.Catalog {
	var list []subsidy.Service
	for i, n := range names {
		list = append(list, subsidy.Service{
			ID: string(rune('A'+i)) + "0001", Name: n, Org: "경기도 성남시", OrgType: "지방자치단체",
			Target: "만 65세 이상 <어르신> & 가족", UserType: "개인||가구", Views: int64(i),
			Conditions: &subsidy.Conditions{AgeFrom: intp(65), Codes: []string{"JA0201", "JA0328", "JA0501"}},
		})
	}
	list = append(list, subsidy.Service{ID: "Z9999", Name: "조건 없음"})
	return subsidy.NewCatalog(subsidy.About{Source: "test", Demo: true, Fetched: "2026-05-01"}, list)
}

func TestEncode_RoundTripsAndIsDeterministic(t *testing.T) {
	c := sampleCatalog("기초연금", "효도수당")
	b, err := subsidy.Encode(c)
	require.NoError(t, err)
	b2, err := subsidy.Encode(sampleCatalog("기초연금", "효도수당"))
	require.NoError(t, err)
	assert.Equal(t, b, b2, "one catalog, one encoding: re-publishing changes nothing")

	d, err := subsidy.Decode(b)
	require.NoError(t, err)
	assert.Equal(t, c.About, d.About)
	assert.Equal(t, c.Services(), d.Services())

	// The decoded catalog matches as the original does.
	who, err := subsidy.NewPerson(subsidy.Profile{Age: intp(70), Income: "JA0201", Traits: []string{"JA0328"}}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, c.Match(who, subsidy.Options{All: true}), d.Match(who, subsidy.Options{All: true}))
}

func TestDecode_RefusesOtherBytes(t *testing.T) {
	good, err := subsidy.Encode(sampleCatalog("기초연금"))
	require.NoError(t, err)
	flipped := bytes.Clone(good)
	flipped[len(flipped)-10] ^= 0xff // inside gzip's trailer or data
	wrongFormat := bytes.Clone(good)
	wrongFormat[len("allimi-subsidy\n")] = 9
	for name, b := range map[string][]byte{
		"empty":        nil,
		"JSON":         []byte(`{"services": []}`),
		"magic only":   []byte("allimi-subsidy\n"),
		"other format": wrongFormat,
		"cut short":    good[:len(good)/2],
		"corrupted":    flipped,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := subsidy.Decode(b)
			assert.ErrorIs(t, err, subsidy.ErrBadCatalog)
		})
	}
}

// TestEncode_TravelsThroughSignedCatalogSync: the compiled catalog goes to
// kiosks as a signed catalog named subsidy.CatalogName. A kiosk that was
// offline while central published several versions receives, on
// reconnecting, only the retained latest manifest and body (in either
// order), and installs that one at once.
func TestEncode_TravelsThroughSignedCatalogSync(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "kiosk.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	defer db.Close()
	store, err := catalog.NewStore(db, pub)
	require.NoError(t, err)

	publish := func(v uint64, c *subsidy.Catalog) (manifest, body []byte) {
		body, err := subsidy.Encode(c)
		require.NoError(t, err)
		return catalog.Sign(priv, subsidy.CatalogName, v, body).Encode(), body
	}
	installed := func() *subsidy.Catalog {
		_, body, err := store.Get(subsidy.CatalogName)
		require.NoError(t, err)
		c, err := subsidy.Decode(body)
		require.NoError(t, err)
		return c
	}

	m1, b1 := publish(1, sampleCatalog("기초연금"))
	require.NoError(t, store.Offer(catalog.Topic(subsidy.CatalogName), m1))
	require.NoError(t, store.Offer(catalog.BodyTopic(subsidy.CatalogName), b1))
	assert.Equal(t, 2, installed().Len())

	// Offline for weeks: v2 and v3 published; the broker retains v3 only.
	_, _ = publish(2, sampleCatalog("기초연금", "효도수당"))
	m3, b3 := publish(3, sampleCatalog("기초연금", "효도수당", "난방비"))
	require.NoError(t, store.Offer(catalog.BodyTopic(subsidy.CatalogName), b3))
	require.NoError(t, store.Offer(catalog.Topic(subsidy.CatalogName), m3))
	vs, err := store.Versions()
	require.NoError(t, err)
	assert.Equal(t, uint64(3), vs[subsidy.CatalogName])
	c := installed()
	assert.Equal(t, 4, c.Len())
	_, ok := c.Service("C0001")
	assert.True(t, ok, "the newest service is there")

	// A tampered body is refused and the installed catalog stays.
	m4, b4 := publish(4, sampleCatalog("가짜"))
	b4 = bytes.Clone(b4)
	b4[len(b4)-1] ^= 1
	require.NoError(t, store.Offer(catalog.Topic(subsidy.CatalogName), m4))
	// The store does not install a body that differs from the manifest's
	// hash; it keeps it aside in case a matching manifest comes.
	require.NoError(t, store.Offer(catalog.BodyTopic(subsidy.CatalogName), b4))
	vs, err = store.Versions()
	require.NoError(t, err)
	assert.Equal(t, uint64(3), vs[subsidy.CatalogName])
	assert.Equal(t, 4, installed().Len(), "v3 stays")
}

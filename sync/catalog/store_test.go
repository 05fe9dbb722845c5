package catalog

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/sync/outbox"
	"allimi/sync/wire"
)

// catalogFixture is a kiosk bbolt file with a catalog store and central's key.
type catalogFixture struct {
	t         *testing.T
	path      string
	db        *bbolt.DB
	store     *Store
	pub       ed25519.PublicKey
	priv      ed25519.PrivateKey
	installed []Manifest // OnInstalled calls
}

func newCatalogFixture(t *testing.T) *catalogFixture {
	t.Helper()
	pub, priv := newCatalogKey(t)
	f := &catalogFixture{t: t, path: filepath.Join(t.TempDir(), "kiosk.db"), pub: pub, priv: priv}
	f.open()
	t.Cleanup(func() {
		if f.db != nil {
			_ = f.db.Close()
		}
	})
	return f
}

func (f *catalogFixture) open() {
	f.t.Helper()
	db, err := bbolt.Open(f.path, 0o600, &bbolt.Options{Timeout: time.Second})
	require.NoError(f.t, err)
	f.db = db
	s, err := NewStore(db, f.pub)
	require.NoError(f.t, err)
	s.OnInstalled = func(m Manifest) { f.installed = append(f.installed, m) }
	f.store = s
}

func (f *catalogFixture) reopen() {
	f.t.Helper()
	require.NoError(f.t, f.db.Close())
	f.db = nil
	f.open()
}

// publish signs body as version v of name and returns the raw manifest.
func (f *catalogFixture) publish(name string, v uint64, body []byte) []byte {
	return Sign(f.priv, name, v, body).Encode()
}

// install offers manifest then body and requires success.
func (f *catalogFixture) install(name string, v uint64, body []byte) {
	f.t.Helper()
	require.NoError(f.t, f.store.OfferManifest(f.publish(name, v, body)))
	require.NoError(f.t, f.store.OfferBody(name, body))
	f.requireInstalled(name, v, body)
}

// requireInstalled checks that version v of name is installed with exactly body.
func (f *catalogFixture) requireInstalled(name string, v uint64, body []byte) {
	f.t.Helper()
	m, got, err := f.store.Get(name)
	require.NoError(f.t, err)
	require.Equal(f.t, v, m.Version)
	require.Equal(f.t, body, got, "installed body must be byte-identical")
	require.NoError(f.t, m.Verify(f.pub, got))
	vs, err := f.store.Versions()
	require.NoError(f.t, err)
	require.Equal(f.t, v, vs[name])
}

func (f *catalogFixture) pendingCount() int {
	f.store.mu.Lock()
	defer f.store.mu.Unlock()
	return len(f.store.pending)
}

func TestCatalogStoreInstall(t *testing.T) {
	f := newCatalogFixture(t)
	_, _, err := f.store.Get("subsidy24")
	require.ErrorIs(t, err, allimi.ErrNotFound)
	vs, err := f.store.Versions()
	require.NoError(t, err)
	assert.Empty(t, vs)

	body := []byte(`{"programs":1}`)
	raw := f.publish("subsidy24", 1, body)
	require.NoError(t, f.store.OfferManifest(raw))
	_, _, err = f.store.Get("subsidy24")
	require.ErrorIs(t, err, allimi.ErrNotFound, "a manifest alone installs nothing")
	assert.Empty(t, f.installed)

	require.NoError(t, f.store.OfferBody("subsidy24", body))
	f.requireInstalled("subsidy24", 1, body)
	require.Len(t, f.installed, 1)
	assert.Equal(t, uint64(1), f.installed[0].Version)
	assert.NoError(t, f.store.LastError("subsidy24"))
	assert.Zero(t, f.pendingCount(), "nothing is kept in memory after an install")
}

func TestCatalogStoreNewerVersionInstalls(t *testing.T) {
	f := newCatalogFixture(t)
	f.install("subsidy24", 1, []byte("one"))
	f.install("subsidy24", 2, []byte("two, longer"))
	f.install("subsidy24", 10, []byte("ten")) // versions may skip
	f.install("consult-kb", 5, []byte("kb"))
	require.Len(t, f.installed, 4)

	vs, err := f.store.Versions()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"subsidy24": 10, "consult-kb": 5}, vs)
}

func TestCatalogStoreOutOfOrder(t *testing.T) {
	f := newCatalogFixture(t)
	body := []byte("body first")
	require.NoError(t, f.store.OfferBody("subsidy24", body))
	_, _, err := f.store.Get("subsidy24")
	require.ErrorIs(t, err, allimi.ErrNotFound, "a body alone installs nothing")

	require.NoError(t, f.store.OfferManifest(f.publish("subsidy24", 1, body)))
	f.requireInstalled("subsidy24", 1, body)
	require.Len(t, f.installed, 1)

	// Body of v2 first, then the v1 manifest again (retained), then v2's manifest.
	body2 := []byte("body first, v2")
	require.NoError(t, f.store.OfferBody("subsidy24", body2))
	require.NoError(t, f.store.OfferManifest(f.publish("subsidy24", 1, body)))
	f.requireInstalled("subsidy24", 1, body)
	require.NoError(t, f.store.OfferManifest(f.publish("subsidy24", 2, body2)))
	f.requireInstalled("subsidy24", 2, body2)
	require.Len(t, f.installed, 2)
	assert.Zero(t, f.pendingCount())
}

func TestCatalogStoreOnlyLatestBodyWaits(t *testing.T) {
	f := newCatalogFixture(t)
	old, latest := []byte("older body"), []byte("latest body")
	require.NoError(t, f.store.OfferBody("kb", old))
	require.NoError(t, f.store.OfferBody("kb", latest))
	// The manifest of the replaced body finds no body to match.
	require.NoError(t, f.store.OfferManifest(f.publish("kb", 1, old)))
	_, _, err := f.store.Get("kb")
	require.ErrorIs(t, err, allimi.ErrNotFound)
	require.NoError(t, f.store.OfferManifest(f.publish("kb", 2, latest)))
	f.requireInstalled("kb", 2, latest)
}

func TestCatalogStoreRedeliveryIdempotent(t *testing.T) {
	f := newCatalogFixture(t)
	body := []byte("retained catalog")
	raw := f.publish("subsidy24", 3, body)
	f.install("subsidy24", 3, body)
	require.Len(t, f.installed, 1)

	// Every reconnect delivers both retained messages again, in any order.
	for i := 0; i < 3; i++ {
		require.NoError(t, f.store.OfferManifest(raw))
		require.NoError(t, f.store.OfferBody("subsidy24", body))
		require.NoError(t, f.store.OfferBody("subsidy24", body))
		require.NoError(t, f.store.OfferManifest(raw))
		require.NoError(t, f.store.Offer(BodyTopic("subsidy24"), body))
		require.NoError(t, f.store.Offer(Topic("subsidy24"), raw))
	}
	f.requireInstalled("subsidy24", 3, body)
	assert.Len(t, f.installed, 1, "a re-delivery installs nothing and calls no callback")
	assert.NoError(t, f.store.LastError("subsidy24"))
	assert.Zero(t, f.pendingCount(), "a re-delivered body is not kept in memory")
}

func TestCatalogStoreNewVersionSameContent(t *testing.T) {
	// Central re-publishes unchanged content under a new version: the
	// manifest installs with the stored body, whether or not the body comes.
	f := newCatalogFixture(t)
	body := []byte("unchanged")
	f.install("kb", 1, body)
	require.NoError(t, f.store.OfferBody("kb", body)) // retained body first, dropped as installed
	require.NoError(t, f.store.OfferManifest(f.publish("kb", 2, body)))
	f.requireInstalled("kb", 2, body)
	require.Len(t, f.installed, 2)
	require.NoError(t, f.store.OfferBody("kb", body))
	f.requireInstalled("kb", 2, body)
	assert.Len(t, f.installed, 2)
	assert.Zero(t, f.pendingCount())
}

func TestCatalogStoreSurvivesReopen(t *testing.T) {
	f := newCatalogFixture(t)
	body := []byte("persisted catalog body")
	f.install("subsidy24", 4, body)
	f.install("consult-kb", 1, []byte("kb"))
	f.reopen()
	f.requireInstalled("subsidy24", 4, body)
	f.requireInstalled("consult-kb", 1, []byte("kb"))

	// The rollback protection survives as well.
	err := f.store.OfferManifest(f.publish("subsidy24", 3, []byte("old")))
	require.ErrorIs(t, err, ErrRollback)
	f.requireInstalled("subsidy24", 4, body)
}

func TestCatalogStoreSharesFileWithOutbox(t *testing.T) {
	f := newCatalogFixture(t)
	_, err := outbox.Open(f.db, "kiosk-1")
	require.NoError(t, err)
	f.install("kb", 1, []byte("kb"))
	f.reopen()
	_, err = outbox.Open(f.db, "kiosk-1")
	require.NoError(t, err)
	f.requireInstalled("kb", 1, []byte("kb"))
}

// TestCatalogStoreRefusals offers bad catalogs on top of an installed one:
// each is refused with its sentinel, recorded as LastError, and leaves the
// installed catalog byte-identical.
func TestCatalogStoreRefusals(t *testing.T) {
	const name = "subsidy24"
	installedBody := []byte("installed catalog v5 body")
	sameSize := []byte("tampered catalog v6 body.")
	require.Len(t, sameSize, len(installedBody))
	newBody := []byte("catalog v6 body")

	tests := []struct {
		name  string
		offer func(f *catalogFixture) error
		want  error
	}{
		{"rollback, body first", func(f *catalogFixture) error {
			old := []byte("catalog v4 body")
			require.NoError(t, f.store.OfferBody(name, old))
			return f.store.OfferManifest(f.publish(name, 4, old))
		}, ErrRollback},
		{"rollback, manifest alone", func(f *catalogFixture) error {
			return f.store.OfferManifest(f.publish(name, 1, []byte("v1")))
		}, ErrRollback},
		{"same version, different content", func(f *catalogFixture) error {
			require.NoError(t, f.store.OfferBody(name, sameSize))
			return f.store.OfferManifest(f.publish(name, 5, sameSize))
		}, ErrVersionConflict},
		{"signed by another key", func(f *catalogFixture) error {
			_, other := newCatalogKey(t)
			require.NoError(t, f.store.OfferBody(name, newBody))
			return f.store.OfferManifest(Sign(other, name, 6, newBody).Encode())
		}, ErrBadSignature},
		{"tampered version", func(f *catalogFixture) error {
			m := Sign(f.priv, name, 6, newBody)
			m.Version = 7
			require.NoError(t, f.store.OfferBody(name, newBody))
			return f.store.OfferManifest(m.Encode())
		}, ErrBadSignature},
		{"tampered hash, body changed with same size", func(f *catalogFixture) error {
			m := Sign(f.priv, name, 6, installedBody)
			forged := Sign(f.priv, name, 6, sameSize)
			m.SHA256 = forged.SHA256 // the signature still covers the old hash
			require.NoError(t, f.store.OfferBody(name, sameSize))
			return f.store.OfferManifest(m.Encode())
		}, ErrBadSignature},
		{"tampered size", func(f *catalogFixture) error {
			m := Sign(f.priv, name, 6, newBody)
			m.Size++
			return f.store.OfferManifest(m.Encode())
		}, ErrBadSignature},
		{"unsupported manifest version", func(f *catalogFixture) error {
			m := Sign(f.priv, name, 6, newBody)
			m.V = 2
			require.NoError(t, f.store.OfferBody(name, newBody))
			return f.store.OfferManifest(m.Encode())
		}, allimi.ErrUnsupportedVersion},
		{"malformed manifest", func(f *catalogFixture) error {
			return f.store.Offer(Topic(name), []byte(`{"v":1,"name":"subsidy24","version":6,`))
		}, wire.ErrMalformed},
		{"manifest of another catalog on this topic", func(f *catalogFixture) error {
			return f.store.Offer(Topic(name), f.publish("other", 6, newBody))
		}, allimi.ErrInvalid},
		{"oversized body", func(f *catalogFixture) error {
			return f.store.OfferBody(name, make([]byte, MaxBodySize+1))
		}, wire.ErrOversize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCatalogFixture(t)
			f.install(name, 5, installedBody)
			before := append([]byte(nil), installedBody...)

			err := tt.offer(f)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), "catalog ")
			assert.ErrorIs(t, f.store.LastError(name), tt.want, "the refusal is recorded")

			f.requireInstalled(name, 5, before)
			assert.Len(t, f.installed, 1, "no callback for a refused catalog")

			// And it stays so across a restart.
			f.reopen()
			f.requireInstalled(name, 5, before)

			// The store still takes a good newer version afterwards, which clears LastError.
			f.install(name, 6, newBody)
			assert.NoError(t, f.store.LastError(name))
		})
	}
}

func TestCatalogStoreMismatchedBodyWaits(t *testing.T) {
	// A body that does not match the pending manifest (same size, other
	// content) cannot be told apart from a body of another version: it
	// waits, and nothing is installed.
	f := newCatalogFixture(t)
	installed := []byte("installed v1")
	f.install("kb", 1, installed)
	want := []byte("genuine v2 b")
	evil := []byte("tampered v2!")
	require.Len(t, evil, len(want))
	require.NoError(t, f.store.OfferManifest(f.publish("kb", 2, want)))
	require.NoError(t, f.store.OfferBody("kb", evil))
	f.requireInstalled("kb", 1, installed)
	require.NoError(t, f.store.OfferBody("kb", want))
	f.requireInstalled("kb", 2, want)
}

func TestCatalogStoreForgedManifestKeepsPending(t *testing.T) {
	// A forged manifest does not displace a genuine one waiting for its body.
	f := newCatalogFixture(t)
	body := []byte("genuine")
	require.NoError(t, f.store.OfferManifest(f.publish("kb", 1, body)))
	_, other := newCatalogKey(t)
	err := f.store.OfferManifest(Sign(other, "kb", 9, []byte("forged")).Encode())
	require.ErrorIs(t, err, ErrBadSignature)
	require.ErrorIs(t, f.store.LastError("kb"), ErrBadSignature)
	require.NoError(t, f.store.OfferBody("kb", body))
	f.requireInstalled("kb", 1, body)
	assert.NoError(t, f.store.LastError("kb"))
}

func TestCatalogStoreRefusedManifestKeepsBody(t *testing.T) {
	// When a forged manifest matches a waiting body, the body stays for the
	// genuine manifest.
	f := newCatalogFixture(t)
	body := []byte("genuine body")
	require.NoError(t, f.store.OfferBody("kb", body))
	forged := Sign(f.priv, "kb", 1, body)
	forged.Version = 2
	require.ErrorIs(t, f.store.OfferManifest(forged.Encode()), ErrBadSignature)
	require.NoError(t, f.store.OfferManifest(f.publish("kb", 1, body)))
	f.requireInstalled("kb", 1, body)
}

func TestCatalogStoreOffer(t *testing.T) {
	f := newCatalogFixture(t)
	body := []byte("via topics")
	require.NoError(t, f.store.Offer(BodyTopic("kb"), body))
	require.NoError(t, f.store.Offer(Topic("kb"), f.publish("kb", 1, body)))
	f.requireInstalled("kb", 1, body)

	// Cleared retained messages are ignored.
	require.NoError(t, f.store.Offer(Topic("kb"), nil))
	require.NoError(t, f.store.Offer(BodyTopic("kb"), []byte{}))
	f.requireInstalled("kb", 1, body)

	require.ErrorIs(t, f.store.Offer("allimi/v1/kiosk/k/up", body), allimi.ErrInvalid)
	require.ErrorIs(t, f.store.OfferBody("Bad Name", body), allimi.ErrInvalid)
}

func TestCatalogStoreOfferCopiesBody(t *testing.T) {
	f := newCatalogFixture(t)
	body := []byte("caller's buffer")
	want := append([]byte(nil), body...)
	require.NoError(t, f.store.OfferBody("kb", body))
	copy(body, "XXXXXXXXXXXXXXX") // the MQTT client reuses its buffer
	require.NoError(t, f.store.OfferManifest(f.publish("kb", 1, want)))
	f.requireInstalled("kb", 1, want)

	_, got, err := f.store.Get("kb")
	require.NoError(t, err)
	got[0] = 'X'
	f.requireInstalled("kb", 1, want) // Get hands out a copy
}

func TestNewStoreRefusesBadKey(t *testing.T) {
	f := newCatalogFixture(t)
	_, err := NewStore(f.db, f.pub[:8])
	require.ErrorIs(t, err, allimi.ErrInvalid)
}

func TestCatalogStoreConcurrentOffers(t *testing.T) {
	f := newCatalogFixture(t)
	var mu sync.Mutex
	f.store.OnInstalled = func(m Manifest) {
		mu.Lock()
		f.installed = append(f.installed, m)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for v := uint64(1); v <= 8; v++ {
		body := []byte(fmt.Sprintf("version %d", v))
		raw := f.publish("kb", v, body)
		for range 2 {
			wg.Add(2)
			go func() { defer wg.Done(); _ = f.store.OfferBody("kb", body) }()
			go func() { defer wg.Done(); _ = f.store.OfferManifest(raw) }()
		}
	}
	wg.Wait()
	// Whatever the interleaving, what is installed is one whole signed version.
	m, body, err := f.store.Get("kb")
	if err == nil {
		require.NoError(t, m.Verify(f.pub, body))
		assert.Equal(t, fmt.Sprintf("version %d", m.Version), string(body))
	} else {
		require.ErrorIs(t, err, allimi.ErrNotFound)
	}
	// Versions installed only ever increase.
	for i := 1; i < len(f.installed); i++ {
		assert.Greater(t, f.installed[i].Version, f.installed[i-1].Version)
	}
	// The newest version still installs afterwards.
	f.install("kb", 9, []byte("version 9"))
}

func TestCatalogStoreGetDetectsCorruption(t *testing.T) {
	f := newCatalogFixture(t)
	body := []byte("stored body")
	f.install("kb", 1, body)
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketCatalogs)
		rec := append([]byte(nil), b.Get([]byte("kb"))...)
		rec[len(rec)-1] ^= 1 // one bit of the body flips on disk
		if err := b.Put([]byte("kb"), rec); err != nil {
			return err
		}
		return b.Put([]byte("junk"), []byte{9, 9})
	}))
	_, _, err := f.store.Get("kb")
	require.ErrorIs(t, err, ErrHashMismatch)
	_, _, err = f.store.Get("junk")
	require.ErrorIs(t, err, wire.ErrMalformed)
	_, err = f.store.Versions()
	require.ErrorIs(t, err, wire.ErrMalformed)
}

func TestCatalogStoreOfferManifestMalformed(t *testing.T) {
	f := newCatalogFixture(t)
	require.ErrorIs(t, f.store.OfferManifest([]byte("{")), wire.ErrMalformed)
	require.ErrorIs(t, f.store.OfferManifest([]byte(`{"v":1,"name":"Bad"}`)), allimi.ErrInvalid)
}

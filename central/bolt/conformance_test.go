package bolt

import (
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/detail"
	"allimi/central/keyring"
	"allimi/central/storetest"
	"allimi/central/throttle"
)

// The conformance suites of central's storage, run against bbolt files.
func TestConformance_Registry(t *testing.T)      { storetest.Registry(t, openConformance) }
func TestConformance_Confirmations(t *testing.T) { storetest.Confirmations(t, openConformance) }
func TestConformance_Questions(t *testing.T)     { storetest.Questions(t, openConformance) }
func TestConformance_AuditLog(t *testing.T)      { storetest.AuditLog(t, openConformance) }
func TestConformance_Kiosks(t *testing.T)        { storetest.Kiosks(t, openConformance) }
func TestConformance_KioskUsers(t *testing.T)    { storetest.KioskUsers(t, openConformance) }
func TestConformance_Agencies(t *testing.T)      { storetest.Agencies(t, openConformance) }
func TestConformance_Officials(t *testing.T)     { storetest.Officials(t, openConformance) }
func TestConformance_Notifications(t *testing.T) { storetest.Notifications(t, openConformance) }
func TestConformance_Deliveries(t *testing.T)    { storetest.Deliveries(t, openConformance) }
func TestConformance_DeliveryQueue(t *testing.T) { storetest.DeliveryQueue(t, openDeliveries) }
func TestConformance_QueueIntents(t *testing.T)  { storetest.QueueIntents(t, openDeliveries) }
func TestConformance_Catalogs(t *testing.T) {
	storetest.Catalogs(t, func(t *testing.T) catalogStore { return catalogStore{openConformance(t).(*conformanceStore)} })
}

func TestConformance_Throttle(t *testing.T) {
	storetest.Throttle(t, func(t *testing.T) throttleStore {
		c := openConformance(t).(*conformanceStore)
		return throttleStore{c, throttle.Bolt(c.db)}
	})
}

// throttleStore is the store's file as central's limiters keep counts in it.
type throttleStore struct {
	*conformanceStore
	throttle.Storage
}

func (c throttleStore) Reopen(t *testing.T) throttleStore {
	c.conformanceStore.Reopen(t)
	return throttleStore{c.conformanceStore, throttle.Bolt(c.db)}
}

func TestConformance_Details(t *testing.T) {
	storetest.Details(t, func(t *testing.T) detailStore {
		c := openConformance(t).(*conformanceStore)
		return detailStore{c, c.detailStorage(t)}
	})
}

// detailStore is the store's file as the detail pages keep their data in
// it, answering for reserved tokens as the store does.
type detailStore struct {
	*conformanceStore
	detail.Storage
}

func (c detailStore) Reopen(t *testing.T) detailStore {
	c.conformanceStore.Reopen(t)
	return detailStore{c.conformanceStore, c.detailStorage(t)}
}

func (c *conformanceStore) detailStorage(t *testing.T) detail.Storage {
	t.Helper()
	st, err := detail.Bolt(c.db, c.Store)
	require.NoError(t, err)
	return st
}

func TestConformance_DetailLinks(t *testing.T) {
	storetest.DetailLinks(t, func(t *testing.T) storetest.DetailLinkBackend { return openConformance(t).(*conformanceStore) })
}

// DetailPages serves the store's detail pages.
func (c *conformanceStore) DetailPages() *detail.Store { return c.Details }

func TestConformance_Benefits(t *testing.T) {
	storetest.Benefits(t, func(t *testing.T) catalogStore { return catalogStore{openConformance(t).(*conformanceStore)} })
}

func TestConformance_Languages(t *testing.T) {
	storetest.Languages(t, func(t *testing.T) catalogStore { return catalogStore{openConformance(t).(*conformanceStore)} })
}

// catalogStore is the store as the Catalogs, Benefits and Languages
// suites take it.
type catalogStore struct{ *conformanceStore }

func (c catalogStore) Reopen(t *testing.T) catalogStore {
	c.conformanceStore.Reopen(t)
	return c
}

// conformanceStore is a Store in a data directory of its own, as central
// opens it: keys.json beside the bbolt file, the default options.
type conformanceStore struct {
	*Store
	path string
	keys *keyring.Keys
}

func openConformance(t *testing.T) storetest.Backend {
	t.Helper()
	dir := t.TempDir()
	keys, err := keyring.Load(dir)
	require.NoError(t, err)
	c := &conformanceStore{path: filepath.Join(dir, DBFile), keys: keys}
	c.open(t)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (c *conformanceStore) open(t *testing.T) {
	t.Helper()
	// The suites send damaged questions on purpose: their warnings would
	// only hide a failure's output.
	st, err := OpenStore(c.path, c.keys, StoreOptions{LinkBase: "https://allimi.example/", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	c.Store = st
}

// Reopen closes the file and opens it again, keys and all.
func (c *conformanceStore) Reopen(t *testing.T) storetest.Backend {
	t.Helper()
	require.NoError(t, c.Close())
	c.open(t)
	return c
}

// openDeliveries is openConformance for the dispatcher's suites, whose
// subscribers are imported as internal/loadgen seeds them.
func openDeliveries(t *testing.T) storetest.DeliveryBackend {
	return openConformance(t).(*conformanceStore)
}

// Seed imports people as subscribers of typ on chs.
func (c *conformanceStore) Seed(t *testing.T, people []allimi.Citizen, typ allimi.NotificationType, chs ...allimi.Channel) {
	t.Helper()
	require.NoError(t, c.ImportSubscribers(len(people), func(i uint64) allimi.Citizen { return people[i-1] },
		[]allimi.NotificationType{typ}, chs))
}

// ReopenDeliveries is Reopen for the dispatcher's suites.
func (c *conformanceStore) ReopenDeliveries(t *testing.T) storetest.DeliveryBackend {
	t.Helper()
	c.Reopen(t)
	return c
}

// RewriteAudit changes an audit entry in the file, as someone with the
// file could.
func (c *conformanceStore) RewriteAudit(t *testing.T, seq uint64, change func(*allimi.AuditEntry)) {
	t.Helper()
	require.NoError(t, c.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		var e allimi.AuditEntry
		if err := json.Unmarshal(b.Get(u64(seq)), &e); err != nil {
			return err
		}
		change(&e)
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put(u64(seq), v)
	}))
}

// DeleteAudit removes an audit entry from the file.
func (c *conformanceStore) DeleteAudit(t *testing.T, seq uint64) {
	t.Helper()
	require.NoError(t, c.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		require.NotNil(t, b.Get(u64(seq)), "audit entry %d", seq)
		return b.Delete(u64(seq))
	}))
}

// CatalogPublicKey is what the store's catalogs verify with.
func (c *conformanceStore) CatalogPublicKey() ed25519.PublicKey { return c.keys.CatalogPublicKey() }

func TestConformance_Enrolments(t *testing.T) {
	storetest.Enrolments(t, func(t *testing.T) enrolmentStore { return enrolmentStore{openConformance(t).(*conformanceStore)} })
}

// enrolmentStore is the store as the enrolments' suite reopens it.
type enrolmentStore struct{ *conformanceStore }

func (c enrolmentStore) Reopen(t *testing.T) enrolmentStore {
	c.conformanceStore.Reopen(t)
	return c
}

func TestConformance_TypeDefs(t *testing.T) {
	storetest.TypeDefs(t, func(t *testing.T) enrolmentStore { return enrolmentStore{openConformance(t).(*conformanceStore)} })
}

func TestConformance_Stats(t *testing.T) {
	storetest.Stats(t, func(t *testing.T) catalogStore { return catalogStore{openConformance(t).(*conformanceStore)} })
}

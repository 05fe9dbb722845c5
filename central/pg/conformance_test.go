package pg

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/detail"
	"allimi/central/keyring"
	"allimi/central/storetest"
	"allimi/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The conformance suites of the interfaces Store implements so far, run
// against a real PostgreSQL, a fresh database each.
func TestConformance_Kiosks(t *testing.T)        { storetest.Kiosks(t, openConformance) }
func TestConformance_Agencies(t *testing.T)      { storetest.Agencies(t, openConformance) }
func TestConformance_Officials(t *testing.T)     { storetest.Officials(t, openConformance) }
func TestConformance_KioskUsers(t *testing.T)    { storetest.KioskUsers(t, openConformance) }
func TestConformance_Registry(t *testing.T)      { storetest.Registry(t, openConformance) }
func TestConformance_Confirmations(t *testing.T) { storetest.Confirmations(t, openConformance) }
func TestConformance_AuditLog(t *testing.T)      { storetest.AuditLog(t, openConformance) }
func TestConformance_Questions(t *testing.T)     { storetest.Questions(t, openConformance) }
func TestConformance_Catalogs(t *testing.T)      { storetest.Catalogs(t, openConformance) }
func TestConformance_Throttle(t *testing.T)      { storetest.Throttle(t, openConformance) }
func TestConformance_Details(t *testing.T)       { storetest.Details(t, openConformance) }
func TestConformance_DetailLinks(t *testing.T) {
	storetest.DetailLinks(t, func(t *testing.T) storetest.DetailLinkBackend { return openConformance(t) })
}

// DetailPages serves the store's detail pages (OpenDetails).
func (c *conformanceStore) DetailPages() *detail.Store { return c.details }
func TestConformance_Benefits(t *testing.T)            { storetest.Benefits(t, openConformance) }
func TestConformance_Notifications(t *testing.T)       { storetest.Notifications(t, openConformance) }
func TestConformance_Languages(t *testing.T)           { storetest.Languages(t, openConformance) }
func TestConformance_Deliveries(t *testing.T)          { storetest.Deliveries(t, openConformance) }
func TestConformance_DeliveryQueue(t *testing.T)       { storetest.DeliveryQueue(t, openDeliveries) }
func TestConformance_QueueIntents(t *testing.T)        { storetest.QueueIntents(t, openDeliveries) }

// conformanceStore is a Store on a migrated database of its own, with
// keys as central's data directory has them.
type conformanceStore struct {
	*Store
	url  string
	keys *keyring.Keys
}

func openConformance(t *testing.T) *conformanceStore { return openStore(t) }

// others are n more stores on c's database with c's keys, as other
// centrals open it, closed when the test ends.
func (c *conformanceStore) others(t testing.TB, n int) []*Store {
	t.Helper()
	var out []*Store
	for range n {
		st, err := Open(context.Background(), c.url, WithKeys(c.keys))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		out = append(out, st)
	}
	return out
}

// openStore is openConformance for benchmarks too.
func openStore(t testing.TB) *conformanceStore {
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

func (c *conformanceStore) open(t testing.TB) {
	t.Helper()
	// The suites send damaged questions on purpose: their warnings would
	// only hide a failure's output.
	st, err := Open(context.Background(), c.url, WithKeys(c.keys), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	// With detail pages, as central/bolt's suites open theirs.
	_, err = st.OpenDetails("https://allimi.example/", nil)
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

// openDeliveries is openConformance for the dispatcher's suites.
func openDeliveries(t *testing.T) storetest.DeliveryBackend { return openConformance(t) }

// ReopenDeliveries is Reopen for the dispatcher's suites.
func (c *conformanceStore) ReopenDeliveries(t *testing.T) storetest.DeliveryBackend {
	return c.Reopen(t)
}

// Seed makes people subscribers of typ on chs as their sign-ups would
// have, in the registry's tables of 0002: each person a citizens row
// (sealed as keyring.SealCitizen seals them) and a granting consents row
// per channel, made at kiosk "seed" (record i, as central/bolt's
// ImportSubscribers records them), and the registry's counts of active
// grants and subscribers raised to match.
func (c *conformanceStore) Seed(t *testing.T, people []allimi.Citizen, typ allimi.NotificationType, chs ...allimi.Channel) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	hlc := allimi.NextHLC(0, now)
	tx, err := c.pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	for i, p := range people {
		ck := c.keys.CitizenKey(p.Mobile, p.BirthDate)
		tag, err := tx.Exec(ctx, `INSERT INTO citizens (ck, pii, verified, active, created, updated) VALUES ($1, $2, false, $3, $4, $4)
			ON CONFLICT (ck) DO NOTHING`, ck, c.keys.SealCitizen(p, ck), len(chs), now)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected(), "%v: seeded once", p)
		for _, ch := range chs {
			_, err := tx.Exec(ctx, `INSERT INTO consents (ck, type, channel, action, hlc, kiosk, seq, by_kind, by_official, by_method, at)
				VALUES ($1, $2, $3, $4, $5, 'seed', $6, $7, '', '', $8)`,
				ck, string(typ), string(ch), string(allimi.ActionGrant), int64(hlc), i+1, allimi.ActorSelf, now)
			require.NoError(t, err)
		}
	}
	for _, ch := range chs {
		_, err := tx.Exec(ctx, `INSERT INTO active_grants (type, channel, n) VALUES ($1, $2, $3)
			ON CONFLICT (type, channel) DO UPDATE SET n = active_grants.n + EXCLUDED.n`, string(typ), string(ch), len(people))
		require.NoError(t, err)
	}
	_, err = tx.Exec(ctx, `UPDATE registry_counters SET n = n + $1 WHERE name = 'subscribers'`, len(people))
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
}

// RewriteAudit changes an audit entry in the table, as someone with the
// database could.
func (c *conformanceStore) RewriteAudit(t *testing.T, seq uint64, change func(*allimi.AuditEntry)) {
	t.Helper()
	ctx := context.Background()
	var v []byte
	require.NoError(t, c.pool.QueryRow(ctx, `SELECT entry FROM audit WHERE seq = $1`, int64(seq)).Scan(&v))
	var e allimi.AuditEntry
	require.NoError(t, json.Unmarshal(v, &e))
	change(&e)
	v, err := json.Marshal(e)
	require.NoError(t, err)
	_, err = c.pool.Exec(ctx, `UPDATE audit SET entry = $2 WHERE seq = $1`, int64(seq), v)
	require.NoError(t, err)
}

// DeleteAudit removes an audit entry from the table.
func (c *conformanceStore) DeleteAudit(t *testing.T, seq uint64) {
	t.Helper()
	tag, err := c.pool.Exec(context.Background(), `DELETE FROM audit WHERE seq = $1`, int64(seq))
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected(), "audit entry %d", seq)
}

// CatalogPublicKey is what the store's catalogs verify with.
func (c *conformanceStore) CatalogPublicKey() ed25519.PublicKey { return c.keys.CatalogPublicKey() }

func TestConformance_Enrolments(t *testing.T) { storetest.Enrolments(t, openConformance) }
func TestConformance_TypeDefs(t *testing.T)   { storetest.TypeDefs(t, openConformance) }

// The scheduler of a leader whose lease another central took over changes
// no step: its update is refused and the enrolment left as it was.
func TestEnrolments_FencedUpdateRefusedAfterTakeover(t *testing.T) {
	c := openConformance(t)
	e := allimi.Enrolment{ID: "e1", Program: "vaccination", Agency: "kdca", Citizen: []byte("ck"), Created: time.Now().UTC(),
		Steps: []allimi.EnrolmentStep{{Step: "appointment", State: allimi.StepScheduled, Due: ptrTime(time.Now().UTC())}}}
	_, _, err := c.CreateEnrolment(e, "")
	require.NoError(t, err)
	ctx := context.Background()
	old, ok := c.takeLease(ctx, "jobs", "old")
	require.True(t, ok)
	_, err = c.Fenced(old).UpdateEnrolment("e1", func(e *allimi.Enrolment) error { e.Steps[0].State = allimi.StepSending; return nil })
	require.NoError(t, err, "the holder writes")
	_, err = c.pool.Exec(ctx, `UPDATE leases SET expires = clock_timestamp() - interval '1 second' WHERE name = 'jobs'`)
	require.NoError(t, err)
	_, ok = c.takeLease(ctx, "jobs", "new")
	require.True(t, ok)
	_, err = c.Fenced(old).UpdateEnrolment("e1", func(e *allimi.Enrolment) error { e.Steps[0].State = allimi.StepSent; return nil })
	require.ErrorIs(t, err, ErrLeaseLost)
	got, err := c.GetEnrolment("e1")
	require.NoError(t, err)
	assert.Equal(t, allimi.StepSending, got.Steps[0].State)
}

func ptrTime(t time.Time) *time.Time { return &t }

func TestConformance_Stats(t *testing.T) { storetest.Stats(t, openConformance) }

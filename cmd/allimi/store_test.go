package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/central/pg"
	"allimi/internal/pgtest"
	"allimi/sync/catalog"
)

// runPrinting runs a command and returns what it printed on stdout, where
// the commands print (fmt.Printf, printJSON(os.Stdout)).
func runPrinting(t *testing.T, c *cobra.Command, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stdout
	os.Stdout = w
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	c.SilenceUsage, c.SilenceErrors = true, true
	err = c.Execute()
	os.Stdout = old
	w.Close()
	return <-out, err
}

// migrated is a fresh database with this build's schema.
func migrated(t *testing.T) string {
	t.Helper()
	url := pgtest.URL(t)
	_, err := runPrinting(t, centralMigrateCmd(), "--store", url)
	require.NoError(t, err)
	return url
}

func openPG(t *testing.T, url string, keys *keyring.Keys) *pg.Store {
	t.Helper()
	st, err := pg.Open(context.Background(), url, pg.WithKeys(keys))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestCentralMigrate_AppliesThenSaysUpToDate(t *testing.T) {
	url := pgtest.URL(t)
	out, err := runPrinting(t, centralMigrateCmd(), "--store", url)
	require.NoError(t, err)
	assert.Contains(t, out, "applied migration 1\n")
	out, err = runPrinting(t, centralMigrateCmd(), "--store", url)
	require.NoError(t, err)
	assert.Equal(t, "schema up to date (version "+strconv.Itoa(pg.Version())+")\n", out)

	_, err = runPrinting(t, centralMigrateCmd())
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err), "--store is required")
}

func TestStoreFlag_WithDataIsAUsageError(t *testing.T) {
	for name, c := range map[string]func() *cobra.Command{
		"kiosk":    centralKioskCmd,
		"agency":   centralAgencyCmd,
		"official": centralOfficialCmd,
	} {
		args := []string{"add", "--id", "x1", "--store", "postgres://nowhere/none", "--data", t.TempDir()}
		_, err := runPrinting(t, c(), args...)
		require.Error(t, err, name)
		assert.Equal(t, 2, exitCode(err), name)
		assert.Contains(t, err.Error(), "--store and --data", name)
	}
	_, err := runPrinting(t, centralKioskCmd(), "enrol", "--id", "x1", "--store", "postgres://nowhere/none", "--data", t.TempDir())
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err))
	_, err = runPrinting(t, centralKioskCmd(), "add", "--id", "x1", "--keys", t.TempDir(), "--data", t.TempDir())
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err), "--keys without --store")
}

func TestStoreFlag_UnmigratedDatabaseRefused(t *testing.T) {
	url := pgtest.URL(t)
	_, err := runPrinting(t, centralOfficialCmd(), "add", "--id", "kim", "--store", url)
	require.ErrorIs(t, err, pg.ErrUnmigrated)
	assert.Contains(t, err.Error(), "allimi central migrate --store")
}

func TestKioskCommands_OnPostgres(t *testing.T) {
	url := migrated(t)
	keysDir := t.TempDir()
	out, err := runPrinting(t, centralKioskCmd(), "add", "--store", url, "--keys", keysDir, "--id", "kiosk-1", "--json")
	require.NoError(t, err)
	var cred allimi.KioskCredentials
	require.NoError(t, json.Unmarshal([]byte(out), &cred))
	keys, err := keyring.Load(keysDir)
	require.NoError(t, err)
	assert.Equal(t, "kiosk-1", cred.ID)
	assert.Equal(t, catalog.EncodePublicKey(keys.CatalogPublicKey()), cred.CatalogKey, "the catalog key of --keys's keys.json")

	out, err = runPrinting(t, centralKioskCmd(), "enrol", "--store", url, "--id", "kiosk-2", "--json")
	require.NoError(t, err)
	var enrol struct{ Kiosk, Code string }
	require.NoError(t, json.Unmarshal([]byte(out), &enrol))
	assert.Equal(t, "kiosk-2", enrol.Kiosk)

	st := openPG(t, url, keys)
	id, ok := st.CheckKiosk(cred.Username, cred.Password)
	assert.True(t, ok)
	assert.Equal(t, "kiosk-1", id)
	got, err := st.RedeemEnrolment(enrol.Code)
	require.NoError(t, err, "the code enrol printed")
	assert.Equal(t, "kiosk-2", got.ID)
	assert.Equal(t, cred.CatalogKey, got.CatalogKey)

	_, err = runPrinting(t, centralKioskCmd(), "add", "--store", url, "--keys", keysDir, "--id", "Kiosk 3")
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err), "a bad id is the user's")
}

func TestAgencyCommands_OnPostgres(t *testing.T) {
	url := migrated(t)
	out, err := runPrinting(t, centralAgencyCmd(), "add", "--store", url, "--id", "police", "--types", "traffic-fine",
		"--payment-hosts", "pay.police.go.kr", "--json")
	require.NoError(t, err)
	var cred allimi.AgencyCredentials
	require.NoError(t, json.Unmarshal([]byte(out), &cred))
	st := openPG(t, url, nil)
	id, ok := st.AgencyByToken(cred.Token)
	assert.True(t, ok)
	assert.Equal(t, "police", id)
	p, err := st.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.Equal(t, allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeTrafficFine}, PaymentHosts: []string{"pay.police.go.kr"}}, p)

	_, err = runPrinting(t, centralAgencyCmd(), "allow", "--store", url, "--id", "police", "--types", "traffic-penalty")
	require.NoError(t, err)
	p, err = st.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.Equal(t, allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeTrafficPenalty}}, p)
}

func TestOfficialCommands_OnPostgres(t *testing.T) {
	url := migrated(t)
	out, err := runPrinting(t, centralOfficialCmd(), "add", "--store", url, "--id", "kim.minji", "--json")
	require.NoError(t, err)
	var cred allimi.OfficialCredentials
	require.NoError(t, json.Unmarshal([]byte(out), &cred))
	st := openPG(t, url, nil)
	ok, err := st.OfficialCheck("kim.minji", cred.Token)
	require.NoError(t, err)
	assert.True(t, ok)

	_, err = runPrinting(t, centralOfficialCmd(), "add", "--store", url, "--id", "kim.minji")
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err), "adding twice without --rotate")
	out, err = runPrinting(t, centralOfficialCmd(), "add", "--store", url, "--id", "kim.minji", "--rotate")
	require.NoError(t, err)
	assert.Contains(t, out, "official kim.minji\ntoken ")
	ok, err = st.OfficialCheck("kim.minji", cred.Token)
	require.NoError(t, err)
	assert.False(t, ok, "rotated")
}

// central serve on PostgreSQL refuses a database not at this build's
// schema, saying which; on one that is, a NATS uplink nats-config did not
// record is a clear error.
func TestServeStore_RefusesUnmigratedAndNewerSchemas(t *testing.T) {
	serve := func(url string) error {
		_, err := runPrinting(t, serveCmd(), "--store", url, "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0")
		return err
	}
	url := pgtest.URL(t)
	err := serve(url)
	require.ErrorIs(t, err, pg.ErrUnmigrated)
	assert.Contains(t, err.Error(), "allimi central migrate --store")

	_, err = pg.Migrate(context.Background(), url)
	require.NoError(t, err)
	_, err = runPrinting(t, serveCmd(), "--store", url, "--keys", t.TempDir(), "--uplink", "nats://127.0.0.1:4222", "--http", "127.0.0.1:0")
	require.Error(t, err)
	assert.NotErrorIs(t, err, pg.ErrUnmigrated)
	assert.Contains(t, err.Error(), "nats-config --store")

	conn, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	_, err = conn.Exec(context.Background(), `INSERT INTO schema_migrations (version) VALUES ($1)`, pg.Version()+1)
	require.NoError(t, err)
	require.NoError(t, conn.Close(context.Background()))
	err = serve(url)
	require.ErrorIs(t, err, pg.ErrSchemaNewer)
	assert.Contains(t, err.Error(), "newer")

	_, err = runPrinting(t, serveCmd(), "--store", url, "--data", t.TempDir())
	assert.Equal(t, 2, exitCode(err), "--store with --data")
	_, err = runPrinting(t, serveCmd(), "--uplink", "tcp://h1:1883")
	assert.Equal(t, 2, exitCode(err), "--uplink takes nats:// URLs")
	_, err = runPrinting(t, serveCmd(), "--uplink", "nats://h1:4222", "--broker", "tcp://h1:1883")
	assert.Equal(t, 2, exitCode(err), "--uplink with --broker")
	_, err = runPrinting(t, serveCmd(), "--uplink-mqtt", "tcp://h1:1883")
	assert.Equal(t, 2, exitCode(err), "--uplink-mqtt without --uplink")
}

// central seed --store fills PostgreSQL as --data fills bbolt; seeding
// again adds nobody.
func TestCentralSeed_OnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	_, err := pg.Migrate(context.Background(), url)
	require.NoError(t, err)
	keys := t.TempDir()
	for range 2 {
		_, err = runPrinting(t, centralSeedCmd(), "--store", url, "--keys", keys, "--subscribers", "120", "--types", "health-checkup,relief", "--channels", "kakao,sms")
		require.NoError(t, err)
	}
	k, err := keyring.Load(keys)
	require.NoError(t, err)
	st, err := pg.Open(context.Background(), url, pg.WithKeys(k))
	require.NoError(t, err)
	defer st.Close()
	stats, err := st.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 120, stats.Subscribers)
	assert.EqualValues(t, 120, stats.Active["relief"]["sms"])
}

// portData is a stopped bbolt central with a kiosk, an agency, an
// official, two sign-ups (one unverified), a refusal and a catalog.
func portData(t *testing.T) (string, *keyring.Keys, allimi.KioskCredentials, allimi.RegistryStats, int) {
	t.Helper()
	dir := t.TempDir()
	st, keys, err := bolt.OpenData(dir, bolt.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	kc, err := st.AddKiosk("kiosk-a")
	require.NoError(t, err)
	_, err = st.AddAgency("health-centre")
	require.NoError(t, err)
	_, err = st.AddOfficial("officer-kim", false)
	require.NoError(t, err)
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var batch []allimi.Incoming
	for i, c := range []allimi.Citizen{{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"},
		{Name: "이영희", Mobile: "010-9876-5432", BirthDate: "1948-11-30"}} {
		p, err := json.Marshal(allimi.ConsentPayload{Verified: i == 0, Consents: []allimi.Consent{{Type: allimi.TypeHealthCheckup,
			Channel: allimi.ChannelSMS, Action: allimi.ActionGrant, By: allimi.Actor{Kind: allimi.ActorSelf}, At: at}}})
		require.NoError(t, err)
		e := allimi.Event{V: allimi.EventVersion, Kiosk: "kiosk-a", Seq: uint64(i + 1), HLC: allimi.NextHLC(0, at), Kind: allimi.KindSignup, Citizen: c, Payload: p}
		require.NoError(t, e.Validate(time.Now()))
		batch = append(batch, allimi.Incoming{Kiosk: "kiosk-a", Event: &e})
	}
	batch = append(batch, allimi.Incoming{Kiosk: "kiosk-a", Reject: errors.New("payload: not JSON")})
	_, err = st.Commit(batch)
	require.NoError(t, err)
	_, err = st.PutCatalog("consult-kb", 0, []byte("{}"))
	require.NoError(t, err)
	stats, err := st.Stats()
	require.NoError(t, err)
	ar, err := st.VerifyAudit()
	require.NoError(t, err)
	return dir, keys, kc, stats, ar.Entries
}

func TestCentralPort_CopiesAndChecks(t *testing.T) {
	dir, keys, kc, stats, entries := portData(t)
	url := migrated(t)
	out, err := runPrinting(t, centralPortCmd(), "--from", dir, "--to", url)
	require.NoError(t, err)
	for _, want := range []string{"kiosks: 1 ", "agencies: 1 ", "officials: 1 ", "events: 2 ", "people: 2 ", "consents: 2 ",
		"consent-log entries: 2 ", "confirmations: 1 ", "rejections: 1 ", "catalogs: 1 ", "audit entries: " + strconv.Itoa(entries) + " ",
		"notifications: 0 ", "deliveries: 0 ", "not copied:", "subs", "detail-tokens (0 entries)", filepath.Join(dir, "keys.json"), "--keys " + dir} {
		assert.Contains(t, out, want)
	}
	st := openPG(t, url, keys)
	got, err := st.Stats()
	require.NoError(t, err)
	assert.Equal(t, stats, got)
	ar, err := st.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, entries, ar.Entries)
	id, ok := st.CheckKiosk(kc.Username, kc.Password)
	assert.True(t, ok)
	assert.Equal(t, "kiosk-a", id)

	// Again: the database holds data now, and nothing changes.
	_, err = runPrinting(t, centralPortCmd(), "--from", dir, "--to", url)
	require.ErrorIs(t, err, pg.ErrNotEmpty)
	again, err := st.Stats()
	require.NoError(t, err)
	assert.Equal(t, stats, again)
}

func TestCentralPort_Refuses(t *testing.T) {
	dir, _, _, _, _ := portData(t)
	url := migrated(t)
	_, err := runPrinting(t, centralPortCmd(), "--to", url)
	assert.Equal(t, 2, exitCode(err), "--from is required")
	_, err = runPrinting(t, centralPortCmd(), "--from", dir)
	assert.Equal(t, 2, exitCode(err), "--to is required")
	_, err = runPrinting(t, centralPortCmd(), "--from", t.TempDir(), "--to", url)
	require.Error(t, err, "no central.db")

	st, _, err := bolt.OpenData(dir, bolt.StoreOptions{})
	require.NoError(t, err)
	_, err = runPrinting(t, centralPortCmd(), "--from", dir, "--to", url)
	assert.ErrorIs(t, err, bolt.ErrInUse, "central running")
	require.NoError(t, st.Close())

	_, err = runPrinting(t, centralPortCmd(), "--from", dir, "--to", pgtest.URL(t))
	assert.ErrorIs(t, err, pg.ErrUnmigrated)
}

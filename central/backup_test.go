package central_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/internal/loadgen"
)

func TestBackup_WhileServingThenRestoredElsewhere(t *testing.T) {
	f := newKioskFixture(t)
	for i := uint64(1); i <= 20; i++ {
		_, err := f.outbox.Append(loadgen.Signup("sejong-01", i, []allimi.Channel{allimi.ChannelKakao}, time.Now()))
		require.NoError(t, err)
	}
	require.NoError(t, f.sender.WaitDrained(context.Background()))
	want := f.statsJSON(t)
	require.EqualValues(t, 20, want.Subscribers)

	req, _ := http.NewRequest(http.MethodGet, "http://"+f.srv.HTTPAddr()+"/api/v1/backup", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "admins only")

	req.Header.Set("Authorization", "Bearer "+f.admin)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	backup := filepath.Join(t.TempDir(), "central-backup.db")
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(backup, b, 0o600))
	require.NoError(t, central.VerifyBackup(backup))

	truncated := backup + ".short"
	require.NoError(t, os.WriteFile(truncated, b[:len(b)/2], 0o600))
	assert.ErrorContains(t, central.VerifyBackup(truncated), "cut off", "a cut-off copy is refused")
	damaged := append([]byte{}, b...)
	for i := 4 * 4096; i < len(damaged) && i < 12*4096; i++ {
		damaged[i] = 0xa5
	}
	require.NoError(t, os.WriteFile(truncated, damaged, 0o600))
	assert.ErrorContains(t, central.VerifyBackup(truncated), "damaged", "a scribbled copy is refused, without a crash")

	// Restored into another directory with the same keys, it serves the
	// same registry.
	_, got := restoreElsewhere(t, f.data, backup)
	assert.Equal(t, want.Subscribers, got.Subscribers)
	assert.Equal(t, want.Active, got.Active)

	// The running central's directory is not touched by a restore.
	assert.ErrorIs(t, central.Restore(f.data, backup), bolt.ErrInUse)
	_, _, err = central.Compact(f.data)
	assert.ErrorIs(t, err, bolt.ErrInUse)
}

func TestRestore_RefusesABackupOfAnotherCentral(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	backup := seededBackup(t, a, 3)

	sb, _, err := bolt.OpenData(b, bolt.StoreOptions{}) // other keys
	require.NoError(t, err)
	require.NoError(t, loadgen.Seed(sb, 1, []allimi.NotificationType{allimi.TypeHealthCheckup}, []allimi.Channel{allimi.ChannelSMS}))
	require.NoError(t, sb.Close())

	err = central.Restore(b, backup)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "other keys")
	sb, _, err = bolt.OpenData(b, bolt.StoreOptions{})
	require.NoError(t, err)
	st, err := sb.Stats()
	require.NoError(t, err)
	require.NoError(t, sb.Close())
	assert.EqualValues(t, 1, st.Subscribers, "b's own data is untouched")

	// Compact keeps the data.
	before, after, err := central.Compact(a)
	require.NoError(t, err)
	assert.LessOrEqual(t, after, before)
	sa, _, err := bolt.OpenData(a, bolt.StoreOptions{})
	require.NoError(t, err)
	st, err = sa.Stats()
	require.NoError(t, err)
	require.NoError(t, sa.Close())
	assert.EqualValues(t, 3, st.Subscribers)
}

// A backup from an older central, without the buckets added since, is
// restored, and the restored store has them; a bbolt file that is not a
// central database is refused.
func TestRestore_BackupOfAnOlderCentral(t *testing.T) {
	a := t.TempDir()
	backup := seededBackup(t, a, 2)

	// As an older build wrote it: without the later buckets.
	db, err := bbolt.Open(backup, 0o600, nil)
	require.NoError(t, err)
	later := []string{"questions", "qchunks", "qcodes", "qaudio", "qsend", "officials", "enrolments", "audit"}
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		for _, name := range later {
			require.NoError(t, tx.DeleteBucket([]byte(name)), name)
		}
		return nil
	}))
	require.NoError(t, db.Close())
	require.NoError(t, central.VerifyBackup(backup))

	b, st := restoreElsewhere(t, a, backup)
	assert.EqualValues(t, 2, st.Subscribers)
	db, err = bbolt.Open(filepath.Join(b, bolt.DBFile), 0o600, &bbolt.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, db.View(func(tx *bbolt.Tx) error {
		for _, name := range later {
			assert.NotNil(t, tx.Bucket([]byte(name)), "opening created %s", name)
		}
		return nil
	}))
	require.NoError(t, db.Close())

	other := filepath.Join(t.TempDir(), "other.db")
	db, err = bbolt.Open(other, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("things")); return err }))
	require.NoError(t, db.Close())
	assert.ErrorContains(t, central.VerifyBackup(other), "not a central database")
}

// seededBackup makes a central data directory dir with n subscribers and
// returns the path of a backup of it, taken with central stopped.
func seededBackup(t *testing.T, dir string, n int) string {
	t.Helper()
	st, _, err := bolt.OpenData(dir, bolt.StoreOptions{})
	require.NoError(t, err)
	require.NoError(t, loadgen.Seed(st, n, []allimi.NotificationType{allimi.TypeHealthCheckup}, []allimi.Channel{allimi.ChannelKakao}))
	backup := filepath.Join(t.TempDir(), "backup.db")
	out, err := os.Create(backup)
	require.NoError(t, err)
	_, err = st.WriteBackup(out)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	require.NoError(t, st.Close())
	return backup
}

// restoreElsewhere restores backup into a new data directory with the keys
// of data directory from, as on a replacement machine, and returns the
// directory and the restored registry's statistics.
func restoreElsewhere(t *testing.T, from, backup string) (string, allimi.RegistryStats) {
	t.Helper()
	dir := t.TempDir()
	keys, err := os.ReadFile(filepath.Join(from, "keys.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys.json"), keys, 0o600))
	require.NoError(t, central.Restore(dir, backup))
	st, _, err := bolt.OpenData(dir, bolt.StoreOptions{})
	require.NoError(t, err)
	stats, err := st.Stats()
	require.NoError(t, err)
	require.NoError(t, st.Close())
	return dir, stats
}

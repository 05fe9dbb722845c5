package pg

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/internal/pgtest"
)

func versions(n int) []int {
	vs := make([]int, n)
	for i := range vs {
		vs[i] = i + 1
	}
	return vs
}

func TestMigrations_NumberedWithoutAGap(t *testing.T) {
	ms, err := migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	assert.Equal(t, len(ms), Version())

	for name, files := range map[string]fstest.MapFS{
		"a gap":        {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"twice":        {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
		"not from one": {"m/0002_b.sql": {}},
		"misnamed":     {"m/0001_a.sql": {}, "m/2_b.sql": {}},
	} {
		_, err := readMigrations(files, "m")
		assert.Error(t, err, name)
	}
	ms, err = readMigrations(fstest.MapFS{"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}}, "m")
	require.NoError(t, err)
	assert.Equal(t, []migration{{1, "0001_a.sql", "A"}, {2, "0002_b.sql", "B"}}, ms, "in order")
}

func TestOpen_RefusesAnUnmigratedDatabase(t *testing.T) {
	url := pgtest.URL(t)
	_, err := Open(context.Background(), url)
	require.ErrorIs(t, err, ErrUnmigrated)
	assert.Contains(t, err.Error(), "is not migrated")
	assert.Contains(t, err.Error(), "run `allimi central migrate --store "+url+"`")
	assert.NotErrorIs(t, err, ErrSchemaNewer)
}

func TestOpen_RefusesADatabaseMigratedHalfway(t *testing.T) {
	// The last migration's record gone: the database lacks it.
	url := pgtest.URL(t)
	_, err := Migrate(context.Background(), url)
	require.NoError(t, err)
	exec(t, url, `DELETE FROM schema_migrations WHERE version = $1`, Version())
	_, err = Open(context.Background(), url)
	require.ErrorIs(t, err, ErrUnmigrated)
}

func TestOpen_RefusesASchemaNewerThanThisBuild(t *testing.T) {
	url := pgtest.URL(t)
	_, err := Migrate(context.Background(), url)
	require.NoError(t, err)
	exec(t, url, `INSERT INTO schema_migrations (version) VALUES ($1)`, Version()+1)
	_, err = Open(context.Background(), url)
	require.ErrorIs(t, err, ErrSchemaNewer)
	assert.Contains(t, err.Error(), "upgrade allimi")
	_, err = Migrate(context.Background(), url)
	require.ErrorIs(t, err, ErrSchemaNewer, "an older build's migrate leaves it alone")
}

func TestMigrate_TwiceAppliesNothing(t *testing.T) {
	url := pgtest.URL(t)
	applied, err := Migrate(context.Background(), url)
	require.NoError(t, err)
	assert.Equal(t, versions(Version()), applied)
	applied, err = Migrate(context.Background(), url)
	require.NoError(t, err)
	assert.Empty(t, applied)

	c, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer c.Close(context.Background())
	var n int
	require.NoError(t, c.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations WHERE applied_at <= now()`).Scan(&n))
	assert.Equal(t, Version(), n, "each recorded once, with when")

	st, err := Open(context.Background(), url)
	require.NoError(t, err)
	require.NoError(t, st.Close())
}

func TestMigrate_ConcurrentMigratorsApplyEachMigrationOnce(t *testing.T) {
	url := pgtest.URL(t)
	const migrators = 4
	var wg sync.WaitGroup
	got := make([][]int, migrators)
	errs := make([]error, migrators)
	for i := range migrators {
		wg.Go(func() { got[i], errs[i] = Migrate(context.Background(), url) })
	}
	wg.Wait()
	var all []int
	for i := range migrators {
		require.NoError(t, errs[i], "migrator %d", i)
		all = append(all, got[i]...)
	}
	assert.ElementsMatch(t, versions(Version()), all, "every migration applied, by one migrator")
}

func exec(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	defer c.Close(context.Background())
	_, err = c.Exec(context.Background(), sql, args...)
	require.NoError(t, err)
}

package pgtest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childEnv makes the test binary a child that starts a server, prints the
// postmaster's pid and its directory, and waits to be killed.
const childEnv = "ALLIMI_PGTEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		s, err := get()
		if err != nil {
			println(err.Error())
			os.Exit(1)
		}
		os.Stdout.WriteString(strconv.Itoa(s.cmd.Process.Pid) + " " + s.dir + "\n")
		select {}
	}
	Main(m)
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestURL_EachTestGetsAFreshEmptyDatabase(t *testing.T) {
	a, b := URL(t), URL(t)
	assert.NotEqual(t, a, b)
	assert.Contains(t, a, "host="+strings.ReplaceAll(running.dir, "/", "%2F"), "the unix socket's directory")
	ca, cb := connect(t, a), connect(t, b)
	ctx := context.Background()
	var tables int
	require.NoError(t, ca.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables))
	assert.Zero(t, tables, "empty")
	_, err := ca.Exec(ctx, `CREATE TABLE t (x int)`)
	require.NoError(t, err)
	require.NoError(t, cb.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables))
	assert.Zero(t, tables, "a table of another test's database is not here")
}

func TestURL_RealisticServerOnASocketOnly(t *testing.T) {
	c := connect(t, URL(t))
	ctx := context.Background()
	for setting, want := range map[string]string{"fsync": "on", "synchronous_commit": "on", "listen_addresses": "", "server_encoding": "UTF8"} {
		var got string
		require.NoError(t, c.QueryRow(ctx, `SELECT current_setting($1)`, setting).Scan(&got))
		assert.Equal(t, want, got, setting)
	}
	_, err := os.Stat(filepath.Join(running.dir, ".s.PGSQL.5432"))
	assert.NoError(t, err, "the socket is in the server's directory")
	if os.Geteuid() == 0 {
		fi, err := os.Stat(filepath.Join(running.dir, "data"))
		require.NoError(t, err)
		assert.NotZero(t, fi.Sys().(*syscall.Stat_t).Uid, "run as root, the server runs as user postgres")
	}
}

func TestURL_DatabaseDroppedWhenTheTestEnds(t *testing.T) {
	var name string
	t.Run("uses a database", func(t *testing.T) {
		url := URL(t)
		connect(t, url) // left open: the drop ends it
		name = url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	})
	var n int
	require.NoError(t, connect(t, running.url("postgres")).QueryRow(context.Background(),
		`SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n))
	assert.Zero(t, n, "database %s dropped", name)
}

// A test binary killed outright takes its server with it, and the next
// one removes the directory it left.
func TestServerDiesWithItsTestBinary(t *testing.T) {
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=1")
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	pidText, dir, _ := strings.Cut(strings.TrimSpace(line), " ")
	pid, err := strconv.Atoi(pidText)
	require.NoError(t, err)
	require.True(t, alive(pid), "the child's postmaster runs")

	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	require.Eventually(t, func() bool { return !alive(pid) }, 30*time.Second, 50*time.Millisecond,
		"postmaster %d outlived its test binary", pid)
	_, err = os.Stat(dir)
	require.NoError(t, err, "the killed binary could not clean up")
	removeStale()
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "the next binary removes what it left")
}

// Package pgtest gives tests a real PostgreSQL server, without the network:
// one server per test binary, started on first use from the Debian
// package's binaries (/usr/lib/postgresql/N/bin, the newest N) in a
// temporary directory, listening only on a unix socket there, and a fresh,
// empty database for each test.
//
// initdb and postgres refuse to run as root, and this project's machines
// and CI run the tests as root: then both run as the `postgres` system
// user (the Debian package creates it), which owns the directory.
//
// A package using it calls Main from its TestMain, which stops the server
// when the tests end. A test binary that dies without reaching it (a panic
// in a test's goroutine, a kill -9, a timeout) takes the server down too:
// postgres is started with a parent-death signal, SIGQUIT (PostgreSQL's
// immediate shutdown), delivered by the kernel when the thread that
// started it ends, and that thread is kept for the server's lifetime. What
// such a binary leaves in the temporary directory is removed by the next
// binary that starts a server.
//
// The server runs with PostgreSQL's defaults, fsync and synchronous commit
// on, as in production (measured on a 2-core CI machine: initdb some 1.2 s
// once per binary, 0.15 s of it syncing; the server ready some 50 ms
// later; a database created in 0.05-0.2 s, PostgreSQL 15's WAL_LOG copy of
// template1): turning durability off would save little, and would test
// something else than what runs. The cluster is C locale, UTF-8, with
// trust authentication: only its owner (and root) can reach the socket's
// directory.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dirPrefix names the servers' directories under os.TempDir. Their paths
// stay short: a unix socket's path has room for 107 bytes.
const dirPrefix = "allimi-pgtest-"

var (
	once     sync.Once
	running  *server
	startErr error
	dbs      atomic.Int64
)

// server is the test binary's PostgreSQL.
type server struct {
	dir    string        // holds data/, the socket, postgres.log and owner
	cmd    *exec.Cmd     // the postmaster
	exited chan struct{} // closed when the postmaster has exited
	mu     sync.Mutex    // serialises admin
	admin  *pgx.Conn     // to database postgres, for CREATE and DROP
}

// Main runs the tests and stops the server, if one started, before the
// binary exits. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the server, if one started, and removes its directory.
// Main calls it; a test never needs to.
func Stop() {
	once.Do(func() { startErr = errors.New("pgtest: stopped") })
	if running != nil {
		running.stop()
	}
}

// URL creates a fresh, empty database for t and returns its connection
// URL (postgres://postgres@/NAME?host=SOCKETDIR); the database is dropped
// when t ends, whatever connections are still open to it. The first call
// in a binary starts the server. t fails when it cannot.
func URL(t testing.TB) string {
	t.Helper()
	s, err := get()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := fmt.Sprintf("test_%d", dbs.Add(1))
	if err := s.exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE ends what a test left connected, so the drop cannot wait.
		if err := s.exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.url(name)
}

// Database creates a fresh, empty database named name (letters, digits
// and _) outside any test, for programs such as pgrun, and returns its
// URL; Stop drops it with the server.
func Database(name string) (string, error) {
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return "", fmt.Errorf("pgtest: database name %q: lower-case letters, digits and _ only", name)
		}
	}
	s, err := get()
	if err != nil {
		return "", err
	}
	if err := s.exec("CREATE DATABASE " + name); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.url(name), nil
}

func get() (*server, error) {
	once.Do(func() { running, startErr = start() })
	if startErr != nil {
		return nil, startErr
	}
	select {
	case <-running.exited:
		return nil, fmt.Errorf("postgres exited: see %s", filepath.Join(running.dir, "postgres.log"))
	default:
	}
	return running, nil
}

func (s *server) url(db string) string {
	return "postgres://postgres@/" + db + "?host=" + url.QueryEscape(s.dir) + "&sslmode=disable"
}

func (s *server) exec(sql string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.admin.Exec(ctx, sql)
	return err
}

// binDir is the newest /usr/lib/postgresql/N/bin with initdb and postgres.
func binDir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	best, bestN := "", -1
	for _, p := range found {
		dir := filepath.Dir(p)
		n, err := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		if err != nil || n <= bestN {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			best, bestN = dir, n
		}
	}
	if best == "" {
		return "", errors.New("no PostgreSQL in /usr/lib/postgresql/*/bin: install Debian's postgresql (scripts/deps.sh)")
	}
	return best, nil
}

// runAs is who initdb and postgres run as: nil for this process's user,
// the postgres system user when this process is root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and initdb and postgres refuse root: they run as user postgres, but: %w (install Debian's postgresql, which creates it)", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// reachable checks that user cred can walk down to dir: each directory
// above it searchable by others, or by cred's user or group.
func reachable(dir string, cred *syscall.Credential) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		m := fi.Mode().Perm()
		ok := m&0o001 != 0 || (st != nil && st.Uid == cred.Uid && m&0o100 != 0) || (st != nil && st.Gid == cred.Gid && m&0o010 != 0)
		if !ok {
			return fmt.Errorf("user postgres cannot reach %s: %s is %s; set TMPDIR to a directory it can reach, such as /tmp", dir, d, m)
		}
		if d == "/" {
			return nil
		}
	}
}

func start() (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	// owner names the binary the directory belongs to, for removeStale.
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := reachable(dir, cred); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		// MkdirTemp made it 0700, root's: postgres gets it, and postgres
		// wants its data directory 0700 too (initdb makes data/ so).
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	s := &server{dir: dir, exited: make(chan struct{})}
	if err := s.initdb(bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.run(bin, cred); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// env is the whole environment of initdb and postgres: none of the test's
// PG* variables, and no locale but C.
func env() []string { return []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"} }

func (s *server) initdb(bin string, cred *syscall.Credential) error {
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(s.dir, "data"),
		"-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions")
	cmd.Dir, cmd.Env = s.dir, env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// run starts the postmaster and waits until it takes connections.
func (s *server) run(bin string, cred *syscall.Credential) error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-c", "listen_addresses=", "-k", s.dir)
	s.cmd.Dir, s.cmd.Env = s.dir, env()
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Setpgid keeps a terminal's ^C for the test binary, which stops the
	// server itself; Pdeathsig is delivered when the starting thread ends.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal belongs to the thread that forked, not
		// the process: this goroutine keeps its thread until the server
		// exits, and only then lets it go (returning while locked ends it).
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			close(s.exited)
			return
		}
		started <- nil
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.admin, err = pgx.Connect(ctx, s.url("postgres"))
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited at start: %s", s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres takes no connections after 30 s (%v): %s", err, s.logTail())
		}
	}
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// stop asks for a fast shutdown (SIGINT: sessions end, a checkpoint is
// written), then an immediate one, then kills; and removes the directory.
func (s *server) stop() {
	if s.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = s.admin.Close(ctx)
		cancel()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		for _, sig := range []os.Signal{os.Interrupt, syscall.SIGQUIT, os.Kill} {
			_ = s.cmd.Process.Signal(sig)
			if s.waitExit(10 * time.Second) {
				break
			}
		}
	}
	os.RemoveAll(s.dir)
}

// waitExit waits up to d for the postmaster to exit.
func (s *server) waitExit(d time.Duration) bool {
	select {
	case <-s.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// removeStale removes what binaries that died without stopping their
// server left in the temporary directory: directories whose owner and
// postmaster are both gone.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		if alive(readPID(filepath.Join(d, "owner"))) || alive(readPID(filepath.Join(d, "data", "postmaster.pid"))) {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "owner")); err != nil {
			// Being set up (owner comes right after the directory), or
			// left by a binary that died in between: give it an hour.
			if fi, err := os.Stat(d); err != nil || time.Since(fi.ModTime()) < time.Hour {
				continue
			}
		}
		os.RemoveAll(d)
	}
}

// readPID reads the number on a file's first line, 0 when none.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	n, _ := strconv.Atoi(strings.TrimSpace(first))
	return n
}

// alive says whether process pid exists (and is not a zombie).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !slices.Contains([]string{"Z", "X"}, strings.SplitN(after, " ", 2)[0])
}

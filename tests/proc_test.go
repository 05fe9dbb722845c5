package tests

import (
	"allimi/internal/testaddr"

	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// proc is a program under test, its output in a log file shown when the test fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // standard error
	out  string // standard output
	done chan struct{}
	err  error
}

// start starts program bin with args as a proc.
func start(t *testing.T, name string, bin string, args ...string) *proc {
	t.Helper()
	return startCmd(t, name, exec.Command(bin, args...))
}

// startCmd starts cmd as a proc: its output in log files, shown when the
// test fails, and killed (SIGKILL) when the test ends. Every process the
// tests start goes through it.
func startCmd(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	dir := t.TempDir()
	p := &proc{name: name, cmd: cmd, log: filepath.Join(dir, name+".log"), out: filepath.Join(dir, name+".out"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	require.NoError(t, err)
	o, err := os.Create(p.out)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = o, f
	require.NoError(t, cmd.Start(), "start %s", name)
	go func() {
		p.err = cmd.Wait()
		f.Close()
		o.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("---- %s log ----\n%s", name, tail(p.logText(), 4000))
		}
	})
	return p
}

// kill cuts the process with SIGKILL, as a power cut would, and waits for it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// wait waits for the process to exit on its own.
func (p *proc) wait(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("%s still running after %s", p.name, limit)
	}
}

// output is what the process wrote on standard output.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.out)
	return string(b)
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// runAllimi runs bin/allimi to completion and returns its standard output.
func runAllimi(t *testing.T, args ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(allimiBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "allimi %s: %s", strings.Join(args, " "), errb.String())
	return out.Bytes()
}

type kioskCred struct {
	ID, Username, Password, CatalogKey string
}

func addKiosk(t *testing.T, data, id string) kioskCred {
	t.Helper()
	var c kioskCred
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "kiosk", "add", "--data", data, "--id", id, "--json"), &c))
	require.Equal(t, id, c.ID)
	require.NotEmpty(t, c.Password)
	return c
}

// central is a `bin/allimi central serve` process.
type central struct {
	*proc
	data, mqtt, http string
	args             []string
}

func startCentral(t *testing.T, data string, extra ...string) *central {
	t.Helper()
	c := &central{data: data, mqtt: testaddr.Free(t), http: testaddr.Free(t), args: extra}
	c.start(t)
	return c
}

func (c *central) start(t *testing.T) {
	t.Helper()
	args := append([]string{"central", "serve", "--data", c.data, "--mqtt", c.mqtt, "--http", c.http}, c.args...)
	c.proc = start(t, "central", allimiBin, args...)
	c.waitHealthy(t)
}

// waitHealthy polls /healthz until central answers 200 (connected to its broker).
func (c *central) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			t.Fatalf("central exited: %v\n%s", c.err, tail(c.logText(), 2000))
		default:
		}
		resp, err := http.Get("http://" + c.http + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("central not healthy within 30 s")
}

type stats struct {
	Subscribers int64 `json:"subscribers"`
	Records     struct {
		Stored, Duplicates, Rejected int64
	} `json:"records"`
}

func (c *central) stats(t *testing.T) stats {
	t.Helper()
	resp := adminGet(t, http.DefaultClient, "http://"+c.http+"/api/v1/stats", c.data)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s stats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

// waitStored polls until central has stored at least n records and returns
// the count it saw.
func (c *central) waitStored(t *testing.T, n int64) int64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s := c.stats(t); s.Records.Stored >= n {
			return s.Records.Stored
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("central did not store %d records within 60 s", n)
	return 0
}

type simResult struct {
	Enqueued, Acked, Pending int
}

func simArgs(broker string, cred kioskCred, data string, extra ...string) []string {
	return append([]string{"kiosk-sim", "--broker", broker, "--id", cred.ID, "--username", cred.Username,
		"--password", cred.Password, "--data", data, "--json"}, extra...)
}

func parseSim(t *testing.T, out string) simResult {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r simResult
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &r), "kiosk-sim output: %s", out)
	return r
}

// pendingOnDisk reads the kiosk's outbox from its file, without a network.
func pendingOnDisk(t *testing.T, broker string, cred kioskCred, data string) int {
	t.Helper()
	return parseSim(t, string(runAllimi(t, simArgs(broker, cred, data, "--signups", "0")...))).Pending
}

// Package natstest runs real NATS servers (bin/nats-server, built from the
// Go module go.mod pins) for tests: a single server or a cluster with
// JetStream on loopback, on free ports, from configuration files written
// by central/natsconf as `allimi central nats-config` writes them. Each
// server is stopped when its test ends; a test may reload one's file or
// kill it with SIGKILL.
package natstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/central/natsconf"
	"allimi/internal/testaddr"
	"allimi/internal/testlog"
)

// ReadyTimeout bounds how long a server (or a cluster's JetStream) may take
// to become ready.
const ReadyTimeout = 60 * time.Second

// Server is one running nats-server process.
type Server struct {
	// Config is what its file says; File is the file.
	Config natsconf.Config
	File   string

	bin  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  *testlog.Buffer // the server's output, written by the process's copier and read by the test
}

// ClientURL is the server's NATS client URL, nats://host:port.
func (s *Server) ClientURL() string { return "nats://" + s.Config.Listen }

// MQTTURL is the server's MQTT URL as paho takes it, tcp://host:port.
func (s *Server) MQTTURL() string { return "tcp://" + s.Config.MQTT }

// PID is the server process's id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log is what the server has logged so far.
func (s *Server) Log() string { return s.log.String() }

// Single is the configuration of one server with JetStream on free
// loopback ports, a monitoring listener (for readiness), central's user
// with centralPassword and the kiosks given.
func Single(t testing.TB, centralPassword string, kiosks ...allimi.KioskUser) natsconf.Config {
	t.Helper()
	return natsconf.Config{
		Name:                "allimi-test-" + strconv.Itoa(os.Getpid()),
		Listen:              testaddr.Free(t),
		Monitor:             testaddr.Free(t),
		MQTT:                testaddr.Free(t),
		JetStreamDir:        t.TempDir(),
		CentralPasswordHash: Hash(t, centralPassword),
		Kiosks:              kiosks,
	}
}

// Cluster is the configuration of n servers that route to each other, as
// Single's; their MQTT streams are kept on min(n, 3) of them.
func Cluster(t testing.TB, n int, centralPassword string, kiosks ...allimi.KioskUser) []natsconf.Config {
	t.Helper()
	hash := Hash(t, centralPassword)
	cfgs := make([]natsconf.Config, n)
	routes := make([]string, n)
	for i := range cfgs {
		c := Single(t, centralPassword, kiosks...)
		c.Name = fmt.Sprintf("allimi-test-%d-n%d", os.Getpid(), i+1)
		c.CentralPasswordHash = hash
		c.Cluster = &natsconf.Cluster{Name: "allimi-test", Listen: testaddr.Free(t)}
		routes[i] = "nats://" + c.Cluster.Listen
		cfgs[i] = c
	}
	for i := range cfgs {
		cfgs[i].Cluster.Routes = routes
	}
	return cfgs
}

// Hash is a bcrypt hash of password at the lowest cost, which the server
// checks like any other: tests need not spend 60 ms on each login.
func Hash(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("natstest: bcrypt: %v", err)
	}
	return string(h)
}

// Start writes cfg into a file of the test's own and runs a server with
// it until the test ends; it returns once the server is ready (Ready).
func Start(t testing.TB, cfg natsconf.Config) *Server {
	t.Helper()
	file := filepath.Join(t.TempDir(), "nats.conf")
	if err := cfg.Write(file); err != nil {
		t.Fatalf("natstest: %v", err)
	}
	s := Run(t, file, cfg)
	s.Ready(t)
	return s
}

// StartCluster starts a server for each configuration, all at once (a
// JetStream cluster waits for its peers), and returns once each is ready.
func StartCluster(t testing.TB, cfgs []natsconf.Config) []*Server {
	t.Helper()
	servers := make([]*Server, len(cfgs))
	for i, c := range cfgs {
		file := filepath.Join(t.TempDir(), "nats.conf")
		if err := c.Write(file); err != nil {
			t.Fatalf("natstest: %v", err)
		}
		servers[i] = Run(t, file, c)
	}
	for _, s := range servers {
		s.Ready(t)
	}
	return servers
}

// Run runs a server with a file already written (by `allimi central
// nats-config`, say), whose settings cfg repeats, until the test ends. It
// does not wait for the server to be ready.
func Run(t testing.TB, file string, cfg natsconf.Config) *Server {
	t.Helper()
	s := &Server{Config: cfg, File: file, bin: Binary(t), done: make(chan struct{}), log: &testlog.Buffer{}}
	s.start(t)
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "-c", s.File)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.done = make(chan struct{})
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("natstest: start %s: %v", s.bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
}

// Restart starts the server again, with the same file and directory,
// after Kill; it returns once the server is ready.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	select {
	case <-s.done:
	default:
		t.Fatalf("natstest: %s is still running", s.Config.Name)
	}
	fmt.Fprintf(s.log, "--- natstest: restarted ---\n")
	s.start(t)
	s.Ready(t)
}

// Exited says whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Ready waits until the server answers its /healthz (JetStream current,
// in a cluster with a leader) and its MQTT listener takes connections.
func (s *Server) Ready(t testing.TB) {
	t.Helper()
	if s.Config.Monitor == "" {
		t.Fatalf("natstest: %s has no monitoring listener to ask whether it is ready", s.Config.Name)
	}
	deadline := time.Now().Add(ReadyTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer"
	for time.Now().Before(deadline) {
		if s.Exited() {
			t.Fatalf("natstest: %s exited: %v\n%s", s.Config.Name, s.err, s.Log())
		}
		resp, err := client.Get("http://" + s.Config.Monitor + "/healthz")
		if err == nil {
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%s %s", resp.Status, strings.TrimSpace(body.String()))
			if resp.StatusCode == http.StatusOK {
				if c, err := net.DialTimeout("tcp", s.Config.MQTT, time.Second); err == nil {
					c.Close()
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("natstest: %s not ready within %s (healthz: %s)\n%s", s.Config.Name, ReadyTimeout, last, s.Log())
}

// Reload replaces the server's file with cfg (atomically, as nats-config
// does) and has the server reload it the documented way, `nats-server
// --signal reload=PID`; it returns once the server has applied it.
func (s *Server) Reload(t testing.TB, cfg natsconf.Config) {
	t.Helper()
	if err := cfg.Write(s.File); err != nil {
		t.Fatalf("natstest: %v", err)
	}
	s.Config = cfg
	s.Signal(t)
}

// Signal has the server reload its file as it stands and waits until the
// server says it has.
func (s *Server) Signal(t testing.TB) {
	t.Helper()
	before := strings.Count(s.Log(), "Reloaded server configuration")
	out, err := exec.Command(s.bin, "--signal", "reload="+strconv.Itoa(s.PID())).CombinedOutput()
	if err != nil {
		t.Fatalf("natstest: nats-server --signal reload=%d: %v %s", s.PID(), err, out)
	}
	deadline := time.Now().Add(ReadyTimeout)
	for time.Now().Before(deadline) {
		log := s.Log()
		if strings.Count(log, "Reloaded server configuration") > before {
			return
		}
		if i := strings.LastIndex(log, "Failed to reload server configuration"); i >= 0 && strings.Count(log[:i], "Reloaded server configuration") >= before {
			t.Fatalf("natstest: %s refused the new file:\n%s", s.Config.Name, tail(log, 20))
		}
		if s.Exited() {
			t.Fatalf("natstest: %s exited on reload: %v\n%s", s.Config.Name, s.err, tail(log, 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("natstest: %s did not reload within %s\n%s", s.Config.Name, ReadyTimeout, tail(s.Log(), 40))
}

// Kill ends the server with SIGKILL and waits for it: no shutdown, no
// flush, like a power cut of its process.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if s.Exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	fmt.Fprintf(s.log, "--- natstest: killed with SIGKILL ---\n")
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s) and, when the
// test failed, logs the end of what it said.
func (s *Server) stop(t testing.TB) {
	if !s.Exited() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Signal(syscall.SIGKILL)
			<-s.done
		}
	}
	if t.Failed() {
		t.Logf("natstest: %s log:\n%s", s.Config.Name, tail(s.Log(), 60))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// Binary is bin/nats-server: $ALLIMI_BIN/nats-server when ALLIMI_BIN is set
// (make test sets it, after make build), else built once per go.mod and
// go.sum from the pinned module into a directory under the system's
// temporary directory, and reused by later runs.
func Binary(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("ALLIMI_BIN"); dir != "" {
		bin := filepath.Join(dir, "nats-server")
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("natstest: %s missing: run make build", bin)
		}
		return bin
	}
	buildOnce.Do(func() { built, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("natstest: %v", buildErr)
	}
	return built
}

func build() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the allimi module: set ALLIMI_BIN to the directory of bin/nats-server")
	}
	root := filepath.Dir(gomod)
	var key []byte
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		key = append(key, b...)
	}
	sum := fnv.New64a()
	sum.Write(key)
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("allimi-natstest-%d", os.Getuid()), fmt.Sprintf("%x", sum.Sum64()))
	bin := filepath.Join(dir, "nats-server")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	// Built beside its final name and renamed: another test process may
	// be building the same binary.
	tmp := filepath.Join(dir, fmt.Sprintf("nats-server.%d.tmp", os.Getpid()))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, "github.com/nats-io/nats-server/v2")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build nats-server: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// mqttStreams are the JetStream streams a server's MQTT listener keeps
// sessions, QoS 1 messages and retained messages in. The server makes them
// when the first MQTT client connects; their leaders are elected after.
var mqttStreams = []string{"$MQTT_sess", "$MQTT_msgs", "$MQTT_rmsgs"}

// WaitMQTTStreams waits until s reports the MQTT streams, each (in a
// cluster) with a leader. Until then a retained
// message sent to the server is lost to its 20 s store timeout and never
// acknowledged. Call it after an MQTT client has connected.
func (s *Server) WaitMQTTStreams(t testing.TB) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(ReadyTimeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		var missing []string
		missing, last = s.unledStreams(client)
		if last == "" && len(missing) == 0 {
			return
		}
		if last == "" {
			last = "not led: " + strings.Join(missing, ", ")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("natstest: %s: MQTT streams not ready within %s (%s)\n%s", s.Config.Name, ReadyTimeout, last, tail(s.Log(), 40))
}

// unledStreams names the MQTT streams s does not report with a leader; problem is why it could not tell ("" when it could).
func (s *Server) unledStreams(client *http.Client) (missing []string, problem string) {
	resp, err := client.Get("http://" + s.Config.Monitor + "/jsz?streams=true")
	if err != nil {
		return nil, err.Error()
	}
	defer resp.Body.Close()
	var jsz struct {
		AccountDetails []struct {
			Streams []struct {
				Name    string `json:"name"`
				Cluster *struct {
					Leader string `json:"leader"`
				} `json:"cluster"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jsz); err != nil {
		return nil, "jsz: " + err.Error()
	}
	ready := map[string]bool{}
	for _, a := range jsz.AccountDetails {
		for _, st := range a.Streams {
			// A follower's view of the other replicas is not to be
			// trusted (it says "not current" of healthy peers); that
			// each server knows a leader is what matters.
			ready[st.Name] = st.Cluster == nil || st.Cluster.Leader != ""
		}
	}
	for _, name := range mqttStreams {
		if !ready[name] {
			missing = append(missing, name)
		}
	}
	return missing, ""
}

// Kiosk is a kiosk's login as a server's configuration holds it (the
// bcrypt hash of its password) and the password it logs in with.
type Kiosk struct {
	allimi.KioskUser
	Password string
}

// NewKiosk is kiosk id with a password of its own.
func NewKiosk(t testing.TB, id string) Kiosk {
	pw := "pw-" + id
	return Kiosk{KioskUser: allimi.KioskUser{ID: id, Username: allimi.KioskUsername(id), PasswordHash: Hash(t, pw)}, Password: pw}
}

// Users are the kiosks' logins, for a configuration.
func Users(ks ...Kiosk) []allimi.KioskUser {
	out := make([]allimi.KioskUser, len(ks))
	for i, k := range ks {
		out[i] = k.KioskUser
	}
	return out
}

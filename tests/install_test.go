package tests

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The install test: both .deb files go into a Debian 12 tree (debootstrap's
// minbase, built once by scripts/debian-tree.sh and cached outside the
// repository), central is started from its installed unit, and a second,
// higher version is installed over the first. Each run works on an overlay
// of the cached tree, so the cache is never written to.
//
// There is no systemd in a chroot: the test reads the unit and does what
// systemd would (the state directory with its owner and mode, the user and
// group, the umask, the environment, exactly the ExecStart command line),
// in a network namespace of its own so that central's configured ports
// (8080, 1883) cannot clash with anything on this machine.
func TestInstall_DebianTreeInstallsServesFromTheUnitAndUpgradesKeepingDataAndConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installing into a Debian tree needs root (chroot, mount, network namespace); make test runs as root on CI")
	}
	for _, tool := range []string{"debootstrap", "dpkg-deb", "unshare", "ip", "patchelf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run scripts/deps.sh", tool)
		}
	}
	dist := t.TempDir()
	v1 := buildDebs(t, dist, "1.0.0")
	treeStart := time.Now()
	// systemd too: its units let systemd-analyze verify ours in the tree.
	lower := debianTree(t, append(v1, "systemd")...)
	t.Logf("Debian 12 tree ready in %s: %s", time.Since(treeStart).Round(time.Millisecond), lower)
	root := overlayTree(t, lower)

	// ---- install ----
	dpkgInstall(t, root, v1...)
	assert.Equal(t, "1.0.0", chrootOut(t, root, "dpkg-query", "-W", "-f=${Version}", "allimi-central"))
	assert.Equal(t, "1.0.0", chrootOut(t, root, "dpkg-query", "-W", "-f=${Version}", "allimi-kiosk"))

	// FHS paths and modes.
	for _, f := range []struct {
		path  string
		mode  os.FileMode
		owner string
	}{
		{"/usr/bin/allimi", 0o755, "root:root"},
		{"/usr/bin/allimi-kiosk", 0o755, "root:root"},
		{"/usr/bin/allimi-voice", 0o755, "root:root"},
		{"/lib/systemd/system/allimi-central.service", 0o644, "root:root"},
		{"/lib/systemd/system/allimi-kiosk.service", 0o644, "root:root"},
		{"/usr/share/doc/allimi-central/README.md", 0o644, "root:root"},
		// Provider keys go in here: readable by central's group, not by others.
		{"/etc/allimi/central.yaml", 0o640, "root:allimi"},
		// The kiosk's credentials, once enrolled: the kiosk user's alone,
		// in a directory that stays root's.
		{"/etc/allimi/kiosk.json", 0o600, "allimi-kiosk:allimi-kiosk"},
		{"/etc/allimi", 0o755, "root:root"},
	} {
		fi, err := os.Stat(filepath.Join(root, f.path))
		if !assert.NoError(t, err, f.path) {
			continue
		}
		assert.Equal(t, f.mode, fi.Mode().Perm(), "mode of %s", f.path)
		assert.Equal(t, f.owner, ownerIn(t, root, fi), "owner of %s", f.path)
	}

	// The users the maintainer scripts create: system accounts without a
	// login, the kiosk's allowed at the screen and the touch input.
	for _, u := range []string{"allimi", "allimi-kiosk"} {
		pw := strings.Split(chrootOut(t, root, "getent", "passwd", u), ":")
		require.Len(t, pw, 7, "user %s", u)
		uid, _ := strconv.Atoi(pw[2])
		assert.Less(t, uid, 1000, "%s is a system user", u)
		assert.Equal(t, "/var/lib/"+u, pw[5], "home of %s", u)
		assert.Equal(t, "/usr/sbin/nologin", pw[6], "%s cannot log in", u)
		assert.NotEmpty(t, chrootOut(t, root, "getent", "group", u), "group %s", u)
	}
	groups := strings.Fields(chrootOut(t, root, "id", "-nG", "allimi-kiosk"))
	assert.Subset(t, groups, []string{"allimi-kiosk", "video", "input"})

	// The kiosk and its voice worker find every library inside the tree:
	// the system's and the speech libraries the package ships.
	for _, prog := range []string{"/usr/bin/allimi-kiosk", "/usr/bin/allimi-voice"} {
		ldd := chrootOut(t, root, "ldd", prog)
		assert.NotContains(t, ldd, "not found", "ldd %s in the tree:\n%s", prog, ldd)
		if prog == "/usr/bin/allimi-voice" || strings.Contains(ldd, "libsherpa-onnx") {
			assert.Regexp(t, `libsherpa-onnx-c-api\.so => /usr/lib/allimi-kiosk/libsherpa-onnx-c-api\.so`, ldd, prog)
			assert.Regexp(t, `libonnxruntime\.so => /usr/lib/allimi-kiosk/libonnxruntime\.so`, ldd, prog)
		}
	}
	kunit := readUnit(t, filepath.Join(root, "lib/systemd/system/allimi-kiosk.service"))
	if _, err := os.Stat("../.cache/models/silero_vad.onnx"); err == nil {
		// The model scripts/deps.sh installed is shipped, and the worker
		// loads it through the shipped libraries as the kiosk's user: it
		// says it is ready, and ends when its input does.
		model := "/usr/share/allimi/models/silero_vad.onnx"
		require.FileExists(t, filepath.Join(root, model))
		out := runAs(t, root, kunit, "/usr/bin/allimi-voice", "--vad-model", model)
		assert.Contains(t, out, `"ready":true`)
	}
	// Central is static: it needs nothing from the tree.
	assert.Contains(t, chrootOutErr(root, "ldd", "/usr/bin/allimi"), "not a dynamic executable")

	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		for _, unit := range []string{"allimi-central.service", "allimi-kiosk.service"} {
			b, err := exec.Command("systemd-analyze", "verify", "--root="+root, "/lib/systemd/system/"+unit).CombinedOutput()
			assert.NoError(t, err, "systemd-analyze verify %s:\n%s", unit, b)
		}
	}

	// ---- central from its unit ----
	unit := readUnit(t, filepath.Join(root, "lib/systemd/system/allimi-central.service"))
	c := startFromUnit(t, root, unit)
	c.waitHealthy(t)
	stateDir := filepath.Join(root, "var/lib", unit.get("StateDirectory"))
	keys, err := os.Stat(filepath.Join(stateDir, "keys.json"))
	require.NoError(t, err, "central made its keys in the state directory")
	assert.Equal(t, os.FileMode(0o600), keys.Mode().Perm(), "keys.json is central's alone")
	assert.Equal(t, "allimi:allimi", ownerIn(t, root, keys))
	c.stop(t)

	// An agency and a few subscribers, added the way an operator does
	// (central stopped, as the service user).
	var agency struct{ ID, Token string }
	require.NoError(t, json.Unmarshal([]byte(runAs(t, root, unit, "/usr/bin/allimi", "central", "agency", "add",
		"--data", "/var/lib/allimi", "--id", "police", "--types", "traffic-fine", "--json")), &agency))
	require.NotEmpty(t, agency.Token)
	runAs(t, root, unit, "/usr/bin/allimi", "central", "seed", "--data", "/var/lib/allimi", "--subscribers", "7")

	c = startFromUnit(t, root, unit)
	c.waitHealthy(t)
	require.EqualValues(t, 7, c.stats(t).Subscribers)
	notify := `{"type":"traffic-fine","params":{"amount":"40,000","dueDate":"2026-12-31","violation":"신호위반"},"audience":{"all":true}}`
	assert.Equal(t, http.StatusAccepted, c.post(t, "/api/v1/notifications", agency.Token, "install-1", notify))

	// A kiosk enrols with a code, as its unit's user, into the config file
	// its unit names (over central's loopback: the same namespace).
	kargs := splitUnitWords(kunit.get("ExecStart"))
	kconfig := ""
	for i, a := range kargs {
		if a == "--config" && i+1 < len(kargs) {
			kconfig = kargs[i+1]
		}
	}
	require.Equal(t, "/etc/allimi/kiosk.json", kconfig, "the kiosk unit's config file")
	var issued struct{ Code string }
	require.NoError(t, json.Unmarshal([]byte(unit.inNetns(t, root, c.cmd.Process.Pid, "/usr/bin/allimi", "central", "kiosk", "enrol",
		"--data", "/var/lib/allimi", "--id", "gongju-01", "--url", "http://"+c.http, "--json")), &issued))
	out := kunit.inNetns(t, root, c.cmd.Process.Pid, "/usr/bin/allimi-kiosk", "--enrol", issued.Code, "--central", "http://"+c.http, "--config", kconfig)
	assert.Contains(t, out, "enrolled as kiosk gongju-01")
	kfi, err := os.Stat(filepath.Join(root, kconfig))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), kfi.Mode().Perm())
	assert.Equal(t, "allimi-kiosk:allimi-kiosk", ownerIn(t, root, kfi))
	var kcfg struct{ ID, Password string }
	b, err := os.ReadFile(filepath.Join(root, kconfig))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &kcfg))
	assert.Equal(t, "gongju-01", kcfg.ID)
	assert.NotEmpty(t, kcfg.Password)
	c.stop(t)

	// ---- upgrade ----
	// The operator edits the config; the upgrade must keep the edit.
	yaml := filepath.Join(root, "etc/allimi/central.yaml")
	f, err := os.OpenFile(yaml, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("# edited on site\nsenders: 2\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	edited, err := os.ReadFile(yaml)
	require.NoError(t, err)
	kioskBefore := fileSum(t, filepath.Join(root, kconfig))
	dbBefore := fileSum(t, filepath.Join(stateDir, "central.db"))
	keysBefore := fileSum(t, filepath.Join(stateDir, "keys.json"))

	dist2 := t.TempDir()
	v2 := buildDebs(t, dist2, "1.0.1")
	dpkgInstall(t, root, v2...)
	assert.Equal(t, "1.0.1", chrootOut(t, root, "dpkg-query", "-W", "-f=${Version}", "allimi-central"))
	assert.Equal(t, "1.0.1", chrootOut(t, root, "dpkg-query", "-W", "-f=${Version}", "allimi-kiosk"))
	after, err := os.ReadFile(yaml)
	require.NoError(t, err)
	assert.Equal(t, string(edited), string(after), "the operator's central.yaml survives the upgrade")
	assert.NoFileExists(t, yaml+".dpkg-new")
	fi, err := os.Stat(yaml)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	assert.Equal(t, "root:allimi", ownerIn(t, root, fi))
	assert.Equal(t, dbBefore, fileSum(t, filepath.Join(stateDir, "central.db")), "the upgrade does not touch the data")
	assert.Equal(t, keysBefore, fileSum(t, filepath.Join(stateDir, "keys.json")))
	assert.Equal(t, kioskBefore, fileSum(t, filepath.Join(root, kconfig)), "the enrolled kiosk keeps its credentials")

	// The new version serves the old data with the edited config.
	c = startFromUnit(t, root, unit)
	c.waitHealthy(t)
	assert.EqualValues(t, 7, c.stats(t).Subscribers)
	assert.Equal(t, http.StatusAccepted, c.post(t, "/api/v1/notifications", agency.Token, "install-2", notify),
		"the agency registered before the upgrade still sends")
	c.stop(t)
}

// buildDebs runs scripts/package.sh for version and returns the central
// and kiosk packages.
func buildDebs(t *testing.T, out, version string) []string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("bash", "../scripts/package.sh")
	cmd.Env = append(os.Environ(), "BIN="+filepath.Dir(kioskBin), "OUT="+out, "VERSION="+version, "DEB_COMPRESS=gzip")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "package.sh: %s", b)
	t.Logf("packages %s built in %s", version, time.Since(start).Round(time.Millisecond))
	return []string{
		filepath.Join(out, "allimi-central_"+version+"_amd64.deb"),
		filepath.Join(out, "allimi-kiosk_"+version+"_amd64.deb"),
	}
}

// debianTree is the cached tree in which debs install offline.
func debianTree(t *testing.T, debs ...string) string {
	t.Helper()
	var errb strings.Builder
	cmd := exec.Command("bash", append([]string{"../scripts/debian-tree.sh"}, debs...)...)
	cmd.Stderr = &errb
	out, err := cmd.Output()
	require.NoError(t, err, "debian-tree.sh: %s", errb.String())
	if s := errb.String(); s != "" {
		t.Log(strings.TrimSpace(s))
	}
	return strings.TrimSpace(string(out))
}

// overlayTree mounts a writable overlay on lower, with /proc inside, and
// unmounts both when the test ends; the upper layer is thrown away.
func overlayTree(t *testing.T, lower string) string {
	t.Helper()
	// Not t.TempDir: its removal must wait until the mounts are gone, or
	// it would walk into them.
	dir, err := os.MkdirTemp("", "allimi-install-")
	require.NoError(t, err)
	upper, work, root := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "root")
	for _, d := range []string{upper, work, root} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	require.NoError(t, syscall.Mount("overlay", root, "overlay", 0,
		fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)), "overlayfs on %s", lower)
	proc := filepath.Join(root, "proc")
	if err := syscall.Mount("proc", proc, "proc", 0, ""); err != nil {
		_ = syscall.Unmount(root, syscall.MNT_DETACH)
		t.Fatalf("mount proc in the tree: %v", err)
	}
	t.Cleanup(func() {
		errP := syscall.Unmount(proc, syscall.MNT_DETACH)
		errR := syscall.Unmount(root, syscall.MNT_DETACH)
		if errP != nil || errR != nil {
			t.Errorf("unmount %s: %v, %v (left in place)", dir, errP, errR)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return root
}

func dpkgInstall(t *testing.T, root string, debs ...string) {
	t.Helper()
	args := []string{"dpkg", "-i"}
	for _, d := range debs {
		in := filepath.Join("/tmp", filepath.Base(d))
		b, err := os.ReadFile(d)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, in), b, 0o644))
		args = append(args, in)
	}
	out := chrootOut(t, root, args...)
	t.Logf("dpkg -i: %s", tail(out, 1500))
	for _, d := range debs {
		require.NoError(t, os.Remove(filepath.Join(root, "tmp", filepath.Base(d))))
	}
}

// chrootOut runs a command as root in the tree, without network or
// terminal (dpkg must not ask), and returns its trimmed output.
func chrootOut(t *testing.T, root string, args ...string) string {
	t.Helper()
	cmd := exec.Command("chroot", append([]string{root}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"}
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "chroot %s: %s", strings.Join(args, " "), b)
	return strings.TrimSpace(string(b))
}

// chrootOutErr is chrootOut for a command expected to fail.
func chrootOutErr(root string, args ...string) string {
	b, _ := exec.Command("chroot", append([]string{root}, args...)...).CombinedOutput()
	return string(b)
}

// ownerIn names fi's owner and group as the tree's passwd and group do.
func ownerIn(t *testing.T, root string, fi os.FileInfo) string {
	t.Helper()
	st := fi.Sys().(*syscall.Stat_t)
	return lookupIn(t, root, "passwd", st.Uid) + ":" + lookupIn(t, root, "group", st.Gid)
}

func lookupIn(t *testing.T, root, db string, id uint32) string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "etc", db))
	require.NoError(t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		p := strings.Split(s.Text(), ":")
		if len(p) > 2 && p[2] == strconv.Itoa(int(id)) {
			return p[0]
		}
	}
	return strconv.Itoa(int(id))
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// unit is a systemd unit file: each key's values in order (a key may repeat).
type unit map[string][]string

func readUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	u := unit{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q is not key=value", path, line)
		u[strings.TrimSpace(k)] = append(u[strings.TrimSpace(k)], strings.TrimSpace(v))
	}
	require.NoError(t, s.Err())
	return u
}

func (u unit) get(k string) string {
	if v := u[k]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// env is the environment systemd gives the service: its Environment=
// lines and the variables it sets itself.
func (u unit) env(root string, t *testing.T) []string {
	user := u.get("User")
	pw := strings.Split(chrootOut(t, root, "getent", "passwd", user), ":")
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "LANG=C.UTF-8",
		"USER=" + user, "LOGNAME=" + user, "HOME=" + pw[5], "SHELL=" + pw[6]}
	if d := u.get("StateDirectory"); d != "" {
		env = append(env, "STATE_DIRECTORY=/var/lib/"+d)
	}
	if d := u.get("ConfigurationDirectory"); d != "" {
		env = append(env, "CONFIGURATION_DIRECTORY=/etc/"+d)
	}
	for _, e := range u["Environment"] {
		// Environment="A=b c" D=e: quoted assignments are one each.
		for _, a := range splitUnitWords(e) {
			env = append(env, a)
		}
	}
	return env
}

// splitUnitWords splits a unit's command line or assignment list on spaces,
// keeping double-quoted words whole (systemd.service(5), "Command lines").
func splitUnitWords(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, in := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case r == ' ' && !quoted:
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// ids are the numeric user and group of the unit's User= and Group=, as the
// tree knows them (the host has no such users).
func (u unit) ids(t *testing.T, root string) (uid, gid string) {
	t.Helper()
	pw := strings.Split(chrootOut(t, root, "getent", "passwd", u.get("User")), ":")
	require.Len(t, pw, 7)
	uid, gid = pw[2], pw[3]
	if g := u.get("Group"); g != "" {
		gid = strings.Split(chrootOut(t, root, "getent", "group", g), ":")[2]
	}
	return uid, gid
}

// prepare does what systemd does before ExecStart: the state directory,
// owned by the service's user, with the unit's mode.
func (u unit) prepare(t *testing.T, root string) {
	t.Helper()
	d := u.get("StateDirectory")
	if d == "" {
		return
	}
	mode := uint64(0o755)
	if m := u.get("StateDirectoryMode"); m != "" {
		var err error
		mode, err = strconv.ParseUint(m, 8, 32)
		require.NoError(t, err)
	}
	uid, gid := u.ids(t, root)
	path := filepath.Join(root, "var/lib", d)
	require.NoError(t, os.MkdirAll(path, os.FileMode(mode)))
	require.NoError(t, os.Chmod(path, os.FileMode(mode)))
	ui, _ := strconv.Atoi(uid)
	gi, _ := strconv.Atoi(gid)
	require.NoError(t, os.Chown(path, ui, gi))
}

// runAs runs a command in the tree as the unit's user, with its umask, to
// completion, and returns its standard output.
func runAs(t *testing.T, root string, u unit, args ...string) string {
	t.Helper()
	cmd := u.command(t, root, false, args...)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	require.NoError(t, err, "%s: %s", strings.Join(args, " "), errb.String())
	return string(out)
}

// command is args run in the tree as the unit's user, group and umask,
// with its environment; in a new network namespace with loopback up when
// netns is set.
func (u unit) command(t *testing.T, root string, netns bool, args ...string) *exec.Cmd {
	t.Helper()
	argv := u.shell(t, root, netns, args...)
	if netns {
		return exec.Command("unshare", append([]string{"--net", "--", "sh"}, argv...)...)
	}
	return exec.Command("sh", argv...)
}

// inNetns is args run in the tree as the unit's user, in the network
// namespace of process pid (central's), to completion; it returns the
// standard output.
func (u unit) inNetns(t *testing.T, root string, pid int, args ...string) string {
	t.Helper()
	cmd := exec.Command("nsenter", append([]string{fmt.Sprintf("--net=/proc/%d/ns/net", pid), "--", "sh"}, u.shell(t, root, false, args...)...)...)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	require.NoError(t, err, "%s: %s%s", strings.Join(args, " "), out, errb.String())
	return string(out)
}

// shell is the arguments of sh that run args as the unit would.
func (u unit) shell(t *testing.T, root string, netns bool, args ...string) []string {
	t.Helper()
	uid, gid := u.ids(t, root)
	umask := u.get("UMask")
	if umask == "" {
		umask = "0022"
	}
	// Every step execs the next: the process started is central itself.
	script := `umask "$1" && u=$2 g=$3 r=$4 && shift 4 && exec chroot --userspec="$u" --groups="$g" "$r" env -i "$@"`
	pre := ""
	if netns {
		pre = "ip link set lo up && "
	}
	argv := []string{"-c", pre + script, "sh", umask, uid + ":" + gid, gid, root}
	argv = append(argv, u.env(root, t)...)
	return append(argv, args...)
}

// unitCentral is central started from its installed unit.
type unitCentral struct {
	*proc
	http  string // central's HTTP address inside its network namespace
	cl    *http.Client
	state string // its state directory (keys.json), seen from outside the root
}

func startFromUnit(t *testing.T, root string, u unit) *unitCentral {
	t.Helper()
	u.prepare(t, root)
	args := splitUnitWords(u.get("ExecStart"))
	require.NotEmpty(t, args, "ExecStart")
	require.FileExists(t, filepath.Join(root, args[0]), "ExecStart's program is installed")
	httpAddr := "127.0.0.1:8080"
	cfg, err := os.ReadFile(filepath.Join(root, "etc/allimi/central.yaml"))
	require.NoError(t, err)
	for _, l := range strings.Split(string(cfg), "\n") {
		if v, ok := strings.CutPrefix(l, "http:"); ok {
			httpAddr = strings.TrimSpace(v)
		}
	}
	cmd := u.command(t, root, true, args...)
	p := startCmd(t, "central-unit", cmd)
	return &unitCentral{proc: p, http: httpAddr, state: filepath.Join(root, "var/lib", u.get("StateDirectory")), cl: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DialContext: netnsDialer(p.cmd.Process.Pid)},
	}}
}

// netnsDialer dials from the network namespace of process pid: the socket
// is made on a thread that has entered it, and stays in it.
func netnsDialer(pid int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread()
			self, err := os.Open("/proc/thread-self/ns/net")
			if err != nil {
				runtime.UnlockOSThread()
				ch <- result{nil, err}
				return
			}
			defer self.Close()
			target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
			if err != nil {
				runtime.UnlockOSThread()
				ch <- result{nil, err}
				return
			}
			defer target.Close()
			if err := setns(target); err != nil {
				runtime.UnlockOSThread()
				ch <- result{nil, fmt.Errorf("setns: %w", err)}
				return
			}
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			// A thread that cannot go back stays locked: Go then ends it
			// with this goroutine instead of reusing it in the namespace.
			if setns(self) == nil {
				runtime.UnlockOSThread()
			}
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}

func setns(f *os.File) error { return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET) }

func (c *unitCentral) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			t.Fatalf("central exited: %v\n%s", c.err, tail(c.logText(), 2000))
		default:
		}
		resp, err := c.cl.Get("http://" + c.http + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("central not healthy within 30 s:\n%s", tail(c.logText(), 2000))
}

func (c *unitCentral) stats(t *testing.T) stats {
	t.Helper()
	resp := adminGet(t, c.cl, "http://"+c.http+"/api/v1/stats", c.state)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s stats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

func (c *unitCentral) post(t *testing.T, path, token, key, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+c.http+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cl.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Logf("POST %s: %s %s", path, resp.Status, b)
	}
	return resp.StatusCode
}

// stop ends central as systemd stops a service: SIGTERM, then a wait.
func (c *unitCentral) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("central did not stop within 30 s of SIGTERM:\n%s", tail(c.logText(), 2000))
	}
}

// Package tests runs Allimi's programs as real processes: central, the
// headless kiosk, and Debian's Mosquitto as an external broker. Crash tests
// kill them with SIGKILL.
package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"allimi/internal/pgtest"
)

// allimiBin is the path of bin/allimi under test.
// allimiBin and kioskBin are bin/allimi and bin/allimi-kiosk.
var allimiBin, kioskBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if dir := os.Getenv("ALLIMI_BIN"); dir != "" {
		allimiBin, kioskBin = filepath.Join(dir, "allimi"), filepath.Join(dir, "allimi-kiosk")
	} else {
		// `go test ./...` without make: build the binary once for this run.
		tmp, err := os.MkdirTemp("", "allimi-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		allimiBin = filepath.Join(tmp, "allimi")
		cmd := exec.Command("go", "build", "-o", allimiBin, "../cmd/allimi")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build allimi:", err)
			return 1
		}
		kioskBin = filepath.Join(tmp, "allimi-kiosk")
		cmd = exec.Command("go", "build", "-o", kioskBin, "../cmd/allimi-kiosk")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build allimi-kiosk:", err)
			return 1
		}
	}
	for _, b := range []string{allimiBin, kioskBin} {
		if _, err := os.Stat(b); err != nil {
			fmt.Fprintf(os.Stderr, "%s missing: run make build\n", b)
			return 1
		}
	}
	defer pgtest.Stop() // the PostgreSQL of the tests that use one
	return m.Run()
}

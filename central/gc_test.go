package central_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central"
)

// TuneGC runs in a child process: it changes its process's collector.
func TestTuneGC(t *testing.T) {
	if os.Getenv("ALLIMI_TUNEGC_CHILD") != "" {
		central.TuneGC()
		os.Stdout.WriteString(strconv.Itoa(debug.SetGCPercent(-1)) + " " + strconv.FormatInt(debug.SetMemoryLimit(-1), 10))
		return
	}
	run := func(env ...string) string {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestTuneGC$")
		cmd.Env = append(os.Environ(), append([]string{"ALLIMI_TUNEGC_CHILD=1", "GOGC=", "GOMEMLIMIT="}, env...)...)
		out, err := cmd.Output()
		require.NoError(t, err)
		return string(out)
	}
	var pct int
	var limit int64
	_, err := fmt.Sscan(run(), &pct, &limit)
	require.NoError(t, err)
	assert.Equal(t, central.GCPercent, pct, "GOGC not set: central's own")
	assert.Greater(t, limit, int64(1<<30), "GOMEMLIMIT not set: half the machine's memory")
	assert.Less(t, limit, int64(1<<62), "a limit, not none")

	_, err = fmt.Sscan(run("GOGC=150", "GOMEMLIMIT=3GiB"), &pct, &limit)
	require.NoError(t, err)
	assert.Equal(t, 150, pct, "an operator's GOGC stands")
	assert.Equal(t, int64(3<<30), limit, "an operator's GOMEMLIMIT stands")
}

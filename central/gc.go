package central

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// GCPercent is the garbage collector's target `central serve` runs with
// when GOGC is not set: the heap may grow to five times what is live
// before a collection. Central's live heap is small (tens of MiB) and
// what it allocates is mostly short-lived (bbolt's pages of each commit,
// decoded records, provider requests), so at Go's default of 100 it
// collected many times a second under load: a 5,000-record kiosk drain
// took 0.77-0.84 s at 100 and 0.61-0.71 s at 200-400 on this 2-core
// machine, and a 1,000,000-recipient campaign peaked at 411 MiB of RSS at
// 400 (292 MiB at 100).
const GCPercent = 400

// TuneGC sets the collector for a central process unless the environment
// does: GOGC to GCPercent, and GOMEMLIMIT to half of the machine's memory,
// a soft limit at which the collector works harder instead of letting the
// heap grow further. Central calls it from `central serve` and the
// benchmarks that run central in their process, not from Start (a library
// call does not change its process's collector).
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if total := physicalMemory(); total > 0 {
			debug.SetMemoryLimit(total / 2)
		}
	}
}

// physicalMemory is the machine's memory in bytes from /proc/meminfo, or 0.
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

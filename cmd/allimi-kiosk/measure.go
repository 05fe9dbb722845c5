package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/self/stat's start time: 100 on
// every Linux architecture Go supports for this kiosk.
const clockTicks = 100

// measureStartup reports the time since the process started (from the
// kernel's record, so it includes loading the binary and Go's runtime
// start) and the peak resident set size so far.
func measureStartup() (startupFigures, error) {
	age, err := processAge()
	if err != nil {
		return startupFigures{}, err
	}
	hwm, err := statusKiB("VmHWM")
	if err != nil {
		return startupFigures{}, err
	}
	f := startupFigures{StartupMs: age.Milliseconds(), PeakRSSMiB: float64(hwm) / 1024}
	// What the resident memory is made of, to know what to shrink: the Go
	// heap and GL buffers (anonymous), the binary and libraries (file).
	if anon, err := statusKiB("RssAnon"); err == nil {
		f.AnonMiB = float64(anon) / 1024
	}
	if file, err := statusKiB("RssFile"); err == nil {
		f.FileMiB = float64(file) / 1024
	}
	return f, nil
}

// processAge is how long ago this process started: the system's uptime
// (/proc/uptime, 10 ms resolution) less the uptime at which the process
// started (/proc/self/stat field 22, in clock ticks). /proc/stat's boot
// time would only have whole seconds.
func processAge() (time.Duration, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields count from its ")".
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 {
		return 0, fmt.Errorf("/proc/self/stat: %d fields after the name", len(fields))
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64) // field 22 overall
	if err != nil {
		return 0, fmt.Errorf("/proc/self/stat starttime: %w", err)
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	secs, err := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/uptime: %w", err)
	}
	return time.Duration(secs*float64(time.Second)) - time.Duration(ticks)*time.Second/clockTicks, nil
}

// statusKiB reads a "Name:  N kB" line of /proc/self/status.
func statusKiB(name string) (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, name+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/self/status: no %s", name)
}

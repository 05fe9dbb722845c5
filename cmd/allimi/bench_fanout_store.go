package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/central/keyring"
	"allimi/central/notify"
	"allimi/central/pg"
)

// storeFanoutResult is what `allimi bench fanout --store … --json` prints.
type storeFanoutResult struct {
	Store           string  `json:"store"` // "postgres"
	Workers         int     `json:"workers"`
	ProviderLatency string  `json:"providerLatency"`
	Deliveries      int64   `json:"deliveries"`
	Seconds         float64 `json:"seconds"`
	PerSecond       float64 `json:"perSecond"`
	// The bare client's run against the same fake providers (same
	// latency), after the campaign.
	BaselineSeconds   float64 `json:"baselineSeconds"`
	BaselinePerSecond float64 `json:"baselinePerSecond"`
	Ratio             float64 `json:"ratio"`
	SeedSeconds       float64 `json:"seedSeconds"`
	// PostSeconds is how long the agency's POST took: the campaign is
	// expanded to every subscriber before it is answered.
	PostSeconds float64 `json:"postSeconds"`
	// CPU seconds the workers used during the campaign, together.
	WorkersCPUSeconds float64 `json:"workersCPUSeconds"`
}

// benchFanoutStore runs one campaign to n subscribers through workers
// `central serve --store` processes on the PostgreSQL database at store,
// sending to `allimi fake-providers --latency latency`, and times it from
// the agency's POST to every delivery recorded.
func benchFanoutStore(ctx context.Context, store, keysDir string, n, workers int, latency time.Duration) (storeFanoutResult, error) {
	r := storeFanoutResult{Store: "postgres", Workers: workers, ProviderLatency: latency.String()}
	if workers < 1 {
		return r, usageError{fmt.Errorf("--workers %d: at least 1", workers)}
	}
	dir, err := os.MkdirTemp("", "allimi-fanout-store-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	if keysDir == "" {
		keysDir = filepath.Join(dir, "keys")
	}
	exe, err := os.Executable()
	if err != nil {
		return r, err
	}
	if _, err := pg.Migrate(ctx, store); err != nil {
		return r, err
	}
	seedStart := time.Now()
	agency := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	ag, err := seedBenchCentral(ctx, exe, n, agency, []string{"--store", store, "--keys", keysDir}, []string{"--store", store})
	if err != nil {
		return r, err
	}
	r.SeedSeconds = time.Since(seedStart).Seconds()
	keys, err := keyring.Load(keysDir)
	if err != nil {
		return r, err
	}

	fakeURL, stopFakes, err := startBenchFakes(ctx, exe, "--latency", latency.String())
	if err != nil {
		return r, err
	}
	defer stopFakes()

	// The kakao token bucket far above what loopback carries, as in the
	// single-box benchmark.
	conf := filepath.Join(dir, "central.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "providers:\n  kakao:\n    rate: %d\n", benchRate), 0o600); err != nil {
		return r, err
	}
	var apis []string
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
			_ = p.Wait()
		}
	}()
	for i := range workers {
		httpAddr, err := freePort()
		if err != nil {
			return r, err
		}
		mqttAddr, err := freePort()
		if err != nil {
			return r, err
		}
		log, err := os.Create(filepath.Join(dir, fmt.Sprintf("worker-%d.log", i+1)))
		if err != nil {
			return r, err
		}
		defer log.Close()
		p := exec.CommandContext(ctx, exe, "central", "serve", "--store", store, "--keys", keysDir, "--http", httpAddr, "--mqtt", mqttAddr,
			"--provider-url", fakeURL, "--config", conf)
		p.Stdout, p.Stderr = log, log
		if err := p.Start(); err != nil {
			return r, err
		}
		procs = append(procs, p)
		api := "http://" + httpAddr
		if err := waitHTTP(ctx, api+"/healthz"); err != nil {
			b, _ := os.ReadFile(log.Name())
			return r, fmt.Errorf("worker %d: %w\n%s", i+1, err, b)
		}
		apis = append(apis, api)
	}
	// A running cluster: every worker holds its share of the send slots
	// before the campaign comes.
	if err := waitSlotsDealt(ctx, store, workers); err != nil {
		return r, err
	}
	// The statistics count every campaign on the database: this one's
	// are what they gain.
	before, err := kakaoSent(apis[0], keys.AdminToken)
	if err != nil {
		return r, err
	}
	cpuBefore := childrenCPU(procs)
	start := time.Now()
	req, _ := http.NewRequest(http.MethodPost, apis[0]+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, err
	}
	var created allimi.Notification
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	r.PostSeconds = time.Since(start).Seconds()
	if resp.StatusCode != http.StatusAccepted || err != nil {
		return r, fmt.Errorf("campaign refused: %s (%v)", resp.Status, err)
	}
	if err := pollUntil(ctx, func() (bool, error) {
		var n allimi.Notification
		err := getJSONURL(fmt.Sprintf("%s/api/v1/notifications/%d", apis[len(apis)-1], created.ID), ag.Token, &n)
		return n.Status == allimi.StatusDone, err
	}); err != nil {
		return r, err
	}
	r.Seconds = time.Since(start).Seconds()
	r.WorkersCPUSeconds = childrenCPU(procs) - cpuBefore
	after, err := kakaoSent(apis[0], keys.AdminToken)
	if err != nil {
		return r, err
	}
	r.Deliveries = after - before
	r.PerSecond = float64(r.Deliveries) / r.Seconds

	if r.BaselineSeconds, err = bareKakaoClient(ctx, fakeURL, int(created.Recipients), agency); err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	r.BaselinePerSecond = float64(created.Recipients) / r.BaselineSeconds
	r.Ratio = r.PerSecond / r.BaselinePerSecond
	return r, nil
}

// waitSlotsDealt waits until the send slots are held, spread over the
// given number of workers.
func waitSlotsDealt(ctx context.Context, store string, workers int) error {
	st, err := pg.Open(ctx, store)
	if err != nil {
		return err
	}
	defer st.Close()
	share := (pg.SendSlots + workers - 1) / workers
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return pollUntil(ctx, func() (bool, error) {
		held, err := st.SlotHolders(ctx)
		total, most := 0, 0
		for _, n := range held {
			total, most = total+n, max(most, n)
		}
		return len(held) == min(workers, pg.SendSlots) && total == pg.SendSlots && most <= share, err
	})
}

// kakaoSent is how many health check-ups central has recorded as sent on
// KakaoTalk.
func kakaoSent(api, adminToken string) (int64, error) {
	var s struct {
		Delivery map[string]map[string]map[string]int64 `json:"delivery"`
	}
	if err := getJSONURL(api+"/api/v1/stats", adminToken, &s); err != nil {
		return 0, err
	}
	return s.Delivery["health-checkup"]["kakao"][notify.MetricSent], nil
}

// childrenCPU is the user and system CPU time the processes have used so
// far, in seconds (from /proc/PID/stat).
func childrenCPU(procs []*exec.Cmd) float64 {
	var total float64
	for _, p := range procs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Process.Pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: utime and
		// stime are the 12th and 13th, in clock ticks (100 a second).
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		var ut, st float64
		fmt.Sscan(f[11], &ut)
		fmt.Sscan(f[12], &st)
		total += (ut + st) / 100
	}
	return total
}

func (r storeFanoutResult) markdown(n int) string {
	return fmt.Sprintf(`### %d worker(s), provider latency %s: %.1f s, %.0f deliveries/s

`+"`allimi bench fanout --store … --subscribers %d --workers %d --provider-latency %s`"+`: %d deliveries
in %.1f s (%.0f/s); the bare client, same fake and latency: %.1f s (%.0f/s), ratio %.2f.
The workers used %.1f CPU-s together. Seeding took %.1f s (not timed).

`, r.Workers, r.ProviderLatency, r.Seconds, r.PerSecond, n, r.Workers, r.ProviderLatency, r.Deliveries, r.Seconds, r.PerSecond,
		r.BaselineSeconds, r.BaselinePerSecond, r.Ratio, r.WorkersCPUSeconds, r.SeedSeconds)
}

// storeFanoutReport measures the fan-out on PostgreSQL with 1, 2 and 3
// workers, with the fake providers answering at once and after 20 ms,
// and writes the section of BENCHMARKS.md.
func storeFanoutReport(ctx context.Context, store string, n int) (string, error) {
	keys, err := os.MkdirTemp("", "allimi-bench-keys-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(keys)
	var b strings.Builder
	fmt.Fprintf(&b, `## Fan-out on PostgreSQL: 1, 2 and 3 workers (issue 16)

Command: `+"`allimi bench fanout --store URL --subscribers %d --workers N --provider-latency D`"+`, for each N
and D, in one run of `+"`make bench`"+` (`+"`go run ./internal/pgtest/pgrun`"+` starts a PostgreSQL of its own
as the tests do: Debian's server, a unix socket, fsync on). Each worker is a `+"`central serve --store`"+`
process; the fake providers answer every request at once or after D. The clock runs from the
agency's POST until the notification is done (every delivery recorded). The baseline is the bare
client of the single-box benchmark against the same fake, after each campaign.

Each run has a fresh database (a database earlier campaigns warmed up answers faster). The POST
returns once the campaign is expanded to every subscriber; sending starts meanwhile.

| workers | provider latency | seconds | of which the POST | deliveries/s | workers' CPU-s | bare client /s |
|---|---|---|---|---|---|---|
`, n)
	rates := map[string]float64{}
	run := 0
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		for workers := 1; workers <= 3; workers++ {
			// Each run on a database of its own: a database that earlier
			// campaigns warmed up is faster, and later runs would look
			// better for it.
			run++
			db, drop, err := freshDatabase(ctx, store, fmt.Sprintf("allimi_bench_%d_%d", os.Getpid(), run))
			if err != nil {
				return "", err
			}
			keys := filepath.Join(keys, fmt.Sprint(run))
			r, err := benchFanoutStore(ctx, db, keys, n, workers, latency)
			drop()
			if err != nil {
				return "", err
			}
			rates[fmt.Sprint(workers, latency)] = r.PerSecond
			fmt.Fprintf(&b, "| %d | %s | %.1f | %.1f | %.0f | %.1f | %.0f |\n", workers, latency, r.Seconds, r.PostSeconds, r.PerSecond, r.WorkersCPUSeconds, r.BaselinePerSecond)
		}
	}
	zero3 := rates[fmt.Sprint(3, time.Duration(0))]
	scale := rates[fmt.Sprint(3, 20*time.Millisecond)] / rates[fmt.Sprint(1, 20*time.Millisecond)]
	fmt.Fprintf(&b, `
Goals (issue 16): at least 15,000 deliveries/s with 3 workers and no latency (here %.0f: %s);
with 20 ms of latency, 3 workers at least 2.5 times one (here %.2f: %s). Every worker sends
its share of the 8 send slots (README, "Central on PostgreSQL"). On this machine the workers
and PostgreSQL share 2 cores, and a campaign is CPU-bound with or without the 20 ms: one worker
keeps --senders (8) requests of up to 1,000 messages in flight per channel, room for 400,000
messages/s at 20 ms, so the latency never holds a worker back and a second or third worker on
the same 2 cores adds contention, not sending. Workers on hosts of their own add CPU; the
scaling the goal asks for needs them (and a database that is not the limit).

`, zero3, metOrNot(zero3 >= 15000), scale, metOrNot(scale >= 2.5))
	return b.String(), nil
}

// metOrNot says whether a goal was met.
func metOrNot(met bool) string {
	if met {
		return "met"
	}
	return "not met"
}

// freshDatabase creates database name on the server of store (whose user
// may create databases) and returns its URL, and a function that drops it.
func freshDatabase(ctx context.Context, store, name string) (string, func(), error) {
	cfg, err := pgx.ParseConfig(store)
	if err != nil {
		return "", nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(store)
	if err != nil || u.Scheme == "" {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("--store: want a postgres://… URL")
	}
	u.Path = "/" + name
	drop := func() {
		_, _ = conn.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}
	return u.String(), drop, nil
}

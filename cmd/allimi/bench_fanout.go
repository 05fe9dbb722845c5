package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/channel"
	"allimi/central/keyring"
	"allimi/central/notify"
)

// fanoutResult is what `allimi bench fanout --json` prints.
type fanoutResult struct {
	Deliveries      int64   `json:"deliveries"`
	Seconds         float64 `json:"seconds"`
	PerSecond       float64 `json:"perSecond"`
	BaselineSeconds float64 `json:"baselineSeconds"` // the mean of before and after
	// BaselineBeforeSeconds and BaselineAfterSeconds are the bare client's
	// runs before and after the campaign.
	BaselineBeforeSeconds float64 `json:"baselineBeforeSeconds"`
	BaselineAfterSeconds  float64 `json:"baselineAfterSeconds"`
	BaselinePerSecond     float64 `json:"baselinePerSecond"`
	Ratio                 float64 `json:"ratio"`
	PeakRSSMiB            float64 `json:"peakRSSMiB"`
	// At the end: anonymous memory (heaps) and file pages (bbolt's mmap).
	RSSAnonMiB  float64 `json:"rssAnonMiB"`
	RSSFileMiB  float64 `json:"rssFileMiB"`
	DBMiB       float64 `json:"dbMiB"`
	SeedSeconds float64 `json:"seedSeconds"`
	// CPU seconds this process used during the campaign (central) and
	// during the baseline (the bare client): a figure that, unlike the
	// wall-clock ratio, hardly moves when other work shares the machine.
	// The fake providers' CPU, a child process, is in neither.
	CPUSeconds         float64 `json:"cpuSeconds"`
	BaselineCPUSeconds float64 `json:"baselineCPUSeconds"`
}

func benchFanoutCmd() *cobra.Command {
	var n int
	var asJSON bool
	var profile, memProfile, tracePath, keep string
	var store, keysDir string
	var workers int
	var latency time.Duration
	c := &cobra.Command{
		Use:   "fanout",
		Short: "One campaign to N subscribers through central to the fake providers, beside a bare HTTP client",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if store != "" {
				r, err := benchFanoutStore(cmd.Context(), store, keysDir, n, workers, latency)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(os.Stdout, r)
				}
				fmt.Print(r.markdown(n))
				return nil
			}
			for _, f := range []string{"workers", "provider-latency", "keys"} {
				if cmd.Flags().Changed(f) {
					return usageError{fmt.Errorf("--%s goes with --store (workers are central processes on one PostgreSQL database)", f)}
				}
			}
			if profile != "" {
				f, err := os.Create(profile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			r, err := benchFanout(cmd.Context(), n, keep, tracePath)
			if err != nil {
				return err
			}
			if memProfile != "" {
				if err := writeHeapProfile(memProfile); err != nil {
					return err
				}
			}
			if asJSON {
				return printJSON(os.Stdout, r)
			}
			fmt.Print(r.markdown(n))
			return nil
		},
	}
	c.Flags().IntVar(&n, "subscribers", 100000, "consenting subscribers to seed")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	c.Flags().StringVar(&tracePath, "trace", "", "write an execution trace of the campaign (not the baseline) to this file")
	c.Flags().StringVar(&memProfile, "memprofile", "", "write an allocation profile of the whole run to this file")
	c.Flags().StringVar(&store, "store", "", "run the campaign through `central serve --store` processes on this PostgreSQL database (postgres://…; migrated if need be) instead of one central in this process")
	c.Flags().IntVar(&workers, "workers", 1, "with --store: central processes on the database")
	c.Flags().DurationVar(&latency, "provider-latency", 0, "with --store: the fake providers answer each request after this long (e.g. 20ms)")
	c.Flags().StringVar(&keysDir, "keys", "", "with --store: the `directory` of central's keys.json (default: new keys in a temporary directory; a database remembers the keys it was first given)")
	c.Flags().StringVar(&keep, "keep", "", "keep central's data in this new `directory` for inspection (default: a temporary one, removed)")
	return c
}

func (r fanoutResult) markdown(n int) string {
	return fmt.Sprintf(`## Fan-out: one campaign to %d subscribers (issue 4)

Command: `+"`allimi bench fanout --subscribers %d`"+`. Central in this process (real bbolt
file, templates, a detail link per message), `+"`allimi fake-providers --keep-text=false`"+` as a
child process on loopback; every subscriber consents to health-checkup on
KakaoTalk (the registry written by `+"`allimi central seed`"+`, in key order). Central's
kakao token bucket is set to 10,000,000 messages/s: in the path, but not the
limit its default of 100,000/s would be. The clock runs from the agency's POST
until central has recorded every delivery as accepted by the provider (durable). The baseline is a bare
Go client (8 workers, one shared keep-alive transport) posting the same
recipients as NHN AlimTalk batches of 1,000 to the same fake, encoding each
request and decoding each answer's per-recipient results as any sender must,
in the same run. Peak RSS is this process's (central and client).

| what | seconds | deliveries/s |
|---|---|---|
| **campaign through central** | **%.1f** | **%.0f** |
| baseline: bare client, same batches (mean of %.1f s before and %.1f s after the campaign) | %.1f | %.0f |

CPU used by this process: %.1f s for the campaign (central: ingest, expansion,
rendering, the adapter, bbolt), %.1f s for the baseline; the fake providers'
CPU is in neither. Central's adapters encode and decode with
github.com/go-json-experiment/json, the baseline with encoding/json as a bare
client would.

Ratio %.2f (goal ≥ 0.5); goal ≥ 20,000 deliveries/s at 1,000,000; peak RSS %.0f MiB (goal < 1,024);
at the end %.0f MiB of it anonymous (heaps) and %.0f MiB file pages of bbolt's mmap; central.db %.0f MiB.
Seeding the registry took %.1f s (not timed).

`, n, n, r.Seconds, r.PerSecond, r.BaselineBeforeSeconds, r.BaselineAfterSeconds, r.BaselineSeconds, r.BaselinePerSecond, r.CPUSeconds, r.BaselineCPUSeconds, r.Ratio, r.PeakRSSMiB,
		r.RSSAnonMiB, r.RSSFileMiB, r.DBMiB, r.SeedSeconds)
}

// benchRate is the kakao token bucket's rate in the fan-out benchmark.
const benchRate = 10_000_000

func benchFanout(ctx context.Context, n int, keep, tracePath string) (fanoutResult, error) {
	central.TuneGC() // as central serve runs
	var r fanoutResult
	dir := keep
	if keep == "" {
		var err error
		if dir, err = os.MkdirTemp("", "allimi-fanout-"); err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.Mkdir(keep, 0o700); err != nil {
		return r, fmt.Errorf("--keep: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// The registry is seeded by a child process, so that this process's
	// peak RSS is central's own.
	exe, err := os.Executable()
	if err != nil {
		return r, err
	}
	seedStart := time.Now()
	data := filepath.Join(dir, "central")
	ag, err := seedBenchCentral(ctx, exe, n, "bench", []string{"--data", data}, []string{"--data", data})
	if err != nil {
		return r, err
	}
	r.SeedSeconds = time.Since(seedStart).Seconds()

	fakeURL, stopFakes, err := startBenchFakes(ctx, exe)
	if err != nil {
		return r, err
	}
	defer stopFakes()

	cfg := central.DefaultConfig()
	cfg.Data, cfg.HTTP, cfg.Logger, cfg.ProviderURL = data, "127.0.0.1:0", quiet, fakeURL
	// The fake has no contracted rate, and the bare client none: the token
	// bucket stays in the path but far above what loopback carries. (Its
	// default, 100,000 messages per second per channel, would be the limit.)
	cfg.Providers.Kakao.Rate = benchRate
	if cfg.MQTT, err = freePort(); err != nil {
		return r, err
	}
	srv, err := central.Start(ctx, cfg)
	if err != nil {
		return r, err
	}
	defer srv.Close()
	api := "http://" + srv.HTTPAddr()
	keys, err := keyring.Load(data)
	if err != nil {
		return r, err
	}

	// The baseline runs once before the campaign and once after it, and
	// counts as the mean of the two: the fake provider remembers every key
	// it accepted (to refuse a second send), so whatever runs second meets
	// a larger fake, and the machine's mood changes over a minute.
	cpuStart := processCPU()
	if r.BaselineBeforeSeconds, err = bareKakaoClient(ctx, fakeURL, n, "bare-a"); err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	baselineCPU := processCPU() - cpuStart

	stopTrace := func() {}
	if tracePath != "" {
		if stopTrace, err = startTrace(tracePath); err != nil {
			return r, err
		}
		defer stopTrace() // on an error before the end of the campaign
	}
	start := time.Now()
	cpuStart = processCPU()
	req, _ := http.NewRequest(http.MethodPost, api+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return r, fmt.Errorf("campaign refused: %d %s", resp.StatusCode, body)
	}
	if err := pollUntil(ctx, func() (bool, error) {
		var s struct {
			Delivery map[string]map[string]map[string]int64 `json:"delivery"`
		}
		if err := getJSONURL(api+"/api/v1/stats", keys.AdminToken, &s); err != nil {
			return false, err
		}
		k := s.Delivery["health-checkup"]["kakao"]
		r.Deliveries = k[notify.MetricSent]
		return k[notify.MetricSent]+k[notify.MetricDeadLetter]+k[notify.MetricFellBack] >= int64(n), nil
	}); err != nil {
		return r, err
	}
	r.Seconds = time.Since(start).Seconds()
	stopTrace() // the campaign only
	r.PerSecond = float64(r.Deliveries) / r.Seconds
	r.CPUSeconds = processCPU() - cpuStart

	cpuStart = processCPU()
	if r.BaselineAfterSeconds, err = bareKakaoClient(ctx, fakeURL, n, "bare-b"); err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	r.BaselineCPUSeconds = (baselineCPU + processCPU() - cpuStart) / 2
	r.BaselineSeconds = (r.BaselineBeforeSeconds + r.BaselineAfterSeconds) / 2
	r.BaselinePerSecond = float64(n) / r.BaselineSeconds
	r.Ratio = r.PerSecond / r.BaselinePerSecond
	r.PeakRSSMiB = procStatusMiB("VmHWM:")
	r.RSSAnonMiB, r.RSSFileMiB = procStatusMiB("RssAnon:"), procStatusMiB("RssFile:")
	if fi, err := os.Stat(filepath.Join(data, bolt.DBFile)); err == nil {
		r.DBMiB = float64(fi.Size()) / (1 << 20)
	}
	return r, nil
}

// bareKakaoClient posts n recipients as AlimTalk batches of 1,000 with 8
// workers and reads each answer's per-recipient results.
func bareKakaoClient(ctx context.Context, base string, n int, keyPrefix string) (float64, error) {
	kc := channel.DefaultConfig().Kakao
	url := base + "/alimtalk/v2.3/appkeys/" + kc.AppKey + "/messages"
	client := channel.NewHTTPClient()
	type recipient struct {
		RecipientNo          string            `json:"recipientNo"`
		TemplateParameter    map[string]string `json:"templateParameter"`
		RecipientGroupingKey string            `json:"recipientGroupingKey"`
	}
	jobs := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from := range jobs {
				rs := make([]recipient, 0, 1000)
				for i := from; i < min(from+1000, n); i++ {
					rs = append(rs, recipient{RecipientNo: fmt.Sprintf("0109%07d", i),
						TemplateParameter:    map[string]string{"name": "홍길동", "year": "2026", "link": "http://127.0.0.1:8080/n/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
						RecipientGroupingKey: keyPrefix + "-" + strconv.Itoa(i)})
				}
				b, _ := json.Marshal(map[string]any{"senderKey": kc.SenderKey, "templateCode": "ALLIMI_HEALTH_CHECKUP_01", "recipientList": rs})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json;charset=UTF-8")
				req.Header.Set("X-Secret-Key", kc.SecretKey)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				// Like any sender, it reads which recipients were accepted.
				var answer struct {
					Message struct {
						SendResults []struct {
							ResultCode           int    `json:"resultCode"`
							RecipientGroupingKey string `json:"recipientGroupingKey"`
						} `json:"sendResults"`
					} `json:"message"`
				}
				err = json.NewDecoder(resp.Body).Decode(&answer)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || err != nil {
					errs <- fmt.Errorf("HTTP %d: %v", resp.StatusCode, err)
					return
				}
				for _, r := range answer.Message.SendResults {
					if r.ResultCode != 0 {
						errs <- fmt.Errorf("recipient %s: result %d", r.RecipientGroupingKey, r.ResultCode)
						return
					}
				}
				if len(answer.Message.SendResults) != len(rs) {
					errs <- fmt.Errorf("%d results for %d recipients", len(answer.Message.SendResults), len(rs))
					return
				}
			}
		}()
	}
	for from := 0; from < n; from += 1000 {
		jobs <- from
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return time.Since(start).Seconds(), nil
}

func waitHTTP(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := pollUntil(ctx, func() (bool, error) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil, nil
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s not answering", url)
	}
	return err
}

// seedBenchCentral seeds n people consenting to health check-ups by
// KakaoTalk into the central named by where (--data DIR, or --store URL
// and, for the seed, --keys DIR), and adds an agency that may send them.
func seedBenchCentral(ctx context.Context, exe string, n int, agency string, seedWhere, agencyWhere []string) (allimi.AgencyCredentials, error) {
	var ag allimi.AgencyCredentials
	args := append(append([]string{"central", "seed"}, seedWhere...), "--subscribers", fmt.Sprint(n), "--types", "health-checkup", "--channels", "kakao")
	if out, err := exec.CommandContext(ctx, exe, args...).CombinedOutput(); err != nil {
		return ag, fmt.Errorf("seed: %v: %s", err, out)
	}
	args = append(append([]string{"central", "agency", "add"}, agencyWhere...), "--id", agency, "--types", "health-checkup", "--json")
	out, err := exec.CommandContext(ctx, exe, args...).Output()
	if err != nil {
		return ag, fmt.Errorf("agency add: %w", err)
	}
	return ag, json.Unmarshal(out, &ag)
}

// pollUntil calls done every 20 ms until it says so, fails, or ctx ends.
func pollUntil(ctx context.Context, done func() (bool, error)) error {
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startBenchFakes runs `allimi fake-providers --keep-text=false` (exe is
// allimi) with args on a free port, and returns its URL once it answers,
// and what stops it.
func startBenchFakes(ctx context.Context, exe string, args ...string) (url string, stop func(), err error) {
	addr, err := freePort()
	if err != nil {
		return "", nil, err
	}
	fake := exec.CommandContext(ctx, exe, append([]string{"fake-providers", "--http", addr, "--keep-text=false"}, args...)...)
	fake.Stderr = io.Discard
	if err := fake.Start(); err != nil {
		return "", nil, err
	}
	stop = func() { _ = fake.Process.Kill(); _ = fake.Wait() }
	url = "http://" + addr
	if err := waitHTTP(ctx, url+"/_fake/stats"); err != nil {
		stop()
		return "", nil, fmt.Errorf("fake providers: %w", err)
	}
	return url, stop, nil
}

// getJSONURL GETs url with the admin token (the statistics are staff-only).
func getJSONURL(url, token string, v any) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// processCPU is the user and system CPU time this process has used, in
// seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// procStatusMiB reads one figure of /proc/self/status, e.g. VmHWM: (peak RSS).
func procStatusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// writeHeapProfile writes the allocations sampled since the start.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startTrace starts an execution trace into path; stop ends it and closes
// the file, once however often it is called.
func startTrace(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, err
	}
	return sync.OnceFunc(func() { trace.Stop(); f.Close() }), nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"allimi"
	"allimi/central/programs"
	"allimi/central/template"

	"allimi/central/channel"
)

func fakeProvidersCmd() *cobra.Command {
	var (
		addr          string
		opts          channel.FakeOptions
		faults        []string
		keepText      bool
		templatesFile string
		programsDir   string
	)
	c := &cobra.Command{
		Use:   "fake-providers",
		Short: "Serve fake KakaoTalk (NHN AlimTalk, and Naver Cloud SENS AlimTalk for failover), Naver app notice, Toss and SMS (NHN) provider APIs for tests and the demo",
		Long: `Serve fake provider APIs on one base URL, speaking each provider's published
request and response shapes, for central's adapters (--provider-url).

The kakao channel has two providers: NHN Cloud AlimTalk and, for central's
failover while NHN is down, Naver Cloud SENS AlimTalk; the naver channel is
the Naver app notice (an assumed webhook, POST /naver/v1/notices).

Faults: --fault CHANNEL=KIND:RATE, repeatable, KIND one of error (HTTP 500),
ratelimit (HTTP 429, Retry-After: 1), notuser (per phone: not on the channel),
outage (connection dropped), lookup (result queries fail, HTTP 500) and
lostanswer (the messages are taken, then the connection is dropped); RATE
from 0 to 1. A fault on kakao strikes both of its providers; kakao.nhn or
kakao.sens names one (--fault kakao.nhn=outage:1 shows the failover to
SENS). Change them while running with POST /_fake/faults
{"kakao":"outage:0"}.

--no-dedupe takes every request as new, as NHN Cloud and Naver SENS do: a
resent key is accepted, listed by /_fake/messages and counted (repeats) again.

See GET /_fake/messages, /_fake/stats and, in a browser, /_fake/inbox.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range faults {
				fs, err := channel.ParseFault(s)
				if err != nil {
					return usageError{fmt.Errorf("--fault: %w", err)}
				}
				opts.Faults = append(opts.Faults, fs...)
			}
			if opts.Undeliverable < 0 || opts.Undeliverable > 1 {
				return usageError{fmt.Errorf("--undeliverable %g: must be from 0 to 1", opts.Undeliverable)}
			}
			if templatesFile != "" {
				b, err := os.ReadFile(templatesFile)
				if err != nil {
					return usageError{fmt.Errorf("--templates: %w", err)}
				}
				if err := json.Unmarshal(b, &opts.Templates); err != nil {
					return usageError{fmt.Errorf("--templates %s: want a JSON object of template code to text: %w", templatesFile, err)}
				}
			} else {
				// Allimi's own templates, as they would be registered with Kakao.
				set, err := template.Default()
				if err != nil {
					return err
				}
				progs, err := programs.WithDir(programsDir)
				if err != nil {
					return err
				}
				if set, err = progs.Templates(set); err != nil {
					return err
				}
				opts.Templates = set.ProviderTemplates(allimi.ChannelKakao)
			}
			opts.Lean = !keepText
			opts.Logger = slog.Default()
			return runFakeProviders(cmd.Context(), addr, opts)
		},
	}
	f := c.Flags()
	f.StringVar(&addr, "http", "127.0.0.1:9090", "listen address; central's --provider-url is http://ADDR")
	f.StringVar(&programsDir, "programs", "", "central's --programs directory: its steps' AlimTalk templates are registered too")
	f.DurationVar(&opts.Latency, "latency", 0, "delay every provider request by this much (e.g. 20ms)")
	f.StringArrayVar(&faults, "fault", nil, "CHANNEL=KIND:RATE, repeatable (e.g. kakao=notuser:0.1; kakao.nhn or kakao.sens for one of kakao's providers)")
	f.StringVar(&opts.ReceiptsURL, "receipts", "", "POST delivery receipts to this URL (central's http://127.0.0.1:8080/api/v1/receipts)")
	f.Float64Var(&opts.Undeliverable, "undeliverable", 0, "fraction of accepted messages whose receipt says failed (0 to 1)")
	f.Int64Var(&opts.Seed, "seed", 1, "seed of the random faults, for reproducible runs")
	f.BoolVar(&opts.NoDedupe, "no-dedupe", false, "take every request as new, as NHN Cloud and Naver SENS do: a resent key is accepted, listed and counted (repeats) again")
	f.BoolVar(&keepText, "keep-text", true, "keep every message's number and text (false for benchmarks: keys and counts only)")
	f.StringVar(&templatesFile, "templates", "", "JSON file {\"CODE\": \"text with #{name}\"} to render kakao template sends")
	return c
}

func runFakeProviders(ctx context.Context, addr string, opts channel.FakeOptions) error {
	fake := channel.NewFake(opts)
	defer fake.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fake providers: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("fake providers listening", "url", "http://"+ln.Addr().String(), "faults", len(opts.Faults),
		"latency", opts.Latency, "receipts", opts.ReceiptsURL, "keepText", !opts.Lean, "noDedupe", opts.NoDedupe)
	select {
	case err := <-errc:
		return fmt.Errorf("fake providers: %w", err)
	case <-ctx.Done():
	}
	slog.Info("fake providers stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

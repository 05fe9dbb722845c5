// Command allimi is Allimi's central service and its tools: `allimi central
// serve`, kiosk and catalog administration, the headless kiosk simulator
// and the benchmarks.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"allimi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "allimi",
		Short:         "Allimi: public-service notifications for people who never install an app",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn, error")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		lv, _ := cmd.Flags().GetString("log-level")
		var level slog.Level
		if err := level.UnmarshalText([]byte(lv)); err != nil {
			return fmt.Errorf("--log-level %q: %w", lv, err)
		}
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
		return nil
	}
	root.AddCommand(centralCmd(), kioskSimCmd(), benchCmd(), fakeProvidersCmd(), subsidyCmd(), consultCmd(), voiceCmd(), programCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "allimi:", err)
		os.Exit(exitCode(err))
	}
}

// usageError marks errors in what the user typed: exit code 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func exitCode(err error) int {
	var u usageError
	if ok := asUsage(err, &u); ok {
		return 2
	}
	return 1
}

func asUsage(err error, u *usageError) bool {
	for err != nil {
		if x, ok := err.(usageError); ok {
			*u = x
			return true
		}
		w, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = w.Unwrap()
	}
	return false
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// parseList reads a comma-separated flag value, checking each item with parse.
func parseList[T any](flag, value string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, s := range strings.Split(value, ",") {
		v, err := parse(strings.TrimSpace(s))
		if err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", flag, err)}
		}
		out = append(out, v)
	}
	return out, nil
}

// parseChannels reads a --channels value such as "kakao,sms".
func parseChannels(value string) ([]allimi.Channel, error) {
	return parseList("--channels", value, func(s string) (allimi.Channel, error) {
		ch := allimi.Channel(s)
		return ch, ch.Validate()
	})
}

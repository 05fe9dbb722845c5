package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"allimi/voice"
	"allimi/voice/sherpa"
)

// voiceCmd is `allimi voice`: speech for the kiosk.
func voiceCmd() *cobra.Command {
	c := &cobra.Command{Use: "voice", Short: "Speech for the kiosk: synthesis (espeak-ng) and the speech-recognition model check"}
	var lang, out string
	say := &cobra.Command{
		Use:   `say [--lang ko] --out FILE "text"`,
		Short: "Speak text into a WAV file as the kiosk would (numbers, money, dates and phone numbers read as spoken)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{fmt.Errorf("--out: required")}
			}
			wav, err := voice.Espeak{}.Synthesize(cmd.Context(), lang, strings.Join(args, " "))
			if err != nil {
				return usageError{err}
			}
			return os.WriteFile(out, wav, 0o644)
		},
	}
	say.Flags().StringVar(&lang, "lang", "ko", "language: ko, en, ja, zh, th, vi")
	say.Flags().StringVar(&out, "out", "", "WAV `file` to write")
	normalize := &cobra.Command{
		Use:   `normalize "text"`,
		Short: "Print Korean text as it will be spoken",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Println(voice.Normalize(strings.Join(args, " ")))
			return nil
		},
	}
	c.AddCommand(say, normalize, checkModelCmd(), loadModelCmd())
	return c
}

// checkModelCmd is `allimi voice check-model DIR`.
func checkModelCmd() *cobra.Command {
	var asJSON, noLoad bool
	c := &cobra.Command{
		Use:   "check-model [--json] [--no-load] DIR",
		Short: "Check a speech-recognition model directory (SenseVoice or Whisper for sherpa-onnx): kind, files, sizes; exit 1 when unusable",
		Long: `Check a speech-recognition model directory before the kiosk or consult --wav
uses it: the files are there, every ONNX file is whole and of the right kind,
tokens.txt matches the model. Then, unless --no-load, the model is loaded by
sherpa-onnx in a child process and given one second of silence: sherpa-onnx
ends the process it runs in on a model it cannot use, so the check does it
where that harms nothing. Exit 1 with the reason when the model is unusable.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheckModel(cmd.Context(), cmd.OutOrStdout(), args[0], asJSON, !noLoad)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&noLoad, "no-load", false, "only check the files; do not load the model")
	return c
}

func runCheckModel(ctx context.Context, w io.Writer, dir string, asJSON, load bool) error {
	info, err := voice.CheckModel(dir)
	if err != nil {
		return err
	}
	loaded := "not tried (--no-load)"
	if load {
		if err := loadInChild(ctx, dir); err != nil {
			return err
		}
		loaded = "loaded by sherpa-onnx and ran on one second of silence"
	}
	if asJSON {
		return printJSON(w, struct {
			voice.ModelInfo
			Load string `json:"load"`
		}{info, loaded})
	}
	fmt.Fprintf(w, "%s: %s model, %d tokens\n", info.Dir, info.Kind, info.Tokens)
	for _, f := range info.Files {
		fmt.Fprintf(w, "  %-8s %s (%s)\n", f.Role, f.Path, humanSize(f.Size))
	}
	_, err = fmt.Fprintf(w, "load: %s\n", loaded)
	return err
}

// loadInChild runs `allimi voice load-model DIR`: a trial load where an
// abort of sherpa-onnx harms nothing.
func loadInChild(ctx context.Context, dir string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this program to load the model in a child process: %w", err)
	}
	return sherpa.LoadInChild(ctx, dir, exe, "voice", "load-model", dir)
}

// loadModelCmd is the child of check-model: load the model, decode one
// second of silence, print "ok". It may be ended by sherpa-onnx itself.
func loadModelCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "load-model DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sherpa.TrialLoad(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), sherpa.TrialOK)
			return err
		},
	}
}

// openRecognizer checks the model in dir and loads it; "" means none is
// installed (nil, nil).
func openRecognizer(ctx context.Context, dir string) (voice.Recognizer, error) {
	if dir == "" {
		return nil, nil
	}
	info, err := voice.CheckModel(dir)
	if err != nil {
		return nil, usageError{fmt.Errorf("--asr-model: %w (check it with: allimi voice check-model %s)", err, dir)}
	}
	// A model that passes the checks may still make sherpa-onnx abort
	// (an export it does not know): try it in a child first.
	if err := loadInChild(ctx, dir); err != nil {
		return nil, usageError{fmt.Errorf("--asr-model: %w", err)}
	}
	return sherpa.NewRecognizer(info)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

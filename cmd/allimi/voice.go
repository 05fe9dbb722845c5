package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"allimi/voice"
)

// voiceCmd is `allimi voice`: speech for the kiosk.
func voiceCmd() *cobra.Command {
	c := &cobra.Command{Use: "voice", Short: "Speech synthesis for the kiosk (espeak-ng)"}
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
	c.AddCommand(say, normalize)
	return c
}

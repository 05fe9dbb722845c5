// Command allimi-kiosk is the touch-screen kiosk of 알리미: a Fyne window
// showing the kiosk's home screen.
//
//	allimi-kiosk [--config kiosk.json] [--data ./kiosk-data] [--fullscreen]
//
// The config file is the JSON that `allimi central kiosk add --json` prints.
// The screens live in package kiosk; this command only creates the real
// (cgo, OpenGL) application around them.
package main

import (
	"flag"
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"allimi/kiosk"
	_ "allimi/kiosk/localefix" // before Fyne reads the locale
)

const appID = "kr.allimi.kiosk"

func main() {
	configPath := flag.String("config", "", "kiosk config `file` (JSON from 'allimi central kiosk add --json')")
	dataDir := flag.String("data", "./kiosk-data", "`directory` for the kiosk's local data")
	fullscreen := flag.Bool("fullscreen", false, "fill the screen (for the real kiosk)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: allimi-kiosk [flags]\n\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "allimi-kiosk: unexpected argument %q\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}

	cfg, err := kiosk.LoadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "allimi-kiosk: %v\n", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "allimi-kiosk: data directory: %v\n", err)
		os.Exit(1)
	}

	a := app.NewWithID(appID)
	a.Settings().SetTheme(kiosk.NewTheme())

	w := a.NewWindow(kiosk.Title)
	w.SetContent(kiosk.NewHome(w, cfg))
	w.Resize(fyne.NewSize(1280, 800))
	w.SetFullScreen(*fullscreen)
	w.CenterOnScreen()
	w.SetMaster()
	w.ShowAndRun()
}

// Command allimi-kiosk is the touch-screen kiosk of 알리미: a Fyne window
// with the sign-up wizard and staff mode, syncing its records to central
// over MQTT.
//
//	allimi-kiosk [--config kiosk.json] [--data ./kiosk-data] [--fullscreen]
//	allimi-kiosk --screenshots DIR [--langs ko,en]
//	allimi-kiosk --measure-startup [--config kiosk.json] [--data DIR]
//	echo 1234 | allimi-kiosk --hash-pin
//
// The config file is the JSON that `allimi central kiosk add --json` prints,
// plus the officials who may open staff mode ("staff", with PIN hashes from
// --hash-pin). Without a kiosk id the kiosk shows its screens but cannot
// save sign-ups. The screens live in package kiosk; this command only
// creates the real (cgo, OpenGL) application around them and wires the
// outbox, sender and catalogs of the packages under sync/ (outbox, uplink,
// catalog).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"allimi"
	"allimi/consult"
	"allimi/kiosk"
	_ "allimi/kiosk/localefix" // before Fyne reads the locale
	"allimi/kiosk/screenshot"
	"allimi/subsidy"
	"allimi/sync/catalog"
	"allimi/sync/outbox"
	"allimi/sync/uplink"
	"allimi/voice"
)

const appID = "kr.allimi.kiosk"

func main() {
	configPath := flag.String("config", "", "kiosk config `file` (JSON from 'allimi central kiosk add --json')")
	dataDir := flag.String("data", "./kiosk-data", "`directory` for the kiosk's local data")
	fullscreen := flag.Bool("fullscreen", false, "fill the screen (for the real kiosk)")
	shots := flag.String("screenshots", "", "render every screen in every language to `DIR`/{lang}/{screen}.png and exit (no display needed)")
	langs := flag.String("langs", "", "with --screenshots: comma-separated languages (default all six)")
	measure := flag.Bool("measure-startup", false, "open the home screen, print {\"startupMs\",\"peakRSSMiB\"} as JSON and exit")
	hashPIN := flag.Bool("hash-pin", false, "read a staff PIN from standard input and print its hash for the config's staff list")
	enrolCode := flag.String("enrol", "", "one-time `code` from 'allimi central kiosk enrol': fetch this kiosk's credentials into --config and exit")
	centralURL := flag.String("central", "http://127.0.0.1:8080", "central's HTTP address, for --enrol and the first-run enrolment screen")
	flag.StringVar(&voiceFlags.asrModel, "asr-model", "", "speech-recognition model `dir` (SenseVoice or Whisper for sherpa-onnx; check it with allimi voice check-model); none: spoken questions go to an official")
	flag.StringVar(&voiceFlags.vadModel, "vad-model", "", "Silero VAD `file` for the microphone (default: $ALLIMI_SILERO_MODEL, ./.cache/models/silero_vad.onnx or /usr/share/allimi/models/silero_vad.onnx; none: an energy detector)")
	flag.StringVar(&voiceFlags.worker, "voice-worker", "", "the allimi-voice `program` that runs the voice models (default: beside allimi-kiosk, else on $PATH)")
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
	if *enrolCode != "" {
		id, err := enrol(context.Background(), *centralURL, *enrolCode, *configPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "allimi-kiosk: enrol: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("enrolled as kiosk %s; credentials in %s\n", id, *configPath)
		return
	}
	if err := run(*configPath, *dataDir, *centralURL, *fullscreen, *shots, *langs, *measure, *hashPIN); err != nil {
		fmt.Fprintf(os.Stderr, "allimi-kiosk: %v\n", err)
		os.Exit(1)
	}
}

func run(configPath, dataDir, centralURL string, fullscreen bool, shots, langList string, measure, hashPIN bool) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)

	switch {
	case hashPIN:
		return printPINHash()
	case shots != "":
		langs, err := parseLangs(langList)
		if err != nil {
			return err
		}
		return screenshot.RenderAll(shots, langs, log)
	}

	cfg, err := kiosk.LoadConfig(configPath)
	if err != nil {
		return err
	}
	opt := kiosk.Options{Config: cfg, Logger: log}
	if !measure && shots == "" {
		// Read aloud with espeak-ng on the sound card; a kiosk without
		// either logs it and carries on silently.
		opt.Speaker = kioskSpeaker{&voice.Speaker{Player: malgoPlayer{}, Log: log}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopSync := func() {}
	restart := false
	var a fyne.App
	if cfg.ID != "" {
		if stopSync, err = startSync(ctx, cfg, dataDir, &opt, log); err != nil {
			return err
		}
	} else if configPath != "" && !measure {
		// First run: the enrolment screen, then on to the home screen
		// with sync started on the credentials it wrote.
		log.Info("no kiosk id in the config: showing the enrolment screen", "config", configPath)
		opt.FirstRun = &kiosk.FirstRun{ConfigPath: configPath, CentralURL: centralURL,
			Ready: func(c kiosk.Config) (kiosk.Options, error) {
				next := kiosk.Options{Config: c, Logger: log, Speaker: opt.Speaker}
				stop, err := startSync(ctx, c, dataDir, &next, log)
				if err != nil {
					return next, err
				}
				// The voice is wired to the adviser the kiosk goes on with.
				unwire := wireVoice(ctx, next.Voice, log)
				stopSync = func() { unwire(); stop() }
				return next, nil
			},
			Restart: func() { restart = true; a.Quit() },
		}
	} else {
		log.Warn("no kiosk id in the config: sign-ups cannot be saved", "config", configPath)
	}
	defer func() { stopSync() }()
	if opt.Subsidy == nil {
		// No catalog store (unregistered kiosk, or no catalog key): the
		// demo catalog, which says on screen that it is one.
		if opt.Subsidy, err = subsidyFinder(cfg, nil, log); err != nil {
			return err
		}
	}

	if opt.Voice == nil {
		// No catalog store: the knowledge base the kiosk ships with.
		if opt.Voice, err = consultAdviser(nil, log); err != nil {
			return err
		}
	}

	if !measure && opt.FirstRun == nil {
		// The microphone and, with --asr-model, the recogniser (after
		// enrolment on a first run).
		defer wireVoice(ctx, opt.Voice, log)()
	}

	a = app.NewWithID(appID)
	w := a.NewWindow("알리미")
	w.Resize(kiosk.ScreenshotSize)
	u := kiosk.New(w, opt)
	u.Start()
	w.SetFullScreen(fullscreen)
	w.CenterOnScreen()
	w.SetMaster()
	if measure {
		a.Lifecycle().SetOnStarted(func() {
			// OnStarted runs once the window is shown; a round trip through
			// the event loop lets it lay out and draw the home screen.
			go func() {
				fyne.DoAndWait(func() {})
				m, err := measureStartup()
				if err != nil {
					log.Error("startup not measured", "err", err)
				} else {
					_ = json.NewEncoder(os.Stdout).Encode(m)
				}
				fyne.Do(a.Quit)
			}()
		})
	}
	w.ShowAndRun()
	if restart {
		// The service manager starts the kiosk again, now enrolled.
		return errors.New("enrolled; restarting to start sync")
	}
	return nil
}

// startSync opens the kiosk's data file and starts sending its outbox to
// central; the returned function stops the sender and closes the file.
func startSync(ctx context.Context, cfg kiosk.Config, dataDir string, opt *kiosk.Options, log *slog.Logger) (func(), error) {
	db, err := outbox.OpenDB(dataDir)
	if err != nil {
		return nil, err
	}
	ob, err := outbox.Open(db, cfg.ID)
	if err != nil {
		db.Close()
		return nil, err
	}
	var cats *catalog.Store
	if cfg.CatalogKey != "" {
		pub, err := catalog.DecodePublicKey(cfg.CatalogKey)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("config catalogKey: %w", err)
		}
		if cats, err = catalog.NewStore(db, pub); err != nil {
			db.Close()
			return nil, err
		}
	}
	finder, err := subsidyFinder(cfg, cats, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	opt.Subsidy = finder
	adviser, err := consultAdviser(cats, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	opt.Voice = adviser
	installTypes(cats, log)
	today, err := kiosk.OpenBoltToday(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	conn, err := cfg.Conn()
	if err != nil {
		db.Close()
		return nil, err
	}
	sender := uplink.NewSender(uplink.Config{
		Conn:     conn,
		Catalogs: cats,
		Logger:   log,
	}, ob)
	opt.Recorder = ob
	opt.Today = today
	opt.Health = kiosk.SyncHealth{Outbox: ob, Sender: sender, Catalogs: cats}
	// Verification codes and consent conflicts are asked of central over
	// the same connection; offline, they fail at once and the kiosk goes
	// on (sign-ups unverified, conflicts "cannot be shown").
	ask := uplink.NewCentral(sender)
	opt.Verifier = ask
	opt.Conflicts = ask
	// Questions for an official go through the outbox like sign-ups, so
	// they wait out a network that is down; answers are asked of central.
	adviser.Handover = kiosk.NewSyncHandover(ob, ask)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The sender retries the broker by itself; it returns early only
		// when the broker refuses the kiosk's credentials. The kiosk stays
		// up either way: records wait in the outbox.
		if err := sender.Run(runCtx); err != nil {
			log.Error("sync stopped; records stay in the outbox", "err", err)
		}
	}()
	return func() {
		stop()
		<-done
		if err := db.Close(); err != nil {
			log.Error("closing kiosk data", "err", err)
		}
	}, nil
}

// subsidyFinder is 보조금 찾기 on the catalog central published (the demo
// catalog until one is installed), switching to each new catalog as the
// store installs it.
func subsidyFinder(cfg kiosk.Config, cats *catalog.Store, log *slog.Logger) (*kiosk.SubsidyFinder, error) {
	region, err := subsidy.ParseRegion(cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("config region: %w", err)
	}
	var get func(string) ([]byte, error)
	if cats != nil {
		get = func(name string) ([]byte, error) {
			_, body, err := cats.Get(name)
			return body, err
		}
	}
	cat, err := kiosk.LoadSubsidyCatalog(get, log)
	if err != nil {
		return nil, err
	}
	f := kiosk.NewSubsidyFinder(cat, region)
	if cats != nil {
		cats.OnInstalled = func(m catalog.Manifest) {
			if m.Name != subsidy.CatalogName {
				return
			}
			body, err := get(m.Name)
			var cat *subsidy.Catalog
			if err == nil {
				cat, err = subsidy.Decode(body)
			}
			if err != nil {
				// The catalog shown so far stays.
				log.Error("new subsidy catalog not loaded", "version", m.Version, "err", err)
				return
			}
			f.SetCatalog(cat)
			log.Info("subsidy catalog installed", "version", m.Version, "services", cat.Len())
		}
	}
	return f, nil
}

// consultAdviser is 말로 물어보기 on the knowledge base central published
// (the built-in one until one is installed), indexing each new one as the
// store installs it. It chains the store's OnInstalled after the subsidy
// finder's.
func consultAdviser(cats *catalog.Store, log *slog.Logger) (*kiosk.Adviser, error) {
	var get func(string) ([]byte, error)
	if cats != nil {
		get = func(name string) ([]byte, error) {
			_, body, err := cats.Get(name)
			return body, err
		}
	}
	a := kiosk.NewLazyAdviser(func() (*consult.Index, error) {
		ix, err := kiosk.LoadConsultIndex(get, log)
		if err != nil {
			log.Error("consultation index not built", "err", err)
		}
		return ix, err
	})
	if cats != nil {
		prev := cats.OnInstalled
		cats.OnInstalled = func(m catalog.Manifest) {
			if prev != nil {
				prev(m)
			}
			if m.Name != consult.CatalogName {
				return
			}
			body, err := get(m.Name)
			var ix *consult.Index
			if err == nil {
				ix, err = kiosk.ConsultIndex(body)
			}
			if err != nil {
				// The knowledge base searched so far stays.
				log.Error("new consultation catalog not loaded", "version", m.Version, "err", err)
				return
			}
			a.SetIndex(ix)
			log.Info("consultation catalog installed", "version", m.Version, "entries", ix.Len())
		}
	}
	return a, nil
}

// installTypes makes known the types of central's types' catalog, the one
// installed now and each new one as the store installs it (chained after
// the store's OnInstalled).
func installTypes(cats *catalog.Store, log *slog.Logger) {
	if cats == nil {
		return
	}
	install := func() {
		_, body, err := cats.Get(allimi.TypesCatalog)
		if err != nil {
			return // none yet: the built-in types
		}
		n, err := kiosk.InstallTypes(body)
		if err != nil {
			log.Error("types' catalog not installed", "err", err)
			return
		}
		log.Info("types' catalog installed", "types", n)
	}
	install()
	prev := cats.OnInstalled
	cats.OnInstalled = func(m catalog.Manifest) {
		if prev != nil {
			prev(m)
		}
		if m.Name == allimi.TypesCatalog {
			install()
		}
	}
}

func parseLangs(s string) ([]kiosk.Lang, error) {
	if strings.TrimSpace(s) == "" {
		return kiosk.Langs, nil
	}
	var out []kiosk.Lang
	for _, f := range strings.Split(s, ",") {
		l := kiosk.Lang(strings.TrimSpace(f))
		if !l.Valid() {
			return nil, fmt.Errorf("--langs: unknown language %q (know %v)", l, kiosk.Langs)
		}
		out = append(out, l)
	}
	return out, nil
}

func printPINHash() error {
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, os.ErrClosed) && line == "" {
		return fmt.Errorf("read PIN from standard input: %w", err)
	}
	h, err := kiosk.HashPIN(strings.TrimSpace(line))
	if err != nil {
		return err
	}
	fmt.Println(h)
	return nil
}

// startupFigures is what --measure-startup prints.
type startupFigures struct {
	StartupMs  int64   `json:"startupMs"`
	PeakRSSMiB float64 `json:"peakRSSMiB"`
	AnonMiB    float64 `json:"rssAnonMiB"`
	FileMiB    float64 `json:"rssFileMiB"`
}

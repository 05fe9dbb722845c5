package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"allimi/kiosk"
)

// enrol trades a one-time code from `allimi central kiosk enrol` for the
// kiosk's credentials and writes them into the config file, readable only
// by the kiosk's user; settings already in the file (staff, region, …)
// are kept. The first-run screen does the same (kiosk.Enrol).
func enrol(ctx context.Context, centralURL, code, configPath string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg, err := kiosk.Enrol(ctx, nil, centralURL, code, configPath)
	if err != nil {
		// The sentence the screen shows, in English, and the cause.
		var ie *kiosk.InputError
		if errors.As(err, &ie) {
			if ie.Err != nil {
				return "", fmt.Errorf("%s (%v)", ie.Message(kiosk.LangEn), ie.Err)
			}
			return "", errors.New(ie.Message(kiosk.LangEn))
		}
		return "", err
	}
	return cfg.ID, nil
}

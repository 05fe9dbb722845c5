package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// enrol trades a one-time code from `allimi central kiosk enrol` for the
// kiosk's credentials and writes them into the config file, readable only
// by the kiosk's user; settings already in the file (staff, region, …)
// are kept.
func enrol(ctx context.Context, centralURL, code, configPath string) (string, error) {
	if configPath == "" {
		return "", errors.New("--enrol needs --config: the file to write the credentials to")
	}
	body, _ := json.Marshal(map[string]string{"code": code})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(centralURL, "/")+"/api/v1/enrol", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("--central %q: %w", centralURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("central at %s: %w", centralURL, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(answer, &e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return "", fmt.Errorf("central refused the code: %s", e.Error)
	}
	var got map[string]any
	if err := json.Unmarshal(answer, &got); err != nil || got["id"] == nil || got["password"] == nil {
		return "", fmt.Errorf("central's answer is not a kiosk's credentials: %s", answer)
	}
	cfg := map[string]any{}
	if old, err := os.ReadFile(configPath); err == nil && len(bytes.TrimSpace(old)) > 0 {
		if err := json.Unmarshal(old, &cfg); err != nil {
			return "", fmt.Errorf("%s: %w (fix or remove it before enrolling)", configPath, err)
		}
	}
	for _, k := range []string{"id", "username", "password", "catalogKey", "broker"} {
		if v, ok := got[k]; ok {
			cfg[k] = v
		}
	}
	out, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.MkdirAll(filepath.Dir(configPath), 0o700); err != nil {
		return "", err
	}
	tmp := configPath + ".tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, configPath); err != nil {
		return "", err
	}
	return fmt.Sprint(got["id"]), nil
}

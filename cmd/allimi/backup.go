package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"allimi/central"
)

// downloadBackup fetches GET /api/v1/backup into out, atomically: the file
// appears only once the copy is whole and checked.
func downloadBackup(ctx context.Context, url, token, out string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(url, "/")+"/api/v1/backup", nil)
	if err != nil {
		return 0, usageError{fmt.Errorf("--url: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("backup: central at %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("backup: central answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	tmp := out + ".part"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = central.VerifyBackup(tmp)
	}
	if err != nil {
		os.Remove(tmp)
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, os.Rename(tmp, out)
}

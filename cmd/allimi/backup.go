package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"allimi"
	"allimi/central"
	"allimi/central/keyring"
)

// adminToken is token, or else the admin token of the keys.json in data.
func adminToken(token, data string) (string, error) {
	if token != "" {
		return token, nil
	}
	keys, err := keyring.Load(data)
	if err != nil {
		return "", usageError{fmt.Errorf("--token not given and no keys in --data %s: %w", data, err)}
	}
	return keys.AdminToken, nil
}

// adminDo sends an admin request to central's HTTP API at url.
func adminDo(ctx context.Context, method, url, path, token string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(url, "/")+path, body)
	if err != nil {
		return nil, usageError{fmt.Errorf("--url: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("central at %s: %w", url, err)
	}
	return resp, nil
}

// downloadBackup fetches GET /api/v1/backup into out, atomically: the file
// appears only once the copy is whole and checked.
func downloadBackup(ctx context.Context, url, token, out string) (int64, error) {
	resp, err := adminDo(ctx, http.MethodGet, url, "/api/v1/backup", token, nil)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
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

// verifyAuditOnline asks a running central to verify its audit log.
func verifyAuditOnline(ctx context.Context, url, token, data string) (allimi.AuditReport, error) {
	var r allimi.AuditReport
	token, err := adminToken(token, data)
	if err != nil {
		return r, err
	}
	resp, err := adminDo(ctx, http.MethodGet, url, "/api/v1/audit/verify", token, nil)
	if err != nil {
		return r, fmt.Errorf("audit: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil {
		return r, fmt.Errorf("audit: central answered %s", resp.Status)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return r, nil
	case http.StatusConflict:
		return r, fmt.Errorf("audit log broken at entry %d: %s", r.Broken, r.Reason)
	}
	return r, fmt.Errorf("audit: central answered %s", resp.Status)
}

// enrolOnline asks a running central for an enrolment code.
func enrolOnline(ctx context.Context, url, data, id string, ttl time.Duration) (string, time.Time, error) {
	token, err := adminToken("", data)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("central is running: %w", err)
	}
	body := strings.NewReader(fmt.Sprintf(`{"ttl":%q}`, ttl.String()))
	resp, err := adminDo(ctx, http.MethodPost, url, "/api/v1/kiosks/"+id+"/enrol", token, body)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("enrol: %w", err)
	}
	defer resp.Body.Close()
	var r struct {
		Code    string    `json:"code"`
		Expires time.Time `json:"expires"`
		Error   string    `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
		return "", time.Time{}, fmt.Errorf("enrol: central answered %s: %s", resp.Status, r.Error)
	}
	return r.Code, r.Expires, nil
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDownloadBackup_ABadCopyLeavesNoFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, "admin token required", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("this is not a bbolt file"))
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "backup.db")

	_, err := downloadBackup(context.Background(), srv.URL, "bad", out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	_, err = downloadBackup(context.Background(), srv.URL, "good", out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a database")
	_, statErr := os.Stat(out)
	assert.True(t, os.IsNotExist(statErr), "no file that looks like a backup")
	_, statErr = os.Stat(out + ".part")
	assert.True(t, os.IsNotExist(statErr))
}

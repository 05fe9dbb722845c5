package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central"
)

func TestLoadConfigFile_QuestionAudioRetention(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		flags   []string
		keep    time.Duration
		maxAge  time.Duration
		wantErr string
	}{
		{"defaults: delete with the answer, 30 days at most", "senders: 4\n", nil, 0, 30 * 24 * time.Hour, ""},
		{"file keeps a week for review", "question-audio-keep: 168h\nquestion-audio-max-age: 720h\n", nil, 168 * time.Hour, 720 * time.Hour, ""},
		{"flag wins over file", "question-audio-keep: 168h\n", []string{"--question-audio-keep", "1h"}, time.Hour, 30 * 24 * time.Hour, ""},
		{"negative is refused", "question-audio-keep: -1h\n", nil, 0, 0, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "central.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.file), 0o600))
			cmd := serveCmd()
			require.NoError(t, cmd.Flags().Parse(tc.flags))
			cfg := central.DefaultConfig()
			if len(tc.flags) > 0 {
				cfg.QuestionAudio.KeepAnswered = time.Hour // what the flag set
			}
			err := loadConfigFile(path, &cfg, cmd.Flags())
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Contains(t, err.Error(), path)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.keep, cfg.QuestionAudio.KeepAnswered)
			assert.Equal(t, tc.maxAge, cfg.QuestionAudio.MaxAge)
		})
	}
}

package pg

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/keyring"
	"allimi/internal/pgtest"
)

// TestStats_MigrationCountsThePeoplePerChannel: 0015 counts the people
// with an active grant on each channel from the consents a database of an
// earlier build holds (a person on two types of a channel once; a
// withdrawal not at all).
func TestStats_MigrationCountsThePeoplePerChannel(t *testing.T) {
	url := pgtest.URL(t)
	_, err := migrateTo(context.Background(), url, 14)
	require.NoError(t, err)
	for _, c := range []struct {
		ck, typ, ch, action string
	}{
		{"kim", "health-checkup", "sms", "grant"}, {"kim", "vaccination", "sms", "grant"}, {"kim", "health-checkup", "kakao", "grant"},
		{"lee", "health-checkup", "sms", "grant"}, {"park", "health-checkup", "naver", "withdraw"},
	} {
		exec(t, url, `INSERT INTO consents (ck, type, channel, action, hlc, kiosk, seq, by_kind, by_official, by_method, at)
			VALUES ($1, $2, $3, $4, 1, 'k', 1, 'self', '', '', now())`, []byte(c.ck), c.typ, c.ch, c.action)
	}
	_, err = Migrate(context.Background(), url)
	require.NoError(t, err)
	keys, err := keyring.Load(t.TempDir())
	require.NoError(t, err)
	s, err := Open(context.Background(), url, WithKeys(keys))
	require.NoError(t, err)
	defer s.Close()
	got, err := s.ChannelSubscribers()
	require.NoError(t, err)
	assert.Equal(t, map[allimi.Channel]int64{allimi.ChannelKakao: 1, allimi.ChannelNaver: 0, allimi.ChannelToss: 0, allimi.ChannelSMS: 2}, got)
}

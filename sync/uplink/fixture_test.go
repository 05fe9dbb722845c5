package uplink

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/internal/loadgen"
	"allimi/sync/outbox"
)

// outboxFixture is kiosk k1's bbolt file in a temporary directory with its
// outbox, for a sender to send.
type outboxFixture struct {
	t   *testing.T
	db  *bbolt.DB
	box *outbox.Outbox
}

func newOutboxFixture(t *testing.T) *outboxFixture {
	t.Helper()
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	box, err := outbox.Open(db, "k1")
	require.NoError(t, err)
	return &outboxFixture{t: t, db: db, box: box}
}

// appendN appends n synthetic signups, numbered from first.
func (f *outboxFixture) appendN(first uint64, n int) {
	f.t.Helper()
	drafts := make([]outbox.Draft, n)
	for i := range drafts {
		drafts[i] = loadgen.Signup("k1", first+uint64(i), []allimi.Channel{allimi.ChannelKakao}, time.Now())
	}
	_, err := f.box.Append(drafts...)
	require.NoError(f.t, err)
}

func (f *outboxFixture) state() outbox.State {
	f.t.Helper()
	s, err := f.box.State()
	require.NoError(f.t, err)
	return s
}

func (f *outboxFixture) pendingSeqs(after uint64, limit int) []uint64 {
	f.t.Helper()
	recs, err := f.box.Pending(after, limit)
	require.NoError(f.t, err)
	seqs := []uint64{}
	for _, r := range recs {
		seqs = append(seqs, r.Seq)
	}
	return seqs
}

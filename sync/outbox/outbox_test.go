package outbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/internal/loadgen"
	"allimi/sync/outbox"
	"allimi/sync/wire"
)

// outboxNow is the kiosk's wall clock in these tests.
var outboxNow = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// outboxFixture is a kiosk bbolt file in a temporary directory with an outbox.
type outboxFixture struct {
	t   *testing.T
	dir string
	db  *bbolt.DB
	box *outbox.Outbox
}

func newOutboxFixture(t *testing.T) *outboxFixture {
	t.Helper()
	f := &outboxFixture{t: t, dir: t.TempDir()}
	f.open("k1")
	t.Cleanup(func() {
		if f.db != nil {
			_ = f.db.Close()
		}
	})
	return f
}

func (f *outboxFixture) open(kiosk string) {
	f.t.Helper()
	db, err := outbox.OpenDB(f.dir)
	require.NoError(f.t, err)
	f.db = db
	box, err := outbox.Open(db, kiosk)
	require.NoError(f.t, err)
	outbox.SetClock(box, func() time.Time { return outboxNow })
	f.box = box
}

func (f *outboxFixture) reopen() {
	f.t.Helper()
	require.NoError(f.t, f.db.Close())
	f.db = nil
	f.open("k1")
}

// appendN appends n synthetic signups, numbered from first, and requires success.
func (f *outboxFixture) appendN(first uint64, n int) []allimi.Event {
	f.t.Helper()
	drafts := make([]outbox.Draft, n)
	for i := range drafts {
		drafts[i] = outboxDraft(first + uint64(i))
	}
	events, err := f.box.Append(drafts...)
	require.NoError(f.t, err)
	require.Len(f.t, events, n)
	return events
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

func outboxDraft(n uint64) outbox.Draft {
	return loadgen.Signup("k1", n, []allimi.Channel{allimi.ChannelKakao}, outboxNow)
}

func outboxInvalidDraft() outbox.Draft {
	d := outboxDraft(99)
	d.Citizen.Mobile = "011-1234-5678"
	return d
}

func outboxClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestOutbox_AppendAssignsConsecutiveSeqsFromOne(t *testing.T) {
	f := newOutboxFixture(t)
	first := f.appendN(1, 3)
	second := f.appendN(4, 2)

	var seqs []uint64
	for _, e := range append(first, second...) {
		seqs = append(seqs, e.Seq)
	}
	assert.Equal(t, []uint64{1, 2, 3, 4, 5}, seqs)
}

func TestOutbox_AppendReturnsEventsThatValidate(t *testing.T) {
	f := newOutboxFixture(t)
	events := f.appendN(1, 3)
	for i, e := range events {
		assert.Equal(t, allimi.EventVersion, e.V)
		assert.Equal(t, "k1", e.Kiosk)
		assert.Equal(t, allimi.KindSignup, e.Kind)
		assert.Equal(t, outboxDraft(uint64(i+1)).Citizen, e.Citizen)
		assert.NoError(t, e.Validate(outboxNow), "event %d", e.Seq)
	}
}

func TestOutbox_AppendStoresWhatItReturns(t *testing.T) {
	f := newOutboxFixture(t)
	events := f.appendN(1, 2)
	recs, err := f.box.Pending(0, 10)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for i, r := range recs {
		var e allimi.Event
		require.NoError(t, json.Unmarshal(r.Data, &e))
		assert.Equal(t, events[i].Seq, r.Seq)
		assert.Equal(t, events[i].Seq, e.Seq)
		assert.Equal(t, events[i].HLC, e.HLC)
		assert.Equal(t, events[i].Citizen, e.Citizen)
		assert.JSONEq(t, string(events[i].Payload), string(e.Payload))
	}
}

func TestOutbox_HLCIncreasesWithinABatchAndWhenTheClockStepsBack(t *testing.T) {
	f := newOutboxFixture(t)
	batch := f.appendN(1, 3)
	assert.Equal(t, allimi.NextHLC(0, outboxNow), batch[0].HLC)
	assert.Equal(t, batch[0].HLC+1, batch[1].HLC)
	assert.Equal(t, batch[1].HLC+1, batch[2].HLC)

	outbox.SetClock(f.box, func() time.Time { return outboxNow.Add(-time.Hour) })
	back := f.appendN(4, 1)
	assert.Greater(t, back[0].HLC, batch[2].HLC)

	// The clock survives a restart too.
	f.reopen()
	outbox.SetClock(f.box, func() time.Time { return outboxNow.Add(-2 * time.Hour) })
	again := f.appendN(5, 1)
	assert.Greater(t, again[0].HLC, back[0].HLC)
}

func TestOutbox_RecordsSurviveReopening(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 3)
	before, err := f.box.Pending(0, 10)
	require.NoError(t, err)

	f.reopen()
	after, err := f.box.Pending(0, 10)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.Equal(t, outbox.State{Pending: 3, LastSeq: 3}, f.state())

	next := f.appendN(4, 1)
	assert.Equal(t, uint64(4), next[0].Seq)
}

func TestOutbox_AppendOfAnInvalidDraftStoresNothing(t *testing.T) {
	f := newOutboxFixture(t)
	ch := f.box.Changed()

	events, err := f.box.Append(outboxDraft(1), outboxInvalidDraft(), outboxDraft(3))
	require.Error(t, err)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	assert.Contains(t, err.Error(), "record 2")
	assert.Nil(t, events)

	assert.Equal(t, outbox.State{}, f.state())
	assert.Empty(t, f.pendingSeqs(0, 10))
	assert.False(t, outboxClosed(ch), "a refused append wakes nobody")

	// The refused batch consumed no sequence number.
	ok := f.appendN(1, 1)
	assert.Equal(t, uint64(1), ok[0].Seq)
}

func TestOutbox_AppendRefusesBadKind(t *testing.T) {
	f := newOutboxFixture(t)
	d := outboxDraft(1)
	d.Kind = "delete"
	_, err := f.box.Append(d)
	require.Error(t, err)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	assert.Equal(t, outbox.State{}, f.state())
}

func TestOutbox_PendingAfterAndLimit(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 5)
	for _, tc := range []struct {
		after uint64
		limit int
		want  []uint64
	}{
		{0, 10, []uint64{1, 2, 3, 4, 5}},
		{0, 2, []uint64{1, 2}},
		{2, 2, []uint64{3, 4}},
		{4, 10, []uint64{5}},
		{5, 10, []uint64{}},
		{9, 10, []uint64{}},
		{0, 0, []uint64{}},
	} {
		t.Run(fmt.Sprintf("after %d limit %d", tc.after, tc.limit), func(t *testing.T) {
			assert.Equal(t, tc.want, f.pendingSeqs(tc.after, tc.limit))
		})
	}
}

func TestOutbox_AckDeletesUpToAndIncluding(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 5)

	deleted, err := f.box.Ack(3)
	require.NoError(t, err)
	assert.Equal(t, 3, deleted)
	assert.Equal(t, []uint64{4, 5}, f.pendingSeqs(0, 10))
	assert.Equal(t, outbox.State{Pending: 2, LastSeq: 5, LastAck: 3}, f.state())
}

func TestOutbox_AckAtOrBelowTheLastIsIdempotent(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 5)
	_, err := f.box.Ack(3)
	require.NoError(t, err)

	for _, upTo := range []uint64{0, 1, 3} {
		t.Run(fmt.Sprint(upTo), func(t *testing.T) {
			deleted, err := f.box.Ack(upTo)
			require.NoError(t, err)
			assert.Zero(t, deleted)
			assert.Equal(t, []uint64{4, 5}, f.pendingSeqs(0, 10))
			assert.Equal(t, outbox.State{Pending: 2, LastSeq: 5, LastAck: 3}, f.state())
		})
	}
}

func TestOutbox_AckBeyondLastSeqRefusedAndDeletesNothing(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 3)
	ch := f.box.Changed()

	deleted, err := f.box.Ack(4)
	require.Error(t, err)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	assert.Contains(t, err.Error(), "last record written is 3")
	assert.Zero(t, deleted)
	assert.Equal(t, []uint64{1, 2, 3}, f.pendingSeqs(0, 10))
	assert.Equal(t, outbox.State{Pending: 3, LastSeq: 3}, f.state())
	assert.False(t, outboxClosed(ch), "a refused ack wakes nobody")
}

func TestOutbox_AckOnAnEmptyOutboxRefused(t *testing.T) {
	f := newOutboxFixture(t)
	_, err := f.box.Ack(1)
	require.Error(t, err)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	assert.Equal(t, outbox.State{}, f.state())
}

func TestOutbox_SeqNeverReusedAfterEverythingIsAcked(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 3)
	deleted, err := f.box.Ack(3)
	require.NoError(t, err)
	require.Equal(t, 3, deleted)
	require.Equal(t, outbox.State{LastSeq: 3, LastAck: 3}, f.state())

	next := f.appendN(4, 1)
	assert.Equal(t, uint64(4), next[0].Seq)

	f.reopen()
	again := f.appendN(5, 1)
	assert.Equal(t, uint64(5), again[0].Seq)
	assert.Equal(t, []uint64{4, 5}, f.pendingSeqs(0, 10))
}

func TestOutbox_OpenForAnotherKioskRefused(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 1)

	_, err := outbox.Open(f.db, "k2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `belongs to kiosk "k1", not "k2"`)
	assert.Contains(t, err.Error(), "use another data directory")
	assert.Contains(t, err.Error(), filepath.Join(f.dir, outbox.DBFile))

	// Also after a restart, and the records are left alone.
	require.NoError(t, f.db.Close())
	db, err := outbox.OpenDB(f.dir)
	require.NoError(t, err)
	f.db = db
	_, err = outbox.Open(db, "k2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `belongs to kiosk "k1"`)

	box, err := outbox.Open(db, "k1")
	require.NoError(t, err)
	assert.Equal(t, "k1", box.Kiosk())
	st, err := box.State()
	require.NoError(t, err)
	assert.Equal(t, outbox.State{Pending: 1, LastSeq: 1}, st)
}

func TestOutbox_OpenRefusesInvalidKioskID(t *testing.T) {
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	for _, id := range []string{"", "K1", "k/1", "k+1"} {
		t.Run(id, func(t *testing.T) {
			_, err := outbox.Open(db, id)
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
		})
	}
}

func TestOutbox_StateCounters(t *testing.T) {
	f := newOutboxFixture(t)
	assert.Equal(t, outbox.State{}, f.state())

	f.appendN(1, 4)
	assert.Equal(t, outbox.State{Pending: 4, LastSeq: 4}, f.state())

	_, err := f.box.Ack(2)
	require.NoError(t, err)
	assert.Equal(t, outbox.State{Pending: 2, LastSeq: 4, LastAck: 2}, f.state())

	f.appendN(5, 1)
	assert.Equal(t, outbox.State{Pending: 3, LastSeq: 5, LastAck: 2}, f.state())

	_, err = f.box.Ack(5)
	require.NoError(t, err)
	assert.Equal(t, outbox.State{Pending: 0, LastSeq: 5, LastAck: 5}, f.state())
}

func TestOutbox_ChangedClosesOnAppend(t *testing.T) {
	f := newOutboxFixture(t)
	a, b := f.box.Changed(), f.box.Changed()
	require.False(t, outboxClosed(a))
	f.appendN(1, 1)
	assert.True(t, outboxClosed(a))
	assert.True(t, outboxClosed(b), "every waiter is woken")

	c := f.box.Changed()
	assert.False(t, outboxClosed(c), "a channel taken after the append waits for the next change")
}

func TestOutbox_ChangedClosesOnAck(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 2)
	ch := f.box.Changed()
	require.False(t, outboxClosed(ch))
	_, err := f.box.Ack(1)
	require.NoError(t, err)
	assert.True(t, outboxClosed(ch))
}

func TestOutbox_DBIsTheSharedFile(t *testing.T) {
	f := newOutboxFixture(t)
	assert.Same(t, f.db, f.box.DB())
}

// fileHolds reports whether the kiosk's file holds b anywhere, free pages
// included: what `strings kiosk.db` would show.
func (f *outboxFixture) fileHolds(b string) bool {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join(f.dir, outbox.DBFile))
	require.NoError(f.t, err)
	return bytes.Contains(data, []byte(b))
}

func TestOutbox_AckLeavesNothingOfTheRecordsInTheFile(t *testing.T) {
	f := newOutboxFixture(t)
	events := f.appendN(1, 40)
	var names, mobiles []string
	for _, e := range events {
		names, mobiles = append(names, e.Citizen.Name), append(mobiles, e.Citizen.Mobile)
	}
	require.True(t, f.fileHolds(mobiles[0]), "the record should be in the file before the ack")

	_, err := f.box.Ack(30)
	require.NoError(t, err)
	for i := range 30 {
		assert.False(t, f.fileHolds(mobiles[i]), "acknowledged record %d's mobile is still in kiosk.db", i+1)
		assert.False(t, f.fileHolds(names[i]+`"`), "acknowledged record %d's name is still in kiosk.db", i+1)
	}
	// What is not acknowledged stays, readable.
	assert.True(t, f.fileHolds(mobiles[35]))
	assert.Equal(t, []uint64{31, 32, 33, 34, 35, 36, 37, 38, 39, 40}, f.pendingSeqs(0, 100))
	f.reopen()
	assert.Equal(t, outbox.State{Pending: 10, LastSeq: 40, LastAck: 30}, f.state())
}

func TestOutbox_AckWithAReaderOpenScrubsAtTheNextAppend(t *testing.T) {
	f := newOutboxFixture(t)
	events := f.appendN(1, 20)
	reader, err := f.db.Begin(false) // a screen reading the file at that moment
	require.NoError(t, err)
	_, err = f.box.Ack(20)
	require.NoError(t, err)
	require.NoError(t, reader.Rollback())
	require.True(t, outbox.ScrubDue(f.box), "a scrub with a reader open should be left for later")

	f.appendN(21, 1)
	assert.False(t, outbox.ScrubDue(f.box))
	for _, e := range events {
		assert.False(t, f.fileHolds(e.Citizen.Mobile), "record %d's mobile is still in kiosk.db", e.Seq)
	}
}

func TestOutbox_AppendRefusesARecordCentralWouldNotTakeAndStoresNothing(t *testing.T) {
	f := newOutboxFixture(t)
	f.appendN(1, 1)
	// No draft that validates comes near wire.MaxEventSize today (questions and
	// audio chunks have their own bounds); a lower bound shows the guard.
	outbox.SetMaxRecord(f.box, 300)
	_, err := f.box.Append(outboxDraft(2), outboxDraft(3))
	require.ErrorIs(t, err, wire.ErrOversize)
	assert.Regexp(t, `record 1: \d+ bytes, at most 300`, err.Error())
	assert.Equal(t, outbox.State{Pending: 1, LastSeq: 1}, f.state(), "nothing of the batch is stored")
}

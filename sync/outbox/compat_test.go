package outbox_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/loadgen"
	"allimi/sync/outbox"
)

// testdata/outbox-v1.db.gz is a kiosk file written by the build whose
// drafts had four payload fields, with its clock at v1At, holding
// v1Drafts; testdata/outbox-v1.jsonl is its five records as it stored
// them, one a line.
var v1At = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)

func v1Drafts(t *testing.T) []outbox.Draft {
	signup := loadgen.Signup("sejong-01", 7, []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}, v1At)
	p := signup.Payload.(*allimi.ConsentPayload)
	p.Verified, p.Region, p.Receipt = true, "세종", "4F7K-Q2MX-9TDR"
	consent := outbox.Draft{Kind: allimi.KindConsent, Citizen: signup.Citizen, Payload: &allimi.ConsentPayload{Consents: []allimi.Consent{
		{Type: allimi.Types()[0].ID, Channel: allimi.ChannelSMS, Action: allimi.ActionWithdraw, By: allimi.Actor{Kind: allimi.ActorSelf}, At: v1At}}}}
	feedback := outbox.Draft{Kind: allimi.KindFeedback, Payload: &allimi.FeedbackPayload{Entry: "kb-042", Helpful: true}}
	pcm := make([]byte, 3200)
	for i := range pcm {
		pcm[i] = byte(i * 7)
	}
	question, err := outbox.QuestionDrafts(allimi.QuestionPayload{Code: "ABCD-EFGH-JKMN", Lang: "ko", Reply: "sms", Text: "연금 문의"},
		allimi.Citizen{Name: "김영수", Mobile: "010-1234-5678"}, pcm)
	require.NoError(t, err)
	return append([]outbox.Draft{signup, consent, feedback}, question...)
}

func v1Records(t *testing.T) [][]byte {
	b, err := os.ReadFile(filepath.Join("testdata", "outbox-v1.jsonl"))
	require.NoError(t, err)
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func recordData(t *testing.T, box *outbox.Outbox) [][]byte {
	recs, err := box.Pending(0, 100)
	require.NoError(t, err)
	var out [][]byte
	for _, r := range recs {
		out = append(out, r.Data)
	}
	return out
}

// A kiosk's outbox from before keeps being read and sent as it was
// written: kiosks in the field hold records on disk across an upgrade.
func TestOutbox_AnOutboxWrittenBeforeStillReads(t *testing.T) {
	dir := t.TempDir()
	gz, err := os.Open(filepath.Join("testdata", "outbox-v1.db.gz"))
	require.NoError(t, err)
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	require.NoError(t, err)
	file, err := os.OpenFile(filepath.Join(dir, outbox.DBFile), os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	_, err = io.Copy(file, zr)
	require.NoError(t, err)
	require.NoError(t, file.Close())

	db, err := outbox.OpenDB(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	box, err := outbox.Open(db, "sejong-01")
	require.NoError(t, err)
	assert.Equal(t, v1Records(t), recordData(t, box))
	has, err := box.HasQuestion("ABCD-EFGH-JKMN")
	require.NoError(t, err)
	assert.True(t, has)

	_, err = box.Ack(3)
	require.NoError(t, err)
	events, err := box.Append(loadgen.Signup("sejong-01", 8, []allimi.Channel{allimi.ChannelKakao}, v1At))
	require.NoError(t, err)
	assert.Equal(t, uint64(6), events[0].Seq, "the sequence goes on from the file's")
	st, err := box.State()
	require.NoError(t, err)
	assert.Equal(t, outbox.State{Pending: 3, LastSeq: 6, LastAck: 3}, st)
}

// Drafts of every kind are stored as the same bytes as before: central and
// the outboxes on disk see no difference.
func TestOutbox_AppendWritesTheBytesItWroteBefore(t *testing.T) {
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	box, err := outbox.Open(db, "sejong-01")
	require.NoError(t, err)
	outbox.SetClock(box, func() time.Time { return v1At })
	_, err = box.Append(v1Drafts(t)...)
	require.NoError(t, err)
	want, got := v1Records(t), recordData(t, box)
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, string(want[i]), string(got[i]), "record %d", i+1)
	}
}

// A draft's payload may be a value as well as a pointer: both are written
// the same. A draft without one is refused, and nothing of its batch stored.
func TestOutbox_PayloadByValueOrPointerIsTheSameAndNoneIsRefused(t *testing.T) {
	f := newOutboxFixture(t)
	d := outboxDraft(1)
	byValue := d
	byValue.Payload = *d.Payload.(*allimi.ConsentPayload)
	events, err := f.box.Append(d, byValue)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, string(events[0].Payload), string(events[1].Payload))

	_, err = f.box.Append(outboxDraft(2), outbox.Draft{Kind: allimi.KindFeedback})
	require.ErrorIs(t, err, allimi.ErrInvalid)
	assert.Contains(t, err.Error(), "record 2: a feedback draft without a payload")
	assert.Equal(t, outbox.State{Pending: 2, LastSeq: 2}, f.state())
}

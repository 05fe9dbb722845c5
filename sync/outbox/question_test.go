package outbox_test

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/outbox"
	"allimi/sync/wire"
)

func pcmOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestQuestionDrafts_AppendOneTransactionThatReassembles(t *testing.T) {
	tests := []struct {
		name       string
		audio      int
		wantChunks int
	}{
		{"typed question, no audio", 0, 0},
		{"one short chunk", 3200, 1},
		{"exactly one chunk", allimi.QuestionChunkSize, 1},
		{"60 s", allimi.MaxQuestionAudioBytes, allimi.MaxQuestionChunks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newOutboxFixture(t)
			pcm := pcmOf(tc.audio)
			q := allimi.QuestionPayload{Code: "ABCDE-FGHJK", Lang: "ko", Reply: "sms", Text: "연금 문의"}
			drafts, err := outbox.QuestionDrafts(q, allimi.Citizen{Name: "김영수", Mobile: "010-1234-5678"}, pcm)
			require.NoError(t, err)
			require.Len(t, drafts, tc.wantChunks+1)
			events, err := f.box.Append(drafts...)
			require.NoError(t, err)

			recs, err := f.box.Pending(0, 1000)
			require.NoError(t, err)
			require.Len(t, recs, tc.wantChunks+1)
			got := []byte{}
			for i, r := range recs[:tc.wantChunks] {
				require.Less(t, len(r.Data), wire.MaxEventSize/4*3, "chunk %d must stay well under an up message's limit", i)
				e, err := wire.DecodeEvent(r.Data)
				require.NoError(t, err)
				p, err := e.QuestionAudio()
				require.NoError(t, err)
				assert.Equal(t, i, p.Index)
				got = append(got, p.Data...)
			}
			assert.Equal(t, pcm, got)
			last := events[len(events)-1]
			qp, err := last.Question()
			require.NoError(t, err)
			assert.Equal(t, tc.audio, qp.AudioBytes)
			assert.Equal(t, tc.wantChunks, qp.Chunks)
			if tc.audio > 0 {
				assert.Equal(t, allimi.AudioSHA256(sha256.Sum256(pcm)), qp.SHA256)
			}
			has, err := f.box.HasQuestion("ABCDE-FGHJK")
			require.NoError(t, err)
			assert.True(t, has)
			has, err = f.box.HasQuestion("ZZZZZ-ZZZZZ")
			require.NoError(t, err)
			assert.False(t, has)
		})
	}
}

func TestQuestionDrafts_RefusedQuestionLeavesOutboxAsItWas(t *testing.T) {
	tests := []struct {
		name    string
		q       allimi.QuestionPayload
		contact allimi.Citizen
		audio   int
		wantErr string
	}{
		{"over 60 s", allimi.QuestionPayload{Code: "ABCDE-FGHJK", Lang: "ko", Reply: "kiosk"}, allimi.Citizen{},
			allimi.MaxQuestionAudioBytes + 2, "record a shorter question"},
		{"unknown reply channel", allimi.QuestionPayload{Code: "ABCDE-FGHJK", Lang: "ko", Reply: "fax"},
			allimi.Citizen{Name: "김영수", Mobile: "010-1234-5678"}, 3200, `payload.reply "fax"`},
		{"odd audio length", allimi.QuestionPayload{Code: "ABCDE-FGHJK", Lang: "ko", Reply: "kiosk"}, allimi.Citizen{},
			3201, "need an even length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newOutboxFixture(t)
			before := f.appendN(1, 2)
			drafts, err := outbox.QuestionDrafts(tc.q, tc.contact, pcmOf(tc.audio))
			if err == nil {
				_, err = f.box.Append(drafts...)
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.wantErr)
			st, err := f.box.State()
			require.NoError(t, err)
			assert.Equal(t, outbox.State{Pending: 2, LastSeq: 2}, st, "no chunk of a refused question may stay")
			recs, err := f.box.Pending(0, 10)
			require.NoError(t, err)
			for i, r := range recs {
				var e allimi.Event
				require.NoError(t, json.Unmarshal(r.Data, &e))
				assert.Equal(t, before[i].Seq, e.Seq)
			}
		})
	}
}

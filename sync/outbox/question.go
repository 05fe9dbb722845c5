package outbox

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"allimi"
)

// QuestionDrafts cuts a question's audio (raw 16 kHz mono 16-bit PCM, may
// be empty for a typed question) into chunk drafts and appends the
// question draft after them. Pass all of them to one Outbox.Append, so
// that a power cut keeps the whole question or none of it. q's audio
// fields are filled in here; contact is the person to answer (empty when
// q.Reply is allimi.ReplyAtKiosk).
func QuestionDrafts(q allimi.QuestionPayload, contact allimi.Citizen, pcm []byte) ([]Draft, error) {
	if len(pcm) > allimi.MaxQuestionAudioBytes {
		return nil, fmt.Errorf("question audio of %.1f s: at most %s: record a shorter question: %w",
			float64(len(pcm))/allimi.QuestionBytesPerSecond, allimi.MaxQuestionAudio, allimi.ErrInvalid)
	}
	q.AudioBytes, q.Chunks, q.SHA256 = len(pcm), allimi.QuestionChunks(len(pcm)), ""
	if len(pcm) > 0 {
		q.SHA256 = allimi.AudioSHA256(sha256.Sum256(pcm))
	}
	drafts := make([]Draft, 0, q.Chunks+1)
	for i := 0; i < q.Chunks; i++ {
		end := min((i+1)*allimi.QuestionChunkSize, len(pcm))
		drafts = append(drafts, Draft{Kind: allimi.KindQuestionAudio, Payload: &allimi.QuestionAudioPayload{
			Code: q.Code, Index: i, Chunks: q.Chunks, Size: len(pcm), Data: pcm[i*allimi.QuestionChunkSize : end]}})
	}
	return append(drafts, Draft{Kind: allimi.KindQuestion, Citizen: contact, Payload: &q}), nil
}

// HasQuestion reports whether the question with receipt code is still in
// the outbox, not yet acknowledged by central: the kiosk then knows the
// question exists although central has not heard of it.
func (o *Outbox) HasQuestion(code string) (bool, error) {
	found := false
	err := o.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			// Decoding only the kind and code skips the audio's base64.
			var e struct {
				Kind    string `json:"kind"`
				Payload struct {
					Code string `json:"code"`
				} `json:"payload"`
			}
			if json.Unmarshal(v, &e) == nil && e.Kind == allimi.KindQuestion && e.Payload.Code == code {
				found = true
			}
			return nil
		})
	})
	return found, err
}

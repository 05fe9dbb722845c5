package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/keyring"
	"allimi/central/record"
	"allimi/sync/outbox"
)

var questionContact = allimi.Citizen{Name: "박순자", Mobile: "010-2222-3333"}

// questionEvents builds the events a kiosk appends for a question, from
// seq first on: its chunks, then the question.
func questionEvents(t testing.TB, kiosk string, first uint64, code, reply string, pcm []byte) []allimi.Event {
	t.Helper()
	contact := allimi.Citizen{}
	if reply != allimi.ReplyAtKiosk {
		contact = questionContact
	}
	drafts, err := outbox.QuestionDrafts(allimi.QuestionPayload{Code: code, Lang: "ko", Reply: reply, Text: "기초연금 신청은 어디서 하나요?"}, contact, pcm)
	require.NoError(t, err)
	out := make([]allimi.Event, len(drafts))
	for i, d := range drafts {
		b, err := json.Marshal(d.Payload)
		require.NoError(t, err)
		out[i] = allimi.Event{V: 1, Kiosk: kiosk, Seq: first + uint64(i), HLC: allimi.NextHLC(uint64(i), storeT0),
			Kind: d.Kind, Citizen: d.Citizen, Payload: b}
		require.NoError(t, out[i].Validate(storeNow))
	}
	return out
}

func testPCM(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i/7)
	}
	return b
}

func (f *storeFixture) onlyQuestion() allimi.Question {
	f.t.Helper()
	qs, err := f.st.Questions(true)
	require.NoError(f.t, err)
	require.Len(f.t, qs, 1)
	return qs[0]
}

func TestQuestions_AssembledAudioEqualsTheKiosksAndChunksAreGone(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	pcm := testPCM(3*allimi.QuestionChunkSize + 1000)
	evs := questionEvents(t, "k1", 1, "ABCDE-FGHJK", "kakao", pcm)
	// Two batches, as the ingest may split them.
	f.commit(evs[:2]...)
	out := f.commit(evs[2:]...)
	assert.Equal(t, uint64(len(evs)), out.HW["k1"])

	q := f.onlyQuestion()
	assert.Empty(t, q.Damaged)
	assert.Equal(t, "kept", q.Audio)
	assert.Equal(t, "박*자", q.Name)
	assert.Equal(t, "010-****-3333", q.Mobile)
	assert.Nil(t, q.Contact, "the sealed contact never leaves the store")
	got, err := f.st.QuestionAudio(q.ID, "kim")
	require.NoError(t, err)
	assert.Equal(t, pcm, got)
	rec, chunks, err := f.st.QuestionAudioCount()
	require.NoError(t, err)
	assert.Equal(t, 1, rec)
	assert.Zero(t, chunks, "chunks are deleted once assembled")

	// The events bucket keeps no audio: the retention policy could not delete it there.
	f.close()
	raw, err := os.ReadFile(f.path)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, []byte(questionContact.Mobile)), "the contact's number is encrypted at rest")
	assert.False(t, bytes.Contains(raw, []byte("기초연금 신청은")), "the question's text is encrypted at rest")
	assert.False(t, bytes.Contains(raw, pcm[5000:5064]), "the recording is encrypted at rest")
	f.open(StoreOptions{})
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		plain, err := f.keys.Open(tx.Bucket(bucketEvents).Get(record.Key("k1", 1)), record.Key("k1", 1))
		require.NoError(t, err)
		assert.Less(t, len(plain), 1000, "the chunk's audio is not kept with the event")
		return nil
	}))
}

// Whatever only central can find wrong is stored, marked damaged, and the
// kiosk's high-water mark passes it: refusing would block the kiosk's
// queue for ever.
func TestQuestions_DamageOnlyCentralSeesIsStoredNotRefused(t *testing.T) {
	pcm := testPCM(2*allimi.QuestionChunkSize + 500)
	tests := []struct {
		name       string
		events     func(t *testing.T) []allimi.Event
		wantDamage string
		wantAudio  string
	}{
		{"missing chunk", func(t *testing.T) []allimi.Event {
			evs := questionEvents(t, "k1", 1, "ABCDE-FGHJK", "kakao", pcm)
			evs[1].Kind, evs[1].Payload = allimi.KindFeedback, json.RawMessage(`{"entry":"x","helpful":true}`)
			return evs
		}, "audio chunks missing: [1] of 3", "none"},
		{"wrong hash", func(t *testing.T) []allimi.Event {
			evs := questionEvents(t, "k1", 1, "ABCDE-FGHJK", "kakao", pcm)
			var q allimi.QuestionPayload
			require.NoError(t, json.Unmarshal(evs[3].Payload, &q))
			q.SHA256 = strings.Repeat("0", 64)
			evs[3].Payload, _ = json.Marshal(q)
			return evs
		}, "SHA-256 does not match", "kept"},
		{"duplicate chunk", func(t *testing.T) []allimi.Event {
			evs := questionEvents(t, "k1", 2, "ABCDE-FGHJK", "kakao", pcm)
			dup := evs[0]
			dup.Seq = 1
			return append([]allimi.Event{dup}, evs...)
		}, "an audio chunk arrived twice", "kept"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newStoreFixture(t, StoreOptions{})
			evs := tc.events(t)
			out := f.commit(evs...)
			assert.Equal(t, len(evs), out.Stored)
			assert.Zero(t, out.Rejected)
			assert.Equal(t, uint64(len(evs)), out.HW["k1"], "the kiosk's ack passes the question")
			q := f.onlyQuestion()
			assert.Contains(t, q.Damaged, tc.wantDamage)
			assert.Equal(t, tc.wantAudio, q.Audio)
			assert.Equal(t, "기초연금 신청은 어디서 하나요?", q.Text, "what arrived is kept")
		})
	}
}

func TestQuestions_LateChunkCompletesTheQuestion(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	pcm := testPCM(2*allimi.QuestionChunkSize + 500)
	evs := questionEvents(t, "k1", 1, "ABCDE-FGHJK", "kiosk", pcm)
	f.commit(evs[0], evs[2], evs[3])
	require.Contains(t, f.onlyQuestion().Damaged, "chunks missing")
	out := f.commit(evs[1])
	assert.Equal(t, uint64(4), out.HW["k1"])
	q := f.onlyQuestion()
	assert.Empty(t, q.Damaged)
	got, err := f.st.QuestionAudio(q.ID, "kim")
	require.NoError(t, err)
	assert.Equal(t, pcm, got)
}

func TestQuestions_ReusedCodeCannotReadTheFirstAnswer(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	f.commit(questionEvents(t, "k1", 1, "ABCDE-FGHJK", "kiosk", nil)...)
	f.commit(questionEvents(t, "k2", 1, "ABCDE-FGHJK", "kiosk", nil)...)
	qs, err := f.st.Questions(true)
	require.NoError(t, err)
	require.Len(t, qs, 2)
	assert.Contains(t, qs[0].Damaged, "receipt code already used")
	byCode, err := f.st.QuestionByCode("ABCDE-FGHJK")
	require.NoError(t, err)
	assert.Equal(t, "k1", byCode.Kiosk, "the code still leads to the first question")
}

func TestQuestions_AnswerChecksItsInputAndChangesNothingWhenRefused(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	f.commit(questionEvents(t, "k1", 1, "ABCDE-FGHJK", "sms", testPCM(4000))...)
	id := f.onlyQuestion().ID
	tests := []struct {
		name, official, answer, wantErr string
	}{
		{"empty answer", "kim", "  ", "answer: empty"},
		{"too long", "kim", strings.Repeat("가", allimi.MaxAnswerText+1), "801 characters, at most 800"},
		{"no official", "", "네", "official: empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.st.AnswerQuestion(id, tc.official, tc.answer, true)
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.wantErr)
			q := f.onlyQuestion()
			assert.Nil(t, q.AnsweredAt)
			assert.Equal(t, "kept", q.Audio, "a refused answer deletes nothing")
			n, err := f.st.AnswersPending()
			require.NoError(t, err)
			assert.Zero(t, n)
		})
	}
	_, err := f.st.AnswerQuestion(999, "kim", "네", true)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
}

func TestQuestions_AnswerQueuesTheMessageDeletesAudioAndIsAudited(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	f.commit(questionEvents(t, "k1", 1, "ABCDE-FGHJK", "sms", testPCM(4000))...)
	id := f.onlyQuestion().ID
	q, err := f.st.AnswerQuestion(id, "kim.minji", "주민센터 2층 복지팀에서 신청하실 수 있습니다.", true)
	require.NoError(t, err)
	assert.Equal(t, "queued", q.Delivery)
	assert.Equal(t, "deleted", q.Audio)
	_, err = f.st.QuestionAudio(id, "kim.minji")
	assert.ErrorIs(t, err, allimi.ErrAudioDeleted)
	n, err := f.st.AnswersPending()
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	_, err = f.st.AnswerQuestion(id, "lee", "다른 답", true)
	assert.ErrorIs(t, err, allimi.ErrAlreadyAnswered)
	assert.Contains(t, err.Error(), "already answered by kim.minji")

	var answered bool
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(_, v []byte) error {
			var e allimi.AuditEntry
			require.NoError(t, json.Unmarshal(v, &e))
			if e.Kind == allimi.AuditAnswer && e.By == "kim.minji" {
				answered = true
			}
			return nil
		})
	}))
	assert.True(t, answered, "the audit log names who answered")
	pend, err := f.st.PendingAnswers(10)
	require.NoError(t, err)
	require.Len(t, pend, 1)
	assert.Equal(t, questionContact.Mobile, pend[0].Citizen.Mobile, "the sender can open the contact")
}

func TestQuestions_RetentionPolicy(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name        string
		policy      allimi.RetentionPolicy
		answer      bool
		after       time.Duration
		wantDeleted bool
	}{
		{"kept for review within the period", allimi.RetentionPolicy{KeepAnswered: 7 * day, MaxAge: 30 * day}, true, 6 * day, false},
		{"deleted after the review period", allimi.RetentionPolicy{KeepAnswered: 7 * day, MaxAge: 30 * day}, true, 7 * day, true},
		{"unanswered kept until the maximum age", allimi.RetentionPolicy{MaxAge: 30 * day}, false, 29 * day, false},
		{"unanswered deleted at the maximum age", allimi.RetentionPolicy{MaxAge: 30 * day}, false, 30 * day, true},
		{"no maximum age keeps unanswered ones", allimi.RetentionPolicy{}, false, 365 * day, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newStoreFixture(t, StoreOptions{})
			f.commit(questionEvents(t, "k1", 1, "ABCDE-FGHJK", "kiosk", testPCM(4000))...)
			id := f.onlyQuestion().ID
			if tc.answer {
				_, err := f.st.AnswerQuestion(id, "kim", "네, 가능합니다.", false)
				require.NoError(t, err)
				require.Equal(t, "kept", f.onlyQuestion().Audio)
			}
			n, err := f.st.PurgeQuestionAudio(storeNow.Add(tc.after), tc.policy)
			require.NoError(t, err)
			q := f.onlyQuestion()
			if tc.wantDeleted {
				assert.Equal(t, 1, n)
				assert.Equal(t, "deleted", q.Audio)
				_, err := f.st.QuestionAudio(id, "kim")
				assert.ErrorIs(t, err, allimi.ErrAudioDeleted)
			} else {
				assert.Zero(t, n)
				assert.Equal(t, "kept", q.Audio)
			}
			assert.Equal(t, "기초연금 신청은 어디서 하나요?", q.Text, "the question's text outlives its recording")
		})
	}
}

func TestQuestions_StrayChunksGoAtTheMaximumAge(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	evs := questionEvents(t, "k1", 1, "ABCDE-FGHJK", "kiosk", testPCM(4000))
	f.commit(evs[0]) // the question never comes
	_, chunks, err := f.st.QuestionAudioCount()
	require.NoError(t, err)
	require.Equal(t, 1, chunks)
	_, err = f.st.PurgeQuestionAudio(storeNow.Add(29*24*time.Hour), allimi.DefaultRetentionPolicy())
	require.NoError(t, err)
	_, chunks, _ = f.st.QuestionAudioCount()
	assert.Equal(t, 1, chunks)
	_, err = f.st.PurgeQuestionAudio(storeNow.Add(30*24*time.Hour), allimi.DefaultRetentionPolicy())
	require.NoError(t, err)
	_, chunks, _ = f.st.QuestionAudioCount()
	assert.Zero(t, chunks)
}

func TestQuestions_AudioHashIsWhatTheKioskSent(t *testing.T) {
	pcm := testPCM(5000)
	evs := questionEvents(t, "k1", 1, "ABCDE-FGHJK", "kiosk", pcm)
	var q allimi.QuestionPayload
	require.NoError(t, json.Unmarshal(evs[len(evs)-1].Payload, &q))
	assert.Equal(t, allimi.AudioSHA256(sha256.Sum256(pcm)), q.SHA256)
}

func TestOfficials_TokensAreHashedAndRotated(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	c, err := f.st.AddOfficial("kim.minji", false)
	require.NoError(t, err)
	id, err := f.st.OfficialByToken(c.Token)
	require.NoError(t, err)
	assert.Equal(t, "kim.minji", id)
	_, err = f.st.AddOfficial("kim.minji", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use --rotate")
	_, err = f.st.AddOfficial("Kim Minji", false)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	c2, err := f.st.AddOfficial("kim.minji", true)
	require.NoError(t, err)
	id, _ = f.st.OfficialByToken(c.Token)
	assert.Empty(t, id, "the old token stops working")
	id, _ = f.st.OfficialByToken(c2.Token)
	assert.Equal(t, "kim.minji", id)
	f.close()
	raw, err := os.ReadFile(f.path)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, []byte(c2.Token)), "only a hash of the token is stored")
	f.open(StoreOptions{})
}

// BenchmarkQuestions_Commit60s stores a 60 s question (59 chunks and the
// question, one batch, as the ingest commits them) beside the baseline of
// writing the same audio to bbolt in one transaction.
func BenchmarkQuestions_Commit60s(b *testing.B) {
	pcm := testPCM(allimi.MaxQuestionAudioBytes)
	open := func(b *testing.B) *Store {
		dir := b.TempDir()
		keys, err := keyring.Load(dir)
		require.NoError(b, err)
		st, err := OpenStore(dir+"/"+DBFile, keys, StoreOptions{})
		require.NoError(b, err)
		b.Cleanup(func() { st.Close() })
		return st
	}
	b.Run("question", func(b *testing.B) {
		st := open(b)
		b.SetBytes(int64(len(pcm)))
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			code, err := allimi.NewQuestionCode()
			require.NoError(b, err)
			evs := questionEvents(b, "k1", uint64(i*(allimi.MaxQuestionChunks+1)+1), code, "kiosk", pcm)
			batch := make([]allimi.Incoming, len(evs))
			for j := range evs {
				batch[j] = allimi.Incoming{Kiosk: "k1", Event: &evs[j]}
			}
			b.StartTimer()
			if _, err := st.Commit(batch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-bbolt", func(b *testing.B) {
		st := open(b)
		b.SetBytes(int64(len(pcm)))
		for i := 0; i < b.N; i++ {
			err := st.db.Update(func(tx *bbolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists([]byte("bench"))
				if err != nil {
					return err
				}
				return bk.Put(u64(uint64(i)), pcm)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

package storetest

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// QuestionsBackend is what the Questions suite needs of a store: the
// questions, the registry their records arrive through (and whose
// receipts share their codes), the audit log, and a restart. A Backend is
// one, with B Backend.
type QuestionsBackend[B any] interface {
	allimi.Registry
	allimi.Questions
	allimi.AuditLog
	Reopen(t *testing.T) B
}

// Questions checks allimi.Questions: questions kiosks send (typed, or
// spoken in chunks), read by id and by code with the contact masked, the
// recording played and kept only as the retention policy says, answers
// recorded once and queued for sending, all durable.
func Questions[B QuestionsBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"TypedQuestion", questionsTyped[B]},
		{"UnknownIDsAndCodes", questionsUnknown[B]},
		{"SpokenQuestionAssembled", questionsSpoken[B]},
		{"ChunksBeforeTheirQuestion", questionsChunksFirst[B]},
		{"GarbledAudioMarkedNotRefused", questionsGarbled[B]},
		{"CodeReused", questionsCodeReused[B]},
		{"CodeOfASignup", questionsSignupCode[B]},
		{"AnswerRefusesBadInput", questionsAnswerRefuses[B]},
		{"AnswerQueuedOnceAndSent", questionsAnswer[B]},
		{"AnswerAtTheKiosk", questionsAnswerAtKiosk[B]},
		{"AnswerDeletesAudio", questionsAnswerDeletes[B]},
		{"RetentionPolicy", questionsRetention[B]},
		{"Durable", questionsDurable[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// contact is the person a question's answer goes to: no date of birth.
var contact = allimi.Citizen{Name: "최지우", Mobile: "010-2222-3333"}

func questionCode(t *testing.T) string {
	t.Helper()
	c, err := allimi.NewQuestionCode()
	require.NoError(t, err)
	return c
}

// typed is a typed question answered on the contact's phone by reply.
func (k *kiosk) typed(t *testing.T, code, text, reply string, at time.Time) allimi.Event {
	t.Helper()
	c := contact
	if reply == allimi.ReplyAtKiosk {
		c = allimi.Citizen{}
	}
	return k.record(t, allimi.KindQuestion, c, allimi.QuestionPayload{Code: code, Lang: "ko", Text: text, Reply: reply}, at)
}

// spoken is a spoken question's chunk records and the question record,
// announcing sum as its audio's hash.
func (k *kiosk) spoken(t *testing.T, code string, pcm []byte, sum [32]byte, at time.Time) (chunks []allimi.Event, question allimi.Event) {
	t.Helper()
	n := allimi.QuestionChunks(len(pcm))
	for i := range n {
		data := pcm[i*allimi.QuestionChunkSize : min(len(pcm), (i+1)*allimi.QuestionChunkSize)]
		chunks = append(chunks, k.record(t, allimi.KindQuestionAudio, allimi.Citizen{}, allimi.QuestionAudioPayload{
			Code: code, Index: i, Chunks: n, Size: len(pcm), Data: data}, at))
	}
	question = k.record(t, allimi.KindQuestion, contact, allimi.QuestionPayload{Code: code, Lang: "ko",
		Text: "보건소 위치가 어디인가요", Reply: string(allimi.ChannelKakao), AudioBytes: len(pcm), Chunks: n, SHA256: allimi.AudioSHA256(sum)}, at)
	return chunks, question
}

// recording is audio of a little over one chunk.
func recording() []byte {
	pcm := make([]byte, allimi.QuestionChunkSize+1000)
	for i := range pcm {
		pcm[i] = byte(i * 7)
	}
	return pcm
}

func onlyQuestion(t *testing.T, b allimi.Questions, all bool) allimi.Question {
	t.Helper()
	qs, err := b.Questions(all)
	require.NoError(t, err)
	require.Len(t, qs, 1)
	return qs[0]
}

func audioCount(t *testing.T, b allimi.Questions) (int, int) {
	t.Helper()
	r, c, err := b.QuestionAudioCount()
	require.NoError(t, err)
	return r, c
}

func questionsTyped[B QuestionsBackend[B]](t *testing.T, b B) {
	qs, err := b.Questions(true)
	require.NoError(t, err)
	assert.Empty(t, qs)
	code := questionCode(t)
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	before := time.Now().Add(-time.Second)
	k := &kiosk{id: "kiosk-a"}
	k.seq = 6
	out := commit(t, b, k.typed(t, code, "기초연금 신청은 어디서 하나요", string(allimi.ChannelSMS), at))
	assert.Equal(t, 1, out.Stored)

	q := onlyQuestion(t, b, false)
	assert.NotZero(t, q.ID)
	assert.Equal(t, code, q.Code)
	assert.Equal(t, "kiosk-a", q.Kiosk)
	assert.Equal(t, uint64(7), q.Seq)
	assert.True(t, q.AskedAt.Equal(at), "asked at %s, want %s", q.AskedAt, at)
	assert.False(t, q.Received.Before(before))
	assert.Equal(t, "ko", q.Lang)
	assert.Equal(t, "기초연금 신청은 어디서 하나요", q.Text)
	assert.Equal(t, string(allimi.ChannelSMS), q.Reply)
	assert.Equal(t, "none", q.Audio)
	assert.Zero(t, q.AudioBytes)
	assert.Empty(t, q.Damaged)
	assert.False(t, q.CodeReused)
	assert.Nil(t, q.AnsweredAt)
	assert.Equal(t, contact.MaskedName(), q.Name, "officials see the contact masked")
	assert.Equal(t, contact.MaskedMobile(), q.Mobile)
	assert.Nil(t, q.Contact, "the sealed contact never leaves the store")

	byID, err := b.Question(q.ID)
	require.NoError(t, err)
	assert.Equal(t, q, byID)
	byCode, err := b.QuestionByCode(code)
	require.NoError(t, err)
	assert.Equal(t, q, byCode)
	_, err = b.QuestionAudio(q.ID, "officer-kim")
	assert.ErrorIs(t, err, allimi.ErrNotFound, "a typed question has no recording")
	r, c := audioCount(t, b)
	assert.Zero(t, r)
	assert.Zero(t, c)

	// A duplicate is the same question, not a second one.
	commit(t, b, event(t, "kiosk-a", 7, allimi.KindQuestion, contact, allimi.QuestionPayload{
		Code: code, Lang: "ko", Text: "기초연금 신청은 어디서 하나요", Reply: string(allimi.ChannelSMS)}, at))
	onlyQuestion(t, b, true)
}

func questionsUnknown[B QuestionsBackend[B]](t *testing.T, b B) {
	_, err := b.Question(42)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	_, err = b.QuestionByCode(questionCode(t))
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	_, err = b.QuestionAudio(42, "officer-kim")
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	_, err = b.AnswerQuestion(42, "officer-kim", "답변", false)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	assert.ErrorIs(t, b.AnswerSent(42, "sms"), allimi.ErrNotFound)
}

func questionsSpoken[B QuestionsBackend[B]](t *testing.T, b B) {
	pcm := recording()
	code := questionCode(t)
	k := &kiosk{id: "kiosk-a"}
	chunks, question := k.spoken(t, code, pcm, sha256.Sum256(pcm), time.Now().Add(-time.Minute))
	require.Len(t, chunks, 2)
	out := commit(t, b, append(chunks, question)...)
	assert.Equal(t, 3, out.Stored)
	assert.Equal(t, map[string]uint64{"kiosk-a": 3}, out.HW)

	q := onlyQuestion(t, b, false)
	assert.Equal(t, "kept", q.Audio)
	assert.Equal(t, len(pcm), q.AudioBytes)
	assert.Equal(t, 2, q.Chunks)
	assert.Equal(t, allimi.AudioSHA256(sha256.Sum256(pcm)), q.SHA256)
	assert.Empty(t, q.Damaged)
	assert.Equal(t, string(allimi.ChannelKakao), q.Reply)
	r, c := audioCount(t, b)
	assert.Equal(t, 1, r)
	assert.Zero(t, c, "the chunks became the recording")

	audit := auditEntries(t, b)
	got, err := b.QuestionAudio(q.ID, "officer-kim")
	require.NoError(t, err)
	assert.Equal(t, pcm, got)
	assert.Equal(t, audit+1, auditEntries(t, b), "playing a recording is audited")
}

func questionsChunksFirst[B QuestionsBackend[B]](t *testing.T, b B) {
	pcm := recording()
	code := questionCode(t)
	k := &kiosk{id: "kiosk-a"}
	chunks, question := k.spoken(t, code, pcm, sha256.Sum256(pcm), time.Now().Add(-time.Minute))
	commit(t, b, chunks[0])
	commit(t, b, chunks[1])
	qs, err := b.Questions(true)
	require.NoError(t, err)
	assert.Empty(t, qs, "chunks are no question")
	r, c := audioCount(t, b)
	assert.Zero(t, r)
	assert.Equal(t, 2, c, "the chunks wait for their question")
	commit(t, b, question)
	q := onlyQuestion(t, b, false)
	assert.Equal(t, "kept", q.Audio)
	assert.Empty(t, q.Damaged)
	got, err := b.QuestionAudio(q.ID, "officer-kim")
	require.NoError(t, err)
	assert.Equal(t, pcm, got)
}

func questionsGarbled[B QuestionsBackend[B]](t *testing.T, b B) {
	pcm := recording()
	k := &kiosk{id: "kiosk-a"}
	chunks, question := k.spoken(t, questionCode(t), pcm, sha256.Sum256([]byte("other audio")), time.Now().Add(-time.Minute))
	out := commit(t, b, append(chunks, question)...)
	assert.Equal(t, 3, out.Stored, "what only central can find wrong does not refuse the record")
	q := onlyQuestion(t, b, false)
	assert.NotEmpty(t, q.Damaged, "the hash does not match")

	// A question whose chunks never came.
	k2 := &kiosk{id: "kiosk-b"}
	_, lonely := k2.spoken(t, questionCode(t), pcm, sha256.Sum256(pcm), time.Now().Add(-time.Minute))
	commit(t, b, lonely)
	qs, err := b.Questions(false)
	require.NoError(t, err)
	require.Len(t, qs, 2)
	for _, q := range qs {
		if q.Kiosk == "kiosk-b" {
			assert.NotEmpty(t, q.Damaged, "chunks missing")
			assert.NotEqual(t, "kept", q.Audio)
		}
	}
}

func questionsCodeReused[B QuestionsBackend[B]](t *testing.T, b B) {
	code := questionCode(t)
	at := time.Now().Add(-time.Minute)
	commit(t, b, (&kiosk{id: "kiosk-a"}).typed(t, code, "첫 질문", allimi.ReplyAtKiosk, at))
	commit(t, b, (&kiosk{id: "kiosk-b"}).typed(t, code, "둘째 질문", string(allimi.ChannelSMS), at))
	qs, err := b.Questions(false)
	require.NoError(t, err)
	require.Len(t, qs, 2, "both are kept for an official")
	byCode, err := b.QuestionByCode(code)
	require.NoError(t, err)
	assert.Equal(t, "첫 질문", byCode.Text, "the code keeps opening what it opened")
	for _, q := range qs {
		assert.Equal(t, q.Text == "둘째 질문", q.CodeReused, "question %q", q.Text)
	}
}

func questionsSignupCode[B QuestionsBackend[B]](t *testing.T, b B) {
	code, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	at := time.Now().Add(-time.Minute)
	commit(t, b, (&kiosk{id: "kiosk-a"}).signup(t, kim, allimi.ConsentPayload{
		Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelSMS), Receipt: code, Verified: true}, at))
	commit(t, b, (&kiosk{id: "kiosk-b"}).typed(t, code, "질문", allimi.ReplyAtKiosk, at))
	q := onlyQuestion(t, b, false)
	assert.True(t, q.CodeReused, "a question never takes a sign-up's code")
	_, err = b.QuestionByCode(code)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	v, err := b.Receipt(code, kim.BirthDate)
	require.NoError(t, err)
	assert.Equal(t, kim.MaskedName(), v.Name)
}

func questionsAnswerRefuses[B QuestionsBackend[B]](t *testing.T, b B) {
	commit(t, b, (&kiosk{id: "kiosk-a"}).typed(t, questionCode(t), "질문", string(allimi.ChannelSMS), time.Now().Add(-time.Minute)))
	q := onlyQuestion(t, b, false)
	for name, c := range map[string]struct{ official, answer string }{
		"empty answer":   {"officer-kim", "  "},
		"empty official": {"", "답변"},
		"too long":       {"officer-kim", strings.Repeat("가", allimi.MaxAnswerText+1)},
	} {
		_, err := b.AnswerQuestion(q.ID, c.official, c.answer, false)
		assert.ErrorIs(t, err, allimi.ErrInvalid, name)
	}
	assert.Nil(t, onlyQuestion(t, b, false).AnsweredAt, "a refused answer answers nothing")
	n, err := b.AnswersPending()
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = b.AnswerQuestion(q.ID, "officer-kim", strings.Repeat("가", allimi.MaxAnswerText), false)
	assert.NoError(t, err, "MaxAnswerText characters, not bytes")
}

func questionsAnswer[B QuestionsBackend[B]](t *testing.T, b B) {
	commit(t, b, (&kiosk{id: "kiosk-a"}).typed(t, questionCode(t), "질문", string(allimi.ChannelKakao), time.Now().Add(-time.Minute)))
	q := onlyQuestion(t, b, false)
	before := time.Now().Add(-time.Second)
	a, err := b.AnswerQuestion(q.ID, "officer-kim", "  3층 민원실에서 신청하세요.  ", false)
	require.NoError(t, err)
	assert.Equal(t, "3층 민원실에서 신청하세요.", a.Answer)
	assert.Equal(t, "officer-kim", a.AnsweredBy)
	require.NotNil(t, a.AnsweredAt)
	assert.False(t, a.AnsweredAt.Before(before))
	assert.Equal(t, "queued", a.Delivery)
	assert.Equal(t, contact.MaskedName(), a.Name)
	assert.Nil(t, a.Contact)

	open, err := b.Questions(false)
	require.NoError(t, err)
	assert.Empty(t, open, "answered: not among the open questions")
	got := onlyQuestion(t, b, true)
	assert.Equal(t, a, got)

	_, err = b.AnswerQuestion(q.ID, "officer-lee", "다른 답변", false)
	assert.ErrorIs(t, err, allimi.ErrAlreadyAnswered)
	got, err = b.Question(q.ID)
	require.NoError(t, err)
	assert.Equal(t, "officer-kim", got.AnsweredBy, "the first answer stands")

	n, err := b.AnswersPending()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	pend, err := b.PendingAnswers(10)
	require.NoError(t, err)
	require.Len(t, pend, 1)
	assert.Equal(t, q.ID, pend[0].Question.ID)
	assert.Equal(t, "3층 민원실에서 신청하세요.", pend[0].Question.Answer)
	assert.Equal(t, contact, pend[0].Citizen, "the person to send it to, in full")
	assert.Nil(t, pend[0].Question.Contact, "the sealed contact never leaves the store")
	pend, err = b.PendingAnswers(0)
	require.NoError(t, err)
	assert.Empty(t, pend, "at most n")

	require.NoError(t, b.AnswerSent(q.ID, "kakao"))
	n, err = b.AnswersPending()
	require.NoError(t, err)
	assert.Zero(t, n)
	pend, err = b.PendingAnswers(10)
	require.NoError(t, err)
	assert.Empty(t, pend)
	got, err = b.Question(q.ID)
	require.NoError(t, err)
	assert.Equal(t, "kakao", got.Delivery)
}

func questionsAnswerAtKiosk[B QuestionsBackend[B]](t *testing.T, b B) {
	code := questionCode(t)
	commit(t, b, (&kiosk{id: "kiosk-a"}).typed(t, code, "질문", allimi.ReplyAtKiosk, time.Now().Add(-time.Minute)))
	q := onlyQuestion(t, b, false)
	assert.Empty(t, q.Name, "a question answered at the kiosk names nobody")
	a, err := b.AnswerQuestion(q.ID, "officer-kim", "답변", false)
	require.NoError(t, err)
	assert.Empty(t, a.Delivery, "read at the kiosk: nothing to send")
	n, err := b.AnswersPending()
	require.NoError(t, err)
	assert.Zero(t, n)
	byCode, err := b.QuestionByCode(code)
	require.NoError(t, err)
	assert.Equal(t, "답변", byCode.Answer, "the slip's code reads the answer")
}

func spokenQuestion(t *testing.T, b interface {
	allimi.Registry
	allimi.Questions
}, kioskID string) (allimi.Question, []byte) {
	t.Helper()
	pcm := recording()
	chunks, question := (&kiosk{id: kioskID}).spoken(t, questionCode(t), pcm, sha256.Sum256(pcm), time.Now().Add(-time.Minute))
	commit(t, b, append(chunks, question)...)
	qs, err := b.Questions(false)
	require.NoError(t, err)
	for _, q := range qs {
		if q.Kiosk == kioskID {
			return q, pcm
		}
	}
	t.Fatalf("no question from %s", kioskID)
	return allimi.Question{}, nil
}

func questionsAnswerDeletes[B QuestionsBackend[B]](t *testing.T, b B) {
	q, _ := spokenQuestion(t, b, "kiosk-a")
	kept, _ := spokenQuestion(t, b, "kiosk-b")
	before := time.Now().Add(-time.Second)
	a, err := b.AnswerQuestion(q.ID, "officer-kim", "답변", true)
	require.NoError(t, err)
	assert.Equal(t, "deleted", a.Audio)
	require.NotNil(t, a.AudioDeletedAt)
	assert.False(t, a.AudioDeletedAt.Before(before))
	_, err = b.QuestionAudio(q.ID, "officer-kim")
	assert.ErrorIs(t, err, allimi.ErrAudioDeleted)
	r, _ := audioCount(t, b)
	assert.Equal(t, 1, r, "the other recording stays")
	_, err = b.QuestionAudio(kept.ID, "officer-kim")
	assert.NoError(t, err)
}

func questionsRetention[B QuestionsBackend[B]](t *testing.T, b B) {
	answered, _ := spokenQuestion(t, b, "kiosk-a")
	open, _ := spokenQuestion(t, b, "kiosk-b")
	// Chunks whose question never came.
	pcm := recording()
	stray, _ := (&kiosk{id: "kiosk-c"}).spoken(t, questionCode(t), pcm, sha256.Sum256(pcm), time.Now().Add(-time.Minute))
	commit(t, b, stray...)
	_, err := b.AnswerQuestion(answered.ID, "officer-kim", "답변", false)
	require.NoError(t, err)
	r, c := audioCount(t, b)
	require.Equal(t, 2, r)
	require.Equal(t, 2, c)

	now := time.Now()
	keepWeek := allimi.RetentionPolicy{KeepAnswered: 7 * 24 * time.Hour, MaxAge: 30 * 24 * time.Hour}
	n, err := b.PurgeQuestionAudio(now, keepWeek)
	require.NoError(t, err)
	assert.Zero(t, n, "answered a moment ago, kept a week")
	n, err = b.PurgeQuestionAudio(now.Add(8*24*time.Hour), keepWeek)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a week after the answer")
	_, err = b.QuestionAudio(answered.ID, "officer-kim")
	assert.ErrorIs(t, err, allimi.ErrAudioDeleted)
	got, err := b.Question(answered.ID)
	require.NoError(t, err)
	assert.Equal(t, "deleted", got.Audio)
	assert.NotNil(t, got.AudioDeletedAt)
	_, err = b.QuestionAudio(open.ID, "officer-kim")
	assert.NoError(t, err, "unanswered and younger than MaxAge")
	r, c = audioCount(t, b)
	assert.Equal(t, 1, r)
	assert.Equal(t, 2, c, "stray chunks younger than MaxAge")

	n, err = b.PurgeQuestionAudio(now.Add(31*24*time.Hour), allimi.DefaultRetentionPolicy())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "older than MaxAge, answered or not")
	_, err = b.QuestionAudio(open.ID, "officer-kim")
	assert.ErrorIs(t, err, allimi.ErrAudioDeleted)
	r, c = audioCount(t, b)
	assert.Zero(t, r)
	assert.Zero(t, c, "stray chunks older than MaxAge")
	n, err = b.PurgeQuestionAudio(now.Add(32*24*time.Hour), allimi.DefaultRetentionPolicy())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to delete")
	assert.Nil(t, onlyQuestion(t, b, false).AnsweredAt, "the question stays, without its recording")
}

func questionsDurable[B QuestionsBackend[B]](t *testing.T, b B) {
	q, pcm := spokenQuestion(t, b, "kiosk-a")
	typed := questionCode(t)
	commit(t, b, (&kiosk{id: "kiosk-b"}).typed(t, typed, "질문", string(allimi.ChannelSMS), time.Now().Add(-time.Minute)))
	byCode, err := b.QuestionByCode(typed)
	require.NoError(t, err)
	_, err = b.AnswerQuestion(byCode.ID, "officer-kim", "답변", false)
	require.NoError(t, err)
	all, err := b.Questions(true)
	require.NoError(t, err)

	b = b.Reopen(t)
	again, err := b.Questions(true)
	require.NoError(t, err)
	assert.Equal(t, all, again)
	got, err := b.QuestionAudio(q.ID, "officer-kim")
	require.NoError(t, err)
	assert.Equal(t, pcm, got)
	pend, err := b.PendingAnswers(10)
	require.NoError(t, err)
	require.Len(t, pend, 1)
	assert.Equal(t, contact, pend[0].Citizen)
	_, err = b.QuestionByCode(typed)
	assert.NoError(t, err)
}

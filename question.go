package allimi

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// A question the kiosk could not answer travels to an official at central
// as N audio-chunk events (KindQuestionAudio) followed by one question
// event (KindQuestion), all appended in one outbox transaction: a power cut
// leaves all of them or none. Each chunk stays well under the 64 KiB an up
// message may have (32 KiB of audio is 44 KiB of base64).
const (
	// KindQuestionAudio carries one piece of a spoken question's audio.
	KindQuestionAudio = "question-audio"
	// KindQuestion is the question itself: who asked, how to answer, and
	// the length and hash of the audio sent before it.
	KindQuestion = "question"
)

// Bounds of a question. The audio is raw 16 kHz mono 16-bit little-endian
// PCM, the format the kiosk records in.
const (
	QuestionSampleRate = 16000
	// QuestionBytesPerSecond is 16 kHz × 2 bytes.
	QuestionBytesPerSecond = QuestionSampleRate * 2
	// MaxQuestionAudio is the longest spoken question: 60 s.
	MaxQuestionAudio = 60 * time.Second
	// MaxQuestionAudioBytes is MaxQuestionAudio of PCM (1,920,000 bytes).
	MaxQuestionAudioBytes = int(MaxQuestionAudio/time.Second) * QuestionBytesPerSecond
	// QuestionChunkSize is the audio in one chunk event.
	QuestionChunkSize = 32 << 10
	// MaxQuestionChunks is how many chunks the longest question needs (59).
	MaxQuestionChunks = (MaxQuestionAudioBytes + QuestionChunkSize - 1) / QuestionChunkSize
	// MaxQuestionText bounds the typed question or transcript, in characters.
	MaxQuestionText = 1000
	// ReplyAtKiosk is the reply of a person who will come back to a kiosk
	// with their slip instead of getting the answer on their phone.
	ReplyAtKiosk = "kiosk"
)

// QuestionAudioPayload is the payload of a KindQuestionAudio event: piece
// Index of the Chunks pieces of Size bytes of audio of question Code.
// Carrying the totals in every chunk lets both sides check a chunk's
// length on its own.
type QuestionAudioPayload struct {
	Code   string `json:"code"`
	Index  int    `json:"index"`
	Chunks int    `json:"chunks"`
	Size   int    `json:"size"`
	Data   []byte `json:"data"` // base64 in JSON
}

// QuestionPayload is the payload of a KindQuestion event.
type QuestionPayload struct {
	// Code is the question's receipt code (XXXX-XXXX-XXXX), random: the person
	// reads the answer at a kiosk with it, so it must not be guessable.
	Code string `json:"code"`
	Lang string `json:"lang"`
	// Text is what the person typed, or the recogniser's transcript.
	Text string `json:"text,omitempty"`
	// Reply is a channel (kakao, naver, toss, sms) or ReplyAtKiosk. With a
	// channel the event's citizen holds the name and mobile number.
	Reply string `json:"reply"`
	// AudioBytes, Chunks and SHA256 (hex) describe the audio sent in the
	// chunk events before this one; all zero for a typed question.
	AudioBytes int    `json:"audioBytes"`
	Chunks     int    `json:"chunks"`
	SHA256     string `json:"sha256,omitempty"`
}

// AudioDuration is how long the question's audio lasts.
func (q QuestionPayload) AudioDuration() time.Duration {
	return time.Duration(q.AudioBytes) * time.Second / QuestionBytesPerSecond
}

// QuestionChunks is how many chunks size bytes of audio take.
func QuestionChunks(size int) int { return (size + QuestionChunkSize - 1) / QuestionChunkSize }

// NewQuestionCode makes a random receipt code for a question, as
// NewReceiptCode does for a sign-up: 12 characters of CodeAlphabet (60
// bits) from crypto/rand, shown as XXXX-XXXX-XXXX. Whoever holds it reads
// the answer, with nothing else. Kiosks before it drew 10 characters
// (XXXXX-XXXXX), which central still accepts.
func NewQuestionCode() (string, error) {
	c, err := NewReceiptCode()
	if err != nil {
		return "", fmt.Errorf("question code: %w", err)
	}
	return c, nil
}

var (
	// The 10-letter form is that of earlier kiosks' questions.
	questionCodePattern = regexp.MustCompile(`^[` + CodeAlphabet + `]{5}-[` + CodeAlphabet + `]{5}$`)
	langPattern         = regexp.MustCompile(`^[a-z]{2}$`)
	sha256Pattern       = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func validateQuestionCode(code string) error {
	if !questionCodePattern.MatchString(code) && !IsRandomReceiptCode(code) {
		return fmt.Errorf("payload.code %q: must be 12 letters of the receipt alphabet as XXXX-XXXX-XXXX (or 10 as XXXXX-XXXXX): %w", code, ErrInvalid)
	}
	return nil
}

// QuestionAudio decodes and checks the payload of a question-audio event.
// It checks what one chunk can tell: the code, its place and its length.
func (e *Event) QuestionAudio() (QuestionAudioPayload, error) {
	var p QuestionAudioPayload
	if e.Citizen != (Citizen{}) {
		return p, fmt.Errorf("citizen: an audio chunk names nobody (the question event does): %w", ErrInvalid)
	}
	if err := e.decodePayload(&p); err != nil {
		return p, err
	}
	if err := validateQuestionCode(p.Code); err != nil {
		return p, err
	}
	if err := validateAudioSize(p.Size, p.Chunks); err != nil {
		return p, err
	}
	if p.Size == 0 {
		return p, fmt.Errorf("payload.size: 0: a question without audio sends no chunks: %w", ErrInvalid)
	}
	if p.Index < 0 || p.Index >= p.Chunks {
		return p, fmt.Errorf("payload.index %d: must be 0 to %d: %w", p.Index, p.Chunks-1, ErrInvalid)
	}
	want := min(QuestionChunkSize, p.Size-p.Index*QuestionChunkSize)
	if len(p.Data) != want {
		return p, fmt.Errorf("payload.data: chunk %d of %d has %d bytes, must have %d (truncated or padded): %w",
			p.Index, p.Chunks, len(p.Data), want, ErrInvalid)
	}
	return p, nil
}

// validateAudioSize checks the total audio length and its chunk count.
func validateAudioSize(size, chunks int) error {
	switch {
	case size < 0:
		return fmt.Errorf("payload.size %d: negative: %w", size, ErrInvalid)
	case size > MaxQuestionAudioBytes:
		return fmt.Errorf("audio of %d bytes (%.1f s): at most %d bytes (%s of 16 kHz mono 16-bit): record a shorter question: %w",
			size, float64(size)/QuestionBytesPerSecond, MaxQuestionAudioBytes, MaxQuestionAudio, ErrInvalid)
	case size%2 != 0:
		return fmt.Errorf("audio of %d bytes: 16-bit samples need an even length: %w", size, ErrInvalid)
	case chunks != QuestionChunks(size):
		return fmt.Errorf("payload.chunks %d: %d bytes of audio take %d chunks of %d: %w", chunks, size, QuestionChunks(size), QuestionChunkSize, ErrInvalid)
	}
	return nil
}

// Question decodes and checks the payload of a question event, normalising
// the citizen (the contact) in place.
func (e *Event) Question() (QuestionPayload, error) {
	var q QuestionPayload
	if err := e.decodePayload(&q); err != nil {
		return q, err
	}
	if err := validateQuestionCode(q.Code); err != nil {
		return q, err
	}
	if !langPattern.MatchString(q.Lang) {
		return q, fmt.Errorf("payload.lang %q: a two-letter language code (ko, en …): %w", q.Lang, ErrInvalid)
	}
	if utf8.RuneCountInString(q.Text) > MaxQuestionText {
		return q, fmt.Errorf("payload.text: longer than %d characters: %w", MaxQuestionText, ErrInvalid)
	}
	if !utf8.ValidString(q.Text) {
		return q, fmt.Errorf("payload.text: not UTF-8: %w", ErrInvalid)
	}
	if err := validateAudioSize(q.AudioBytes, q.Chunks); err != nil {
		return q, err
	}
	switch {
	case q.AudioBytes == 0 && strings.TrimSpace(q.Text) == "":
		return q, fmt.Errorf("payload: neither audio nor text: an empty question cannot be answered: %w", ErrInvalid)
	case q.AudioBytes == 0 && q.SHA256 != "":
		return q, fmt.Errorf("payload.sha256: set without audio: %w", ErrInvalid)
	case q.AudioBytes > 0 && !sha256Pattern.MatchString(q.SHA256):
		return q, fmt.Errorf("payload.sha256 %q: 64 lower-case hex digits: %w", q.SHA256, ErrInvalid)
	}
	if q.Reply == ReplyAtKiosk {
		if e.Citizen != (Citizen{}) {
			return q, fmt.Errorf("citizen: a question answered at the kiosk names nobody: %w", ErrInvalid)
		}
		return q, nil
	}
	if err := Channel(q.Reply).Validate(); err != nil {
		return q, fmt.Errorf("payload.reply %q: must be kakao, naver, toss, sms or kiosk: %w", q.Reply, ErrInvalid)
	}
	if err := e.Citizen.validateContact(); err != nil {
		return q, &CitizenError{Err: err}
	}
	return q, nil
}

// AudioSHA256 is the hex SHA-256 a question event names for its audio.
func AudioSHA256(sum [32]byte) string { return hex.EncodeToString(sum[:]) }

// MaxAnswerText bounds an official's answer, in characters: with the
// message's frame it stays within an AlimTalk (1,000 characters) and an
// LMS (2,000 EUC-KR bytes).
const MaxAnswerText = 800

// Question is a stored question as officials see it. The contact's name
// and number are stored sealed and shown masked.
type Question struct {
	ID       uint64    `json:"id"`
	Code     string    `json:"code"`
	Kiosk    string    `json:"kiosk"`
	Seq      uint64    `json:"seq"`
	AskedAt  time.Time `json:"askedAt"`
	Received time.Time `json:"received"`
	Lang     string    `json:"lang"`
	Text     string    `json:"text,omitempty"`
	// Reply is a channel or "kiosk".
	Reply      string `json:"reply"`
	AudioBytes int    `json:"audioBytes"`
	Chunks     int    `json:"chunks"`
	SHA256     string `json:"sha256,omitempty"`
	CodeReused bool   `json:"codeReused,omitempty"`
	// Audio is "none" (typed), "kept" or "deleted".
	Audio          string     `json:"audio"`
	AudioDeletedAt *time.Time `json:"audioDeletedAt,omitempty"`
	// Damaged says what went wrong on the way, "" when nothing did.
	Damaged    string     `json:"damaged,omitempty"`
	Answer     string     `json:"answer,omitempty"`
	AnsweredBy string     `json:"answeredBy,omitempty"`
	AnsweredAt *time.Time `json:"answeredAt,omitempty"`
	// Delivery says how the answer went out: "queued", "kakao",
	// "sms (fallback from kakao)", "refused: …", or "" when the person
	// reads it at the kiosk.
	Delivery string `json:"delivery,omitempty"`
	// Name and Mobile are masked (김*수, 010-****-5678); empty for kiosk replies.
	Name   string `json:"name,omitempty"`
	Mobile string `json:"mobile,omitempty"`

	Contact []byte `json:"contact,omitempty"` // sealed Citizen; cleared before it leaves the store
}

// Duration is how long the recording lasts.
func (q Question) Duration() time.Duration {
	return QuestionPayload{AudioBytes: q.AudioBytes}.AudioDuration()
}

// ErrAudioDeleted: the recording existed and the retention policy deleted it.
var ErrAudioDeleted = errors.New("the recording was deleted under the retention policy")

// ErrAlreadyAnswered: a question is answered once.
var ErrAlreadyAnswered = errors.New("already answered")

// RetentionPolicy says how long central keeps questions' recordings.
type RetentionPolicy struct {
	// KeepAnswered keeps a recording this long after the answer (for
	// quality review); 0 deletes it with the answer.
	KeepAnswered time.Duration
	// MaxAge deletes any recording, answered or not, this long after it
	// arrived, and chunks whose question never came.
	MaxAge time.Duration
}

// DefaultRetentionPolicy deletes a recording when its question is
// answered, and any recording or stray chunk after 30 days.
func DefaultRetentionPolicy() RetentionPolicy {
	return RetentionPolicy{KeepAnswered: 0, MaxAge: 30 * 24 * time.Hour}
}

// PendingAnswer is one answer to send.
type PendingAnswer struct {
	Question Question
	Citizen  Citizen
}

// Questions keeps the questions kiosks send in (text, or audio in chunks)
// and the officials' answers until they are sent back.
//
// Questions arrive through Registry.Commit, and whatever only central can
// find wrong (chunks missing, audio that does not match its hash, a code
// already taken) does not refuse the record: the question is kept, with
// Damaged saying what is wrong. Chunks may come in batches before their
// question. A question whose code already names another question or a
// sign-up is marked CodeReused, and the code keeps opening what it opened.
type Questions interface {
	// Questions lists questions, unanswered ones only unless all is set.
	Questions(all bool) ([]Question, error)
	// Question is one question by id (ErrNotFound when unknown).
	Question(id uint64) (Question, error)
	// QuestionByCode is the question a receipt code names (ErrNotFound
	// when none does).
	QuestionByCode(code string) (Question, error)
	// QuestionAudio is a question's recording, for the official who plays
	// it (audited); ErrAudioDeleted once the retention policy removed it,
	// ErrNotFound for an unknown id or a question without one.
	QuestionAudio(id uint64, official string) ([]byte, error)
	// QuestionAudioCount counts the recordings and audio chunks kept.
	QuestionAudioCount() (recordings, chunks int, err error)
	// AnswerQuestion records an official's answer (at most MaxAnswerText
	// characters; ErrAlreadyAnswered the second time) and queues it for
	// sending when the person chose a channel; deleteAudio removes the
	// recording at once. An unknown id is ErrNotFound; an empty answer or
	// official, or a longer answer, ErrInvalid.
	AnswerQuestion(id uint64, official, answer string, deleteAudio bool) (Question, error)
	// PurgeQuestionAudio deletes the recordings the policy no longer keeps
	// and reports how many.
	PurgeQuestionAudio(now time.Time, p RetentionPolicy) (int, error)
	// PendingAnswers returns up to n answers still to send, each with the
	// person to send it to.
	PendingAnswers(n int) ([]PendingAnswer, error)
	// AnswerSent marks an answer sent, with the provider's delivery id
	// (ErrNotFound for an unknown question).
	AnswerSent(id uint64, delivery string) error
	// AnswersPending counts the answers still to send.
	AnswersPending() (int, error)
}

// CheckAnswer checks an official's answer to a question as every store
// does before it records it, and returns it trimmed: an official is named,
// the answer is not empty, is UTF-8 and at most MaxAnswerText characters
// (a text message's limit). Otherwise ErrInvalid, saying which.
func CheckAnswer(official, answer string) (string, error) {
	answer = strings.TrimSpace(answer)
	switch {
	case official == "":
		return "", fmt.Errorf("official: empty: %w", ErrInvalid)
	case answer == "":
		return "", fmt.Errorf("answer: empty: write the answer to the person's question: %w", ErrInvalid)
	case utf8.RuneCountInString(answer) > MaxAnswerText:
		return "", fmt.Errorf("answer: %d characters, at most %d (a text message's limit): shorten it: %w",
			utf8.RuneCountInString(answer), MaxAnswerText, ErrInvalid)
	case !utf8.ValidString(answer):
		return "", fmt.Errorf("answer: not UTF-8: %w", ErrInvalid)
	}
	return answer, nil
}

package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

// The questions part of the store keeps the questions kiosks send in and the
// answers to send back. Its buckets, and what their keys and values hold:
var (
	bucketQChunks   = []byte("qchunks")   // kiosk 0x00 code 0x00 index(4) → received at, ms(8) | PCM
	bucketQuestions = []byte("questions") // id(8) → questionRecord
	bucketQCodes    = []byte("qcodes")    // codeKey(code) → id(8)
	bucketQAudio    = []byte("qaudio")    // id(8) → PCM of the whole question, until the retention policy deletes it
	bucketQSend     = []byte("qsend")     // id(8) → "" : answers still to send on the person's channel
)

// questionsPart creates them when the store opens.
var questionsPart = part{"questions", [][]byte{
	bucketQChunks, bucketQuestions, bucketQCodes, bucketQAudio, bucketQSend}}

// Questions a kiosk could not answer arrive as audio chunks followed by
// the question event (allimi.KindQuestion). Central keeps the chunks until
// their question arrives, then assembles and checks the audio in the
// transaction that stores the question.
//
// Whatever only central can find wrong — a chunk missing or sent twice, a
// hash that does not match, a code already used — does not refuse the
// event: the kiosk's queue would stop at it for ever, since its ack would
// never pass it. The question is stored marked damaged, for an official to
// see.
var ()

// dupChunkIndex marks, among a question's chunks, that one arrived twice.
const dupChunkIndex = 0xFFFFFFFF

func chunkPrefix(kiosk, code string) []byte {
	return []byte(kiosk + "\x00" + code + "\x00")
}

func chunkKey(kiosk, code string, i int) []byte {
	return binary.BigEndian.AppendUint32(chunkPrefix(kiosk, code), uint32(i))
}

// storeQuestionChunk keeps one chunk until its question arrives. A second
// chunk with the same place is marked, not refused (see above).
func (s *Store) storeQuestionChunk(tx *bbolt.Tx, e *allimi.Event) error {
	p, err := e.QuestionAudio()
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketQChunks)
	k := chunkKey(e.Kiosk, p.Code, p.Index)
	if b.Get(k) != nil {
		s.log.Warn("question chunk arrived twice under different sequence numbers", "kiosk", e.Kiosk, "seq", e.Seq, "index", p.Index)
		return b.Put(chunkKey(e.Kiosk, p.Code, dupChunkIndex), binary.BigEndian.AppendUint64(nil, uint64(s.now().UnixMilli())))
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(p.Data)), uint64(s.now().UnixMilli()))
	if err := b.Put(k, append(v, s.keys.Seal(p.Data, questionAD("chunk", k))...)); err != nil {
		return err
	}
	// A chunk after its question: the question waits for it.
	idv := tx.Bucket(bucketQCodes).Get(s.codeKey(p.Code))
	if len(idv) != 8 {
		return nil
	}
	q, err := s.getQuestion(tx, binary.BigEndian.Uint64(idv))
	if err != nil || q.Kiosk != e.Kiosk || q.Audio != "none" || q.Chunks == 0 {
		return err
	}
	if err := s.assemble(tx, &q); err != nil {
		return err
	}
	return s.putQuestion(tx, &q)
}

// storeQuestion stores the question and assembles its audio from its
// chunks.
func (s *Store) storeQuestion(tx *bbolt.Tx, tally *commitTally, e *allimi.Event) error {
	p, err := e.Question()
	if err != nil {
		return err
	}
	qb := tx.Bucket(bucketQuestions)
	id, err := qb.NextSequence()
	if err != nil {
		return err
	}
	now := s.now().UTC()
	q := allimi.Question{ID: id, Code: p.Code, Kiosk: e.Kiosk, Seq: e.Seq, AskedAt: allimi.HLCTime(e.HLC).UTC(), Received: now,
		Lang: p.Lang, Text: p.Text, Reply: p.Reply, AudioBytes: p.AudioBytes, Chunks: p.Chunks, SHA256: p.SHA256, Audio: "none"}
	if p.Reply != allimi.ReplyAtKiosk {
		q.Contact = s.keys.Seal(encodePII(e.Citizen), u64(id))
	}
	codes := tx.Bucket(bucketQCodes)
	if codes.Get(s.codeKey(p.Code)) != nil || s.isReceiptCode(tx, tally, p.Code) {
		// 50 random bits collide by chance about never; a kiosk that reuses
		// a code must not let its holder read someone else's answer, nor
		// Put its question on the page of someone's sign-up (whose code,
		// on earlier kiosks, anyone could compute). No question names a
		// sign-up: a kiosk draws a new code for each, so the question is
		// kept for an official, from whichever kiosk, and the code keeps
		// opening what it opened.
		q.CodeReused = true
	} else if err := codes.Put(s.codeKey(p.Code), u64(id)); err != nil {
		return err
	}
	if err := s.assemble(tx, &q); err != nil {
		return err
	}
	return s.putQuestion(tx, &q)
}

// assemble joins a question's chunks, checks the audio and stores it, and
// says in q.Damaged what is wrong. While chunks are missing it keeps the
// others: one arriving late (after a broker lost it and the kiosk resent
// it) completes the question.
func (s *Store) assemble(tx *bbolt.Tx, q *allimi.Question) error {
	var why []string
	if q.CodeReused {
		why = append(why, "receipt code already used by another question or a sign-up: it cannot be read at a kiosk")
	}
	defer func() {
		q.Damaged = strings.Join(why, "; ")
		if q.Damaged != "" {
			s.log.Warn("question damaged", "kiosk", q.Kiosk, "seq", q.Seq, "question", q.ID, "damage", q.Damaged)
		}
	}()
	if q.Chunks == 0 {
		return nil
	}
	b := tx.Bucket(bucketQChunks)
	audio := make([]byte, 0, q.AudioBytes)
	var missing []int
	for i := 0; i < q.Chunks; i++ {
		k := chunkKey(q.Kiosk, q.Code, i)
		v := b.Get(k)
		if len(v) < 8 {
			missing = append(missing, i)
			continue
		}
		pcm, err := s.keys.Open(v[8:], questionAD("chunk", k))
		if err != nil {
			why = append(why, fmt.Sprintf("audio chunk %d cannot be opened with this central's keys", i))
			missing = append(missing, i)
			continue
		}
		audio = append(audio, pcm...)
	}
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("audio chunks missing: %v of %d: the recording cannot be played until they arrive", missing, q.Chunks))
		return nil
	}
	if b.Get(chunkKey(q.Kiosk, q.Code, dupChunkIndex)) != nil {
		why = append(why, "an audio chunk arrived twice under different sequence numbers")
	}
	// Every chunk of the question goes, including any beyond the count
	// announced (a kiosk's bug), which is reported.
	c := b.Cursor()
	prefix := chunkPrefix(q.Kiosk, q.Code)
	extra := 0
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if i := binary.BigEndian.Uint32(k[len(prefix):]); i != dupChunkIndex && int(i) >= q.Chunks {
			extra++
		}
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	if extra > 0 {
		why = append(why, fmt.Sprintf("%d audio chunks beyond the %d announced", extra, q.Chunks))
	}
	switch {
	case len(audio) != q.AudioBytes:
		why = append(why, fmt.Sprintf("audio of %d bytes, the question announces %d", len(audio), q.AudioBytes))
	case allimi.AudioSHA256(sha256.Sum256(audio)) != q.SHA256:
		why = append(why, "the audio's SHA-256 does not match the question's: it may be garbled")
	}
	// Kept even when damaged: an official may still make out the question.
	if err := tx.Bucket(bucketQAudio).Put(u64(q.ID), s.keys.Seal(audio, questionAD("audio", u64(q.ID)))); err != nil {
		return err
	}
	q.Audio = "kept"
	return nil
}

// A question, its chunks and its recording are sealed at rest with the
// keys that seal people's contacts: what a person asks, and their voice,
// may say as much about them as their number. The additional data binds
// each to its place, so that a sealed value moved under another key does
// not open.
func (s *Store) putQuestion(tx *bbolt.Tx, q *allimi.Question) error {
	v, err := json.Marshal(q)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketQuestions).Put(u64(q.ID), s.keys.Seal(v, questionAD("question", u64(q.ID))))
}

func questionAD(what string, key []byte) []byte {
	return append([]byte(what+"\x00"), key...)
}

// openQuestion decodes a stored question.
func (s *Store) openQuestion(k, v []byte) (allimi.Question, error) {
	var q allimi.Question
	plain, err := s.keys.Open(v, questionAD("question", k))
	if err != nil {
		return q, fmt.Errorf("question %d: cannot be opened with this central's keys: %w", binary.BigEndian.Uint64(k), err)
	}
	if err := json.Unmarshal(plain, &q); err != nil {
		return q, fmt.Errorf("question %d: %w", binary.BigEndian.Uint64(k), err)
	}
	return q, nil
}

func (s *Store) getQuestion(tx *bbolt.Tx, id uint64) (allimi.Question, error) {
	v := tx.Bucket(bucketQuestions).Get(u64(id))
	if v == nil {
		return allimi.Question{}, fmt.Errorf("question %d: %w", id, allimi.ErrNotFound)
	}
	return s.openQuestion(u64(id), v)
}

// view masks the contact and drops the sealed copy.
func (s *Store) view(q allimi.Question) allimi.Question {
	if q.Contact != nil {
		if plain, err := s.keys.Open(q.Contact, u64(q.ID)); err == nil {
			if c, err := decodePII(plain); err == nil {
				q.Name, q.Mobile = c.MaskedName(), c.MaskedMobile()
			}
		}
	}
	q.Contact = nil
	return q
}

// Questions lists questions, newest first: the unanswered ones only
// unless all is set.
func (s *Store) Questions(all bool) ([]allimi.Question, error) {
	out := []allimi.Question{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketQuestions).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			q, err := s.openQuestion(k, v)
			if err != nil {
				return err
			}
			if q.AnsweredAt != nil && !all {
				continue
			}
			out = append(out, s.view(q))
		}
		return nil
	})
	return out, err
}

// Question returns one question, contact masked.
func (s *Store) Question(id uint64) (allimi.Question, error) {
	var q allimi.Question
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		q, err = s.getQuestion(tx, id)
		return err
	})
	return s.view(q), err
}

// QuestionAudio returns a question's recording (16 kHz mono 16-bit PCM)
// and records, in the audit log, that official played it.
func (s *Store) QuestionAudio(id uint64, official string) ([]byte, error) {
	var pcm []byte
	err := s.db.Update(func(tx *bbolt.Tx) error {
		q, err := s.getQuestion(tx, id)
		if err != nil {
			return err
		}
		v := tx.Bucket(bucketQAudio).Get(u64(id))
		switch {
		case v == nil && q.Audio == "deleted":
			return fmt.Errorf("question %d: %w", id, allimi.ErrAudioDeleted)
		case v == nil:
			return fmt.Errorf("question %d has no recording: %w", id, allimi.ErrNotFound)
		}
		if pcm, err = s.keys.Open(v, questionAD("audio", u64(id))); err != nil {
			return fmt.Errorf("question %d: recording cannot be opened with this central's keys: %w", id, err)
		}
		return s.audit(tx, allimi.AuditQuestionAudio, nil, official, fmt.Sprintf("question %d", id))
	})
	return pcm, err
}

// AnswerQuestion records official's answer to question id, in one
// transaction with its audit entry, the message to send when the person
// chose a channel, and — when deleteAudio — the deletion of the recording.
func (s *Store) AnswerQuestion(id uint64, official, answer string, deleteAudio bool) (allimi.Question, error) {
	answer, err := allimi.CheckAnswer(official, answer)
	if err != nil {
		return allimi.Question{}, err
	}
	var q allimi.Question
	err = s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		if q, err = s.getQuestion(tx, id); err != nil {
			return err
		}
		if q.AnsweredAt != nil {
			return fmt.Errorf("question %d: already answered by %s: %w", id, q.AnsweredBy, allimi.ErrAlreadyAnswered)
		}
		now := s.now().UTC()
		q.Answer, q.AnsweredBy, q.AnsweredAt = answer, official, &now
		if q.Reply != allimi.ReplyAtKiosk && q.Contact != nil {
			q.Delivery = "queued"
			if err := tx.Bucket(bucketQSend).Put(u64(id), nil); err != nil {
				return err
			}
		}
		if deleteAudio {
			if err := deleteQuestionAudio(tx, &q, now); err != nil {
				return err
			}
		}
		if err := s.audit(tx, allimi.AuditAnswer, nil, official, fmt.Sprintf("question %d (%s/%d), reply %s", id, q.Kiosk, q.Seq, q.Reply)); err != nil {
			return err
		}
		return s.putQuestion(tx, &q)
	})
	return s.view(q), err
}

func deleteQuestionAudio(tx *bbolt.Tx, q *allimi.Question, now time.Time) error {
	if q.Audio != "kept" {
		return nil
	}
	if err := tx.Bucket(bucketQAudio).Delete(u64(q.ID)); err != nil {
		return err
	}
	q.Audio, q.AudioDeletedAt = "deleted", &now
	return nil
}

// PurgeQuestionAudio deletes the recordings the policy no longer allows
// and stray chunks; it returns how many recordings it deleted.
func (s *Store) PurgeQuestionAudio(now time.Time, p allimi.RetentionPolicy) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		n = 0
		var ids [][]byte
		_ = tx.Bucket(bucketQAudio).ForEach(func(k, _ []byte) error {
			ids = append(ids, bytes.Clone(k))
			return nil
		})
		for _, k := range ids {
			q, err := s.getQuestion(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			expired := p.MaxAge > 0 && now.Sub(q.Received) >= p.MaxAge
			if q.AnsweredAt != nil && now.Sub(*q.AnsweredAt) >= p.KeepAnswered {
				expired = true
			}
			if !expired {
				continue
			}
			if err := deleteQuestionAudio(tx, &q, now.UTC()); err != nil {
				return err
			}
			if err := s.putQuestion(tx, &q); err != nil {
				return err
			}
			n++
		}
		if p.MaxAge <= 0 {
			return nil
		}
		b := tx.Bucket(bucketQChunks)
		var stray [][]byte
		_ = b.ForEach(func(k, v []byte) error {
			if len(v) >= 8 && now.Sub(time.UnixMilli(int64(binary.BigEndian.Uint64(v)))) >= p.MaxAge {
				stray = append(stray, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range stray {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// QuestionByCode returns the question with a receipt code. A code that
// also names a sign-up (stored before central refused such questions) is
// the sign-up's.
func (s *Store) QuestionByCode(code string) (allimi.Question, error) {
	var q allimi.Question
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketQCodes).Get(s.codeKey(code))
		if len(v) != 8 || s.isReceiptCode(tx, nil, code) {
			return fmt.Errorf("question %s: %w", code, allimi.ErrNotFound)
		}
		var err error
		q, err = s.getQuestion(tx, binary.BigEndian.Uint64(v))
		return err
	})
	return s.view(q), err
}

// QuestionAudioCount counts the recordings central holds, and the chunks
// waiting for their question.
func (s *Store) QuestionAudioCount() (recordings, chunks int, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		recordings = tx.Bucket(bucketQAudio).Stats().KeyN
		chunks = tx.Bucket(bucketQChunks).Stats().KeyN
		return nil
	})
	return recordings, chunks, err
}

// releaseQuestionCode takes a code (key is its codeKey) from the question
// that holds it, if one does, for a sign-up that arrived with the same
// code: the question is kept, marked, and its slip opens nothing.
func (s *Store) releaseQuestionCode(tx *bbolt.Tx, key []byte) error {
	codes := tx.Bucket(bucketQCodes)
	v := codes.Get(key)
	if len(v) != 8 {
		return nil
	}
	q, err := s.getQuestion(tx, binary.BigEndian.Uint64(v))
	if err != nil {
		return err
	}
	q.CodeReused = true
	const why = "receipt code also names a sign-up, which keeps it: the question cannot be read at a kiosk"
	if q.Damaged != "" {
		q.Damaged += "; "
	}
	q.Damaged += why
	s.log.Warn("question gave up its receipt code to a sign-up", "kiosk", q.Kiosk, "seq", q.Seq, "question", q.ID)
	if err := codes.Delete(key); err != nil {
		return err
	}
	return s.putQuestion(tx, &q)
}

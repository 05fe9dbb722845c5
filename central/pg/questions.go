package pg

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/central/keyring"
)

// Questions a kiosk could not answer arrive as audio chunks followed by
// the question record (migration 0003), as central/bolt keeps them:
// central keeps the chunks until their question arrives, then assembles
// and checks the audio in the transaction that stores the question.
// Whatever only central can find wrong (a chunk missing or sent twice, a
// hash that does not match, a code already used) does not refuse the
// record, since the kiosk's queue would stop at it: the question is
// stored marked damaged, for an official to see. A question, its chunks
// and its recording are sealed under additional data that names their
// place, as bbolt's are, so that a copied value still opens.

// WithLogger sets where the store tells of what it notices on its own (a
// damaged question); slog's default when not set.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// dupChunkIndex marks, among a question's chunks, that one arrived twice.
const dupChunkIndex = 0xFFFFFFFF

func chunkKey(kiosk, code string, i uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte(kiosk+"\x00"+code+"\x00"), i)
}

func questionAD(what string, key []byte) []byte { return append([]byte(what+"\x00"), key...) }

// encodeContact is how a question keeps the person to answer: as a
// person's data is kept everywhere, sealed under the question's id.
func encodeContact(c allimi.Citizen) []byte { return keyring.EncodeCitizen(c) }

// openContact opens a question's contact.
func (s *Store) openContact(q allimi.Question) (allimi.Citizen, error) {
	plain, err := s.keys.Open(q.Contact, u64(q.ID))
	if err != nil {
		return allimi.Citizen{}, err
	}
	return keyring.DecodeCitizen(plain)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// storeQuestionChunk keeps one chunk until its question arrives; a chunk
// after its question completes the question.
func (b *batch) storeQuestionChunk(e *allimi.Event) error {
	p, err := e.QuestionAudio()
	if err != nil {
		return err
	}
	now := b.s.now().UnixMilli()
	k := chunkKey(e.Kiosk, p.Code, uint32(p.Index))
	tag, err := b.tx.Exec(b.ctx, `INSERT INTO question_chunks (kiosk, code, idx, received, sealed) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, e.Kiosk, p.Code, int64(p.Index), now, b.s.keys.Seal(p.Data, questionAD("chunk", k)))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		b.s.log.Warn("question chunk arrived twice under different sequence numbers", "kiosk", e.Kiosk, "seq", e.Seq, "index", p.Index)
		_, err := b.tx.Exec(b.ctx, `INSERT INTO question_chunks (kiosk, code, idx, received) VALUES ($1, $2, $3, $4)
			ON CONFLICT (kiosk, code, idx) DO UPDATE SET received = EXCLUDED.received`, e.Kiosk, p.Code, int64(dupChunkIndex), now)
		return err
	}
	var id int64
	err = b.tx.QueryRow(b.ctx, `SELECT id FROM question_codes WHERE code_key = $1`, b.s.keys.CodeIndex(p.Code)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	q, err := b.s.getQuestion(b.ctx, b.tx, uint64(id), true)
	if err != nil || q.Kiosk != e.Kiosk || q.Audio != "none" || q.Chunks == 0 {
		return err
	}
	if err := b.s.assemble(b.ctx, b.tx, &q); err != nil {
		return err
	}
	return b.s.putQuestion(b.ctx, b.tx, &q)
}

// storeQuestion stores the question and assembles its audio from its
// chunks.
func (b *batch) storeQuestion(e *allimi.Event) error {
	p, err := e.Question()
	if err != nil {
		return err
	}
	var id int64
	if err := b.tx.QueryRow(b.ctx, `SELECT nextval(pg_get_serial_sequence('questions', 'id'))`).Scan(&id); err != nil {
		return err
	}
	q := allimi.Question{ID: uint64(id), Code: p.Code, Kiosk: e.Kiosk, Seq: e.Seq, AskedAt: allimi.HLCTime(e.HLC).UTC(),
		Received: b.s.now().UTC(), Lang: p.Lang, Text: p.Text, Reply: p.Reply, AudioBytes: p.AudioBytes, Chunks: p.Chunks,
		SHA256: p.SHA256, Audio: "none"}
	if p.Reply != allimi.ReplyAtKiosk {
		q.Contact = b.s.keys.Seal(encodeContact(e.Citizen), u64(q.ID))
	}
	if err := b.s.putQuestion(b.ctx, b.tx, &q); err != nil { // the row the code refers to
		return err
	}
	key := b.s.keys.CodeIndex(p.Code)
	var taken bool
	if err := b.tx.QueryRow(b.ctx, `SELECT EXISTS (SELECT 1 FROM question_codes WHERE code_key = $1)
		OR EXISTS (SELECT 1 FROM receipts WHERE code_key = $1)`, key).Scan(&taken); err != nil {
		return err
	}
	if taken {
		// A kiosk that reuses a code must not let its holder read someone
		// else's answer, nor put its question on a sign-up's page: the
		// question is kept for an official, and the code keeps opening
		// what it opened.
		q.CodeReused = true
	} else if _, err := b.tx.Exec(b.ctx, `INSERT INTO question_codes (code_key, id) VALUES ($1, $2)`, key, id); err != nil {
		return err
	} else {
		b.qcodes[string(key)] = true // a sign-up later in the batch takes it back
	}
	if err := b.s.assemble(b.ctx, b.tx, &q); err != nil {
		return err
	}
	return b.s.putQuestion(b.ctx, b.tx, &q)
}

// assemble joins a question's chunks, checks the audio and stores it, and
// says in q.Damaged what is wrong. While chunks are missing it keeps the
// others, so that one arriving late completes the question.
func (s *Store) assemble(ctx context.Context, tx pgx.Tx, q *allimi.Question) error {
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
	type chunk struct { // exported fields: pgx fills them by position
		Idx    int64
		Sealed []byte
	}
	rows, err := tx.Query(ctx, `SELECT idx, sealed FROM question_chunks WHERE kiosk = $1 AND code = $2 ORDER BY idx`, q.Kiosk, q.Code)
	if err != nil {
		return err
	}
	chunks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[chunk])
	if err != nil {
		return err
	}
	have := map[int64][]byte{}
	dup, extra := false, 0
	for _, c := range chunks {
		switch {
		case c.Idx == dupChunkIndex:
			dup = true
		case c.Idx >= int64(q.Chunks):
			extra++
		default:
			have[c.Idx] = c.Sealed
		}
	}
	audio := make([]byte, 0, q.AudioBytes)
	var missing []int
	for i := 0; i < q.Chunks; i++ {
		sealed, ok := have[int64(i)]
		if !ok {
			missing = append(missing, i)
			continue
		}
		pcm, err := s.keys.Open(sealed, questionAD("chunk", chunkKey(q.Kiosk, q.Code, uint32(i))))
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
	if dup {
		why = append(why, "an audio chunk arrived twice under different sequence numbers")
	}
	// Every chunk of the question goes, including any beyond the count
	// announced (a kiosk's bug), which is reported.
	if _, err := tx.Exec(ctx, `DELETE FROM question_chunks WHERE kiosk = $1 AND code = $2`, q.Kiosk, q.Code); err != nil {
		return err
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
	if _, err := tx.Exec(ctx, `INSERT INTO question_audio (id, sealed) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET sealed = EXCLUDED.sealed`, int64(q.ID), s.keys.Seal(audio, questionAD("audio", u64(q.ID)))); err != nil {
		return err
	}
	q.Audio = "kept"
	return nil
}

// putQuestion stores a question, sealed.
func (s *Store) putQuestion(ctx context.Context, tx pgx.Tx, q *allimi.Question) error {
	v, err := json.Marshal(q)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO questions (id, answered, sealed) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET answered = EXCLUDED.answered, sealed = EXCLUDED.sealed`,
		int64(q.ID), q.AnsweredAt != nil, s.keys.Seal(v, questionAD("question", u64(q.ID))))
	return err
}

// getQuestion reads and opens a question; forUpdate locks it in a
// transaction.
func (s *Store) getQuestion(ctx context.Context, q querier, id uint64, forUpdate bool) (allimi.Question, error) {
	sql := `SELECT sealed FROM questions WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	var sealed []byte
	err := q.QueryRow(ctx, sql, int64(id)).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return allimi.Question{}, fmt.Errorf("question %d: %w", id, allimi.ErrNotFound)
	}
	if err != nil {
		return allimi.Question{}, err
	}
	return s.openQuestion(id, sealed)
}

func (s *Store) openQuestion(id uint64, sealed []byte) (allimi.Question, error) {
	var q allimi.Question
	plain, err := s.keys.Open(sealed, questionAD("question", u64(id)))
	if err != nil {
		return q, fmt.Errorf("question %d: cannot be opened with this central's keys: %w", id, err)
	}
	if err := json.Unmarshal(plain, &q); err != nil {
		return q, fmt.Errorf("question %d: %w", id, err)
	}
	return q, nil
}

// view masks the contact and drops the sealed copy.
func (s *Store) view(q allimi.Question) allimi.Question {
	if q.Contact != nil {
		if c, err := s.openContact(q); err == nil {
			q.Name, q.Mobile = c.MaskedName(), c.MaskedMobile()
		}
	}
	q.Contact = nil
	return q
}

// Questions lists questions, newest first: the unanswered ones only
// unless all is set.
func (s *Store) Questions(all bool) ([]allimi.Question, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT id, sealed FROM questions WHERE $1 OR NOT answered ORDER BY id DESC`, all)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []allimi.Question{}
	for rows.Next() {
		var id int64
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			return nil, err
		}
		q, err := s.openQuestion(uint64(id), sealed)
		if err != nil {
			return nil, err
		}
		out = append(out, s.view(q))
	}
	return out, rows.Err()
}

// Question returns one question, contact masked.
func (s *Store) Question(id uint64) (allimi.Question, error) {
	q, err := s.getQuestion(s.ctx(), s.pool, id, false)
	return s.view(q), err
}

// QuestionByCode returns the question with a receipt code. A code that
// also names a sign-up is the sign-up's.
func (s *Store) QuestionByCode(code string) (allimi.Question, error) {
	var id int64
	key := s.keys.CodeIndex(code)
	err := s.pool.QueryRow(s.ctx(), `SELECT q.id FROM question_codes q WHERE q.code_key = $1
		AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.code_key = $1)`, key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return allimi.Question{}, fmt.Errorf("question %s: %w", code, allimi.ErrNotFound)
	}
	if err != nil {
		return allimi.Question{}, err
	}
	q, err := s.getQuestion(s.ctx(), s.pool, uint64(id), false)
	return s.view(q), err
}

// QuestionAudio returns a question's recording (16 kHz mono 16-bit PCM)
// and records, in the audit log, that official played it.
func (s *Store) QuestionAudio(id uint64, official string) ([]byte, error) {
	var pcm []byte
	err := s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		q, err := s.getQuestion(ctx, tx, id, false)
		if err != nil {
			return err
		}
		var sealed []byte
		err = tx.QueryRow(ctx, `SELECT sealed FROM question_audio WHERE id = $1`, int64(id)).Scan(&sealed)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && q.Audio == "deleted":
			return fmt.Errorf("question %d: %w", id, allimi.ErrAudioDeleted)
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("question %d has no recording: %w", id, allimi.ErrNotFound)
		case err != nil:
			return err
		}
		if pcm, err = s.keys.Open(sealed, questionAD("audio", u64(id))); err != nil {
			return fmt.Errorf("question %d: recording cannot be opened with this central's keys: %w", id, err)
		}
		return s.audit(ctx, tx, allimi.AuditQuestionAudio, nil, official, fmt.Sprintf("question %d", id))
	})
	return pcm, err
}

// QuestionAudioCount counts the recordings central holds, and the chunks
// waiting for their question.
func (s *Store) QuestionAudioCount() (recordings, chunks int, err error) {
	err = s.pool.QueryRow(s.ctx(), `SELECT (SELECT count(*) FROM question_audio), (SELECT count(*) FROM question_chunks)`).
		Scan(&recordings, &chunks)
	return recordings, chunks, err
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
	err = s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if q, err = s.getQuestion(ctx, tx, id, true); err != nil {
			return err
		}
		if q.AnsweredAt != nil {
			return fmt.Errorf("question %d: already answered by %s: %w", id, q.AnsweredBy, allimi.ErrAlreadyAnswered)
		}
		now := s.now().UTC()
		q.Answer, q.AnsweredBy, q.AnsweredAt = answer, official, &now
		if q.Reply != allimi.ReplyAtKiosk && q.Contact != nil {
			q.Delivery = "queued"
			if _, err := tx.Exec(ctx, `INSERT INTO question_send (id) VALUES ($1) ON CONFLICT DO NOTHING`, int64(id)); err != nil {
				return err
			}
		}
		if deleteAudio {
			if err := deleteQuestionAudio(ctx, tx, &q, now); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, allimi.AuditAnswer, nil, official, fmt.Sprintf("question %d (%s/%d), reply %s", id, q.Kiosk, q.Seq, q.Reply)); err != nil {
			return err
		}
		return s.putQuestion(ctx, tx, &q)
	})
	return s.view(q), err
}

func deleteQuestionAudio(ctx context.Context, tx pgx.Tx, q *allimi.Question, now time.Time) error {
	if q.Audio != "kept" {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM question_audio WHERE id = $1`, int64(q.ID)); err != nil {
		return err
	}
	q.Audio, q.AudioDeletedAt = "deleted", &now
	return nil
}

// PurgeQuestionAudio deletes the recordings the policy no longer allows
// and stray chunks; it returns how many recordings it deleted.
func (s *Store) PurgeQuestionAudio(now time.Time, p allimi.RetentionPolicy) (int, error) {
	n := 0
	err := s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		n = 0
		rows, err := tx.Query(ctx, `SELECT a.id, q.sealed FROM question_audio a JOIN questions q ON q.id = a.id ORDER BY a.id FOR UPDATE OF q`)
		if err != nil {
			return err
		}
		type kept struct { // exported fields: pgx fills them by position
			ID     int64
			Sealed []byte
		}
		all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[kept])
		if err != nil {
			return err
		}
		for _, k := range all {
			q, err := s.openQuestion(uint64(k.ID), k.Sealed)
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
			if err := deleteQuestionAudio(ctx, tx, &q, now.UTC()); err != nil {
				return err
			}
			if err := s.putQuestion(ctx, tx, &q); err != nil {
				return err
			}
			n++
		}
		if p.MaxAge <= 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `DELETE FROM question_chunks WHERE received <= $1`, now.Add(-p.MaxAge).UnixMilli())
		return err
	})
	return n, err
}

// releaseQuestionCode takes a code (key is its CodeIndex) from the
// question that holds it, if one does, for a sign-up that arrived with the
// same code: the question is kept, marked, and its slip opens nothing.
func (b *batch) releaseQuestionCode(key []byte) error {
	var id int64
	err := b.tx.QueryRow(b.ctx, `DELETE FROM question_codes WHERE code_key = $1 RETURNING id`, key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	q, err := b.s.getQuestion(b.ctx, b.tx, uint64(id), true)
	if err != nil {
		return err
	}
	q.CodeReused = true
	const why = "receipt code also names a sign-up, which keeps it: the question cannot be read at a kiosk"
	if q.Damaged != "" {
		q.Damaged += "; "
	}
	q.Damaged += why
	b.s.log.Warn("question gave up its receipt code to a sign-up", "kiosk", q.Kiosk, "seq", q.Seq, "question", q.ID)
	return b.s.putQuestion(b.ctx, b.tx, &q)
}

// PendingAnswers returns up to n answers still to send, each with the
// person's contact opened.
func (s *Store) PendingAnswers(n int) ([]allimi.PendingAnswer, error) {
	rows, err := s.pool.Query(s.ctx(), `SELECT q.id, q.sealed FROM question_send a JOIN questions q ON q.id = a.id ORDER BY a.id LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []allimi.PendingAnswer
	for rows.Next() {
		var id int64
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			return nil, err
		}
		q, err := s.openQuestion(uint64(id), sealed)
		if err != nil {
			return nil, err
		}
		cit, err := s.openContact(q)
		if err != nil {
			return nil, fmt.Errorf("question %d: contact: %w", q.ID, err)
		}
		q.Contact = nil // allimi.Question: cleared before it leaves the store
		out = append(out, allimi.PendingAnswer{Question: q, Citizen: cit})
	}
	return out, rows.Err()
}

// AnswerSent takes the answer off the queue and records how it went.
func (s *Store) AnswerSent(id uint64, delivery string) error {
	return s.inTx(func(ctx context.Context, tx pgx.Tx) error {
		q, err := s.getQuestion(ctx, tx, id, true)
		if err != nil {
			return err
		}
		q.Delivery = delivery
		if _, err := tx.Exec(ctx, `DELETE FROM question_send WHERE id = $1`, int64(id)); err != nil {
			return err
		}
		return s.putQuestion(ctx, tx, &q)
	})
}

// AnswersPending counts the answers not yet handed to a provider.
func (s *Store) AnswersPending() (int, error) {
	var n int
	err := s.pool.QueryRow(s.ctx(), `SELECT count(*) FROM question_send`).Scan(&n)
	return n, err
}

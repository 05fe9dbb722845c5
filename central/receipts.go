package central

import (
	"bytes"
	"crypto/subtle"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/throttle"
)

// A person takes home the receipt code (and its QR) the kiosk showed them;
// /r/{code} lets them check, after giving their date of birth, that the
// sign-up reached central and what they are signed up for.
var bucketReceipts = []byte("receipts") // codeKey(code) → citizen key(32) | hlc(8) | kiosk

// The code is the one the kiosk drew and printed (payload.receipt, random,
// XXXX-XXXX-XXXX); a sign-up from an earlier kiosk carries none and is
// indexed under the code such kiosks printed, ReceiptCode(kiosk, seq).
// A code already in use is never taken over: whoever holds a sign-up's
// code and date of birth reads that sign-up, so a record that names
// another's code (a kiosk's bug, or a kiosk replaying codes it computed)
// must not change what the code opens.
func (s *Store) putReceipt(tx *bbolt.Tx, e *allimi.Event, ck []byte, p *allimi.ConsentPayload) error {
	code := p.Receipt
	if code == "" {
		code = allimi.ReceiptCode(e.Kiosk, e.Seq)
	}
	b := tx.Bucket(bucketReceipts)
	if b.Get(s.codeKey(code)) != nil {
		// The sign-up itself is kept, so that the kiosk's queue moves on
		// and the person's choices stand; only its slip opens nothing.
		return s.logRejection(tx, Incoming{Kiosk: e.Kiosk, Reject: fmt.Errorf(
			"record %d: receipt code already names another sign-up: this sign-up is kept without a receipt page: %w", e.Seq, allimi.ErrInvalid)})
	}
	// A question that took this code first (only a derived code can be
	// known before its sign-up exists) gives it up: its slip opens
	// nothing, and the sign-up's page is the sign-up's.
	if err := s.releaseQuestionCode(tx, code); err != nil {
		return err
	}
	v := binary.BigEndian.AppendUint64(bytes.Clone(ck), e.HLC)
	return b.Put(s.codeKey(code), append(v, e.Kiosk...))
}

// isReceiptCode reports whether code opens a sign-up's receipt page.
func (s *Store) isReceiptCode(tx *bbolt.Tx, code string) bool {
	return tx.Bucket(bucketReceipts).Get(s.codeKey(code)) != nil
}

// ReceiptView is what the receipt page shows.
type ReceiptView struct {
	ck       []byte // for the audit log
	Code     string
	Name     string // masked
	Kiosk    string
	Received time.Time
	Verified bool
	Consents []ReceiptConsent // active grants
}

// ReceiptConsent is one type the person is signed up for.
type ReceiptConsent struct {
	Type     string   // its Korean name
	Channels []string // 카카오톡, 네이버, 토스, 문자
}

var channelNames = map[allimi.Channel]string{allimi.ChannelKakao: "카카오톡", allimi.ChannelNaver: "네이버",
	allimi.ChannelToss: "토스", allimi.ChannelSMS: "문자"}

var (
	errReceiptNotFound = errors.New("no such receipt")
	errReceiptWrongDOB = errors.New("wrong date of birth")
)

// Receipt returns the sign-up behind code when birthDate is the person's.
func (s *Store) Receipt(code, birthDate string) (ReceiptView, error) {
	var view ReceiptView
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketReceipts).Get(s.codeKey(code))
		if len(v) < 40 {
			return errReceiptNotFound
		}
		ck := v[:32]
		cv := tx.Bucket(bucketCitizens).Get(ck)
		if cv == nil {
			return errReceiptNotFound
		}
		rec, err := decodeCitizenRecord(cv)
		if err != nil {
			return err
		}
		cit, err := s.openPII(ck, rec.PII)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(cit.BirthDate), []byte(birthDate)) != 1 {
			return errReceiptWrongDOB
		}
		view = ReceiptView{ck: bytes.Clone(ck), Code: code, Name: cit.MaskedName(), Kiosk: string(v[40:]), Verified: rec.Verified,
			Received: allimi.HLCTime(binary.BigEndian.Uint64(v[32:40])).In(kst)}
		byType := map[allimi.NotificationType][]string{}
		c := tx.Bucket(bucketConsents).Cursor()
		for k, sv := c.Seek(ck); k != nil && bytes.HasPrefix(k, ck); k, sv = c.Next() {
			st, err := decodeConsentState(sv)
			if err != nil || st.Action != allimi.ActionGrant {
				continue
			}
			t, ch, ok := bytes.Cut(k[32:], []byte{0})
			if !ok {
				continue
			}
			typ := allimi.NotificationType(t)
			byType[typ] = append(byType[typ], channelNames[allimi.Channel(ch)])
		}
		for _, ti := range allimi.Types {
			if chs := byType[ti.ID]; len(chs) > 0 {
				view.Consents = append(view.Consents, ReceiptConsent{Type: ti.Name, Channels: chs})
			}
		}
		return nil
	})
	return view, err
}

//go:embed receipt.ko.html
var receiptPage string

var receiptTemplate = template.Must(template.New("receipt").Funcs(template.FuncMap{"kst": kstTime}).Parse(receiptPage))

type receiptData struct {
	Kind      string // form, view, notfound, locked, question
	Code      string
	Wrong     bool
	TriesLeft int
	// LockMinutes: how long until the code, or this address, may try again.
	LockMinutes int
	View        ReceiptView
	Question    Question
}

func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodPost && !parseForm(w, r) {
		return
	}
	code, ok := allimi.NormalizeReceiptCode(r.PathValue("code"))
	d := receiptData{Kind: "form", Code: code}
	status := http.StatusOK
	now := time.Now()
	tries, client := s.store.limits.receipt, clientAddr(r.RemoteAddr)
	switch {
	case !ok:
		d.Kind, status = "notfound", http.StatusNotFound
	case s.refused(tries.Allow(client, code), &d):
		status = http.StatusTooManyRequests
	case s.questionSlip(code, &d):
		// The slip of a question for an official: its code is random (50
		// bits), a bearer secret like the slip itself, so the page shows
		// whether it was answered, and the answer, without a date of birth
		// (a question may name no one).
	case r.Method == http.MethodPost:
		birth, err := allimi.ParseBirthDate(r.PostFormValue("birthDate"), now)
		if err != nil {
			d.Wrong, d.TriesLeft, status = true, 5, http.StatusBadRequest
			break
		}
		v, err := s.store.Receipt(code, birth.Format(allimi.DateLayout))
		switch {
		case errors.Is(err, errReceiptNotFound):
			// Counted like a wrong date: a guessed code learns nothing.
			fallthrough
		case errors.Is(err, errReceiptWrongDOB):
			d.Wrong, status = true, http.StatusForbidden
			left, err := tries.Count(client, code)
			if err != nil && !errors.Is(err, throttle.ErrBusy) {
				s.log.Error("receipt page: counting a wrong try", "err", err)
			}
			d.TriesLeft = left
			if s.refused(tries.Allow(client, code), &d) {
				status = http.StatusTooManyRequests
			}
		case err != nil:
			s.log.Error("receipt page", "err", err)
			http.Error(w, "잠시 후 다시 시도해 주세요.", http.StatusInternalServerError)
			return
		default:
			if err := tries.Reset(code); err != nil {
				s.log.Error("receipt page: resetting tries", "err", err)
			}
			// Not the code: the audit log is plaintext, and the code opens the page.
			if err := s.store.auditView(AuditReceipt, v.ck, "receipt of a sign-up at "+v.Kiosk); err != nil {
				s.log.Error("receipt page: audit", "err", err)
				http.Error(w, "잠시 후 다시 시도해 주세요.", http.StatusInternalServerError)
				return
			}
			d.Kind, d.View = "view", v
		}
	}
	w.WriteHeader(status)
	if err := receiptTemplate.Execute(w, d); err != nil {
		s.log.Error("receipt page", "err", err)
	}
}

// refused fills d with the locked page when err, a refusal of the
// receipt limits, is one.
func (s *Server) refused(err error, d *receiptData) bool {
	var locked *throttle.LockedError
	switch {
	case err == nil:
		return false
	case errors.As(err, &locked):
		d.LockMinutes = int(math.Ceil(locked.Until.Sub(s.store.limits.now()).Minutes()))
	default: // ErrBusy: too many wrong tries everywhere just now
		d.LockMinutes = 1
	}
	d.Kind, d.LockMinutes = "locked", max(d.LockMinutes, 1)
	return true
}

// questionSlip fills d with the question whose slip carries code, and
// reports whether there is one. A code used twice (a kiosk's bug) shows
// neither question.
func (s *Server) questionSlip(code string, d *receiptData) bool {
	q, err := s.store.QuestionByCode(code)
	if err != nil {
		if !errors.Is(err, allimi.ErrNotFound) {
			s.log.Error("receipt page: question", "err", err)
		}
		return false
	}
	if q.CodeReused {
		return false
	}
	if err := s.store.auditView(AuditQuestionView, nil, fmt.Sprintf("question %d", q.ID)); err != nil {
		s.log.Error("receipt page: audit", "err", err)
		return false
	}
	d.Kind, d.Question = "question", q
	return true
}

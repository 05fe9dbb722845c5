package bolt

import (
	"bytes"
	"crypto/subtle"
	_ "embed"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"

	"allimi"
)

// A person takes home the receipt code (and its QR) the kiosk showed them;
// /r/{code} lets them check, after giving their date of birth, that the
// sign-up reached central and what they are signed up for.

// The code is the one the kiosk drew and printed (payload.receipt, random,
// XXXX-XXXX-XXXX); a sign-up from an earlier kiosk carries none and is
// indexed under the code such kiosks printed, ReceiptCode(kiosk, seq).
// A code already in use is never taken over: whoever holds a sign-up's
// code and date of birth reads that sign-up, so a record that names
// another's code (a kiosk's bug, or a kiosk replaying codes it computed)
// must not change what the code opens.
//
// The entry is kept in the batch's tally, which writes its receipts at the
// end of the transaction, in key order.
func (s *Store) putReceipt(tx *bbolt.Tx, tally *commitTally, e *allimi.Event, ck []byte, p *allimi.ConsentPayload) error {
	code := p.Receipt
	if code == "" {
		code = allimi.ReceiptCode(e.Kiosk, e.Seq)
	}
	key := s.codeKey(code)
	if tally.receipts[string(key)] != nil || tx.Bucket(bucketReceipts).Get(key) != nil {
		// The sign-up itself is kept, so that the kiosk's queue moves on
		// and the person's choices stand; only its slip opens nothing.
		return s.logRejection(tx, allimi.Incoming{Kiosk: e.Kiosk, Reject: fmt.Errorf(
			"record %d: receipt code already names another sign-up: this sign-up is kept without a receipt page: %w", e.Seq, allimi.ErrInvalid)})
	}
	// A question that took this code first (only a derived code can be
	// known before its sign-up exists) gives it up: its slip opens
	// nothing, and the sign-up's page is the sign-up's.
	if err := s.releaseQuestionCode(tx, key); err != nil {
		return err
	}
	v := binary.BigEndian.AppendUint64(bytes.Clone(ck), e.HLC)
	tally.receipts[string(key)] = append(v, e.Kiosk...)
	return nil
}

// isReceiptCode reports whether code opens a sign-up's receipt page, or
// will once tally (when not nil) is written.
func (s *Store) isReceiptCode(tx *bbolt.Tx, tally *commitTally, code string) bool {
	k := s.codeKey(code)
	if tally != nil && tally.receipts[string(k)] != nil {
		return true
	}
	return tx.Bucket(bucketReceipts).Get(k) != nil
}

// Both are allimi.ErrNotFound, as Registry.Receipt says: a page asked for
// with a guessed code must learn nothing, not even that the code exists.
var (
	ErrReceiptNotFound = fmt.Errorf("no such receipt: %w", allimi.ErrNotFound)
	ErrReceiptWrongDOB = fmt.Errorf("wrong date of birth: %w", allimi.ErrNotFound)
)

// Receipt returns the sign-up behind code when birthDate is the person's.
func (s *Store) Receipt(code, birthDate string) (allimi.ReceiptView, error) {
	var view allimi.ReceiptView
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketReceipts).Get(s.codeKey(code))
		if len(v) < 40 {
			return ErrReceiptNotFound
		}
		ck := v[:32]
		cv := tx.Bucket(bucketCitizens).Get(ck)
		if cv == nil {
			return ErrReceiptNotFound
		}
		rec, err := decodeCitizenRecord(cv)
		if err != nil {
			return err
		}
		cit, lang, err := s.openPerson(ck, rec.PII)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(cit.BirthDate), []byte(birthDate)) != 1 {
			return ErrReceiptWrongDOB
		}
		view = allimi.ReceiptView{CitizenKey: bytes.Clone(ck), Code: code, Name: cit.MaskedName(), Kiosk: string(v[40:]), Verified: rec.Verified,
			Received: allimi.HLCTime(binary.BigEndian.Uint64(v[32:40])).In(allimi.KST), Lang: lang}
		byType := map[allimi.NotificationType][]allimi.Channel{}
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
			byType[typ] = append(byType[typ], allimi.Channel(ch))
		}
		view.Consents = allimi.ReceiptConsents(byType)
		return nil
	})
	return view, err
}

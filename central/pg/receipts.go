package pg

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"allimi"
)

// A person takes home the receipt code the kiosk showed them; /r/{code}
// lets them check, with their date of birth, that the sign-up reached
// central and what they are signed up for. The code is the one the kiosk
// drew (payload.receipt), or, for a sign-up from an earlier kiosk,
// ReceiptCode(kiosk, seq). A code already in use is never taken over: the
// later sign-up is kept, without a page.

// putReceipt indexes a sign-up under its receipt code. Which codes are
// taken the batch read at its start (preload); a code taken in the same
// moment by another process's batch keeps its first sign-up (the insert
// does nothing), as a code already stored does.
func (b *batch) putReceipt(e *allimi.Event, ck []byte, p *allimi.ConsentPayload) error {
	key := b.s.keys.CodeIndex(receiptCode(e, p))
	if b.receipts[string(key)] {
		// The sign-up itself is kept, so that the kiosk's queue moves on
		// and the person's choices stand; only its slip opens nothing.
		return b.logRejection(e.Kiosk, fmt.Errorf(
			"record %d: receipt code already names another sign-up: this sign-up is kept without a receipt page: %w", e.Seq, allimi.ErrInvalid))
	}
	b.receipts[string(key)] = true
	b.w.queue(`INSERT INTO receipts (code_key, ck, hlc, kiosk) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		key, ck, int64(e.HLC), e.Kiosk)
	if !b.qcodes[string(key)] {
		return nil
	}
	// A question that took this code first (only a derived code can be
	// known before its sign-up exists) gives it up: its slip opens
	// nothing, and the sign-up's page is the sign-up's.
	if err := b.sync(); err != nil {
		return err
	}
	return b.releaseQuestionCode(key)
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
	ctx := s.ctx()
	var ck, pii []byte
	var hlc int64
	var kiosk string
	var verified bool
	err := s.pool.QueryRow(ctx, `SELECT r.ck, r.hlc, r.kiosk, c.pii, c.verified FROM receipts r JOIN citizens c ON c.ck = r.ck
		WHERE r.code_key = $1`, s.keys.CodeIndex(code)).Scan(&ck, &hlc, &kiosk, &pii, &verified)
	if errors.Is(err, pgx.ErrNoRows) {
		return view, ErrReceiptNotFound
	}
	if err != nil {
		return view, err
	}
	cit, lang, err := s.keys.OpenPerson(pii, ck)
	if err != nil {
		return view, err
	}
	if subtle.ConstantTimeCompare([]byte(cit.BirthDate), []byte(birthDate)) != 1 {
		return view, ErrReceiptWrongDOB
	}
	view = allimi.ReceiptView{CitizenKey: bytes.Clone(ck), Code: code, Name: cit.MaskedName(), Kiosk: kiosk, Verified: verified,
		Received: allimi.HLCTime(uint64(hlc)).In(allimi.KST), Lang: lang}
	byType, err := grantedChannels(ctx, s, ck)
	if err != nil {
		return view, err
	}
	view.Consents = allimi.ReceiptConsents(byType)
	return view, nil
}

// grantedChannels names, by type, the channels a person has an active
// grant on, in the order bbolt lists them (by channel id).
func grantedChannels(ctx context.Context, s *Store, ck []byte) (map[allimi.NotificationType][]allimi.Channel, error) {
	rows, err := s.pool.Query(ctx, `SELECT type, channel FROM consents WHERE ck = $1 AND action = 'grant' ORDER BY type COLLATE "C", channel COLLATE "C"`, ck)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[allimi.NotificationType][]allimi.Channel{}
	for rows.Next() {
		var t, ch string
		if err := rows.Scan(&t, &ch); err != nil {
			return nil, err
		}
		out[allimi.NotificationType(t)] = append(out[allimi.NotificationType(t)], allimi.Channel(ch))
	}
	return out, rows.Err()
}

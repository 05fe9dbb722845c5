package pg

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/sync/catalog"
)

// Enrolment: an official runs `allimi central kiosk enrol --id ID`, which
// prints a one-time code; the new kiosk sends the code to central and gets
// its credentials, so nobody types a secret. The database keeps only the
// SHA-256 of the code, in the form central/bolt keeps: 12 characters of
// allimi.CodeAlphabet, shown XXXX-XXXX-XXXX.

// AddEnrolment issues a one-time code for kiosk id, valid for ttl.
func (s *Store) AddEnrolment(id string, ttl time.Duration) (code string, expires time.Time, err error) {
	if err := allimi.CheckEnrolment(id, ttl); err != nil {
		return "", time.Time{}, err
	}
	code, expires = allimi.NewEnrolCode(), s.now().UTC().Add(ttl).Truncate(time.Second)
	_, err = s.pool.Exec(s.ctx(), `INSERT INTO enrolments (code_hash, kiosk, expires) VALUES ($1, $2, $3)`,
		allimi.EnrolCodeKey(code), id, expires)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store enrolment of kiosk %s: %w", id, err)
	}
	return code, expires, nil
}

// RedeemEnrolment spends code: the kiosk gets fresh credentials (a kiosk
// enrolled again gets a new password, and the old one stops working).
func (s *Store) RedeemEnrolment(code string) (allimi.KioskCredentials, error) {
	if s.keys == nil {
		return allimi.KioskCredentials{}, errors.New("enrolment: the store was opened without central's keys (pg.WithKeys)")
	}
	pw, hash, err := newKioskPassword()
	if err != nil {
		return allimi.KioskCredentials{}, err
	}
	now := s.now().UTC()
	ctx := s.ctx()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return allimi.KioskCredentials{}, err
	}
	defer tx.Rollback(ctx)
	var kiosk string
	var expires time.Time
	var used *time.Time
	// FOR UPDATE: of two redemptions at once, the second waits and finds
	// the code used.
	err = tx.QueryRow(ctx, `SELECT kiosk, expires, used FROM enrolments WHERE code_hash = $1 FOR UPDATE`,
		allimi.EnrolCodeKey(code)).Scan(&kiosk, &expires, &used)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return allimi.KioskCredentials{}, allimi.ErrEnrolUnknown
	case err != nil:
		return allimi.KioskCredentials{}, err
	case used != nil:
		return allimi.KioskCredentials{}, fmt.Errorf("%w (on %s)", allimi.ErrEnrolUsed, used.In(allimi.KST).Format("2006-01-02 15:04"))
	case !now.Before(expires):
		return allimi.KioskCredentials{}, fmt.Errorf("%w (at %s)", allimi.ErrEnrolExpired, expires.In(allimi.KST).Format("2006-01-02 15:04"))
	}
	if _, err := tx.Exec(ctx, `UPDATE enrolments SET used = $2 WHERE code_hash = $1`, allimi.EnrolCodeKey(code), now); err != nil {
		return allimi.KioskCredentials{}, err
	}
	user := allimi.KioskUsername(kiosk)
	if _, err := tx.Exec(ctx, upsertKiosk, kiosk, user, string(hash), now); err != nil {
		return allimi.KioskCredentials{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return allimi.KioskCredentials{}, err
	}
	return allimi.KioskCredentials{ID: kiosk, Username: user, Password: pw,
		CatalogKey: catalog.EncodePublicKey(s.keys.CatalogPublicKey())}, nil
}

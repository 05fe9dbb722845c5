package detail

import (
	"errors"
	"fmt"
	"time"

	"allimi"
)

// Errors of Check. A wrong date of birth and a lock come as
// *WrongBirthDateError and *LockedError, which match these with errors.Is.
// A date of birth that is not a real date matches allimi.ErrInvalid and
// does not count as a wrong try.
var (
	// ErrNotFound: no such token, a malformed one, or one already purged.
	ErrNotFound = fmt.Errorf("detail link: %w", allimi.ErrNotFound)
	// ErrExpired: the token's notice is past its expiry.
	ErrExpired = errors.New("detail link: expired")
	// ErrLocked: too many wrong dates of birth; see LockedError.Until.
	ErrLocked = errors.New("detail link: locked after too many wrong dates of birth")
	// ErrWrongBirthDate: the date of birth does not match; see
	// WrongBirthDateError.TriesLeft.
	ErrWrongBirthDate = errors.New("detail link: wrong date of birth")
)

// LockedError says until when a token refuses every date of birth.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("%v until %s", ErrLocked, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// WrongBirthDateError says how many tries are left before the token locks.
type WrongBirthDateError struct{ TriesLeft int }

func (e *WrongBirthDateError) Error() string {
	return fmt.Sprintf("%v: %d tries left", ErrWrongBirthDate, e.TriesLeft)
}

// Unwrap makes errors.Is(err, ErrWrongBirthDate) true.
func (e *WrongBirthDateError) Unwrap() error { return ErrWrongBirthDate }

// errBirthDate is what Check and Issue say about a date of birth that is not
// a real one. Unlike allimi.ParseBirthDate's error it does not quote the
// value: it may reach a log.
var errBirthDate = fmt.Errorf("date of birth: not a real date in the form YYYY-MM-DD between 1900 and today: %w", allimi.ErrInvalid)
